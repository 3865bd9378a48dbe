/* SPDX-License-Identifier: Apache-2.0 */
/* POST Object: browser form uploads (POST to the bucket, multipart/form-data). The fields before
 * the `file` part are buffered under AWS's 20 KB cap; when the file part starts they are checked
 * (key, signature, policy) and then stand in for the request headers, so the file streams into
 * PutObject's encrypting write path unchanged. Fields after the file are ignored, as AWS does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "crypto/key.h"
#include "s3/formdata.h"
#include "ops/handlers.h"
#include "ops/write.h"
#include "ops/authz.h"
#include "ops/req.h"
#include "s3/postpolicy.h"
#include "s3/tagging.h"
#include "s3/uri.h"
#include "s3/xml.h"
#include "storage/meta.h"

/* AWS: "The form data and boundaries (excluding the contents of the file) cannot exceed 20KB";
 * captures show 20480 (MaxPostPreDataLengthBytes). */
#define POST_MAX_PRE_DATA 20480u

enum phase { PH_FIELDS = 0, PH_FILE, PH_AFTER };

struct ops_post {
    struct srv_req *req;
    struct srv_form form;
    bool parsing; /* form set up: the request got as far as its body */
    struct srv_post_fields fields;
    struct srv_hdr_view view;
    enum phase phase;
    bool in_field;
    char *field_name;
    struct cof_buf value; /* the field being received */
    bool file_seen;
    uint64_t file_size;
    bool has_range;
    uint64_t min, max; /* content-length-range, inclusive */
    bool too_large;    /* over max: the rest of the file is counted, not stored */
    char *tags;        /* the tagging field's tags, canonical (served as x-amz-tagging) */
    /* The first failure, answered once the body is in (see http.c's held responses). */
    cof_err err;
    char msg[1024];
    const char *x1_name, *x2_name;
    char x1_value[1100], x2_value[1100];
};

/* ---- the fields as request headers ---- */

static const char *view_get(void *arg, const char *name)
{
    struct ops_post *p = arg;
    /* The form's tagging document stands in for PutObject's x-amz-tagging header. */
    if (strcasecmp(name, "x-amz-tagging") == 0)
        return p->tags;
    /* So does the acl field for x-amz-acl. */
    if (strcasecmp(name, "x-amz-acl") == 0)
        return srv_post_fields_get(&p->fields, "acl");
    return srv_post_fields_get(&p->fields, name);
}

static void view_each(void *arg, srv_header_fn cb, void *cb_arg)
{
    struct ops_post *p = arg;
    for (size_t i = 0; i < p->fields.n; i++)
        cb(cb_arg, p->fields.v[i].name, p->fields.v[i].value);
}

/* ---- failures ---- */

/* Records a failure (AWS's code, message and up to two extra elements) for the final answer. */
static cof_err fail(struct ops_post *p, cof_err code, const char *msg, const char *n1,
                    const char *v1, const char *n2, const char *v2)
{
    if (p->err != COF_OK)
        return p->err;
    p->err = code;
    snprintf(p->msg, sizeof(p->msg), "%s", msg != NULL ? msg : "");
    p->x1_name = n1;
    p->x2_name = n2;
    snprintf(p->x1_value, sizeof(p->x1_value), "%s", v1 != NULL ? v1 : "");
    snprintf(p->x2_value, sizeof(p->x2_value), "%s", v2 != NULL ? v2 : "");
    return code;
}

static cof_err missing_field(struct ops_post *p, const char *name)
{
    char msg[160];
    /* AWS's text, two spaces included. */
    snprintf(msg, sizeof(msg),
             "Bucket POST must contain a field named '%s'.  If it is specified, please check the "
             "order of the fields.",
             name);
    return fail(p, COF_ERR_INVALID_ARGUMENT, msg, "ArgumentName", name, "ArgumentValue", "");
}

static cof_err reply_failure(struct srv_req *req, const struct ops_post *p)
{
    return srv_fail_elem2(req, p->err, p->msg[0] != '\0' ? p->msg : NULL, p->x1_name, p->x1_value,
                          p->x2_name, p->x2_value);
}

/* ---- checks when the file part starts ---- */

/* "${filename}" in every field becomes the file's name after its last '/' or '\' (AWS). */
static cof_err expand_filename(struct ops_post *p, const char *filename)
{
    const char *base = filename;
    for (const char *c = filename; *c != '\0'; c++)
        if (*c == '/' || *c == '\\')
            base = c + 1;
    static const char var[] = "${filename}";
    size_t vl = sizeof(var) - 1, bl = strlen(base);
    for (size_t i = 0; i < p->fields.n; i++) {
        const char *v = p->fields.v[i].value;
        if (strstr(v, var) == NULL)
            continue;
        struct cof_buf b;
        cof_buf_init(&b, 64 * 1024);
        cof_err err = COF_OK;
        for (const char *s = v; *s != '\0' && err == COF_OK;) {
            const char *hit = strstr(s, var);
            size_t n = hit != NULL ? (size_t)(hit - s) : strlen(s);
            err = cof_buf_append(&b, s, n);
            if (err == COF_OK && hit != NULL)
                err = cof_buf_append(&b, base, bl);
            s = hit != NULL ? hit + vl : s + n;
        }
        char *nv = NULL;
        if (err == COF_OK)
            err = cof_buf_steal(&b, &nv);
        cof_buf_cleanup(&b);
        if (err != COF_OK)
            return err == COF_ERR_TOO_LARGE ? COF_ERR_POST_PRE_DATA : err;
        free(p->fields.v[i].value);
        p->fields.v[i].value = nv;
    }
    return COF_OK;
}

/* "AK/YYYYMMDD/region/service/aws4_request" -> access key and scope. */
static cof_err parse_credential(struct ops_post *p, const char *cred, char *ak, size_t akn,
                                char *scope, size_t scn)
{
    static const char malformed[] = "the Credential is mal-formed; expecting "
                                    "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";
    const char *slash = strchr(cred, '/');
    int parts = 1;
    for (const char *c = cred; *c != '\0'; c++)
        parts += *c == '/';
    if (slash == NULL || parts != 5)
        return fail(p, COF_ERR_INVALID_ARGUMENT, malformed, "ArgumentName", "X-Amz-Credential",
                    "ArgumentValue", cred);
    size_t al = (size_t)(slash - cred);
    if (al == 0)
        return fail(p, COF_ERR_INVALID_ARGUMENT,
                    "a non-empty Access Key (AKID) must be provided in the credential.",
                    "ArgumentName", "X-Amz-Credential", "ArgumentValue", cred);
    const char *rest = slash + 1;
    size_t rl = strlen(rest);
    if (al >= akn || rl >= scn || strspn(rest, "0123456789") != 8 || rest[8] != '/' || rl < 13 ||
        strcmp(rest + rl - 13, "/aws4_request") != 0)
        return fail(p, COF_ERR_INVALID_ARGUMENT, malformed, "ArgumentName", "X-Amz-Credential",
                    "ArgumentValue", cred);
    memcpy(ak, cred, al);
    ak[al] = '\0';
    memcpy(scope, rest, rl + 1);
    return COF_OK;
}

/* Which signature the form carries, its required fields (400 naming the first missing one, in
 * AWS's order) and, when signatures are checked, the signature itself. A form with none of the
 * signature fields is anonymous. */
static cof_err check_auth(struct ops_post *p, const char *policy)
{
    struct srv_req *req = p->req;
    const struct srv_post_fields *f = &p->fields;
    static const char *const v4[] = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
                                     "X-Amz-Signature", "Policy"};
    static const char *const v2[] = {"AWSAccessKeyId", "Signature", "Policy"};
    bool is_v4 = false, is_v2 = false;
    for (size_t i = 0; i < 4; i++)
        is_v4 = is_v4 || srv_post_fields_get(f, v4[i]) != NULL;
    for (size_t i = 0; i < 2; i++)
        is_v2 = is_v2 || srv_post_fields_get(f, v2[i]) != NULL;
    if (!is_v4 && !is_v2) {
        /* No credentials: with signatures checked the form is anonymous, and only a bucket
         * policy or ACL that lets everyone write takes it (AWS); otherwise it is the account's,
         * as every unsigned request is. */
        if (req->ctx->cfg->verify_signatures) {
            req->anonymous = true;
            ops_policy_set_principal(req, NULL);
        }
        return COF_OK;
    }
    const char *const *need = is_v4 ? v4 : v2;
    size_t n_need = is_v4 ? 5 : 3;
    for (size_t i = 0; i < n_need; i++)
        if (srv_post_fields_get(f, need[i]) == NULL)
            return missing_field(p, need[i]);
    if (!req->ctx->cfg->verify_signatures)
        return COF_OK;

    char ak[256], scope[256], secret[256];
    cof_err err = COF_OK;
    const char *sig = NULL;
    if (is_v4) {
        const char *alg = srv_post_fields_get(f, "X-Amz-Algorithm");
        if (strcmp(alg, "AWS4-HMAC-SHA256") != 0)
            return fail(p, COF_ERR_INVALID_ARGUMENT,
                        "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"", "ArgumentName",
                        "X-Amz-Algorithm", "ArgumentValue", alg);
        err = parse_credential(p, srv_post_fields_get(f, "X-Amz-Credential"), ak, sizeof(ak), scope,
                               sizeof(scope));
        if (err != COF_OK)
            return err;
        sig = srv_post_fields_get(f, "X-Amz-Signature");
    } else {
        snprintf(ak, sizeof(ak), "%s", srv_post_fields_get(f, "AWSAccessKeyId"));
        sig = srv_post_fields_get(f, "Signature");
    }
    if (!srv_config_secret_for(req->ctx->cfg->credentials, ak, secret, sizeof(secret)))
        return fail(p, COF_ERR_INVALID_ACCESS_KEY, NULL, "AWSAccessKeyId", ak, NULL, NULL);
    err = is_v4 ? srv_post_verify_v4(policy, secret, scope, sig)
                : srv_post_verify_v2(policy, secret, sig);
    cry_wipe(secret, sizeof(secret));
    if (err == COF_ERR_SIGNATURE_MISMATCH) {
        cof_log_debug(req->rid, "POST policy signature of %s does not match", ak);
        return fail(p, err, NULL, "AWSAccessKeyId", ak, "StringToSign", policy);
    }
    if (err == COF_OK) /* the form's signer is who bucket policies see */
        ops_policy_set_principal(req, ak);
    return err;
}

/* Everything that needs the fields before the file: ${filename}, key, signature, policy, then
 * the object's write plan (encryption, checksum, writer) from the fields. */
static cof_err file_begin(struct ops_post *p, const struct srv_form_part *part)
{
    struct srv_req *req = p->req;
    cof_err err = COF_OK;
    /* With no filename parameter at all, S3 keeps "${filename}" literally (recorded 2026). */
    if (part->filename != NULL)
        err = expand_filename(p, part->filename);
    if (err != COF_OK)
        return err == COF_ERR_POST_PRE_DATA ? fail(p, err, NULL, NULL, NULL, NULL, NULL) : err;
    const char *key = srv_post_fields_get(&p->fields, "key");
    if (key == NULL || key[0] == '\0')
        return missing_field(p, "key");
    if (strlen(key) > SRV_MAX_KEY_LEN)
        return fail(p, COF_ERR_KEY_TOO_LONG, NULL, NULL, NULL, NULL, NULL);
    if (!srv_utf8_valid(key, strlen(key)))
        return fail(p, COF_ERR_INVALID_ARGUMENT, "Object key must be valid UTF-8.", "ArgumentName",
                    "key", NULL, NULL);

    const char *policy = srv_post_fields_get(&p->fields, "Policy");
    err = check_auth(p, policy);
    if (err != COF_OK)
        return err;
    if (policy != NULL) {
        struct srv_post_verdict v;
        err = srv_post_policy_check(policy, &p->fields, req->route.bucket, (int64_t)time(NULL), &v);
        if (err == COF_ERR_NOMEM)
            return err;
        if (err != COF_OK)
            return fail(p, v.problem.code, v.problem.message, NULL, NULL, NULL, NULL);
        p->has_range = v.has_range;
        p->min = v.min;
        p->max = v.max;
    }
    /* The tagging field is a <Tagging> document, held to PutObjectTagging's rules. */
    const char *tagging = srv_post_fields_get(&p->fields, "tagging");
    if (tagging != NULL) {
        struct srv_tagset t = {NULL, 0};
        struct srv_problem prob;
        err = srv_tagging_parse_xml(tagging, strlen(tagging), SRV_TAGS_OBJECT, &t, &prob);
        if (err == COF_OK)
            err = srv_tagset_encode(&t, &p->tags);
        srv_tagset_cleanup(&t);
        if (err == COF_ERR_NOMEM)
            return err;
        if (err == COF_ERR_MALFORMED_XML || err == COF_ERR_TOO_LARGE)
            return fail(p, COF_ERR_MALFORMED_XML, NULL, NULL, NULL, NULL, NULL);
        if (err != COF_OK)
            return fail(p, prob.code, prob.message, prob.name1, prob.value1, prob.name2,
                        prob.value2);
    }

    free(req->route.key);
    req->route.key = strdup(key);
    if (req->route.key == NULL)
        return COF_ERR_NOMEM;
    /* From here on the fields are the request's headers for the shared write path. */
    p->view = (struct srv_hdr_view){view_get, view_each, p};
    req->hdr_view = &p->view;
    /* The bucket policy sees an s3:PutObject of key, its condition keys read from the fields. */
    err = ops_policy_check_action(req, "s3:PutObject", key);
    if (err == COF_ERR_ACCESS_DENIED)
        return fail(p, err, NULL, NULL, NULL, NULL, NULL);
    if (err == COF_OK)
        err = ops_put_start(req, false);
    if (err == COF_OK)
        err = ops_plan_write_enc(req, &req->put->enc);
    return err;
}

/* ---- parser callbacks ---- */

static cof_err pre_data_check(struct ops_post *p)
{
    if (p->form.consumed <= POST_MAX_PRE_DATA)
        return COF_OK;
    return fail(p, COF_ERR_POST_PRE_DATA, NULL, "MaxPostPreDataLengthBytes", "20480", NULL, NULL);
}

static cof_err on_begin(void *arg, const struct srv_form_part *part)
{
    struct ops_post *p = arg;
    if (p->phase != PH_FIELDS)
        return COF_OK; /* after the file: ignored (AWS) */
    cof_err err = pre_data_check(p);
    if (err != COF_OK)
        return err;
    /* Only the form-data part named "file" is the file, whatever carries a filename. */
    if (strcasecmp(part->name, "file") == 0) {
        p->phase = PH_FILE;
        p->file_seen = true;
        return file_begin(p, part);
    }
    free(p->field_name);
    p->field_name = strdup(part->name);
    if (p->field_name == NULL)
        return COF_ERR_NOMEM;
    cof_buf_reset(&p->value);
    p->in_field = true;
    return COF_OK;
}

static cof_err on_data(void *arg, const char *d, size_t n)
{
    struct ops_post *p = arg;
    if (p->phase == PH_FIELDS) {
        cof_err err = pre_data_check(p);
        if (err == COF_OK && p->in_field && cof_buf_append(&p->value, d, n) != COF_OK)
            err = fail(p, COF_ERR_POST_PRE_DATA, NULL, "MaxPostPreDataLengthBytes", "20480", NULL,
                       NULL);
        return err;
    }
    if (p->phase != PH_FILE)
        return COF_OK;
    p->file_size += n;
    uint64_t max = p->has_range && p->max < SRV_MAX_OBJECT_SIZE ? p->max : SRV_MAX_OBJECT_SIZE;
    if (p->file_size > max) {
        /* Stop storing; keep parsing so the answer can name the proposed size. The blob being
         * written is aborted at cleanup, so an existing object stays as it was. */
        p->too_large = true;
        return COF_OK;
    }
    return ops_put_write(p->req, d, n);
}

static cof_err on_end(void *arg)
{
    struct ops_post *p = arg;
    if (p->phase == PH_FILE) {
        p->phase = PH_AFTER;
        return COF_OK;
    }
    if (p->phase != PH_FIELDS || !p->in_field)
        return COF_OK;
    p->in_field = false;
    /* A value is text: anything after a NUL byte is dropped. */
    const char *v = p->value.data != NULL ? p->value.data : "";
    return srv_post_fields_add(&p->fields, p->field_name, v);
}

/* ---- the operation ---- */

static cof_err post_object_begin(struct srv_req *req)
{
    char boundary[SRV_FORM_BOUNDARY_MAX + 1];
    struct ops_post *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return COF_ERR_NOMEM;
    req->post = p;
    p->req = req;
    cof_buf_init(&p->value, POST_MAX_PRE_DATA);
    /* Failures found now are answered after the body has been read, like later ones: a browser
     * still sending its file would otherwise see a reset rather than the error. */
    req->body_mode = SRV_BODY_STREAM;
    cof_err err = srv_form_boundary(srv_req_header(req, "Content-Type"), boundary);
    if (err == COF_ERR_INVALID) {
        (void)fail(p, COF_ERR_PRECONDITION, NULL, "Condition",
                   "Bucket POST must be of the enclosure-type multipart/form-data", NULL, NULL);
        return COF_OK;
    }
    if (err != COF_OK) {
        (void)fail(p, COF_ERR_MALFORMED_POST, NULL, NULL, NULL, NULL, NULL);
        return COF_OK;
    }
    err = sto_meta_get_bucket(req->ctx->obj.meta, req->route.bucket, NULL);
    if (err == COF_ERR_NO_BUCKET) {
        (void)fail(p, err, NULL, "BucketName", req->route.bucket, NULL, NULL);
        return COF_OK;
    }
    if (err != COF_OK)
        return err;
    srv_form_init(&p->form, boundary, on_begin, on_data, on_end, p);
    p->parsing = true;
    return COF_OK;
}

static cof_err post_object_body(struct srv_req *req, const char *data, size_t n)
{
    struct ops_post *p = req->post;
    if (p == NULL)
        return COF_ERR_INTERNAL;
    if (p->err != COF_OK || !p->parsing)
        return p->err != COF_OK ? p->err : COF_ERR_INTERNAL;
    cof_err err = srv_form_feed(&p->form, data, n);
    if (err == COF_ERR_INVALID || err == COF_ERR_TOO_LARGE)
        err = fail(p, COF_ERR_MALFORMED_POST, NULL, NULL, NULL, NULL, NULL);
    /* A failure recorded by a callback is answered by ops_post_object_finish. */
    return err;
}

/* application/x-www-form-urlencoded, as S3 writes the redirect's query (space as '+'). */
static cof_err form_encode(struct cof_buf *b, const char *s)
{
    cof_err err = COF_OK;
    for (const unsigned char *c = (const unsigned char *)s; *c != '\0' && err == COF_OK; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            strchr("-_.~", *c) != NULL)
            err = cof_buf_append(b, c, 1);
        else if (*c == ' ')
            err = cof_buf_append(b, "+", 1);
        else
            err = cof_buf_printf(b, "%%%02X", *c);
    }
    return err;
}

/* The object's URL: S3 encodes the key's '/' too. */
static cof_err object_location(struct srv_req *req, char **out)
{
    const char *host = srv_req_http_header(req, "Host");
    struct cof_buf b;
    cof_buf_init(&b, 16 * 1024);
    cof_err err = cof_buf_printf(&b, "%s://%s/", req->tls ? "https" : "http",
                                 host != NULL ? host : "localhost");
    if (err == COF_OK && !req->route.virtual_host)
        err = cof_buf_printf(&b, "%s/", req->route.bucket);
    if (err == COF_OK)
        err = srv_uri_encode(req->route.key, false, &b);
    if (err == COF_OK)
        err = cof_buf_steal(&b, out);
    cof_buf_cleanup(&b);
    return err;
}

/* 303 to success_action_redirect (or the older redirect) with bucket, key and etag appended;
 * false when there is none S3 would follow (it must be an absolute http(s) URL). */
static bool redirect_target(struct ops_post *p, const char **out)
{
    const char *r = srv_post_fields_get(&p->fields, "success_action_redirect");
    if (r == NULL)
        r = srv_post_fields_get(&p->fields, "redirect");
    if (r == NULL || (strncasecmp(r, "http://", 7) != 0 && strncasecmp(r, "https://", 8) != 0))
        return false;
    *out = r;
    return true;
}

static cof_err answer(struct srv_req *req, struct ops_post *p, const struct sto_object *o)
{
    char *loc = NULL, *doc = NULL;
    char etag[80];
    size_t len = 0;
    struct cof_buf b;
    struct srv_xml *x = NULL;
    const char *redirect = NULL;
    cof_buf_init(&b, 32 * 1024);
    snprintf(etag, sizeof(etag), "\"%s\"", o->etag);
    cof_err err = object_location(req, &loc);
    if (err != COF_OK)
        goto out;
    if (redirect_target(p, &redirect)) {
        err = cof_buf_puts(&b, redirect);
        if (err == COF_OK)
            err = cof_buf_puts(&b, strchr(redirect, '?') != NULL ? "&bucket=" : "?bucket=");
        if (err == COF_OK)
            err = form_encode(&b, req->route.bucket);
        if (err == COF_OK)
            err = cof_buf_puts(&b, "&key=");
        if (err == COF_OK)
            err = form_encode(&b, req->route.key);
        if (err == COF_OK)
            err = cof_buf_puts(&b, "&etag=");
        if (err == COF_OK)
            err = form_encode(&b, etag);
        if (err != COF_OK)
            goto out;
        srv_resp_add(req, "Location", b.data);
        err = srv_reply(req, 303, NULL, "", 0);
        goto out;
    }
    srv_resp_add(req, "Location", loc);
    const char *status = srv_post_fields_get(&p->fields, "success_action_status");
    if (status != NULL && strcmp(status, "201") == 0) {
        err = srv_xml_new_plain("PostResponse", &x);
        if (err == COF_OK) {
            srv_xml_elem(x, "Location", loc);
            srv_xml_elem(x, "Bucket", req->route.bucket);
            srv_xml_elem(x, "Key", req->route.key);
            srv_xml_elem(x, "ETag", etag);
            err = srv_xml_finish(x, &doc, &len);
        }
        if (err == COF_OK) {
            err = srv_reply_xml(req, 201, doc, len);
            doc = NULL;
        }
    } else if (status != NULL && strcmp(status, "200") == 0) {
        err = srv_reply(req, 200, NULL, "", 0);
    } else {
        err = srv_reply(req, 204, NULL, "", 0); /* the default, also for values S3 does not know */
    }
out:
    srv_xml_free(x);
    free(doc);
    free(loc);
    cof_buf_cleanup(&b);
    return err;
}

cof_err ops_post_object_finish(struct srv_req *req)
{
    struct ops_post *p = req->post;
    struct sto_object o;
    char n1[24], n2[24];
    memset(&o, 0, sizeof(o));
    if (p == NULL)
        return COF_ERR_INTERNAL;
    if (p->err == COF_OK && req->body_err != COF_OK && req->body_err != p->err)
        return req->body_err;
    if (p->err != COF_OK)
        return reply_failure(req, p);
    if (!p->parsing || !srv_form_done(&p->form))
        return COF_ERR_MALFORMED_POST;
    if (!p->file_seen) {
        const char *key = srv_post_fields_get(&p->fields, "key");
        if (key == NULL)
            return srv_fail_elem2(req, COF_ERR_INVALID_ARGUMENT,
                                  "Bucket POST must contain a field named 'key'.  If it is "
                                  "specified, please check the order of the fields.",
                                  "ArgumentName", "key", "ArgumentValue", "");
        return srv_fail_elem2(req, COF_ERR_INVALID_ARGUMENT,
                              "POST requires exactly one file upload per request.", "ArgumentName",
                              "file", "ArgumentValue", "0");
    }
    snprintf(n1, sizeof(n1), "%llu", (unsigned long long)p->file_size);
    if (p->too_large) {
        snprintf(n2, sizeof(n2), "%llu",
                 (unsigned long long)(p->has_range && p->max < SRV_MAX_OBJECT_SIZE
                                          ? p->max
                                          : SRV_MAX_OBJECT_SIZE));
        return srv_fail_elem2(req, COF_ERR_ENTITY_TOO_LARGE,
                              "Your proposed upload exceeds the maximum allowed size",
                              "ProposedSize", n1, "MaxSizeAllowed", n2);
    }
    if (p->has_range && p->file_size < p->min) {
        snprintf(n2, sizeof(n2), "%llu", (unsigned long long)p->min);
        return srv_fail_elem2(req, COF_ERR_ENTITY_TOO_SMALL,
                              "Your proposed upload is smaller than the minimum allowed size",
                              "ProposedSize", n1, "MinSizeAllowed", n2);
    }
    cof_err err = ops_put_commit(req, &o);
    if (err == COF_OK)
        err = answer(req, p, &o);
    sto_object_cleanup(&o);
    return err;
}

static void post_object_cleanup(struct srv_req *req)
{
    struct ops_post *p = req->post;
    if (p == NULL)
        return;
    req->hdr_view = NULL;
    /* The fields may hold an SSE-C key: wipe them. */
    for (size_t i = 0; i < p->fields.n; i++)
        cry_wipe(p->fields.v[i].value, strlen(p->fields.v[i].value));
    if (p->value.data != NULL)
        cry_wipe(p->value.data, p->value.cap);
    srv_post_fields_cleanup(&p->fields);
    cof_buf_cleanup(&p->value);
    free(p->field_name);
    free(p->tags);
    free(p);
    req->post = NULL;
}

/* The form's state first (it points the header view at itself), then the write it fed. */
static void post_cleanup(struct srv_req *req)
{
    post_object_cleanup(req);
    ops_put_object_cleanup(req);
}

const struct srv_op_stream ops_post_object_stream = {post_object_begin, post_object_body,
                                                     post_cleanup};
