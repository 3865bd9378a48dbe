/* SPDX-License-Identifier: Apache-2.0 */
/* Sealed tokens (format in token.h): HKDF-SHA256 per purpose, AES-256-GCM with the header as
 * AAD. Releases a payload only after its tag verifies; never logs key bytes. */
#include "crypto/token.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto/aead.h"
#include "crypto/hkdf.h"

#define TOKEN_VERSION 1u
#define TOKEN_LABEL   "coffer-token-v1"
#define PURPOSE_MAX   32u

/* Token key = HKDF-SHA256(root, info = label || purpose) (RFC 5869, no salt: the key is a
 * fixed function of the root key, so that any process holding the keyring can open a token). */
static cof_err derive(const struct cry_key *root, const char *purpose, uint8_t key[CRY_KEY_LEN])
{
    uint8_t info[sizeof(TOKEN_LABEL) - 1 + PURPOSE_MAX];
    size_t pl = strlen(purpose);
    size_t ll = sizeof(TOKEN_LABEL) - 1;
    if (pl == 0 || pl > PURPOSE_MAX)
        COF_BUG("cry_token: purpose label length");
    memcpy(info, TOKEN_LABEL, ll);
    memcpy(info + ll, purpose, pl);
    return cry_hkdf_sha256(cry_key_bytes(root), NULL, 0, info, ll + pl, key);
}

/* AAD = label || purpose || 0x00 || header (hdr_len bytes). */
static size_t build_aad(const char *purpose, const uint8_t *hdr, size_t hdr_len,
                        uint8_t aad[sizeof(TOKEN_LABEL) + PURPOSE_MAX + 2 + CRY_KEY_ID_MAX])
{
    size_t ll = sizeof(TOKEN_LABEL) - 1, pl = strlen(purpose);
    memcpy(aad, TOKEN_LABEL, ll);
    memcpy(aad + ll, purpose, pl);
    aad[ll + pl] = 0;
    memcpy(aad + ll + pl + 1, hdr, hdr_len);
    return ll + pl + 1 + hdr_len;
}

cof_err cry_token_seal(const struct cry_key *root, const char *key_id, const char *purpose,
                       const uint8_t *pt, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t key[CRY_KEY_LEN];
    uint8_t aad[sizeof(TOKEN_LABEL) + PURPOSE_MAX + 2 + CRY_KEY_ID_MAX];
    size_t il = strlen(key_id);
    cof_err err;

    if (il == 0 || il > CRY_KEY_ID_MAX)
        COF_BUG("cry_token_seal: key id length");
    *out_len = 0;
    if (n > CRY_TOKEN_PAYLOAD_MAX || cap < CRY_TOKEN_LEN(il, n))
        return COF_ERR_TOO_LARGE;
    out[0] = TOKEN_VERSION;
    out[1] = (uint8_t)il;
    memcpy(out + 2, key_id, il);
    uint8_t *nonce = out + 2 + il;
    err = cry_random(nonce, CRY_NONCE_LEN);
    if (err == COF_OK)
        err = derive(root, purpose, key);
    if (err == COF_OK) {
        size_t al = build_aad(purpose, out, 2 + il, aad);
        err = cry_gcm_oneshot(1, key, nonce, aad, al, pt, n, nonce + CRY_NONCE_LEN,
                              nonce + CRY_NONCE_LEN + n);
    }
    OPENSSL_cleanse(key, sizeof(key));
    if (err != COF_OK) {
        OPENSSL_cleanse(out, CRY_TOKEN_LEN(il, n));
        return err;
    }
    *out_len = CRY_TOKEN_LEN(il, n);
    return COF_OK;
}

cof_err cry_token_key_id(const uint8_t *in, size_t n, char out[CRY_KEY_ID_MAX + 1])
{
    out[0] = '\0';
    if (n < 2 || in[0] != TOKEN_VERSION || in[1] == 0 || in[1] > CRY_KEY_ID_MAX ||
        n < CRY_TOKEN_LEN(in[1], 0))
        return COF_ERR_INTEGRITY;
    memcpy(out, in + 2, in[1]);
    out[in[1]] = '\0';
    return COF_OK;
}

cof_err cry_token_open(const struct cry_key *root, const char *purpose, const uint8_t *in, size_t n,
                       uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t key[CRY_KEY_LEN];
    uint8_t aad[sizeof(TOKEN_LABEL) + PURPOSE_MAX + 2 + CRY_KEY_ID_MAX];
    uint8_t tag[CRY_TAG_LEN];
    char id[CRY_KEY_ID_MAX + 1];

    *out_len = 0;
    cof_err err = cry_token_key_id(in, n, id);
    if (err != COF_OK)
        return err;
    size_t il = in[1];
    size_t pn = n - CRY_TOKEN_LEN(il, 0);
    if (pn > CRY_TOKEN_PAYLOAD_MAX)
        return COF_ERR_INTEGRITY;
    if (pn > cap)
        return COF_ERR_TOO_LARGE;
    const uint8_t *nonce = in + 2 + il;
    memcpy(tag, nonce + CRY_NONCE_LEN + pn, CRY_TAG_LEN);
    err = derive(root, purpose, key);
    if (err == COF_OK) {
        size_t al = build_aad(purpose, in, 2 + il, aad);
        err = cry_gcm_oneshot(0, key, nonce, aad, al, nonce + CRY_NONCE_LEN, pn, out, tag);
        if (err == COF_ERR_KEY)
            err = COF_ERR_INTEGRITY; /* a token that does not open: altered or not ours */
    }
    OPENSSL_cleanse(key, sizeof(key));
    if (err == COF_OK)
        *out_len = pn;
    return err;
}
