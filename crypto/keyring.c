/* SPDX-License-Identifier: Apache-2.0 */
/* The root keyring file (format in keyring.h): strict parse, create-once with O_EXCL, no-clobber
 * publish. Wipes every buffer that held key text; logs paths and ids, never key bytes. */
#include "crypto/keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/fdio.h"
#include "common/hex.h"
#include "common/log.h"

#define KR_HEADER  "coffer-root-keyring v1"
#define KR_HEX_LEN (2 * CRY_KEY_LEN)
/* One line is at most 32 + 1 + 64 + 1 bytes; this allows thousands of rotations. */
#define KR_MAX_FILE (1u << 20)

struct kr_entry {
    char id[CRY_KEY_ID_MAX + 1];
    struct cry_key *key;
};

struct cry_keyring {
    size_t n;
    struct kr_entry *e; /* e[n - 1] is active */
};

void cry_keyring_free(struct cry_keyring *kr)
{
    if (kr == NULL)
        return;
    for (size_t i = 0; i < kr->n; i++)
        cry_key_free(kr->e[i].key);
    free(kr->e);
    free(kr);
}

const struct cry_key *cry_keyring_active(const struct cry_keyring *kr, const char **out_id)
{
    if (kr == NULL || kr->n == 0)
        COF_BUG("cry_keyring_active: empty keyring");
    if (out_id != NULL)
        *out_id = kr->e[kr->n - 1].id;
    return kr->e[kr->n - 1].key;
}

const struct cry_key *cry_keyring_find(const struct cry_keyring *kr, const char *id)
{
    if (kr == NULL || id == NULL)
        COF_BUG("cry_keyring_find: NULL argument");
    for (size_t i = 0; i < kr->n; i++)
        if (strcmp(kr->e[i].id, id) == 0)
            return kr->e[i].key;
    return NULL;
}

static int id_char_ok(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* Parses "<id> <64 hex>" (without its newline) into e. Returns 0 if malformed. */
static int parse_line(const char *s, size_t len, struct kr_entry *e)
{
    uint8_t raw[CRY_KEY_LEN];
    size_t id_len = 0;
    int ok = 0;

    while (id_len < len && s[id_len] != ' ') {
        if (!id_char_ok(s[id_len]))
            goto out;
        id_len++;
    }
    if (id_len == 0 || id_len > CRY_KEY_ID_MAX || len != id_len + 1 + KR_HEX_LEN)
        goto out;
    /* Any case: the file may have been written by hand. */
    if (cof_hex_decode(s + id_len + 1, KR_HEX_LEN, COF_HEX_ANY_CASE, raw, sizeof(raw)) != COF_OK)
        goto out;
    if (cry_key_from_bytes(raw, sizeof(raw), &e->key) != COF_OK)
        goto out;
    memcpy(e->id, s, id_len);
    e->id[id_len] = '\0';
    ok = 1;
out:
    OPENSSL_cleanse(raw, sizeof(raw));
    return ok;
}

/* Builds a keyring from the file text. COF_ERR_CONFIG (logged) if anything is malformed. */
static cof_err parse(const char *path, const char *text, size_t len, struct cry_keyring **out)
{
    struct cry_keyring *kr = NULL;
    const char *p = text;
    const char *end = text + len;
    size_t lines = 0;
    size_t lineno = 1;
    cof_err err = COF_OK;

    *out = NULL;
    /* Every line, the last included, ends in '\n'; a final line without one is accepted. */
    for (const char *q = text; q < end; q++)
        lines += *q == '\n';
    if (len > 0 && text[len - 1] != '\n')
        lines++;
    if (len == 0 || memchr(text, '\0', len) != NULL) {
        cof_log_error(NULL, "keyring %s: empty or binary file", path);
        err = COF_ERR_CONFIG;
        goto out;
    }
    kr = calloc(1, sizeof(*kr));
    if (kr == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    /* At most one entry per line after the header. */
    if (lines > 1) {
        kr->e = calloc(lines - 1, sizeof(*kr->e));
        if (kr->e == NULL) {
            err = COF_ERR_NOMEM;
            goto out;
        }
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ll = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

        if (lineno == 1) {
            if (ll != sizeof(KR_HEADER) - 1 || memcmp(p, KR_HEADER, ll) != 0) {
                cof_log_error(NULL, "keyring %s: first line is not \"%s\"", path, KR_HEADER);
                err = COF_ERR_CONFIG;
                goto out;
            }
        } else {
            struct kr_entry *e = &kr->e[kr->n];
            if (!parse_line(p, ll, e)) {
                /* The line may hold key hex: report its number only. */
                cof_log_error(NULL, "keyring %s: line %zu is not \"<id> <64 hex digits>\"", path,
                              lineno);
                err = COF_ERR_CONFIG;
                goto out;
            }
            kr->n++;
            for (size_t i = 0; i + 1 < kr->n; i++) {
                if (strcmp(kr->e[i].id, e->id) == 0) {
                    cof_log_error(NULL, "keyring %s: duplicate key id \"%s\" on line %zu", path,
                                  e->id, lineno);
                    err = COF_ERR_CONFIG;
                    goto out;
                }
            }
        }
        p += ll + (nl != NULL);
        lineno++;
    }
    if (kr->n == 0) {
        cof_log_error(NULL, "keyring %s: no keys", path);
        err = COF_ERR_CONFIG;
        goto out;
    }
    *out = kr;
    kr = NULL;
out:
    cry_keyring_free(kr);
    return err;
}

/* Reads the whole file into a malloc'd buffer (caller wipes and frees). Warns if group or other
 * have any access. COF_ERR_NOT_FOUND if missing (not logged: the caller decides). */
static cof_err read_file(const char *path, char **out, size_t *out_len)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    int fd = -1;
    cof_err err = COF_OK;

    *out = NULL;
    *out_len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return COF_ERR_NOT_FOUND;
        cof_log_error(NULL, "keyring %s: open: %s", path, strerror(errno));
        return COF_ERR_IO;
    }
    if (fstat(fd, &st) != 0) {
        cof_log_error(NULL, "keyring %s: fstat: %s", path, strerror(errno));
        err = COF_ERR_IO;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        cof_log_error(NULL, "keyring %s: not a regular file", path);
        err = COF_ERR_CONFIG;
        goto out;
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        cof_log_warn(NULL, "keyring %s: mode %04o gives group/other access; use chmod 600", path,
                     (unsigned)(st.st_mode & 07777));
    if (st.st_size < 0 || (uintmax_t)st.st_size > KR_MAX_FILE) {
        cof_log_error(NULL, "keyring %s: larger than %u bytes", path, KR_MAX_FILE);
        err = COF_ERR_CONFIG;
        goto out;
    }
    /* Read up to the cap plus one byte, so a file that grows meanwhile is still caught. */
    buf = malloc(KR_MAX_FILE + 1);
    if (buf == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, buf + len, KR_MAX_FILE + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            cof_log_error(NULL, "keyring %s: read: %s", path, strerror(errno));
            err = COF_ERR_IO;
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > KR_MAX_FILE) {
            cof_log_error(NULL, "keyring %s: larger than %u bytes", path, KR_MAX_FILE);
            err = COF_ERR_CONFIG;
            goto out;
        }
    }
    *out = buf;
    *out_len = len;
    buf = NULL;
out:
    if (buf != NULL) {
        OPENSSL_cleanse(buf, KR_MAX_FILE + 1);
        free(buf);
    }
    if (fd >= 0)
        close(fd);
    return err;
}

/* fsyncs the directory holding path, so that a rename or link in it is durable. */
static int sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    int fd = -1;
    int rc = -1;
    int saved;

    if (slash == NULL)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (dir == NULL)
        return -1;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && fsync(fd) == 0)
        rc = 0;
    saved = errno;
    if (fd >= 0)
        close(fd);
    free(dir);
    errno = saved; /* for the caller's message */
    return rc;
}

/* Writes a new keyring holding one fresh key under a fresh id: <path>.tmp (O_EXCL, 0600), fsync,
 * then publish under path. Publishing uses link() rather than rename() so that two processes racing
 * to create the file cannot replace each other's key: the loser sees EEXIST, drops its own file
 * and loads the winner's (returns COF_OK either way). */
static cof_err create_file(const char *path)
{
    char id[CRY_KEY_ID_MAX + 1];
    char text[sizeof(KR_HEADER) + CRY_KEY_ID_MAX + 1 + KR_HEX_LEN + 2];
    struct cry_key *k = NULL;
    char *tmp = NULL;
    size_t plen = strlen(path);
    size_t n;
    int fd = -1;
    int tmp_made = 0;
    cof_err err = COF_OK;

    tmp = malloc(plen + sizeof(".tmp"));
    if (tmp == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", sizeof(".tmp"));

    err = cry_key_new_random(&k);
    if (err == COF_OK)
        err = cry_keyring_new_id(id);
    if (err != COF_OK)
        goto out;
    n = (size_t)snprintf(text, sizeof(text), "%s\n%s ", KR_HEADER, id);
    cof_hex_encode(cry_key_bytes(k), CRY_KEY_LEN, text + n); /* text has room for its NUL */
    n += KR_HEX_LEN;
    text[n++] = '\n';

    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            cof_log_error(NULL,
                          "keyring %s exists (another start in progress, or a crash during "
                          "creation): check that no keyring is lost, then remove it",
                          tmp);
        else
            cof_log_error(NULL, "keyring %s: create: %s", tmp, strerror(errno));
        err = COF_ERR_IO;
        goto out;
    }
    tmp_made = 1;
    if (cof_write_all(fd, text, n) != 0 || fsync(fd) != 0) {
        cof_log_error(NULL, "keyring %s: write: %s", tmp, strerror(errno));
        err = COF_ERR_IO;
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        cof_log_error(NULL, "keyring %s: close: %s", tmp, strerror(errno));
        err = COF_ERR_IO;
        goto out;
    }
    fd = -1;
    if (link(tmp, path) != 0) {
        if (errno == EEXIST) {
            cof_log_info(NULL, "keyring %s was created concurrently; using it", path);
        } else if (errno == EPERM || errno == EOPNOTSUPP || errno == ENOSYS) {
            /* File system without hard links: fall back to rename. */
            if (rename(tmp, path) != 0) {
                cof_log_error(NULL, "keyring %s: rename: %s", path, strerror(errno));
                err = COF_ERR_IO;
                goto out;
            }
            tmp_made = 0;
        } else {
            cof_log_error(NULL, "keyring %s: link: %s", path, strerror(errno));
            err = COF_ERR_IO;
            goto out;
        }
    }
    if (tmp_made && unlink(tmp) == 0)
        tmp_made = 0;
    if (sync_parent(path) != 0) {
        cof_log_error(NULL, "keyring %s: fsync of directory: %s", path, strerror(errno));
        err = COF_ERR_IO;
        goto out;
    }
    cof_log_info(NULL, "keyring %s: created with new root key \"%s\"", path, id);
out:
    if (fd >= 0)
        close(fd);
    if (tmp_made)
        unlink(tmp);
    OPENSSL_cleanse(text, sizeof(text));
    cry_key_free(k);
    free(tmp);
    return err;
}

cof_err cry_keyring_load(const char *path, bool create, struct cry_keyring **out)
{
    char *text = NULL;
    size_t len = 0;
    cof_err err;

    if (path == NULL || out == NULL)
        COF_BUG("cry_keyring_load: NULL argument");
    *out = NULL;
    err = read_file(path, &text, &len);
    if (err == COF_ERR_NOT_FOUND && create) {
        err = create_file(path);
        /* Read back what is now on disk: ours, or a concurrent creator's. */
        if (err == COF_OK)
            err = read_file(path, &text, &len);
    }
    if (err == COF_ERR_NOT_FOUND)
        cof_log_error(NULL, "keyring %s: no such file", path);
    if (err == COF_OK)
        err = parse(path, text, len, out);
    if (text != NULL) {
        OPENSSL_cleanse(text, KR_MAX_FILE + 1);
        free(text);
    }
    return err;
}

size_t cry_keyring_count(const struct cry_keyring *kr)
{
    return kr->n;
}

const char *cry_keyring_id(const struct cry_keyring *kr, size_t i)
{
    if (i >= kr->n)
        COF_BUG("cry_keyring_id: index out of range");
    return kr->e[i].id;
}

/* Writes the keys of kr except skip_id (NULL: none), plus extra (may be NULL) as extra_id, to
 * <path>.new, then renames it over path. */
static cof_err rewrite(const char *path, const struct cry_keyring *kr, const char *skip_id,
                       const struct cry_key *extra, const char *extra_id)
{
    size_t cap = sizeof(KR_HEADER) + 1 + (kr->n + 1) * (CRY_KEY_ID_MAX + KR_HEX_LEN + 3);
    char *text = malloc(cap);
    char *tmp = malloc(strlen(path) + sizeof(".new"));
    size_t n = 0;
    int fd = -1;
    cof_err err = COF_OK;
    if (text == NULL || tmp == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    snprintf(tmp, strlen(path) + sizeof(".new"), "%s.new", path);
    n = (size_t)snprintf(text, cap, "%s\n", KR_HEADER);
    for (size_t i = 0; i <= kr->n; i++) {
        const char *id = i < kr->n ? kr->e[i].id : extra_id;
        const struct cry_key *k = i < kr->n ? kr->e[i].key : extra;
        if (k == NULL || (skip_id != NULL && strcmp(id, skip_id) == 0))
            continue;
        n += (size_t)snprintf(text + n, cap - n, "%s ", id);
        cof_hex_encode(cry_key_bytes(k), CRY_KEY_LEN, text + n); /* its NUL: overwritten */
        n += KR_HEX_LEN;
        text[n++] = '\n';
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || cof_write_all(fd, text, n) != 0 || fsync(fd) != 0 || close(fd) != 0) {
        cof_log_error(NULL, "keyring %s: write: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        err = COF_ERR_IO;
        goto out;
    }
    if (rename(tmp, path) != 0) {
        cof_log_error(NULL, "keyring %s: rename %s over it: %s", path, tmp, strerror(errno));
        unlink(tmp);
        err = COF_ERR_IO;
    } else if (sync_parent(path) != 0) {
        cof_log_error(NULL, "keyring %s: fsync of directory: %s", path, strerror(errno));
        err = COF_ERR_IO;
    }
out:
    if (text != NULL)
        OPENSSL_cleanse(text, cap);
    free(text);
    free(tmp);
    return err;
}

cof_err cry_keyring_new_id(char out[CRY_KEY_ID_MAX + 1])
{
    uint8_t r[8];
    uint64_t v = 0;
    cof_err err = cry_random(r, sizeof(r));
    if (err != COF_OK)
        return err;
    for (size_t i = 0; i < sizeof(r); i++)
        v = v << 8 | r[i];
    snprintf(out, CRY_KEY_ID_MAX + 1, "rk-%016" PRIx64, v);
    return COF_OK;
}

cof_err cry_keyring_add_key(const char *path, const char *id, const struct cry_key *key)
{
    struct cry_keyring *kr = NULL;
    if (id == NULL || key == NULL || strlen(id) > CRY_KEY_ID_MAX)
        COF_BUG("cry_keyring_add_key: bad id or NULL key");
    for (const char *p = id; *p != '\0'; p++)
        if (!id_char_ok(*p))
            COF_BUG("cry_keyring_add_key: bad id");
    cof_err err = cry_keyring_load(path, false, &kr);
    if (err != COF_OK)
        return err;
    if (cry_keyring_find(kr, id) != NULL)
        err = COF_ERR_EXISTS;
    else
        err = rewrite(path, kr, NULL, key, id);
    if (err == COF_OK)
        cof_log_info(NULL, "keyring %s: new active root key \"%s\"", path, id);
    cry_keyring_free(kr);
    return err;
}

cof_err cry_keyring_remove_key(const char *path, const char *id)
{
    struct cry_keyring *kr = NULL;
    cof_err err = cry_keyring_load(path, false, &kr);
    if (err != COF_OK)
        return err;
    if (cry_keyring_find(kr, id) == NULL)
        err = COF_ERR_NOT_FOUND;
    else if (strcmp(kr->e[kr->n - 1].id, id) == 0)
        err = COF_ERR_INVALID;
    else
        err = rewrite(path, kr, id, NULL, NULL);
    cry_keyring_free(kr);
    return err;
}
