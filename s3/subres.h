/* SPDX-License-Identifier: Apache-2.0 */
/* The bucket sub-resources coffer stores but does not act on: accelerate, requestPayment,
 * logging, website, replication and notification configuration documents. Each is parsed
 * against S3's schema for it (unknown or misplaced elements are MalformedXML), validated as S3
 * validates it, and written back in one canonical form (what is stored and what Get returns).
 * Pure string work: no I/O, no storage. Thread-safe. */
#ifndef SRV_SUBRES_H
#define SRV_SUBRES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "s3/s3err.h"

enum srv_subres {
    SRV_SUBRES_ACCELERATE,
    SRV_SUBRES_REQUEST_PAYMENT,
    SRV_SUBRES_LOGGING,
    SRV_SUBRES_WEBSITE,
    SRV_SUBRES_REPLICATION,
    SRV_SUBRES_NOTIFICATION,
};

/* The most buckets a document may name (replication rules' destinations; logging: one). */
#define SRV_SUBRES_MAX_BUCKETS 1000u

struct srv_subres_doc {
    char *xml; /* the canonical document, NUL-terminated; owned */
    size_t len;
    bool empty;     /* nothing configured (no LoggingEnabled, no notification target) */
    bool targets;   /* notification: it names SQS/SNS/Lambda/EventBridge targets (not examined,
                       left out of xml: such a document is refused, never stored) */
    char **buckets; /* bucket names it refers to (logging target, replication destinations,
                       from arn:aws:s3:::NAME); owned */
    size_t n_buckets;
};

/* The bucket config name the document is stored under (sto_meta_*_bucket_config). */
const char *srv_subres_config_name(enum srv_subres kind);
/* The document's root element. */
const char *srv_subres_root(enum srv_subres kind);

/* Parses a Put<Kind> body (cap SRV_MAX_SMALL_XML_BODY). COF_ERR_MALFORMED_XML for a document
 * that is not well-formed or not of the schema (wrong root, unknown element, a missing required
 * or repeated single element, a value outside its enumeration); COF_ERR_TOO_LARGE; and S3's
 * own refusals with its message in *prob (InvalidArgument / InvalidRequest for a website or
 * replication rule S3 refuses). On failure *out holds nothing to free. */
COF_MUST_CHECK cof_err srv_subres_parse(enum srv_subres kind, const char *body, size_t n,
                                        struct srv_subres_doc *out, struct srv_problem *prob);
/* Frees d's contents; accepts NULL. */
void srv_subres_doc_cleanup(struct srv_subres_doc *d);

#endif
