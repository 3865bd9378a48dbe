/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: everything that decrypts bytes read from disk (crypto/envelope.c, aead.c).
 * The input is taken as a wrapped DEK, a blob header and a segment. Invariant: none of them may
 * authenticate under the fixed keys (the fuzzer cannot forge a GCM tag), so any COF_OK from
 * unwrap or open is a bug; decode may succeed only for a header naming the expected blob id. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/envelope.h"
#include "crypto/key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t kek_bytes[CRY_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t dek_bytes[CRY_KEY_LEN] = {9, 9, 9};
    static const uint8_t blob_id[CRY_BLOB_ID_LEN] = {0xb1, 0x0b};
    struct cry_key *kek = NULL, *dek = NULL, *out = NULL;
    struct cry_aead *aead = NULL;
    uint8_t *pt = NULL;
    if (cry_key_from_bytes(kek_bytes, sizeof(kek_bytes), &kek) != COF_OK ||
        cry_key_from_bytes(dek_bytes, sizeof(dek_bytes), &dek) != COF_OK)
        goto out;

    struct cry_wrap_ctx wc = {CRY_MODE_SSE_S3, "bucket", "key", "null", blob_id, NULL};
    if (cry_env_unwrap(kek, &wc, data, size, &out) == COF_OK)
        abort();

    struct cry_blob_hdr h;
    cof_err err = cry_blob_hdr_decode(data, size, blob_id, &h);
    if (err == COF_OK && memcmp(h.blob_id, blob_id, CRY_BLOB_ID_LEN) != 0)
        abort();
    if (err != COF_OK) {
        memset(&h, 0, sizeof(h));
        memcpy(h.blob_id, blob_id, CRY_BLOB_ID_LEN);
    }
    size_t off = size >= CRY_BLOB_HDR_LEN ? CRY_BLOB_HDR_LEN : 0;
    size_t n = size - off;
    if (n > CRY_SEG_STORED)
        n = CRY_SEG_STORED;
    pt = malloc(CRY_SEG_SIZE);
    if (pt == NULL || cry_aead_new(dek, &h, &aead) != COF_OK)
        goto out;
    for (int final = 0; final <= 1; final++)
        if (n >= CRY_TAG_LEN && (final || n == CRY_SEG_STORED) &&
            cry_aead_open(aead, 0, final != 0, data + off, n, pt) == COF_OK)
            abort();
out:
    cry_aead_free(aead);
    free(pt);
    cry_key_free(out);
    cry_key_free(kek);
    cry_key_free(dek);
    return 0;
}
