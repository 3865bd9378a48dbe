/* SPDX-License-Identifier: Apache-2.0 */
/* crypto/aead: GCM known answers, the blob format's own vectors (computed independently with
 * pyca/cryptography), round trips, and tampering: every header and segment byte, truncation,
 * extension, reordering, moving segments between blobs, wrong DEK. No failure may release
 * plaintext. Includes aead.c to reach gcm_ctx_new/gcm_run. */
#include "check.h"
#include "crypto/aead.c"
#include "crypto/digest.h"

#include <stdlib.h>

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s) / 2;
    if (n > cap)
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            abort();
        out[i] = (uint8_t)v;
    }
    return n;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return 1;
    return 0;
}

/* Plaintext with no zero byte, so "all zero" proves nothing of it was released. */
static void fill_pt(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)('A' + (i * 7 + seed) % 26);
}

static struct cry_key *key_of(uint8_t start)
{
    uint8_t b[CRY_KEY_LEN];
    struct cry_key *k = NULL;
    for (size_t i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)(start + i);
    if (cry_key_from_bytes(b, sizeof(b), &k) != COF_OK)
        abort();
    return k;
}

/* The GCM spec's (McGrew-Viega) AES-256 test cases 13-16, as adopted in NIST's GCM validation. */
static void test_gcm_kat(void)
{
    static const struct {
        const char *key, *iv, *aad, *pt, *ct, *tag;
    } v[] = {
        {"0000000000000000000000000000000000000000000000000000000000000000",
         "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
        {"0000000000000000000000000000000000000000000000000000000000000000",
         "000000000000000000000000", "", "00000000000000000000000000000000",
         "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
        {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
         "cafebabefacedbaddecaf888", "",
         "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
         "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
         "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
         "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
         "b094dac5d93471bdec1a502270e3cc6c"},
        {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
         "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
         "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
         "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
         "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
         "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
         "76fc6ece0f4e1768cddf8853bb2d551b"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t key[32], iv[12], aad[64], pt[64], ct[64], tag[16], out[64], got_tag[16];
        unhex(v[i].key, key, sizeof(key));
        unhex(v[i].iv, iv, sizeof(iv));
        size_t aad_len = unhex(v[i].aad, aad, sizeof(aad));
        size_t n = unhex(v[i].pt, pt, sizeof(pt));
        CHECK_EQ_INT(unhex(v[i].ct, ct, sizeof(ct)), n);
        unhex(v[i].tag, tag, sizeof(tag));
        EVP_CIPHER_CTX *ctx = gcm_ctx_new(key);
        CHECK(ctx != NULL);
        if (ctx == NULL)
            continue;
        /* Twice on one context: the per-message IV reset must not depend on fresh state. */
        for (int rep = 0; rep < 2; rep++) {
            CHECK_EQ_INT(gcm_run(ctx, 1, iv, aad, aad_len, pt, n, out, got_tag), COF_OK);
            CHECK_MEM(out, ct, n);
            CHECK_MEM(got_tag, tag, 16);
            CHECK_EQ_INT(gcm_run(ctx, 0, iv, aad, aad_len, ct, n, out, tag), COF_OK);
            CHECK_MEM(out, pt, n);
        }
        tag[0] ^= 1;
        CHECK_EQ_INT(gcm_run(ctx, 0, iv, aad, aad_len, ct, n, out, tag), COF_ERR_INTEGRITY);
        EVP_CIPHER_CTX_free(ctx);
    }
}

/* Vectors for the segment format itself (nonce = base XOR idx, AAD layout), computed with
 * pyca/cryptography's AESGCM from the contract in aead.h, not with this code. */
static void test_format_kat(void)
{
    static const uint8_t want_hdr[CRY_BLOB_HDR_LEN] = {
        0x43, 0x4f, 0x46, 0x42, 0x01, 0x00, 0x00, 0x00, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5,
        0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0x0f, 0x0e, 0x0d, 0x0c,
        0x0b, 0x0a, 0x09, 0x08, 0x07, 0x06, 0x05, 0x04, 0x00, 0x01, 0x00, 0x00};
    static const struct {
        uint64_t idx;
        const char *pt;
        const char *out;
    } v[] = {
        {0, "", "f11a9720abe1f3e9fd178ddcc9b00d21"},
        {0, "coffer", "c75fd73a3ea5f692717ca32bafa20583cd700bcd7156"},
        {0x0102030405060708u, "The quick brown fox",
         "e3c3a6992100128a6664d31f4b5a34a6f3d26d2bbb0620adde41af9d1f82f23d130c65"},
    };
    /* Segment 5, non-final, plaintext byte i = 7i mod 256: SHA-256 of ciphertext || tag. */
    static const uint8_t want_big_sha[32] = {0x2a, 0x5f, 0x58, 0x17, 0xeb, 0x4f, 0x06, 0xb3,
                                             0x04, 0x6c, 0x1a, 0x8d, 0xc7, 0x44, 0x13, 0xc6,
                                             0x98, 0x62, 0xd9, 0x03, 0x1f, 0x26, 0x70, 0x13,
                                             0x38, 0xde, 0xd7, 0xf5, 0xad, 0x12, 0xb2, 0x79};
    struct cry_blob_hdr h, h2;
    uint8_t hdr[CRY_BLOB_HDR_LEN];
    struct cry_key *dek = key_of(0);
    struct cry_aead *a = NULL;

    for (size_t i = 0; i < CRY_BLOB_ID_LEN; i++)
        h.blob_id[i] = (uint8_t)(0xa0 + i);
    unhex("0f0e0d0c0b0a090807060504", h.nonce_base, sizeof(h.nonce_base));
    cry_blob_hdr_encode(&h, hdr);
    CHECK_MEM(hdr, want_hdr, sizeof(hdr));
    CHECK_EQ_INT(cry_blob_hdr_decode(hdr, sizeof(hdr), h.blob_id, &h2), COF_OK);
    CHECK_MEM(&h2, &h, sizeof(h));

    CHECK_EQ_INT(cry_aead_new(dek, &h, &a), COF_OK);
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t want[64], out[64], back[64];
        size_t n = strlen(v[i].pt);
        size_t wn = unhex(v[i].out, want, sizeof(want));
        CHECK_EQ_INT(wn, n + CRY_TAG_LEN);
        CHECK_EQ_INT(cry_aead_seal(a, v[i].idx, true, (const uint8_t *)v[i].pt, n, out), COF_OK);
        CHECK_MEM(out, want, wn);
        CHECK_EQ_INT(cry_aead_open(a, v[i].idx, true, want, wn, back), COF_OK);
        CHECK_MEM(back, v[i].pt, n);
    }
    uint8_t *big = malloc(CRY_SEG_SIZE);
    uint8_t *sealed = malloc(CRY_SEG_STORED);
    uint8_t sha[32];
    for (size_t i = 0; i < CRY_SEG_SIZE; i++)
        big[i] = (uint8_t)(i * 7);
    CHECK_EQ_INT(cry_aead_seal(a, 5, false, big, CRY_SEG_SIZE, sealed), COF_OK);
    CHECK_EQ_INT(cry_digest_oneshot(CRY_DIGEST_SHA256, sealed, CRY_SEG_STORED, sha), COF_OK);
    CHECK_MEM(sha, want_big_sha, 32);
    free(big);
    free(sealed);
    cry_aead_free(a);
    cry_key_free(dek);
}

static void test_sizes(void)
{
    static const struct {
        uint64_t size, segs, stored;
    } v[] = {
        {0, 1, 56},
        {1, 1, 57},
        {65535, 1, 40 + 65535 + 16},
        {65536, 1, 40 + 65536 + 16},
        {65537, 2, 40 + 65537 + 32},
        {3 * 65536, 3, 40 + 3 * 65536 + 48},
        {UINT64_MAX - 100, UINT64_MAX / 65536 + 1, 0}, /* count only: must not wrap to 0 */
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        CHECK_EQ_INT(cry_seg_count(v[i].size), v[i].segs);
        if (v[i].stored != 0)
            CHECK_EQ_INT(cry_blob_stored_size(v[i].size), v[i].stored);
    }
}

/* Seals n bytes as a whole blob (header + segments) under dek. Caller frees *out. */
static void seal_blob(const struct cry_key *dek, const struct cry_blob_hdr *h, const uint8_t *pt,
                      size_t n, uint8_t **out, size_t *out_len)
{
    struct cry_aead *a = NULL;
    uint64_t segs = cry_seg_count(n);
    size_t len = (size_t)cry_blob_stored_size(n);
    uint8_t *b = malloc(len);

    if (b == NULL || cry_aead_new(dek, h, &a) != COF_OK)
        abort();
    cry_blob_hdr_encode(h, b);
    for (uint64_t i = 0; i < segs; i++) {
        size_t off = (size_t)i * CRY_SEG_SIZE;
        size_t sn = n - off < CRY_SEG_SIZE ? n - off : CRY_SEG_SIZE;
        if (cry_aead_seal(a, i, i + 1 == segs, pt + off, sn,
                          b + CRY_BLOB_HDR_LEN + (size_t)i * CRY_SEG_STORED) != COF_OK)
            abort();
    }
    cry_aead_free(a);
    *out = b;
    *out_len = len;
}

/* Opens a blob the way a reader that trusts only the blob's length would: the last stored
 * segment is the final one. Writes the plaintext to out (cap bytes) and its length to *out_len.
 * On failure, plaintext of segments that verified stays (they were authentic); the failing
 * segment's is wiped by cry_aead_open. */
static cof_err open_blob(const struct cry_key *dek, const uint8_t id[CRY_BLOB_ID_LEN],
                         const uint8_t *b, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    struct cry_blob_hdr h;
    struct cry_aead *a = NULL;
    cof_err err;

    *out_len = 0;
    err = cry_blob_hdr_decode(b, len, id, &h);
    if (err != COF_OK)
        return err;
    if (len < CRY_BLOB_HDR_LEN + CRY_TAG_LEN)
        return COF_ERR_INTEGRITY;
    size_t body = len - CRY_BLOB_HDR_LEN;
    size_t segs = body / CRY_SEG_STORED + (body % CRY_SEG_STORED != 0);
    if (cry_aead_new(dek, &h, &a) != COF_OK)
        abort();
    for (size_t i = 0; i < segs && err == COF_OK; i++) {
        size_t off = i * CRY_SEG_STORED;
        size_t sn = body - off < CRY_SEG_STORED ? body - off : CRY_SEG_STORED;
        if (sn < CRY_TAG_LEN || *out_len + sn - CRY_TAG_LEN > cap) {
            err = COF_ERR_INTEGRITY;
            break;
        }
        err = cry_aead_open(a, i, i + 1 == segs, b + CRY_BLOB_HDR_LEN + off, sn, out + *out_len);
        if (err == COF_OK)
            *out_len += sn - CRY_TAG_LEN;
    }
    cry_aead_free(a);
    return err;
}

static void new_hdr(struct cry_blob_hdr *h, uint8_t id_byte)
{
    uint8_t id[CRY_BLOB_ID_LEN];
    memset(id, id_byte, sizeof(id));
    if (cry_blob_hdr_new(id, h) != COF_OK)
        abort();
}

static void test_round_trip(void)
{
    static const size_t sizes[] = {0, 1, 65535, 65536, 65537, 3 * 65536};
    struct cry_key *dek = NULL;
    struct cry_blob_hdr h;

    CHECK_EQ_INT(cry_key_new_random(&dek), COF_OK);
    new_hdr(&h, 0x11);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = sizes[i];
        uint8_t *pt = malloc(n + 1);
        uint8_t *back = calloc(1, n + 1);
        uint8_t *blob = NULL;
        size_t blob_len = 0, got = 0;
        fill_pt(pt, n, (unsigned)i);
        seal_blob(dek, &h, pt, n, &blob, &blob_len);
        CHECK_EQ_INT(blob_len, cry_blob_stored_size(n));
        /* The plaintext must not appear in the blob (it is ciphertext). */
        if (n >= 64)
            CHECK(!contains(blob, blob_len, pt, 64));
        CHECK_EQ_INT(open_blob(dek, h.blob_id, blob, blob_len, back, n + 1, &got), COF_OK);
        CHECK_EQ_INT(got, n);
        CHECK_MEM(back, pt, n);
        free(pt);
        free(back);
        free(blob);
    }
    cry_key_free(dek);
}

static void test_in_place_and_reuse(void)
{
    struct cry_key *dek = key_of(9);
    struct cry_blob_hdr h;
    struct cry_aead *a = NULL;
    uint8_t pt[100], buf[100 + CRY_TAG_LEN], bad[100 + CRY_TAG_LEN], out[100];

    new_hdr(&h, 0x22);
    fill_pt(pt, sizeof(pt), 3);
    CHECK_EQ_INT(cry_aead_new(dek, &h, &a), COF_OK);
    memcpy(buf, pt, sizeof(pt));
    CHECK_EQ_INT(cry_aead_seal(a, 7, true, buf, sizeof(pt), buf), COF_OK); /* in place */
    memcpy(bad, buf, sizeof(bad));
    bad[3] ^= 0x40;
    /* A failed open must leave the context usable for the next segment. */
    CHECK_EQ_INT(cry_aead_open(a, 7, true, bad, sizeof(bad), out), COF_ERR_INTEGRITY);
    CHECK(all_zero(out, sizeof(out)));
    CHECK_EQ_INT(cry_aead_open(a, 7, true, buf, sizeof(buf), out), COF_OK);
    CHECK_MEM(out, pt, sizeof(pt));
    CHECK_EQ_INT(cry_aead_open(a, 7, true, buf, sizeof(buf), buf), COF_OK); /* in place */
    CHECK_MEM(buf, pt, sizeof(pt));
    /* Length limits. */
    memset(out, 0, sizeof(out));
    CHECK_EQ_INT(cry_aead_open(a, 0, true, bad, CRY_TAG_LEN - 1, out), COF_ERR_INTEGRITY);
    CHECK_EQ_INT(cry_aead_open(a, 0, true, bad, CRY_SEG_STORED + 1, out), COF_ERR_INTEGRITY);
    CHECK(all_zero(out, sizeof(out)));
    cry_aead_free(a);
    cry_aead_free(NULL);
    cry_key_free(dek);
}

/* Every byte of the header, flipped (two different bit patterns), must make the blob unreadable:
 * either the header is rejected or the first segment fails. Nothing is released. */
static void test_flip_header(void)
{
    static const uint8_t masks[] = {0x01, 0x80};
    struct cry_key *dek = key_of(1);
    struct cry_blob_hdr h;
    uint8_t pt[300], out[300];
    uint8_t *blob = NULL;
    size_t blob_len = 0, got = 0;

    new_hdr(&h, 0x33);
    fill_pt(pt, sizeof(pt), 1);
    seal_blob(dek, &h, pt, sizeof(pt), &blob, &blob_len);
    for (size_t m = 0; m < sizeof(masks); m++) {
        for (size_t i = 0; i < CRY_BLOB_HDR_LEN; i++) {
            memset(out, 0, sizeof(out));
            blob[i] ^= masks[m];
            CHECK_EQ_INT(open_blob(dek, h.blob_id, blob, blob_len, out, sizeof(out), &got),
                         COF_ERR_INTEGRITY);
            CHECK_EQ_INT(got, 0);
            CHECK(all_zero(out, sizeof(out)));
            blob[i] ^= masks[m];
        }
    }
    /* Short header, and the right header under another expected id. */
    struct cry_blob_hdr tmp;
    uint8_t other[CRY_BLOB_ID_LEN];
    memset(other, 0x34, sizeof(other));
    CHECK_EQ_INT(cry_blob_hdr_decode(blob, CRY_BLOB_HDR_LEN - 1, h.blob_id, &tmp),
                 COF_ERR_INTEGRITY);
    CHECK_EQ_INT(cry_blob_hdr_decode(blob, 0, h.blob_id, &tmp), COF_ERR_INTEGRITY);
    CHECK_EQ_INT(cry_blob_hdr_decode(blob, CRY_BLOB_HDR_LEN, other, &tmp), COF_ERR_INTEGRITY);
    CHECK_EQ_INT(open_blob(dek, h.blob_id, blob, blob_len, out, sizeof(out), &got), COF_OK);
    free(blob);
    cry_key_free(dek);
}

/* Every byte of a small final segment (ciphertext and tag); then a sample of a full segment. */
static void test_flip_segment(void)
{
    struct cry_key *dek = key_of(2);
    struct cry_blob_hdr h;
    struct cry_aead *a = NULL;
    uint8_t pt[37], seg[37 + CRY_TAG_LEN], out[37];
    int all_fail = 1, all_wiped = 1;

    new_hdr(&h, 0x44);
    fill_pt(pt, sizeof(pt), 2);
    CHECK_EQ_INT(cry_aead_new(dek, &h, &a), COF_OK);
    CHECK_EQ_INT(cry_aead_seal(a, 0, true, pt, sizeof(pt), seg), COF_OK);
    for (size_t i = 0; i < sizeof(seg); i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            memset(out, 0x5a, sizeof(out)); /* stale bytes must be wiped too */
            seg[i] ^= (uint8_t)(1u << bit);
            if (cry_aead_open(a, 0, true, seg, sizeof(seg), out) != COF_ERR_INTEGRITY)
                all_fail = 0;
            if (!all_zero(out, sizeof(out)))
                all_wiped = 0;
            seg[i] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK(all_fail);
    CHECK(all_wiped);
    CHECK_EQ_INT(cry_aead_open(a, 0, true, seg, sizeof(seg), out), COF_OK);
    CHECK_MEM(out, pt, sizeof(pt));

    uint8_t *big = malloc(CRY_SEG_SIZE);
    uint8_t *sealed = malloc(CRY_SEG_STORED);
    uint8_t *bo = malloc(CRY_SEG_SIZE);
    fill_pt(big, CRY_SEG_SIZE, 5);
    CHECK_EQ_INT(cry_aead_seal(a, 1, false, big, CRY_SEG_SIZE, sealed), COF_OK);
    all_fail = 1;
    all_wiped = 1;
    for (size_t i = 0; i < CRY_SEG_STORED; i += (i < CRY_SEG_SIZE - 1000 ? 997 : 1)) {
        sealed[i] ^= 0x10;
        if (cry_aead_open(a, 1, false, sealed, CRY_SEG_STORED, bo) != COF_ERR_INTEGRITY)
            all_fail = 0;
        if (!all_zero(bo, CRY_SEG_SIZE))
            all_wiped = 0;
        sealed[i] ^= 0x10;
    }
    CHECK(all_fail);
    CHECK(all_wiped);
    CHECK_EQ_INT(cry_aead_open(a, 1, false, sealed, CRY_SEG_STORED, bo), COF_OK);
    CHECK_MEM(bo, big, CRY_SEG_SIZE);
    free(big);
    free(sealed);
    free(bo);
    cry_aead_free(a);
    cry_key_free(dek);
}

/* Truncation, extension and reordering, on a 3-segment blob with a short final segment and on
 * one whose final segment is full. */
static void test_truncate_reorder(void)
{
    static const size_t sizes[] = {2 * 65536 + 100, 3 * 65536};
    struct cry_key *dek = key_of(3);
    struct cry_blob_hdr h;

    new_hdr(&h, 0x55);
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t n = sizes[s], got = 0, blob_len = 0;
        uint8_t *pt = malloc(n);
        uint8_t *out = malloc(n);
        uint8_t *blob = NULL;
        struct cry_aead *a = NULL;
        fill_pt(pt, n, 7);
        seal_blob(dek, &h, pt, n, &blob, &blob_len);
        const uint8_t *s0 = blob + CRY_BLOB_HDR_LEN;
        const uint8_t *s1 = s0 + CRY_SEG_STORED;
        const uint8_t *s2 = s1 + CRY_SEG_STORED;
        size_t s2_len = blob_len - CRY_BLOB_HDR_LEN - 2 * CRY_SEG_STORED;
        CHECK_EQ_INT(cry_aead_new(dek, &h, &a), COF_OK);

        const struct {
            const char *what;
            uint64_t idx;
            bool final;
            const uint8_t *seg;
            size_t len;
        } bad[] = {
            {"non-final 0 opened as final", 0, true, s0, CRY_SEG_STORED},
            {"non-final 1 opened as final", 1, true, s1, CRY_SEG_STORED},
            {"final opened as non-final (extension)", 2, false, s2, s2_len},
            {"segment 1 opened as 0", 0, false, s1, CRY_SEG_STORED},
            {"segment 0 opened as 1", 1, false, s0, CRY_SEG_STORED},
            {"final 2 opened as 1", 1, true, s2, s2_len},
            {"final 2 opened as 3", 3, true, s2, s2_len},
            {"final truncated by one byte", 2, true, s2, s2_len - 1},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            memset(out, 0, CRY_SEG_SIZE);
            cof_err err = cry_aead_open(a, bad[i].idx, bad[i].final, bad[i].seg, bad[i].len, out);
            if (err != COF_ERR_INTEGRITY)
                fprintf(stderr, "case: %s\n", bad[i].what);
            CHECK_EQ_INT(err, COF_ERR_INTEGRITY);
            CHECK(all_zero(out, CRY_SEG_SIZE));
        }
        /* Whole-blob views: final segment dropped; last two dropped; segments 0 and 1 swapped. */
        memset(out, 0, n);
        CHECK_EQ_INT(open_blob(dek, h.blob_id, blob, blob_len - s2_len, out, n, &got),
                     COF_ERR_INTEGRITY);
        CHECK_EQ_INT(got, CRY_SEG_SIZE); /* segment 0 verified; segment 1 (as final) did not */
        CHECK(all_zero(out + got, CRY_SEG_SIZE));
        memset(out, 0, n);
        CHECK_EQ_INT(
            open_blob(dek, h.blob_id, blob, CRY_BLOB_HDR_LEN + CRY_SEG_STORED, out, n, &got),
            COF_ERR_INTEGRITY);
        CHECK(all_zero(out, n));
        uint8_t *swapped = malloc(blob_len);
        memcpy(swapped, blob, blob_len);
        memcpy(swapped + CRY_BLOB_HDR_LEN, s1, CRY_SEG_STORED);
        memcpy(swapped + CRY_BLOB_HDR_LEN + CRY_SEG_STORED, s0, CRY_SEG_STORED);
        memset(out, 0, n);
        CHECK_EQ_INT(open_blob(dek, h.blob_id, swapped, blob_len, out, n, &got), COF_ERR_INTEGRITY);
        CHECK(all_zero(out, n));
        CHECK_EQ_INT(open_blob(dek, h.blob_id, blob, blob_len, out, n, &got), COF_OK);
        CHECK_MEM(out, pt, n);
        free(swapped);
        cry_aead_free(a);
        free(blob);
        free(pt);
        free(out);
    }
    cry_key_free(dek);
}

/* A segment moved to another blob (other id and/or nonce base), or opened under another DEK. */
static void test_move_and_wrong_dek(void)
{
    struct cry_key *dek = key_of(4);
    struct cry_key *dek2 = key_of(5);
    struct cry_blob_hdr h, other_id, other_nonce, other_both;
    uint8_t pt[200], seg[200 + CRY_TAG_LEN], out[200];

    new_hdr(&h, 0x66);
    other_id = h;
    other_id.blob_id[15] ^= 1;
    other_nonce = h;
    other_nonce.nonce_base[0] ^= 1;
    new_hdr(&other_both, 0x67);
    fill_pt(pt, sizeof(pt), 9);
    struct cry_aead *a = NULL;
    CHECK_EQ_INT(cry_aead_new(dek, &h, &a), COF_OK);
    CHECK_EQ_INT(cry_aead_seal(a, 0, true, pt, sizeof(pt), seg), COF_OK);
    cry_aead_free(a);

    const struct {
        const char *what;
        const struct cry_key *k;
        const struct cry_blob_hdr *h;
        cof_err want;
    } v[] = {
        {"same blob", dek, &h, COF_OK},
        {"other blob id", dek, &other_id, COF_ERR_INTEGRITY},
        {"other nonce base", dek, &other_nonce, COF_ERR_INTEGRITY},
        {"other blob", dek, &other_both, COF_ERR_INTEGRITY},
        {"wrong DEK", dek2, &h, COF_ERR_INTEGRITY},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct cry_aead *b = NULL;
        memset(out, 0, sizeof(out));
        CHECK_EQ_INT(cry_aead_new(v[i].k, v[i].h, &b), COF_OK);
        cof_err err = cry_aead_open(b, 0, true, seg, sizeof(seg), out);
        if (err != v[i].want)
            fprintf(stderr, "case: %s\n", v[i].what);
        CHECK_EQ_INT(err, v[i].want);
        if (v[i].want == COF_OK)
            CHECK_MEM(out, pt, sizeof(pt));
        else
            CHECK(all_zero(out, sizeof(out)));
        cry_aead_free(b);
    }

    /* A whole blob re-labelled as another one: its header no longer matches the id. */
    uint8_t *blob = NULL;
    size_t blob_len = 0, got = 0;
    seal_blob(dek, &h, pt, sizeof(pt), &blob, &blob_len);
    memset(out, 0, sizeof(out));
    CHECK_EQ_INT(open_blob(dek, other_id.blob_id, blob, blob_len, out, sizeof(out), &got),
                 COF_ERR_INTEGRITY);
    CHECK_EQ_INT(open_blob(dek2, h.blob_id, blob, blob_len, out, sizeof(out), &got),
                 COF_ERR_INTEGRITY);
    CHECK(all_zero(out, sizeof(out)));
    free(blob);
    cry_key_free(dek);
    cry_key_free(dek2);
}

static void test_keys(void)
{
    struct cry_key *k = NULL, *k2 = NULL;
    uint8_t b[CRY_KEY_LEN + 1] = {0};

    CHECK_EQ_INT(cry_key_from_bytes(b, CRY_KEY_LEN - 1, &k), COF_ERR_KEY);
    CHECK(k == NULL);
    CHECK_EQ_INT(cry_key_from_bytes(b, CRY_KEY_LEN + 1, &k), COF_ERR_KEY);
    CHECK_EQ_INT(cry_key_from_bytes(b, CRY_KEY_LEN, &k), COF_OK);
    CHECK_MEM(cry_key_bytes(k), b, CRY_KEY_LEN);
    CHECK_EQ_INT(cry_key_new_random(&k2), COF_OK);
    CHECK(memcmp(cry_key_bytes(k), cry_key_bytes(k2), CRY_KEY_LEN) != 0);
    cry_key_free(k);
    cry_key_free(k2);
    cry_key_free(NULL);
    /* Two fresh headers for one id get different nonce bases. */
    struct cry_blob_hdr h1, h2;
    new_hdr(&h1, 1);
    new_hdr(&h2, 1);
    CHECK(memcmp(h1.nonce_base, h2.nonce_base, CRY_NONCE_LEN) != 0);
}

int main(void)
{
    test_gcm_kat();
    test_format_kat();
    test_sizes();
    test_keys();
    test_round_trip();
    test_in_place_and_reuse();
    test_flip_header();
    test_flip_segment();
    test_truncate_reorder();
    test_move_and_wrong_dek();
    return check_finish();
}
