/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for what coffer parses from an upstream blob store: the input is tried as a
 * ListObjectsV2 page and as a ListMultipartUploads page (upstream/s3client.c), once with a
 * callback that takes every entry and once with one that stops the walk at the second. The
 * store is not trusted with coffer's memory: keys and ids handed out are C strings, a
 * continuation token or marker comes only with a truncated page and is never empty, a failed
 * or stopped walk hands out none, and the callback's own code comes back. Aborts on a
 * violation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/s3client.h"

#include "fuzz.h"

struct walk {
    size_t n;
    size_t stop_at; /* SIZE_MAX: never */
    size_t cap;     /* no string handed out can be longer than the input */
};

static cof_err on_key(const char *key, int64_t mtime, void *arg)
{
    struct walk *w = arg;
    (void)mtime;
    REQUIRE(key != NULL && strlen(key) <= w->cap);
    return w->n++ == w->stop_at ? COF_ERR_INTERNAL : COF_OK;
}

static cof_err on_upload(const char *key, const char *id, int64_t initiated, void *arg)
{
    struct walk *w = arg;
    (void)initiated;
    REQUIRE(key != NULL && strlen(key) <= w->cap);
    REQUIRE(id != NULL && id[0] != '\0' && strlen(id) <= w->cap);
    return w->n++ == w->stop_at ? COF_ERR_INTERNAL : COF_OK;
}

static void list_page(const char *body, size_t size, size_t stop_at)
{
    struct walk w = {0, stop_at, size};
    char *next = (char *)1; /* must be overwritten */
    cof_err err = up_s3_parse_list_page(body, size, on_key, &w, &next);
    REQUIRE(next != (char *)1);
    if (err != COF_OK)
        REQUIRE(next == NULL);
    if (next != NULL)
        REQUIRE(next[0] != '\0' && strlen(next) <= size);
    if (w.n > stop_at)
        REQUIRE(err == COF_ERR_INTERNAL);
    free(next);
}

static void uploads_page(const char *body, size_t size, size_t stop_at)
{
    struct walk w = {0, stop_at, size};
    char *next_key = (char *)1, *next_upload = (char *)1;
    cof_err err = up_s3_parse_uploads_page(body, size, on_upload, &w, &next_key, &next_upload);
    REQUIRE(next_key != (char *)1 && next_upload != (char *)1);
    if (err != COF_OK)
        REQUIRE(next_key == NULL && next_upload == NULL);
    if (next_key != NULL)
        REQUIRE(next_key[0] != '\0' && strlen(next_key) <= size);
    if (next_upload != NULL)
        REQUIRE(strlen(next_upload) <= size);
    if (w.n > stop_at)
        REQUIRE(err == COF_ERR_INTERNAL);
    free(next_key);
    free(next_upload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    list_page(body, size, SIZE_MAX);
    list_page(body, size, 1);
    uploads_page(body, size, SIZE_MAX);
    uploads_page(body, size, 1);
    return 0;
}
