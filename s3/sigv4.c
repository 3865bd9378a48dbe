/* SPDX-License-Identifier: Apache-2.0 */
/* SigV4 canonicalisation. S3 differs from other services: the path is not normalised, and each
 * segment is URI-encoded once (the decoded path re-encoded with the RFC 3986 unreserved set). */
#include "s3/sigv4.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/hex.h"
#include "crypto/digest.h"
#include "crypto/key.h"

#define MAX_CANONICAL (256u * 1024)

struct qpair {
    char *k;
    char *v;
};

static int cmp_pair(const void *a, const void *b)
{
    const struct qpair *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c != 0 ? c : strcmp(x->v, y->v);
}

static cof_err encode(const char *s, bool keep_slash, char **out)
{
    struct cof_buf b;
    cof_buf_init(&b, MAX_CANONICAL);
    cof_err err = srv_uri_encode(s, keep_slash, &b);
    if (err == COF_OK)
        err = cof_buf_steal(&b, out);
    cof_buf_cleanup(&b);
    return err;
}

/* "SigV4: sort the query by encoded key, then value"; X-Amz-Signature excluded when presigned. */
static cof_err canonical_query(const struct srv_sigv4_in *in, struct cof_buf *b)
{
    size_t n = in->query != NULL ? in->query->n : 0;
    struct qpair *v = calloc(n > 0 ? n : 1, sizeof(*v));
    size_t m = 0;
    cof_err err = v != NULL ? COF_OK : COF_ERR_NOMEM;
    for (size_t i = 0; err == COF_OK && i < n; i++) {
        const struct srv_query_param *p = &in->query->params[i];
        if (in->presigned && strcmp(p->name, "X-Amz-Signature") == 0)
            continue;
        err = encode(p->name, false, &v[m].k);
        if (err == COF_OK)
            err = encode(p->value != NULL ? p->value : "", false, &v[m].v);
        m++;
    }
    if (err == COF_OK)
        qsort(v, m, sizeof(*v), cmp_pair);
    for (size_t i = 0; err == COF_OK && i < m; i++)
        err = cof_buf_printf(b, "%s%s=%s", i > 0 ? "&" : "", v[i].k, v[i].v);
    for (size_t i = 0; v != NULL && i < m; i++) {
        free(v[i].k);
        free(v[i].v);
    }
    free(v);
    return err;
}

/* Header value trimmed, with runs of spaces collapsed to one (SigV4 canonical headers). */
static cof_err put_trimmed(struct cof_buf *b, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t len = strlen(v);
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    cof_err err = COF_OK;
    bool space = false;
    for (size_t i = 0; err == COF_OK && i < len; i++) {
        if (v[i] == ' ' || v[i] == '\t') {
            space = true;
            continue;
        }
        if (space)
            err = cof_buf_append(b, " ", 1);
        space = false;
        if (err == COF_OK)
            err = cof_buf_append(b, &v[i], 1);
    }
    return err;
}

static cof_err canonical_headers(const struct srv_sigv4_in *in, struct cof_buf *b)
{
    const char *p = in->signed_headers;
    cof_err err = COF_OK;
    while (err == COF_OK && *p != '\0') {
        size_t len = strcspn(p, ";");
        char name[128];
        if (len == 0 || len >= sizeof(name))
            return COF_ERR_INVALID;
        for (size_t i = 0; i < len; i++)
            name[i] = (char)tolower((unsigned char)p[i]);
        name[len] = '\0';
        const char *v = in->header(in->header_arg, name);
        err = cof_buf_printf(b, "%s:", name);
        if (err == COF_OK)
            err = put_trimmed(b, v != NULL ? v : "");
        if (err == COF_OK)
            err = cof_buf_append(b, "\n", 1);
        p += len;
        if (*p == ';')
            p++;
    }
    return err;
}

cof_err srv_sigv4_sign(const struct srv_sigv4_in *in, const char *secret,
                       char out[SRV_SIG_HEX_LEN + 1])
{
    struct cof_buf creq, sts;
    char *path = NULL, *uri = NULL;
    size_t path_len = 0;
    uint8_t h[CRY_SHA256_LEN], k[CRY_SHA256_LEN];
    char h_hex[2 * CRY_SHA256_LEN + 1];
    cof_buf_init(&creq, MAX_CANONICAL);
    cof_buf_init(&sts, 4096);

    cof_err err = srv_uri_decode_path(in->raw_path, strlen(in->raw_path), &path, &path_len);
    if (err == COF_OK)
        err = encode(path, true, &uri);
    if (err == COF_OK)
        err = cof_buf_printf(&creq, "%s\n%s\n", in->method, uri);
    if (err == COF_OK)
        err = canonical_query(in, &creq);
    if (err == COF_OK)
        err = cof_buf_append(&creq, "\n", 1);
    if (err == COF_OK)
        err = canonical_headers(in, &creq);
    if (err == COF_OK)
        err = cof_buf_printf(&creq, "\n%s\n%s", in->signed_headers, in->payload_hash);
    if (err == COF_OK)
        err = cry_digest_oneshot(CRY_DIGEST_SHA256, creq.data, creq.len, h);
    if (err == COF_OK) {
        cof_hex_encode(h, sizeof(h), h_hex);
        err = cof_buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", in->amz_date, in->scope, h_hex);
    }
    /* Signing key: HMAC chain over the scope's date, region, service, "aws4_request". */
    if (err == COF_OK)
        err = srv_sigv4_signing_key(secret, in->scope, k);
    if (err == COF_OK)
        err = cry_hmac_sha256(k, sizeof(k), sts.data, sts.len, h);
    if (err == COF_OK)
        cof_hex_encode(h, sizeof(h), out);
    cry_wipe(k, sizeof(k));
    free(path);
    free(uri);
    cof_buf_cleanup(&creq);
    cof_buf_cleanup(&sts);
    return err == COF_ERR_TOO_LARGE ? COF_ERR_INVALID : err;
}

cof_err srv_sigv4_verify(const struct srv_sigv4_in *in, const char *secret, const char *signature)
{
    char want[SRV_SIG_HEX_LEN + 1];
    cof_err err = srv_sigv4_sign(in, secret, want);
    if (err != COF_OK)
        return err == COF_ERR_INVALID ? COF_ERR_SIGNATURE_MISMATCH : err;
    /* Constant time, after checking the length. */
    if (signature == NULL || strlen(signature) != SRV_SIG_HEX_LEN ||
        !cry_equal(signature, want, SRV_SIG_HEX_LEN))
        return COF_ERR_SIGNATURE_MISMATCH;
    return COF_OK;
}

cof_err srv_sigv4_signing_key(const char *secret, const char *scope, uint8_t out[32])
{
    char first[256];
    size_t fl = strlen(secret);
    if (fl + 4 >= sizeof(first))
        return COF_ERR_INVALID;
    memcpy(first, "AWS4", 4);
    memcpy(first + 4, secret, fl);
    const char *s = scope;
    const uint8_t *key = (const uint8_t *)first;
    size_t klen = fl + 4;
    cof_err err = COF_OK;
    for (int part = 0; err == COF_OK && part < 4; part++) {
        size_t len = strcspn(s, "/");
        err = cry_hmac_sha256(key, klen, s, len, out);
        key = out;
        klen = 32;
        s += len + (s[len] == '/' ? 1 : 0);
    }
    cry_wipe(first, sizeof(first));
    return err;
}

cof_err srv_sigv4_chunk_signature(const uint8_t key[32], const char *amz_date, const char *scope,
                                  const char *prev_sig, const char *data_sha_hex,
                                  char out[SRV_SIG_HEX_LEN + 1])
{
    static const char empty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    struct cof_buf sts;
    uint8_t h[CRY_SHA256_LEN];
    cof_buf_init(&sts, 1024);
    cof_err err = cof_buf_printf(&sts, "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n%s\n%s", amz_date,
                                 scope, prev_sig, empty, data_sha_hex);
    if (err == COF_OK)
        err = cry_hmac_sha256(key, 32, sts.data, sts.len, h);
    if (err == COF_OK)
        cof_hex_encode(h, sizeof(h), out);
    cof_buf_cleanup(&sts);
    return err;
}

cof_err srv_sigv4_trailer_signature(const uint8_t key[32], const char *amz_date, const char *scope,
                                    const char *prev_sig, const char *trailer_sha_hex,
                                    char out[SRV_SIG_HEX_LEN + 1])
{
    struct cof_buf sts;
    uint8_t h[CRY_SHA256_LEN];
    cof_buf_init(&sts, 1024);
    /* S3 "Signature calculations for trailing headers": no empty-hash line, unlike chunks. */
    cof_err err = cof_buf_printf(&sts, "AWS4-HMAC-SHA256-TRAILER\n%s\n%s\n%s\n%s", amz_date, scope,
                                 prev_sig, trailer_sha_hex);
    if (err == COF_OK)
        err = cry_hmac_sha256(key, 32, sts.data, sts.len, h);
    if (err == COF_OK)
        cof_hex_encode(h, sizeof(h), out);
    cof_buf_cleanup(&sts);
    return err;
}
