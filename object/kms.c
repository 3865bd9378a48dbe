/* SPDX-License-Identifier: Apache-2.0 */
/* Local KMS keys. Material: 32 random bytes, wrapped with CRY_MODE_KMS_MATERIAL under the
 * active root key, bound to the key id; unwrapped per use and wiped after. */
#include "object/kms.h"

#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "crypto/envelope.h"
#include "object/rootkeys.h"
#include "storage/meta.h"

static const uint8_t no_blob[CRY_BLOB_ID_LEN];

void srv_kms_arn(const struct obj_ctx *ctx, const char *id, char *out, size_t n)
{
    snprintf(out, n, "arn:aws:kms:%s:%s:key/%s", ctx->region, SRV_KMS_ACCOUNT, id);
}

void srv_kms_key_cleanup(struct srv_kms_key *k)
{
    if (k == NULL)
        return;
    cry_key_free(k->material);
    k->material = NULL;
}

static void material_ctx(const char *id, struct cry_wrap_ctx *wc)
{
    wc->mode = CRY_MODE_KMS_MATERIAL;
    wc->bucket = "";
    wc->key = id;
    wc->version_id = "kms-key-material";
    wc->blob_id = no_blob;
    wc->enc_context = NULL;
}

/* Fills out from a stored row; unwraps the material when want_material. */
static cof_err from_row(struct obj_ctx *ctx, const struct sto_kms_key *row, bool want_material,
                        struct srv_kms_key *out)
{
    memset(out, 0, sizeof(*out));
    if (strlen(row->id) >= sizeof(out->id) || strlen(row->state) >= sizeof(out->state))
        return COF_ERR_INTEGRITY;
    memcpy(out->id, row->id, strlen(row->id) + 1);
    memcpy(out->state, row->state, strlen(row->state) + 1);
    srv_kms_arn(ctx, row->id, out->arn, sizeof(out->arn));
    if (!want_material)
        return COF_OK;
    const struct cry_key *root = srv_rootkeys_find(ctx->kr, row->kek_id);
    if (root == NULL) {
        cof_log_error(NULL, "KMS key %s is wrapped by root key '%s', which is not in the keyring",
                      row->id, row->kek_id);
        return COF_ERR_KEY_ABSENT;
    }
    struct cry_wrap_ctx wc;
    material_ctx(row->id, &wc);
    cof_err err = cry_env_unwrap(root, &wc, row->material, row->material_len, &out->material);
    if (err != COF_OK)
        cof_log_error(NULL, "cannot unwrap the material of KMS key %s: %s", row->id,
                      cof_err_name(err));
    return err;
}

static cof_err check_state(const struct srv_kms_key *k, char *msg, size_t msg_len)
{
    if (strcmp(k->state, "Disabled") == 0) {
        snprintf(msg, msg_len, "%s is disabled.", k->arn);
        return COF_ERR_KMS_DISABLED;
    }
    if (strcmp(k->state, "PendingDeletion") == 0) {
        snprintf(msg, msg_len, "%s is pending deletion.", k->arn);
        return COF_ERR_KMS_INVALID_STATE;
    }
    return COF_OK;
}

static void new_uuid(char out[37])
{
    uint8_t r[16];
    if (cry_random(r, sizeof(r)) != COF_OK)
        memset(r, 0x42, sizeof(r));
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
}

/* Creates (or, with existing_ok, finds) a key. */
static cof_err create(struct obj_ctx *ctx, const char *id, const char *alias,
                      const char *description, bool existing_ok, struct srv_kms_key *out)
{
    char uuid[37];
    const char *root_id = NULL;
    const struct cry_key *root = srv_rootkeys_active(ctx->kr, &root_id);
    struct cry_key *material = NULL;
    uint8_t wrapped[CRY_WRAPPED_LEN];
    struct sto_kms_key row, stored;
    struct cry_wrap_ctx wc;
    memset(&stored, 0, sizeof(stored));
    if (id == NULL) {
        new_uuid(uuid);
        id = uuid;
    }
    material_ctx(id, &wc);
    cof_err err = cry_key_new_random(&material);
    if (err == COF_OK)
        err = cry_env_wrap(root, &wc, material, wrapped);
    cry_key_free(material);
    if (err != COF_OK)
        return err;
    row = (struct sto_kms_key){
        .id = (char *)(uintptr_t)id,
        .state = "Enabled",
        .description = (char *)(uintptr_t)(description ? description : ""),
        .created_ms = cof_now_ms(),
        .kek_id = (char *)(uintptr_t)root_id,
        .material = wrapped,
        .material_len = sizeof(wrapped),
    };
    err = sto_meta_kms_create(ctx->meta, &row, alias, existing_ok, &stored);
    if (err == COF_OK)
        err = from_row(ctx, &stored, true, out);
    if (err == COF_OK && !existing_ok)
        cof_log_info(NULL, "KMS key %s created%s%s", out->id, alias ? " with " : "",
                     alias ? alias : "");
    sto_kms_key_cleanup(&stored);
    return err;
}

cof_err srv_kms_create(struct obj_ctx *ctx, const char *id, const char *alias,
                       const char *description, struct srv_kms_key *out)
{
    return create(ctx, id, alias, description, false, out);
}

/* Splits a reference into the name the store knows: key id or "alias/...". */
static bool parse_ref(const char *ref, char *name, size_t n)
{
    const char *p = ref;
    if (strncmp(ref, "arn:aws:kms:", 12) == 0) {
        /* arn:aws:kms:<region>:<account>:key/<id> | alias/<name> */
        const char *r = ref + 12;
        const char *c1 = strchr(r, ':');
        const char *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL)
            return false;
        p = c2 + 1;
        if (strncmp(p, "key/", 4) == 0)
            p += 4;
        else if (strncmp(p, "alias/", 6) != 0)
            return false;
    }
    size_t len = strlen(p);
    if (len == 0 || len >= n || strcmp(p, "alias/") == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = p[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '/';
        if (!ok)
            return false;
    }
    memcpy(name, p, len + 1);
    return true;
}

cof_err srv_kms_resolve(struct obj_ctx *ctx, const char *ref, bool create_missing,
                        struct srv_kms_key *out, char *msg, size_t msg_len)
{
    char name[128];
    struct sto_kms_key row;
    memset(out, 0, sizeof(*out));
    msg[0] = '\0';
    if (ref == NULL || ref[0] == '\0') {
        cof_err err = create(ctx, NULL, SRV_KMS_DEFAULT_ALIAS,
                             "Default key that protects my S3 objects when no other key is "
                             "defined",
                             true, out);
        return err == COF_OK ? check_state(out, msg, msg_len) : err;
    }
    if (!parse_ref(ref, name, sizeof(name))) {
        snprintf(msg, msg_len, "Invalid keyId '%.100s'", ref);
        return COF_ERR_KMS_NOT_FOUND;
    }
    cof_err err = sto_meta_kms_get(ctx->meta, name, &row);
    if (err == COF_ERR_NOT_FOUND) {
        if (!create_missing) {
            if (strncmp(name, "alias/", 6) == 0)
                snprintf(msg, msg_len, "Alias arn:aws:kms:%s:%s:%s is not found.", ctx->region,
                         SRV_KMS_ACCOUNT, name);
            else
                snprintf(msg, msg_len, "Key 'arn:aws:kms:%s:%s:key/%s' does not exist", ctx->region,
                         SRV_KMS_ACCOUNT, name);
            return COF_ERR_KMS_NOT_FOUND;
        }
        bool is_alias = strncmp(name, "alias/", 6) == 0;
        err = create(ctx, is_alias ? NULL : name, is_alias ? name : NULL, "", true, out);
        return err == COF_OK ? check_state(out, msg, msg_len) : err;
    }
    if (err != COF_OK)
        return err;
    err = from_row(ctx, &row, true, out);
    sto_kms_key_cleanup(&row);
    if (err == COF_OK)
        err = check_state(out, msg, msg_len);
    return err;
}

cof_err srv_kms_load(struct obj_ctx *ctx, const char *id, struct srv_kms_key *out, char *msg,
                     size_t msg_len)
{
    struct sto_kms_key row;
    memset(out, 0, sizeof(*out));
    msg[0] = '\0';
    cof_err err = sto_meta_kms_get(ctx->meta, id, &row);
    if (err == COF_ERR_NOT_FOUND) {
        snprintf(msg, msg_len, "Key 'arn:aws:kms:%s:%s:key/%.64s' does not exist", ctx->region,
                 SRV_KMS_ACCOUNT, id);
        return COF_ERR_KMS_NOT_FOUND;
    }
    if (err != COF_OK)
        return err;
    err = from_row(ctx, &row, true, out);
    sto_kms_key_cleanup(&row);
    if (err == COF_OK)
        err = check_state(out, msg, msg_len);
    return err;
}

cof_err srv_kms_rewrap(struct obj_ctx *ctx, const char *id)
{
    struct sto_kms_key row;
    struct srv_kms_key k;
    struct cry_wrap_ctx wc;
    uint8_t wrapped[CRY_WRAPPED_LEN];
    const char *new_id = NULL;
    const struct cry_key *root = srv_rootkeys_active(ctx->kr, &new_id);
    cof_err err = sto_meta_kms_get(ctx->meta, id, &row);
    if (err != COF_OK)
        return err;
    if (strcmp(row.kek_id, new_id) == 0) {
        sto_kms_key_cleanup(&row);
        return COF_OK;
    }
    err = from_row(ctx, &row, true, &k);
    material_ctx(row.id, &wc);
    if (err == COF_OK)
        err = cry_env_wrap(root, &wc, k.material, wrapped);
    if (err == COF_OK)
        err = sto_meta_kms_rewrap(ctx->meta, row.id, row.kek_id, new_id, wrapped, sizeof(wrapped));
    srv_kms_key_cleanup(&k);
    sto_kms_key_cleanup(&row);
    return err;
}
