/* SPDX-License-Identifier: Apache-2.0 */
/* Local KMS keys. Material: 32 random bytes per version, wrapped with CRY_MODE_KMS_MATERIAL
 * under the key's root key, bound to the key id and the version; unwrapped per use and wiped
 * after. Also the KMS API's ciphertext blobs (format in kms.h). */
#include "object/kms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "crypto/envelope.h"
#include "object/rootkeys.h"
#include "storage/meta.h"

static const uint8_t no_blob[CRY_BLOB_ID_LEN];

#define BLOB_MAGIC     "CKB1"
#define BLOB_AAD_LABEL "coffer-kms-ciphertext-v1"
#define MAX_VERSIONS   4096u /* rotations a key can have (a cap on the stored material) */

void srv_kms_arn(const struct obj_ctx *ctx, const char *id, char *out, size_t n)
{
    size_t idlen = strcspn(id, "#");
    snprintf(out, n, "arn:aws:kms:%s:%s:key/%.*s", ctx->region, SRV_KMS_ACCOUNT, (int)idlen, id);
}

void srv_kms_key_cleanup(struct srv_kms_key *k)
{
    if (k == NULL)
        return;
    cry_key_free(k->material);
    k->material = NULL;
}

/* Version 0 keeps the label keys had before rotation existed, so their material unwraps as is. */
static void material_ctx(const char *id, uint32_t version, char label[40], struct cry_wrap_ctx *wc)
{
    if (version == 0)
        snprintf(label, 40, "kms-key-material");
    else
        snprintf(label, 40, "kms-key-material-v%u", version);
    wc->mode = CRY_MODE_KMS_MATERIAL;
    wc->bucket = "";
    wc->key = id;
    wc->version_id = label;
    wc->blob_id = no_blob;
    wc->enc_context = NULL;
}

static uint32_t versions_of(const struct sto_kms_key *row)
{
    return (uint32_t)(row->material_len / CRY_WRAPPED_LEN);
}

/* Unwraps material version v of a stored row. */
static cof_err unwrap_version(struct obj_ctx *ctx, const struct sto_kms_key *row, uint32_t v,
                              struct cry_key **out)
{
    char label[40];
    struct cry_wrap_ctx wc;
    const struct cry_key *root = srv_rootkeys_find(ctx->kr, row->kek_id);
    if (root == NULL) {
        cof_log_error(NULL, "KMS key %s is wrapped by root key '%s', which is not in the keyring",
                      row->id, row->kek_id);
        return COF_ERR_KEY_ABSENT;
    }
    material_ctx(row->id, v, label, &wc);
    cof_err err = cry_env_unwrap(root, &wc, row->material + (size_t)v * CRY_WRAPPED_LEN,
                                 CRY_WRAPPED_LEN, out);
    if (err != COF_OK)
        cof_log_error(NULL, "cannot unwrap material version %u of KMS key %s: %s", v, row->id,
                      cof_err_name(err));
    return err;
}

/* Fills out from a stored row; unwraps material version (UINT32_MAX: the newest) when
 * want_material. */
static cof_err from_row(struct obj_ctx *ctx, const struct sto_kms_key *row, bool want_material,
                        uint32_t version, struct srv_kms_key *out)
{
    memset(out, 0, sizeof(*out));
    uint32_t n = versions_of(row);
    if (strlen(row->id) >= sizeof(out->id) || strlen(row->state) >= sizeof(out->state) || n == 0 ||
        row->material_len % CRY_WRAPPED_LEN != 0)
        return COF_ERR_INTEGRITY;
    memcpy(out->id, row->id, strlen(row->id) + 1);
    memcpy(out->state, row->state, strlen(row->state) + 1);
    srv_kms_arn(ctx, row->id, out->arn, sizeof(out->arn));
    out->versions = n;
    out->version = version == UINT32_MAX ? n - 1 : version;
    if (out->version == 0)
        snprintf(out->ref, sizeof(out->ref), "%s", row->id);
    else
        snprintf(out->ref, sizeof(out->ref), "%s#%u", row->id, out->version);
    if (!want_material)
        return COF_OK;
    if (out->version >= n) {
        cof_log_error(NULL, "KMS key %s has no material version %u", row->id, out->version);
        return COF_ERR_KEY;
    }
    return unwrap_version(ctx, row, out->version, &out->material);
}

/* Deletes row's key for good when its deletion date has passed: true if it did. */
static bool expire(struct obj_ctx *ctx, const struct sto_kms_key *row, cof_err *err)
{
    *err = COF_OK;
    if (strcmp(row->state, "PendingDeletion") != 0 || row->deletion_ms <= 0 ||
        row->deletion_ms > cof_now_ms())
        return false;
    *err = sto_meta_kms_delete(ctx->meta, row->id);
    if (*err == COF_ERR_NOT_FOUND)
        *err = COF_OK; /* deleted meanwhile */
    if (*err == COF_OK)
        cof_log_info(NULL, "KMS key %s deleted: its deletion date has passed (material destroyed)",
                     row->id);
    return *err == COF_OK;
}

static cof_err rotate_once(struct obj_ctx *ctx, const struct sto_kms_key *row, bool on_demand);
static bool parse_ref(const char *ref, char *name, size_t n);

static bool rotation_due(const struct sto_kms_key *k)
{
    return k->rotation_days > 0 && strcmp(k->state, "Enabled") == 0 &&
           k->rotated_ms + k->rotation_days * 86400000 <= cof_now_ms();
}

cof_err srv_kms_get_row(struct obj_ctx *ctx, const char *id_or_alias, struct sto_kms_key *out)
{
    cof_err err = sto_meta_kms_get(ctx->meta, id_or_alias, out);
    cof_err del = COF_OK;
    if (err == COF_OK && expire(ctx, out, &del)) {
        sto_kms_key_cleanup(out);
        return COF_ERR_NOT_FOUND;
    }
    if (del != COF_OK) {
        sto_kms_key_cleanup(out);
        return del;
    }
    /* Automatic rotation happens when a key is used after its date (no timer needed): a failed
     * attempt is logged and the key keeps its current material until the next use. */
    if (err == COF_OK && rotation_due(out)) {
        cof_err r = rotate_once(ctx, out, false);
        if (r == COF_OK) {
            sto_kms_key_cleanup(out);
            err = sto_meta_kms_get(ctx->meta, id_or_alias, out);
        } else {
            cof_log_warn(NULL, "automatic rotation of KMS key %s failed: %s", out->id,
                         cof_err_name(r));
        }
    }
    return err;
}

cof_err srv_kms_find(struct obj_ctx *ctx, const char *ref, struct sto_kms_key *out, char *msg,
                     size_t msg_len)
{
    char name[128];
    memset(out, 0, sizeof(*out));
    msg[0] = '\0';
    if (ref == NULL || !parse_ref(ref, name, sizeof(name))) {
        snprintf(msg, msg_len, "Invalid keyId '%.100s'", ref != NULL ? ref : "");
        return COF_ERR_KMS_NOT_FOUND;
    }
    if (strcmp(name, SRV_KMS_DEFAULT_ALIAS) == 0) {
        struct srv_kms_key k;
        char ignored[256];
        cof_err err = srv_kms_resolve(ctx, NULL, false, &k, ignored, sizeof(ignored));
        srv_kms_key_cleanup(&k);
        if (err != COF_OK && err != COF_ERR_KMS_DISABLED && err != COF_ERR_KMS_INVALID_STATE)
            return err;
    }
    cof_err err = srv_kms_get_row(ctx, name, out);
    if (err != COF_ERR_NOT_FOUND)
        return err;
    if (strncmp(name, "alias/", 6) == 0)
        snprintf(msg, msg_len, "Alias arn:aws:kms:%s:%s:%s is not found.", ctx->region,
                 SRV_KMS_ACCOUNT, name);
    else
        snprintf(msg, msg_len, "Key 'arn:aws:kms:%s:%s:key/%s' does not exist", ctx->region,
                 SRV_KMS_ACCOUNT, name);
    return COF_ERR_KMS_NOT_FOUND;
}

/* Key ids collected for a sweep. */
struct id_list {
    char **v;
    size_t n, cap;
};

static cof_err collect_expired(const struct sto_kms_key *k, void *arg)
{
    struct id_list *l = arg;
    if (strcmp(k->state, "PendingDeletion") != 0 || k->deletion_ms <= 0 ||
        k->deletion_ms > cof_now_ms())
        return COF_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return COF_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strdup(k->id);
    return l->v[l->n++] != NULL ? COF_OK : COF_ERR_NOMEM;
}

cof_err srv_kms_sweep(struct obj_ctx *ctx)
{
    struct id_list l = {NULL, 0, 0};
    cof_err err = sto_meta_kms_each(ctx->meta, collect_expired, &l);
    for (size_t i = 0; err == COF_OK && i < l.n; i++) {
        struct sto_kms_key row;
        err = srv_kms_get_row(ctx, l.v[i], &row); /* deletes it */
        if (err == COF_OK)
            sto_kms_key_cleanup(&row);
        if (err == COF_ERR_NOT_FOUND)
            err = COF_OK;
    }
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i]);
    free(l.v);
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
                      const char *description, const char *policy, bool existing_ok,
                      struct srv_kms_key *out)
{
    char label[40];
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
    material_ctx(id, 0, label, &wc);
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
        .policy = (char *)(uintptr_t)policy,
    };
    err = sto_meta_kms_create(ctx->meta, &row, alias, existing_ok, &stored);
    if (err == COF_OK)
        err = from_row(ctx, &stored, true, UINT32_MAX, out);
    if (err == COF_OK && !existing_ok)
        cof_log_info(NULL, "KMS key %s created%s%s", out->id, alias ? " with " : "",
                     alias ? alias : "");
    sto_kms_key_cleanup(&stored);
    return err;
}

cof_err srv_kms_create(struct obj_ctx *ctx, const char *id, const char *alias,
                       const char *description, const char *policy, struct srv_kms_key *out)
{
    return create(ctx, id, alias, description, policy, false, out);
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
                             NULL, true, out);
        return err == COF_OK ? check_state(out, msg, msg_len) : err;
    }
    if (!parse_ref(ref, name, sizeof(name))) {
        snprintf(msg, msg_len, "Invalid keyId '%.100s'", ref);
        return COF_ERR_KMS_NOT_FOUND;
    }
    cof_err err = srv_kms_get_row(ctx, name, &row);
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
        err = create(ctx, is_alias ? NULL : name, is_alias ? name : NULL, "", NULL, true, out);
        return err == COF_OK ? check_state(out, msg, msg_len) : err;
    }
    if (err != COF_OK)
        return err;
    err = from_row(ctx, &row, true, UINT32_MAX, out);
    sto_kms_key_cleanup(&row);
    if (err == COF_OK)
        err = check_state(out, msg, msg_len);
    return err;
}

/* Splits "<id>#<version>" (version > 0) or "<id>"; false when malformed. */
static bool split_ref(const char *ref, char *id, size_t id_len, uint32_t *version)
{
    const char *hash = strchr(ref, '#');
    size_t n = hash != NULL ? (size_t)(hash - ref) : strlen(ref);
    *version = 0;
    if (n == 0 || n >= id_len)
        return false;
    memcpy(id, ref, n);
    id[n] = '\0';
    if (hash == NULL)
        return true;
    char *end = NULL;
    unsigned long v = strtoul(hash + 1, &end, 10);
    if (hash[1] < '1' || hash[1] > '9' || *end != '\0' || v >= MAX_VERSIONS)
        return false;
    *version = (uint32_t)v;
    return true;
}

cof_err srv_kms_load(struct obj_ctx *ctx, const char *ref, struct srv_kms_key *out, char *msg,
                     size_t msg_len)
{
    struct sto_kms_key row;
    char id[80];
    uint32_t version = 0;
    memset(out, 0, sizeof(*out));
    msg[0] = '\0';
    bool ok = split_ref(ref, id, sizeof(id), &version);
    cof_err err =
        ok && strncmp(id, "alias/", 6) != 0 ? srv_kms_get_row(ctx, id, &row) : COF_ERR_NOT_FOUND;
    if (err == COF_ERR_NOT_FOUND) {
        snprintf(msg, msg_len, "Key 'arn:aws:kms:%s:%s:key/%.64s' does not exist", ctx->region,
                 SRV_KMS_ACCOUNT, ok ? id : ref);
        return COF_ERR_KMS_NOT_FOUND;
    }
    if (err != COF_OK)
        return err;
    err = from_row(ctx, &row, true, version, out);
    sto_kms_key_cleanup(&row);
    if (err == COF_OK)
        err = check_state(out, msg, msg_len);
    return err;
}

cof_err srv_kms_rewrap(struct obj_ctx *ctx, const char *id)
{
    struct sto_kms_key row;
    struct cry_wrap_ctx wc;
    char label[40];
    uint8_t *wrapped = NULL;
    const char *new_id = NULL;
    const struct cry_key *root = srv_rootkeys_active(ctx->kr, &new_id);
    cof_err err = sto_meta_kms_get(ctx->meta, id, &row);
    if (err != COF_OK)
        return err;
    uint32_t n = versions_of(&row);
    if (strcmp(row.kek_id, new_id) == 0 || n == 0) {
        sto_kms_key_cleanup(&row);
        return n == 0 ? COF_ERR_INTEGRITY : COF_OK;
    }
    /* Every version moves to the new root key together (one compare-and-swap). */
    wrapped = malloc((size_t)n * CRY_WRAPPED_LEN);
    err = wrapped != NULL ? COF_OK : COF_ERR_NOMEM;
    for (uint32_t v = 0; err == COF_OK && v < n; v++) {
        struct cry_key *material = NULL;
        err = unwrap_version(ctx, &row, v, &material);
        material_ctx(row.id, v, label, &wc);
        if (err == COF_OK)
            err = cry_env_wrap(root, &wc, material, wrapped + (size_t)v * CRY_WRAPPED_LEN);
        cry_key_free(material);
    }
    if (err == COF_OK)
        err = sto_meta_kms_rewrap(ctx->meta, row.id, row.kek_id, new_id, wrapped,
                                  (size_t)n * CRY_WRAPPED_LEN);
    free(wrapped);
    sto_kms_key_cleanup(&row);
    return err;
}

/* One rotation attempt: the new version is wrapped by the key's own root key, so that all
 * versions stay under one kek_id. */
static cof_err rotate_once(struct obj_ctx *ctx, const struct sto_kms_key *row, bool on_demand)
{
    struct cry_key *material = NULL;
    struct cry_wrap_ctx wc;
    char label[40];
    uint32_t n = versions_of(row);
    if (n == 0 || n >= MAX_VERSIONS)
        return n == 0 ? COF_ERR_INTEGRITY : COF_ERR_TOO_LARGE;
    const struct cry_key *root = srv_rootkeys_find(ctx->kr, row->kek_id);
    if (root == NULL)
        return COF_ERR_KEY_ABSENT;
    size_t len = row->material_len + CRY_WRAPPED_LEN;
    uint8_t *all = malloc(len);
    if (all == NULL)
        return COF_ERR_NOMEM;
    memcpy(all, row->material, row->material_len);
    material_ctx(row->id, n, label, &wc);
    cof_err err = cry_key_new_random(&material);
    if (err == COF_OK)
        err = cry_env_wrap(root, &wc, material, all + row->material_len);
    cry_key_free(material);
    if (err == COF_OK)
        err = sto_meta_kms_add_material(ctx->meta, row->id, row->kek_id, row->material_len, all,
                                        len, n, cof_now_ms(), on_demand);
    if (err == COF_OK)
        cof_log_info(NULL, "KMS key %s rotated: material version %u", row->id, n);
    free(all);
    return err;
}

cof_err srv_kms_rotate(struct obj_ctx *ctx, const char *id, bool on_demand)
{
    cof_err err = COF_ERR_NOT_FOUND;
    /* A concurrent rotation or root key re-wrap changes the row: reload and retry. */
    for (int attempt = 0; attempt < 3 && err == COF_ERR_NOT_FOUND; attempt++) {
        struct sto_kms_key row;
        err = srv_kms_get_row(ctx, id, &row);
        if (err != COF_OK)
            return err;
        err = rotate_once(ctx, &row, on_demand);
        sto_kms_key_cleanup(&row);
    }
    return err;
}

static cof_err collect_due(const struct sto_kms_key *k, void *arg)
{
    struct id_list *l = arg;
    if (k->rotation_days <= 0 || strcmp(k->state, "Enabled") != 0 ||
        k->rotated_ms + k->rotation_days * 86400000 > cof_now_ms())
        return COF_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return COF_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strdup(k->id);
    return l->v[l->n++] != NULL ? COF_OK : COF_ERR_NOMEM;
}

cof_err srv_kms_rotate_due(struct obj_ctx *ctx)
{
    struct id_list l = {NULL, 0, 0};
    cof_err err = sto_meta_kms_each(ctx->meta, collect_due, &l);
    for (size_t i = 0; err == COF_OK && i < l.n; i++)
        err = srv_kms_rotate(ctx, l.v[i], false);
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i]);
    free(l.v);
    return err;
}

/* ---- ciphertext blobs (format in kms.h) ---------------------------------------------------- */

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

cof_err srv_kms_context_add(uint8_t *buf, size_t cap, size_t *len, const char *key,
                            const char *value)
{
    size_t kl = strlen(key), vl = strlen(value);
    if (kl > cap || vl > cap || *len + 8 + kl + vl > cap)
        return COF_ERR_TOO_LARGE;
    uint8_t *p = buf + *len;
    put_u32(p, (uint32_t)kl);
    memcpy(p + 4, key, kl);
    put_u32(p + 4 + kl, (uint32_t)vl);
    memcpy(p + 8 + kl, value, vl);
    *len += 8 + kl + vl;
    return COF_OK;
}

/* Header length of a blob, or 0 when b is not a blob header. */
static size_t blob_header(const uint8_t *b, size_t n)
{
    if (n < 6 || memcmp(b, BLOB_MAGIC, 4) != 0 || b[4] == 0 || b[4] > 63 ||
        n < 5u + b[4] + 4u + CRY_SEALED_LEN(0))
        return 0;
    return 5u + b[4] + 4u;
}

/* AAD = label || header || canonical context. Caller frees *out. */
static cof_err blob_aad(const uint8_t *hdr, size_t hl, const uint8_t *context, size_t cl,
                        uint8_t **out, size_t *out_len)
{
    size_t ll = sizeof(BLOB_AAD_LABEL) - 1;
    uint8_t *a = malloc(ll + hl + cl + 1);
    if (a == NULL)
        return COF_ERR_NOMEM;
    memcpy(a, BLOB_AAD_LABEL, ll);
    memcpy(a + ll, hdr, hl);
    if (cl > 0)
        memcpy(a + ll + hl, context, cl);
    *out = a;
    *out_len = ll + hl + cl;
    return COF_OK;
}

cof_err srv_kms_encrypt(const struct srv_kms_key *k, const uint8_t *context, size_t context_len,
                        const uint8_t *pt, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t il = strlen(k->id);
    size_t hl = 5 + il + 4;
    uint8_t *aad = NULL;
    size_t aad_len = 0, sl = 0;
    *out_len = 0;
    if (k->material == NULL || il == 0 || il > 63)
        COF_BUG("srv_kms_encrypt: key without material or with a bad id");
    if (cap < hl + CRY_SEALED_LEN(n))
        return COF_ERR_TOO_LARGE;
    memcpy(out, BLOB_MAGIC, 4);
    out[4] = (uint8_t)il;
    memcpy(out + 5, k->id, il);
    put_u32(out + 5 + il, k->version);
    cof_err err = blob_aad(out, hl, context, context_len, &aad, &aad_len);
    if (err == COF_OK)
        err = cry_env_seal_msg(k->material, aad, aad_len, pt, n, out + hl, cap - hl, &sl);
    free(aad);
    if (err == COF_OK)
        *out_len = hl + sl;
    return err;
}

cof_err srv_kms_blob_ref(const uint8_t *blob, size_t n, char *ref, size_t ref_len)
{
    size_t hl = blob_header(blob, n);
    if (hl == 0)
        return COF_ERR_INTEGRITY;
    size_t il = blob[4];
    const uint8_t *v = blob + 5 + il;
    uint32_t version = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
    for (size_t i = 0; i < il; i++) {
        uint8_t c = blob[5 + i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok)
            return COF_ERR_INTEGRITY;
    }
    if (version >= MAX_VERSIONS || il + 12 > ref_len)
        return COF_ERR_INTEGRITY;
    if (version == 0)
        snprintf(ref, ref_len, "%.*s", (int)il, (const char *)blob + 5);
    else
        snprintf(ref, ref_len, "%.*s#%u", (int)il, (const char *)blob + 5, version);
    return COF_OK;
}

cof_err srv_kms_decrypt(const struct srv_kms_key *k, const uint8_t *context, size_t context_len,
                        const uint8_t *blob, size_t n, uint8_t *pt, size_t cap, size_t *pt_len)
{
    size_t hl = blob_header(blob, n);
    uint8_t *aad = NULL;
    size_t aad_len = 0;
    *pt_len = 0;
    if (hl == 0)
        return COF_ERR_INTEGRITY;
    if (k->material == NULL)
        COF_BUG("srv_kms_decrypt: key without material");
    cof_err err = blob_aad(blob, hl, context, context_len, &aad, &aad_len);
    if (err == COF_OK)
        err = cry_env_open_msg(k->material, aad, aad_len, blob + hl, n - hl, pt, cap, pt_len);
    free(aad);
    return err;
}
