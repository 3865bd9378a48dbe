/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: SigV4 canonicalisation and verification (s3/sigv4.c), fed by request lines,
 * queries and headers off the network. The input is text, one field per line:
 *   method, raw path, raw query, signed headers, payload hash, x-amz-date, scope, secret,
 *   "presigned" or not, then headers as "name:value" (missing lines are "").
 * Invariants, for an input that signs at all (else verify must refuse every signature):
 *   - the signature is 64 lower-case hex chars, and signing again gives the same one;
 *   - verify with the same secret accepts it; changing any single byte of it (every position
 *     in the corpus replay, four per input under libFuzzer), cutting or extending it, or
 *     verifying with another secret, payload hash, date or method refuses it;
 *   - what SigV4 normalises does not matter: the order of query parameters, whitespace around
 *     header values, a path re-encoded after decoding, and for a presigned URL the value of
 *     X-Amz-Signature; an X-Amz-Signature parameter in a header-signed request does matter;
 *   - chunk and trailer signatures chained on it are 64 lower-case hex and depend on the
 *     previous signature. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/hex.h"
#include "s3/sigv4.h"
#include "s3/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT   (64u * 1024)
#define N_FIELDS    9
#define MAX_HEADERS 64

struct hdrs {
    char *name[MAX_HEADERS];
    char *value[MAX_HEADERS];
    size_t n;
    bool pad; /* return values with whitespace around them */
    char padded[4096];
};

/* The first header called lower_name (case-insensitive, as HTTP names are). */
static const char *lookup(void *arg, const char *lower_name)
{
    struct hdrs *h = arg;
    for (size_t i = 0; i < h->n; i++) {
        if (strcasecmp(h->name[i], lower_name) != 0)
            continue;
        if (!h->pad || strlen(h->value[i]) + 5 > sizeof(h->padded))
            return h->value[i];
        h->padded[0] = ' ';
        h->padded[1] = '\t';
        strcpy(h->padded + 2, h->value[i]);
        strcat(h->padded, "\t ");
        return h->padded;
    }
    return NULL;
}

static bool lower_hex64(const char *s)
{
    return strlen(s) == SRV_SIG_HEX_LEN && cof_hex_valid(s, SRV_SIG_HEX_LEN, COF_HEX_LOWER);
}

/* Signature positions whose change is checked per input: all 64 when replaying the corpus;
 * under libFuzzer a few chosen by the input (each verify re-signs, which is slow), so that the
 * fuzzer still covers every position over its runs. */
#ifdef COF_LIBFUZZER
#define SIG_POSITIONS 4
#else
#define SIG_POSITIONS SRV_SIG_HEX_LEN
#endif

/* Verify refuses sig with single bytes changed (see SIG_POSITIONS; pick varies the positions),
 * and cut, extended, empty or NULL. */
static void check_only_exact_signature(const struct srv_sigv4_in *in, const char *secret,
                                       const char *sig, size_t pick)
{
    char bad[SRV_SIG_HEX_LEN + 2];
    for (size_t k = 0; k < SIG_POSITIONS; k++) {
        size_t j = (pick + k * (SRV_SIG_HEX_LEN / SIG_POSITIONS)) % SRV_SIG_HEX_LEN;
        memcpy(bad, sig, SRV_SIG_HEX_LEN + 1);
        /* Another hex digit (the likeliest forgery), or the same letter in upper case. */
        bad[j] = sig[j] == 'f' ? '0' : (sig[j] == '9' ? 'a' : (char)(sig[j] + 1));
        if (srv_sigv4_verify(in, secret, bad) == COF_OK)
            abort();
        if (sig[j] >= 'a' && sig[j] <= 'f') {
            bad[j] = (char)(sig[j] - 'a' + 'A');
            if (srv_sigv4_verify(in, secret, bad) == COF_OK)
                abort();
        }
    }
    memcpy(bad, sig, SRV_SIG_HEX_LEN + 1);
    bad[SRV_SIG_HEX_LEN - 1] = '\0';
    if (srv_sigv4_verify(in, secret, bad) == COF_OK)
        abort();
    memcpy(bad, sig, SRV_SIG_HEX_LEN);
    bad[SRV_SIG_HEX_LEN] = '0';
    bad[SRV_SIG_HEX_LEN + 1] = '\0';
    if (srv_sigv4_verify(in, secret, bad) == COF_OK || srv_sigv4_verify(in, secret, "") == COF_OK ||
        srv_sigv4_verify(in, secret, NULL) == COF_OK)
        abort();
}

/* sign(in) must equal sig (COF_OK) or differ (want_same false). */
static void expect_sig(const struct srv_sigv4_in *in, const char *secret, const char *sig,
                       bool want_same)
{
    char got[SRV_SIG_HEX_LEN + 1];
    cof_err err = srv_sigv4_sign(in, secret, got);
    if (err == COF_ERR_NOMEM)
        return;
    if (want_same && (err != COF_OK || strcmp(got, sig) != 0))
        abort();
    if (!want_same && err == COF_OK && strcmp(got, sig) == 0)
        abort();
}

/* Copies q with params reversed, or with X-Amz-Signature set to value (added if absent). */
static void query_variant(const struct srv_query *q, bool reverse, const char *sig_value,
                          struct srv_query *out, struct srv_query_param *params)
{
    size_t n = 0;
    bool replaced = false;
    for (size_t i = 0; i < q->n; i++) {
        params[n] = q->params[reverse ? q->n - 1 - i : i];
        if (sig_value != NULL && strcmp(params[n].name, "X-Amz-Signature") == 0) {
            params[n].value = (char *)(uintptr_t)sig_value; /* read-only use */
            replaced = true;
        }
        n++;
    }
    if (sig_value != NULL && !replaced)
        params[n++] = (struct srv_query_param){(char *)(uintptr_t) "X-Amz-Signature",
                                               (char *)(uintptr_t)sig_value};
    out->params = params;
    out->n = n;
}

static void check_invariants(struct srv_sigv4_in *in, const char *secret, struct hdrs *h,
                             size_t pick)
{
    char sig[SRV_SIG_HEX_LEN + 1], again[SRV_SIG_HEX_LEN + 1];
    cof_err err = srv_sigv4_sign(in, secret, sig);
    if (err != COF_OK) {
        if (err != COF_ERR_INVALID && err != COF_ERR_NOMEM)
            abort();
        memset(again, '0', SRV_SIG_HEX_LEN);
        again[SRV_SIG_HEX_LEN] = '\0';
        if (srv_sigv4_verify(in, secret, again) == COF_OK)
            abort();
        return;
    }
    if (!lower_hex64(sig))
        abort();
    if (srv_sigv4_sign(in, secret, again) == COF_OK && strcmp(sig, again) != 0)
        abort();
    if (srv_sigv4_verify(in, secret, sig) != COF_OK)
        abort();
    check_only_exact_signature(in, secret, sig, pick);

    /* Another secret, payload hash, date or method. */
    size_t sl = strlen(secret);
    char *other = malloc(sl + 2);
    if (other == NULL)
        return;
    memcpy(other, secret, sl + 1);
    if (sl > 0) {
        other[0] = (char)(other[0] == 'x' ? 'y' : 'x');
        if (srv_sigv4_verify(in, other, sig) == COF_OK)
            abort();
    }
    memcpy(other, secret, sl);
    memcpy(other + sl, "x", 2);
    if (srv_sigv4_verify(in, other, sig) == COF_OK)
        abort();
    free(other);
    struct srv_sigv4_in v;
    char changed[64];
    for (int f = 0; f < 3; f++) {
        v = *in;
        const char **field = f == 0 ? &v.payload_hash : f == 1 ? &v.amz_date : &v.method;
        size_t len = strnlen(*field, sizeof(changed) - 2);
        if ((*field)[len] != '\0')
            continue; /* too long to copy here; the other checks still run */
        memcpy(changed, *field, len);
        memcpy(changed + len, "x", 2);
        *field = changed;
        if (srv_sigv4_verify(&v, secret, sig) == COF_OK)
            abort();
    }

    /* Whitespace around header values is trimmed. */
    h->pad = true;
    expect_sig(in, secret, sig, true);
    h->pad = false;

    /* The query is sorted, so its order does not matter. */
    const struct srv_query empty = {0};
    const struct srv_query *q = in->query != NULL ? in->query : &empty;
    struct srv_query_param *params = calloc(q->n + 1, sizeof(*params));
    struct srv_query variant;
    if (params == NULL)
        return;
    v = *in;
    v.query = &variant;
    query_variant(q, true, NULL, &variant, params);
    expect_sig(&v, secret, sig, true);
    /* X-Amz-Signature: left out of a presigned URL's canonical query, but part of any other. */
    const char *had = srv_query_get(q, "X-Amz-Signature");
    query_variant(q, false, "0123456789abcdef", &variant, params);
    if (had == NULL || strcmp(had, "0123456789abcdef") != 0)
        expect_sig(&v, secret, sig, in->presigned);
    free(params);

    /* The path is decoded and re-encoded: an equivalent encoding signs the same. */
    char *path = NULL, *again_path = NULL;
    size_t path_len = 0;
    struct cof_buf b;
    cof_buf_init(&b, 1024 * 1024);
    if (srv_uri_decode_path(in->raw_path, strlen(in->raw_path), &path, &path_len) == COF_OK &&
        srv_uri_encode(path, true, &b) == COF_OK && cof_buf_steal(&b, &again_path) == COF_OK) {
        v = *in;
        v.raw_path = again_path;
        expect_sig(&v, secret, sig, true);
    }
    free(path);
    free(again_path);
    cof_buf_cleanup(&b);

    /* Chunk and trailer signatures chained on the request's. */
    uint8_t key[32];
    char chunk[SRV_SIG_HEX_LEN + 1], chunk2[SRV_SIG_HEX_LEN + 1], trailer[SRV_SIG_HEX_LEN + 1];
    static const char data_sha[] =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    if (srv_sigv4_signing_key(secret, in->scope, key) != COF_OK ||
        srv_sigv4_chunk_signature(key, in->amz_date, in->scope, sig, data_sha, chunk) != COF_OK ||
        srv_sigv4_chunk_signature(key, in->amz_date, in->scope, chunk, data_sha, chunk2) !=
            COF_OK ||
        srv_sigv4_trailer_signature(key, in->amz_date, in->scope, sig, data_sha, trailer) != COF_OK)
        return;
    if (!lower_hex64(chunk) || !lower_hex64(chunk2) || !lower_hex64(trailer) ||
        strcmp(chunk, chunk2) == 0 || strcmp(chunk, trailer) == 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    /* One NUL-terminated copy, split on '\n' in place (a NUL inside a line ends that field). */
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *field[N_FIELDS];
    struct hdrs h = {0};
    char *p = text;
    for (size_t i = 0; i < N_FIELDS; i++) {
        field[i] = p;
        char *nl = memchr(p, '\n', (size_t)(text + size - p));
        if (nl != NULL) {
            *nl = '\0';
            p = nl + 1;
        } else {
            p = text + size; /* the rest of the fields are "" */
        }
    }
    while (p < text + size && h.n < MAX_HEADERS) {
        char *line = p;
        char *nl = memchr(p, '\n', (size_t)(text + size - p));
        if (nl != NULL) {
            *nl = '\0';
            p = nl + 1;
        } else {
            p = text + size;
        }
        char *colon = strchr(line, ':');
        if (colon == NULL)
            continue;
        *colon = '\0';
        h.name[h.n] = line;
        h.value[h.n] = colon + 1;
        h.n++;
    }

    struct srv_query q = {0};
    if (srv_query_parse(field[2], &q) != COF_OK)
        memset(&q, 0, sizeof(q)); /* a query the server would refuse: sign without one */
    struct srv_sigv4_in in = {
        .method = field[0],
        .raw_path = field[1],
        .query = &q,
        .presigned = strcmp(field[8], "presigned") == 0,
        .signed_headers = field[3],
        .header = lookup,
        .header_arg = &h,
        .payload_hash = field[4],
        .amz_date = field[5],
        .scope = field[6],
    };
    size_t pick = 0;
    for (size_t i = 0; i < size; i++)
        pick = pick * 31 + data[i];
    check_invariants(&in, field[7], &h, pick % SRV_SIG_HEX_LEN);
    srv_query_cleanup(&q);
    free(text);
    return 0;
}
