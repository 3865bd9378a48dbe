/* SPDX-License-Identifier: Apache-2.0 */
/* POST policy documents (https://docs.aws.amazon.com/AmazonS3/latest/API/
 * sigv4-HTTPPOSTConstructPolicy.html) and the policy signatures. The messages are S3's as
 * recorded against AWS (LocalStack's validated snapshots, client issue captures); where none
 * was recorded the wording follows the same pattern. */
#include "s3/postpolicy.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/hex.h"
#include "crypto/digest.h"
#include "crypto/key.h"
#include "s3/sigv4.h"
#include "s3/uri.h"

#define POLICY_MAX_DECODED (64u * 1024) /* the whole form before the file is capped at 20 KB */

cof_err srv_post_fields_add(struct srv_post_fields *f, const char *name, const char *value)
{
    for (size_t i = 0; i < f->n; i++) {
        if (strcasecmp(f->v[i].name, name) != 0)
            continue;
        /* AWS: a field sent twice is matched as "first,second". */
        size_t a = strlen(f->v[i].value), b = strlen(value);
        char *nv = realloc(f->v[i].value, a + b + 2);
        if (nv == NULL)
            return COF_ERR_NOMEM;
        nv[a] = ',';
        memcpy(nv + a + 1, value, b + 1);
        f->v[i].value = nv;
        return COF_OK;
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        struct srv_post_field *v = realloc(f->v, cap * sizeof(*v));
        if (v == NULL)
            return COF_ERR_NOMEM;
        f->v = v;
        f->cap = cap;
    }
    char *n = strdup(name), *val = strdup(value);
    if (n == NULL || val == NULL) {
        free(n);
        free(val);
        return COF_ERR_NOMEM;
    }
    f->v[f->n].name = n;
    f->v[f->n].value = val;
    f->n++;
    return COF_OK;
}

const char *srv_post_fields_get(const struct srv_post_fields *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcasecmp(f->v[i].name, name) == 0)
            return f->v[i].value;
    return NULL;
}

cof_err srv_post_fields_set(struct srv_post_fields *f, const char *name, const char *value)
{
    for (size_t i = 0; i < f->n; i++) {
        if (strcasecmp(f->v[i].name, name) != 0)
            continue;
        char *nv = strdup(value);
        if (nv == NULL)
            return COF_ERR_NOMEM;
        free(f->v[i].value);
        f->v[i].value = nv;
        return COF_OK;
    }
    return srv_post_fields_add(f, name, value);
}

void srv_post_fields_cleanup(struct srv_post_fields *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].name);
        free(f->v[i].value);
    }
    free(f->v);
    memset(f, 0, sizeof(*f));
}

static cof_err deny(struct srv_post_verdict *v, cof_err code, const char *msg)
{
    return srv_problem_setf(&v->problem, code, "%s", msg);
}

/* "2026-11-25T16:00:00Z" or with fractional seconds; AWS refuses offsets and a space for T. */
static bool parse_expiration(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
        return false;
    const char *p = s + n;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (strcmp(p, "Z") != 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60)
        return false;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm);
    return true;
}

/* Appends a JSON rendering of j (strings quoted and escaped as S3 prints them). */
static void put_json(char *buf, size_t cap, const json_t *j)
{
    char *s = json_dumps(j, JSON_ENCODE_ANY);
    size_t l = strlen(buf);
    if (l < cap)
        snprintf(buf + l, cap - l, "%s", s != NULL ? s : "null");
    free(s);
}

/* The failed-condition message: S3 prints a condition as a list, a simple one as "eq". */
static cof_err condition_failed(struct srv_post_verdict *v, const json_t *op, const json_t *a,
                                const json_t *b)
{
    char msg[sizeof(v->problem.text)];
    snprintf(msg, sizeof(msg), "Invalid according to Policy: Policy Condition failed: [");
    put_json(msg, sizeof(msg), op);
    strncat(msg, ", ", sizeof(msg) - strlen(msg) - 1);
    put_json(msg, sizeof(msg), a);
    strncat(msg, ", ", sizeof(msg) - strlen(msg) - 1);
    put_json(msg, sizeof(msg), b);
    strncat(msg, "]", sizeof(msg) - strlen(msg) - 1);
    return deny(v, COF_ERR_ACCESS_DENIED, msg);
}

/* A content-length-range bound: a non-negative integer or a string of digits. Returns 1 on
 * success, 0 when it is not a number (a failed condition), -1 when the policy is invalid. */
static int range_bound(const json_t *j, uint64_t *out)
{
    if (json_is_integer(j)) {
        json_int_t x = json_integer_value(j);
        if (x < 0)
            return -1;
        *out = (uint64_t)x;
        return 1;
    }
    if (json_is_string(j)) {
        const char *s = json_string_value(j);
        char *end = NULL;
        if (*s == '\0' || !isdigit((unsigned char)*s))
            return 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (*end != '\0')
            return 0;
        *out = x;
        return 1;
    }
    return -1; /* floats, null, lists: "Invalid JSON." as S3 answers */
}

/* Marks a condition's field as covered (names compared case-insensitively). */
struct covered {
    const char *names[256];
    size_t n;
};

static void cover(struct covered *c, const char *name)
{
    if (c->n < sizeof(c->names) / sizeof(c->names[0]))
        c->names[c->n++] = name;
}

static bool is_covered(const struct covered *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcasecmp(c->names[i], name) == 0)
            return true;
    return false;
}

/* The value a condition on `name` tests: the request's bucket for "bucket", else the field. */
static const char *subject(const struct srv_post_fields *f, const char *bucket, const char *name)
{
    if (strcasecmp(name, "bucket") == 0)
        return bucket;
    return srv_post_fields_get(f, name);
}

/* starts-with; Content-Type values holding commas are lists whose every item must match. */
static bool starts_with(const char *name, const char *value, const char *prefix)
{
    size_t pl = strlen(prefix);
    if (strcasecmp(name, "content-type") != 0 || strchr(value, ',') == NULL)
        return strncmp(value, prefix, pl) == 0;
    const char *p = value;
    for (;;) {
        while (*p == ' ')
            p++;
        if (strncmp(p, prefix, pl) != 0)
            return false;
        const char *comma = strchr(p, ',');
        if (comma == NULL)
            return true;
        p = comma + 1;
    }
}

#define BAD_JSON "Invalid Policy: Invalid JSON."

/* Checks the shape of one condition (400 on error) and, when eval, whether it holds (403). */
static cof_err one_condition(const json_t *c, const struct srv_post_fields *f, const char *bucket,
                             bool eval, struct covered *cov, struct srv_post_verdict *v)
{
    char msg[256];
    if (json_is_object(c)) {
        if (json_object_size(c) != 1)
            return deny(v, COF_ERR_INVALID_POLICY,
                        "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have "
                        "exactly one property specified.");
        const char *k = NULL;
        json_t *val = NULL;
        void *it = json_object_iter((json_t *)(uintptr_t)c);
        k = json_object_iter_key(it);
        val = json_object_iter_value(it);
        if (json_is_null(val))
            return deny(v, COF_ERR_INVALID_POLICY, BAD_JSON);
        if (!json_is_string(val))
            return deny(v, COF_ERR_INVALID_POLICY,
                        "Invalid Policy: Invalid Simple-Condition: value must be a string.");
        if (!eval) {
            cover(cov, k);
            return COF_OK;
        }
        const char *have = subject(f, bucket, k);
        if (have != NULL && strcmp(have, json_string_value(val)) == 0)
            return COF_OK;
        char dollar[1100];
        snprintf(dollar, sizeof(dollar), "$%s", k);
        json_t *op = json_string("eq"), *name = json_string(dollar);
        cof_err err =
            op != NULL && name != NULL ? condition_failed(v, op, name, val) : COF_ERR_NOMEM;
        json_decref(op);
        json_decref(name);
        return err;
    }
    if (!json_is_array(c))
        return deny(v, COF_ERR_INVALID_POLICY,
                    "Invalid Policy: Invalid condition test: must be a List or Object.");
    if (json_array_size(c) == 0 || !json_is_string(json_array_get(c, 0)))
        return deny(v, COF_ERR_INVALID_POLICY,
                    "Invalid Policy: Invalid Condition: missing operation identifier.");
    const json_t *opj = json_array_get(c, 0);
    const char *op = json_string_value(opj);
    bool eq = strcasecmp(op, "eq") == 0, sw = strcasecmp(op, "starts-with") == 0;
    bool range = strcasecmp(op, "content-length-range") == 0;
    if (!eq && !sw && !range) {
        snprintf(msg, sizeof(msg), "Invalid Policy: Invalid Condition: unknown operation '%.64s'.",
                 op);
        return deny(v, COF_ERR_INVALID_POLICY, msg);
    }
    if (json_array_size(c) != 3) {
        snprintf(msg, sizeof(msg), "Invalid Policy: Invalid %.64s: wrong number of arguments.", op);
        return deny(v, COF_ERR_INVALID_POLICY, msg);
    }
    const json_t *a = json_array_get(c, 1), *b = json_array_get(c, 2);
    if (range) {
        uint64_t lo = 0, hi = 0;
        int ra = range_bound(a, &lo), rb = range_bound(b, &hi);
        if (ra < 0 || rb < 0)
            return deny(v, COF_ERR_INVALID_POLICY, BAD_JSON);
        if (eval && (ra == 0 || rb == 0))
            return condition_failed(v, opj, a, b);
        if (ra > 0 && rb > 0) {
            v->min = v->has_range && v->min > lo ? v->min : lo;
            v->max = v->has_range && v->max < hi ? v->max : hi;
            v->has_range = true;
        }
        return COF_OK;
    }
    if (!json_is_string(a) || !json_is_string(b))
        return deny(v, COF_ERR_INVALID_POLICY, BAD_JSON);
    const char *ref = json_string_value(a);
    if (!eval) {
        if (ref[0] == '$')
            cover(cov, ref + 1);
        return COF_OK;
    }
    const char *have = ref[0] == '$' ? subject(f, bucket, ref + 1) : NULL;
    bool ok = have != NULL && (eq ? strcmp(have, json_string_value(b)) == 0
                                  : starts_with(ref + 1, have, json_string_value(b)));
    return ok ? COF_OK : condition_failed(v, opj, a, b);
}

/* Fields the coverage rule leaves out (AWS: the signature, policy, file, x-ignore-*). */
static bool exempt(const char *name)
{
    static const char *const names[] = {"x-amz-signature", "signature", "awsaccesskeyid", "policy",
                                        "file"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i]) == 0)
            return true;
    return strncasecmp(name, "x-ignore-", 9) == 0;
}

static cof_err check_doc(const json_t *doc, const struct srv_post_fields *f, const char *bucket,
                         int64_t now, struct srv_post_verdict *v)
{
    char msg[512];
    const json_t *exp = NULL, *conds = NULL;
    const char *k;
    json_t *val;
    if (!json_is_object(doc))
        return deny(v, COF_ERR_INVALID_POLICY, BAD_JSON);
    /* The two member names are case-sensitive (ceph s3-tests against AWS). */
    json_object_foreach((json_t *)(uintptr_t)doc, k, val)
    {
        if (strcmp(k, "expiration") == 0) {
            exp = val;
        } else if (strcmp(k, "conditions") == 0) {
            conds = val;
        } else {
            char lower[64];
            size_t i = 0;
            for (; k[i] != '\0' && i < sizeof(lower) - 1; i++)
                lower[i] = (char)tolower((unsigned char)k[i]);
            lower[i] = '\0';
            snprintf(msg, sizeof(msg), "Invalid Policy: Unexpected: '%s'", lower);
            return deny(v, COF_ERR_INVALID_POLICY, msg);
        }
    }
    if (exp == NULL)
        return deny(v, COF_ERR_INVALID_POLICY, "Invalid Policy: Policy missing expiration.");
    int64_t t = 0;
    if (!json_is_string(exp) || !parse_expiration(json_string_value(exp), &t)) {
        snprintf(msg, sizeof(msg), "Invalid Policy: Invalid 'expiration' value: '%.128s'",
                 json_is_string(exp) ? json_string_value(exp) : "");
        return deny(v, COF_ERR_INVALID_POLICY, msg);
    }
    if (conds == NULL)
        return deny(v, COF_ERR_INVALID_POLICY, "Invalid Policy: Policy missing conditions.");
    if (!json_is_array(conds))
        return deny(v, COF_ERR_INVALID_POLICY,
                    "Invalid Policy: Invalid 'conditions' value: must be a List.");
    struct covered cov = {{NULL}, 0};
    size_t i;
    const json_t *c;
    /* A malformed document is a 400 whatever the fields; then expiry; then the conditions. */
    json_array_foreach(conds, i, c)
    {
        cof_err err = one_condition(c, f, bucket, false, &cov, v);
        if (err != COF_OK)
            return err;
    }
    if (now > t)
        return deny(v, COF_ERR_ACCESS_DENIED, "Invalid according to Policy: Policy expired.");
    json_array_foreach(conds, i, c)
    {
        cof_err err = one_condition(c, f, bucket, true, &cov, v);
        if (err != COF_OK)
            return err;
    }
    for (size_t j = 0; j < f->n; j++) {
        if (exempt(f->v[j].name) || is_covered(&cov, f->v[j].name))
            continue;
        snprintf(msg, sizeof(msg), "Invalid according to Policy: Extra input fields: %.256s",
                 f->v[j].name);
        return deny(v, COF_ERR_ACCESS_DENIED, msg);
    }
    return COF_OK;
}

cof_err srv_post_policy_check(const char *policy_b64, const struct srv_post_fields *fields,
                              const char *bucket, int64_t now, struct srv_post_verdict *v)
{
    memset(v, 0, sizeof(*v));
    size_t cap = strlen(policy_b64) / 4 * 3 + 3, n = 0;
    if (cap > POLICY_MAX_DECODED)
        return deny(v, COF_ERR_INVALID_POLICY, BAD_JSON);
    uint8_t *raw = malloc(cap + 1);
    if (raw == NULL)
        return COF_ERR_NOMEM;
    cof_err err = COF_OK;
    if (srv_base64_decode(policy_b64, raw, cap, &n) != COF_OK)
        err = deny(v, COF_ERR_INVALID_POLICY, "Invalid Policy: Invalid Base64 encoding.");
    json_t *doc = NULL;
    if (err == COF_OK) {
        doc = json_loadb((const char *)raw, n, 0, NULL);
        if (doc == NULL)
            err = deny(v, COF_ERR_INVALID_POLICY, BAD_JSON);
    }
    if (err == COF_OK)
        err = check_doc(doc, fields, bucket, now, v);
    json_decref(doc);
    free(raw);
    if (err != COF_OK && err != COF_ERR_NOMEM)
        v->has_range = false;
    return err;
}

cof_err srv_post_verify_v4(const char *policy_b64, const char *secret, const char *scope,
                           const char *sig_hex)
{
    uint8_t key[32], mac[CRY_SHA256_LEN];
    char want[2 * CRY_SHA256_LEN + 1];
    cof_err err = srv_sigv4_signing_key(secret, scope, key);
    if (err == COF_OK)
        err = cry_hmac_sha256(key, sizeof(key), policy_b64, strlen(policy_b64), mac);
    if (err == COF_OK) {
        cof_hex_encode(mac, sizeof(mac), want);
        /* Constant time, after checking the length. */
        if (sig_hex == NULL || strlen(sig_hex) != SRV_SIG_HEX_LEN ||
            !cry_equal(sig_hex, want, SRV_SIG_HEX_LEN))
            err = COF_ERR_SIGNATURE_MISMATCH;
    }
    cry_wipe(key, sizeof(key));
    return err;
}

cof_err srv_post_verify_v2(const char *policy_b64, const char *secret, const char *sig_b64)
{
    uint8_t mac[CRY_SHA1_LEN];
    char want[32];
    cof_err err = cry_hmac_sha1(secret, strlen(secret), policy_b64, strlen(policy_b64), mac);
    if (err == COF_OK) {
        srv_base64_encode(mac, sizeof(mac), want);
        size_t wl = strlen(want);
        if (sig_b64 == NULL || strlen(sig_b64) != wl || !cry_equal(sig_b64, want, wl))
            err = COF_ERR_SIGNATURE_MISMATCH;
    }
    return err;
}
