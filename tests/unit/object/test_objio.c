/* SPDX-License-Identifier: Apache-2.0 */
/* object/objio: the encrypting writer and decrypting reader over real blob files. Round trips at
 * segment boundaries, then every way the stored bytes or keys can be wrong: a flipped byte
 * (header, ciphertext, tag), a truncated or extended blob, a final segment cut off, segments
 * swapped, segments or whole bodies moved between blobs, the wrong root key, a missing root key,
 * another object's binding, the wrong customer key. Each must fail with COF_ERR_INTEGRITY or
 * COF_ERR_KEY and hand out no plaintext: the caller's buffer stays as it was. */
#include "check.h"
#include "object/objio.h"
#include "object/rootkeys.h"
#include "storage/blob.h"
#include "../storage/tmpdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEG CRY_SEG_SIZE

/* ---- The context objio runs in. -------------------------------------------------------------
 * objio takes the object layer's context (object/ctx.h). Everything that knows how that
 * context is made is in this block: the fixture's ctx field,
 * fixture_open and fixture_close (and blob_path, which knows the blob store's layout). The
 * tests only ever pass fx->ctx. */
struct fixture {
    char *dir; /* data dir; blobs under dir/blobs */
    struct sto_blobs *blobs;
    struct srv_rootkeys *kr;
    struct obj_ctx ctx_storage;
    struct obj_ctx *ctx; /* what every objio_* call gets */
};

/* Opens the blob store in dir and the keyring at keyring (created with a fresh random "rk1"
 * when missing). Two fixtures may share dir with different keyrings (the wrong-root-key test). */
static void fixture_open(struct fixture *fx, const char *dir, const char *keyring)
{
    memset(fx, 0, sizeof(*fx));
    fx->dir = strdup(dir);
    if (fx->dir == NULL || sto_blobs_open(dir, false, &fx->blobs) != COF_OK ||
        srv_rootkeys_open(keyring, true, &fx->kr) != COF_OK) {
        fprintf(stderr, "fixture_open(%s, %s) failed\n", dir, keyring);
        abort();
    }
    fx->ctx_storage.blobs = fx->blobs;
    fx->ctx_storage.kr = fx->kr;
    fx->ctx = &fx->ctx_storage;
}

static void fixture_close(struct fixture *fx)
{
    srv_rootkeys_close(fx->kr);
    sto_blobs_close(fx->blobs);
    free(fx->dir);
    memset(fx, 0, sizeof(*fx));
}

/* Path of a committed blob's file (blobs/xx/yy/<id>). */
static void blob_path(const struct fixture *fx, const char *id, char *out, size_t cap)
{
    snprintf(out, cap, "%s/blobs/%.2s/%.2s/%s", fx->dir, id, id + 2, id);
}
/* ---- end of the context block --------------------------------------------------------------- */

static uint8_t pattern(uint64_t i, uint8_t salt)
{
    return (uint8_t)(i * 131 + (i >> 8) * 7 + salt);
}

/* Writes size bytes of pattern(salt) as s3://bkt/<key> under seal (NULL: SSE-S3) and fills o.
 * o's strings that objio allocates (blob_id, kek_id, wrapped_dek) are freed by object_free. */
static void put_object(struct fixture *fx, const char *key, uint64_t size, uint8_t salt,
                       const struct objio_seal *seal, struct sto_object *o)
{
    struct objio_writer *w = NULL;
    struct objio_seal s3;
    uint8_t md5[CRY_MD5_LEN];
    uint8_t *buf = malloc(SEG);
    memset(o, 0, sizeof(*o));
    o->bucket = "bkt";
    o->key = (char *)(uintptr_t)key;
    o->version_id = "null";
    if (seal == NULL) {
        objio_seal_sse_s3(fx->ctx, &s3);
        seal = &s3;
    }
    CHECK(buf != NULL);
    CHECK_EQ_INT(objio_writer_new(fx->ctx, "test", &w), COF_OK);
    for (uint64_t done = 0; buf != NULL && w != NULL && done < size;) {
        /* Uneven pieces, so that segment boundaries fall inside writes. */
        size_t n = (size_t)(size - done < 40000 ? size - done : 40000);
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(done + i, salt);
        CHECK_EQ_INT(objio_write(w, buf, n), COF_OK);
        done += n;
    }
    if (w != NULL)
        CHECK_EQ_INT(objio_writer_finish(w, o, seal, md5), COF_OK);
    objio_writer_free(w);
    free(buf);
    CHECK_EQ_INT(o->size, size);
}

static void object_free(struct sto_object *o)
{
    free(o->blob_id);
    free(o->kek_id);
    free(o->wrapped_dek);
    o->blob_id = o->kek_id = NULL;
    o->wrapped_dek = NULL;
}

/* Reads the whole object; COF_OK only if every byte matches pattern(salt). On the first error
 * returns it, and checks that the read handed out nothing: out_n 0 and the buffer untouched. */
static cof_err read_all(struct fixture *fx, const struct sto_object *o,
                        const struct objio_keys *keys, uint8_t salt)
{
    struct objio_reader *r = NULL;
    cof_err err = objio_reader_open(fx->ctx, o, keys, "test", &r);
    if (err != COF_OK) {
        CHECK(r == NULL);
        return err;
    }
    uint8_t *buf = malloc(SEG);
    uint64_t pos = 0;
    bool same = true;
    while (err == COF_OK && buf != NULL && pos < o->size) {
        size_t got = 12345;
        memset(buf, 0xa5, SEG);
        err = objio_read(r, pos, buf, SEG, &got);
        if (err != COF_OK) {
            size_t clean = 0;
            while (clean < SEG && buf[clean] == 0xa5)
                clean++;
            CHECK_EQ_INT(got, 0);
            CHECK_EQ_INT(clean, SEG); /* no plaintext of the failed segment */
            break;
        }
        CHECK(got > 0);
        for (size_t i = 0; i < got; i++)
            same = same && buf[i] == pattern(pos + i, salt);
        pos += got;
    }
    free(buf);
    objio_reader_free(r);
    if (err == COF_OK && !same)
        err = COF_ERR_INTERNAL; /* wrong plaintext: fails every test that expects COF_OK */
    return err;
}

/* Reads only segment idx (and checks what read_all checks). */
static cof_err read_segment(struct fixture *fx, const struct sto_object *o, uint64_t idx,
                            uint8_t salt)
{
    struct objio_reader *r = NULL;
    cof_err err = objio_reader_open(fx->ctx, o, NULL, "test", &r);
    if (err != COF_OK)
        return err;
    uint8_t *buf = malloc(SEG);
    size_t got = 12345;
    if (buf == NULL)
        abort();
    memset(buf, 0xa5, SEG);
    err = objio_read(r, idx * SEG, buf, SEG, &got);
    if (err != COF_OK) {
        size_t clean = 0;
        while (clean < SEG && buf[clean] == 0xa5)
            clean++;
        CHECK_EQ_INT(got, 0);
        CHECK_EQ_INT(clean, SEG);
    } else {
        for (size_t i = 0; i < got; i++)
            if (buf[i] != pattern(idx * SEG + i, salt))
                err = COF_ERR_INTERNAL;
    }
    free(buf);
    objio_reader_free(r);
    return err;
}

/* File surgery on a blob: whole-file read and write. */
static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b = NULL;
    long len;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0 || (b = malloc((size_t)len + 1)) == NULL ||
        fread(b, 1, (size_t)len, f) != (size_t)len)
        abort();
    fclose(f);
    *n = (size_t)len;
    return b;
}

static void spill(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(b, 1, n, f) != n || fclose(f) != 0)
        abort();
}

static size_t seg_off(uint64_t idx)
{
    return CRY_BLOB_HDR_LEN + (size_t)idx * CRY_SEG_STORED;
}

static void test_round_trip(struct fixture *fx)
{
    static const uint64_t sizes[] = {0, 1, SEG - 1, SEG, SEG + 1, 2 * SEG, 3 * SEG + 1000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct sto_object o;
        put_object(fx, "round", sizes[i], (uint8_t)i, NULL, &o);
        if (read_all(fx, &o, NULL, (uint8_t)i) != COF_OK)
            fprintf(stderr, "round trip of %llu bytes failed\n", (unsigned long long)sizes[i]);
        CHECK_EQ_INT(read_all(fx, &o, NULL, (uint8_t)i), COF_OK);
        /* A reader over another salt's pattern sees different bytes (the check above is real). */
        if (sizes[i] > 0)
            CHECK_EQ_INT(read_all(fx, &o, NULL, (uint8_t)(i + 1)), COF_ERR_INTERNAL);
        object_free(&o);
    }
}

/* One flipped bit anywhere: in the header the blob no longer opens; in a segment (ciphertext
 * or tag) that segment fails and the others still read. */
static void test_tampered_byte(struct fixture *fx)
{
    struct sto_object o;
    char path[1024];
    put_object(fx, "tamper", 2 * SEG + 100, 3, NULL, &o);
    blob_path(fx, o.blob_id, path, sizeof(path));
    size_t n = 0;
    uint8_t *orig = slurp(path, &n);
    CHECK_EQ_INT(n, seg_off(2) + 100 + CRY_TAG_LEN);
    const struct {
        size_t off;
        int bad_seg; /* -1: the header (open fails) */
    } spots[] = {
        {0, -1},
        {CRY_BLOB_HDR_LEN - 1, -1},
        {seg_off(0), 0},
        {seg_off(0) + SEG + CRY_TAG_LEN - 1, 0}, /* segment 0's tag */
        {seg_off(1) + 777, 1},
        {seg_off(2), 2},
        {seg_off(2) + 99, 2},
        {n - 1, 2}, /* final tag */
    };
    for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
        uint8_t *b = malloc(n);
        if (b == NULL)
            abort();
        memcpy(b, orig, n);
        b[spots[i].off] ^= 0x10;
        spill(path, b, n);
        free(b);
        if (spots[i].bad_seg < 0) {
            CHECK_EQ_INT(read_all(fx, &o, NULL, 3), COF_ERR_INTEGRITY);
            continue;
        }
        for (uint64_t s = 0; s < 3; s++) {
            cof_err want = (int)s == spots[i].bad_seg ? COF_ERR_INTEGRITY : COF_OK;
            if (read_segment(fx, &o, s, 3) != want)
                fprintf(stderr, "flip at %zu, segment %llu\n", spots[i].off, (unsigned long long)s);
            CHECK_EQ_INT(read_segment(fx, &o, s, 3), want);
        }
        CHECK_EQ_INT(read_all(fx, &o, NULL, 3), COF_ERR_INTEGRITY);
    }
    spill(path, orig, n);
    CHECK_EQ_INT(read_all(fx, &o, NULL, 3), COF_OK);
    free(orig);
    object_free(&o);
}

/* The blob shorter or longer than the metadata says; and the attack the size check cannot see:
 * the final segment cut off and the size in the metadata shortened to match. The segment now
 * last was sealed as not final, so it fails. */
static void test_truncation(struct fixture *fx)
{
    struct sto_object o;
    char path[1024];
    put_object(fx, "trunc", 2 * SEG + 100, 4, NULL, &o);
    blob_path(fx, o.blob_id, path, sizeof(path));
    size_t n = 0;
    uint8_t *orig = slurp(path, &n);
    static const size_t cut[] = {1, CRY_TAG_LEN, CRY_TAG_LEN + 1, 100 + CRY_TAG_LEN};
    for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
        spill(path, orig, n - cut[i]);
        CHECK_EQ_INT(read_all(fx, &o, NULL, 4), COF_ERR_INTEGRITY);
    }
    uint8_t *longer = malloc(n + 1);
    if (longer == NULL)
        abort();
    memcpy(longer, orig, n);
    longer[n] = 0;
    spill(path, longer, n + 1);
    CHECK_EQ_INT(read_all(fx, &o, NULL, 4), COF_ERR_INTEGRITY);
    free(longer);

    /* Final segment dropped, size shortened to two full segments. */
    spill(path, orig, seg_off(2));
    o.size = 2 * SEG;
    CHECK_EQ_INT(read_segment(fx, &o, 0, 4), COF_OK);
    CHECK_EQ_INT(read_segment(fx, &o, 1, 4), COF_ERR_INTEGRITY);
    /* Or the final segment's tail cut, size shortened by as much. */
    o.size = 2 * SEG + 50;
    spill(path, orig, seg_off(2) + 50 + CRY_TAG_LEN);
    CHECK_EQ_INT(read_segment(fx, &o, 2, 4), COF_ERR_INTEGRITY);
    o.size = 2 * SEG + 100;
    spill(path, orig, n);
    CHECK_EQ_INT(read_all(fx, &o, NULL, 4), COF_OK);
    free(orig);
    object_free(&o);
}

/* Segments 0 and 1 swapped: both fail; segment 2 still reads. */
static void test_reorder(struct fixture *fx)
{
    struct sto_object o;
    char path[1024];
    put_object(fx, "reorder", 2 * SEG + 100, 5, NULL, &o);
    blob_path(fx, o.blob_id, path, sizeof(path));
    size_t n = 0;
    uint8_t *b = slurp(path, &n);
    uint8_t *tmp = malloc(CRY_SEG_STORED);
    if (tmp == NULL)
        abort();
    memcpy(tmp, b + seg_off(0), CRY_SEG_STORED);
    memcpy(b + seg_off(0), b + seg_off(1), CRY_SEG_STORED);
    memcpy(b + seg_off(1), tmp, CRY_SEG_STORED);
    spill(path, b, n);
    CHECK_EQ_INT(read_segment(fx, &o, 0, 5), COF_ERR_INTEGRITY);
    CHECK_EQ_INT(read_segment(fx, &o, 1, 5), COF_ERR_INTEGRITY);
    CHECK_EQ_INT(read_segment(fx, &o, 2, 5), COF_OK);
    free(tmp);
    free(b);
    object_free(&o);
}

/* Two objects of the same size. A segment of B at the same index in A fails; so does B's whole
 * body under A's header, and B's whole file in place of A's. */
static void test_cross_blob(struct fixture *fx)
{
    struct sto_object a, bo;
    char pa[1024], pb[1024];
    put_object(fx, "a", 2 * SEG + 100, 6, NULL, &a);
    put_object(fx, "b", 2 * SEG + 100, 6, NULL, &bo); /* same plaintext as a */
    blob_path(fx, a.blob_id, pa, sizeof(pa));
    blob_path(fx, bo.blob_id, pb, sizeof(pb));
    size_t na = 0, nb = 0;
    uint8_t *ba = slurp(pa, &na), *bb = slurp(pb, &nb);
    CHECK_EQ_INT(na, nb);
    uint8_t *mix = malloc(na);
    if (mix == NULL)
        abort();

    memcpy(mix, ba, na);
    memcpy(mix + seg_off(1), bb + seg_off(1), CRY_SEG_STORED);
    spill(pa, mix, na);
    CHECK_EQ_INT(read_segment(fx, &a, 0, 6), COF_OK);
    CHECK_EQ_INT(read_segment(fx, &a, 1, 6), COF_ERR_INTEGRITY);
    CHECK_EQ_INT(read_segment(fx, &a, 2, 6), COF_OK);

    memcpy(mix, ba, CRY_BLOB_HDR_LEN);
    memcpy(mix + CRY_BLOB_HDR_LEN, bb + CRY_BLOB_HDR_LEN, na - CRY_BLOB_HDR_LEN);
    spill(pa, mix, na);
    for (uint64_t s = 0; s < 3; s++)
        CHECK_EQ_INT(read_segment(fx, &a, s, 6), COF_ERR_INTEGRITY);

    spill(pa, bb, nb); /* B's header names B's blob id */
    CHECK_EQ_INT(read_all(fx, &a, NULL, 6), COF_ERR_INTEGRITY);

    /* A's metadata pointing at B's blob: B's DEK is wrapped for B, not A. */
    spill(pa, ba, na);
    char *keep = a.blob_id;
    a.blob_id = bo.blob_id;
    CHECK_EQ_INT(read_all(fx, &a, NULL, 6), COF_ERR_KEY);
    a.blob_id = keep;
    CHECK_EQ_INT(read_all(fx, &a, NULL, 6), COF_OK);
    free(mix);
    free(ba);
    free(bb);
    object_free(&a);
    object_free(&bo);
}

/* The key side: another keyring (root key ids are random, so it lacks this object's key) and a
 * root key id the keyring lacks are COF_ERR_KEY_ABSENT; another object's bucket, key or
 * version, and for SSE-C another customer key or none, are COF_ERR_KEY. */
static void test_keys(struct fixture *fx, const char *other_keyring)
{
    struct sto_object o;
    put_object(fx, "keys", SEG + 10, 7, NULL, &o);
    CHECK_EQ_INT(read_all(fx, &o, NULL, 7), COF_OK);

    struct fixture other;
    fixture_open(&other, fx->dir, other_keyring);
    CHECK_EQ_INT(read_all(&other, &o, NULL, 7), COF_ERR_KEY_ABSENT);
    fixture_close(&other);

    char *id = o.kek_id;
    o.kek_id = "rk-absent";
    CHECK_EQ_INT(read_all(fx, &o, NULL, 7), COF_ERR_KEY_ABSENT);
    o.kek_id = id;
    o.key = "keys2";
    CHECK_EQ_INT(read_all(fx, &o, NULL, 7), COF_ERR_KEY);
    o.key = "keys";
    o.bucket = "bkt2";
    CHECK_EQ_INT(read_all(fx, &o, NULL, 7), COF_ERR_KEY);
    o.bucket = "bkt";
    o.version_id = "v2";
    CHECK_EQ_INT(read_all(fx, &o, NULL, 7), COF_ERR_KEY);
    o.version_id = "null";
    o.wrapped_dek[5] ^= 1;
    CHECK_EQ_INT(read_all(fx, &o, NULL, 7), COF_ERR_KEY);
    o.wrapped_dek[5] ^= 1;
    CHECK_EQ_INT(read_all(fx, &o, NULL, 7), COF_OK);
    object_free(&o);

    uint8_t kb[CRY_KEY_LEN];
    struct cry_key *ck = NULL, *wrong = NULL;
    memset(kb, 0x42, sizeof(kb));
    CHECK_EQ_INT(cry_key_from_bytes(kb, sizeof(kb), &ck), COF_OK);
    kb[31] ^= 1;
    CHECK_EQ_INT(cry_key_from_bytes(kb, sizeof(kb), &wrong), COF_OK);
    struct objio_seal seal;
    objio_seal_sse_c(ck, &seal);
    put_object(fx, "ssec", 1000, 8, &seal, &o);
    struct objio_keys good = {ck, NULL, NULL}, bad = {wrong, NULL, NULL};
    CHECK_EQ_INT(read_all(fx, &o, &good, 8), COF_OK);
    CHECK_EQ_INT(objio_check_key(fx->ctx, &o, &good, "test"), COF_OK);
    CHECK_EQ_INT(read_all(fx, &o, &bad, 8), COF_ERR_KEY);
    CHECK_EQ_INT(objio_check_key(fx->ctx, &o, &bad, "test"), COF_ERR_KEY);
    CHECK_EQ_INT(read_all(fx, &o, NULL, 8), COF_ERR_KEY);
    object_free(&o);
    cry_key_free(ck);
    cry_key_free(wrong);
}

int main(void)
{
    char *dir = tmpdir_new("objio");
    char *keys = tmpdir_new("objio-keys");
    char kr1[1024], kr2[1024], data[1024];
    if (dir == NULL || keys == NULL)
        return 1;
    snprintf(kr1, sizeof(kr1), "%s/one.keyring", keys);
    snprintf(kr2, sizeof(kr2), "%s/two.keyring", keys);
    snprintf(data, sizeof(data), "%s/data", dir);

    struct fixture fx;
    fixture_open(&fx, data, kr1);
    test_round_trip(&fx);
    test_tampered_byte(&fx);
    test_truncation(&fx);
    test_reorder(&fx);
    test_cross_blob(&fx);
    test_keys(&fx, kr2);
    fixture_close(&fx);

    tmpdir_remove(dir);
    tmpdir_remove(keys);
    free(dir);
    free(keys);
    return check_finish();
}
