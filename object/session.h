/* SPDX-License-Identifier: Apache-2.0 */
/* Temporary credentials (STS AssumeRole / GetSessionToken) without server state: the session
 * token is a sealed token (crypto/token.h, purpose "sts-session") under the active root key,
 * carrying the access key id, the secret, the expiry and who the session acts as. The server
 * verifies a request's token by opening it under the root key it names, while that key is in
 * the keyring: rotation keeps outstanding tokens valid, retiring their key invalidates them.
 *
 * Token text: the sealed token in base64url without padding (safe in headers and queries).
 * Payload: kind (1 byte) || expiry (i64 BE, Unix seconds) || access key (20) || secret (40) ||
 * account (12) || ARN length (1) || ARN || user id length (1) || user id. Thread-safe. */
#ifndef OBJ_SESSION_H
#define OBJ_SESSION_H

#include <stdint.h>

#include "common/err.h"

struct srv_rootkeys;

#define OBJ_SESSION_AK_LEN     20 /* "ASIA" + 16 of [A-Z2-7] */
#define OBJ_SESSION_SECRET_LEN 40
#define OBJ_SESSION_ARN_MAX    255
#define OBJ_SESSION_UID_MAX    160

/* One session: who it acts as, until when, and its key pair. */
struct obj_session {
    char access_key[OBJ_SESSION_AK_LEN + 1];
    char secret[OBJ_SESSION_SECRET_LEN + 1];
    char account[13]; /* 12 digits */
    char arn[OBJ_SESSION_ARN_MAX + 1];
    char user_id[OBJ_SESSION_UID_MAX + 1];
    int64_t expires; /* Unix seconds */
};

/* Issues s: fills s->access_key and s->secret with fresh random values and seals s (account,
 * arn, user_id, expires set by the caller) under the active root key into *out_token
 * (malloc'd, the caller frees). COF_ERR_INVALID if a field is empty or too long (account not
 * 12 digits), COF_ERR_NOMEM, COF_ERR_INTERNAL (RNG, OpenSSL). */
COF_MUST_CHECK cof_err obj_session_issue(struct srv_rootkeys *rk, struct obj_session *s,
                                         char **out_token);
/* Opens token at time now (Unix seconds) into *out. COF_ERR_TOKEN_INVALID: not a token this
 * keyring sealed (malformed, tampered, its root key no longer in the keyring);
 * COF_ERR_TOKEN_EXPIRED: genuine but now >= its expiry (*out is filled then, for logs). The
 * caller checks that out->access_key is the request's and wipes out->secret after use. */
COF_MUST_CHECK cof_err obj_session_open(struct srv_rootkeys *rk, const char *token, int64_t now,
                                        struct obj_session *out);

#endif
