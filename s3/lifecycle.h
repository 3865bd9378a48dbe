/* SPDX-License-Identifier: Apache-2.0 */
/* Bucket lifecycle rules: the LifecycleConfiguration document (parse, validate as S3 does,
 * write back in one canonical form), which rules apply to an object or upload, and AWS's day
 * arithmetic. Pure: no I/O, no storage, no clock (times are passed in). Thread-safe. */
#ifndef SRV_LIFECYCLE_H
#define SRV_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "s3/s3err.h"
#include "s3/tagging.h"

#define SRV_LC_CONFIG    "lifecycle" /* bucket config name (sto_meta_*_bucket_config) */
#define SRV_LC_MAX_RULES 1000u       /* S3: "up to 1,000 rules" */
#define SRV_LC_ID_MAX    255u        /* S3: "ID length should not exceed allowed limit of 255" */
#define SRV_LC_MAX_BODY  (2u * 1024 * 1024) /* 1000 rules with tags fit well under this */
#define SRV_LC_DAY_S     86400

/* How a rule names the objects it applies to, as the client wrote it (written back the same). */
enum srv_lc_form {
    SRV_LC_LEGACY_PREFIX, /* <Prefix> directly in the rule (the 2006 form) */
    SRV_LC_FILTER_EMPTY,  /* <Filter/>: every object */
    SRV_LC_FILTER_PREFIX,
    SRV_LC_FILTER_TAG,
    SRV_LC_FILTER_GT, /* ObjectSizeGreaterThan */
    SRV_LC_FILTER_LT, /* ObjectSizeLessThan */
    SRV_LC_FILTER_AND,
};

struct srv_lc_filter {
    enum srv_lc_form form;
    char *prefix; /* NULL: no prefix condition */
    struct srv_tagset tags;
    bool has_gt, has_lt;
    uint64_t gt, lt; /* bytes */
};

/* A Transition or NoncurrentVersionTransition: stored and written back; it only changes the
 * StorageClass coffer reports (one tier). */
struct srv_lc_transition {
    long days;    /* Days / NoncurrentDays; -1 when absent */
    int64_t date; /* Date (epoch seconds, midnight UTC); -1 when absent */
    long newer;   /* NewerNoncurrentVersions; 0 when absent */
    char *storage_class;
};

struct srv_lc_rule {
    char *id; /* "" never: NULL when absent */
    bool enabled;
    struct srv_lc_filter filter;
    bool has_expiration;
    long exp_days;    /* > 0, or 0 when absent */
    int64_t exp_date; /* epoch seconds at midnight UTC, or -1 when absent */
    int eodm;         /* ExpiredObjectDeleteMarker: -1 absent, 0 false, 1 true */
    bool has_noncurrent;
    long nc_days;  /* NoncurrentDays > 0 */
    long nc_newer; /* NewerNoncurrentVersions, 0 when absent */
    bool has_abort;
    long abort_days;                      /* DaysAfterInitiation > 0 */
    struct srv_lc_transition *tr, *nc_tr; /* owned */
    size_t n_tr, n_nc_tr;
};

struct srv_lc_config {
    struct srv_lc_rule *rules; /* owned */
    size_t n;                  /* 1..SRV_LC_MAX_RULES after a successful parse */
};

/* PutBucketLifecycleConfiguration body (cap SRV_LC_MAX_BODY): root LifecycleConfiguration with
 * 1..1000 Rule. COF_ERR_MALFORMED_XML for what S3's schema refuses (not well-formed, no or too
 * many rules, a Status other than Enabled/Disabled, a rule with both or neither of Prefix and
 * Filter, a Filter with more than one condition outside And, non-integer numbers, a bad Date,
 * ExpiredObjectDeleteMarker with Days or Date, a Transition with both or neither Days and
 * Date, an unknown StorageClass); COF_ERR_INVALID_ARGUMENT or COF_ERR_INVALID_REQUEST with
 * S3's message in *prob for values S3 refuses (ID over 255 characters, repeated IDs, Days,
 * NoncurrentDays, DaysAfterInitiation or NewerNoncurrentVersions not positive, a Date not at
 * midnight UTC, a rule without an action, AbortIncompleteMultipartUpload or
 * ExpiredObjectDeleteMarker with a tag filter, sizes that exclude every object, a bad tag);
 * COF_ERR_TOO_LARGE. On failure *out holds nothing to free. */
COF_MUST_CHECK cof_err srv_lc_parse(const char *body, size_t n, struct srv_lc_config *out,
                                    struct srv_problem *prob);
/* The GetBucketLifecycleConfiguration document for c; also the stored form, which srv_lc_parse
 * reads back unchanged. Per rule: Expiration, ID, Prefix or Filter, Status, Transition,
 * NoncurrentVersionTransition, NoncurrentVersionExpiration, AbortIncompleteMultipartUpload
 * (AWS's order). *out is the caller's. */
COF_MUST_CHECK cof_err srv_lc_write(const struct srv_lc_config *c, char **out, size_t *out_len);
/* Frees the rules; c is empty afterwards. Accepts NULL. */
void srv_lc_config_cleanup(struct srv_lc_config *c);

/* Whether r's filter selects an object with this key, size and canonical tag text (as stored,
 * s3/tagging.h; NULL or "" for none). Status is not looked at. */
bool srv_lc_filter_matches(const struct srv_lc_filter *f, const char *key, uint64_t size,
                           const char *tags_canon);
/* Whether r's filter can select an incomplete upload of key (prefix only; tag and size
 * conditions cannot be known for an upload). */
bool srv_lc_filter_matches_upload(const struct srv_lc_filter *f, const char *key);

/* AWS's day arithmetic: the moment (epoch seconds) an object created at created_ms becomes
 * eligible for an action of `days` days: created + days, rounded up to the next midnight UTC. */
int64_t srv_lc_due(int64_t created_ms, long days);
/* When the current version (key, size, tags, created_ms) expires under c's enabled Expiration
 * rules (Days or Date), the earliest of them: *out_due (epoch seconds) and *out_rule (the rule,
 * borrowed from c). false when no rule expires it. */
bool srv_lc_expiry(const struct srv_lc_config *c, const char *key, uint64_t size,
                   const char *tags_canon, int64_t created_ms, int64_t *out_due,
                   const struct srv_lc_rule **out_rule);
/* The storage class a current version reports under c's enabled Transition rules as of now_ms:
 * that of the due transition (Days counted as for expiry, or Date reached) that came last; NULL
 * when none is due (STANDARD). Borrowed from c. One tier: nothing moves, only the name. */
const char *srv_lc_storage_class(const struct srv_lc_config *c, const char *key, uint64_t size,
                                 const char *tags_canon, int64_t created_ms, int64_t now_ms);
/* The x-amz-expiration value: expiry-date="<RFC 1123 date>", rule-id="<id>". out_len >= 400. */
void srv_lc_expiration_header(int64_t due_s, const char *rule_id, char *out, size_t out_len);

/* ISO 8601 time: YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SS with optional fraction and Z or +-HH:MM
 * (no offset: UTC). *out_ms epoch milliseconds. COF_ERR_INVALID for anything else. */
COF_MUST_CHECK cof_err srv_lc_parse_time(const char *s, int64_t *out_ms);

#endif
