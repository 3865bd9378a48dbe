/* SPDX-License-Identifier: Apache-2.0 */
/* KMS API (TrentService, JSON 1.1): keys and what hangs off them: CreateKey, DescribeKey,
 * ListKeys, UpdateKeyDescription, Enable/DisableKey, Schedule/CancelKeyDeletion, key policies,
 * tags and rotation; and the answers for operations coffer's KMS does not have. The keyring is
 * the one S3's SSE-KMS uses (object/kms.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "object/kms.h"
#include "ops/handlers.h"
#include "ops/kmsjson.h"
#include "ops/req.h"
#include "storage/meta.h"

#define MAX_TAGS        50
#define MAX_POLICY      32768
#define MAX_DESCRIPTION 8192

/* The policy a key has until PutKeyPolicy sets one (AWS's default key policy). */
static const char default_policy[] =
    "{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {\n"
    "    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n"
    "    \"Principal\" : {\n      \"AWS\" : \"arn:aws:iam::" SRV_KMS_ACCOUNT ":root\"\n    },\n"
    "    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  } ]\n}";

static cof_err validation(struct srv_req *req, const char *message)
{
    return srv_fail_service(req, 400, "ValidationException", message);
}

/* Reads the body and the key its KeyId names, in one of the allowed states. */
static cof_err body_and_key(struct srv_req *req, unsigned allowed, json_t **body,
                            struct sto_kms_key *key)
{
    const char *ref = NULL;
    memset(key, 0, sizeof(*key));
    cof_err err = ops_kms_body(req, body);
    if (err == COF_OK)
        err = ops_kms_str(req, *body, "KeyId", "keyId", true, &ref);
    if (err == COF_OK)
        err = ops_kms_key(req, ref, allowed, key);
    return err;
}

/* ---- tags --------------------------------------------------------------------------------- */

struct tag_list {
    size_t n;
    const char *keys[MAX_TAGS];
    const char *values[MAX_TAGS];
};

/* Tags: [{"TagKey": ..., "TagValue": ...}] (strings borrowed from body). */
static cof_err parse_tags(struct srv_req *req, json_t *body, bool required, struct tag_list *out)
{
    char msg[320];
    json_t *tags = json_object_get(body, "Tags");
    size_t i;
    json_t *t;
    out->n = 0;
    if (tags == NULL || json_is_null(tags))
        return required ? validation(req, "1 validation error detected: Value null at 'tags' "
                                          "failed to satisfy constraint: Member must not be null")
                        : COF_OK;
    if (!json_is_array(tags))
        return srv_fail_service(req, 400, "SerializationException", "Tags must be a list.");
    if (json_array_size(tags) > MAX_TAGS)
        return srv_fail_service(req, 400, "TagException", "Too many tags: at most 50.");
    json_array_foreach(tags, i, t)
    {
        json_t *k = json_object_get(t, "TagKey"), *v = json_object_get(t, "TagValue");
        if (!json_is_string(k) || !json_is_string(v))
            return validation(req, "Each tag needs a TagKey and a TagValue.");
        const char *ks = json_string_value(k), *vs = json_string_value(v);
        if (strlen(ks) < 1 || strlen(ks) > 128 || strlen(vs) > 256) {
            snprintf(msg, sizeof(msg),
                     "1 validation error detected: Value '%.140s' at 'tags.%zu.member.%s' failed "
                     "to satisfy constraint: Member must have length %s",
                     strlen(ks) > 128 || strlen(ks) < 1 ? ks : vs, i + 1,
                     strlen(ks) > 128 || strlen(ks) < 1 ? "tagKey" : "tagValue",
                     strlen(ks) < 1     ? "greater than or equal to 1"
                     : strlen(ks) > 128 ? "less than or equal to 128"
                                        : "less than or equal to 256");
            return validation(req, msg);
        }
        if (strncmp(ks, "aws:", 4) == 0)
            return srv_fail_service(req, 400, "TagException",
                                    "Tags beginning with aws: are "
                                    "reserved");
        out->keys[out->n] = ks;
        out->values[out->n++] = vs;
    }
    return COF_OK;
}

/* ---- CreateKey ------------------------------------------------------------------------------ */

static bool one_of(const char *s, const char *const *set)
{
    for (; *set != NULL; set++) {
        if (strcmp(s, *set) == 0)
            return true;
    }
    return false;
}

/* KeySpec / CustomerMasterKeySpec: SYMMETRIC_DEFAULT only; other specs AWS has are
 * UnsupportedOperationException here, anything else AWS's enum error. */
static cof_err check_spec(struct srv_req *req, const char *spec, const char *field)
{
    static const char *const asymmetric[] = {
        "RSA_2048",      "RSA_3072",      "RSA_4096",        "ECC_NIST_P256",
        "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "HMAC_224",
        "HMAC_256",      "HMAC_384",      "HMAC_512",        "SM2",
        "ML_DSA_44",     "ML_DSA_65",     "ML_DSA_87",       NULL};
    char msg[512];
    if (spec == NULL || strcmp(spec, "SYMMETRIC_DEFAULT") == 0)
        return COF_OK;
    if (one_of(spec, asymmetric)) {
        snprintf(msg, sizeof(msg),
                 "coffer's KMS has symmetric keys only: %s %s is not supported "
                 "(use SYMMETRIC_DEFAULT).",
                 field, spec);
        return srv_fail_service(req, 400, "UnsupportedOperationException", msg);
    }
    snprintf(msg, sizeof(msg),
             "1 validation error detected: Value '%.64s' at '%s' failed to satisfy constraint: "
             "Member must satisfy enum value set: [RSA_2048, ECC_NIST_P384, ECC_NIST_P256, "
             "ECC_NIST_P521, HMAC_384, RSA_3072, ECC_SECG_P256K1, RSA_4096, SYMMETRIC_DEFAULT, "
             "HMAC_256, HMAC_224, HMAC_512, SM2, ML_DSA_44, ML_DSA_65, ML_DSA_87]",
             spec, field[0] == 'K' ? "keySpec" : "customerMasterKeySpec");
    return validation(req, msg);
}

static cof_err check_usage(struct srv_req *req, const char *usage)
{
    static const char *const other[] = {"SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT",
                                        NULL};
    char msg[320];
    if (usage == NULL || strcmp(usage, "ENCRYPT_DECRYPT") == 0)
        return COF_OK;
    if (one_of(usage, other)) {
        snprintf(msg, sizeof(msg),
                 "coffer's KMS has ENCRYPT_DECRYPT keys only: KeyUsage %s is not supported.",
                 usage);
        return srv_fail_service(req, 400, "UnsupportedOperationException", msg);
    }
    snprintf(msg, sizeof(msg),
             "1 validation error detected: Value '%.64s' at 'keyUsage' failed to satisfy "
             "constraint: Member must satisfy enum value set: [SIGN_VERIFY, KEY_AGREEMENT, "
             "ENCRYPT_DECRYPT, GENERATE_VERIFY_MAC]",
             usage);
    return validation(req, msg);
}

/* A key policy: a JSON document of at most 32 KiB. */
static cof_err check_policy(struct srv_req *req, const char *policy)
{
    json_error_t jerr;
    if (policy == NULL)
        return COF_OK;
    if (strlen(policy) > MAX_POLICY)
        return validation(req, "1 validation error detected: Value at 'policy' failed to satisfy "
                               "constraint: Member must have length less than or equal to 32768");
    json_t *doc = json_loads(policy, 0, &jerr);
    bool ok = json_is_object(doc);
    json_decref(doc);
    return ok ? COF_OK
              : srv_fail_service(req, 400, "MalformedPolicyDocumentException",
                                 "The key policy is not a valid JSON policy document.");
}

static cof_err check_create_options(struct srv_req *req, json_t *body)
{
    const char *spec = NULL, *cmk_spec = NULL, *usage = NULL, *origin = NULL, *store = NULL;
    json_t *multi = json_object_get(body, "MultiRegion");
    cof_err err = ops_kms_str(req, body, "KeySpec", "keySpec", false, &spec);
    if (err == COF_OK)
        err = ops_kms_str(req, body, "CustomerMasterKeySpec", "customerMasterKeySpec", false,
                          &cmk_spec);
    if (err == COF_OK)
        err = ops_kms_str(req, body, "KeyUsage", "keyUsage", false, &usage);
    if (err == COF_OK)
        err = ops_kms_str(req, body, "Origin", "origin", false, &origin);
    if (err == COF_OK)
        err = ops_kms_str(req, body, "CustomKeyStoreId", "customKeyStoreId", false, &store);
    if (err == COF_OK)
        err = check_spec(req, spec, "KeySpec");
    if (err == COF_OK)
        err = check_spec(req, cmk_spec, "CustomerMasterKeySpec");
    if (err == COF_OK)
        err = check_usage(req, usage);
    if (err == COF_OK && origin != NULL && strcmp(origin, "AWS_KMS") != 0)
        err = srv_fail_service(req, 400, "UnsupportedOperationException",
                               "coffer's KMS makes its own key material: Origin AWS_KMS only.");
    if (err == COF_OK && store != NULL)
        err = srv_fail_service(req, 400, "UnsupportedOperationException",
                               "coffer's KMS has no custom key stores.");
    if (err == COF_OK && json_is_true(multi))
        err = srv_fail_service(req, 400, "UnsupportedOperationException",
                               "coffer's KMS has no multi-Region keys.");
    return err;
}

/* Replies {"KeyMetadata": ...} for the stored key id. */
static cof_err reply_metadata(struct srv_req *req, const char *id)
{
    struct sto_kms_key row;
    cof_err err = sto_meta_kms_get(req->ctx->obj.meta, id, &row);
    if (err != COF_OK)
        return err;
    json_t *doc = json_pack("{s:o*}", "KeyMetadata", ops_kms_metadata(req, &row));
    sto_kms_key_cleanup(&row);
    return ops_kms_reply(req, doc);
}

cof_err ops_kms_create_key(struct srv_req *req)
{
    json_t *body = NULL;
    const char *description = NULL, *policy = NULL;
    struct tag_list tags;
    struct srv_kms_key k;
    memset(&k, 0, sizeof(k));
    cof_err err = ops_kms_body(req, &body);
    if (err == COF_OK)
        err = check_create_options(req, body);
    if (err == COF_OK)
        err = ops_kms_str(req, body, "Description", "description", false, &description);
    if (err == COF_OK && description != NULL && strlen(description) > MAX_DESCRIPTION)
        err = validation(req, "1 validation error detected: Value at 'description' failed to "
                              "satisfy constraint: Member must have length less than or equal "
                              "to 8192");
    if (err == COF_OK)
        err = ops_kms_str(req, body, "Policy", "policy", false, &policy);
    if (err == COF_OK)
        err = check_policy(req, policy);
    if (err == COF_OK)
        err = parse_tags(req, body, false, &tags);
    if (err == COF_OK)
        err = srv_kms_create(&req->ctx->obj, NULL, NULL, description, policy, &k);
    if (err == COF_OK && tags.n > 0)
        err = sto_meta_kms_tags_set(req->ctx->obj.meta, k.id, tags.n, tags.keys, tags.values);
    if (err == COF_OK)
        err = reply_metadata(req, k.id);
    srv_kms_key_cleanup(&k);
    json_decref(body);
    return err;
}

/* ---- reading keys --------------------------------------------------------------------------- */

cof_err ops_kms_describe_key(struct srv_req *req)
{
    json_t *body = NULL;
    struct sto_kms_key key;
    cof_err err = body_and_key(req, OPS_KMS_ANY, &body, &key);
    if (err == COF_OK)
        err = ops_kms_reply(req, json_pack("{s:o*}", "KeyMetadata", ops_kms_metadata(req, &key)));
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

struct key_page {
    struct srv_req *req;
    json_t *list;
    size_t index, offset, limit;
};

static cof_err add_key(const struct sto_kms_key *k, void *arg)
{
    struct key_page *p = arg;
    char arn[200];
    size_t i = p->index++;
    if (i < p->offset || i >= p->offset + p->limit)
        return COF_OK;
    ops_kms_arn(p->req, k->id, arn, sizeof(arn));
    return json_array_append_new(p->list, json_pack("{s:s, s:s}", "KeyId", k->id, "KeyArn", arn)) ==
                   0
               ? COF_OK
               : COF_ERR_NOMEM;
}

cof_err ops_kms_list_keys(struct srv_req *req)
{
    json_t *body = NULL;
    struct key_page p = {req, json_array(), 0, 0, 0};
    cof_err err = p.list != NULL ? ops_kms_body(req, &body) : COF_ERR_NOMEM;
    if (err == COF_OK)
        err = ops_kms_page(req, body, &p.offset, &p.limit);
    if (err == COF_OK)
        err = srv_kms_sweep(&req->ctx->obj);
    if (err == COF_OK)
        err = sto_meta_kms_each(req->ctx->obj.meta, add_key, &p);
    if (err == COF_OK)
        err = ops_kms_reply_page(req, "Keys", p.list, p.offset, p.limit, p.index);
    json_decref(p.list);
    json_decref(body);
    return err;
}

/* ---- key state ------------------------------------------------------------------------------ */

/* Sets the key's state; replies {} */
static cof_err set_state(struct srv_req *req, unsigned allowed, const char *state)
{
    json_t *body = NULL;
    struct sto_kms_key key;
    cof_err err = body_and_key(req, allowed, &body, &key);
    if (err == COF_OK)
        err = sto_meta_kms_set_state(req->ctx->obj.meta, key.id, state, 0);
    if (err == COF_OK)
        err = ops_kms_reply(req, json_object());
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

cof_err ops_kms_enable_key(struct srv_req *req)
{
    return set_state(req, OPS_KMS_ENABLED | OPS_KMS_DISABLED, "Enabled");
}

cof_err ops_kms_disable_key(struct srv_req *req)
{
    return set_state(req, OPS_KMS_ENABLED | OPS_KMS_DISABLED, "Disabled");
}

cof_err ops_kms_update_key_description(struct srv_req *req)
{
    json_t *body = NULL;
    const char *description = NULL;
    struct sto_kms_key key;
    cof_err err = body_and_key(req, OPS_KMS_ENABLED | OPS_KMS_DISABLED, &body, &key);
    if (err == COF_OK)
        err = ops_kms_str(req, body, "Description", "description", true, &description);
    if (err == COF_OK && strlen(description) > MAX_DESCRIPTION)
        err = validation(req, "1 validation error detected: Value at 'description' failed to "
                              "satisfy constraint: Member must have length less than or equal "
                              "to 8192");
    if (err == COF_OK)
        err = sto_meta_kms_set_description(req->ctx->obj.meta, key.id, description);
    if (err == COF_OK)
        err = ops_kms_reply(req, json_object());
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

cof_err ops_kms_schedule_key_deletion(struct srv_req *req)
{
    json_t *body = NULL;
    struct sto_kms_key key;
    bool have = false;
    int64_t days = 30;
    char arn[200], msg[128];
    memset(&key, 0, sizeof(key));
    cof_err err = ops_kms_body(req, &body);
    if (err == COF_OK)
        err = ops_kms_int(req, body, "PendingWindowInDays", &have, &days);
    if (err == COF_OK && !have)
        days = 30;
    if (err == COF_OK && (days < 7 || days > 30)) {
        snprintf(msg, sizeof(msg), "PendingWindowInDays should be between 7 and 30, but it is %lld",
                 (long long)days);
        err = validation(req, msg);
    }
    json_decref(body);
    body = NULL;
    if (err == COF_OK)
        err = body_and_key(req, OPS_KMS_ENABLED | OPS_KMS_DISABLED, &body, &key);
    int64_t when = cof_now_ms() + days * 86400000;
    if (err == COF_OK)
        err = sto_meta_kms_set_state(req->ctx->obj.meta, key.id, "PendingDeletion", when);
    if (err == COF_OK) {
        ops_kms_arn(req, key.id, arn, sizeof(arn));
        err = ops_kms_reply(req, json_pack("{s:s, s:o, s:s, s:I}", "KeyId", arn, "DeletionDate",
                                           ops_kms_date(when), "KeyState", "PendingDeletion",
                                           "PendingWindowInDays", (json_int_t)days));
    }
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

cof_err ops_kms_cancel_key_deletion(struct srv_req *req)
{
    json_t *body = NULL;
    struct sto_kms_key key;
    char arn[200];
    cof_err err = body_and_key(req, OPS_KMS_PENDING, &body, &key);
    /* AWS: a key whose deletion is cancelled is Disabled, not back to what it was. */
    if (err == COF_OK)
        err = sto_meta_kms_set_state(req->ctx->obj.meta, key.id, "Disabled", 0);
    if (err == COF_OK) {
        ops_kms_arn(req, key.id, arn, sizeof(arn));
        err = ops_kms_reply(req, json_pack("{s:s}", "KeyId", arn));
    }
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

/* ---- key policies --------------------------------------------------------------------------- */

/* PolicyName: "default" is the only one a key has. */
static cof_err policy_name(struct srv_req *req, json_t *body, bool for_put)
{
    const char *name = NULL;
    cof_err err = ops_kms_str(req, body, "PolicyName", "policyName", false, &name);
    if (err != COF_OK || name == NULL || strcmp(name, "default") == 0)
        return err;
    if (for_put)
        return validation(req, "1 validation error detected: Value at 'policyName' failed to "
                               "satisfy constraint: the only policy name is default");
    return srv_fail_service(req, 400, "NotFoundException", "No such policy exists");
}

cof_err ops_kms_get_key_policy(struct srv_req *req)
{
    json_t *body = NULL;
    struct sto_kms_key key;
    cof_err err = body_and_key(req, OPS_KMS_ANY, &body, &key);
    if (err == COF_OK)
        err = policy_name(req, body, false);
    if (err == COF_OK)
        err = ops_kms_reply(req, json_pack("{s:s, s:s}", "Policy",
                                           key.policy != NULL ? key.policy : default_policy,
                                           "PolicyName", "default"));
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

cof_err ops_kms_put_key_policy(struct srv_req *req)
{
    json_t *body = NULL;
    const char *policy = NULL;
    struct sto_kms_key key;
    cof_err err = body_and_key(req, OPS_KMS_ANY, &body, &key);
    if (err == COF_OK)
        err = policy_name(req, body, true);
    if (err == COF_OK)
        err = ops_kms_str(req, body, "Policy", "policy", true, &policy);
    if (err == COF_OK)
        err = check_policy(req, policy);
    if (err == COF_OK)
        err = sto_meta_kms_set_policy(req->ctx->obj.meta, key.id, policy);
    if (err == COF_OK)
        err = ops_kms_reply(req, json_object());
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

cof_err ops_kms_list_key_policies(struct srv_req *req)
{
    json_t *body = NULL;
    struct sto_kms_key key;
    cof_err err = body_and_key(req, OPS_KMS_ANY, &body, &key);
    if (err == COF_OK)
        err =
            ops_kms_reply(req, json_pack("{s:[s], s:b}", "PolicyNames", "default", "Truncated", 0));
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

/* ---- tags ----------------------------------------------------------------------------------- */

cof_err ops_kms_tag_resource(struct srv_req *req)
{
    json_t *body = NULL;
    struct sto_kms_key key;
    struct tag_list tags;
    cof_err err = body_and_key(req, OPS_KMS_ENABLED | OPS_KMS_DISABLED, &body, &key);
    if (err == COF_OK)
        err = parse_tags(req, body, true, &tags);
    if (err == COF_OK)
        err = sto_meta_kms_tags_set(req->ctx->obj.meta, key.id, tags.n, tags.keys, tags.values);
    if (err == COF_OK)
        err = ops_kms_reply(req, json_object());
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

cof_err ops_kms_untag_resource(struct srv_req *req)
{
    json_t *body = NULL, *keys = NULL, *k = NULL;
    struct sto_kms_key key;
    const char *names[MAX_TAGS];
    size_t n = 0, i;
    cof_err err = body_and_key(req, OPS_KMS_ENABLED | OPS_KMS_DISABLED, &body, &key);
    if (err == COF_OK) {
        keys = json_object_get(body, "TagKeys");
        if (!json_is_array(keys))
            err = validation(req, "1 validation error detected: Value null at 'tagKeys' failed "
                                  "to satisfy constraint: Member must not be null");
        else if (json_array_size(keys) > MAX_TAGS)
            err = validation(req, "At most 50 tag keys.");
    }
    if (err == COF_OK) {
        json_array_foreach(keys, i, k)
        {
            if (!json_is_string(k)) {
                err = validation(req, "TagKeys must be strings.");
                break;
            }
            names[n++] = json_string_value(k);
        }
    }
    if (err == COF_OK)
        err = sto_meta_kms_tags_delete(req->ctx->obj.meta, key.id, n, names);
    if (err == COF_OK)
        err = ops_kms_reply(req, json_object());
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

struct tag_page {
    json_t *list;
    size_t index, offset, limit;
};

static cof_err add_tag(const char *k, const char *v, void *arg)
{
    struct tag_page *p = arg;
    size_t i = p->index++;
    if (i < p->offset || i >= p->offset + p->limit)
        return COF_OK;
    return json_array_append_new(p->list, json_pack("{s:s, s:s}", "TagKey", k, "TagValue", v)) == 0
               ? COF_OK
               : COF_ERR_NOMEM;
}

cof_err ops_kms_list_resource_tags(struct srv_req *req)
{
    json_t *body = NULL;
    struct sto_kms_key key;
    struct tag_page p = {json_array(), 0, 0, 0};
    cof_err err = body_and_key(req, OPS_KMS_ANY, &body, &key);
    if (err == COF_OK)
        err = ops_kms_page(req, body, &p.offset, &p.limit);
    if (err == COF_OK)
        err = sto_meta_kms_tags_each(req->ctx->obj.meta, key.id, add_tag, &p);
    if (err == COF_OK)
        err = ops_kms_reply_page(req, "Tags", p.list, p.offset, p.limit, p.index);
    json_decref(p.list);
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

/* ---- rotation ------------------------------------------------------------------------------- */

cof_err ops_kms_get_key_rotation_status(struct srv_req *req)
{
    json_t *body = NULL, *doc = NULL;
    struct sto_kms_key key;
    char arn[200];
    cof_err err = body_and_key(req, OPS_KMS_ANY, &body, &key);
    if (err == COF_OK) {
        ops_kms_arn(req, key.id, arn, sizeof(arn));
        doc = json_pack("{s:s, s:b}", "KeyId", arn, "KeyRotationEnabled", key.rotation_days > 0);
        if (doc != NULL && key.rotation_days > 0) {
            int64_t next = key.rotated_ms + key.rotation_days * 86400000;
            if (json_object_set_new(doc, "RotationPeriodInDays", json_integer(key.rotation_days)) !=
                    0 ||
                json_object_set_new(doc, "NextRotationDate", ops_kms_date(next)) != 0)
                err = COF_ERR_NOMEM;
        }
    }
    err = ops_kms_finish(req, err, doc);
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

cof_err ops_kms_enable_key_rotation(struct srv_req *req)
{
    json_t *body = NULL;
    struct sto_kms_key key;
    bool have = false;
    int64_t days = 365;
    cof_err err = body_and_key(req, OPS_KMS_ENABLED, &body, &key);
    if (err == COF_OK)
        err = ops_kms_int(req, body, "RotationPeriodInDays", &have, &days);
    if (err == COF_OK && !have)
        days = 365;
    if (err == COF_OK)
        err = ops_kms_range(req, "rotationPeriodInDays", days, 90, 2560);
    /* The period counts from now when rotation was off, else from the last rotation. */
    if (err == COF_OK)
        err = sto_meta_kms_set_rotation(req->ctx->obj.meta, key.id, days,
                                        key.rotation_days > 0 ? key.rotated_ms : cof_now_ms());
    if (err == COF_OK)
        err = ops_kms_reply(req, json_object());
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

cof_err ops_kms_disable_key_rotation(struct srv_req *req)
{
    json_t *body = NULL;
    struct sto_kms_key key;
    cof_err err = body_and_key(req, OPS_KMS_ENABLED, &body, &key);
    if (err == COF_OK)
        err = sto_meta_kms_set_rotation(req->ctx->obj.meta, key.id, 0, key.rotated_ms);
    if (err == COF_OK)
        err = ops_kms_reply(req, json_object());
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

cof_err ops_kms_rotate_key_on_demand(struct srv_req *req)
{
    json_t *body = NULL;
    struct sto_kms_key key;
    char arn[200];
    cof_err err = body_and_key(req, OPS_KMS_ENABLED, &body, &key);
    if (err == COF_OK)
        err = srv_kms_rotate(&req->ctx->obj, key.id, true);
    if (err == COF_ERR_TOO_LARGE)
        err = srv_fail_service(req, 400, "LimitExceededException",
                               "The key has reached the most rotations coffer keeps.");
    if (err == COF_OK) {
        ops_kms_arn(req, key.id, arn, sizeof(arn));
        err = ops_kms_reply(req, json_pack("{s:s}", "KeyId", arn));
    }
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

struct rotation_page {
    const char *arn;
    json_t *list;
    size_t index, offset, limit;
};

static cof_err add_rotation(int64_t version, int64_t rotated_ms, bool on_demand, void *arg)
{
    struct rotation_page *p = arg;
    (void)version;
    size_t i = p->index++;
    if (i < p->offset || i >= p->offset + p->limit)
        return COF_OK;
    return json_array_append_new(p->list,
                                 json_pack("{s:s, s:o, s:s}", "KeyId", p->arn, "RotationDate",
                                           ops_kms_date(rotated_ms), "RotationType",
                                           on_demand ? "ON_DEMAND" : "AUTOMATIC")) == 0
               ? COF_OK
               : COF_ERR_NOMEM;
}

cof_err ops_kms_list_key_rotations(struct srv_req *req)
{
    json_t *body = NULL;
    struct sto_kms_key key;
    char arn[200];
    struct rotation_page p = {arn, json_array(), 0, 0, 0};
    cof_err err = body_and_key(req, OPS_KMS_ANY, &body, &key);
    if (err == COF_OK) {
        ops_kms_arn(req, key.id, arn, sizeof(arn));
        err = ops_kms_page(req, body, &p.offset, &p.limit);
    }
    if (err == COF_OK)
        err = sto_meta_kms_rotations_each(req->ctx->obj.meta, key.id, add_rotation, &p);
    if (err == COF_OK)
        err = ops_kms_reply_page(req, "Rotations", p.list, p.offset, p.limit, p.index);
    json_decref(p.list);
    sto_kms_key_cleanup(&key);
    json_decref(body);
    return err;
}

/* ---- what coffer's KMS does not have -------------------------------------------------------- */

cof_err ops_kms_unsupported(struct srv_req *req)
{
    char msg[256];
    snprintf(msg, sizeof(msg),
             "coffer's KMS does not support %s: it has symmetric encryption keys only (no "
             "asymmetric or HMAC keys, grants, imported material, custom key stores or "
             "multi-Region keys).",
             req->op->name);
    return srv_fail_service(req, 400, "UnsupportedOperationException", msg);
}

cof_err ops_kms_unknown_operation(struct srv_req *req)
{
    return srv_fail_service(req, 400, "UnknownOperationException", "");
}
