/* SPDX-License-Identifier: Apache-2.0 */
/* crypto/keyring: create (0600, no leftover tmp, a fresh random id), reload gives the same
 * active key, strict parsing (a table of malformed files, never overwritten by create=true),
 * multi-key files, missing files, adding a key, and key check values. Each test works in its own
 * mkdtemp directory. */
#include "check.h"
#include "crypto/envelope.h"
#include "crypto/keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define HDR   "coffer-root-keyring v1\n"
#define HEX_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX_B "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define HEX_C "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"

static char dir[256];

static void path_in(char *out, size_t cap, const char *name)
{
    if ((size_t)snprintf(out, cap, "%s/%s", dir, name) >= cap)
        abort();
}

static void write_file(const char *path, const char *data, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0 || write(fd, data, n) != (ssize_t)n || fchmod(fd, mode) != 0 || close(fd) != 0)
        abort();
}

static size_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    ssize_t r = fd >= 0 ? read(fd, buf, cap) : -1;
    if (fd >= 0)
        close(fd);
    return r < 0 ? 0 : (size_t)r;
}

/* A key id made here: "rk-" and 16 lowercase hex digits. */
static int fresh_id(const char *id)
{
    if (strlen(id) != 19 || strncmp(id, "rk-", 3) != 0)
        return 0;
    for (size_t i = 3; i < 19; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return 0;
    return 1;
}

/* True if a DEK wrapped under a's active key unwraps under b's active key. */
static int same_active(const struct cry_keyring *a, const struct cry_keyring *b)
{
    static const uint8_t id[CRY_BLOB_ID_LEN] = {1};
    const struct cry_wrap_ctx c = {CRY_MODE_SSE_S3, "b", "k", "null", id, NULL};
    uint8_t w[CRY_WRAPPED_LEN];
    struct cry_key *dek = NULL, *back = NULL;
    int ok;

    if (cry_key_new_random(&dek) != COF_OK ||
        cry_env_wrap(cry_keyring_active(a, NULL), &c, dek, w) != COF_OK)
        abort();
    ok = cry_env_unwrap(cry_keyring_active(b, NULL), &c, w, sizeof(w), &back) == COF_OK &&
         memcmp(cry_key_bytes(back), cry_key_bytes(dek), CRY_KEY_LEN) == 0;
    cry_key_free(dek);
    cry_key_free(back);
    return ok;
}

static int key_is(const struct cry_key *k, const char *hex)
{
    for (size_t i = 0; k != NULL && i < CRY_KEY_LEN; i++) {
        unsigned v = 0;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1 || cry_key_bytes(k)[i] != v)
            return 0;
    }
    return k != NULL;
}

static void test_create_and_reload(void)
{
    char path[512], tmp[512];
    struct cry_keyring *kr = NULL, *kr2 = NULL, *kr3 = NULL, *other = NULL;
    struct stat st;
    const char *id = NULL;
    char text[256];

    path_in(path, sizeof(path), "root.keyring");
    path_in(tmp, sizeof(tmp), "root.keyring.tmp");
    CHECK_EQ_INT(cry_keyring_load(path, false, &kr), COF_ERR_NOT_FOUND);
    CHECK(kr == NULL);
    CHECK(stat(path, &st) != 0 && errno == ENOENT); /* create=false creates nothing */

    CHECK_EQ_INT(cry_keyring_load(path, true, &kr), COF_OK);
    CHECK(kr != NULL);
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 07777, 0600);
    CHECK(stat(tmp, &st) != 0 && errno == ENOENT);
    CHECK(cry_keyring_active(kr, &id) != NULL);
    CHECK(id != NULL && fresh_id(id));
    CHECK(cry_keyring_find(kr, id) == cry_keyring_active(kr, NULL));
    CHECK(cry_keyring_find(kr, "rk1") == NULL);
    CHECK_EQ_INT(cry_keyring_count(kr), 1);
    size_t n = read_small(path, text, sizeof(text));
    CHECK_EQ_INT(n, strlen(HDR) + 19 + 1 + 64 + 1);
    CHECK(n > strlen(HDR) + 20 && memcmp(text, HDR, strlen(HDR)) == 0 &&
          memcmp(text + strlen(HDR), id, 19) == 0 && text[strlen(HDR) + 19] == ' ');

    /* Reload both ways: same key, and create=true does not replace an existing file. */
    CHECK_EQ_INT(cry_keyring_load(path, false, &kr2), COF_OK);
    CHECK_EQ_INT(cry_keyring_load(path, true, &kr3), COF_OK);
    CHECK(kr2 != NULL && same_active(kr, kr2));
    CHECK(kr3 != NULL && same_active(kr3, kr));

    /* A different keyring has a different key. */
    char path2[512];
    path_in(path2, sizeof(path2), "other.keyring");
    CHECK_EQ_INT(cry_keyring_load(path2, true, &other), COF_OK);
    CHECK(other != NULL && !same_active(kr, other));
    /* ... and a different id: two keyrings never both have a key "rk1". */
    const char *other_id = NULL;
    if (other != NULL) {
        (void)cry_keyring_active(other, &other_id);
        CHECK(fresh_id(other_id) && strcmp(other_id, id) != 0);
    }
    cry_keyring_free(kr);
    cry_keyring_free(kr2);
    cry_keyring_free(kr3);
    cry_keyring_free(other);
    cry_keyring_free(NULL);
    unlink(path);
    unlink(path2);
}

/* A leftover <path>.tmp (crash or concurrent start) stops creation; it is not deleted. */
static void test_stale_tmp(void)
{
    char path[512], tmp[512];
    struct cry_keyring *kr = NULL;
    struct stat st;

    path_in(path, sizeof(path), "stale.keyring");
    path_in(tmp, sizeof(tmp), "stale.keyring.tmp");
    write_file(tmp, "x", 1, 0600);
    CHECK_EQ_INT(cry_keyring_load(path, true, &kr), COF_ERR_IO);
    CHECK(kr == NULL);
    CHECK(stat(tmp, &st) == 0 && st.st_size == 1);
    CHECK(stat(path, &st) != 0);
    unlink(tmp);
}

static void test_malformed(void)
{
    static const struct {
        const char *what;
        const char *text;
        size_t len; /* 0: strlen(text) */
    } v[] = {
        {"empty", "", 0},
        {"header only", HDR, 0},
        {"header without newline", "coffer-root-keyring v1", 0},
        {"bad header", "coffer-root-keyring v2\nrk1 " HEX_A "\n", 0},
        {"header with CR", "coffer-root-keyring v1\r\nrk1 " HEX_A "\n", 0},
        {"no header", "rk1 " HEX_A "\n", 0},
        {"bad hex",
         HDR "rk1 "
             "0g0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
         0},
        {"short key",
         HDR "rk1 "
             "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e\n",
         0},
        {"long key", HDR "rk1 " HEX_A "20\n", 0},
        {"odd hex", HDR "rk1 " HEX_A "2\n", 0},
        {"bad id char", HDR "rk!1 " HEX_A "\n", 0},
        {"bad id dot", HDR "rk.1 " HEX_A "\n", 0},
        {"empty id", HDR " " HEX_A "\n", 0},
        {"id too long", HDR "abcdefghijklmnopqrstuvwxyz0123456 " HEX_A "\n", 0},
        {"no separator", HDR "rk1" HEX_A "\n", 0},
        {"two spaces", HDR "rk1  " HEX_A "\n", 0},
        {"tab", HDR "rk1\t" HEX_A "\n", 0},
        {"trailing space", HDR "rk1 " HEX_A " \n", 0},
        {"duplicate id", HDR "rk1 " HEX_A "\nrk1 " HEX_B "\n", 0},
        {"blank line", HDR "rk1 " HEX_A "\n\nrk2 " HEX_B "\n", 0},
        {"trailing blank line", HDR "rk1 " HEX_A "\n\n", 0},
        {"CRLF key line", HDR "rk1 " HEX_A "\r\n", 0},
        {"NUL byte", HDR "rk1 " HEX_A "\n\0", sizeof(HDR "rk1 " HEX_A "\n\0") - 1},
        {"good then bad", HDR "rk1 " HEX_A "\nrk2 zz\n", 0},
    };
    char path[512], back[512];
    path_in(path, sizeof(path), "bad.keyring");
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t len = v[i].len != 0 ? v[i].len : strlen(v[i].text);
        write_file(path, v[i].text, len, 0600);
        for (int create = 0; create < 2; create++) {
            struct cry_keyring *kr = NULL;
            cof_err err = cry_keyring_load(path, create != 0, &kr);
            if (err != COF_ERR_CONFIG)
                fprintf(stderr, "case: %s (create=%d)\n", v[i].what, create);
            CHECK_EQ_INT(err, COF_ERR_CONFIG);
            CHECK(kr == NULL);
            cry_keyring_free(kr);
        }
        /* create=true never replaces a file it could not parse. */
        CHECK_EQ_INT(read_small(path, back, sizeof(back)), len);
        CHECK_MEM(back, v[i].text, len);
    }
    unlink(path);
    /* Not a regular file. */
    struct cry_keyring *kr = NULL;
    CHECK_EQ_INT(cry_keyring_load(dir, false, &kr), COF_ERR_CONFIG);
    CHECK(kr == NULL);
}

static void test_valid_variants(void)
{
    static const struct {
        const char *what;
        const char *text;
        const char *active_id;
        const char *active_hex;
    } v[] = {
        {"one key", HDR "rk1 " HEX_A "\n", "rk1", HEX_A},
        {"no final newline", HDR "rk1 " HEX_A, "rk1", HEX_A},
        {"upper-case hex",
         HDR "K "
             "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F\n",
         "K", HEX_A},
        {"32-char id", HDR "abcdefghijklmnopqrstuvwxyz012345 " HEX_B "\n",
         "abcdefghijklmnopqrstuvwxyz012345", HEX_B},
        {"id charset", HDR "A-z_9 " HEX_C "\n", "A-z_9", HEX_C},
    };
    char path[512];
    path_in(path, sizeof(path), "ok.keyring");
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct cry_keyring *kr = NULL;
        const char *id = NULL;
        write_file(path, v[i].text, strlen(v[i].text), 0600);
        cof_err err = cry_keyring_load(path, false, &kr);
        if (err != COF_OK)
            fprintf(stderr, "case: %s\n", v[i].what);
        CHECK_EQ_INT(err, COF_OK);
        if (kr == NULL)
            continue;
        CHECK(key_is(cry_keyring_active(kr, &id), v[i].active_hex));
        CHECK_EQ_STR(id, v[i].active_id);
        cry_keyring_free(kr);
    }
    unlink(path);
}

static void test_multi_key(void)
{
    char path[512];
    struct cry_keyring *kr = NULL;
    const char *id = NULL;

    path_in(path, sizeof(path), "multi.keyring");
    /* Group/other-readable: loads, with a warning on stderr. */
    write_file(path, HDR "old-1 " HEX_A "\nold_2 " HEX_B "\nrk3 " HEX_C "\n",
               strlen(HDR "old-1 " HEX_A "\nold_2 " HEX_B "\nrk3 " HEX_C "\n"), 0644);
    CHECK_EQ_INT(cry_keyring_load(path, true, &kr), COF_OK);
    if (kr != NULL) {
        CHECK(key_is(cry_keyring_active(kr, &id), HEX_C));
        CHECK_EQ_STR(id, "rk3");
        CHECK(key_is(cry_keyring_find(kr, "old-1"), HEX_A));
        CHECK(key_is(cry_keyring_find(kr, "old_2"), HEX_B));
        CHECK(cry_keyring_find(kr, "rk3") == cry_keyring_active(kr, NULL));
        CHECK(cry_keyring_find(kr, "old") == NULL);
        CHECK(cry_keyring_find(kr, "") == NULL);
        CHECK(cry_keyring_find(kr, "RK3") == NULL);
    }
    cry_keyring_free(kr);
    unlink(path);
}

/* cry_keyring_add_key: the key added is active and found by its id; the older keys stay; an id
 * already in the file is refused and changes nothing. */
static void test_add_key(void)
{
    char path[512], id[CRY_KEY_ID_MAX + 1], id2[CRY_KEY_ID_MAX + 1];
    struct cry_keyring *kr = NULL;
    struct cry_key *k = NULL, *k2 = NULL;
    const char *active = NULL;

    path_in(path, sizeof(path), "add.keyring");
    write_file(path, HDR "rk1 " HEX_A "\n", strlen(HDR "rk1 " HEX_A "\n"), 0600);
    CHECK_EQ_INT(cry_keyring_new_id(id), COF_OK);
    CHECK_EQ_INT(cry_keyring_new_id(id2), COF_OK);
    CHECK(fresh_id(id) && fresh_id(id2) && strcmp(id, id2) != 0);
    CHECK_EQ_INT(cry_key_new_random(&k), COF_OK);
    CHECK_EQ_INT(cry_key_new_random(&k2), COF_OK);
    CHECK_EQ_INT(cry_keyring_add_key(path, id, k), COF_OK);
    CHECK_EQ_INT(cry_keyring_add_key(path, id, k2), COF_ERR_EXISTS);
    CHECK_EQ_INT(cry_keyring_add_key(path, "rk1", k2), COF_ERR_EXISTS);
    CHECK_EQ_INT(cry_keyring_load(path, false, &kr), COF_OK);
    if (kr != NULL) {
        CHECK_EQ_INT(cry_keyring_count(kr), 2);
        CHECK(cry_keyring_active(kr, &active) != NULL);
        CHECK_EQ_STR(active, id);
        CHECK(memcmp(cry_key_bytes(cry_keyring_active(kr, NULL)), cry_key_bytes(k), CRY_KEY_LEN) ==
              0);
        CHECK(key_is(cry_keyring_find(kr, "rk1"), HEX_A));
        CHECK_EQ_STR(cry_keyring_id(kr, 0), "rk1");
    }
    cry_keyring_free(kr);
    cry_key_free(k);
    cry_key_free(k2);
    unlink(path);
}

/* Key check values: a known answer (HMAC-SHA256(key, "coffer key check value"), first 8 bytes,
 * computed independently), equal for equal keys, different for different keys. */
static void test_check_value(void)
{
    static const struct {
        const char *key_hex;
        const uint8_t kcv[CRY_KCV_LEN];
    } v[] = {
        {HEX_A, {0x02, 0x76, 0x81, 0xe8, 0x37, 0x67, 0x8f, 0xaf}},
        {HEX_B, {0x27, 0x4d, 0xc0, 0xdb, 0x15, 0x8d, 0x94, 0x37}},
    };
    uint8_t got[CRY_KCV_LEN], again[CRY_KCV_LEN];
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t raw[CRY_KEY_LEN];
        struct cry_key *k = NULL;
        for (size_t j = 0; j < CRY_KEY_LEN; j++) {
            unsigned b = 0;
            if (sscanf(v[i].key_hex + 2 * j, "%2x", &b) != 1)
                abort();
            raw[j] = (uint8_t)b;
        }
        CHECK_EQ_INT(cry_key_from_bytes(raw, sizeof(raw), &k), COF_OK);
        CHECK_EQ_INT(cry_key_check_value(k, got), COF_OK);
        CHECK(memcmp(got, v[i].kcv, CRY_KCV_LEN) == 0);
        CHECK_EQ_INT(cry_key_check_value(k, again), COF_OK);
        CHECK(memcmp(got, again, CRY_KCV_LEN) == 0);
        cry_key_free(k);
    }
    CHECK(memcmp(v[0].kcv, v[1].kcv, CRY_KCV_LEN) != 0);

    /* Fresh random keys: distinct check values. */
    struct cry_key *a = NULL, *b = NULL;
    CHECK_EQ_INT(cry_key_new_random(&a), COF_OK);
    CHECK_EQ_INT(cry_key_new_random(&b), COF_OK);
    CHECK_EQ_INT(cry_key_check_value(a, got), COF_OK);
    CHECK_EQ_INT(cry_key_check_value(b, again), COF_OK);
    CHECK(memcmp(got, again, CRY_KCV_LEN) != 0);
    cry_key_free(a);
    cry_key_free(b);
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    if ((size_t)snprintf(dir, sizeof(dir), "%s/coffer-kr-XXXXXX", t != NULL && *t ? t : "/tmp") >=
            sizeof(dir) ||
        mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_create_and_reload();
    test_stale_tmp();
    test_malformed();
    test_valid_variants();
    test_multi_key();
    test_add_key();
    test_check_value();
    if (rmdir(dir) != 0)
        perror("rmdir");
    return check_finish();
}
