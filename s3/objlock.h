/* SPDX-License-Identifier: Apache-2.0 */
/* S3 Object Lock, the protocol side: the ObjectLockConfiguration, Retention and LegalHold
 * request bodies, the x-amz-object-lock-* header values and ISO 8601 dates. Pure: bytes in,
 * structs out; the clock is passed in. */
#ifndef SRV_OBJLOCK_H
#define SRV_OBJLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "s3/s3err.h"

/* Retention modes, with the values storage keeps (storage/object.h enum sto_lock_mode). */
enum srv_lock_mode { SRV_LOCK_NONE = 0, SRV_LOCK_GOVERNANCE = 1, SRV_LOCK_COMPLIANCE = 2 };

/* The longest default retention accepted (AWS: 100 years). */
#define SRV_LOCK_MAX_YEARS 100
#define SRV_LOCK_MAX_DAYS  36500

/* A bucket's Object Lock configuration: enabled, and an optional default retention. */
struct srv_lock_config {
    bool enabled;
    int mode;  /* enum srv_lock_mode; SRV_LOCK_NONE: no default retention */
    int days;  /* > 0 with a mode, or 0 */
    int years; /* > 0 with a mode, or 0 (exactly one of days and years) */
};

/* "GOVERNANCE" / "COMPLIANCE" -> the mode; anything else SRV_LOCK_NONE. */
int srv_lock_mode_parse(const char *s);
/* The name of a mode, or NULL for SRV_LOCK_NONE. */
const char *srv_lock_mode_name(int mode);

/* ISO 8601 date-time as S3 takes it: YYYY-MM-DDTHH:MM:SS, optional fraction, then Z or an
 * offset (+HH:MM, +HHMM) or nothing (UTC). Into Unix milliseconds. false when malformed. */
bool srv_iso8601_parse(const char *s, int64_t *out_ms);

/* PutObjectLockConfiguration body (cap SRV_MAX_SMALL_XML_BODY): root ObjectLockConfiguration
 * with ObjectLockEnabled "Enabled" and an optional Rule{DefaultRetention{Mode, Days | Years}}.
 * COF_ERR_MALFORMED_XML (AWS's answer to a missing or unknown element value, both or neither
 * of Days and Years), COF_ERR_INVALID_ARGUMENT with AWS's message in prob for a period that is
 * not positive or too large. */
COF_MUST_CHECK cof_err srv_objlock_parse_config(const char *body, size_t n,
                                                struct srv_lock_config *out,
                                                struct srv_problem *prob);
/* The stored form of a configuration ("Enabled" or "Enabled GOVERNANCE Days 30") into out
 * (cap bytes), and back. parse: COF_ERR_INVALID when it is not one this build wrote. */
void srv_objlock_config_format(const struct srv_lock_config *c, char *out, size_t cap);
COF_MUST_CHECK cof_err srv_objlock_config_parse_stored(const char *s, struct srv_lock_config *out);
/* GetObjectLockConfiguration document for c. *out malloc'd. */
COF_MUST_CHECK cof_err srv_objlock_write_config(const struct srv_lock_config *c, char **out,
                                                size_t *out_len);

/* PutObjectRetention body (cap SRV_MAX_SMALL_XML_BODY): root Retention with Mode and
 * RetainUntilDate, both or neither (neither: remove the retention, *out_mode SRV_LOCK_NONE).
 * COF_ERR_MALFORMED_XML for an unknown mode, a bad date or only one of the two. */
COF_MUST_CHECK cof_err srv_objlock_parse_retention(const char *body, size_t n, int *out_mode,
                                                   int64_t *out_until_ms);
/* PutObjectLegalHold body: root LegalHold with Status ON or OFF. *out_on. COF_ERR_MALFORMED_XML
 * otherwise. */
COF_MUST_CHECK cof_err srv_objlock_parse_legal_hold(const char *body, size_t n, bool *out_on);

/* The x-amz-object-lock-* headers of a write (each NULL when absent), checked as AWS does:
 * mode and date both or neither, a known mode, a date in ISO 8601 after now_ms, a legal hold of
 * ON or OFF. COF_ERR_INVALID_ARGUMENT with AWS's message in prob. Fills *out_mode
 * (SRV_LOCK_NONE when none), *out_until_ms, *out_hold (0 absent, 1 OFF, 2 ON). */
COF_MUST_CHECK cof_err srv_objlock_check_headers(const char *mode, const char *until,
                                                 const char *hold, int64_t now_ms, int *out_mode,
                                                 int64_t *out_until_ms, int *out_hold,
                                                 struct srv_problem *prob);

#endif
