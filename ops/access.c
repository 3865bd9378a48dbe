/* SPDX-License-Identifier: Apache-2.0 */
/* A bucket's access settings (object ownership, public access block, ACL), object ACLs, the ACL a
 * request asks for, and what ACLs grant a request. Shared by the ACL, ownership and public
 * access block operations, the write paths and bucket-policy enforcement (ops/authz.c). */
#include "ops/access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/log.h"
#include "ops/bucketcfg.h"
#include "storage/meta.h"

/* ---- bucket settings -------------------------------------------------------------------- */

/* The bucket config document name into *out (NULL when absent). COF_ERR_NO_BUCKET. */
static cof_err config_of(struct srv_req *req, const char *bucket, const char *name, char **out)
{
    *out = NULL;
    cof_err err = sto_meta_get_bucket_config(req->ctx->obj.meta, bucket, name, out);
    if (err == COF_ERR_NOT_FOUND) {
        /* A missing bucket also has no config: tell the two apart. */
        return sto_meta_get_bucket(req->ctx->obj.meta, bucket, NULL);
    }
    return err;
}

cof_err ops_bucket_ownership(struct srv_req *req, const char *bucket, enum srv_ownership *out,
                             bool *out_set)
{
    char *doc = NULL;
    cof_err err = config_of(req, bucket, OPS_OWNERSHIP_CONFIG, &doc);
    bool set = false;
    *out = SRV_OWN_ENFORCED;
    if (err == COF_OK && doc != NULL) {
        set = srv_ownership_parse(doc, out);
        if (!set)
            *out = SRV_OWN_WRITER; /* deleted: ACLs as before 2023 */
    }
    if (out_set != NULL)
        *out_set = set;
    free(doc);
    return err;
}

cof_err ops_bucket_pab(struct srv_req *req, const char *bucket, struct srv_pab *out,
                       bool *out_exists, bool *out_enforced)
{
    char *doc = NULL;
    bool exists = false, enforced = false;
    memset(out, 0, sizeof(*out));
    cof_err err = config_of(req, bucket, OPS_PAB_CONFIG, &doc);
    if (err == COF_OK && doc == NULL) {
        *out = (struct srv_pab){true, true, true, true};
        exists = true;
        enforced = req->ctx->cfg->profile == SRV_PROFILE_AWS;
    } else if (err == COF_OK && strcmp(doc, OPS_CONFIG_DELETED) != 0) {
        exists = enforced = true;
        if (srv_pab_parse_xml(doc, strlen(doc), out) != COF_OK) {
            cof_log_error(req->rid, "stored public access block of %s does not parse", bucket);
            err = COF_ERR_INTERNAL;
        }
    }
    free(doc);
    if (out_exists != NULL)
        *out_exists = exists;
    if (out_enforced != NULL)
        *out_enforced = enforced;
    return err;
}

/* The canonical id of the bucket's owner into id. COF_ERR_NO_BUCKET. */
static cof_err owner_id_of(struct srv_req *req, const char *bucket, char id[65], const char **name)
{
    char account[13];
    const char *dn = NULL;
    cof_err err = ops_bucket_owner(req, bucket, account);
    if (err == COF_OK)
        ops_canonical_user(account, id, name != NULL ? name : &dn);
    return err;
}

static void owner_only(struct srv_acl *acl, const char *owner)
{
    memset(acl, 0, sizeof(*acl));
    snprintf(acl->owner, sizeof(acl->owner), "%s", owner);
    acl->n = 1;
    acl->g[0].kind = SRV_GRANTEE_USER;
    acl->g[0].perm = SRV_ACL_FULL_CONTROL;
    snprintf(acl->g[0].value, sizeof(acl->g[0].value), "%s", owner);
}

cof_err ops_bucket_acl(struct srv_req *req, const char *bucket, struct srv_acl *out)
{
    char id[65];
    char *doc = NULL;
    cof_err err = owner_id_of(req, bucket, id, NULL);
    if (err == COF_OK)
        err = config_of(req, bucket, OPS_ACL_CONFIG, &doc);
    if (err != COF_OK)
        return err;
    if (doc == NULL) {
        owner_only(out, id);
    } else if (srv_acl_decode(doc, out) != COF_OK) {
        cof_log_error(req->rid, "stored ACL of %s does not decode", bucket);
        err = COF_ERR_INTERNAL;
    }
    free(doc);
    return err;
}

cof_err ops_object_acl(struct srv_req *req, const char *owner_id, const char *headers,
                       struct srv_acl *out)
{
    /* The line is at most one owner and 100 grants of ~140 bytes. */
    static const char pfx[] = OPS_ACL_LINE ":";
    const char *p = headers != NULL ? headers : "";
    while (*p != '\0' && strncmp(p, pfx, sizeof(pfx) - 1) != 0) {
        const char *nl = strchr(p, '\n');
        p = nl != NULL ? nl + 1 : p + strlen(p);
    }
    if (*p == '\0') {
        owner_only(out, owner_id);
        return COF_OK;
    }
    p += sizeof(pfx) - 1;
    char *line = strndup(p, strcspn(p, "\n"));
    if (line == NULL)
        return COF_ERR_NOMEM;
    cof_err err = srv_acl_decode(line, out);
    free(line);
    if (err != COF_OK) {
        cof_log_error(req->rid, "stored object ACL does not decode");
        return COF_ERR_INTERNAL;
    }
    return COF_OK;
}

/* ---- the ACL a request asks for --------------------------------------------------------- */

/* Whether the request carries x-amz-acl or an x-amz-grant-* header. */
static bool acl_headers_sent(struct srv_req *req)
{
    bool sent = srv_req_header(req, "x-amz-acl") != NULL;
    for (size_t i = 0; i < 5 && !sent; i++)
        sent = srv_req_header(req, srv_acl_grant_headers[i]) != NULL;
    return sent;
}

cof_err ops_acl_from_headers(struct srv_req *req, enum srv_acl_scope scope, const char *owner_id,
                             const char *bucket_owner_id, struct srv_acl *out, bool *out_present)
{
    struct srv_problem prob;
    const char *canned = srv_req_header(req, "x-amz-acl");
    *out_present = acl_headers_sent(req);
    bool grants = *out_present && canned == NULL;
    if (canned != NULL) {
        for (size_t i = 0; i < 5 && !grants; i++)
            grants = srv_req_header(req, srv_acl_grant_headers[i]) != NULL;
    }
    if (canned != NULL && grants)
        return srv_fail(req, COF_ERR_INVALID_REQUEST,
                        "Specifying both Canned ACLs and Header Grants is not allowed");
    if (canned != NULL) {
        cof_err err = srv_acl_canned(canned, scope, owner_id, bucket_owner_id, out, &prob);
        return err == COF_OK ? COF_OK : srv_fail_problem(req, &prob);
    }
    memset(out, 0, sizeof(*out));
    snprintf(out->owner, sizeof(out->owner), "%s", owner_id);
    for (size_t i = 0; grants && i < 5; i++) {
        const char *v = srv_req_header(req, srv_acl_grant_headers[i]);
        if (v == NULL)
            continue;
        cof_err err = srv_acl_add_grant_header(out, i, v, &prob);
        if (err != COF_OK)
            return srv_fail_problem(req, &prob);
    }
    return COF_OK;
}

cof_err ops_acl_settable(struct srv_req *req, const char *bucket, const struct srv_acl *acl)
{
    enum srv_ownership own;
    struct srv_pab pab;
    bool enforced = false;
    cof_err err = ops_bucket_ownership(req, bucket, &own, NULL);
    if (err == COF_OK && own == SRV_OWN_ENFORCED && !srv_acl_is_owner_only(acl))
        return srv_fail(req, COF_ERR_ACL_NOT_SUPPORTED, NULL);
    if (err == COF_OK)
        err = ops_bucket_pab(req, bucket, &pab, NULL, &enforced);
    if (err == COF_OK && enforced && pab.block_acls && srv_acl_is_public(acl)) {
        cof_log_info(req->rid, "public ACL refused on %s: BlockPublicAcls", bucket);
        return srv_fail(req, COF_ERR_ACCESS_DENIED, NULL);
    }
    if (err == COF_ERR_NO_BUCKET)
        return srv_fail_elem(req, err, NULL, "BucketName", bucket);
    return err;
}

/* Who owns an object the request writes (S3 Object Ownership): the bucket owner while ACLs are
 * disabled, under BucketOwnerPreferred when the writer grants bucket-owner-full-control, and for
 * an anonymous writer; otherwise the writer's account. */
static void object_owner(struct srv_req *req, enum srv_ownership own, const char *bucket_owner,
                         char out[65])
{
    const char *canned = srv_req_header(req, "x-amz-acl");
    const char *name = NULL;
    char account[13];
    bool to_bucket_owner = canned != NULL && strcmp(canned, "bucket-owner-full-control") == 0;
    if (own == SRV_OWN_ENFORCED || req->anonymous ||
        (own == SRV_OWN_PREFERRED && to_bucket_owner)) {
        snprintf(out, 65, "%s", bucket_owner);
        return;
    }
    ops_request_account(req, account);
    ops_canonical_user(account, out, &name);
}

cof_err ops_acl_for_write(struct srv_req *req, const char *bucket, char **out_line)
{
    char id[65], writer[65];
    enum srv_ownership own;
    bool present = false;
    *out_line = NULL;
    cof_err err = owner_id_of(req, bucket, id, NULL);
    if (err == COF_OK)
        err = ops_bucket_ownership(req, bucket, &own, NULL);
    if (err == COF_ERR_NO_BUCKET)
        err = srv_fail_elem(req, err, NULL, "BucketName", bucket);
    if (err != COF_OK)
        return err;
    object_owner(req, own, id, writer);
    /* Most writes: no ACL header, and the bucket owner owns the object. That is the default
     * ACL, stored as nothing; no ACL (100 grants' worth of memory) needs building. */
    if (!acl_headers_sent(req) && strcmp(writer, id) == 0)
        return COF_OK;
    struct srv_acl *acl = calloc(1, sizeof(*acl));
    if (acl == NULL)
        return COF_ERR_NOMEM;
    err = ops_acl_from_headers(req, SRV_ACL_OBJECT, writer, id, acl, &present);
    if (err == COF_OK && present)
        err = ops_acl_settable(req, bucket, acl);
    if (err == COF_OK && !present)
        owner_only(acl, writer);
    /* The bucket owner's FULL_CONTROL alone is the default: nothing to store. */
    if (err == COF_OK && !(srv_acl_is_owner_only(acl) && strcmp(acl->owner, id) == 0))
        err = srv_acl_encode(acl, out_line);
    free(acl);
    return err;
}

cof_err ops_set_acl_line(char **block, const char *line)
{
    static const char pfx[] = OPS_ACL_LINE ":";
    const char *p = *block != NULL ? *block : "";
    struct cof_buf b;
    char *out = NULL;
    cof_buf_init(&b, strlen(p) + (line != NULL ? strlen(line) : 0) + sizeof(pfx) + 2);
    cof_err err = COF_OK;
    while (err == COF_OK && *p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
        if (strncmp(p, pfx, sizeof(pfx) - 1) != 0) {
            err = cof_buf_append(&b, p, len);
            if (err == COF_OK && nl == NULL)
                err = cof_buf_append(&b, "\n", 1);
        }
        p += len;
    }
    if (err == COF_OK && line != NULL)
        err = cof_buf_printf(&b, "%s%s\n", pfx, line);
    if (err == COF_OK && b.len == 0) {
        out = strdup("");
        err = out != NULL ? COF_OK : COF_ERR_NOMEM;
    } else if (err == COF_OK) {
        err = cof_buf_steal(&b, &out);
    }
    cof_buf_cleanup(&b);
    if (err == COF_OK) {
        free(*block);
        *block = out;
    }
    return err;
}

/* ---- CreateBucket ----------------------------------------------------------------------- */

cof_err ops_bucket_access_plan(struct srv_req *req, struct ops_bucket_access *out)
{
    char id[65];
    const char *name = NULL;
    char account[13];
    bool present = false;
    memset(out, 0, sizeof(*out));
    const char *own = srv_req_header(req, "x-amz-object-ownership");
    if (own != NULL) {
        if (!srv_ownership_parse(own, &out->ownership)) {
            char msg[300];
            snprintf(msg, sizeof(msg), "Invalid x-amz-object-ownership header: %.200s", own);
            return srv_fail_arg(req, COF_ERR_INVALID_ARGUMENT, msg, "x-amz-object-ownership", own);
        }
        out->ownership_set = true;
    }
    struct srv_acl *acl = calloc(1, sizeof(*acl));
    if (acl == NULL)
        return COF_ERR_NOMEM;
    /* The bucket does not exist yet: its owner will be the caller's account. */
    ops_request_account(req, account);
    ops_canonical_user(account, id, &name);
    cof_err err = ops_acl_from_headers(req, SRV_ACL_BUCKET, id, id, acl, &present);
    bool enforced = !out->ownership_set || out->ownership == SRV_OWN_ENFORCED;
    if (err == COF_OK && present && enforced && !srv_acl_is_owner_only(acl))
        err = srv_fail(req, COF_ERR_ACL_OWNERSHIP, NULL);
    if (err == COF_OK && present && !srv_acl_is_owner_only(acl))
        err = srv_acl_encode(acl, &out->acl_line);
    free(acl);
    return err;
}

cof_err ops_bucket_access_store(struct srv_req *req, const struct ops_bucket_access *a)
{
    struct sto_meta *m = req->ctx->obj.meta;
    const char *bucket = req->route.bucket;
    cof_err err = COF_OK;
    if (a->ownership_set)
        err = sto_meta_set_bucket_config(m, bucket, OPS_OWNERSHIP_CONFIG,
                                         srv_ownership_name(a->ownership));
    if (err == COF_OK && a->acl_line != NULL)
        err = sto_meta_set_bucket_config(m, bucket, OPS_ACL_CONFIG, a->acl_line);
    return err;
}

void ops_bucket_access_cleanup(struct ops_bucket_access *a)
{
    if (a == NULL)
        return;
    free(a->acl_line);
    a->acl_line = NULL;
}

/* ---- what ACLs grant -------------------------------------------------------------------- */

/* The ACL permission an IAM action needs, and whether the object's ACL (rather than the
 * bucket's) holds it. 0: ACLs do not grant the action. */
static unsigned perm_for(const char *action, bool *on_object)
{
    static const struct {
        const char *action;
        unsigned perm;
        bool object;
    } map[] = {
        {"s3:ListBucket", SRV_ACL_READ, false},
        {"s3:ListBucketVersions", SRV_ACL_READ, false},
        {"s3:ListBucketMultipartUploads", SRV_ACL_READ, false},
        {"s3:PutObject", SRV_ACL_WRITE, false},
        {"s3:DeleteObject", SRV_ACL_WRITE, false},
        {"s3:DeleteObjectVersion", SRV_ACL_WRITE, false},
        {"s3:GetBucketAcl", SRV_ACL_READ_ACP, false},
        {"s3:PutBucketAcl", SRV_ACL_WRITE_ACP, false},
        {"s3:GetObject", SRV_ACL_READ, true},
        {"s3:GetObjectVersion", SRV_ACL_READ, true},
        {"s3:GetObjectAcl", SRV_ACL_READ_ACP, true},
        {"s3:GetObjectVersionAcl", SRV_ACL_READ_ACP, true},
        {"s3:PutObjectAcl", SRV_ACL_WRITE_ACP, true},
        {"s3:PutObjectVersionAcl", SRV_ACL_WRITE_ACP, true},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(map[i].action, action) == 0) {
            *on_object = map[i].object;
            return map[i].perm;
        }
    }
    return 0;
}

/* The ACL of the object the request names (its versionId, else the current version). false
 * when there is none (the operation then answers NoSuchKey to whoever may ask). */
static bool object_acl_of(struct srv_req *req, const char *bucket, const char *key,
                          const char *owner_id, struct srv_acl *out)
{
    struct sto_object o;
    memset(&o, 0, sizeof(o));
    const char *vid = srv_query_get(&req->query, "versionId");
    bool ok = sto_meta_get_version(req->ctx->obj.meta, bucket, key, vid, &o) == COF_OK &&
              !o.delete_marker && ops_object_acl(req, owner_id, o.headers, out) == COF_OK;
    sto_object_cleanup(&o);
    return ok;
}

bool ops_acl_allows(struct srv_req *req, const char *action, const char *bucket, const char *key)
{
    enum srv_ownership own;
    struct srv_pab pab;
    bool enforced = false, on_object = false;
    char owner[65], me[65], account[13];
    const char *name = NULL;
    unsigned need = perm_for(action, &on_object);
    if (need == 0 || (on_object && key == NULL))
        return false;
    if (ops_bucket_ownership(req, bucket, &own, NULL) != COF_OK || own == SRV_OWN_ENFORCED ||
        ops_bucket_pab(req, bucket, &pab, NULL, &enforced) != COF_OK ||
        owner_id_of(req, bucket, owner, NULL) != COF_OK)
        return false;
    struct srv_acl *acl = calloc(1, sizeof(*acl));
    if (acl == NULL)
        return false;
    bool have = on_object ? object_acl_of(req, bucket, key, owner, acl)
                          : ops_bucket_acl(req, bucket, acl) == COF_OK;
    unsigned granted = 0;
    if (have) {
        if (!req->anonymous) {
            ops_request_account(req, account);
            ops_canonical_user(account, me, &name);
        }
        granted = srv_acl_granted(acl, req->anonymous ? NULL : me, !req->anonymous,
                                  enforced && pab.ignore_acls);
    }
    free(acl);
    return (granted & need) == need;
}
