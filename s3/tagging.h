/* SPDX-License-Identifier: Apache-2.0 */
/* S3 tag sets: the x-amz-tagging header (URL query form), the Tagging XML document, AWS's
 * validation rules, and the canonical text coffer stores ("k=v&k2=v2": sorted by key, every
 * byte but A-Z a-z 0-9 - _ . ~ percent-encoded). Pure string work: no I/O, no storage, no HTTP.
 * Thread-safe. */
#ifndef SRV_TAGGING_H
#define SRV_TAGGING_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "s3/s3err.h"

/* The cap of a Tagging document (PutObjectTagging, PutBucketTagging). */
#define SRV_MAX_TAGGING_BODY (256u * 1024)

#define SRV_MAX_OBJECT_TAGS 10u  /* AWS: "up to 10 tags with an object" */
#define SRV_MAX_BUCKET_TAGS 50u  /* AWS: "A tag set can contain as many as 50 tags" */
#define SRV_TAG_KEY_MAX     128u /* UTF-16 code units (S3 keeps tags in UTF-16) */
#define SRV_TAG_VALUE_MAX   256u

/* The stored header line ("coffer-tagging:<canonical>") holding an object's tags. Absent when
 * the object has none. */
#define SRV_TAGGING_LINE "coffer-tagging"

struct srv_tag {
    char *key;   /* UTF-8, owned */
    char *value; /* UTF-8, owned, may be "" */
};

struct srv_tagset {
    struct srv_tag *v; /* owned */
    size_t n;
};

enum srv_tag_scope { SRV_TAGS_OBJECT, SRV_TAGS_BUCKET };

/* Why a tag set was refused, in AWS's words (struct srv_problem, s3/s3err.h): InvalidTag
 * (COF_ERR_INVALID_TAG) with a TagKey element, kept in the problem's text, where AWS sends one;
 * BadRequest (COF_ERR_BAD_REQUEST, too many tags); InvalidArgument (COF_ERR_INVALID_ARGUMENT,
 * x-amz-tagging not a valid query string) naming the header; a bare COF_ERR_MALFORMED_XML,
 * COF_ERR_TOO_LARGE (XML body over its cap) or COF_ERR_NOMEM, which the caller maps. */

/* Frees every tag; t is empty afterwards. Accepts NULL. */
void srv_tagset_cleanup(struct srv_tagset *t);

/* Checks t against AWS's rules for scope: count (BadRequest), then per tag the key (1..128
 * UTF-16 units, letters, digits, spaces and _ . : / = + - @), the aws: prefix, the value
 * (0..256, same characters) and duplicate keys (InvalidTag). Strings must be valid UTF-8.
 * Returns p->code (COF_OK when valid). */
COF_MUST_CHECK cof_err srv_tagset_validate(const struct srv_tagset *t, enum srv_tag_scope scope,
                                           struct srv_problem *p);

/* x-amz-tagging (PutObject, CreateMultipartUpload, CopyObject with REPLACE): "k=v&k2=v2",
 * %XX and '+' decoded; "k" alone has the empty value; empty pieces are skipped. A bad escape,
 * text that is not UTF-8, an empty key or a repeated key is InvalidArgument; then the object
 * rules of srv_tagset_validate apply. NULL or "" gives an empty set. On failure *out is empty
 * and p says why; InvalidArgument's ArgumentValue is hdr itself (borrowed). */
COF_MUST_CHECK cof_err srv_tagging_parse_header(const char *hdr, struct srv_tagset *out,
                                                struct srv_problem *p);

/* A Tagging XML document (PutObjectTagging, PutBucketTagging, POST Object's "tagging" form
 * field): parsed (MalformedXML / TOO_LARGE, see parse_xml in tagging.c) and validated for
 * scope. On failure *out is empty and p says why. */
COF_MUST_CHECK cof_err srv_tagging_parse_xml(const char *body, size_t n, enum srv_tag_scope scope,
                                             struct srv_tagset *out, struct srv_problem *p);

/* Sorts t by key (byte order) and writes the canonical text into *out (malloc'd; "" for an
 * empty set). COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err srv_tagset_encode(struct srv_tagset *t, char **out);
/* Parses canonical text (as written by srv_tagset_encode; NULL or "" is the empty set) without
 * validating the tags again. COF_ERR_INVALID when it is not such text. */
COF_MUST_CHECK cof_err srv_tagset_decode(const char *canon, struct srv_tagset *out);
/* Number of tags in canonical text (0 for NULL or ""). */
size_t srv_tagging_count(const char *canon);

/* GetObjectTagging / GetBucketTagging document: <Tagging xmlns="..."><TagSet><Tag><Key>..
 * </Key><Value>..</Value></Tag>...</TagSet></Tagging>. *out malloc'd. COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err srv_tagset_write_xml(const struct srv_tagset *t, char **out,
                                            size_t *out_len);

/* ---- the tagging line of a stored header block ("name:value\n" lines) ---- */
/* The canonical tags of a header block (malloc'd copy, "" when it has no tagging line). */
COF_MUST_CHECK cof_err srv_tagging_from_block(const char *block, char **out);
/* A copy of block (NULL counts as "") with its tagging line replaced by canon, or removed when
 * canon is NULL or "". Every other line is kept as it is, in order. *out malloc'd. */
COF_MUST_CHECK cof_err srv_tagging_set_in_block(const char *block, const char *canon, char **out);

#endif
