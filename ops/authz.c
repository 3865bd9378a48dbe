/* SPDX-License-Identifier: Apache-2.0 */
/* Bucket-policy enforcement in the request path: who is asking, which IAM action an operation is,
 * the condition keys of the request, loading (cached) and evaluating the bucket's policy. The
 * document itself is parsed and evaluated by s3/policy.c. */

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ops/authz.h"

#include "common/log.h"
#include "crypto/envelope.h"
#include "object/kms.h"
#include "object/session.h"
#include "ops/access.h"
#include "ops/bucketcfg.h"
#include "ops/copysrc.h"
#include "s3/policy.h"
#include "s3/tagging.h"
#include "storage/meta.h"

/* LocalStack's default account: the caller when nothing names another. */
#define DEFAULT_ROOT "arn:aws:iam::" STO_DEFAULT_OWNER ":root"

/* The action of this request: its operation's (ops/optable.def), or the *Version one when it
 * names a version. NULL: bucket policies do not apply. */
static const char *request_action(const struct srv_req *req)
{
    if (req->op->version_action != NULL && srv_query_get(&req->query, "versionId") != NULL)
        return req->op->version_action;
    return req->op->action;
}

/* ---- who is asking ---- */

/* The principal an access key was mapped to with --principals ("AK=ARN,..."). */
static bool mapped_principal(const char *map, const char *ak, char *out, size_t n)
{
    size_t akl = strlen(ak);
    const char *p = map;
    while (p != NULL && *p != '\0') {
        size_t len = strcspn(p, ",");
        const char *eq = memchr(p, '=', len);
        if (eq != NULL && (size_t)(eq - p) == akl && memcmp(p, ak, akl) == 0) {
            size_t al = len - akl - 1;
            if (al >= n)
                return false;
            memcpy(out, eq + 1, al);
            out[al] = '\0';
            return true;
        }
        p = p[len] == ',' ? p + len + 1 : NULL;
    }
    return false;
}

bool ops_principal_of(const struct srv_config *cfg, const char *access_key, char *out, size_t n)
{
    return access_key != NULL && access_key[0] != '\0' &&
           mapped_principal(cfg->principals, access_key, out, n);
}

void ops_policy_set_principal(struct srv_req *req, const char *access_key)
{
    const struct srv_config *cfg = req->ctx->cfg;
    /* An anonymous request is no principal at all: only "*" and public ACL grants match. */
    if (req->anonymous) {
        req->principal[0] = '\0';
        return;
    }
    /* Verified temporary credentials act as the session they were issued for (the assumed
     * role); a verified key as its --principals mapping. Otherwise a request is an account's
     * root: as in LocalStack, an access key of 12 digits names that account, any other key the
     * default one. Unverified (LocalStack default) requests only pick the account that way. */
    if (cfg->verify_signatures && req->session != NULL)
        snprintf(req->principal, sizeof(req->principal), "%s", req->session->arn);
    else if (cfg->verify_signatures &&
             ops_principal_of(cfg, access_key, req->principal, sizeof(req->principal)))
        return;
    else if (access_key != NULL && strlen(access_key) == 12 &&
             strspn(access_key, "0123456789") == 12)
        snprintf(req->principal, sizeof(req->principal), "arn:aws:iam::%s:root", access_key);
    else
        snprintf(req->principal, sizeof(req->principal), "%s", DEFAULT_ROOT);
}

/* ---- condition keys of the request ---- */

struct key_ctx {
    struct srv_req *req;
    const char *key;       /* object key, or NULL for a bucket-level request */
    struct srv_query tags; /* x-amz-tagging, parsed on first use */
    bool tags_parsed;
    /* UploadPart, UploadPartCopy and CompleteMultipartUpload carry no SSE headers; their SSE
     * condition keys come from the upload, which CreateMultipartUpload authorized with them. */
    struct sto_upload upload;
    int upload_state; /* 0: not looked up, 1: found, -1: none */
    /* s3:ExistingObjectTag/<tag>: the tags of the stored object (the version the request
     * names), read on first use; absent when there is no such object. */
    bool (*existing_tag)(struct key_ctx *kc, const char *tag, char *out, size_t n);
    struct srv_query existing; /* its canonical tag text, parsed */
    bool existing_read;
};

/* Request headers that are condition keys of the same name ("s3:<header>"). */
static const char *const header_keys[] = {
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-acl",
    "x-amz-copy-source",
    "x-amz-metadata-directive",
    "x-amz-storage-class",
    "x-amz-content-sha256",
    "x-amz-grant-read",
    "x-amz-grant-write",
    "x-amz-grant-read-acp",
    "x-amz-grant-write-acp",
    "x-amz-grant-full-control",
    "x-amz-object-lock-mode",
    "x-amz-object-lock-retain-until-date",
    "x-amz-object-lock-legal-hold",
    "x-amz-website-redirect-location",
};

/* Query parameters that are condition keys ("s3:prefix" is ?prefix=, ...). */
static const struct {
    const char *key, *param;
} query_keys[] = {
    {"s3:prefix", "prefix"},
    {"s3:delimiter", "delimiter"},
    {"s3:max-keys", "max-keys"},
    {"s3:VersionId", "versionId"},
};

static bool one(struct srv_policy_values *out, const char *v)
{
    if (v == NULL)
        return false;
    out->v[0] = v;
    out->n = 1;
    return true;
}

static bool one_copy(struct srv_policy_values *out, const char *v)
{
    snprintf(out->scratch, sizeof(out->scratch), "%s", v);
    return one(out, out->scratch);
}

static const struct srv_query *request_tags(struct key_ctx *kc)
{
    if (!kc->tags_parsed) {
        kc->tags_parsed = true;
        const char *h = srv_req_header(kc->req, "x-amz-tagging");
        if (h != NULL && srv_query_parse(h, &kc->tags) != COF_OK)
            srv_query_cleanup(&kc->tags);
    }
    return &kc->tags;
}

/* The stored object's tag named tag, from the tagging line of its header block. */
static bool stored_tag(struct key_ctx *kc, const char *tag, char *out, size_t n)
{
    if (!kc->existing_read) {
        struct sto_object o;
        char *canon = NULL;
        const char *vid = srv_query_get(&kc->req->query, "versionId");
        kc->existing_read = true;
        if (sto_meta_get_version(kc->req->ctx->obj.meta, kc->req->route.bucket, kc->key, vid, &o) ==
            COF_OK) {
            if (!o.delete_marker && srv_tagging_from_block(o.headers, &canon) == COF_OK &&
                srv_query_parse(canon, &kc->existing) != COF_OK)
                srv_query_cleanup(&kc->existing);
            free(canon);
            sto_object_cleanup(&o);
        }
    }
    const char *v = srv_query_get(&kc->existing, tag);
    if (v == NULL || strlen(v) >= n)
        return false;
    memcpy(out, v, strlen(v) + 1);
    return true;
}

static const struct sto_upload *upload_of(struct key_ctx *kc)
{
    struct srv_req *req = kc->req;
    if (kc->upload_state == 0) {
        const char *id = srv_query_get(&req->query, "uploadId");
        kc->upload_state = -1;
        if (id != NULL && kc->key != NULL &&
            sto_meta_upload_get(req->ctx->obj.meta, req->route.bucket, kc->key, id, &kc->upload) ==
                COF_OK)
            kc->upload_state = 1;
    }
    return kc->upload_state == 1 ? &kc->upload : NULL;
}

/* The SSE condition keys of a multipart part from its upload (absent when the upload is
 * unknown: the operation then answers NoSuchUpload). */
static bool upload_sse_key(struct key_ctx *kc, const char *hdr, struct srv_policy_values *out)
{
    const struct sto_upload *u = upload_of(kc);
    if (u == NULL)
        return false;
    if (strcasecmp(hdr, "x-amz-server-side-encryption") == 0) {
        if (u->sse_mode == CRY_MODE_SSE_S3)
            return one(out, "AES256");
        return u->sse_mode == CRY_MODE_SSE_KMS && one(out, "aws:kms");
    }
    if (strcasecmp(hdr, "x-amz-server-side-encryption-aws-kms-key-id") == 0) {
        if (u->sse_mode != CRY_MODE_SSE_KMS)
            return false;
        srv_kms_arn(&kc->req->ctx->obj, u->kek_id != NULL ? u->kek_id : "", out->scratch,
                    sizeof(out->scratch));
        return one(out, out->scratch);
    }
    if (strcasecmp(hdr, "x-amz-server-side-encryption-customer-algorithm") == 0)
        return u->sse_mode == CRY_MODE_SSE_C && one(out, "AES256");
    return false;
}

static bool lookup_key(void *arg, const char *name, struct srv_policy_values *out)
{
    struct key_ctx *kc = arg;
    struct srv_req *req = kc->req;
    const char *principal = req->principal;

    if (strncasecmp(name, "s3:", 3) == 0) {
        const char *rest = name + 3;
        if (strncasecmp(rest, "x-amz-server-side-encryption", 28) == 0 &&
            (req->op->flags & OPF_IN_UPLOAD) != 0)
            return upload_sse_key(kc, rest, out);
        for (size_t i = 0; i < sizeof(header_keys) / sizeof(header_keys[0]); i++) {
            if (strcasecmp(rest, header_keys[i]) == 0)
                return one(out, srv_req_header(req, header_keys[i]));
        }
        for (size_t i = 0; i < sizeof(query_keys) / sizeof(query_keys[0]); i++) {
            if (strcasecmp(name, query_keys[i].key) == 0)
                return one(out, srv_query_get(&req->query, query_keys[i].param));
        }
        /* Tag names after the '/' keep their case: S3 tag keys are case-sensitive. */
        if (strncasecmp(rest, "RequestObjectTag/", 17) == 0)
            return one(out, srv_query_get(request_tags(kc), rest + 17));
        if (strcasecmp(rest, "RequestObjectTagKeys") == 0) {
            const struct srv_query *t = request_tags(kc);
            for (size_t i = 0; i < t->n && out->n < SRV_POLICY_MAX_VALUES; i++)
                out->v[out->n++] = t->params[i].name;
            return out->n > 0;
        }
        if (strncasecmp(rest, "ExistingObjectTag/", 18) == 0)
            return kc->existing_tag != NULL && kc->key != NULL &&
                   kc->existing_tag(kc, rest + 18, out->scratch, sizeof(out->scratch)) &&
                   one(out, out->scratch);
        return false;
    }
    if (strcasecmp(name, "aws:SecureTransport") == 0)
        return one(out, req->tls ? "true" : "false");
    if (strcasecmp(name, "aws:SourceIp") == 0)
        return req->peer[0] != '\0' && one(out, req->peer);
    if (strcasecmp(name, "aws:PrincipalArn") == 0)
        return one(out, principal);
    if (strcasecmp(name, "aws:PrincipalAccount") == 0 || strcasecmp(name, "aws:userid") == 0) {
        /* aws:userid of a root principal is the account id; users have opaque ids coffer does
         * not invent, so it falls back to the account too. */
        if (strlen(principal) < 25)
            return false;
        snprintf(out->scratch, sizeof(out->scratch), "%.12s", principal + 13);
        return one(out, out->scratch);
    }
    if (strcasecmp(name, "aws:username") == 0) {
        const char *u = strstr(principal, ":user/");
        if (u == NULL)
            return false; /* IAM: the key is present only for IAM users */
        const char *slash = strrchr(u, '/');
        return one_copy(out, slash + 1);
    }
    if (strcasecmp(name, "aws:CurrentTime") == 0 || strcasecmp(name, "aws:EpochTime") == 0) {
        time_t now = time(NULL);
        struct tm tm;
        if (strcasecmp(name, "aws:EpochTime") == 0) {
            snprintf(out->scratch, sizeof(out->scratch), "%lld", (long long)now);
        } else {
            gmtime_r(&now, &tm);
            strftime(out->scratch, sizeof(out->scratch), "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
        return one(out, out->scratch);
    }
    return false;
}

/* ---- loading and checking ---- */

/* What IAM decides when no policy statement applies: the bucket owner's principals are allowed
 * (their identity permissions are everything here), other accounts' are denied. With signatures
 * unchecked nobody's identity is proven, so no account is kept out (as LocalStack, which does
 * not enforce IAM by default). */
static bool allowed_by_default(struct srv_req *req, const char *bucket)
{
    char owner[13], mine[13];
    if (!req->ctx->cfg->verify_signatures)
        return true;
    if (ops_bucket_owner(req, bucket, owner) != COF_OK)
        return false;
    ops_request_account(req, mine);
    return strcmp(owner, mine) == 0 && (strncmp(req->principal, "arn:aws:iam::", 13) == 0 ||
                                        strncmp(req->principal, "arn:aws:sts::", 13) == 0);
}

/* The root of the bucket's owner account, who can always manage its policy. */
static bool is_owner_root(struct srv_req *req, const char *bucket)
{
    char owner[13], root[64];
    if (ops_bucket_owner(req, bucket, owner) != COF_OK)
        return false;
    snprintf(root, sizeof(root), "arn:aws:iam::%s:root", owner);
    return strcmp(req->principal, root) == 0;
}

/* Parsed policies, keyed by bucket and the exact stored text. Parsing a 1 KB policy costs
 * about as much as serving a HEAD (measured: 40-100 us vs ~200 us), so it is done once per
 * text; the text is still read from the metadata store on every request, so a Put, Delete or
 * reset can never leave a stale policy in force (no invalidation to forget). Bounded: one entry
 * per slot, a colliding bucket replaces it. Process-wide, like the policies it mirrors. */
#define CACHE_SLOTS 64u
static struct {
    char *bucket;
    char *text;
    struct srv_policy *p;
} cache[CACHE_SLOTS];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static size_t cache_slot(const char *bucket)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)bucket; *c != '\0'; c++)
        h = (h ^ *c) * 16777619u;
    return h % CACHE_SLOTS;
}

static struct srv_policy *cache_get(const char *bucket, const char *text)
{
    struct srv_policy *p = NULL;
    size_t i = cache_slot(bucket);
    pthread_mutex_lock(&cache_mu);
    if (cache[i].p != NULL && strcmp(cache[i].bucket, bucket) == 0 &&
        strcmp(cache[i].text, text) == 0)
        p = srv_policy_ref(cache[i].p);
    pthread_mutex_unlock(&cache_mu);
    return p;
}

/* Best effort: without memory the policy is simply parsed again next time. */
static void cache_put(const char *bucket, const char *text, struct srv_policy *p)
{
    size_t i = cache_slot(bucket);
    char *b = strdup(bucket), *t = strdup(text);
    if (b == NULL || t == NULL) {
        free(b);
        free(t);
        return;
    }
    pthread_mutex_lock(&cache_mu);
    char *old_b = cache[i].bucket, *old_t = cache[i].text;
    struct srv_policy *old_p = cache[i].p;
    cache[i].bucket = b;
    cache[i].text = t;
    cache[i].p = srv_policy_ref(p);
    pthread_mutex_unlock(&cache_mu);
    free(old_b);
    free(old_t);
    srv_policy_free(old_p);
}

/* The bucket's parsed policy into *out (NULL when it has none). COF_ERR_NO_BUCKET when the
 * bucket does not exist (the operation then answers NoSuchBucket, as AWS does). */
cof_err ops_policy_load(struct srv_req *req, const char *bucket, struct srv_policy **out)
{
    char *doc = NULL;
    struct srv_problem prob;
    bool odd = false;
    *out = NULL;
    cof_err err = sto_meta_get_bucket_config(req->ctx->obj.meta, bucket, OPS_POLICY_CONFIG, &doc);
    if (err == COF_ERR_NOT_FOUND)
        return COF_OK;
    if (err != COF_OK)
        return err;
    *out = cache_get(bucket, doc);
    if (*out != NULL) {
        free(doc);
        return COF_OK;
    }
    /* Stored policies were validated when put; the version rule may have been the lenient
     * one, so do not apply the strict one now. */
    err = srv_policy_parse(doc, strlen(doc), bucket, false, out, &odd, &prob);
    if (err == COF_OK)
        cache_put(bucket, doc, *out);
    if (err == COF_ERR_MALFORMED_POLICY) {
        /* Fail closed: a policy that no longer parses must not silently stop applying. */
        cof_log_error(req->rid, "stored policy of %s does not parse (%s)", bucket, prob.message);
        err = COF_ERR_INTERNAL;
    }
    free(doc);
    return err;
}

/* Whether the bucket's public access block restricts its policy p, a public one. */
static bool restricted_public(struct srv_req *req, const struct srv_policy *p, const char *bucket)
{
    struct srv_pab pab;
    bool enforced = false;
    return srv_policy_is_public(p) &&
           ops_bucket_pab(req, bucket, &pab, NULL, &enforced) == COF_OK && enforced &&
           pab.restrict_buckets;
}

/* One action on bucket[/key] under policy p (NULL: no policy). IAM: an explicit Deny wins; an
 * Allow grants; with neither, the bucket owner's account is allowed (its identity permissions
 * are implicitly everything here) and any other account is denied. */
static bool allowed(struct srv_req *req, const struct srv_policy *p, const char *action,
                    const char *bucket, const char *key)
{
    if (p == NULL)
        return allowed_by_default(req, bucket) || ops_acl_allows(req, action, bucket, key);
    size_t n = strlen(bucket) + (key != NULL ? strlen(key) : 0) + 16;
    char *res = malloc(n);
    if (res == NULL)
        return false;
    if (key != NULL)
        snprintf(res, n, "arn:aws:s3:::%s/%s", bucket, key);
    else
        snprintf(res, n, "arn:aws:s3:::%s", bucket);
    struct key_ctx kc;
    memset(&kc, 0, sizeof(kc));
    kc.req = req;
    kc.key = key;
    kc.existing_tag = stored_tag;
    struct srv_policy_req r = {req->principal, action, res, lookup_key, &kc};
    enum srv_policy_decision d = srv_policy_eval(p, &r);
    srv_query_cleanup(&kc.tags);
    srv_query_cleanup(&kc.existing);
    if (kc.upload_state == 1)
        sto_upload_cleanup(&kc.upload);
    free(res);
    if (d == SRV_POLICY_DENY)
        return false;
    if (allowed_by_default(req, bucket))
        return true;
    /* RestrictPublicBuckets: a public policy lets no one outside the owner's account in. */
    if (d == SRV_POLICY_ALLOW && !restricted_public(req, p, bucket))
        return true;
    return ops_acl_allows(req, action, bucket, key);
}

bool ops_policy_allows(struct srv_req *req, const char *action, const char *key)
{
    return allowed(req, req->policy, action, req->route.bucket, key);
}

cof_err ops_policy_check_action(struct srv_req *req, const char *action, const char *key)
{
    if (req->policy == NULL) {
        cof_err err = ops_policy_load(req, req->route.bucket, &req->policy);
        if (err == COF_ERR_NO_BUCKET)
            return COF_OK; /* the operation answers NoSuchBucket itself */
        if (err != COF_OK)
            return err;
    }
    if (allowed(req, req->policy, action, req->route.bucket, key))
        return COF_OK;
    cof_log_info(req->rid, "bucket policy of %s denies %s to %s", req->route.bucket, action,
                 req->principal);
    return COF_ERR_ACCESS_DENIED;
}

/* x-amz-expected-bucket-owner (x-amz-source-expected-bucket-owner for a copy's source): when
 * the bucket exists and another account owns it, AWS answers 403 AccessDenied. */
static cof_err expected_owner_check(struct srv_req *req, const char *header, const char *bucket)
{
    const char *want = srv_req_header(req, header);
    char owner[13];
    if (want == NULL || bucket == NULL)
        return COF_OK;
    cof_err err = ops_bucket_owner(req, bucket, owner);
    if (err == COF_ERR_NO_BUCKET)
        return COF_OK; /* the operation answers NoSuchBucket */
    if (err != COF_OK)
        return err;
    if (strcmp(want, owner) == 0)
        return COF_OK;
    cof_log_info(req->rid, "%s %s is not the owner of %s", header, want, bucket);
    return COF_ERR_ACCESS_DENIED;
}

cof_err ops_policy_check(struct srv_req *req)
{
    const char *action = request_action(req);
    char *src_bucket = NULL, *src_key = NULL, *src_version = NULL;
    struct srv_policy *src_policy = NULL;
    cof_err err = COF_OK;

    if (req->route.bucket != NULL && (req->op->flags & (OPF_JSON | OPF_QUERY)) == 0) {
        err = expected_owner_check(req, "x-amz-expected-bucket-owner", req->route.bucket);
        if (err != COF_OK)
            return err;
    }
    if (req->route.bucket == NULL || (action == NULL && (req->op->flags & OPF_POLICY_PER_KEY) == 0))
        return COF_OK;
    /* AWS: the account root can always manage the bucket policy, so a policy can never lock
     * its owner out of fixing it. */
    if ((req->op->flags & OPF_POLICY_ADMIN) != 0 && is_owner_root(req, req->route.bucket))
        return COF_OK;
    err = ops_policy_load(req, req->route.bucket, &req->policy);
    if (err == COF_ERR_NO_BUCKET)
        return COF_OK;
    if (err != COF_OK)
        return err;
    if (action != NULL && !allowed(req, req->policy, action, req->route.bucket, req->route.key)) {
        cof_log_info(req->rid, "bucket policy of %s denies %s to %s", req->route.bucket, action,
                     req->principal);
        return COF_ERR_ACCESS_DENIED;
    }
    /* A copy also reads its source: s3:GetObject under the source bucket's policy. */
    const char *cs = srv_req_header(req, "x-amz-copy-source");
    if ((req->op->flags & OPF_READS_COPY_SOURCE) != 0 && cs != NULL &&
        ops_parse_copy_source(cs, &src_bucket, &src_key, &src_version) == COF_OK) {
        const char *read = src_version != NULL ? "s3:GetObjectVersion" : "s3:GetObject";
        err = expected_owner_check(req, "x-amz-source-expected-bucket-owner", src_bucket);
        if (err == COF_OK)
            err = ops_policy_load(req, src_bucket, &src_policy);
        if (err == COF_ERR_NO_BUCKET)
            err = COF_OK; /* the copy answers NoSuchBucket itself */
        else if (err == COF_OK && !allowed(req, src_policy, read, src_bucket, src_key)) {
            cof_log_info(req->rid, "bucket policy of %s denies %s to %s", src_bucket, read,
                         req->principal);
            err = COF_ERR_ACCESS_DENIED;
        }
    }
    srv_policy_free(src_policy);
    free(src_bucket);
    free(src_key);
    free(src_version);
    return err;
}
