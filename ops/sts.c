/* SPDX-License-Identifier: Apache-2.0 */
/* STS on the S3 port (AWS Query protocol): GetCallerIdentity, AssumeRole, GetSessionToken,
 * InvalidAction for any other action, and the form body whose Action decides the row. The
 * credentials they issue are stateless session tokens (object/session.h). No IAM: any role
 * ARN can be assumed, and session policies are accepted but not enforced. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/log.h"
#include "crypto/digest.h"
#include "crypto/key.h"
#include "object/session.h"
#include "ops/authz.h"
#include "ops/handlers.h"
#include "ops/query.h"
#include "ops/table.h"
#include "s3/xml.h"

#define DEFAULT_ACCOUNT   "000000000000"
#define LOCALSTACK_USERID "AKIAIOSFODNN7EXAMPLE" /* moto's default UserId, as LocalStack */
#define MAX_POLICY_LEN    2048u                  /* packed session policy, plain text */
#define CHAINED_MAX       3600                   /* role chaining: one hour at most */

/* Who is asking, as STS reports it. */
struct identity {
    char account[13];
    char arn[OBJ_SESSION_ARN_MAX + 1];
    char user_id[OBJ_SESSION_UID_MAX + 1];
    bool session; /* temporary credentials */
    bool root;
};

/* Up to 3 constraint violations, reported together as AWS's validation layer does. */
struct violations {
    char text[3][400];
    size_t n;
};

static void violation(struct violations *v, const char *value, const char *member,
                      const char *constraint)
{
    if (v->n >= 3)
        return;
    if (value == NULL)
        snprintf(v->text[v->n++], sizeof(v->text[0]),
                 "Value null at '%s' failed to satisfy constraint: %s", member, constraint);
    else
        snprintf(v->text[v->n++], sizeof(v->text[0]),
                 "Value '%.200s' at '%s' failed to satisfy constraint: %s", value, member,
                 constraint);
}

static cof_err fail_violations(struct srv_req *req, const struct violations *v)
{
    char msg[1400];
    int o =
        snprintf(msg, sizeof(msg), "%zu validation error%s detected: ", v->n, v->n == 1 ? "" : "s");
    for (size_t i = 0; i < v->n && o > 0 && (size_t)o < sizeof(msg); i++)
        o += snprintf(msg + o, sizeof(msg) - (size_t)o, "%s%s", i > 0 ? "; " : "", v->text[i]);
    return srv_fail_service(req, 400, "ValidationError", msg);
}

/* "AROA"/"AIDA" + 17 base32 characters derived from what they name: stable ids, as AWS's
 * unique ids are per role / user. */
static cof_err unique_id(const char *prefix, const char *of, char out[22])
{
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    uint8_t h[CRY_SHA256_LEN];
    cof_err err = cry_digest_oneshot(CRY_DIGEST_SHA256, of, strlen(of), h);
    if (err != COF_OK)
        return err;
    memcpy(out, prefix, 4);
    for (size_t i = 0; i < 17; i++)
        out[4 + i] = b32[h[i] & 31u];
    out[21] = '\0';
    return COF_OK;
}

static bool twelve_digits(const char *s)
{
    size_t n = strspn(s, "0123456789");
    return n == 12 && s[12] == '\0';
}

/* The account field of "arn:PARTITION:SERVICE::ACCOUNT:..." into out; false if malformed. */
static bool arn_account(const char *arn, char out[13])
{
    const char *p = arn;
    for (int i = 0; i < 4 && p != NULL; i++) {
        p = strchr(p, ':');
        p = p != NULL ? p + 1 : NULL;
    }
    if (p == NULL || strspn(p, "0123456789") != 12 || p[12] != ':')
        return false;
    memcpy(out, p, 12);
    out[12] = '\0';
    return true;
}

/* Temporary credentials in a request whose signature was not checked: their token still
 * says which session they belong to, so that GetCallerIdentity reports the assumed role, as
 * LocalStack does. Only a token that opens and names the request's key counts. */
static bool unverified_session(struct srv_req *req, struct obj_session *s)
{
    const char *tok = srv_req_header(req, "x-amz-security-token");
    if (tok == NULL)
        tok = srv_query_get(&req->query, "X-Amz-Security-Token");
    if (tok == NULL)
        tok = srv_query_get(&req->query, "x-amz-security-token");
    bool ok = tok != NULL &&
              obj_session_open(req->ctx->obj.kr, tok, (int64_t)time(NULL), s) == COF_OK &&
              strcmp(s->access_key, req->access_key) == 0;
    cry_wipe(s->secret, sizeof(s->secret));
    return ok;
}

static cof_err caller_identity(struct srv_req *req, struct identity *id)
{
    const struct srv_config *cfg = req->ctx->cfg;
    struct obj_session us;
    const struct obj_session *s = req->session;
    memset(id, 0, sizeof(*id));
    if (s == NULL && !cfg->verify_signatures && unverified_session(req, &us))
        s = &us;
    if (s != NULL) {
        snprintf(id->account, sizeof(id->account), "%s", s->account);
        snprintf(id->arn, sizeof(id->arn), "%s", s->arn);
        snprintf(id->user_id, sizeof(id->user_id), "%s", s->user_id);
        id->session = true;
        return COF_OK;
    }
    /* LocalStack: a 12-digit access key is that account; anything else the default one. */
    memcpy(id->account, twelve_digits(req->access_key) ? req->access_key : DEFAULT_ACCOUNT, 12);
    id->account[12] = '\0';
    if (ops_principal_of(cfg, req->access_key, id->arn, sizeof(id->arn)) &&
        arn_account(id->arn, id->account)) {
        id->root = strstr(id->arn, ":root") != NULL;
        if (id->root)
            snprintf(id->user_id, sizeof(id->user_id), "%s", id->account);
        else
            return unique_id("AIDA", id->arn, id->user_id);
        return COF_OK;
    }
    snprintf(id->arn, sizeof(id->arn), "arn:aws:iam::%s:root", id->account);
    /* AWS: a root's UserId is its account id; LocalStack answers moto's fixed one. */
    snprintf(id->user_id, sizeof(id->user_id), "%s",
             cfg->profile == SRV_PROFILE_AWS ? id->account : LOCALSTACK_USERID);
    id->root = true;
    return COF_OK;
}

cof_err ops_sts_get_caller_identity(struct srv_req *req)
{
    struct identity id;
    struct srv_xml *x = NULL;
    cof_err err = ops_query_parse_form(req);
    if (err == COF_OK)
        err = caller_identity(req, &id);
    if (err == COF_OK)
        err = ops_query_begin("GetCallerIdentity", &x);
    if (err != COF_OK)
        return err;
    srv_xml_elem(x, "Arn", id.arn);
    srv_xml_elem(x, "UserId", id.user_id);
    srv_xml_elem(x, "Account", id.account);
    return ops_query_reply(req, x);
}

/* DurationSeconds: absent -> dflt; else a decimal integer in [lo, hi], or a violation. */
static bool duration(struct srv_req *req, long lo, long hi, long dflt, struct violations *v,
                     long *out)
{
    const char *d = ops_query_param(req, "DurationSeconds");
    char c[96];
    *out = dflt;
    if (d == NULL)
        return true;
    char *end = NULL;
    errno = 0;
    long n = strtol(d, &end, 10);
    if (d[0] == '\0' || *end != '\0' || errno != 0 || isspace((unsigned char)d[0])) {
        violation(v, d, "durationSeconds", "Member must be a valid integer");
        return false;
    }
    if (n < lo || n > hi) {
        snprintf(c, sizeof(c), "Member must have value %s than or equal to %ld",
                 n < lo ? "greater" : "less", n < lo ? lo : hi);
        violation(v, d, "durationSeconds", c);
        return false;
    }
    *out = n;
    return true;
}

static void iso8601(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Issues s and writes <Credentials>. */
static cof_err credentials(struct srv_req *req, struct obj_session *s, struct srv_xml *x)
{
    char *token = NULL, exp[32];
    cof_err err = obj_session_issue(req->ctx->obj.kr, s, &token);
    if (err != COF_OK)
        return err;
    iso8601(s->expires, exp);
    srv_xml_open(x, "Credentials");
    srv_xml_elem(x, "AccessKeyId", s->access_key);
    srv_xml_elem(x, "SecretAccessKey", s->secret);
    srv_xml_elem(x, "SessionToken", token);
    srv_xml_elem(x, "Expiration", exp);
    srv_xml_close(x);
    cof_log_info(req->rid, "issued %s for %s until %s", s->access_key, s->arn, exp);
    free(token);
    return COF_OK;
}

static bool session_name_ok(const char *s)
{
    for (; *s != '\0'; s++) {
        if (!isalnum((unsigned char)*s) && strchr("_+=,.@-", *s) == NULL)
            return false;
    }
    return true;
}

/* A role ARN: arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME. Its account and name. */
static bool role_arn(const char *arn, char account[13], const char **name)
{
    const char *r = NULL;
    if (strncmp(arn, "arn:", 4) != 0 || !arn_account(arn, account))
        return false;
    const char *svc = strchr(arn + 4, ':');
    if (svc == NULL || strncmp(svc, ":iam::", 6) != 0)
        return false;
    r = strstr(arn, ":role/");
    if (r == NULL || r != svc + 6 + 12)
        return false;
    *name = strrchr(r, '/') + 1;
    return **name != '\0' && strlen(*name) <= 64;
}

/* A session policy: JSON of at most MAX_POLICY_LEN characters; its packed size in percent of
 * what AWS allows (AWS compresses first; coffer counts the compact JSON). */
static cof_err session_policy(struct srv_req *req, const char *policy, struct violations *v,
                              long *out_packed)
{
    *out_packed = -1;
    if (policy == NULL)
        return COF_OK;
    if (policy[0] == '\0' || strlen(policy) > MAX_POLICY_LEN) {
        violation(v, policy, "policy",
                  policy[0] == '\0' ? "Member must have length greater than or equal to 1"
                                    : "Member must have length less than or equal to 2048");
        return COF_OK;
    }
    json_error_t je;
    json_t *doc = json_loads(policy, 0, &je);
    char *compact = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (compact == NULL)
        return srv_fail_service(req, 400, "MalformedPolicyDocument",
                                "The policy is not in the valid JSON format.");
    *out_packed = (long)((strlen(compact) * 100 + MAX_POLICY_LEN - 1) / MAX_POLICY_LEN);
    free(compact);
    return COF_OK;
}

/* What AssumeRole asks for, once its parameters passed AWS's constraints. */
struct assume_params {
    const char *arn, *session;
    char account[13];
    const char *role_name; /* inside arn */
    long duration;
    long packed; /* PackedPolicySize, -1 without a session policy */
};

static void check_lengths(struct violations *v, const char *value, const char *member, size_t lo,
                          size_t hi)
{
    char c[80];
    size_t n = value != NULL ? strlen(value) : 0;
    if (value == NULL)
        violation(v, NULL, member, "Member must not be null");
    else if (n < lo || n > hi) {
        snprintf(c, sizeof(c), "Member must have length %s than or equal to %zu",
                 n < lo ? "greater" : "less", n < lo ? lo : hi);
        violation(v, value, member, c);
    }
}

/* Reads and validates AssumeRole's parameters into p; records AWS's error otherwise. */
static cof_err assume_role_params(struct srv_req *req, struct assume_params *p)
{
    struct violations v = {0};
    p->arn = ops_query_param(req, "RoleArn");
    p->session = ops_query_param(req, "RoleSessionName");
    check_lengths(&v, p->arn, "roleArn", 20, 2048);
    size_t before = v.n;
    check_lengths(&v, p->session, "roleSessionName", 2, 64);
    if (v.n == before && !session_name_ok(p->session))
        violation(&v, p->session, "roleSessionName",
                  "Member must satisfy regular expression pattern: [\\w+=,.@-]*");
    (void)duration(req, 900, 43200, 3600, &v, &p->duration);
    cof_err err = session_policy(req, ops_query_param(req, "Policy"), &v, &p->packed);
    if (err != COF_OK)
        return err;
    if (v.n > 0)
        return fail_violations(req, &v);
    if (!role_arn(p->arn, p->account, &p->role_name)) {
        char msg[2100];
        snprintf(msg, sizeof(msg), "%s is invalid", p->arn);
        return srv_fail_service(req, 400, "ValidationError", msg);
    }
    return COF_OK;
}

cof_err ops_sts_assume_role(struct srv_req *req)
{
    struct assume_params p;
    struct obj_session s;
    struct srv_xml *x = NULL;
    char rid[22];

    cof_err err = ops_query_parse_form(req);
    if (err == COF_OK)
        err = assume_role_params(req, &p);
    if (err != COF_OK)
        return err;
    const char *arn = p.arn, *sess = p.session, *name = p.role_name, *account = p.account;
    long dur = p.duration, packed = p.packed;
    if (req->session != NULL && dur > CHAINED_MAX)
        return srv_fail_service(req, 400, "ValidationError",
                                "The requested DurationSeconds exceeds the 1 hour session limit "
                                "for roles assumed by role chaining.");
    memset(&s, 0, sizeof(s));
    snprintf(s.account, sizeof(s.account), "%s", account);
    /* AWS: the assumed-role ARN names the role without its path. */
    int an =
        snprintf(s.arn, sizeof(s.arn), "arn:aws:sts::%s:assumed-role/%s/%s", account, name, sess);
    err = unique_id("AROA", arn, rid);
    if (err == COF_OK && (an < 0 || (size_t)an >= sizeof(s.arn)))
        err = COF_ERR_INVALID; /* cannot happen: the name and session are at most 64 each */
    snprintf(s.user_id, sizeof(s.user_id), "%s:%s", rid, sess);
    s.expires = (int64_t)time(NULL) + dur;
    if (err == COF_OK)
        err = ops_query_begin("AssumeRole", &x);
    if (err == COF_OK)
        err = credentials(req, &s, x);
    cry_wipe(s.secret, sizeof(s.secret));
    if (err != COF_OK) {
        srv_xml_free(x);
        return err;
    }
    srv_xml_open(x, "AssumedRoleUser");
    srv_xml_elem(x, "AssumedRoleId", s.user_id);
    srv_xml_elem(x, "Arn", s.arn);
    srv_xml_close(x);
    if (packed >= 0)
        srv_xml_elem_u64(x, "PackedPolicySize", (uint64_t)packed);
    return ops_query_reply(req, x);
}

cof_err ops_sts_get_session_token(struct srv_req *req)
{
    struct violations v = {0};
    struct identity id;
    struct obj_session s;
    struct srv_xml *x = NULL;
    long dur = 0;

    cof_err err = ops_query_parse_form(req);
    if (err == COF_OK)
        err = caller_identity(req, &id);
    if (err != COF_OK)
        return err;
    if (!duration(req, 900, 129600, 43200, &v, &dur))
        return fail_violations(req, &v);
    if (id.session)
        return srv_fail_service(req, 403, "AccessDenied",
                                "Cannot call GetSessionToken with session credentials");
    /* AWS: an account root's sessions last one hour at most (longer requests are cut). */
    if (id.root && dur > CHAINED_MAX)
        dur = CHAINED_MAX;
    memset(&s, 0, sizeof(s));
    snprintf(s.account, sizeof(s.account), "%s", id.account);
    snprintf(s.arn, sizeof(s.arn), "%s", id.arn);
    snprintf(s.user_id, sizeof(s.user_id), "%s", id.user_id);
    s.expires = (int64_t)time(NULL) + dur;
    err = ops_query_begin("GetSessionToken", &x);
    if (err == COF_OK)
        err = credentials(req, &s, x);
    cry_wipe(s.secret, sizeof(s.secret));
    if (err != COF_OK) {
        srv_xml_free(x);
        return err;
    }
    return ops_query_reply(req, x);
}

cof_err ops_sts_invalid_action(struct srv_req *req)
{
    char msg[300];
    cof_err err = ops_query_parse_form(req);
    if (err != COF_OK)
        return err;
    const char *action = ops_query_param(req, "Action");
    const char *version = ops_query_param(req, "Version");
    snprintf(msg, sizeof(msg), "Could not find operation %.100s for version %.40s",
             action != NULL ? action : "", version != NULL ? version : "NO_VERSION_SPECIFIED");
    return srv_fail_service(req, 400, "InvalidAction", msg);
}

cof_err ops_query_form(struct srv_req *req)
{
    cof_err err = ops_query_parse_form(req);
    if (err != COF_OK)
        return err;
    const struct srv_op *op = srv_optable_rematch(&req->route, srv_query_get(&req->form, "Action"));
    cof_log_debug(req->rid, "form Action -> %s", op->name);
    req->op = op;
    return op->finish(req);
}
