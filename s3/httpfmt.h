/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP header values: Range, dates (IMF-fixdate and friends), ISO 8601, ETag lists. Pure
 * parsing/formatting; no I/O, no clock, locale-independent, thread-safe. */
#ifndef SRV_HTTPFMT_H
#define SRV_HTTPFMT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

/* Parses a Range header for an object of size bytes into an inclusive [*out_first, *out_last].
 * Forms: "bytes=a-b" (b clamped to size-1), "bytes=a-", "bytes=-n" (last n bytes). The unit is
 * case-insensitive; blanks after '=' and at the end are allowed.
 * COF_ERR_INVALID_RANGE: unsatisfiable (a >= size, n == 0, or size == 0) -> 416.
 * COF_ERR_NOT_FOUND: not a single valid byte range (syntax, several ranges, other unit,
 * a > b, hdr NULL): ignore the header and serve the whole object, as AWS does. */
COF_MUST_CHECK cof_err srv_range_parse(const char *hdr, uint64_t size, uint64_t *out_first,
                                       uint64_t *out_last);

/* Parses an HTTP date: IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850
 * "Sunday, 06-Nov-94 08:49:37 GMT" (two-digit years 70..99 -> 19xx, 00..69 -> 20xx), asctime
 * "Sun Nov  6 08:49:37 1994", and, leniently, ISO 8601 UTC "2025-06-02T02:28:07Z" with
 * optional fractional seconds. Fields are range-checked (no Feb 30). COF_ERR_INVALID else. */
COF_MUST_CHECK cof_err srv_http_date_parse(const char *s, int64_t *out_epoch_s);

/* IMF-fixdate of epoch_s, e.g. "Sun, 06 Nov 1994 08:49:37 GMT". Values outside years
 * 1970..9999 are clamped to that range. */
void srv_http_date_format(int64_t epoch_s, char out[32]);

/* ISO 8601 UTC with milliseconds, e.g. "2025-06-02T02:28:07.000Z" (S3 LastModified in XML).
 * Clamped to years 1970..9999 like srv_http_date_format. */
void srv_iso8601_format(int64_t epoch_ms, char out[32]);

/* If-Match / If-None-Match: *out = whether etag (without quotes) is in hdr, a comma list of
 * entity tags, quoted or not, with optional W/ prefix (compared weakly: W/ is ignored), or
 * "*" (matches any etag). Empty list elements are skipped. COF_ERR_INVALID: empty header,
 * unterminated quote or junk after a quoted tag; callers treat that as "no match". */
COF_MUST_CHECK cof_err srv_etag_list_match(const char *hdr, const char *etag, bool *out);

#endif
