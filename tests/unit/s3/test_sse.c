/* SPDX-License-Identifier: Apache-2.0 */
/* SSE-C header trios: a valid key with and without its MD5, and every refusal in AWS's order
 * with its message, ArgumentName and ArgumentValue ("null" when AWS has no value to quote). */
#include "check.h"
#include "s3/sse.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* base64 of 32 bytes 0x00..0x1f and of their MD5 */
#define KEY  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define MD5  "tP/LI3N87DFaSk0aoqYgzg=="
#define MD5X "AAAAAAAAAAAAAAAAAAAAAA=="

#define ARG "x-amz-server-side-encryption"

struct hdrs {
    const char *alg, *key, *md5;
    bool copy; /* the headers are the copy source's */
};

static const char *get(void *arg, const char *name)
{
    const struct hdrs *h = arg;
    const char *p = "x-amz-server-side-encryption-customer-";
    if (h->copy)
        p = "x-amz-copy-source-server-side-encryption-customer-";
    size_t n = strlen(p);
    if (strncasecmp(name, p, n) != 0)
        return NULL;
    if (strcasecmp(name + n, "algorithm") == 0)
        return h->alg;
    if (strcasecmp(name + n, "key") == 0)
        return h->key;
    if (strcasecmp(name + n, "key-MD5") == 0)
        return h->md5;
    return NULL;
}

static void each(void *arg, srv_header_fn cb, void *cb_arg)
{
    (void)arg;
    (void)cb;
    (void)cb_arg;
}

struct sse_case {
    struct hdrs h;
    bool write;
    cof_err err;
    const char *msg_start; /* AWS's message starts so (NULL: no problem) */
    const char *value;     /* ArgumentValue */
};

static const struct sse_case cases[] = {
    {{NULL, NULL, NULL, false}, true, COF_OK, NULL, NULL},
    {{"AES256", KEY, MD5, false}, true, COF_OK, NULL, NULL},
    {{"AES256", KEY, NULL, false}, false, COF_OK, NULL, NULL},
    {{"AES256", KEY, MD5, true}, false, COF_OK, NULL, NULL},
    {{NULL, KEY, MD5, false}, true, COF_ERR_INVALID_ARGUMENT, "Requests specifying", "null"},
    {{"AES128", KEY, MD5, false}, true, COF_ERR_BAD_ENCRYPTION_ALG, "The Encryption", "AES128"},
    {{"AES256", NULL, MD5, false}, true, COF_ERR_INVALID_ARGUMENT, "Requests specifying", "null"},
    {{"AES256", "c2hvcnQ=", MD5, false}, true, COF_ERR_INVALID_ARGUMENT, "The secret key", "null"},
    {{"AES256", "!!", MD5, false}, true, COF_ERR_INVALID_ARGUMENT, "The secret key", "null"},
    {{"AES256", KEY, NULL, false}, true, COF_ERR_INVALID_ARGUMENT, "The secret key", "null"},
    {{"AES256", KEY, MD5X, false}, true, COF_ERR_INVALID_ARGUMENT, "The calculated MD5", "null"},
    {{"AES256", KEY, "xyz", false}, false, COF_ERR_INVALID_ARGUMENT, "The calculated MD5", "null"},
    {{"AES128", KEY, MD5, true}, false, COF_ERR_BAD_ENCRYPTION_ALG, "The Encryption", "AES128"},
};

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct sse_case *c = &cases[i];
        struct hdrs h = c->h;
        struct srv_hdr_view v = {get, each, &h};
        struct srv_ssec s;
        struct srv_problem p;
        cof_err err =
            srv_ssec_parse(&v, c->h.copy ? SRV_SSE_COPY_SOURCE : SRV_SSE_OBJECT, c->write, &s, &p);
        CHECK_EQ_INT(err, c->err);
        CHECK_EQ_INT(p.code, c->err);
        if (err == COF_OK) {
            CHECK(p.message == NULL && p.name1 == NULL);
            CHECK_EQ_INT(s.present, c->h.alg != NULL);
            CHECK_EQ_INT(s.key != NULL, c->h.alg != NULL);
            CHECK_EQ_INT(s.md5_sent, c->h.md5 != NULL);
        } else {
            if (p.message == NULL || strncmp(p.message, c->msg_start, strlen(c->msg_start)) != 0)
                fprintf(stderr, "case %zu: message %s\n", i, p.message ? p.message : "(null)");
            CHECK(p.message != NULL && strncmp(p.message, c->msg_start, strlen(c->msg_start)) == 0);
            CHECK_EQ_STR(p.name1, "ArgumentName");
            CHECK_EQ_STR(p.value1, ARG);
            CHECK_EQ_STR(p.name2, "ArgumentValue");
            CHECK_EQ_STR(p.value2, c->value);
            CHECK(s.key == NULL);
        }
        srv_ssec_cleanup(&s);
    }
}

int main(void)
{
    test_cases();
    return check_finish();
}
