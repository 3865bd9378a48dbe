/* SPDX-License-Identifier: Apache-2.0 */
/* KMS API (TrentService, JSON 1.1): cryptography under a key's material. Encrypt, Decrypt
 * (the blob names its key and material version: object/kms.h), ReEncrypt, GenerateDataKey,
 * GenerateDataKeyWithoutPlaintext, GenerateRandom. Plaintexts are wiped after use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/envelope.h"
#include "crypto/key.h"
#include "object/kms.h"
#include "ops/handlers.h"
#include "ops/kmsjson.h"
#include "ops/req.h"
#include "storage/meta.h"

/* Working buffers of one request (on the heap: they are large, and wiped). */
struct kms_work {
    uint8_t context[OPS_KMS_MAX_CONTEXT];
    uint8_t context2[OPS_KMS_MAX_CONTEXT];
    uint8_t pt[CRY_MSG_MAX];
    uint8_t blob[OPS_KMS_MAX_BLOB];
    uint8_t out[CRY_MSG_MAX + SRV_KMS_BLOB_OVERHEAD];
    size_t context_len, context2_len, pt_len, blob_len, out_len;
};

static struct kms_work *work_new(void)
{
    return calloc(1, sizeof(struct kms_work));
}

static void work_free(struct kms_work *w)
{
    if (w == NULL)
        return;
    cry_wipe(w, sizeof(*w));
    free(w);
}

static cof_err validation(struct srv_req *req, const char *message)
{
    return srv_fail_service(req, 400, "ValidationException", message);
}

static cof_err invalid_ciphertext(struct srv_req *req)
{
    return srv_fail_service(req, 400, "InvalidCiphertextException",
                            "The ciphertext is not one of this KMS's, was changed, or was "
                            "encrypted under another encryption context.");
}

/* EncryptionAlgorithm (any of its names): SYMMETRIC_DEFAULT only. */
static cof_err check_algorithm(struct srv_req *req, json_t *body, const char *name,
                               const char *field)
{
    const char *alg = NULL;
    char msg[320];
    cof_err err = ops_kms_str(req, body, name, field, false, &alg);
    if (err != COF_OK || alg == NULL || strcmp(alg, "SYMMETRIC_DEFAULT") == 0)
        return err;
    if (strcmp(alg, "RSAES_OAEP_SHA_1") == 0 || strcmp(alg, "RSAES_OAEP_SHA_256") == 0 ||
        strcmp(alg, "SM2PKE") == 0) {
        snprintf(msg, sizeof(msg), "coffer's KMS has symmetric keys only: %s %s is not supported.",
                 name, alg);
        return srv_fail_service(req, 400, "UnsupportedOperationException", msg);
    }
    snprintf(msg, sizeof(msg),
             "1 validation error detected: Value '%.64s' at '%s' failed to satisfy constraint: "
             "Member must satisfy enum value set: [SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, "
             "RSAES_OAEP_SHA_256, SM2PKE]",
             alg, field);
    return validation(req, msg);
}

/* GrantTokens are accepted (coffer has no grants): a list of strings. */
static cof_err check_grant_tokens(struct srv_req *req, json_t *body)
{
    json_t *t = json_object_get(body, "GrantTokens");
    if (t == NULL || json_is_null(t) || (json_is_array(t) && json_array_size(t) <= 10))
        return COF_OK;
    return validation(req, "1 validation error detected: Value at 'grantTokens' failed to "
                           "satisfy constraint: Member must have length less than or equal to 10");
}

/* Answers a failed srv_kms_load/resolve in the KMS API's words. */
static cof_err load_failed(struct srv_req *req, cof_err err, const char *msg)
{
    if (err == COF_ERR_KMS_NOT_FOUND)
        return srv_fail_service(req, 400, "NotFoundException", msg);
    if (err == COF_ERR_KMS_DISABLED)
        return srv_fail_service(req, 400, "DisabledException", msg);
    if (err == COF_ERR_KMS_INVALID_STATE)
        return srv_fail_service(req, 400, "KMSInvalidStateException", msg);
    if (err == COF_ERR_KEY)
        return invalid_ciphertext(req); /* a material version the key does not have */
    return err;
}

/* The enabled key ref names, with its newest material (for encrypting). */
static cof_err encrypting_key(struct srv_req *req, const char *ref, struct srv_kms_key *out)
{
    struct sto_kms_key row;
    char msg[320];
    memset(out, 0, sizeof(*out));
    cof_err err = ops_kms_key(req, ref, OPS_KMS_ENABLED, &row);
    if (err == COF_OK)
        err = srv_kms_resolve(&req->ctx->obj, row.id, false, out, msg, sizeof(msg));
    if (err != COF_OK && err != COF_ERR_SERVICE)
        err = load_failed(req, err, msg);
    sto_kms_key_cleanup(&row);
    return err;
}

/* Opens w->blob under w->context (the blob names its key): w->pt, and the key in *out.
 * expect_ref: the KeyId the request named, or NULL. */
static cof_err open_blob(struct srv_req *req, struct kms_work *w, const char *expect_ref,
                         struct srv_kms_key *out)
{
    char ref[96], msg[320];
    memset(out, 0, sizeof(*out));
    if (srv_kms_blob_ref(w->blob, w->blob_len, ref, sizeof(ref)) != COF_OK)
        return invalid_ciphertext(req);
    if (expect_ref != NULL) {
        struct sto_kms_key named;
        cof_err err = ops_kms_key(req, expect_ref, OPS_KMS_ANY, &named);
        if (err != COF_OK)
            return err;
        size_t idlen = strcspn(ref, "#");
        bool same = strlen(named.id) == idlen && strncmp(named.id, ref, idlen) == 0;
        sto_kms_key_cleanup(&named);
        if (!same)
            return srv_fail_service(req, 400, "IncorrectKeyException",
                                    "The key ID in the request does not identify a CMK that can "
                                    "perform this operation.");
    }
    cof_err err = srv_kms_load(&req->ctx->obj, ref, out, msg, sizeof(msg));
    if (err != COF_OK)
        return load_failed(req, err, msg);
    err = srv_kms_decrypt(out, w->context, w->context_len, w->blob, w->blob_len, w->pt,
                          sizeof(w->pt), &w->pt_len);
    if (err == COF_ERR_KEY || err == COF_ERR_INTEGRITY || err == COF_ERR_TOO_LARGE)
        return invalid_ciphertext(req);
    return err;
}

static cof_err seal(const struct srv_kms_key *k, struct kms_work *w, const uint8_t *context,
                    size_t context_len)
{
    return srv_kms_encrypt(k, context, context_len, w->pt, w->pt_len, w->out, sizeof(w->out),
                           &w->out_len);
}

cof_err ops_kms_encrypt(struct srv_req *req)
{
    json_t *body = NULL, *doc = NULL;
    const char *ref = NULL;
    struct srv_kms_key k;
    struct kms_work *w = work_new();
    memset(&k, 0, sizeof(k));
    cof_err err = w != NULL ? ops_kms_body(req, &body) : COF_ERR_NOMEM;
    if (err == COF_OK)
        err = ops_kms_str(req, body, "KeyId", "keyId", true, &ref);
    if (err == COF_OK)
        err = ops_kms_blob(req, body, "Plaintext", "plaintext", CRY_MSG_MAX, w->pt, &w->pt_len);
    if (err == COF_OK)
        err = check_algorithm(req, body, "EncryptionAlgorithm", "encryptionAlgorithm");
    if (err == COF_OK)
        err = check_grant_tokens(req, body);
    if (err == COF_OK)
        err = ops_kms_context(req, body, "EncryptionContext", w->context, sizeof(w->context),
                              &w->context_len);
    if (err == COF_OK)
        err = encrypting_key(req, ref, &k);
    if (err == COF_OK)
        err = seal(&k, w, w->context, w->context_len);
    if (err == COF_OK) {
        doc = json_pack("{s:s, s:s}", "KeyId", k.arn, "EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
        err = doc != NULL ? ops_kms_set_b64(doc, "CiphertextBlob", w->out, w->out_len)
                          : COF_ERR_NOMEM;
    }
    err = ops_kms_finish(req, err, doc);
    srv_kms_key_cleanup(&k);
    work_free(w);
    json_decref(body);
    return err;
}

cof_err ops_kms_decrypt(struct srv_req *req)
{
    json_t *body = NULL, *doc = NULL;
    const char *ref = NULL;
    struct srv_kms_key k;
    struct kms_work *w = work_new();
    memset(&k, 0, sizeof(k));
    cof_err err = w != NULL ? ops_kms_body(req, &body) : COF_ERR_NOMEM;
    if (err == COF_OK)
        err = ops_kms_blob(req, body, "CiphertextBlob", "ciphertextBlob", OPS_KMS_MAX_BLOB, w->blob,
                           &w->blob_len);
    if (err == COF_OK)
        err = ops_kms_str(req, body, "KeyId", "keyId", false, &ref);
    if (err == COF_OK)
        err = check_algorithm(req, body, "EncryptionAlgorithm", "encryptionAlgorithm");
    if (err == COF_OK)
        err = check_grant_tokens(req, body);
    if (err == COF_OK && json_object_get(body, "Recipient") != NULL)
        err = srv_fail_service(req, 400, "UnsupportedOperationException",
                               "coffer's KMS has no Nitro Enclaves attestation (Recipient).");
    if (err == COF_OK)
        err = ops_kms_context(req, body, "EncryptionContext", w->context, sizeof(w->context),
                              &w->context_len);
    if (err == COF_OK)
        err = open_blob(req, w, ref, &k);
    if (err == COF_OK) {
        doc = json_pack("{s:s, s:s}", "KeyId", k.arn, "EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
        err = doc != NULL ? ops_kms_set_b64(doc, "Plaintext", w->pt, w->pt_len) : COF_ERR_NOMEM;
    }
    err = ops_kms_finish(req, err, doc);
    srv_kms_key_cleanup(&k);
    work_free(w);
    json_decref(body);
    return err;
}

cof_err ops_kms_re_encrypt(struct srv_req *req)
{
    json_t *body = NULL, *doc = NULL;
    const char *src_ref = NULL, *dst_ref = NULL;
    struct srv_kms_key src, dst;
    struct kms_work *w = work_new();
    memset(&src, 0, sizeof(src));
    memset(&dst, 0, sizeof(dst));
    cof_err err = w != NULL ? ops_kms_body(req, &body) : COF_ERR_NOMEM;
    if (err == COF_OK)
        err = ops_kms_blob(req, body, "CiphertextBlob", "ciphertextBlob", OPS_KMS_MAX_BLOB, w->blob,
                           &w->blob_len);
    if (err == COF_OK)
        err = ops_kms_str(req, body, "DestinationKeyId", "destinationKeyId", true, &dst_ref);
    if (err == COF_OK)
        err = ops_kms_str(req, body, "SourceKeyId", "sourceKeyId", false, &src_ref);
    if (err == COF_OK)
        err = check_algorithm(req, body, "SourceEncryptionAlgorithm", "sourceEncryptionAlgorithm");
    if (err == COF_OK)
        err = check_algorithm(req, body, "DestinationEncryptionAlgorithm",
                              "destinationEncryptionAlgorithm");
    if (err == COF_OK)
        err = check_grant_tokens(req, body);
    if (err == COF_OK)
        err = ops_kms_context(req, body, "SourceEncryptionContext", w->context, sizeof(w->context),
                              &w->context_len);
    if (err == COF_OK)
        err = ops_kms_context(req, body, "DestinationEncryptionContext", w->context2,
                              sizeof(w->context2), &w->context2_len);
    if (err == COF_OK)
        err = open_blob(req, w, src_ref, &src);
    if (err == COF_OK)
        err = encrypting_key(req, dst_ref, &dst);
    if (err == COF_OK)
        err = seal(&dst, w, w->context2, w->context2_len);
    if (err == COF_OK) {
        doc = json_pack("{s:s, s:s, s:s, s:s}", "SourceKeyId", src.arn, "KeyId", dst.arn,
                        "SourceEncryptionAlgorithm", "SYMMETRIC_DEFAULT",
                        "DestinationEncryptionAlgorithm", "SYMMETRIC_DEFAULT");
        err = doc != NULL ? ops_kms_set_b64(doc, "CiphertextBlob", w->out, w->out_len)
                          : COF_ERR_NOMEM;
    }
    err = ops_kms_finish(req, err, doc);
    srv_kms_key_cleanup(&src);
    srv_kms_key_cleanup(&dst);
    work_free(w);
    json_decref(body);
    return err;
}

/* KeySpec (AES_256, AES_128) or NumberOfBytes (1..1024): exactly one. */
static cof_err data_key_length(struct srv_req *req, json_t *body, size_t *out)
{
    const char *spec = NULL;
    bool have = false;
    int64_t n = 0;
    char msg[256];
    cof_err err = ops_kms_str(req, body, "KeySpec", "keySpec", false, &spec);
    if (err == COF_OK)
        err = ops_kms_int(req, body, "NumberOfBytes", &have, &n);
    if (err != COF_OK)
        return err;
    if ((spec == NULL) == !have)
        return validation(req, "Please specify either number of bytes or key spec.");
    if (have) {
        err = ops_kms_range(req, "numberOfBytes", n, 1, 1024);
        *out = (size_t)n;
        return err;
    }
    if (strcmp(spec, "AES_256") == 0 || strcmp(spec, "AES_128") == 0) {
        *out = strcmp(spec, "AES_256") == 0 ? 32 : 16;
        return COF_OK;
    }
    snprintf(msg, sizeof(msg),
             "1 validation error detected: Value '%.64s' at 'keySpec' failed to satisfy "
             "constraint: Member must satisfy enum value set: [AES_256, AES_128]",
             spec);
    return validation(req, msg);
}

static cof_err generate_data_key(struct srv_req *req, bool with_plaintext)
{
    json_t *body = NULL, *doc = NULL;
    const char *ref = NULL;
    struct srv_kms_key k;
    struct kms_work *w = work_new();
    memset(&k, 0, sizeof(k));
    cof_err err = w != NULL ? ops_kms_body(req, &body) : COF_ERR_NOMEM;
    if (err == COF_OK)
        err = ops_kms_str(req, body, "KeyId", "keyId", true, &ref);
    if (err == COF_OK)
        err = data_key_length(req, body, &w->pt_len);
    if (err == COF_OK)
        err = check_grant_tokens(req, body);
    if (err == COF_OK && json_object_get(body, "Recipient") != NULL)
        err = srv_fail_service(req, 400, "UnsupportedOperationException",
                               "coffer's KMS has no Nitro Enclaves attestation (Recipient).");
    if (err == COF_OK)
        err = ops_kms_context(req, body, "EncryptionContext", w->context, sizeof(w->context),
                              &w->context_len);
    if (err == COF_OK)
        err = encrypting_key(req, ref, &k);
    if (err == COF_OK)
        err = cry_random(w->pt, w->pt_len);
    if (err == COF_OK)
        err = seal(&k, w, w->context, w->context_len);
    if (err == COF_OK) {
        doc = json_pack("{s:s}", "KeyId", k.arn);
        err = doc != NULL ? ops_kms_set_b64(doc, "CiphertextBlob", w->out, w->out_len)
                          : COF_ERR_NOMEM;
    }
    if (err == COF_OK && with_plaintext)
        err = ops_kms_set_b64(doc, "Plaintext", w->pt, w->pt_len);
    err = ops_kms_finish(req, err, doc);
    srv_kms_key_cleanup(&k);
    work_free(w);
    json_decref(body);
    return err;
}

cof_err ops_kms_generate_data_key(struct srv_req *req)
{
    return generate_data_key(req, true);
}

cof_err ops_kms_generate_data_key_without_plaintext(struct srv_req *req)
{
    return generate_data_key(req, false);
}

cof_err ops_kms_generate_random(struct srv_req *req)
{
    json_t *body = NULL, *doc = NULL;
    bool have = false;
    int64_t n = 0;
    const char *store = NULL;
    uint8_t buf[1024];
    cof_err err = ops_kms_body(req, &body);
    if (err == COF_OK)
        err = ops_kms_int(req, body, "NumberOfBytes", &have, &n);
    if (err == COF_OK && !have)
        err = validation(req, "NumberOfBytes is required.");
    if (err == COF_OK)
        err = ops_kms_range(req, "numberOfBytes", n, 1, 1024);
    if (err == COF_OK)
        err = ops_kms_str(req, body, "CustomKeyStoreId", "customKeyStoreId", false, &store);
    if (err == COF_OK && store != NULL)
        err = srv_fail_service(req, 400, "UnsupportedOperationException",
                               "coffer's KMS has no custom key stores.");
    if (err == COF_OK)
        err = cry_random(buf, (size_t)n);
    if (err == COF_OK) {
        doc = json_object();
        err = doc != NULL ? ops_kms_set_b64(doc, "Plaintext", buf, (size_t)n) : COF_ERR_NOMEM;
    }
    if (err == COF_OK) {
        err = ops_kms_reply(req, doc);
        doc = NULL;
    }
    cry_wipe(buf, sizeof(buf));
    json_decref(doc);
    json_decref(body);
    return err;
}
