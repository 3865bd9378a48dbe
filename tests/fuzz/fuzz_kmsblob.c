/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the KMS API's ciphertext blobs (object/kms.c), what Decrypt and ReEncrypt parse
 * from the network. Invariants: a reference is produced only for a well-formed header and is
 * "<id>" or "<id>#<version>" of key-id characters; the blob never authenticates under the fixed
 * key (the fuzzer cannot forge a GCM tag), so any COF_OK from decrypt is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/key.h"
#include "object/kms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t material[CRY_KEY_LEN] = {7, 7, 7, 1};
    static uint8_t pt[4096];
    char ref[96];
    size_t pl = 0;
    struct srv_kms_key k;
    memset(&k, 0, sizeof(k));
    if (cry_key_from_bytes(material, sizeof(material), &k.material) != COF_OK)
        return 0;
    memcpy(k.id, "fuzz-key", 9);
    if (srv_kms_blob_ref(data, size, ref, sizeof(ref)) == COF_OK) {
        size_t n = strlen(ref);
        if (n == 0 ||
            strspn(ref, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789-_#") != n ||
            memcmp(data, "CKB1", 4) != 0)
            abort();
    }
    /* The first byte, when there is one, is also tried as a one-pair context's value. */
    uint8_t ctx[64];
    size_t cl = 0;
    char v[2] = {size > 0 ? (char)(data[0] | 1) : 'x', '\0'};
    if (srv_kms_context_add(ctx, sizeof(ctx), &cl, "k", v) != COF_OK)
        abort();
    if (srv_kms_decrypt(&k, NULL, 0, data, size, pt, sizeof(pt), &pl) == COF_OK ||
        srv_kms_decrypt(&k, ctx, cl, data, size, pt, sizeof(pt), &pl) == COF_OK)
        abort();
    srv_kms_key_cleanup(&k);
    return 0;
}
