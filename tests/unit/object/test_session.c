/* SPDX-License-Identifier: Apache-2.0 */
/* object/session: a token opens to what was issued until its expiry (the clock is passed in,
 * so expiry is tested at exact instants), and never when tampered with, sealed by another
 * keyring, or after its root key left the keyring; a rotation keeps it valid. */
#include "check.h"
#include "object/session.h"

#include "../storage/tmpdir.h"
#include "crypto/keyring.h"
#include "object/rootkeys.h"

static struct srv_rootkeys *open_ring(const char *dir, const char *name)
{
    char path[600];
    struct srv_rootkeys *rk = NULL;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (srv_rootkeys_open(path, true, &rk) != COF_OK)
        abort();
    return rk;
}

static struct obj_session sample(int64_t expires)
{
    struct obj_session s;
    memset(&s, 0, sizeof(s));
    snprintf(s.account, sizeof(s.account), "%s", "111122223333");
    snprintf(s.arn, sizeof(s.arn), "%s", "arn:aws:sts::111122223333:assumed-role/app/ci");
    snprintf(s.user_id, sizeof(s.user_id), "%s", "AROAEXAMPLEEXAMPLE123:ci");
    s.expires = expires;
    return s;
}

static void test_round_trip_and_expiry(struct srv_rootkeys *rk)
{
    struct obj_session s = sample(1000), got;
    char *tok = NULL;
    CHECK_EQ_INT(obj_session_issue(rk, &s, &tok), COF_OK);
    CHECK(strncmp(s.access_key, "ASIA", 4) == 0 && strlen(s.access_key) == 20);
    CHECK_EQ_INT(strlen(s.secret), 40);
    CHECK(strpbrk(tok, "+/=") == NULL);
    CHECK_EQ_INT(obj_session_open(rk, tok, 999, &got), COF_OK);
    CHECK_EQ_STR(got.access_key, s.access_key);
    CHECK_EQ_STR(got.secret, s.secret);
    CHECK_EQ_STR(got.account, "111122223333");
    CHECK_EQ_STR(got.arn, s.arn);
    CHECK_EQ_STR(got.user_id, s.user_id);
    CHECK_EQ_INT(got.expires, 1000);
    /* The expiry instant itself is past (AWS: valid strictly before Expiration). */
    CHECK_EQ_INT(obj_session_open(rk, tok, 1000, &got), COF_ERR_TOKEN_EXPIRED);
    CHECK_EQ_INT(obj_session_open(rk, tok, 5000, &got), COF_ERR_TOKEN_EXPIRED);
    /* Two sessions never share a key pair. */
    struct obj_session s2 = sample(1000);
    char *tok2 = NULL;
    CHECK_EQ_INT(obj_session_issue(rk, &s2, &tok2), COF_OK);
    CHECK(strcmp(s.access_key, s2.access_key) != 0 && strcmp(s.secret, s2.secret) != 0);
    free(tok2);
    free(tok);
}

static void test_tampered(struct srv_rootkeys *rk)
{
    struct obj_session s = sample(1000), got;
    char *tok = NULL;
    CHECK_EQ_INT(obj_session_issue(rk, &s, &tok), COF_OK);
    size_t n = strlen(tok);
    for (size_t i = 0; i < n; i++) {
        char c = tok[i];
        tok[i] = c == 'A' ? 'B' : 'A';
        CHECK_EQ_INT(obj_session_open(rk, tok, 1, &got), COF_ERR_TOKEN_INVALID);
        CHECK(got.secret[0] == '\0');
        tok[i] = c;
    }
    const char *bad[] = {"", "x", "====", "AQ", "not base64!", "AQID+w"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(obj_session_open(rk, bad[i], 1, &got), COF_ERR_TOKEN_INVALID);
    tok[n - 1] = '\0';
    CHECK_EQ_INT(obj_session_open(rk, tok, 1, &got), COF_ERR_TOKEN_INVALID);
    free(tok);
    /* Fields the payload cannot carry are refused before anything is sealed. */
    struct obj_session b = sample(1000);
    snprintf(b.account, sizeof(b.account), "%s", "12345678901x");
    CHECK_EQ_INT(obj_session_issue(rk, &b, &tok), COF_ERR_INVALID);
    b = sample(1000);
    b.arn[0] = '\0';
    CHECK_EQ_INT(obj_session_issue(rk, &b, &tok), COF_ERR_INVALID);
    CHECK(tok == NULL);
}

/* Another keyring cannot open it; a rotation keeps it; retiring its key ends it. */
static void test_keyrings(const char *dir)
{
    struct srv_rootkeys *a = open_ring(dir, "a.key"), *b = open_ring(dir, "b.key");
    struct obj_session s = sample(1000), got;
    char *tok = NULL;
    char path[600], new_id[CRY_KEY_ID_MAX + 1], old_id[CRY_KEY_ID_MAX + 1];
    const char *id = NULL;
    struct cry_key *k = NULL;

    CHECK_EQ_INT(obj_session_issue(a, &s, &tok), COF_OK);
    CHECK_EQ_INT(obj_session_open(b, tok, 1, &got), COF_ERR_TOKEN_INVALID);
    (void)srv_rootkeys_active(a, &id);
    snprintf(old_id, sizeof(old_id), "%s", id);
    snprintf(path, sizeof(path), "%s/a.key", dir);
    CHECK_EQ_INT(cry_key_new_random(&k), COF_OK);
    CHECK_EQ_INT(cry_keyring_new_id(new_id), COF_OK);
    CHECK_EQ_INT(cry_keyring_add_key(path, new_id, k), COF_OK);
    struct srv_rootkeys *rotated = open_ring(dir, "a.key");
    (void)srv_rootkeys_active(rotated, &id);
    CHECK_EQ_STR(id, new_id);
    CHECK_EQ_INT(obj_session_open(rotated, tok, 1, &got), COF_OK);
    CHECK_EQ_INT(cry_keyring_remove_key(path, old_id), COF_OK);
    struct srv_rootkeys *retired = open_ring(dir, "a.key");
    CHECK_EQ_INT(obj_session_open(retired, tok, 1, &got), COF_ERR_TOKEN_INVALID);
    free(tok);
    cry_key_free(k);
    srv_rootkeys_close(a);
    srv_rootkeys_close(b);
    srv_rootkeys_close(rotated);
    srv_rootkeys_close(retired);
}

int main(void)
{
    char *dir = tmpdir_new("session");
    if (dir == NULL)
        return 1;
    struct srv_rootkeys *rk = open_ring(dir, "root.key");
    test_round_trip_and_expiry(rk);
    test_tampered(rk);
    srv_rootkeys_close(rk);
    test_keyrings(dir);
    tmpdir_remove(dir);
    free(dir);
    return check_finish();
}
