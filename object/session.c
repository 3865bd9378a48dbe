/* SPDX-License-Identifier: Apache-2.0 */
/* Stateless session tokens (format in session.h): encode, seal under the active root key,
 * open under the key the token names. Logs nothing secret. */
#include "object/session.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/keyring.h"
#include "crypto/token.h"
#include "object/rootkeys.h"
#include "s3/uri.h"

#define PURPOSE      "sts-session"
#define KIND_SESSION 1u
#define PAYLOAD_MAX                                                                                \
    (1u + 8u + OBJ_SESSION_AK_LEN + OBJ_SESSION_SECRET_LEN + 12u + 2u + OBJ_SESSION_ARN_MAX +      \
     OBJ_SESSION_UID_MAX)
#define TOKEN_MAX CRY_TOKEN_LEN(CRY_KEY_ID_MAX, PAYLOAD_MAX)
#define TEXT_MAX  (4u * ((TOKEN_MAX + 2u) / 3u) + 1u)

_Static_assert(PAYLOAD_MAX <= CRY_TOKEN_PAYLOAD_MAX, "session payload fits a token");

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return s[n] == '\0';
}

/* "ASIA" + 16 characters of the base32 alphabet, and a 40-character base64 secret (as AWS's
 * look), both from the CSPRNG. */
static cof_err new_key_pair(struct obj_session *s)
{
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    uint8_t r[16 + 30];
    cof_err err = cry_random(r, sizeof(r));
    if (err != COF_OK)
        return err;
    memcpy(s->access_key, "ASIA", 4);
    for (size_t i = 0; i < 16; i++)
        s->access_key[4 + i] = b32[r[i] & 31u];
    s->access_key[OBJ_SESSION_AK_LEN] = '\0';
    srv_base64_encode(r + 16, 30, s->secret); /* 30 bytes -> exactly 40 characters */
    cry_wipe(r, sizeof(r));
    return COF_OK;
}

static size_t encode(const struct obj_session *s, uint8_t *p)
{
    size_t al = strlen(s->arn), ul = strlen(s->user_id), o = 0;
    uint64_t e = (uint64_t)s->expires;
    p[o++] = KIND_SESSION;
    for (int i = 7; i >= 0; i--)
        p[o++] = (uint8_t)(e >> (8 * i));
    memcpy(p + o, s->access_key, OBJ_SESSION_AK_LEN);
    o += OBJ_SESSION_AK_LEN;
    memcpy(p + o, s->secret, OBJ_SESSION_SECRET_LEN);
    o += OBJ_SESSION_SECRET_LEN;
    memcpy(p + o, s->account, 12);
    o += 12;
    p[o++] = (uint8_t)al;
    memcpy(p + o, s->arn, al);
    o += al;
    p[o++] = (uint8_t)ul;
    memcpy(p + o, s->user_id, ul);
    return o + ul;
}

/* Copies a length-prefixed string at p[*o] (n bytes in all) into out (cap incl. NUL). */
static bool take_str(const uint8_t *p, size_t n, size_t *o, char *out, size_t cap)
{
    if (*o >= n)
        return false;
    size_t l = p[(*o)++];
    if (l >= cap || l > n - *o || memchr(p + *o, '\0', l) != NULL)
        return false;
    memcpy(out, p + *o, l);
    out[l] = '\0';
    *o += l;
    return true;
}

static bool decode(const uint8_t *p, size_t n, struct obj_session *s)
{
    size_t fixed = 1 + 8 + OBJ_SESSION_AK_LEN + OBJ_SESSION_SECRET_LEN + 12;
    uint64_t e = 0;
    if (n < fixed || p[0] != KIND_SESSION)
        return false;
    for (size_t i = 0; i < 8; i++)
        e = (e << 8) | p[1 + i];
    s->expires = (int64_t)e;
    size_t o = 9;
    memcpy(s->access_key, p + o, OBJ_SESSION_AK_LEN);
    s->access_key[OBJ_SESSION_AK_LEN] = '\0';
    o += OBJ_SESSION_AK_LEN;
    memcpy(s->secret, p + o, OBJ_SESSION_SECRET_LEN);
    s->secret[OBJ_SESSION_SECRET_LEN] = '\0';
    o += OBJ_SESSION_SECRET_LEN;
    memcpy(s->account, p + o, 12);
    s->account[12] = '\0';
    o += 12;
    return take_str(p, n, &o, s->arn, sizeof(s->arn)) &&
           take_str(p, n, &o, s->user_id, sizeof(s->user_id)) && o == n;
}

/* base64 -> base64url without padding, in place. */
static void to_url(char *t)
{
    for (char *c = t; *c != '\0'; c++) {
        if (*c == '+')
            *c = '-';
        else if (*c == '/')
            *c = '_';
        else if (*c == '=')
            *c = '\0';
    }
}

/* base64url (no padding) -> bytes; false when it is not exactly that. */
static bool from_url(const char *t, uint8_t *out, size_t cap, size_t *out_len)
{
    char b[TEXT_MAX + 3];
    size_t n = strlen(t);
    if (n == 0 || n > TEXT_MAX || n % 4 == 1)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (c == '+' || c == '/' || c == '=')
            return false; /* only the url alphabet: one token has one spelling */
        b[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    while (n % 4 != 0)
        b[n++] = '=';
    b[n] = '\0';
    return srv_base64_decode(b, out, cap, out_len) == COF_OK;
}

cof_err obj_session_issue(struct srv_rootkeys *rk, struct obj_session *s, char **out_token)
{
    uint8_t pt[PAYLOAD_MAX], tok[TOKEN_MAX];
    size_t tl = 0;
    const char *id = NULL;
    *out_token = NULL;
    size_t al = strlen(s->arn), ul = strlen(s->user_id);
    if (al == 0 || al > OBJ_SESSION_ARN_MAX || ul == 0 || ul > OBJ_SESSION_UID_MAX ||
        !all_digits(s->account, 12))
        return COF_ERR_INVALID;
    cof_err err = new_key_pair(s);
    const struct cry_key *root = srv_rootkeys_active(rk, &id);
    size_t n = encode(s, pt);
    if (err == COF_OK)
        err = cry_token_seal(root, id, PURPOSE, pt, n, tok, sizeof(tok), &tl);
    cry_wipe(pt, sizeof(pt));
    char *text = err == COF_OK ? malloc(4 * ((tl + 2) / 3) + 1) : NULL;
    if (err == COF_OK && text == NULL)
        err = COF_ERR_NOMEM;
    if (err == COF_OK) {
        srv_base64_encode(tok, tl, text);
        to_url(text);
        *out_token = text;
    }
    return err;
}

cof_err obj_session_open(struct srv_rootkeys *rk, const char *token, int64_t now,
                         struct obj_session *out)
{
    uint8_t tok[TOKEN_MAX], pt[PAYLOAD_MAX];
    size_t tl = 0, pl = 0;
    char id[CRY_KEY_ID_MAX + 1];
    cof_err err = COF_ERR_TOKEN_INVALID;

    memset(out, 0, sizeof(*out));
    if (token == NULL || !from_url(token, tok, sizeof(tok), &tl) ||
        cry_token_key_id(tok, tl, id) != COF_OK)
        return COF_ERR_TOKEN_INVALID;
    /* Only keys already loaded: an unknown id in a forged token must not make the server
     * re-read its keyring file on every request. Asking for the active key picks up a rotation
     * or retirement by another process (a file check at most once a second). */
    const char *active = NULL;
    (void)srv_rootkeys_active(rk, &active);
    const struct cry_key *root = cry_keyring_find(srv_rootkeys_current(rk), id);
    if (root != NULL && cry_token_open(root, PURPOSE, tok, tl, pt, sizeof(pt), &pl) == COF_OK &&
        decode(pt, pl, out))
        err = now >= out->expires ? COF_ERR_TOKEN_EXPIRED : COF_OK;
    cry_wipe(pt, sizeof(pt));
    if (err == COF_ERR_TOKEN_INVALID) {
        cry_wipe(out, sizeof(*out));
        memset(out, 0, sizeof(*out));
    }
    return err;
}
