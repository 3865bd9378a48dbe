/* SPDX-License-Identifier: Apache-2.0 */
/* KMS API (TrentService, JSON 1.1): aliases. CreateAlias, UpdateAlias, DeleteAlias and
 * ListAliases over the keyring S3's SSE-KMS uses; alias/aws/ names are AWS's own. */
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "object/kms.h"
#include "ops/handlers.h"
#include "ops/kmsjson.h"
#include "ops/req.h"
#include "storage/meta.h"

#define MAX_ALIAS 256

static cof_err validation(struct srv_req *req, const char *message)
{
    return srv_fail_service(req, 400, "ValidationException", message);
}

static void alias_arn(const struct srv_req *req, const char *alias, char *out, size_t n)
{
    snprintf(out, n, "arn:aws:kms:%s:%s:%s", req->ctx->obj.region, SRV_KMS_ACCOUNT, alias);
}

/* AWS's alias rules: "alias/" then [a-zA-Z0-9:/_-], at most 256 bytes; alias/aws/ is reserved
 * for AWS managed keys. */
static cof_err check_alias(struct srv_req *req, const char *alias)
{
    char msg[512];
    size_t n = strlen(alias);
    if (strncmp(alias, "alias/", 6) != 0)
        return validation(req, "Alias must start with the prefix \"alias/\". Please see "
                               "https://docs.aws.amazon.com/kms/latest/developerguide/"
                               "kms-alias.html");
    bool ok = n > 6 && n <= MAX_ALIAS;
    for (size_t i = 0; ok && i < n; i++) {
        char c = alias[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == ':' || c == '/' || c == '_' || c == '-';
    }
    if (!ok) {
        snprintf(msg, sizeof(msg),
                 "1 validation error detected: Value '%.300s' at 'aliasName' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
                 alias);
        return validation(req, msg);
    }
    if (strncmp(alias, "alias/aws/", 10) == 0)
        return srv_fail_service(req, 400, "NotAuthorizedException",
                                "Aliases that begin with alias/aws/ are reserved for AWS managed "
                                "keys.");
    return COF_OK;
}

/* TargetKeyId must name a key, not an alias. */
static cof_err target_key(struct srv_req *req, json_t *body, struct sto_kms_key *key)
{
    const char *target = NULL;
    memset(key, 0, sizeof(*key));
    cof_err err = ops_kms_str(req, body, "TargetKeyId", "targetKeyId", true, &target);
    if (err == COF_OK && (strncmp(target, "alias/", 6) == 0 || strstr(target, ":alias/") != NULL))
        err = validation(req, "Aliases must refer to keys. Not aliases");
    if (err == COF_OK)
        err = ops_kms_key(req, target, OPS_KMS_ENABLED | OPS_KMS_DISABLED, key);
    return err;
}

cof_err ops_kms_create_alias(struct srv_req *req)
{
    json_t *body = NULL;
    const char *alias = NULL;
    struct sto_kms_key key, existing;
    char arn[320], msg[400];
    memset(&key, 0, sizeof(key));
    cof_err err = ops_kms_body(req, &body);
    if (err == COF_OK)
        err = ops_kms_str(req, body, "AliasName", "aliasName", true, &alias);
    if (err == COF_OK)
        err = check_alias(req, alias);
    if (err == COF_OK && sto_meta_kms_get(req->ctx->obj.meta, alias, &existing) == COF_OK) {
        sto_kms_key_cleanup(&existing);
        alias_arn(req, alias, arn, sizeof(arn));
        snprintf(msg, sizeof(msg), "An alias with the name %s already exists", arn);
        err = srv_fail_service(req, 400, "AlreadyExistsException", msg);
    }
    if (err == COF_OK)
        err = target_key(req, body, &key);
    if (err == COF_OK)
        err = sto_meta_kms_set_alias(req->ctx->obj.meta, alias, key.id, cof_now_ms());
    if (err == COF_ERR_EXISTS) { /* created meanwhile */
        alias_arn(req, alias, arn, sizeof(arn));
        snprintf(msg, sizeof(msg), "An alias with the name %s already exists", arn);
        err = srv_fail_service(req, 400, "AlreadyExistsException", msg);
    }
    if (err == COF_OK)
        err = ops_kms_reply(req, json_object());
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

/* The alias's "is not found" answer. */
static cof_err no_alias(struct srv_req *req, const char *alias)
{
    char arn[320], msg[400];
    alias_arn(req, alias, arn, sizeof(arn));
    snprintf(msg, sizeof(msg), "Alias %s is not found.", arn);
    return srv_fail_service(req, 400, "NotFoundException", msg);
}

cof_err ops_kms_update_alias(struct srv_req *req)
{
    json_t *body = NULL;
    const char *alias = NULL;
    struct sto_kms_key key, current;
    memset(&key, 0, sizeof(key));
    cof_err err = ops_kms_body(req, &body);
    if (err == COF_OK)
        err = ops_kms_str(req, body, "AliasName", "aliasName", true, &alias);
    if (err == COF_OK)
        err = check_alias(req, alias);
    if (err == COF_OK) {
        err = sto_meta_kms_get(req->ctx->obj.meta, alias, &current);
        if (err == COF_OK)
            sto_kms_key_cleanup(&current);
        else if (err == COF_ERR_NOT_FOUND)
            err = no_alias(req, alias);
    }
    if (err == COF_OK)
        err = target_key(req, body, &key);
    if (err == COF_OK)
        err = sto_meta_kms_alias_update(req->ctx->obj.meta, alias, key.id, cof_now_ms());
    if (err == COF_ERR_NOT_FOUND)
        err = no_alias(req, alias);
    if (err == COF_OK)
        err = ops_kms_reply(req, json_object());
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

cof_err ops_kms_delete_alias(struct srv_req *req)
{
    json_t *body = NULL;
    const char *alias = NULL;
    cof_err err = ops_kms_body(req, &body);
    if (err == COF_OK)
        err = ops_kms_str(req, body, "AliasName", "aliasName", true, &alias);
    if (err == COF_OK)
        err = check_alias(req, alias);
    if (err == COF_OK)
        err = sto_meta_kms_alias_delete(req->ctx->obj.meta, alias);
    if (err == COF_ERR_NOT_FOUND)
        err = no_alias(req, alias);
    if (err == COF_OK)
        err = ops_kms_reply(req, json_object());
    json_decref(body);
    return err;
}

struct alias_page {
    struct srv_req *req;
    json_t *list;
    size_t index, offset, limit;
};

static cof_err add_alias(const struct sto_kms_alias *a, void *arg)
{
    struct alias_page *p = arg;
    char arn[320];
    size_t i = p->index++;
    if (i < p->offset || i >= p->offset + p->limit)
        return COF_OK;
    alias_arn(p->req, a->alias, arn, sizeof(arn));
    json_t *e = json_pack("{s:s, s:s, s:s, s:o, s:o}", "AliasName", a->alias, "AliasArn", arn,
                          "TargetKeyId", a->key_id, "CreationDate", ops_kms_date(a->created_ms),
                          "LastUpdatedDate", ops_kms_date(a->updated_ms));
    return json_array_append_new(p->list, e) == 0 ? COF_OK : COF_ERR_NOMEM;
}

cof_err ops_kms_list_aliases(struct srv_req *req)
{
    json_t *body = NULL;
    const char *ref = NULL;
    struct sto_kms_key key;
    struct alias_page p = {req, json_array(), 0, 0, 0};
    memset(&key, 0, sizeof(key));
    cof_err err = ops_kms_body(req, &body);
    if (err == COF_OK)
        err = ops_kms_page(req, body, &p.offset, &p.limit);
    if (err == COF_OK)
        err = ops_kms_str(req, body, "KeyId", "keyId", false, &ref);
    if (err == COF_OK && ref != NULL)
        err = ops_kms_key(req, ref, OPS_KMS_ANY, &key);
    if (err == COF_OK)
        err = srv_kms_sweep(&req->ctx->obj);
    if (err == COF_OK)
        err =
            sto_meta_kms_alias_each(req->ctx->obj.meta, ref != NULL ? key.id : NULL, add_alias, &p);
    if (err == COF_OK)
        err = ops_kms_reply_page(req, "Aliases", p.list, p.offset, p.limit, p.index);
    json_decref(p.list);
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}
