/* SPDX-License-Identifier: Apache-2.0 */
#include "object/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/log.h"
#include "crypto/aead.h"
#include "crypto/envelope.h"
#include "crypto/key.h"
#include "object/rootkeys.h"

#define MAGIC      "CBK1"
#define WRAP_KEY   "coffer-backup-v1"
#define ID_MAX     255
#define PREFIX_MAX (4 + 1 + ID_MAX + 8 + CRY_BLOB_ID_LEN + CRY_WRAPPED_LEN + CRY_BLOB_HDR_LEN)

/* The wrap context: bound to the plaintext size and the header's blob id. */
static void wrap_ctx(uint64_t size, const uint8_t id[CRY_BLOB_ID_LEN], char version[24],
                     struct cry_wrap_ctx *out)
{
    snprintf(version, 24, "%" PRIu64, size);
    *out = (struct cry_wrap_ctx){
        .mode = CRY_MODE_SSE_S3,
        .bucket = "",
        .key = WRAP_KEY,
        .version_id = version,
        .blob_id = id,
        .enc_context = NULL,
    };
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Reads exactly n bytes (short only at end of file: then COF_ERR_INTEGRITY). */
static cof_err read_full(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;
    if (cof_read_upto(fd, p, n, &got) != 0)
        return COF_ERR_IO;
    return got == n ? COF_OK : COF_ERR_INTEGRITY;
}

/* Frees what sealing or opening a backup holds: the plaintext buffer wiped first. */
static void crypt_state_free(uint8_t *pt, uint8_t *ct, struct cry_aead *aead, struct cry_key *dek)
{
    if (pt != NULL)
        cry_wipe(pt, CRY_SEG_SIZE);
    free(pt);
    free(ct);
    cry_aead_free(aead);
    cry_key_free(dek);
}

cof_err obj_backup_seal(struct srv_rootkeys *kr, const char *in_path, obj_sink_fn sink, void *arg)
{
    const char *kek_id = NULL;
    const struct cry_key *kek = srv_rootkeys_active(kr, &kek_id);
    if (kek == NULL || kek_id == NULL || strlen(kek_id) > ID_MAX)
        return COF_ERR_KEY_ABSENT;
    int fd = open(in_path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        cof_log_error(NULL, "backup: cannot read %s: %s", in_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return COF_ERR_IO;
    }
    uint64_t size = (uint64_t)st.st_size;
    struct cry_key *dek = NULL;
    struct cry_aead *aead = NULL;
    struct cry_blob_hdr hdr;
    uint8_t id[CRY_BLOB_ID_LEN];
    uint8_t prefix[PREFIX_MAX];
    uint8_t *pt = malloc(CRY_SEG_SIZE), *ct = malloc(CRY_SEG_STORED);
    char version[24];
    struct cry_wrap_ctx wc;
    size_t il = strlen(kek_id), pl = 0;
    cof_err err = pt != NULL && ct != NULL ? COF_OK : COF_ERR_NOMEM;
    if (err == COF_OK)
        err = cry_random(id, sizeof(id));
    if (err == COF_OK)
        err = cry_key_new_random(&dek);
    if (err == COF_OK)
        err = cry_blob_hdr_new(id, &hdr);
    if (err == COF_OK)
        err = cry_aead_new(dek, &hdr, &aead);
    if (err == COF_OK) {
        memcpy(prefix, MAGIC, 4);
        prefix[4] = (uint8_t)il;
        memcpy(prefix + 5, kek_id, il);
        put_u64(prefix + 5 + il, size);
        memcpy(prefix + 5 + il + 8, id, sizeof(id));
        pl = 5 + il + 8 + sizeof(id);
        wrap_ctx(size, id, version, &wc);
        err = cry_env_wrap(kek, &wc, dek, prefix + pl);
        pl += CRY_WRAPPED_LEN;
        cry_blob_hdr_encode(&hdr, prefix + pl);
        pl += CRY_BLOB_HDR_LEN;
    }
    if (err == COF_OK)
        err = sink(arg, prefix, pl);
    uint64_t n_segs = cry_seg_count(size);
    for (uint64_t i = 0; err == COF_OK && i < n_segs; i++) {
        bool final = i + 1 == n_segs;
        size_t n = final ? (size_t)(size - i * CRY_SEG_SIZE) : CRY_SEG_SIZE;
        err = read_full(fd, pt, n);
        if (err == COF_ERR_INTEGRITY) /* the file shrank while read: not a snapshot */
            err = COF_ERR_IO;
        if (err == COF_OK)
            err = cry_aead_seal(aead, i, final, pt, n, ct);
        if (err == COF_OK)
            err = sink(arg, ct, n + CRY_TAG_LEN);
    }
    crypt_state_free(pt, ct, aead, dek);
    close(fd);
    return err;
}

/* Reads exactly n bytes from src; fewer is a damaged (cut) backup. */
static cof_err src_full(obj_source_fn src, void *arg, uint8_t *p, size_t n)
{
    size_t got = 0;
    cof_err err = n > 0 ? src(arg, p, n, &got) : COF_OK;
    if (err == COF_OK && got != n)
        err = COF_ERR_INTEGRITY;
    return err;
}

static cof_err write_all(int fd, const uint8_t *p, size_t n)
{
    return cof_write_all(fd, p, n) == 0 ? COF_OK : COF_ERR_IO;
}

cof_err obj_backup_open(struct srv_rootkeys *kr, obj_source_fn src, void *arg, const char *out_path)
{
    uint8_t head[5], idbuf[ID_MAX + 1], sz[8], id[CRY_BLOB_ID_LEN], wrapped[CRY_WRAPPED_LEN],
        hb[CRY_BLOB_HDR_LEN];
    cof_err err = src_full(src, arg, head, sizeof(head));
    if (err == COF_OK && memcmp(head, MAGIC, 4) != 0)
        err = COF_ERR_INTEGRITY;
    size_t il = head[4];
    if (err == COF_OK)
        err = src_full(src, arg, idbuf, il);
    idbuf[err == COF_OK ? il : 0] = '\0';
    if (err == COF_OK)
        err = src_full(src, arg, sz, sizeof(sz));
    if (err == COF_OK)
        err = src_full(src, arg, id, sizeof(id));
    if (err == COF_OK)
        err = src_full(src, arg, wrapped, sizeof(wrapped));
    if (err == COF_OK)
        err = src_full(src, arg, hb, sizeof(hb));
    if (err != COF_OK) {
        cof_log_error(NULL, "restore: not a coffer backup, or cut short");
        return err;
    }
    const struct cry_key *kek = srv_rootkeys_find(kr, (const char *)idbuf);
    if (kek == NULL) {
        cof_log_error(NULL,
                      "restore: the backup is sealed under root key '%s', which the keyring "
                      "lacks",
                      (const char *)idbuf);
        return COF_ERR_KEY_ABSENT;
    }
    uint64_t size = get_u64(sz);
    struct cry_blob_hdr hdr;
    struct cry_key *dek = NULL;
    struct cry_aead *aead = NULL;
    struct cry_wrap_ctx wc;
    char version[24];
    /* The wrap, the header and every segment are bound to the random id. */
    err = cry_blob_hdr_decode(hb, sizeof(hb), id, &hdr);
    if (err == COF_OK) {
        wrap_ctx(size, id, version, &wc);
        err = cry_env_unwrap(kek, &wc, wrapped, sizeof(wrapped), &dek);
        if (err != COF_OK)
            cof_log_error(NULL,
                          "restore: the backup's data key does not unwrap under root key "
                          "'%s' (damaged, or another key under that id)",
                          (const char *)idbuf);
    }
    if (err == COF_OK)
        err = cry_aead_new(dek, &hdr, &aead);
    int fd = -1;
    if (err == COF_OK) {
        fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            cof_log_error(NULL, "restore: cannot create %s: %s", out_path, strerror(errno));
            err = COF_ERR_IO;
        }
    }
    uint8_t *ct = malloc(CRY_SEG_STORED), *pt = malloc(CRY_SEG_SIZE);
    if (err == COF_OK && (ct == NULL || pt == NULL))
        err = COF_ERR_NOMEM;
    uint64_t n_segs = cry_seg_count(size);
    for (uint64_t i = 0; err == COF_OK && i < n_segs; i++) {
        bool final = i + 1 == n_segs;
        size_t n = final ? (size_t)(size - i * CRY_SEG_SIZE) : CRY_SEG_SIZE;
        err = src_full(src, arg, ct, n + CRY_TAG_LEN);
        if (err == COF_OK)
            err = cry_aead_open(aead, i, final, ct, n + CRY_TAG_LEN, pt);
        if (err == COF_OK)
            err = write_all(fd, pt, n);
        if (err == COF_ERR_INTEGRITY || err == COF_ERR_KEY)
            cof_log_error(NULL, "restore: segment %" PRIu64 " of the backup is damaged", i);
    }
    if (err == COF_OK) {
        /* Nothing may follow the final segment. */
        uint8_t extra;
        size_t got = 0;
        err = src(arg, &extra, 1, &got);
        if (err == COF_OK && got != 0) {
            cof_log_error(NULL, "restore: bytes after the backup's final segment");
            err = COF_ERR_INTEGRITY;
        }
    }
    if (err == COF_OK && fsync(fd) != 0)
        err = COF_ERR_IO;
    if (fd >= 0 && close(fd) != 0 && err == COF_OK)
        err = COF_ERR_IO;
    if (err != COF_OK && fd >= 0)
        (void)unlink(out_path);
    crypt_state_free(pt, ct, aead, dek);
    return err;
}
