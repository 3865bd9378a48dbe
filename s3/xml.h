/* SPDX-License-Identifier: Apache-2.0 */
/* S3 XML: a libxml2-backed writer for response documents and capped parsers for the request
 * bodies coffer understands (CreateBucketConfiguration, Delete, ServerSideEncryption-
 * Configuration). Parsers never resolve entities, load DTDs or touch the network, and refuse any
 * document with a DOCTYPE. Elements are matched by local name; namespaces are ignored. */
#ifndef SRV_XML_H
#define SRV_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define SRV_MAX_XML_BODY       (2u * 1024 * 1024) /* DeleteObjects and other large bodies */
#define SRV_MAX_SMALL_XML_BODY (64u * 1024)       /* configuration documents */
#define SRV_MAX_DELETE_OBJECTS 1000u              /* Object elements in one Delete */
#define SRV_S3_XMLNS           "http://s3.amazonaws.com/doc/2006-03-01/"

/* Initialises libxml2 once; call from main() before starting threads (libxml2's own rule).
 * Idempotent. */
void srv_xml_global_init(void);

/* ---- writer ---------------------------------------------------------------------------
 * Output is compact UTF-8 beginning with <?xml version="1.0" encoding="UTF-8"?> and a newline.
 * Text escaping: & < > " become entities (AWS writes ETags as &quot;...&quot;); CR and every
 * other character XML 1.0 forbids (C0 controls other than TAB/LF, U+FFFE, U+FFFF) is written as
 * a numeric reference &#xN; -- for C0 controls that is exactly what AWS emits, and it is NOT
 * well-formed XML 1.0 (clients that need such keys use encoding-type=url); bytes that are not
 * valid UTF-8 become U+FFFD. The first error is sticky: every later call returns it, so
 * callers may check only srv_xml_finish. Not thread-safe per object. */
struct srv_xml;

/* Starts a document whose root element carries xmlns="http://s3.amazonaws.com/doc/2006-03-01/".
 * COF_ERR_NOMEM. Free with srv_xml_free. */
COF_MUST_CHECK cof_err srv_xml_new(const char *root, struct srv_xml **out);
/* Same with another service's namespace (STS's Query protocol documents). */
COF_MUST_CHECK cof_err srv_xml_new_ns(const char *root, const char *ns, struct srv_xml **out);
/* Same without xmlns (for <Error>). */
COF_MUST_CHECK cof_err srv_xml_new_plain(const char *root, struct srv_xml **out);
/* Opens a child element. */
cof_err srv_xml_open(struct srv_xml *x, const char *name);
/* Closes the innermost open element (closing the root is allowed; closing more is a bug). */
cof_err srv_xml_close(struct srv_xml *x);
/* Adds an attribute to the element just opened (before any child). */
cof_err srv_xml_attr(struct srv_xml *x, const char *name, const char *value);
/* Writes <name>text</name>; text NULL or "" gives <name></name>. */
cof_err srv_xml_elem(struct srv_xml *x, const char *name, const char *text);
/* Writes <name>decimal</name>. */
cof_err srv_xml_elem_u64(struct srv_xml *x, const char *name, uint64_t v);
/* Closes every open element and hands out the document (*out NUL-terminated, caller free()s,
 * *out_len its length). Returns the sticky error if any. The writer accepts no more calls
 * but must still be freed. */
COF_MUST_CHECK cof_err srv_xml_finish(struct srv_xml *x, char **out, size_t *out_len);
/* Accepts NULL. */
void srv_xml_free(struct srv_xml *x);

/* ---- parsers --------------------------------------------------------------------------
 * All return COF_ERR_MALFORMED_XML for anything not well-formed or not matching the schema
 * (wrong root, DOCTYPE, missing required element, duplicated singleton, stray text), and
 * COF_ERR_TOO_LARGE for a body over their cap (checked before parsing). Unknown child elements
 * are ignored (AWS keeps adding optional ones). Values other than keys and version ids are
 * trimmed of XML whitespace. On failure the out-params hold nothing to free. */

/* CreateBucket body (cap SRV_MAX_SMALL_XML_BODY). Empty or whitespace-only body -> COF_OK with
 * *out_location NULL; otherwise root CreateBucketConfiguration with an optional
 * LocationConstraint, whose text (caller free()s) is returned, or NULL when absent/empty. */
COF_MUST_CHECK cof_err srv_xml_parse_create_bucket(const char *body, size_t n, char **out_location);

/* PutBucketVersioning body (cap SRV_MAX_SMALL_XML_BODY): root VersioningConfiguration with
 * optional Status ("Enabled" or "Suspended", exactly) and MfaDelete ("Enabled" or "Disabled").
 * Absent elements give NULL; the strings are static. Anything else -> COF_ERR_MALFORMED_XML. */
COF_MUST_CHECK cof_err srv_xml_parse_versioning(const char *body, size_t n, const char **out_status,
                                                const char **out_mfa_delete);

struct srv_delete_obj {
    char *key;        /* exact text, never NULL, may be "" (the op reports it per key) */
    char *version_id; /* NULL when absent or empty */
};

struct srv_delete_req {
    bool quiet;
    struct srv_delete_obj *objs; /* owned */
    size_t n;                    /* 1..SRV_MAX_DELETE_OBJECTS */
};

/* DeleteObjects body (cap SRV_MAX_XML_BODY): root Delete, optional Quiet (true/false, any
 * case), 1..1000 Object elements each with exactly one Key and at most one VersionId. Key
 * length is not checked here. Free with srv_delete_req_cleanup. */
COF_MUST_CHECK cof_err srv_xml_parse_delete(const char *body, size_t n, struct srv_delete_req *out);
/* Accepts NULL; r is empty afterwards. */
void srv_delete_req_cleanup(struct srv_delete_req *r);

struct srv_sse_config {
    char *algorithm;  /* "AES256", "aws:kms" or "aws:kms:dsse"; owned */
    char *kms_key_id; /* owned, or NULL */
    bool bucket_key_enabled;
    bool bucket_key_set; /* BucketKeyEnabled was present */
    /* BlockedEncryptionTypes (AWS, April 2026): EncryptionType NONE and/or SSE-C */
    bool blocked_set;
    bool block_ssec;
    bool block_none;
};

/* PutBucketEncryption body (cap SRV_MAX_SMALL_XML_BODY): root
 * ServerSideEncryptionConfiguration with exactly one Rule holding
 * ApplyServerSideEncryptionByDefault{SSEAlgorithm, KMSMasterKeyID?} and optional
 * BucketKeyEnabled. Zero or several rules, missing SSEAlgorithm, unknown algorithm ->
 * COF_ERR_MALFORMED_XML; KMSMasterKeyID with AES256 -> COF_ERR_INVALID_ARGUMENT. An empty
 * KMSMasterKeyID counts as absent. Free with srv_sse_config_cleanup. */
COF_MUST_CHECK cof_err srv_xml_parse_sse_config(const char *body, size_t n,
                                                struct srv_sse_config *out);
/* GetBucketEncryption document for c (algorithm must be set). BucketKeyEnabled is written only
 * when c->bucket_key_set (a stored rule is echoed as given); AWS's default document has it, so
 * callers writing the default set bucket_key_set = true, bucket_key_enabled = false. */
COF_MUST_CHECK cof_err srv_xml_write_sse_config(const struct srv_sse_config *c, char **out,
                                                size_t *out_len);
/* Accepts NULL; c is zeroed afterwards. */
void srv_sse_config_cleanup(struct srv_sse_config *c);

/* CompleteMultipartUpload body: 1..10000 Part elements, each with PartNumber (1..10000) and
 * ETag (quotes stripped). Order is kept as sent (the caller checks it). Checksum elements are
 * ignored. Malformed, empty, or too many -> COF_ERR_MALFORMED_XML. */
#define SRV_MAX_PARTS 10000u
struct srv_complete_part {
    int part_number;
    char *etag;
    char *checksum; /* "ALG value" from a Checksum<ALG> element, or NULL */
};
struct srv_complete_req {
    struct srv_complete_part *parts;
    size_t n;
};
COF_MUST_CHECK cof_err srv_xml_parse_complete(const char *body, size_t n,
                                              struct srv_complete_req *out);
void srv_complete_req_cleanup(struct srv_complete_req *r);

#endif
