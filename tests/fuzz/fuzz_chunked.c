/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the aws-chunked decoder (s3/chunked.c), which reads request bodies off the network.
 * 1. The input as a body, fed whole, one byte at a time, and in pieces whose sizes come from the
 *    input. Invariants: every split gives the same outcome (error, done, payload, chunk headers,
 *    trailers); payload bytes are handed out from inside the piece being fed, never more than
 *    were fed; after an error, a well-formed continuation is refused and passes no data; each
 *    chunk signature is "" or 64 lower-case hex, and nothing follows the size-0 chunk; a finished
 *    body's chunk sizes add up to its payload; trailers are lower-cased, trimmed, and the signed
 *    canonical form is sorted and leaves out x-amz-trailer-signature.
 * 2. The input as a payload: encoded as a valid stream (signed or not, size case, chunking and
 *    trailers chosen by the input), it decodes, under any split, to exactly that payload. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "s3/chunked.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (256u * 1024)
#define SIG_HEX   64 /* chunk-signature: lower-case hex of an HMAC-SHA256 */

/* What one decoding run observed. */
struct obs {
    const char *piece; /* the piece being fed: on_data must point inside it */
    size_t piece_len;
    uint8_t *payload; /* capacity: the input size (the payload cannot be longer) */
    size_t payload_len, payload_cap;
    size_t n_chunks;   /* on_chunk calls */
    uint64_t size_sum; /* sizes they announced */
    uint64_t chunk_hash;
    bool final_seen; /* a size-0 chunk header was seen */
    cof_err err;
    bool done;
    char trailers[SRV_TRAILER_MAX + 512];
    size_t n_trailers;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

static cof_err on_data(void *arg, const char *p, size_t n)
{
    struct obs *o = arg;
    if (n == 0)
        return COF_OK;
    uintptr_t at = (uintptr_t)p, lo = (uintptr_t)o->piece;
    if (at < lo || n > o->piece_len || at - lo > o->piece_len - n)
        abort(); /* payload must come from the bytes being fed */
    if (o->payload_len + n > o->payload_cap)
        abort(); /* more payload than input */
    memcpy(o->payload + o->payload_len, p, n);
    o->payload_len += n;
    return COF_OK;
}

static cof_err on_chunk(void *arg, const char *sig, uint64_t size)
{
    struct obs *o = arg;
    size_t sl = strlen(sig);
    if (sl != 0 && (sl != SIG_HEX || !cof_hex_valid(sig, sl, COF_HEX_LOWER)))
        abort();
    if (o->final_seen)
        abort(); /* no chunk after the final one */
    o->final_seen = size == 0;
    o->n_chunks++;
    o->size_sum += size;
    o->chunk_hash = mix(o->chunk_hash, size);
    for (size_t i = 0; i < sl; i++)
        o->chunk_hash = mix(o->chunk_hash, (unsigned char)sig[i]);
    return COF_OK;
}

/* Small deterministic generator for split points, seeded from the input. */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Feeds in[0..n) in pieces: step 0 = whole, 1 = bytes, else random lengths in 1..step. Each
 * piece is copied to an exact-size allocation so that a read past it is caught by ASan. */
static void run(const char *in, size_t n, size_t step, uint64_t seed, struct obs *o)
{
    struct srv_chunked c;
    memset(o, 0, sizeof(*o));
    o->payload_cap = n;
    o->payload = malloc(n > 0 ? n : 1);
    if (o->payload == NULL)
        abort();
    srv_chunked_init(&c, on_data, o);
    c.on_chunk = on_chunk;
    size_t i = 0;
    while (i < n && o->err == COF_OK) {
        size_t k = n - i;
        if (step == 1)
            k = 1;
        else if (step > 1 && k > 1)
            k = 1 + (size_t)(next_rand(&seed) % (k < step ? k : step));
        /* One byte lives on the stack (ASan guards it too): a malloc per byte is slow. */
        char one[1];
        char *piece = k == 1 ? one : malloc(k);
        if (piece == NULL)
            abort();
        memcpy(piece, in + i, k);
        o->piece = piece;
        o->piece_len = k;
        o->err = srv_chunked_feed(&c, piece, k);
        if (piece != one)
            free(piece);
        i += k;
    }
    o->done = srv_chunked_done(&c);
    if (c.decoded != o->payload_len || o->payload_len > n)
        abort();
    if (o->err != COF_OK) {
        /* Errors are final: even a well-formed continuation is refused and yields nothing. */
        static const char more[] = "3\r\nabc\r\n0\r\n\r\n";
        size_t before = o->payload_len;
        o->piece = more;
        o->piece_len = sizeof(more) - 1;
        if (o->err != COF_ERR_INVALID || srv_chunked_feed(&c, more, sizeof(more) - 1) == COF_OK ||
            o->payload_len != before || o->done || srv_chunked_done(&c))
            abort();
        return;
    }
    if (o->done) {
        /* Finished: everything was consumed, and the sizes add up. */
        if (!o->final_seen || o->size_sum != o->payload_len || i != n)
            abort();
        if (srv_chunked_feed(&c, "x", 1) == COF_OK)
            abort(); /* nothing may follow the end */
    }
    /* Trailers: lower-case names without ':', trimmed values; canonical form sorted and without
     * the signature, whole lines only. */
    o->n_trailers = c.n_trailers;
    if (c.n_trailers > SRV_TRAILERS_MAX)
        abort();
    for (size_t t = 0; t < c.n_trailers; t++) {
        const struct srv_trailer *tr = &c.trailers[t];
        size_t vl = strlen(tr->value);
        if (tr->name[0] == '\0' || strchr(tr->name, ':') != NULL ||
            (vl > 0 && (tr->value[0] == ' ' || tr->value[0] == '\t' || tr->value[vl - 1] == ' ' ||
                        tr->value[vl - 1] == '\t')))
            abort();
        for (const char *p = tr->name; *p != '\0'; p++)
            if (*p >= 'A' && *p <= 'Z')
                abort();
        if (srv_chunked_trailer(&c, tr->name) == NULL)
            abort();
    }
    size_t len = srv_chunked_canonical_trailers(&c, o->trailers, sizeof(o->trailers));
    if (len >= sizeof(o->trailers) || strlen(o->trailers) != len)
        abort();
    char prev[64] = "";
    for (const char *line = o->trailers; *line != '\0';) {
        const char *nl = strchr(line, '\n');
        size_t nlen = strcspn(line, ":\n");
        char name[64];
        if (nl == NULL || line[nlen] != ':' || nlen >= sizeof(name))
            abort();
        memcpy(name, line, nlen);
        name[nlen] = '\0';
        if (strcmp(name, "x-amz-trailer-signature") == 0 || strcmp(prev, name) > 0)
            abort(); /* left out; sorted by name */
        memcpy(prev, name, nlen + 1);
        line = nl + 1;
    }
}

static bool same(const struct obs *a, const struct obs *b)
{
    return a->err == b->err && a->done == b->done && a->payload_len == b->payload_len &&
           memcmp(a->payload, b->payload, a->payload_len) == 0 && a->n_chunks == b->n_chunks &&
           a->chunk_hash == b->chunk_hash && a->n_trailers == b->n_trailers &&
           strcmp(a->trailers, b->trailers) == 0;
}

/* Part 1: the input as a body, under three splits. */
static void raw_body(const uint8_t *data, size_t size, uint64_t seed)
{
    struct obs whole, bytes, pieces;
    run((const char *)data, size, 0, seed, &whole);
    run((const char *)data, size, 1, seed, &bytes);
    run((const char *)data, size, 7, seed, &pieces);
    if (!same(&whole, &bytes) || !same(&whole, &pieces))
        abort();
    free(whole.payload);
    free(bytes.payload);
    free(pieces.payload);
}

/* Part 2: the input as a payload, framed by a valid stream. */
static void framed_payload(const uint8_t *data, size_t size, uint64_t seed)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    static const char *const names[] = {"x-amz-checksum-crc32", "X-Amz-Checksum-SHA256",
                                        "x-amz-meta-Colour", "x-amz-trailer-signature"};
    bool is_signed = size > 0 && (data[0] & 1) != 0;
    bool upper = size > 0 && (data[0] & 2) != 0;
    size_t n_trailers = size > 0 ? (size_t)(data[0] >> 2 & 7) % 5 : 0;
    /* Worst case per chunk: 16 size digits, the extension, two CRLFs. */
    size_t cap = 2 * size + 200 + (size + 1) * (16 + 17 + SIG_HEX + 4) + 4 * 100;
    char *body = malloc(cap);
    char sig[SIG_HEX + 1];
    uint64_t sig_hash = 0;
    size_t len = 0, off = 0, chunks = 0;
    if (body == NULL)
        abort();
    for (;;) {
        size_t k = size - off;
        if (k > 0) {
            uint64_t r = next_rand(&seed);
            k = 1 + (size_t)(r % (r & 1 ? 16 : k)); /* many tiny chunks, or a few large ones */
            if (k > size - off)
                k = size - off;
        }
        uint8_t raw[32];
        for (size_t i = 0; i < sizeof(raw); i++)
            raw[i] = (uint8_t)next_rand(&seed);
        cof_hex_encode(raw, sizeof(raw), sig);
        len += (size_t)snprintf(body + len, cap - len, upper ? "%zX" : "%zx", k);
        if (is_signed)
            len += (size_t)snprintf(body + len, cap - len, ";chunk-signature=%s", sig);
        sig_hash = mix(sig_hash, k);
        for (size_t i = 0; is_signed && i < SIG_HEX; i++)
            sig_hash = mix(sig_hash, (unsigned char)sig[i]);
        memcpy(body + len, "\r\n", 2);
        len += 2;
        chunks++;
        if (k == 0)
            break;
        memcpy(body + len, data + off, k);
        len += k;
        off += k;
        memcpy(body + len, "\r\n", 2);
        len += 2;
    }
    char values[4][41];
    for (size_t t = 0; t < n_trailers; t++) {
        size_t vl = 1 + (size_t)(next_rand(&seed) % 40);
        for (size_t i = 0; i < vl; i++)
            values[t][i] = b64[next_rand(&seed) % 65];
        values[t][vl] = '\0';
        /* Optional whitespace around the value, which the decoder trims. */
        len += (size_t)snprintf(body + len, cap - len, "%s:%s%s\r\n", names[t], t % 2 ? " " : "",
                                values[t]);
    }
    memcpy(body + len, "\r\n", 2);
    len += 2;
    if (len > cap)
        abort();

    struct obs o;
    run(body, len, 1 + (size_t)(next_rand(&seed) % 300), seed, &o);
    if (o.err != COF_OK || !o.done || o.payload_len != size ||
        (size > 0 && memcmp(o.payload, data, size) != 0) || o.n_chunks != chunks ||
        o.n_trailers != n_trailers || (is_signed && o.chunk_hash != sig_hash))
        abort();
    free(o.payload);

    /* Lookups by any case find each value. */
    struct srv_chunked c;
    struct obs sink = {.payload = malloc(size > 0 ? size : 1), .payload_cap = size};
    if (sink.payload == NULL)
        abort();
    sink.piece = body;
    sink.piece_len = len;
    srv_chunked_init(&c, on_data, &sink);
    if (srv_chunked_feed(&c, body, len) != COF_OK || !srv_chunked_done(&c))
        abort();
    for (size_t t = 0; t < n_trailers; t++) {
        const char *v = srv_chunked_trailer(&c, names[t]);
        if (v == NULL || strcmp(v, values[t]) != 0)
            abort();
    }
    free(sink.payload);
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    uint64_t seed = 0x243f6a8885a308d3ull;
    for (size_t i = 0; i < size; i++)
        seed = mix(seed, data[i]);
    if (seed == 0)
        seed = 1;
    raw_body(data, size, seed);
    framed_payload(data, size, seed);
    return 0;
}
