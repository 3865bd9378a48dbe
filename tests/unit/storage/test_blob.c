/* SPDX-License-Identifier: Apache-2.0 */
/* storage/blob: ids, write/commit/read, abort, tmp/ recovery, remove, each, file modes. */
#include "check.h"
#include "storage/blob.h"
#include "tmpdir.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static void test_ids(void)
{
    char id[STO_BLOB_ID_HEX + 1], id2[STO_BLOB_ID_HEX + 1];
    uint8_t raw[16], raw2[16], parsed[16];
    CHECK_EQ_INT(sto_blob_new_id(id, raw), COF_OK);
    CHECK_EQ_INT(strlen(id), STO_BLOB_ID_HEX);
    CHECK_EQ_INT(strspn(id, "0123456789abcdef"), STO_BLOB_ID_HEX);
    CHECK_EQ_INT(sto_blob_id_parse(id, parsed), COF_OK);
    CHECK_MEM(parsed, raw, 16);
    CHECK_EQ_INT(sto_blob_new_id(id2, raw2), COF_OK);
    CHECK(strcmp(id, id2) != 0);
    CHECK_EQ_INT(sto_blob_new_id(id2, NULL), COF_OK); /* raw is optional */

    static const uint8_t want[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                     0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    CHECK_EQ_INT(sto_blob_id_parse("00112233445566778899aabbccddeeff", parsed), COF_OK);
    CHECK_MEM(parsed, want, 16);
    CHECK_EQ_INT(sto_blob_id_parse("00112233445566778899aabbccddeeff", NULL), COF_OK);

    /* Ids are canonical lowercase: uppercase is rejected so that one id has one path. */
    static const char *const bad[] = {
        "",
        "0011223344556677",
        "00112233445566778899aabbccddeef",   /* 31 */
        "00112233445566778899aabbccddeeff0", /* 33 */
        "00112233445566778899AABBCCDDEEFF",  /* uppercase */
        "00112233445566778899aabbccddeefF",  /* one uppercase char */
        "00112233445566778899aabbccddeefg",  /* non-hex */
        "../../../../../../../../etc/pass",  /* 32 chars, a path */
        "0011223344556677 899aabbccddeeff",
        "0x112233445566778899aabbccddeeff",
        "00112233445566778899aabbccddeef\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cof_err e = sto_blob_id_parse(bad[i], parsed);
        CHECK_EQ_INT(e, COF_ERR_INVALID);
        if (e != COF_ERR_INVALID)
            fprintf(stderr, "  accepted bad id #%zu \"%s\"\n", i, bad[i]);
    }
    CHECK_EQ_INT(sto_blob_id_parse(NULL, parsed), COF_ERR_INVALID);
}

/* Writes a blob whose byte i is (i * 7 + seed) & 0xff, in uneven pieces, and commits it. */
static cof_err put_pattern(struct sto_blobs *bs, const char *id, size_t n, unsigned seed)
{
    static const size_t pieces[] = {1, 7, 65536, 3, 100000};
    struct sto_blob_writer *w = NULL;
    uint8_t *buf = malloc(n + 1);
    cof_err err = buf ? sto_blob_create(bs, id, &w) : COF_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)((i * 7 + seed) & 0xff);
    size_t off = 0;
    for (size_t k = 0; err == COF_OK && off < n; k++) {
        size_t m = pieces[k % (sizeof(pieces) / sizeof(pieces[0]))];
        if (m > n - off)
            m = n - off;
        err = sto_blob_write(w, buf + off, m);
        off += m;
    }
    if (err == COF_OK)
        err = sto_blob_commit(&w);
    sto_blob_abort(&w);
    free(buf);
    return err;
}

static bool pattern_ok(const uint8_t *p, size_t n, uint64_t off, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)(((off + i) * 7 + seed) & 0xff))
            return false;
    return true;
}

static void test_write_read(const char *dir, bool full)
{
    struct sto_blobs *bs = NULL;
    struct sto_blob_writer *w = NULL;
    struct sto_blob_reader *r = NULL;
    char id[STO_BLOB_ID_HEX + 1];
    char rel[128];
    uint8_t buf[300];
    size_t got = 0;
    const size_t size = 200003;

    CHECK_EQ_INT(sto_blobs_open(dir, full, &bs), COF_OK);
    if (bs == NULL)
        return;
    CHECK_EQ_INT(path_mode(dir, "blobs"), 0700);
    CHECK_EQ_INT(path_mode(dir, "tmp"), 0700);
    CHECK_EQ_INT(sto_blob_new_id(id, NULL), COF_OK);

    /* While being written, the body is in tmp/ and not readable as a blob. */
    CHECK_EQ_INT(sto_blob_create(bs, id, &w), COF_OK);
    CHECK_EQ_INT(sto_blob_write(w, "abc", 3), COF_OK);
    CHECK_EQ_INT(sto_blob_write(w, "", 0), COF_OK);
    snprintf(rel, sizeof(rel), "tmp/%s", id);
    CHECK_EQ_INT(path_mode(dir, rel), 0600);
    CHECK_EQ_INT(sto_blob_open(bs, id, &r), COF_ERR_NOT_FOUND);
    CHECK(r == NULL);
    /* O_EXCL: a second writer for the same id fails. */
    struct sto_blob_writer *w2 = NULL;
    CHECK_EQ_INT(sto_blob_create(bs, id, &w2), COF_ERR_IO);
    CHECK(w2 == NULL);
    sto_blob_abort(&w);
    CHECK(w == NULL);
    CHECK_EQ_INT(dir_count(dir, "tmp"), 0);

    CHECK_EQ_INT(put_pattern(bs, id, size, 5), COF_OK);
    CHECK_EQ_INT(dir_count(dir, "tmp"), 0);
    snprintf(rel, sizeof(rel), "blobs/%.2s/%.2s/%s", id, id + 2, id);
    CHECK_EQ_INT(path_mode(dir, rel), 0600);
    snprintf(rel, sizeof(rel), "blobs/%.2s/%.2s", id, id + 2);
    CHECK_EQ_INT(path_mode(dir, rel), 0700);

    CHECK_EQ_INT(sto_blob_open(bs, id, &r), COF_OK);
    if (r != NULL) {
        CHECK_EQ_INT(sto_blob_reader_size(r), size);
        static const struct {
            uint64_t off;
            size_t n, want;
        } reads[] = {
            {0, 300, 300},
            {1, 10, 10},
            {65530, 300, 300}, /* across pieces */
            {200000, 300, 3},
            {200002, 1, 1},
            {200003, 1, 0}, /* short at EOF */
            {200003, 300, 0},
            {999999999, 300, 0},
            {0, 0, 0},
            {UINT64_MAX - 5, 300, 0},
            {(uint64_t)INT64_MAX, 300, 0},
        };
        for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
            got = 12345;
            CHECK_EQ_INT(sto_blob_pread(r, buf, reads[i].n, reads[i].off, &got), COF_OK);
            CHECK_EQ_INT(got, reads[i].want);
            CHECK(pattern_ok(buf, got, reads[i].off, 5));
        }
        sto_blob_close(r);
        r = NULL;
    }
    sto_blob_close(NULL);

    /* An empty blob is a valid blob. */
    char eid[STO_BLOB_ID_HEX + 1];
    CHECK_EQ_INT(sto_blob_new_id(eid, NULL), COF_OK);
    CHECK_EQ_INT(sto_blob_create(bs, eid, &w), COF_OK);
    CHECK_EQ_INT(sto_blob_commit(&w), COF_OK);
    CHECK(w == NULL);
    CHECK_EQ_INT(sto_blob_open(bs, eid, &r), COF_OK);
    if (r != NULL) {
        CHECK_EQ_INT(sto_blob_reader_size(r), 0);
        CHECK_EQ_INT(sto_blob_pread(r, buf, sizeof(buf), 0, &got), COF_OK);
        CHECK_EQ_INT(got, 0);
        sto_blob_close(r);
        r = NULL;
    }

    /* Remove, then remove again (missing is fine); then it is gone. */
    CHECK_EQ_INT(sto_blob_remove(bs, id), COF_OK);
    CHECK_EQ_INT(sto_blob_remove(bs, id), COF_OK);
    CHECK_EQ_INT(sto_blob_open(bs, id, &r), COF_ERR_NOT_FOUND);
    CHECK_EQ_INT(sto_blob_remove(bs, eid), COF_OK);

    /* Ids are checked before they become paths. */
    CHECK_EQ_INT(sto_blob_create(bs, "../../../../../../../../etc/pass", &w), COF_ERR_INVALID);
    CHECK(w == NULL);
    CHECK_EQ_INT(sto_blob_open(bs, "ABCDEF00112233445566778899aabbcc", &r), COF_ERR_INVALID);
    CHECK_EQ_INT(sto_blob_remove(bs, "short"), COF_ERR_INVALID);

    sto_blob_abort(NULL);
    sto_blob_abort(&w);
    sto_blobs_close(bs);
    sto_blobs_close(NULL);
}

/* A writer killed mid-body leaves tmp/<id>; the next open empties tmp/ and nothing shows up. */
static void test_tmp_recovery(const char *dir)
{
    struct sto_blobs *bs = NULL;
    char id[STO_BLOB_ID_HEX + 1];
    CHECK_EQ_INT(sto_blobs_open(dir, true, &bs), COF_OK);
    if (bs == NULL)
        return;
    CHECK_EQ_INT(sto_blob_new_id(id, NULL), COF_OK);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct sto_blob_writer *w = NULL;
        if (sto_blob_create(bs, id, &w) != COF_OK || sto_blob_write(w, "partial", 7) != COF_OK)
            _exit(1);
        raise(SIGKILL); /* crash: neither commit nor abort */
        _exit(2);
    }
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK_EQ_INT(dir_count(dir, "tmp"), 1);
    sto_blobs_close(bs);

    /* More leftovers of any name. */
    CHECK_EQ_INT(write_file(dir, "tmp/garbage", "x", 1), 0);
    CHECK_EQ_INT(write_file(dir, "tmp/.hidden", "x", 1), 0);
    CHECK_EQ_INT(sto_blobs_open(dir, false, &bs), COF_OK);
    CHECK_EQ_INT(dir_count(dir, "tmp"), 0);
    struct sto_blob_reader *r = NULL;
    if (bs != NULL)
        CHECK_EQ_INT(sto_blob_open(bs, id, &r), COF_ERR_NOT_FOUND);
    sto_blobs_close(bs);
}

/* A second open store (an online fsck next to a server) must not empty tmp/ under the first. */
static void test_shared_open(const char *dir)
{
    struct sto_blobs *a = NULL, *b = NULL, *c = NULL;
    struct sto_blob_writer *wa = NULL, *wb = NULL;
    struct sto_blob_reader *r = NULL;
    char ida[STO_BLOB_ID_HEX + 1], idb[STO_BLOB_ID_HEX + 1];
    CHECK_EQ_INT(sto_blob_new_id(ida, NULL), COF_OK);
    CHECK_EQ_INT(sto_blob_new_id(idb, NULL), COF_OK);
    CHECK_EQ_INT(sto_blobs_open(dir, true, &a), COF_OK);
    if (a == NULL)
        return;
    CHECK_EQ_INT(sto_blob_create(a, ida, &wa), COF_OK);
    CHECK_EQ_INT(sto_blob_write(wa, "body-a", 6), COF_OK);
    CHECK_EQ_INT(sto_blobs_open(dir, true, &b), COF_OK);
    CHECK_EQ_INT(dir_count(dir, "tmp"), 1);
    CHECK_EQ_INT(sto_blob_commit(&wa), COF_OK);
    if (b != NULL) {
        CHECK_EQ_INT(sto_blob_open(b, ida, &r), COF_OK);
        sto_blob_close(r);
        CHECK_EQ_INT(sto_blob_create(b, idb, &wb), COF_OK);
    }
    /* The first store goes away; the second still protects its body in flight. */
    sto_blobs_close(a);
    CHECK_EQ_INT(sto_blobs_open(dir, false, &c), COF_OK);
    CHECK_EQ_INT(dir_count(dir, "tmp"), 1);
    CHECK_EQ_INT(sto_blob_write(wb, "body-b", 6), COF_OK);
    CHECK_EQ_INT(sto_blob_commit(&wb), COF_OK);
    sto_blobs_close(b);
    sto_blobs_close(c);
    /* Alone again: leftovers are removed. */
    CHECK_EQ_INT(write_file(dir, "tmp/leftover", "x", 1), 0);
    CHECK_EQ_INT(sto_blobs_open(dir, true, &a), COF_OK);
    CHECK_EQ_INT(dir_count(dir, "tmp"), 0);
    if (a != NULL) {
        CHECK_EQ_INT(sto_blob_open(a, idb, &r), COF_OK);
        sto_blob_close(r);
    }
    sto_blobs_close(a);
}

struct seen {
    char ids[16][STO_BLOB_ID_HEX + 1];
    int n;
    int stop_after; /* 0: never */
};

static cof_err collect(const char *id, void *arg)
{
    struct seen *s = arg;
    if (s->n < 16)
        memcpy(s->ids[s->n], id, STO_BLOB_ID_HEX + 1);
    s->n++;
    if (s->stop_after > 0 && s->n >= s->stop_after)
        return COF_ERR_INTERNAL;
    return COF_OK;
}

static bool seen_has(const struct seen *s, const char *id)
{
    for (int i = 0; i < s->n && i < 16; i++)
        if (strcmp(s->ids[i], id) == 0)
            return true;
    return false;
}

static void test_each(const char *dir)
{
    struct sto_blobs *bs = NULL;
    struct sto_blob_writer *w = NULL;
    char ids[3][STO_BLOB_ID_HEX + 1];
    char other[STO_BLOB_ID_HEX + 1];
    char path[256];
    struct seen s;

    CHECK_EQ_INT(sto_blobs_open(dir, true, &bs), COF_OK);
    if (bs == NULL)
        return;
    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(sto_blob_each(bs, collect, &s), COF_OK);
    CHECK_EQ_INT(s.n, 0);

    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(sto_blob_new_id(ids[i], NULL), COF_OK);
        CHECK_EQ_INT(put_pattern(bs, ids[i], (size_t)i * 1000, 1), COF_OK);
    }
    /* Two ids sharing xx/yy (same directory). */
    memcpy(other, ids[0], sizeof(other));
    other[31] = other[31] == '0' ? '1' : '0';
    CHECK_EQ_INT(put_pattern(bs, other, 10, 2), COF_OK);

    /* An uncommitted body is not a blob. */
    char pending[STO_BLOB_ID_HEX + 1];
    CHECK_EQ_INT(sto_blob_new_id(pending, NULL), COF_OK);
    CHECK_EQ_INT(sto_blob_create(bs, pending, &w), COF_OK);

    /* Strays: only names that are ids, in their own xx/yy directory, are reported. */
    snprintf(path, sizeof(path), "blobs/%.2s/%.2s/notanid", ids[0], ids[0] + 2);
    CHECK_EQ_INT(write_file(dir, path, "x", 1), 0);
    snprintf(path, sizeof(path), "blobs/%.2s/%.2s/%.30sAB", ids[0], ids[0] + 2, ids[0]);
    CHECK_EQ_INT(write_file(dir, path, "x", 1), 0);
    snprintf(path, sizeof(path), "blobs/%.2s/%.2s/%s.tmp", ids[0], ids[0] + 2, ids[1]);
    CHECK_EQ_INT(write_file(dir, path, "x", 1), 0);
    /* a valid id in the wrong directory */
    snprintf(path, sizeof(path), "blobs/%.2s/%.2s/%s", ids[0], ids[0] + 2, pending);
    if (memcmp(pending, ids[0], 4) != 0)
        CHECK_EQ_INT(write_file(dir, path, "x", 1), 0);
    /* a directory named like an id */
    snprintf(path, sizeof(path), "blobs/%.2s/%.2s/00112233445566778899aabbccddeeff", ids[0],
             ids[0] + 2);
    CHECK_EQ_INT(make_dir(dir, path), 0);
    CHECK_EQ_INT(write_file(dir, "blobs/zz", "x", 1), 0);
    CHECK_EQ_INT(make_dir(dir, "blobs/ZZ"), 0);
    CHECK_EQ_INT(make_dir(dir, "blobs/abc"), 0);
    CHECK_EQ_INT(write_file(dir, "blobs/00", "x", 1), 0);

    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(sto_blob_each(bs, collect, &s), COF_OK);
    CHECK_EQ_INT(s.n, 4);
    for (int i = 0; i < 3; i++)
        CHECK(seen_has(&s, ids[i]));
    CHECK(seen_has(&s, other));
    CHECK(!seen_has(&s, pending));

    /* The callback's code stops the walk and is returned. */
    memset(&s, 0, sizeof(s));
    s.stop_after = 2;
    CHECK_EQ_INT(sto_blob_each(bs, collect, &s), COF_ERR_INTERNAL);
    CHECK_EQ_INT(s.n, 2);

    /* fsck-style: remove everything reported, from inside the walk. */
    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(sto_blob_each(bs, collect, &s), COF_OK);
    for (int i = 0; i < s.n && i < 16; i++)
        CHECK_EQ_INT(sto_blob_remove(bs, s.ids[i]), COF_OK);
    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(sto_blob_each(bs, collect, &s), COF_OK);
    CHECK_EQ_INT(s.n, 0);

    sto_blob_abort(&w);
    sto_blobs_close(bs);
}

/* Opening creates the data dir itself; a file where the data dir should be is an I/O error. */
static void test_open_errors(const char *dir)
{
    struct sto_blobs *bs = NULL;
    char p[1024];
    snprintf(p, sizeof(p), "%s/fresh", dir);
    CHECK_EQ_INT(sto_blobs_open(p, true, &bs), COF_OK);
    CHECK(bs != NULL);
    sto_blobs_close(bs);
    CHECK_EQ_INT(path_mode(dir, "fresh"), 0700);
    CHECK_EQ_INT(write_file(dir, "afile", "x", 1), 0);
    snprintf(p, sizeof(p), "%s/afile", dir);
    bs = (struct sto_blobs *)(uintptr_t)1;
    CHECK_EQ_INT(sto_blobs_open(p, true, &bs), COF_ERR_IO);
    CHECK(bs == NULL);
    snprintf(p, sizeof(p), "%s/no/such/parent", dir);
    CHECK_EQ_INT(sto_blobs_open(p, true, &bs), COF_ERR_IO);
    CHECK(bs == NULL);
}

/* Held writers: a small blob stays in memory (no file at all) and is handed over; one that
 * outgrows its limit, or is committed, becomes an ordinary file. Readers of bytes. */
static void test_held(const char *dir)
{
    struct sto_blobs *bs = NULL;
    struct sto_blob_writer *w = NULL;
    struct sto_blob_reader *r = NULL;
    char id[STO_BLOB_ID_HEX + 1], rel[128];
    uint8_t big[5000], buf[16], *bytes = NULL;
    size_t len = 0, got = 0;
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)((i * 7 + 3) & 0xff);
    CHECK_EQ_INT(sto_blobs_open(dir, true, &bs), COF_OK);
    if (bs == NULL)
        return;

    /* Up to the limit: held, no tmp file, bytes handed over whole. */
    CHECK_EQ_INT(sto_blob_new_id(id, NULL), COF_OK);
    snprintf(rel, sizeof(rel), "tmp/%s", id);
    CHECK_EQ_INT(sto_blob_create_held(bs, "NOT-AN-ID", 100, &w), COF_ERR_INVALID);
    CHECK_EQ_INT(sto_blob_create_held(bs, id, 100, &w), COF_OK);
    CHECK_EQ_INT(sto_blob_write(w, big, 60), COF_OK);
    CHECK_EQ_INT(sto_blob_write(w, big + 60, 40), COF_OK);
    CHECK(sto_blob_is_held(w));
    CHECK_EQ_INT(path_mode(dir, rel), -1);
    sto_blob_take_held(&w, &bytes, &len);
    CHECK(w == NULL);
    CHECK(len == 100 && bytes != NULL && memcmp(bytes, big, 100) == 0);
    CHECK_EQ_INT(sto_blob_open(bs, id, &r), COF_ERR_NOT_FOUND);
    /* A reader of those bytes: bounded reads like a file's. */
    CHECK_EQ_INT(sto_blob_reader_of_bytes(bytes, len, &r), COF_OK);
    CHECK(sto_blob_reader_size(r) == 100);
    CHECK_EQ_INT(sto_blob_pread(r, buf, sizeof(buf), 90, &got), COF_OK);
    CHECK(got == 10 && memcmp(buf, big + 90, 10) == 0);
    CHECK_EQ_INT(sto_blob_pread(r, buf, sizeof(buf), 100, &got), COF_OK);
    CHECK(got == 0);
    sto_blob_close(r);
    r = NULL;

    /* One byte past the limit: spilled into tmp/<id>, committed as a file with every byte. */
    CHECK_EQ_INT(sto_blob_new_id(id, NULL), COF_OK);
    snprintf(rel, sizeof(rel), "tmp/%s", id);
    CHECK_EQ_INT(sto_blob_create_held(bs, id, 100, &w), COF_OK);
    CHECK_EQ_INT(sto_blob_write(w, big, 100), COF_OK);
    CHECK_EQ_INT(sto_blob_write(w, big + 100, 1), COF_OK);
    CHECK(!sto_blob_is_held(w));
    CHECK_EQ_INT(path_mode(dir, rel), 0600);
    CHECK_EQ_INT(sto_blob_write(w, big + 101, sizeof(big) - 101), COF_OK);
    CHECK_EQ_INT(sto_blob_commit(&w), COF_OK);
    CHECK_EQ_INT(path_mode(dir, rel), -1);
    CHECK_EQ_INT(sto_blob_open(bs, id, &r), COF_OK);
    uint8_t *back = malloc(sizeof(big));
    CHECK(back != NULL);
    if (r != NULL && back != NULL) {
        CHECK(sto_blob_reader_size(r) == sizeof(big));
        CHECK_EQ_INT(sto_blob_pread(r, back, sizeof(big), 0, &got), COF_OK);
        CHECK(got == sizeof(big) && memcmp(back, big, sizeof(big)) == 0);
    }
    sto_blob_close(r);
    r = NULL;

    /* A held blob committed (a part: always a file) is written out then; an aborted one leaves
     * nothing. */
    CHECK_EQ_INT(sto_blob_new_id(id, NULL), COF_OK);
    CHECK_EQ_INT(sto_blob_create_held(bs, id, 100, &w), COF_OK);
    CHECK_EQ_INT(sto_blob_write(w, big, 7), COF_OK);
    CHECK_EQ_INT(sto_blob_commit(&w), COF_OK);
    CHECK_EQ_INT(sto_blob_open(bs, id, &r), COF_OK);
    if (r != NULL && back != NULL) {
        CHECK(sto_blob_reader_size(r) == 7);
        CHECK_EQ_INT(sto_blob_pread(r, back, 7, 0, &got), COF_OK);
        CHECK(got == 7 && memcmp(back, big, 7) == 0);
    }
    sto_blob_close(r);
    CHECK_EQ_INT(sto_blob_new_id(id, NULL), COF_OK);
    snprintf(rel, sizeof(rel), "tmp/%s", id);
    CHECK_EQ_INT(sto_blob_create_held(bs, id, 100, &w), COF_OK);
    CHECK_EQ_INT(sto_blob_write(w, big, 7), COF_OK);
    sto_blob_abort(&w);
    CHECK(w == NULL);
    CHECK_EQ_INT(path_mode(dir, rel), -1);
    CHECK_EQ_INT(sto_blob_open(bs, id, &r), COF_ERR_NOT_FOUND);
    free(back);
    sto_blobs_close(bs);
}

int main(void)
{
    test_ids();
    static const struct {
        const char *tag;
        void (*fn)(const char *);
    } cases[] = {
        {"tmp", test_tmp_recovery}, {"shared", test_shared_open}, {"each", test_each},
        {"open", test_open_errors}, {"held", test_held},
    };
    for (int full = 0; full <= 1; full++) {
        char *dir = tmpdir_new("blob");
        CHECK(dir != NULL);
        if (dir != NULL)
            test_write_read(dir, full != 0);
        tmpdir_remove(dir);
        free(dir);
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *dir = tmpdir_new(cases[i].tag);
        CHECK(dir != NULL);
        if (dir != NULL)
            cases[i].fn(dir);
        tmpdir_remove(dir);
        free(dir);
    }
    return check_finish();
}
