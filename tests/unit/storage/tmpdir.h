/* SPDX-License-Identifier: Apache-2.0 */
/* Test helpers for storage: a private temp directory per test, removed recursively afterwards,
 * and small file-system probes. Header-only; include from one test file each. */
#ifndef TEST_STO_TMPDIR_H
#define TEST_STO_TMPDIR_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A new empty directory under $TMPDIR (or /tmp); malloc'd path, NULL on failure. */
static inline char *tmpdir_new(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    snprintf(tmpl, sizeof(tmpl), "%s/coffer-%s-XXXXXX", base, tag);
    if (mkdtemp(tmpl) == NULL) {
        perror("mkdtemp");
        return NULL;
    }
    return strdup(tmpl);
}

static inline void rm_at(int dfd, const char *name)
{
    if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
        return;
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            rm_at(fd, de->d_name);
    }
    closedir(d);
    (void)unlinkat(dfd, name, AT_REMOVEDIR);
}

/* rm -rf path. Accepts NULL. */
static inline void tmpdir_remove(const char *path)
{
    if (path != NULL)
        rm_at(AT_FDCWD, path);
}

/* Number of entries (other than . and ..) in dir/sub, or -1 if it cannot be read. */
static inline int dir_count(const char *dir, const char *sub)
{
    char p[2048];
    snprintf(p, sizeof(p), "%s/%s", dir, sub);
    DIR *d = opendir(p);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* Permission bits of dir/sub, or -1. */
static inline int path_mode(const char *dir, const char *sub)
{
    char p[2048];
    struct stat st;
    snprintf(p, sizeof(p), "%s/%s", dir, sub);
    if (stat(p, &st) != 0)
        return -1;
    return (int)(st.st_mode & 07777);
}

/* Writes n bytes to dir/sub (creating parents is the caller's job). 0 on success. */
static inline int write_file(const char *dir, const char *sub, const void *p, size_t n)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, p, n);
    close(fd);
    return w == (ssize_t)n ? 0 : -1;
}

static inline int make_dir(const char *dir, const char *sub)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

#endif
