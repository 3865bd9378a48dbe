/* SPDX-License-Identifier: Apache-2.0 */
/* Bucket versioning: Put/GetBucketVersioning and ListObjectVersions. The version ids a write
 * gets and reports are ops/versions.c's; the version rules themselves (which row a write
 * replaces or demotes) live in storage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/key.h"
#include "s3/httpfmt.h"
#include "ops/handlers.h"
#include "ops/listparams.h"
#include "ops/objlock.h"
#include "ops/versions.h"
#include "ops/req.h"
#include "s3/xml.h"
#include "storage/meta.h"

/* ---- Put/GetBucketVersioning ---- */

cof_err ops_put_bucket_versioning(struct srv_req *req)
{
    const char *status = NULL, *mfa = NULL;
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, req->route.bucket, NULL);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err != COF_OK)
        return err;
    err = srv_xml_parse_versioning(req->body.data, req->body.len, &status, &mfa);
    if (err == COF_ERR_TOO_LARGE)
        err = COF_ERR_MALFORMED_XML;
    if (err != COF_OK)
        return err;
    /* MFA delete needs an MFA device and the x-amz-mfa header; coffer has neither. */
    if (mfa != NULL && strcmp(mfa, "Enabled") == 0)
        return srv_fail_elem(req, COF_ERR_INVALID_REQUEST,
                             "MFA Delete is not supported by this server.", NULL, NULL);
    /* Object Lock keeps versioning Enabled for good (AWS). */
    struct srv_lock_config lock;
    err = ops_lock_config_get(req, req->route.bucket, &lock);
    if (err != COF_OK)
        return err;
    if (lock.enabled && status != NULL && strcmp(status, "Enabled") != 0)
        return srv_fail_elem(req, COF_ERR_INVALID_BUCKET_STATE,
                             "An Object Lock configuration is present on this bucket, so the "
                             "versioning state cannot be changed.",
                             "BucketName", req->route.bucket);
    if (status != NULL) {
        /* Suspending a never-versioned bucket records the state (AWS reports Suspended). */
        err = sto_meta_set_bucket_config(req->ctx->obj.meta, req->route.bucket,
                                         OPS_VERSIONING_CONFIG, status);
        if (err == COF_ERR_NO_BUCKET)
            return ops_no_bucket(req);
        if (err != COF_OK)
            return err;
    }
    return srv_reply(req, 200, NULL, "", 0);
}

cof_err ops_get_bucket_versioning(struct srv_req *req)
{
    struct srv_xml *x = NULL;
    enum ops_versioning st = OPS_UNVERSIONED;
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, req->route.bucket, NULL);
    if (err == COF_ERR_NO_BUCKET)
        return ops_no_bucket(req);
    if (err == COF_OK)
        err = ops_versioning_get(req, req->route.bucket, &st);
    if (err == COF_OK)
        err = srv_xml_new("VersioningConfiguration", &x);
    if (err != COF_OK)
        return err;
    /* A bucket that was never versioned has no Status element (AWS). */
    if (st != OPS_UNVERSIONED)
        srv_xml_elem(x, "Status", st == OPS_VERSIONING_ENABLED ? "Enabled" : "Suspended");
    return ops_reply_doc(req, x);
}

/* ---- ListObjectVersions ---- */

struct ver_entry {
    char *key;
    char *version_id;
    char *etag;
    uint64_t size;
    int64_t mtime_ms;
    bool latest;
    bool marker;
};

struct ver_page {
    const char *prefix;
    const char *delim;
    const char *key_marker;
    size_t max;
    size_t count; /* entries + common prefixes */
    bool truncated;
    struct ver_entry *v;
    size_t n;
    char **prefixes;
    size_t n_prefixes;
    char *last_prefix; /* the common prefix being rolled up, to skip its other rows */
    char *next_key;    /* NextKeyMarker / NextVersionIdMarker of a truncated page */
    char *next_vid;
    bool url;
    cof_err err;
};

static cof_err ver_full(struct ver_page *pg)
{
    pg->truncated = true;
    return COF_ERR_NOT_FOUND; /* stop the walk */
}

static cof_err ver_row(const struct sto_object *o, void *arg)
{
    struct ver_page *pg = arg;
    size_t plen = strlen(pg->prefix);
    if (pg->delim != NULL) {
        const char *d = strstr(o->key + plen, pg->delim);
        if (d != NULL) {
            size_t cplen = (size_t)(d - o->key) + strlen(pg->delim);
            if (pg->last_prefix != NULL && strlen(pg->last_prefix) == cplen &&
                strncmp(pg->last_prefix, o->key, cplen) == 0)
                return COF_OK; /* another version under the same common prefix */
            /* A prefix returned by the previous page (its NextKeyMarker) is not repeated. */
            if (pg->key_marker != NULL && strncmp(o->key, pg->key_marker, cplen) <= 0 &&
                strlen(pg->key_marker) >= cplen)
                return COF_OK;
            if (pg->count == pg->max)
                return ver_full(pg);
            char *cp = strndup(o->key, cplen);
            if (cp == NULL)
                return pg->err = COF_ERR_NOMEM;
            free(pg->last_prefix);
            pg->last_prefix = cp;
            pg->prefixes[pg->n_prefixes] = strdup(cp);
            if (pg->prefixes[pg->n_prefixes] == NULL)
                return pg->err = COF_ERR_NOMEM;
            pg->n_prefixes++;
            pg->count++;
            free(pg->next_key);
            free(pg->next_vid);
            pg->next_key = strdup(cp);
            pg->next_vid = NULL;
            return pg->next_key != NULL ? COF_OK : (pg->err = COF_ERR_NOMEM);
        }
    }
    if (pg->count == pg->max)
        return ver_full(pg);
    struct ver_entry *e = &pg->v[pg->n++];
    e->key = strdup(o->key);
    e->version_id = strdup(o->version_id != NULL ? o->version_id : "null");
    e->etag = o->etag != NULL ? strdup(o->etag) : NULL;
    e->size = o->size;
    e->mtime_ms = o->mtime_ms;
    e->latest = o->is_latest;
    e->marker = o->delete_marker;
    pg->count++;
    free(pg->next_key);
    free(pg->next_vid);
    pg->next_key = strdup(o->key);
    pg->next_vid = strdup(e->version_id != NULL ? e->version_id : "null");
    if (e->key == NULL || e->version_id == NULL || (o->etag != NULL && e->etag == NULL) ||
        pg->next_key == NULL || pg->next_vid == NULL)
        return pg->err = COF_ERR_NOMEM;
    return COF_OK;
}

static void ver_page_cleanup(struct ver_page *pg)
{
    for (size_t i = 0; i < pg->n; i++) {
        free(pg->v[i].key);
        free(pg->v[i].version_id);
        free(pg->v[i].etag);
    }
    for (size_t i = 0; i < pg->n_prefixes; i++)
        free(pg->prefixes[i]);
    free(pg->v);
    free(pg->prefixes);
    free(pg->last_prefix);
    free(pg->next_key);
    free(pg->next_vid);
}

static void elem_key(const struct ver_page *pg, struct srv_xml *x, const char *name,
                     const char *value)
{
    (void)ops_xml_key(x, name, value, pg->url);
}

static void write_owner(struct srv_xml *x)
{
    srv_xml_open(x, "Owner");
    srv_xml_elem(x, "ID", SRV_OWNER_ID);
    srv_xml_elem(x, "DisplayName", SRV_OWNER_NAME);
    srv_xml_close(x);
}

static void write_version(const struct ver_page *pg, struct srv_xml *x, const struct ver_entry *e)
{
    char iso[32], etag[80];
    srv_iso8601_format(e->mtime_ms, iso);
    srv_xml_open(x, e->marker ? "DeleteMarker" : "Version");
    elem_key(pg, x, "Key", e->key);
    srv_xml_elem(x, "VersionId", e->version_id);
    srv_xml_elem(x, "IsLatest", e->latest ? "true" : "false");
    srv_xml_elem(x, "LastModified", iso);
    if (!e->marker) {
        snprintf(etag, sizeof(etag), "\"%s\"", e->etag != NULL ? e->etag : "");
        srv_xml_elem(x, "ETag", etag);
        srv_xml_elem_u64(x, "Size", e->size);
        srv_xml_elem(x, "StorageClass", "STANDARD");
    }
    write_owner(x);
    srv_xml_close(x);
}

cof_err ops_list_object_versions(struct srv_req *req)
{
    const struct srv_query *q = &req->query;
    struct ver_page pg;
    struct srv_xml *x = NULL;
    memset(&pg, 0, sizeof(pg));
    struct ops_list_params lp;
    cof_err err = ops_list_params(req, &lp);
    if (err != COF_OK)
        return err;
    pg.max = lp.max;
    pg.url = lp.url;
    pg.prefix = lp.prefix;
    pg.delim = lp.delim;
    const char *key_marker = srv_query_get(q, "key-marker");
    const char *vid_marker = srv_query_get(q, "version-id-marker");
    if (key_marker != NULL && key_marker[0] == '\0')
        key_marker = NULL;
    if (vid_marker != NULL && vid_marker[0] == '\0')
        vid_marker = NULL;
    /* AWS: a version-id-marker needs a key-marker, and must be a version id. */
    if (vid_marker != NULL && key_marker == NULL)
        return srv_fail_arg(req, COF_ERR_INVALID_ARGUMENT,
                            "A version-id marker cannot be specified without a key marker.",
                            "version-id-marker", vid_marker);
    if (vid_marker != NULL && !ops_version_id_valid(vid_marker))
        return srv_fail_arg(req, COF_ERR_INVALID_ARGUMENT, "Invalid version id specified",
                            "version-id-marker", vid_marker);
    pg.key_marker = key_marker;
    pg.v = calloc(pg.max + 1, sizeof(*pg.v));
    pg.prefixes = calloc(pg.max + 1, sizeof(*pg.prefixes));
    if (pg.v == NULL || pg.prefixes == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    err = sto_meta_list_versions(req->ctx->obj.meta, req->route.bucket, pg.prefix, key_marker,
                                 vid_marker, ver_row, &pg);
    if (err == COF_OK)
        err = pg.err;
    if (err == COF_ERR_NO_BUCKET) {
        err = ops_no_bucket(req);
        goto out;
    }
    if (err == COF_OK)
        err = srv_xml_new("ListVersionsResult", &x);
    if (err != COF_OK)
        goto out;
    srv_xml_elem(x, "Name", req->route.bucket);
    elem_key(&pg, x, "Prefix", pg.prefix);
    elem_key(&pg, x, "KeyMarker", key_marker != NULL ? key_marker : "");
    srv_xml_elem(x, "VersionIdMarker", vid_marker != NULL ? vid_marker : "");
    if (pg.truncated && pg.next_key != NULL) {
        elem_key(&pg, x, "NextKeyMarker", pg.next_key);
        if (pg.next_vid != NULL)
            srv_xml_elem(x, "NextVersionIdMarker", pg.next_vid);
    }
    srv_xml_elem_u64(x, "MaxKeys", pg.max);
    if (pg.delim != NULL)
        elem_key(&pg, x, "Delimiter", pg.delim);
    if (pg.url)
        srv_xml_elem(x, "EncodingType", "url");
    srv_xml_elem(x, "IsTruncated", pg.truncated ? "true" : "false");
    for (size_t i = 0; i < pg.n; i++)
        write_version(&pg, x, &pg.v[i]);
    for (size_t i = 0; i < pg.n_prefixes; i++) {
        srv_xml_open(x, "CommonPrefixes");
        elem_key(&pg, x, "Prefix", pg.prefixes[i]);
        srv_xml_close(x);
    }
    err = ops_reply_doc(req, x);
out:
    ver_page_cleanup(&pg);
    return err;
}
