/* SPDX-License-Identifier: Apache-2.0 */
/* Bucket policy parser (valid and malformed documents, AWS's messages) and evaluator (every
 * condition operator, IfExists, ForAnyValue/ForAllValues, wildcards, Not*, Deny precedence). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "s3/policy.c"

#define B "bkt"

/* ---- parser ---- */

struct parse_case {
    const char *doc;
    bool strict;
    const char *msg; /* NULL: valid */
};

#define ST(body) "{\"Version\":\"2012-10-17\",\"Statement\":[" body "]}"
#define OK_ST                                                                                      \
    "{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"          \
    "\"arn:aws:s3:::bkt/*\"}"

static const struct parse_case parse_cases[] = {
    {ST(OK_ST), true, NULL},
    /* a lone statement object, no Version, Id, Sid, list forms */
    {"{\"Statement\":" OK_ST "}", true, NULL},
    {"  \n{\"Id\":\"x\",\"Statement\":[{\"Sid\":\"a\",\"Effect\":\"Deny\",\"Principal\":{\"AWS\":"
     "[\"*\",\"123456789012\",\"arn:aws:iam::123456789012:user/bob\"]},\"NotAction\":["
     "\"s3:Get*\",\"s3:List?ucket\"],\"NotResource\":[\"arn:aws:s3:::bkt\",\"arn:aws:s3:::b*/"
     "x\"]}]}",
     true, NULL},
    {ST("{\"Effect\":\"Allow\",\"NotPrincipal\":{\"AWS\":\"arn:aws:iam::123456789012:root\"},"
        "\"Action\":\"*\",\"Resource\":\"*\"}"),
     true, NULL},
    {ST("{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"logging.s3.amazonaws.com\"},"
        "\"Action\":\"S3:putobject\",\"Resource\":\"arn:aws:s3:::bkt/logs/*\"}"),
     true, NULL},
    /* versions */
    {"{\"Version\":\"2008-10-17\",\"Statement\":[" OK_ST "]}", true, NULL},
    {"{\"Version\":\"2018-05-24\",\"Statement\":[" OK_ST "]}", false, NULL},
    {"{\"Version\":\"2018-05-24\",\"Statement\":[" OK_ST "]}", true,
     "The policy must contain a valid version string"},
    {"{\"Version\":20121017,\"Statement\":[" OK_ST "]}", false,
     "The policy must contain a valid version string"},
    /* not JSON / not an object */
    {"", true, "Policies must be valid JSON and the first byte must be '{'"},
    {"   ", true, "Policies must be valid JSON and the first byte must be '{'"},
    {"[]", true, "Policies must be valid JSON and the first byte must be '{'"},
    {"\"{}\"", true, "Policies must be valid JSON and the first byte must be '{'"},
    {"{", true, "This policy contains invalid Json"},
    {"{\"Statement\":[" OK_ST "]} trailing", true, "This policy contains invalid Json"},
    {"{\"Statement\":[" OK_ST "],\"Statement\":[]}", true, "This policy contains invalid Json"},
    /* structure */
    {"{}", true, "Missing required field Statement"},
    {"{\"Version\":\"2012-10-17\"}", true, "Missing required field Statement"},
    {ST(""), true, "Could not parse the policy: Statement is not well formatted."},
    {"{\"Statement\":\"x\"}", true, "Could not parse the policy: Statement is not well formatted."},
    {ST("42"), true, "Could not parse the policy: Statement is not well formatted."},
    {"{\"Statement\":[" OK_ST "],\"Extra\":1}", true, "Unknown field Extra"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\",\"Bogus\":1}"),
     true, "Unknown field Bogus"},
    {"{\"Id\":5,\"Statement\":[" OK_ST "]}", true,
     "Could not parse the policy: Statement is not well formatted."},
    /* Sid */
    {ST("{\"Sid\":\"a\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
        "\"Resource\":\"arn:aws:s3:::bkt/*\"},{\"Sid\":\"a\",\"Effect\":\"Allow\",\"Principal\":"
        "\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/*\"}"),
     true, "Statement IDs (SID) in a single policy must be unique."},
    /* Effect */
    {ST("{\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/*\"}"),
     true, "Missing required field Effect"},
    {ST("{\"Effect\":\"allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\"}"),
     true, "Invalid effect: allow"},
    {ST("{\"Effect\":\"hello\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\"}"),
     true, "Invalid effect: hello"},
    /* Principal */
    {ST("{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/*\"}"),
     true, "Missing required field Principal"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"bob\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\"}"),
     true, "Invalid principal in policy"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"user\"},\"Action\":\"s3:GetObject\","
        "\"Resource\":\"arn:aws:s3:::bkt/*\"}"),
     true, "Invalid principal in policy"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::12345:root\"},\"Action\":"
        "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/*\"}"),
     true, "Invalid principal in policy"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::123456789012:user/*\"},"
        "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/*\"}"),
     true, "Invalid principal in policy"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":{},\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\"}"),
     true, "Invalid principal in policy"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":{\"Bogus\":\"*\"},\"Action\":\"s3:GetObject\","
        "\"Resource\":\"arn:aws:s3:::bkt/*\"}"),
     true, "Invalid principal in policy"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[]},\"Action\":\"s3:GetObject\","
        "\"Resource\":\"arn:aws:s3:::bkt/*\"}"),
     true, "Invalid principal in policy"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"NotPrincipal\":\"*\",\"Action\":"
        "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/*\"}"),
     true, "Invalid principal in policy"},
    /* Action */
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Resource\":\"arn:aws:s3:::bkt/*\"}"), true,
     "Missing required field Action"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"invalid_action\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\"}"),
     true, "Policy has invalid action"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:FlyAway\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\"}"),
     true, "Policy has invalid action"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"ec2:*\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\"}"),
     true, "Policy has invalid action"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":[],\"Resource\":"
        "\"arn:aws:s3:::bkt/*\"}"),
     true, "Policy has invalid action"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":[\"s3:GetObject\",7],\"Resource\":"
        "\"arn:aws:s3:::bkt/*\"}"),
     true, "Policy has invalid action"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"NotAction\":"
        "\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::bkt/*\"}"),
     true, "Policy has invalid action"},
    /* Resource */
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\"}"), true,
     "Missing required field Resource"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::other/*\"}"),
     true, "Policy has invalid resource"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"<invalid_resource_value>\"}"),
     true, "Policy has invalid resource"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::/x\"}"),
     true, "Policy has invalid resource"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "[\"arn:aws:s3:::bkt\",\"arn:aws:iam::123456789012:root\"]}"),
     true, "Policy has invalid resource"},
    /* actions and resources must fit */
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":[\"s3:PutObject\"],\"Resource\":"
        "[\"arn:aws:s3:::bkt\"]}"),
     true, "Action does not apply to any resource(s) in statement"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":[\"s3:GetObject\",\"s3:ListBucket\"],"
        "\"Resource\":\"arn:aws:s3:::bkt/*\"}"),
     true, "Action does not apply to any resource(s) in statement"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:ListAllMyBuckets\",\"Resource\":"
        "\"*\"}"),
     true, "Action does not apply to any resource(s) in statement"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":[\"s3:GetObject\",\"s3:ListBucket\"],"
        "\"Resource\":[\"arn:aws:s3:::bkt\",\"arn:aws:s3:::bkt/*\"]}"),
     true, NULL},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:List*\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\"}"),
     true, NULL},
    {ST("{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":"
        "\"arn:aws:s3:::bkt\"}"),
     true, NULL},
    /* Condition */
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\",\"Condition\":{\"StringEqualz\":{\"s3:prefix\":\"a\"}}}"),
     true, "Policy has an invalid condition operator"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\",\"Condition\":{\"NullIfExists\":{\"s3:prefix\":\"true\"}}}"),
     true, "Policy has an invalid condition operator"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\",\"Condition\":{\"ForSomeValues:StringLike\":{\"s3:prefix\":"
        "\"a\"}}}"),
     true, "Policy has an invalid condition operator"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\",\"Condition\":{\"StringEquals\":{\"prefix\":\"a\"}}}"),
     true, "Policy has an invalid condition key"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\",\"Condition\":{\"StringEquals\":{\"s3:\":\"a\"}}}"),
     true, "Policy has an invalid condition key"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/33\"}}}"),
     true, "Policy has an invalid condition value"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\",\"Condition\":{\"NumericLessThan\":{\"s3:max-keys\":\"ten\"}}}"),
     true, "Policy has an invalid condition value"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\",\"Condition\":{\"DateLessThan\":{\"aws:CurrentTime\":"
        "\"2026-13-01\"}}}"),
     true, "Policy has an invalid condition value"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\",\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"yes\"}}}"),
     true, "Policy has an invalid condition value"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\",\"Condition\":{\"StringEquals\":{\"s3:prefix\":[]}}}"),
     true, "Policy has an invalid condition value"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\",\"Condition\":{\"StringEquals\":{\"s3:prefix\":{\"a\":1}}}}"),
     true, "Policy has an invalid condition value"},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\",\"Condition\":{\"StringEquals\":\"x\"}}"),
     true, "Could not parse the policy: Statement is not well formatted."},
    {ST("{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::bkt/*\",\"Condition\":[]}"),
     true, "Could not parse the policy: Statement is not well formatted."},
};

static void test_parse(void)
{
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const struct parse_case *c = &parse_cases[i];
        struct srv_policy *p = NULL;
        struct srv_problem pr;
        bool odd = false;
        cof_err err = srv_policy_parse(c->doc, strlen(c->doc), B, c->strict, &p, &odd, &pr);
        if (c->msg == NULL) {
            if (err != COF_OK)
                fprintf(stderr, "case %zu: %s\n", i, pr.message ? pr.message : "?");
            CHECK_EQ_INT(err, COF_OK);
            CHECK(p != NULL);
        } else {
            if (err == COF_OK)
                fprintf(stderr, "case %zu accepted\n", i);
            CHECK_EQ_INT(err, COF_ERR_MALFORMED_POLICY);
            CHECK(p == NULL);
            CHECK_EQ_STR(pr.message, c->msg);
        }
        srv_policy_free(p);
    }
    /* the lenient version rule says so */
    struct srv_policy *p = NULL;
    struct srv_problem pr;
    bool odd = false;
    const char *d = "{\"Version\":\"2018-05-24\",\"Statement\":[" OK_ST "]}";
    CHECK_EQ_INT(srv_policy_parse(d, strlen(d), B, false, &p, &odd, &pr), COF_OK);
    CHECK(odd);
    /* references: the policy lives until the last one is dropped */
    struct srv_policy *q = srv_policy_ref(p);
    CHECK(q == p);
    srv_policy_free(p);
    CHECK(srv_policy_is_public(q));
    srv_policy_free(q);
    /* size cap */
    static char big[SRV_POLICY_MAX_SIZE + 2];
    memset(big, ' ', sizeof(big) - 1);
    big[0] = '{';
    CHECK_EQ_INT(srv_policy_parse(big, strlen(big), B, true, &p, &odd, &pr),
                 COF_ERR_MALFORMED_POLICY);
    CHECK_EQ_STR(pr.message, "Policy exceeds the maximum allowed document size.");
    /* embedded NUL is not JSON */
    CHECK_EQ_INT(srv_policy_parse("{\0}", 3, B, true, &p, &odd, &pr), COF_ERR_MALFORMED_POLICY);
    srv_policy_free(NULL);
}

/* ---- wildcards ---- */

static void test_wild(void)
{
    static const struct {
        const char *pat, *s;
        bool icase, want;
    } c[] = {
        {"*", "", false, true},
        {"*", "anything", false, true},
        {"", "", false, true},
        {"", "a", false, false},
        {"a?c", "abc", false, true},
        {"a?c", "ac", false, false},
        {"s3:Get*", "s3:GetObject", false, true},
        {"s3:get*", "s3:GetObject", false, false},
        {"s3:get*", "s3:GetObject", true, true},
        {"arn:aws:s3:::b/*/x", "arn:aws:s3:::b/a/b/x", false, true},
        {"arn:aws:s3:::b/*/x", "arn:aws:s3:::b/a/b/y", false, false},
        {"*a*b*c*", "xxaxxbxxcxx", false, true},
        {"*a*b*c*", "xxaxxcxxbxx", false, false},
        {"a*", "b", false, false},
        {"**?", "x", false, true},
        {"**?", "", false, false},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        if (srv_policy_wild_match(c[i].pat, c[i].s, c[i].icase) != c[i].want)
            fprintf(stderr, "wild case %zu\n", i);
        CHECK(srv_policy_wild_match(c[i].pat, c[i].s, c[i].icase) == c[i].want);
    }
}

/* ---- evaluator ---- */

/* Request condition keys: "name=value" entries; a name repeated gives a multi-valued key. */
struct fake_keys {
    const char *kv[8];
};

static bool fake_lookup(void *arg, const char *key, struct srv_policy_values *out)
{
    const struct fake_keys *f = arg;
    for (size_t i = 0; i < 8 && f->kv[i] != NULL; i++) {
        const char *eq = strchr(f->kv[i], '=');
        size_t n = (size_t)(eq - f->kv[i]);
        if (strlen(key) == n && strncasecmp(key, f->kv[i], n) == 0 &&
            out->n < SRV_POLICY_MAX_VALUES)
            out->v[out->n++] = eq + 1;
    }
    return out->n > 0;
}

#define ALICE "arn:aws:iam::111122223333:user/alice"
#define ROOT  "arn:aws:iam::000000000000:root"

struct eval_case {
    const char *stmts; /* statements, comma-separated JSON objects */
    const char *principal, *action, *resource;
    struct fake_keys keys;
    enum srv_policy_decision want;
};

/* An Allow (or Deny) of s3:GetObject on every object of bkt for everyone, with a condition. */
#define COND(effect, cond)                                                                         \
    "{\"Effect\":\"" effect "\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"     \
    "\"arn:aws:s3:::bkt/*\",\"Condition\":" cond "}"
#define GET ROOT, "s3:GetObject", "arn:aws:s3:::bkt/k"

static const struct eval_case eval_cases[] = {
    /* no match / allow / deny precedence */
    {OK_ST, GET, {{NULL}}, SRV_POLICY_ALLOW},
    {OK_ST, ROOT, "s3:PutObject", "arn:aws:s3:::bkt/k", {{NULL}}, SRV_POLICY_NONE},
    {OK_ST, ROOT, "s3:GetObject", "arn:aws:s3:::bkt", {{NULL}}, SRV_POLICY_NONE},
    {OK_ST ",{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\"}",
     GET,
     {{NULL}},
     SRV_POLICY_DENY},
    {"{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\"}," OK_ST,
     GET,
     {{NULL}},
     SRV_POLICY_DENY},
    /* action wildcards are case-insensitive; resources are not */
    {"{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"S3:get*\",\"Resource\":"
     "\"arn:aws:s3:::bkt/*\"}",
     GET,
     {{NULL}},
     SRV_POLICY_ALLOW},
    {"{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObjec?\",\"Resource\":"
     "\"arn:aws:s3:::bkt/K\"}",
     GET,
     {{NULL}},
     SRV_POLICY_NONE},
    /* NotAction / NotResource */
    {"{\"Effect\":\"Deny\",\"Principal\":\"*\",\"NotAction\":\"s3:Get*\",\"Resource\":\"*\"}",
     GET,
     {{NULL}},
     SRV_POLICY_NONE},
    {"{\"Effect\":\"Deny\",\"Principal\":\"*\",\"NotAction\":\"s3:Get*\",\"Resource\":\"*\"}",
     ROOT,
     "s3:PutObject",
     "arn:aws:s3:::bkt/k",
     {{NULL}},
     SRV_POLICY_DENY},
    {"{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"*\",\"NotResource\":"
     "\"arn:aws:s3:::bkt/public/*\"}",
     ROOT,
     "s3:GetObject",
     "arn:aws:s3:::bkt/public/a",
     {{NULL}},
     SRV_POLICY_NONE},
    {"{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"*\",\"NotResource\":"
     "\"arn:aws:s3:::bkt/public/*\"}",
     GET,
     {{NULL}},
     SRV_POLICY_DENY},
    /* principals */
    {"{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ALICE "\"},\"Action\":\"s3:GetObject\","
     "\"Resource\":\"arn:aws:s3:::bkt/*\"}",
     ALICE,
     "s3:GetObject",
     "arn:aws:s3:::bkt/k",
     {{NULL}},
     SRV_POLICY_ALLOW},
    {"{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ALICE "\"},\"Action\":\"s3:GetObject\","
     "\"Resource\":\"arn:aws:s3:::bkt/*\"}",
     GET,
     {{NULL}},
     SRV_POLICY_NONE},
    {"{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"111122223333\"]},\"Action\":\"s3:*\","
     "\"Resource\":\"arn:aws:s3:::bkt/*\"}",
     ALICE,
     "s3:GetObject",
     "arn:aws:s3:::bkt/k",
     {{NULL}},
     SRV_POLICY_ALLOW},
    {"{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},"
     "\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::bkt/*\"}",
     ALICE,
     "s3:GetObject",
     "arn:aws:s3:::bkt/k",
     {{NULL}},
     SRV_POLICY_ALLOW},
    {"{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"s3.amazonaws.com\"},"
     "\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::bkt/*\"}",
     GET,
     {{NULL}},
     SRV_POLICY_NONE},
    {"{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"" ALICE "\"},\"Action\":\"s3:*\","
     "\"Resource\":\"arn:aws:s3:::bkt/*\"}",
     GET,
     {{NULL}},
     SRV_POLICY_DENY},
    {"{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"" ALICE "\"},\"Action\":\"s3:*\","
     "\"Resource\":\"arn:aws:s3:::bkt/*\"}",
     ALICE,
     "s3:GetObject",
     "arn:aws:s3:::bkt/k",
     {{NULL}},
     SRV_POLICY_NONE},
    /* String operators */
    {COND("Allow", "{\"StringEquals\":{\"s3:x-amz-acl\":[\"private\",\"public-read\"]}}"),
     GET,
     {{"s3:x-amz-acl=public-read"}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"StringEquals\":{\"s3:x-amz-acl\":\"private\"}}"),
     GET,
     {{"s3:x-amz-acl=Private"}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"StringEquals\":{\"s3:x-amz-acl\":\"private\"}}"),
     GET,
     {{NULL}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"StringEqualsIgnoreCase\":{\"s3:x-amz-acl\":\"private\"}}"),
     GET,
     {{"s3:x-amz-acl=PRIVATE"}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"StringNotEqualsIgnoreCase\":{\"s3:x-amz-acl\":\"private\"}}"),
     GET,
     {{"s3:x-amz-acl=PRIVATE"}},
     SRV_POLICY_NONE},
    {COND("Deny", "{\"StringNotEquals\":{\"s3:x-amz-server-side-encryption\":\"AES256\"}}"),
     GET,
     {{"s3:x-amz-server-side-encryption=AES256"}},
     SRV_POLICY_NONE},
    {COND("Deny", "{\"StringNotEquals\":{\"s3:x-amz-server-side-encryption\":\"AES256\"}}"),
     GET,
     {{"s3:x-amz-server-side-encryption=aws:kms"}},
     SRV_POLICY_DENY},
    /* a missing key satisfies a negated operator (seed 004: no SSE header -> denied) */
    {COND("Deny", "{\"StringNotEquals\":{\"s3:x-amz-server-side-encryption\":\"AES256\"}}"),
     GET,
     {{NULL}},
     SRV_POLICY_DENY},
    {COND("Allow", "{\"StringLike\":{\"s3:prefix\":[\"home/*\",\"pub?ic/\"]}}"),
     GET,
     {{"s3:prefix=public/"}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"StringNotLike\":{\"s3:prefix\":\"home/*\"}}"),
     GET,
     {{"s3:prefix=home/x"}},
     SRV_POLICY_NONE},
    /* condition keys are case-insensitive (the callback sees the name as written) */
    {COND("Allow", "{\"StringEquals\":{\"S3:X-AMZ-ACL\":\"private\"}}"),
     GET,
     {{"s3:x-amz-acl=private"}},
     SRV_POLICY_ALLOW},
    /* several keys and operators: all must hold */
    {COND("Allow", "{\"StringEquals\":{\"s3:x-amz-acl\":\"private\",\"s3:prefix\":\"a\"}}"),
     GET,
     {{"s3:x-amz-acl=private"}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"StringEquals\":{\"s3:x-amz-acl\":\"private\"},\"Bool\":{"
                   "\"aws:SecureTransport\":true}}"),
     GET,
     {{"s3:x-amz-acl=private", "aws:SecureTransport=true"}},
     SRV_POLICY_ALLOW},
    /* Numeric */
    {COND("Allow", "{\"NumericLessThanEquals\":{\"s3:max-keys\":\"10\"}}"),
     GET,
     {{"s3:max-keys=10"}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"NumericLessThan\":{\"s3:max-keys\":10}}"),
     GET,
     {{"s3:max-keys=10"}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"NumericGreaterThan\":{\"s3:max-keys\":\"9.5\"}}"),
     GET,
     {{"s3:max-keys=10"}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"NumericGreaterThanEquals\":{\"s3:max-keys\":\"11\"}}"),
     GET,
     {{"s3:max-keys=10"}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"NumericEquals\":{\"s3:max-keys\":\"10\"}}"),
     GET,
     {{"s3:max-keys=010"}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"NumericNotEquals\":{\"s3:max-keys\":[\"10\",\"20\"]}}"),
     GET,
     {{"s3:max-keys=20"}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"NumericEquals\":{\"s3:max-keys\":\"10\"}}"),
     GET,
     {{"s3:max-keys=ten"}},
     SRV_POLICY_NONE},
    /* Date: ISO 8601 and epoch, either side */
    {COND("Allow", "{\"DateLessThan\":{\"aws:CurrentTime\":\"2030-01-01T00:00:00Z\"}}"),
     GET,
     {{"aws:CurrentTime=2026-11-25T16:00:00Z"}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"DateGreaterThan\":{\"aws:CurrentTime\":\"2030-01-01\"}}"),
     GET,
     {{"aws:CurrentTime=2026-11-25T16:00:00Z"}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"DateEquals\":{\"aws:EpochTime\":\"2026-11-25T16:00:00+01:00\"}}"),
     GET,
     {{"aws:EpochTime=1795618800"}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"DateNotEquals\":{\"aws:EpochTime\":1795618800}}"),
     GET,
     {{"aws:EpochTime=1795618800"}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"DateLessThanEquals\":{\"aws:CurrentTime\":\"2026-11-25T16:00:00.000Z\"}}"),
     GET,
     {{"aws:CurrentTime=2026-11-25T16:00:00Z"}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"DateGreaterThanEquals\":{\"aws:CurrentTime\":\"2026-11-25T16:00:01Z\"}}"),
     GET,
     {{"aws:CurrentTime=2026-11-25T16:00:00Z"}},
     SRV_POLICY_NONE},
    /* Bool, Binary, Arn */
    {COND("Deny", "{\"Bool\":{\"aws:SecureTransport\":\"false\"}}"),
     GET,
     {{"aws:SecureTransport=false"}},
     SRV_POLICY_DENY},
    {COND("Deny", "{\"Bool\":{\"aws:SecureTransport\":false}}"),
     GET,
     {{"aws:SecureTransport=true"}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"BinaryEquals\":{\"s3:x-amz-content-sha256\":\"QUJD\"}}"),
     GET,
     {{"s3:x-amz-content-sha256=QUJD"}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"ArnLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::*:user/al*\"}}"),
     GET,
     {{"aws:PrincipalArn=" ALICE}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"ArnNotEquals\":{\"aws:PrincipalArn\":\"" ALICE "\"}}"),
     GET,
     {{"aws:PrincipalArn=" ALICE}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"ArnEquals\":{\"aws:PrincipalArn\":\"" ALICE "\"}}"),
     GET,
     {{"aws:PrincipalArn=" ALICE}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"ArnNotLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::*:root\"}}"),
     GET,
     {{"aws:PrincipalArn=" ALICE}},
     SRV_POLICY_ALLOW},
    /* IP: v4, v6, v4-mapped, single address, mismatched family */
    {COND("Allow", "{\"IpAddress\":{\"aws:SourceIp\":\"192.168.0.0/16\"}}"),
     GET,
     {{"aws:SourceIp=192.168.4.5"}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"IpAddress\":{\"aws:SourceIp\":\"192.168.0.0/16\"}}"),
     GET,
     {{"aws:SourceIp=192.169.4.5"}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"IpAddress\":{\"aws:SourceIp\":\"10.1.2.3\"}}"),
     GET,
     {{"aws:SourceIp=10.1.2.3"}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/9\"}}"),
     GET,
     {{"aws:SourceIp=10.128.0.1"}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"IpAddress\":{\"aws:SourceIp\":\"2001:db8::/32\"}}"),
     GET,
     {{"aws:SourceIp=2001:db8:1::7"}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"IpAddress\":{\"aws:SourceIp\":\"2001:db8::/32\"}}"),
     GET,
     {{"aws:SourceIp=10.0.0.1"}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"IpAddress\":{\"aws:SourceIp\":\"127.0.0.0/8\"}}"),
     GET,
     {{"aws:SourceIp=::ffff:127.0.0.1"}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}"),
     GET,
     {{"aws:SourceIp=8.8.8.8"}},
     SRV_POLICY_ALLOW},
    {COND("Deny", "{\"NotIpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"::1/128\"]}}"),
     GET,
     {{"aws:SourceIp=::1"}},
     SRV_POLICY_NONE},
    {COND("Deny", "{\"NotIpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"::1/128\"]}}"),
     GET,
     {{"aws:SourceIp=127.0.0.1"}},
     SRV_POLICY_DENY},
    /* Null */
    {COND("Deny", "{\"Null\":{\"s3:x-amz-server-side-encryption\":\"true\"}}"),
     GET,
     {{NULL}},
     SRV_POLICY_DENY},
    {COND("Deny", "{\"Null\":{\"s3:x-amz-server-side-encryption\":true}}"),
     GET,
     {{"s3:x-amz-server-side-encryption=AES256"}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"Null\":{\"s3:x-amz-server-side-encryption\":\"false\"}}"),
     GET,
     {{"s3:x-amz-server-side-encryption=AES256"}},
     SRV_POLICY_ALLOW},
    /* IfExists: absent passes, present is tested */
    {COND("Allow", "{\"StringEqualsIfExists\":{\"s3:x-amz-acl\":\"private\"}}"),
     GET,
     {{NULL}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"StringEqualsIfExists\":{\"s3:x-amz-acl\":\"private\"}}"),
     GET,
     {{"s3:x-amz-acl=public-read"}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"NumericLessThanIfExists\":{\"s3:max-keys\":\"5\"}}"),
     GET,
     {{NULL}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"IpAddressIfExists\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}"),
     GET,
     {{"aws:SourceIp=11.0.0.1"}},
     SRV_POLICY_NONE},
    /* ForAnyValue / ForAllValues on a multi-valued key */
    {COND("Allow", "{\"ForAnyValue:StringEquals\":{\"s3:RequestObjectTagKeys\":[\"a\",\"b\"]}}"),
     GET,
     {{"s3:RequestObjectTagKeys=z", "s3:RequestObjectTagKeys=b"}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"ForAnyValue:StringEquals\":{\"s3:RequestObjectTagKeys\":[\"a\",\"b\"]}}"),
     GET,
     {{"s3:RequestObjectTagKeys=z"}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"ForAnyValue:StringEquals\":{\"s3:RequestObjectTagKeys\":\"a\"}}"),
     GET,
     {{NULL}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"ForAllValues:StringEquals\":{\"s3:RequestObjectTagKeys\":[\"a\",\"b\"]}}"),
     GET,
     {{"s3:RequestObjectTagKeys=a", "s3:RequestObjectTagKeys=b"}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"ForAllValues:StringEquals\":{\"s3:RequestObjectTagKeys\":[\"a\",\"b\"]}}"),
     GET,
     {{"s3:RequestObjectTagKeys=a", "s3:RequestObjectTagKeys=c"}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"ForAllValues:StringEquals\":{\"s3:RequestObjectTagKeys\":\"a\"}}"),
     GET,
     {{NULL}},
     SRV_POLICY_ALLOW},
    {COND("Allow", "{\"ForAllValues:StringLike\":{\"s3:RequestObjectTagKeys\":\"t-*\"}}"),
     GET,
     {{"s3:RequestObjectTagKeys=t-1", "s3:RequestObjectTagKeys=t-2"}},
     SRV_POLICY_ALLOW},
    {COND("Deny", "{\"ForAnyValue:StringNotEquals\":{\"s3:RequestObjectTagKeys\":[\"a\",\"b\"]}}"),
     GET,
     {{"s3:RequestObjectTagKeys=a", "s3:RequestObjectTagKeys=x"}},
     SRV_POLICY_DENY},
    {COND("Deny", "{\"ForAllValues:StringNotEquals\":{\"s3:RequestObjectTagKeys\":[\"a\",\"b\"]}}"),
     GET,
     {{"s3:RequestObjectTagKeys=a", "s3:RequestObjectTagKeys=x"}},
     SRV_POLICY_NONE},
    {COND("Allow", "{\"ForAnyValue:StringEqualsIfExists\":{\"s3:RequestObjectTagKeys\":\"a\"}}"),
     GET,
     {{NULL}},
     SRV_POLICY_ALLOW},
};

static void test_eval(void)
{
    for (size_t i = 0; i < sizeof(eval_cases) / sizeof(eval_cases[0]); i++) {
        const struct eval_case *c = &eval_cases[i];
        char doc[2048];
        struct srv_policy *p = NULL;
        struct srv_problem pr;
        bool odd = false;
        snprintf(doc, sizeof(doc), "{\"Version\":\"2012-10-17\",\"Statement\":[%s]}", c->stmts);
        cof_err err = srv_policy_parse(doc, strlen(doc), B, true, &p, &odd, &pr);
        if (err != COF_OK) {
            fprintf(stderr, "eval case %zu does not parse: %s\n", i, pr.message);
            CHECK_EQ_INT(err, COF_OK);
            continue;
        }
        struct srv_policy_req r = {c->principal, c->action, c->resource, fake_lookup,
                                   (void *)(uintptr_t)&c->keys};
        enum srv_policy_decision d = srv_policy_eval(p, &r);
        if (d != c->want)
            fprintf(stderr, "eval case %zu: got %d want %d\n", i, (int)d, (int)c->want);
        CHECK_EQ_INT(d, c->want);
        srv_policy_free(p);
    }
}

/* ---- IsPublic ---- */

static void test_public(void)
{
    static const struct {
        const char *stmts;
        bool want;
    } c[] = {
        {OK_ST, true},
        {"{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"" ALICE "\",\"*\"]},\"Action\":"
         "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/*\"}",
         true},
        {"{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ALICE "\"},\"Action\":"
         "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/*\"}",
         false},
        {"{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
         "\"arn:aws:s3:::bkt/*\"}",
         false},
        {COND("Allow", "{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}"), false},
        {COND("Allow", "{\"StringEquals\":{\"aws:SourceAccount\":\"111122223333\"}}"), false},
        {COND("Allow", "{\"Bool\":{\"aws:SecureTransport\":\"true\"}}"), true},
        {COND("Allow", "{\"NotIpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}"), true},
        {"{\"Effect\":\"Allow\",\"NotPrincipal\":{\"AWS\":\"" ALICE "\"},\"Action\":"
         "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/*\"}",
         true},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char doc[2048];
        struct srv_policy *p = NULL;
        struct srv_problem pr;
        bool odd = false;
        snprintf(doc, sizeof(doc), "{\"Statement\":[%s]}", c[i].stmts);
        CHECK_EQ_INT(srv_policy_parse(doc, strlen(doc), B, true, &p, &odd, &pr), COF_OK);
        if (p == NULL)
            continue;
        if (srv_policy_is_public(p) != c[i].want)
            fprintf(stderr, "public case %zu\n", i);
        CHECK(srv_policy_is_public(p) == c[i].want);
        srv_policy_free(p);
    }
}

/* ---- value parsers ---- */

static void test_parsers(void)
{
    double d = 0;
    CHECK(parse_date("1970-01-01T00:00:00Z", &d) && d == 0);
    CHECK(parse_date("1970-01-02", &d) && d == 86400);
    CHECK(parse_date("1970-01-01T01:00:00+01:00", &d) && d == 0);
    CHECK(parse_date("1970-01-01T00:00-01:30", &d) && d == 5400);
    CHECK(parse_date("1700000000", &d) && d == 1700000000);
    CHECK(!parse_date("", &d));
    CHECK(!parse_date("2026-11-25T", &d));
    CHECK(!parse_date("2026-11-25X", &d));
    CHECK(!parse_date("2026-00-25", &d));
    CHECK(!parse_date("2026-11-25T25:00:00Z", &d));
    CHECK(!parse_date("-5", &d));
    CHECK(parse_number("-1.5", &d) && d == -1.5);
    CHECK(!parse_number("1e999", &d));
    CHECK(!parse_number(" 1", &d));
    CHECK(!parse_number("1 ", &d));
    CHECK(!parse_number("nan", &d));
    struct ip ip;
    CHECK(parse_ip("1.2.3.4/0", true, &ip) && ip.bits == 0);
    CHECK(!parse_ip("1.2.3.4/", true, &ip));
    CHECK(!parse_ip("1.2.3.4/1/2", true, &ip));
    CHECK(!parse_ip("1.2.3.4/24", false, &ip));
    CHECK(!parse_ip("::/129", true, &ip));
    CHECK(parse_ip("::/128", true, &ip) && ip.family == AF_INET6);
    CHECK(!parse_ip("300.1.1.1", true, &ip));
    CHECK(!parse_ip("/8", true, &ip));
}

int main(void)
{
    test_parse();
    test_wild();
    test_eval();
    test_public();
    test_parsers();
    return check_finish();
}
