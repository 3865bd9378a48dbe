/* SPDX-License-Identifier: Apache-2.0 */
/* The KMS API handlers' shared code (see kmsjson.h): JSON 1.1 bodies, AWS's validation and
 * key-state errors, KeyMetadata, pagination. No handler here. */
#include "ops/kmsjson.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "crypto/key.h"
#include "object/kms.h"
#include "ops/req.h"
#include "s3/uri.h"

static cof_err validation(struct srv_req *req, const char *message)
{
    return srv_fail_service(req, 400, "ValidationException", message);
}

cof_err ops_kms_body(struct srv_req *req, json_t **out)
{
    json_error_t jerr;
    *out = NULL;
    if (req->body_err == COF_ERR_TOO_LARGE)
        return validation(req, "The request body is too large.");
    if (req->body.len == 0) {
        *out = json_object();
        return *out != NULL ? COF_OK : COF_ERR_NOMEM;
    }
    json_t *j = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL || !json_is_object(j)) {
        json_decref(j);
        return srv_fail_service(req, 400, "SerializationException",
                                "The request body is not a JSON object.");
    }
    *out = j;
    return COF_OK;
}

cof_err ops_kms_str(struct srv_req *req, json_t *body, const char *name, const char *field,
                    bool required, const char **out)
{
    char msg[256];
    json_t *v = json_object_get(body, name);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (!required)
            return COF_OK;
        snprintf(msg, sizeof(msg),
                 "1 validation error detected: Value null at '%s' failed to satisfy constraint: "
                 "Member must not be null",
                 field);
        return validation(req, msg);
    }
    if (!json_is_string(v)) {
        snprintf(msg, sizeof(msg), "%s must be a string.", name);
        return srv_fail_service(req, 400, "SerializationException", msg);
    }
    *out = json_string_value(v);
    return COF_OK;
}

cof_err ops_kms_int(struct srv_req *req, json_t *body, const char *name, bool *present,
                    int64_t *out)
{
    char msg[128];
    json_t *v = json_object_get(body, name);
    *present = false;
    *out = 0;
    if (v == NULL || json_is_null(v))
        return COF_OK;
    if (!json_is_integer(v)) {
        snprintf(msg, sizeof(msg), "%s must be an integer.", name);
        return srv_fail_service(req, 400, "SerializationException", msg);
    }
    *present = true;
    *out = (int64_t)json_integer_value(v);
    return COF_OK;
}

cof_err ops_kms_range(struct srv_req *req, const char *field, int64_t v, int64_t lo, int64_t hi)
{
    char msg[256];
    if (v >= lo && v <= hi)
        return COF_OK;
    snprintf(msg, sizeof(msg),
             "1 validation error detected: Value '%" PRId64 "' at '%s' failed to satisfy "
             "constraint: Member must have value %s than or equal to %" PRId64,
             v, field, v < lo ? "greater" : "less", v < lo ? lo : hi);
    return validation(req, msg);
}

void ops_kms_arn(const struct srv_req *req, const char *id, char *out, size_t n)
{
    srv_kms_arn(&req->ctx->obj, id, out, n);
}

cof_err ops_kms_key(struct srv_req *req, const char *ref, unsigned allowed, struct sto_kms_key *out)
{
    char msg[320], arn[200];
    cof_err err = srv_kms_find(&req->ctx->obj, ref, out, msg, sizeof(msg));
    if (err == COF_ERR_KMS_NOT_FOUND)
        return srv_fail_service(req, 400, "NotFoundException", msg);
    if (err != COF_OK)
        return err;
    unsigned state = strcmp(out->state, "Enabled") == 0    ? OPS_KMS_ENABLED
                     : strcmp(out->state, "Disabled") == 0 ? OPS_KMS_DISABLED
                                                           : OPS_KMS_PENDING;
    if ((allowed & state) != 0)
        return COF_OK;
    ops_kms_arn(req, out->id, arn, sizeof(arn));
    sto_kms_key_cleanup(out);
    if (state == OPS_KMS_DISABLED && (allowed & OPS_KMS_PENDING) == 0) {
        snprintf(msg, sizeof(msg), "%s is disabled.", arn);
        return srv_fail_service(req, 400, "DisabledException", msg);
    }
    snprintf(msg, sizeof(msg), "%s is %s.", arn,
             state == OPS_KMS_PENDING ? "pending deletion" : "not pending deletion");
    return srv_fail_service(req, 400, "KMSInvalidStateException", msg);
}

json_t *ops_kms_date(int64_t ms)
{
    return json_real((double)ms / 1000.0);
}

/* A key is AWS managed when it backs an alias/aws/ alias (alias/aws/s3). */
static bool aws_managed(const struct sto_kms_key *k)
{
    const char *a = k->aliases;
    while (a != NULL && *a != '\0') {
        if (strncmp(a, "alias/aws/", 10) == 0)
            return true;
        a = strchr(a, ',');
        a = a != NULL ? a + 1 : NULL;
    }
    return false;
}

json_t *ops_kms_metadata(const struct srv_req *req, const struct sto_kms_key *k)
{
    char arn[200];
    ops_kms_arn(req, k->id, arn, sizeof(arn));
    json_t *m = json_pack(
        "{s:s, s:s, s:s, s:o, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:b}", "AWSAccountId",
        SRV_KMS_ACCOUNT, "KeyId", k->id, "Arn", arn, "CreationDate", ops_kms_date(k->created_ms),
        "Enabled", strcmp(k->state, "Enabled") == 0, "Description",
        k->description != NULL ? k->description : "", "KeyUsage", "ENCRYPT_DECRYPT", "KeyState",
        k->state, "Origin", "AWS_KMS", "KeyManager", aws_managed(k) ? "AWS" : "CUSTOMER",
        "CustomerMasterKeySpec", "SYMMETRIC_DEFAULT", "KeySpec", "SYMMETRIC_DEFAULT",
        "EncryptionAlgorithms", "SYMMETRIC_DEFAULT", "MultiRegion", 0);
    if (m != NULL && strcmp(k->state, "PendingDeletion") == 0 && k->deletion_ms > 0) {
        /* The window is not stored: whole days left, rounded up (right after scheduling it is
         * the window asked for). */
        int64_t left = k->deletion_ms - cof_now_ms();
        int64_t days = left > 0 ? (left + 86399999) / 86400000 : 0;
        if (json_object_set_new(m, "DeletionDate", ops_kms_date(k->deletion_ms)) != 0 ||
            json_object_set_new(m, "PendingDeletionWindowInDays", json_integer(days)) != 0) {
            json_decref(m);
            return NULL;
        }
    }
    return m;
}

/* qsort order of context keys (byte order, as AWS canonicalises). */
static int by_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

cof_err ops_kms_context(struct srv_req *req, json_t *body, const char *name, uint8_t *buf,
                        size_t cap, size_t *len)
{
    json_t *ctx = json_object_get(body, name);
    const char *keys[64];
    const char *k;
    json_t *v;
    size_t n = 0;
    *len = 0;
    if (ctx == NULL || json_is_null(ctx))
        return COF_OK;
    if (!json_is_object(ctx) || json_object_size(ctx) > sizeof(keys) / sizeof(keys[0]))
        return validation(req, "EncryptionContext must be a map of at most 64 string pairs.");
    json_object_foreach(ctx, k, v)
    {
        if (!json_is_string(v))
            return validation(req, "EncryptionContext values must be strings.");
        keys[n++] = k;
    }
    qsort(keys, n, sizeof(keys[0]), by_key);
    for (size_t i = 0; i < n; i++) {
        const char *val = json_string_value(json_object_get(ctx, keys[i]));
        if (srv_kms_context_add(buf, cap, len, keys[i], val) != COF_OK)
            return validation(req, "EncryptionContext is too large.");
    }
    return COF_OK;
}

cof_err ops_kms_blob(struct srv_req *req, json_t *body, const char *name, const char *field,
                     size_t max, uint8_t *out, size_t *out_len)
{
    char msg[256];
    const char *b64 = NULL;
    *out_len = 0;
    cof_err err = ops_kms_str(req, body, name, field, true, &b64);
    if (err != COF_OK)
        return err;
    err = srv_base64_decode(b64, out, max, out_len);
    if (err == COF_ERR_INVALID)
        return srv_fail_service(req, 400, "SerializationException",
                                "Binary fields must be valid base64.");
    if (err == COF_ERR_TOO_LARGE || (err == COF_OK && *out_len == 0)) {
        snprintf(msg, sizeof(msg),
                 "1 validation error detected: Value at '%s' failed to satisfy constraint: "
                 "Member must have length %s than or equal to %zu",
                 field, *out_len == 0 && err == COF_OK ? "greater" : "less",
                 *out_len == 0 && err == COF_OK ? (size_t)1 : max);
        return validation(req, msg);
    }
    return err;
}

cof_err ops_kms_set_b64(json_t *doc, const char *name, const uint8_t *p, size_t n)
{
    char *b64 = malloc(4 * ((n + 2) / 3) + 1);
    if (b64 == NULL)
        return COF_ERR_NOMEM;
    srv_base64_encode(p, n, b64);
    int rc = json_object_set_new(doc, name, json_string(b64));
    cry_wipe(b64, strlen(b64)); /* a data key's plaintext passes through here */
    free(b64);
    return rc == 0 ? COF_OK : COF_ERR_NOMEM;
}

cof_err ops_kms_page(struct srv_req *req, json_t *body, size_t *offset, size_t *limit)
{
    bool have = false;
    int64_t v = 0;
    const char *marker = NULL;
    *offset = 0;
    *limit = 100;
    cof_err err = ops_kms_int(req, body, "Limit", &have, &v);
    if (err == COF_OK && have)
        err = ops_kms_range(req, "limit", v, 1, 1000);
    if (err == COF_OK && have)
        *limit = (size_t)v;
    if (err == COF_OK)
        err = ops_kms_str(req, body, "Marker", "marker", false, &marker);
    if (err == COF_OK && marker != NULL) {
        char *end = NULL;
        unsigned long long o = strtoull(marker, &end, 10);
        if (marker[0] < '0' || marker[0] > '9' || *end != '\0' || o > 1000000000ull)
            return srv_fail_service(req, 400, "InvalidMarkerException",
                                    "The marker is not one this server issued.");
        *offset = (size_t)o;
    }
    return err;
}

cof_err ops_kms_reply_page(struct srv_req *req, const char *field, json_t *list, size_t offset,
                           size_t limit, size_t total)
{
    char next[32];
    size_t end = offset + limit < total ? offset + limit : total;
    bool more = end < total;
    snprintf(next, sizeof(next), "%zu", end);
    json_t *doc = json_pack("{s:O, s:b}", field, list, "Truncated", more);
    if (doc != NULL && more && json_object_set_new(doc, "NextMarker", json_string(next)) != 0) {
        json_decref(doc);
        doc = NULL;
    }
    return ops_kms_reply(req, doc);
}

cof_err ops_kms_reply(struct srv_req *req, json_t *doc)
{
    if (doc == NULL)
        return COF_ERR_NOMEM;
    char *text = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(13));
    json_decref(doc);
    return ops_reply_json(req, 200, text);
}

cof_err ops_kms_finish(struct srv_req *req, cof_err err, json_t *doc)
{
    if (err == COF_OK)
        return ops_kms_reply(req, doc);
    json_decref(doc);
    return err;
}
