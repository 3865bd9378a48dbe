/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Signature Version 4 for S3: canonical request, string to sign, signing key, signature.
 * Pure computation: no I/O, no clock (the caller checks dates and expiry), headers through a
 * lookup callback. https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html */
#ifndef SRV_SIGV4_H
#define SRV_SIGV4_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "s3/uri.h"

#define SRV_SIG_HEX_LEN 64

typedef const char *(*srv_header_lookup_fn)(void *arg, const char *lower_name);

struct srv_sigv4_in {
    const char *method;
    const char *raw_path;          /* as received (percent-encoded), no query */
    const struct srv_query *query; /* decoded parameters */
    bool presigned;                /* X-Amz-Signature is left out of the canonical query */
    const char *signed_headers;    /* "host;x-amz-content-sha256;x-amz-date" */
    srv_header_lookup_fn header;
    void *header_arg;
    const char *payload_hash; /* x-amz-content-sha256 value, or "UNSIGNED-PAYLOAD" */
    const char *amz_date;     /* "20130524T000000Z" */
    const char *scope;        /* "20130524/us-east-1/s3/aws4_request" */
};

/* Computes the request's signature (64 lowercase hex chars + NUL). COF_ERR_INVALID for inputs
 * that cannot be canonicalised (bad escapes), COF_ERR_NOMEM. */
COF_MUST_CHECK cof_err srv_sigv4_sign(const struct srv_sigv4_in *in, const char *secret,
                                      char out[SRV_SIG_HEX_LEN + 1]);
/* Signs and compares with the presented signature in constant time: COF_OK or
 * COF_ERR_SIGNATURE_MISMATCH. */
COF_MUST_CHECK cof_err srv_sigv4_verify(const struct srv_sigv4_in *in, const char *secret,
                                        const char *signature);

/* The SigV4 signing key for a scope "date/region/service/aws4_request" (32 bytes). */
COF_MUST_CHECK cof_err srv_sigv4_signing_key(const char *secret, const char *scope,
                                             uint8_t out[32]);
/* Signature of one aws-chunked chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD): chains on the
 * previous signature (the request's for the first chunk); data_sha_hex is the SHA-256 of the
 * chunk's data. */
COF_MUST_CHECK cof_err srv_sigv4_chunk_signature(const uint8_t key[32], const char *amz_date,
                                                 const char *scope, const char *prev_sig,
                                                 const char *data_sha_hex,
                                                 char out[SRV_SIG_HEX_LEN + 1]);
/* Signature of the trailer of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER body (sent as
 * x-amz-trailer-signature): chains on the final (empty) chunk's signature; trailer_sha_hex is
 * the SHA-256 of the canonical trailer lines ("name:value\n" each, see chunked.h). */
COF_MUST_CHECK cof_err srv_sigv4_trailer_signature(const uint8_t key[32], const char *amz_date,
                                                   const char *scope, const char *prev_sig,
                                                   const char *trailer_sha_hex,
                                                   char out[SRV_SIG_HEX_LEN + 1]);

#endif
