/* SPDX-License-Identifier: Apache-2.0 */
/* Bucket policy documents: validation at PutBucketPolicy time (so evaluation can trust the
 * shape) and IAM-style evaluation of one request. Knows JSON, not HTTP or storage. */
#include "s3/policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct srv_policy {
    atomic_uint refs;
    json_t *root;
    json_t *stmts; /* always an array: a lone statement object is wrapped at parse time */
};

/* AWS's MalformedPolicy messages. */
#define MSG_NOT_JSON     "Policies must be valid JSON and the first byte must be '{'"
#define MSG_BAD_JSON     "This policy contains invalid Json"
#define MSG_VERSION      "The policy must contain a valid version string"
#define MSG_NO_STATEMENT "Missing required field Statement"
#define MSG_ACTION       "Policy has invalid action"
#define MSG_RESOURCE     "Policy has invalid resource"
#define MSG_PRINCIPAL    "Invalid principal in policy"
#define MSG_COND_KEY     "Policy has an invalid condition key"
#define MSG_COND_OP      "Policy has an invalid condition operator"
#define MSG_COND_VALUE   "Policy has an invalid condition value"
#define MSG_SID          "Statement IDs (SID) in a single policy must be unique."
#define MSG_STATEMENT    "Could not parse the policy: Statement is not well formatted."

/* S3 actions a policy may name (exactly or through a wildcard; "s3:" is implied) and the
 * resource type each applies to (AWS's "Actions defined by Amazon S3" table). */
enum res_type { R_NONE = 0, R_BUCKET = 1, R_OBJECT = 2 };
static const struct {
    const char *name;
    enum res_type type;
} s3_actions[] = {
    {"AbortMultipartUpload", R_OBJECT},
    {"BypassGovernanceRetention", R_OBJECT},
    {"CreateAccessPoint", R_NONE},
    {"CreateBucket", R_BUCKET},
    {"DeleteAccessPoint", R_NONE},
    {"DeleteBucket", R_BUCKET},
    {"DeleteBucketOwnershipControls", R_BUCKET},
    {"DeleteBucketPolicy", R_BUCKET},
    {"DeleteBucketWebsite", R_BUCKET},
    {"DeleteObject", R_OBJECT},
    {"DeleteObjectTagging", R_OBJECT},
    {"DeleteObjectVersion", R_OBJECT},
    {"DeleteObjectVersionTagging", R_OBJECT},
    {"GetAccelerateConfiguration", R_BUCKET},
    {"GetAnalyticsConfiguration", R_BUCKET},
    {"GetBucketAcl", R_BUCKET},
    {"GetBucketCORS", R_BUCKET},
    {"GetBucketLocation", R_BUCKET},
    {"GetBucketLogging", R_BUCKET},
    {"GetBucketNotification", R_BUCKET},
    {"GetBucketObjectLockConfiguration", R_BUCKET},
    {"GetBucketOwnershipControls", R_BUCKET},
    {"GetBucketPolicy", R_BUCKET},
    {"GetBucketPolicyStatus", R_BUCKET},
    {"GetBucketPublicAccessBlock", R_BUCKET},
    {"GetBucketRequestPayment", R_BUCKET},
    {"GetBucketTagging", R_BUCKET},
    {"GetBucketVersioning", R_BUCKET},
    {"GetBucketWebsite", R_BUCKET},
    {"GetEncryptionConfiguration", R_BUCKET},
    {"GetIntelligentTieringConfiguration", R_BUCKET},
    {"GetInventoryConfiguration", R_BUCKET},
    {"GetLifecycleConfiguration", R_BUCKET},
    {"GetMetricsConfiguration", R_BUCKET},
    {"GetObject", R_OBJECT},
    {"GetObjectAcl", R_OBJECT},
    {"GetObjectAttributes", R_OBJECT},
    {"GetObjectLegalHold", R_OBJECT},
    {"GetObjectRetention", R_OBJECT},
    {"GetObjectTagging", R_OBJECT},
    {"GetObjectTorrent", R_OBJECT},
    {"GetObjectVersion", R_OBJECT},
    {"GetObjectVersionAcl", R_OBJECT},
    {"GetObjectVersionAttributes", R_OBJECT},
    {"GetObjectVersionTagging", R_OBJECT},
    {"GetObjectVersionTorrent", R_OBJECT},
    {"GetReplicationConfiguration", R_BUCKET},
    {"ListAllMyBuckets", R_NONE},
    {"ListBucket", R_BUCKET},
    {"ListBucketMultipartUploads", R_BUCKET},
    {"ListBucketVersions", R_BUCKET},
    {"ListMultipartUploadParts", R_OBJECT},
    {"ObjectOwnerOverrideToBucketOwner", R_OBJECT},
    {"PutAccelerateConfiguration", R_BUCKET},
    {"PutAnalyticsConfiguration", R_BUCKET},
    {"PutBucketAcl", R_BUCKET},
    {"PutBucketCORS", R_BUCKET},
    {"PutBucketLogging", R_BUCKET},
    {"PutBucketNotification", R_BUCKET},
    {"PutBucketObjectLockConfiguration", R_BUCKET},
    {"PutBucketOwnershipControls", R_BUCKET},
    {"PutBucketPolicy", R_BUCKET},
    {"PutBucketPublicAccessBlock", R_BUCKET},
    {"PutBucketRequestPayment", R_BUCKET},
    {"PutBucketTagging", R_BUCKET},
    {"PutBucketVersioning", R_BUCKET},
    {"PutBucketWebsite", R_BUCKET},
    {"PutEncryptionConfiguration", R_BUCKET},
    {"PutIntelligentTieringConfiguration", R_BUCKET},
    {"PutInventoryConfiguration", R_BUCKET},
    {"PutLifecycleConfiguration", R_BUCKET},
    {"PutMetricsConfiguration", R_BUCKET},
    {"PutObject", R_OBJECT},
    {"PutObjectAcl", R_OBJECT},
    {"PutObjectLegalHold", R_OBJECT},
    {"PutObjectRetention", R_OBJECT},
    {"PutObjectTagging", R_OBJECT},
    {"PutObjectVersionAcl", R_OBJECT},
    {"PutObjectVersionTagging", R_OBJECT},
    {"PutReplicationConfiguration", R_BUCKET},
    {"ReplicateDelete", R_OBJECT},
    {"ReplicateObject", R_OBJECT},
    {"ReplicateTags", R_OBJECT},
    {"RestoreObject", R_OBJECT},
};

/* ---- condition operators ---- */

enum kind { K_STR, K_STR_ICASE, K_LIKE, K_NUM, K_DATE, K_BOOL, K_BIN, K_IP, K_ARN, K_NULL };
enum cmp { C_EQ, C_LT, C_LE, C_GT, C_GE };

struct op {
    const char *name;
    enum kind kind;
    enum cmp cmp;
    bool negated; /* true when the request value must match none of the policy values */
};

static const struct op ops[] = {
    {"StringEquals", K_STR, C_EQ, false},
    {"StringNotEquals", K_STR, C_EQ, true},
    {"StringEqualsIgnoreCase", K_STR_ICASE, C_EQ, false},
    {"StringNotEqualsIgnoreCase", K_STR_ICASE, C_EQ, true},
    {"StringLike", K_LIKE, C_EQ, false},
    {"StringNotLike", K_LIKE, C_EQ, true},
    {"NumericEquals", K_NUM, C_EQ, false},
    {"NumericNotEquals", K_NUM, C_EQ, true},
    {"NumericLessThan", K_NUM, C_LT, false},
    {"NumericLessThanEquals", K_NUM, C_LE, false},
    {"NumericGreaterThan", K_NUM, C_GT, false},
    {"NumericGreaterThanEquals", K_NUM, C_GE, false},
    {"DateEquals", K_DATE, C_EQ, false},
    {"DateNotEquals", K_DATE, C_EQ, true},
    {"DateLessThan", K_DATE, C_LT, false},
    {"DateLessThanEquals", K_DATE, C_LE, false},
    {"DateGreaterThan", K_DATE, C_GT, false},
    {"DateGreaterThanEquals", K_DATE, C_GE, false},
    {"Bool", K_BOOL, C_EQ, false},
    {"BinaryEquals", K_BIN, C_EQ, false},
    {"IpAddress", K_IP, C_EQ, false},
    {"NotIpAddress", K_IP, C_EQ, true},
    {"ArnEquals", K_ARN, C_EQ, false},
    {"ArnNotEquals", K_ARN, C_EQ, true},
    {"ArnLike", K_ARN, C_EQ, false},
    {"ArnNotLike", K_ARN, C_EQ, true},
    {"Null", K_NULL, C_EQ, false},
};

enum set_op { SET_NONE, SET_ANY, SET_ALL };

struct op_use {
    const struct op *op;
    enum set_op set;
    bool if_exists;
};

static bool starts_icase(const char *s, const char *p)
{
    return strncasecmp(s, p, strlen(p)) == 0;
}

/* "ForAnyValue:StringLikeIfExists" -> operator, set qualifier, IfExists. */
static bool parse_op(const char *name, struct op_use *out)
{
    static const char sfx[] = "IfExists";
    char base[64];
    out->set = SET_NONE;
    out->if_exists = false;
    if (strncmp(name, "ForAnyValue:", 12) == 0) {
        out->set = SET_ANY;
        name += 12;
    } else if (strncmp(name, "ForAllValues:", 13) == 0) {
        out->set = SET_ALL;
        name += 13;
    }
    size_t n = strlen(name);
    if (n >= sizeof(base))
        return false;
    memcpy(base, name, n + 1);
    if (n > sizeof(sfx) - 1 && strcmp(base + n - (sizeof(sfx) - 1), sfx) == 0) {
        base[n - (sizeof(sfx) - 1)] = '\0';
        out->if_exists = true;
    }
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strcmp(ops[i].name, base) == 0) {
            out->op = &ops[i];
            /* Null tests existence itself: IfExists and set qualifiers make no sense. */
            return ops[i].kind != K_NULL || (!out->if_exists && out->set == SET_NONE);
        }
    }
    return false;
}

/* ---- value parsers ---- */

bool srv_policy_wild_match(const char *pat, const char *s, bool icase)
{
    /* Iterative glob with one backtrack point: linear enough for policy sizes, no recursion. */
    const char *star = NULL, *mark = NULL;
    while (*s != '\0') {
        char pc = *pat, sc = *s;
        if (icase) {
            pc = (char)tolower((unsigned char)pc);
            sc = (char)tolower((unsigned char)sc);
        }
        if (*pat == '*') {
            star = pat++;
            mark = s;
        } else if (*pat != '\0' && (*pat == '?' || pc == sc)) {
            pat++;
            s++;
        } else if (star != NULL) {
            pat = star + 1;
            s = ++mark;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

static bool parse_number(const char *s, double *out)
{
    char *end = NULL;
    if (*s == '\0' || isspace((unsigned char)*s))
        return false;
    double d = strtod(s, &end);
    if (*end != '\0' || !isfinite(d))
        return false;
    *out = d;
    return true;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return n > 0;
}

/* ISO 8601 ("2026-11-25", "2026-11-25T16:00:00Z", "...T16:00:00.123+02:00") or epoch seconds,
 * as IAM's Date operators accept; -> seconds since the epoch. */
static bool parse_date(const char *s, double *out)
{
    size_t n = strlen(s);
    if (all_digits(s, n))
        return parse_number(s, out);
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, used = 0;
    if (n < 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10)
        return false;
    const char *p = s + 10;
    double frac = 0;
    long off = 0;
    if (*p == 'T' || *p == 't') {
        p++;
        used = 0;
        if (sscanf(p, "%2d:%2d%n", &h, &mi, &used) != 2 || used != 5)
            return false;
        p += 5;
        if (*p == ':') {
            if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
                return false;
            sec = (p[1] - '0') * 10 + (p[2] - '0');
            p += 3;
            if (*p == '.') {
                double scale = 0.1;
                p++;
                if (!isdigit((unsigned char)*p))
                    return false;
                while (isdigit((unsigned char)*p)) {
                    frac += (*p - '0') * scale;
                    scale /= 10;
                    p++;
                }
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int oh = 0, om = 0;
            if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
                return false;
            oh = (p[1] - '0') * 10 + (p[2] - '0');
            const char *q = p + 3;
            if (*q == ':')
                q++;
            if (isdigit((unsigned char)q[0]) && isdigit((unsigned char)q[1])) {
                om = (q[0] - '0') * 10 + (q[1] - '0');
                q += 2;
            }
            off = (p[0] == '+' ? 1 : -1) * (long)(oh * 3600 + om * 60);
            p = q;
        }
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (double)timegm(&tm) - (double)off + frac;
    return true;
}

struct ip {
    int family; /* AF_INET or AF_INET6 */
    uint8_t a[16];
    unsigned bits; /* prefix length (CIDR) */
};

/* An address, optionally "/prefix". IPv4-mapped IPv6 addresses become IPv4 so a client reaching
 * a dual-stack socket matches IPv4 ranges. */
static bool parse_ip(const char *s, bool allow_prefix, struct ip *out)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
    if (n == 0 || n >= sizeof(buf) || (slash != NULL && !allow_prefix))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->a) == 1) {
        out->family = AF_INET;
        out->bits = 32;
    } else if (inet_pton(AF_INET6, buf, out->a) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        out->family = AF_INET6;
        out->bits = 128;
        if (memcmp(out->a, mapped, 12) == 0 && slash == NULL) {
            memmove(out->a, out->a + 12, 4);
            memset(out->a + 4, 0, 12);
            out->family = AF_INET;
            out->bits = 32;
        }
    } else {
        return false;
    }
    if (slash != NULL) {
        unsigned long b = 0;
        if (!all_digits(slash + 1, strlen(slash + 1)) || strlen(slash + 1) > 3)
            return false;
        b = strtoul(slash + 1, NULL, 10);
        if (b > out->bits)
            return false;
        out->bits = (unsigned)b;
    }
    return true;
}

static bool ip_in(const struct ip *addr, const struct ip *net)
{
    if (addr->family != net->family)
        return false;
    unsigned full = net->bits / 8, rest = net->bits % 8;
    if (memcmp(addr->a, net->a, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest));
    return (addr->a[full] & mask) == (net->a[full] & mask);
}

/* A condition value as text: strings as they are, numbers and booleans as JSON writes them. */
static const char *value_text(const json_t *v, char *buf, size_t n)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(buf, n, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, n, "%.17g", json_real_value(v));
    else if (json_is_true(v))
        snprintf(buf, n, "true");
    else if (json_is_false(v))
        snprintf(buf, n, "false");
    else
        return NULL;
    return buf;
}

static bool valid_value(const struct op *o, const char *t)
{
    double d = 0;
    struct ip ip;
    switch (o->kind) {
    case K_NUM:
        return parse_number(t, &d);
    case K_DATE:
        return parse_date(t, &d);
    case K_IP:
        return parse_ip(t, true, &ip);
    case K_BOOL:
    case K_NULL:
        return strcasecmp(t, "true") == 0 || strcasecmp(t, "false") == 0;
    default:
        return true;
    }
}

static int compare(double a, double b)
{
    return a < b ? -1 : a > b ? 1 : 0;
}

static bool cmp_ok(enum cmp c, int r)
{
    switch (c) {
    case C_EQ:
        return r == 0;
    case C_LT:
        return r < 0;
    case C_LE:
        return r <= 0;
    case C_GT:
        return r > 0;
    case C_GE:
        return r >= 0;
    }
    return false;
}

/* Whether one request value satisfies one policy value, before negation. */
static bool match_one(const struct op *o, const char *req, const char *pol)
{
    double a = 0, b = 0;
    struct ip ra, pn;
    switch (o->kind) {
    case K_STR:
    case K_BIN:
        return strcmp(req, pol) == 0;
    case K_STR_ICASE:
    case K_BOOL:
        return strcasecmp(req, pol) == 0;
    case K_LIKE:
    case K_ARN:
        return srv_policy_wild_match(pol, req, false);
    case K_NUM:
        return parse_number(req, &a) && parse_number(pol, &b) && cmp_ok(o->cmp, compare(a, b));
    case K_DATE:
        return parse_date(req, &a) && parse_date(pol, &b) && cmp_ok(o->cmp, compare(a, b));
    case K_IP:
        return parse_ip(req, false, &ra) && parse_ip(pol, true, &pn) && ip_in(&ra, &pn);
    case K_NULL:
        return false; /* handled by the caller */
    }
    return false;
}

/* Number of values of a condition entry (a scalar or a list) and the i-th one. */
static size_t n_values(const json_t *v)
{
    return json_is_array(v) ? json_array_size(v) : 1;
}

static const json_t *value_at(const json_t *v, size_t i)
{
    return json_is_array(v) ? json_array_get(v, i) : v;
}

/* One request value against the policy values: any match, inverted for negated operators
 * ("StringNotEquals": the value equals none of them). */
static bool test_value(const struct op *o, const char *req, const json_t *pol)
{
    bool any = false;
    char buf[64];
    for (size_t i = 0; i < n_values(pol) && !any; i++) {
        const char *t = value_text(value_at(pol, i), buf, sizeof(buf));
        any = t != NULL && match_one(o, req, t);
    }
    return o->negated ? !any : any;
}

/* IAM: every key of an operator must hold (AND); a key's policy values are alternatives (OR).
 * A missing key fails positive operators and satisfies negated ones; ...IfExists makes it
 * pass; ForAllValues passes on an empty set and ForAnyValue fails on it. */
static bool eval_key(const struct op_use *u, const char *key, const json_t *pol,
                     const struct srv_policy_req *r)
{
    struct srv_policy_values vals;
    memset(&vals, 0, sizeof(vals));
    bool present = r->key != NULL && r->key(r->arg, key, &vals) && vals.n > 0;
    if (u->op->kind == K_NULL) {
        char buf[8];
        const char *t = value_text(value_at(pol, 0), buf, sizeof(buf));
        bool want_absent = t != NULL && strcasecmp(t, "true") == 0;
        return want_absent ? !present : present;
    }
    if (!present) {
        if (u->if_exists || u->set == SET_ALL)
            return true;
        if (u->set == SET_ANY)
            return false;
        return u->op->negated;
    }
    if (u->set == SET_ALL) {
        for (size_t i = 0; i < vals.n; i++) {
            if (!test_value(u->op, vals.v[i], pol))
                return false;
        }
        return true;
    }
    for (size_t i = 0; i < vals.n; i++) {
        if (test_value(u->op, vals.v[i], pol))
            return true;
    }
    return false;
}

static bool eval_conditions(const json_t *cond, const struct srv_policy_req *r)
{
    const char *opname = NULL;
    const json_t *keys = NULL;
    if (cond == NULL)
        return true;
    json_object_foreach((json_t *)(uintptr_t)cond, opname, keys)
    {
        struct op_use u;
        if (!parse_op(opname, &u))
            return false; /* validated at parse time */
        const char *key = NULL;
        const json_t *pol = NULL;
        json_object_foreach((json_t *)(uintptr_t)keys, key, pol)
        {
            if (!eval_key(&u, key, pol, r))
                return false;
        }
    }
    return true;
}

/* ---- principals, actions, resources ---- */

/* The 12-digit account of "arn:aws:iam::ACCOUNT:..." / "arn:aws:sts::ACCOUNT:...", into acct. */
static bool arn_account(const char *arn, char acct[13])
{
    const char *p = NULL;
    if (strncmp(arn, "arn:aws:iam::", 13) == 0 || strncmp(arn, "arn:aws:sts::", 13) == 0)
        p = arn + 13;
    if (p == NULL || !all_digits(p, 12) || p[12] != ':')
        return false;
    memcpy(acct, p, 12);
    acct[12] = '\0';
    return true;
}

static bool valid_aws_principal(const char *v)
{
    char acct[13];
    if (strcmp(v, "*") == 0)
        return true;
    if (strlen(v) == 12 && all_digits(v, 12))
        return true;
    return arn_account(v, acct) && v[26] != '\0' && strchr(v, '*') == NULL;
}

/* A Principal "AWS" value names the caller: "*" everyone; an account id or the account's root
 * ARN every principal of that account; any other ARN exactly that principal. */
static bool aws_principal_matches(const char *v, const char *principal)
{
    char want[13], have[13];
    if (strcmp(v, "*") == 0)
        return true;
    if (principal == NULL || !arn_account(principal, have))
        return false;
    if (strlen(v) == 12 && all_digits(v, 12))
        return strcmp(v, have) == 0;
    if (arn_account(v, want) && strcmp(v + 26, "root") == 0)
        return strcmp(want, have) == 0;
    return strcmp(v, principal) == 0;
}

static bool principal_matches(const json_t *pr, const char *principal)
{
    if (json_is_string(pr))
        return strcmp(json_string_value(pr), "*") == 0;
    const json_t *aws = json_object_get(pr, "AWS");
    if (aws == NULL)
        return false; /* Service/Federated/CanonicalUser principals never make S3 calls here */
    for (size_t i = 0; i < n_values(aws); i++) {
        if (aws_principal_matches(json_string_value(value_at(aws, i)), principal))
            return true;
    }
    return false;
}

static bool list_matches(const json_t *list, const char *s, bool icase)
{
    for (size_t i = 0; i < n_values(list); i++) {
        if (srv_policy_wild_match(json_string_value(value_at(list, i)), s, icase))
            return true;
    }
    return false;
}

static bool statement_applies(const json_t *st, const struct srv_policy_req *r)
{
    const json_t *pr = json_object_get(st, "Principal");
    const json_t *npr = json_object_get(st, "NotPrincipal");
    if (pr != NULL ? !principal_matches(pr, r->principal) : principal_matches(npr, r->principal))
        return false;
    const json_t *ac = json_object_get(st, "Action");
    if (ac != NULL ? !list_matches(ac, r->action, true)
                   : list_matches(json_object_get(st, "NotAction"), r->action, true))
        return false;
    const json_t *rs = json_object_get(st, "Resource");
    if (rs != NULL ? !list_matches(rs, r->resource, false)
                   : list_matches(json_object_get(st, "NotResource"), r->resource, false))
        return false;
    return eval_conditions(json_object_get(st, "Condition"), r);
}

enum srv_policy_decision srv_policy_eval(const struct srv_policy *p, const struct srv_policy_req *r)
{
    enum srv_policy_decision d = SRV_POLICY_NONE;
    for (size_t i = 0; i < json_array_size(p->stmts); i++) {
        const json_t *st = json_array_get(p->stmts, i);
        if (!statement_applies(st, r))
            continue;
        if (strcmp(json_string_value(json_object_get(st, "Effect")), "Deny") == 0)
            return SRV_POLICY_DENY; /* an explicit Deny always wins */
        d = SRV_POLICY_ALLOW;
    }
    return d;
}

/* Condition keys that pin a statement to known callers (AWS's "not public" list). */
static bool restricting_key(const char *k)
{
    static const char *const keys[] = {
        "aws:SourceIp",      "aws:SourceVpc",   "aws:SourceVpce",       "aws:SourceArn",
        "aws:SourceAccount", "aws:SourceOwner", "aws:PrincipalOrgID",   "aws:PrincipalAccount",
        "aws:PrincipalArn",  "aws:userid",      "s3:DataAccessPointArn"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcasecmp(k, keys[i]) == 0)
            return true;
    }
    return false;
}

bool srv_policy_is_public(const struct srv_policy *p)
{
    for (size_t i = 0; i < json_array_size(p->stmts); i++) {
        const json_t *st = json_array_get(p->stmts, i);
        if (strcmp(json_string_value(json_object_get(st, "Effect")), "Allow") != 0)
            continue;
        const json_t *pr = json_object_get(st, "Principal");
        bool everyone = pr == NULL || principal_matches(pr, NULL);
        if (!everyone)
            continue;
        bool restricted = false;
        const char *opname = NULL, *key = NULL;
        json_t *keys = NULL, *v = NULL;
        json_object_foreach(json_object_get(st, "Condition"), opname, keys)
        {
            struct op_use u;
            if (!parse_op(opname, &u) || u.op->negated || u.op->kind == K_NULL)
                continue;
            json_object_foreach(keys, key, v)
            {
                if (restricting_key(key))
                    restricted = true;
            }
        }
        if (!restricted)
            return true;
    }
    return false;
}

/* ---- validation ---- */

/* A string or a non-empty list of strings. */
static bool string_or_list(const json_t *v)
{
    if (json_is_string(v))
        return true;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return false;
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (!json_is_string(json_array_get(v, i)))
            return false;
    }
    return true;
}

static bool valid_action(const char *a)
{
    if (strcmp(a, "*") == 0)
        return true;
    if (!starts_icase(a, "s3:") || a[3] == '\0')
        return false;
    for (size_t i = 0; i < sizeof(s3_actions) / sizeof(s3_actions[0]); i++) {
        if (srv_policy_wild_match(a + 3, s3_actions[i].name, true))
            return true;
    }
    return false;
}

/* Resource types an action pattern applies to (a mask of res_type bits). */
static unsigned action_types(const char *a)
{
    unsigned m = 0;
    if (strcmp(a, "*") == 0)
        return R_BUCKET | R_OBJECT;
    for (size_t i = 0; i < sizeof(s3_actions) / sizeof(s3_actions[0]); i++) {
        if (srv_policy_wild_match(a + 3, s3_actions[i].name, true))
            m |= (unsigned)s3_actions[i].type;
    }
    return m;
}

/* The type of a (valid) resource: an object ARN has a '/' after the bucket. */
static unsigned resource_types(const char *res)
{
    if (strcmp(res, "*") == 0)
        return R_BUCKET | R_OBJECT;
    return strchr(res + strlen("arn:aws:s3:::"), '/') != NULL ? R_OBJECT : R_BUCKET;
}

/* AWS refuses a statement with an action none of its resources can be the target of
 * (s3:PutObject on "arn:aws:s3:::bucket", s3:ListBucket on "arn:aws:s3:::bucket/x*"). */
static bool actions_fit_resources(const json_t *ac, const json_t *rs)
{
    unsigned rmask = 0;
    for (size_t i = 0; i < n_values(rs); i++)
        rmask |= resource_types(json_string_value(value_at(rs, i)));
    for (size_t i = 0; i < n_values(ac); i++) {
        if ((action_types(json_string_value(value_at(ac, i))) & rmask) == 0)
            return false;
    }
    return true;
}

/* A resource must name this bucket or objects in it ("arn:aws:s3:::bucket[/...]", wildcards
 * allowed as long as they can match the bucket). */
static bool valid_resource(const char *res, const char *bucket)
{
    static const char pfx[] = "arn:aws:s3:::";
    char bpat[256];
    if (strcmp(res, "*") == 0)
        return true;
    if (strncmp(res, pfx, sizeof(pfx) - 1) != 0)
        return false;
    const char *b = res + sizeof(pfx) - 1;
    size_t n = strcspn(b, "/");
    if (n == 0 || n >= sizeof(bpat))
        return false;
    memcpy(bpat, b, n);
    bpat[n] = '\0';
    return srv_policy_wild_match(bpat, bucket, false);
}

static const char *check_principal(const json_t *pr)
{
    if (json_is_string(pr))
        return strcmp(json_string_value(pr), "*") == 0 ? NULL : MSG_PRINCIPAL;
    if (!json_is_object(pr) || json_object_size(pr) == 0)
        return MSG_PRINCIPAL;
    const char *k = NULL;
    json_t *v = NULL;
    json_object_foreach((json_t *)(uintptr_t)pr, k, v)
    {
        bool aws = strcmp(k, "AWS") == 0;
        if (!aws && strcmp(k, "Service") != 0 && strcmp(k, "CanonicalUser") != 0 &&
            strcmp(k, "Federated") != 0)
            return MSG_PRINCIPAL;
        if (!string_or_list(v))
            return MSG_PRINCIPAL;
        for (size_t i = 0; aws && i < n_values(v); i++) {
            if (!valid_aws_principal(json_string_value(value_at(v, i))))
                return MSG_PRINCIPAL;
        }
    }
    return NULL;
}

static const char *check_condition(const json_t *cond)
{
    const char *opname = NULL, *key = NULL;
    json_t *keys = NULL, *vals = NULL;
    if (!json_is_object(cond))
        return MSG_STATEMENT;
    json_object_foreach((json_t *)(uintptr_t)cond, opname, keys)
    {
        struct op_use u;
        if (!parse_op(opname, &u))
            return MSG_COND_OP;
        if (!json_is_object(keys) || json_object_size(keys) == 0)
            return MSG_STATEMENT;
        json_object_foreach(keys, key, vals)
        {
            if (!starts_icase(key, "aws:") && !starts_icase(key, "s3:"))
                return MSG_COND_KEY;
            if (key[strcspn(key, ":") + 1] == '\0')
                return MSG_COND_KEY;
            if (json_is_array(vals) && json_array_size(vals) == 0)
                return MSG_COND_VALUE;
            for (size_t i = 0; i < n_values(vals); i++) {
                char buf[64];
                const char *t = value_text(value_at(vals, i), buf, sizeof(buf));
                if (t == NULL || !valid_value(u.op, t))
                    return MSG_COND_VALUE;
            }
        }
    }
    return NULL;
}

/* One statement; sids collects Sids to reject duplicates. NULL when valid, else the message
 * (static, or kept in prob's text when it quotes the document). */
static const char *check_statement(const json_t *st, const char *bucket, json_t *sids,
                                   struct srv_problem *prob)
{
    static const char *const known[] = {"Sid",          "Effect",      "Principal",
                                        "NotPrincipal", "Action",      "NotAction",
                                        "Resource",     "NotResource", "Condition"};
    const char *k = NULL;
    json_t *v = NULL;
    if (!json_is_object(st))
        return MSG_STATEMENT;
    json_object_foreach((json_t *)(uintptr_t)st, k, v)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]) && !ok; i++)
            ok = strcmp(k, known[i]) == 0;
        if (!ok)
            return srv_problem_keep(prob, "Unknown field %.64s", k);
    }
    const json_t *sid = json_object_get(st, "Sid");
    if (sid != NULL) {
        if (!json_is_string(sid))
            return MSG_STATEMENT;
        const char *s = json_string_value(sid);
        if (s[0] != '\0' && json_object_get(sids, s) != NULL)
            return MSG_SID;
        if (s[0] != '\0' && json_object_set_new(sids, s, json_true()) != 0)
            return MSG_STATEMENT;
    }
    const json_t *eff = json_object_get(st, "Effect");
    if (eff == NULL)
        return "Missing required field Effect";
    if (!json_is_string(eff))
        return MSG_STATEMENT;
    if (strcmp(json_string_value(eff), "Allow") != 0 && strcmp(json_string_value(eff), "Deny") != 0)
        return srv_problem_keep(prob, "Invalid effect: %.64s", json_string_value(eff));

    const json_t *pr = json_object_get(st, "Principal");
    const json_t *npr = json_object_get(st, "NotPrincipal");
    if (pr == NULL && npr == NULL)
        return "Missing required field Principal";
    if (pr != NULL && npr != NULL)
        return MSG_PRINCIPAL;
    const char *m = check_principal(pr != NULL ? pr : npr);
    if (m != NULL)
        return m;

    const json_t *ac = json_object_get(st, "Action");
    const json_t *nac = json_object_get(st, "NotAction");
    if (ac == NULL && nac == NULL)
        return "Missing required field Action";
    if ((ac != NULL && nac != NULL) || !string_or_list(ac != NULL ? ac : nac))
        return MSG_ACTION;
    for (size_t i = 0; i < n_values(ac != NULL ? ac : nac); i++) {
        if (!valid_action(json_string_value(value_at(ac != NULL ? ac : nac, i))))
            return MSG_ACTION;
    }

    const json_t *rs = json_object_get(st, "Resource");
    const json_t *nrs = json_object_get(st, "NotResource");
    if (rs == NULL && nrs == NULL)
        return "Missing required field Resource";
    if ((rs != NULL && nrs != NULL) || !string_or_list(rs != NULL ? rs : nrs))
        return MSG_RESOURCE;
    for (size_t i = 0; i < n_values(rs != NULL ? rs : nrs); i++) {
        if (!valid_resource(json_string_value(value_at(rs != NULL ? rs : nrs, i)), bucket))
            return MSG_RESOURCE;
    }
    if (ac != NULL && rs != NULL && !actions_fit_resources(ac, rs))
        return "Action does not apply to any resource(s) in statement";
    const json_t *cond = json_object_get(st, "Condition");
    return cond != NULL ? check_condition(cond) : NULL;
}

/* The whole document; NULL when valid, else the message (as check_statement's). */
static const char *check_policy(json_t *root, const char *bucket, bool strict_version,
                                struct srv_problem *prob, bool *odd_version, json_t **out_stmts)
{
    const char *k = NULL;
    json_t *v = NULL;
    json_object_foreach(root, k, v)
    {
        if (strcmp(k, "Version") != 0 && strcmp(k, "Id") != 0 && strcmp(k, "Statement") != 0)
            return srv_problem_keep(prob, "Unknown field %.64s", k);
    }
    const json_t *ver = json_object_get(root, "Version");
    if (ver != NULL) {
        if (!json_is_string(ver))
            return MSG_VERSION;
        const char *s = json_string_value(ver);
        if (strcmp(s, "2012-10-17") != 0 && strcmp(s, "2008-10-17") != 0) {
            if (strict_version)
                return MSG_VERSION;
            *odd_version = true;
        }
    }
    const json_t *id = json_object_get(root, "Id");
    if (id != NULL && !json_is_string(id))
        return MSG_STATEMENT;
    json_t *st = json_object_get(root, "Statement");
    if (st == NULL)
        return MSG_NO_STATEMENT;
    if (json_is_object(st)) {
        /* A lone statement object: keep evaluation uniform by wrapping it in a list. */
        json_t *arr = json_array();
        if (arr == NULL || json_array_append(arr, st) != 0) {
            json_decref(arr);
            return MSG_STATEMENT;
        }
        if (json_object_set_new(root, "Statement", arr) != 0)
            return MSG_STATEMENT;
        st = arr;
    }
    if (!json_is_array(st) || json_array_size(st) == 0)
        return MSG_STATEMENT;
    json_t *sids = json_object();
    if (sids == NULL)
        return MSG_STATEMENT;
    const char *m = NULL;
    for (size_t i = 0; i < json_array_size(st) && m == NULL; i++)
        m = check_statement(json_array_get(st, i), bucket, sids, prob);
    json_decref(sids);
    *out_stmts = st;
    return m;
}

cof_err srv_policy_parse(const char *text, size_t len, const char *bucket, bool strict_version,
                         struct srv_policy **out, bool *out_odd_version, struct srv_problem *prob)
{
    json_error_t jerr;
    json_t *root = NULL, *stmts = NULL;
    struct srv_policy *p = NULL;
    cof_err err = COF_OK;
    const char *msg = NULL;
    bool odd = false;

    *out = NULL;
    *out_odd_version = false;
    srv_problem_init(prob);
    size_t i = 0;
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    if (len > SRV_POLICY_MAX_SIZE)
        msg = "Policy exceeds the maximum allowed document size.";
    else if (i == len || text[i] != '{')
        msg = MSG_NOT_JSON;
    if (msg == NULL) {
        root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (root == NULL || !json_is_object(root))
            msg = MSG_BAD_JSON;
    }
    if (msg == NULL)
        msg = check_policy(root, bucket, strict_version, prob, &odd, &stmts);
    if (msg != NULL) {
        err = srv_problem_set(prob, COF_ERR_MALFORMED_POLICY, msg);
        goto out;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    atomic_init(&p->refs, 1);
    p->root = root;
    p->stmts = stmts;
    root = NULL;
    *out = p;
    *out_odd_version = odd;
out:
    json_decref(root);
    return srv_problem_finish(prob, err);
}

struct srv_policy *srv_policy_ref(struct srv_policy *p)
{
    atomic_fetch_add(&p->refs, 1);
    return p;
}

void srv_policy_free(struct srv_policy *p)
{
    if (p == NULL || atomic_fetch_sub(&p->refs, 1) != 1)
        return;
    json_decref(p->root);
    free(p);
}
