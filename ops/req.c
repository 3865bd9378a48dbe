/* SPDX-License-Identifier: Apache-2.0 */
/* Request headers and the responses operations queue, over libmicrohttpd. A response queued
 * while the body is still arriving is held and sent once the body has been read. */
#include "ops/req.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "s3/s3err.h"
#include "s3/xml.h"

#define SRV_VERSION_HEADER "coffer-0.1.0"

const char *srv_req_http_header(const struct srv_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *srv_req_header(const struct srv_req *req, const char *name)
{
    if (req->hdr_view != NULL)
        return req->hdr_view->get(req->hdr_view->arg, name);
    return srv_req_http_header(req, name);
}

struct each_ctx {
    srv_header_fn cb;
    void *arg;
};

static enum MHD_Result each_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct each_ctx *e = cls;
    (void)kind;
    e->cb(e->arg, key, value != NULL ? value : "");
    return MHD_YES;
}

void srv_req_each_header(const struct srv_req *req, srv_header_fn cb, void *arg)
{
    if (req->hdr_view != NULL) {
        req->hdr_view->each(req->hdr_view->arg, cb, arg);
        return;
    }
    struct each_ctx e = {cb, arg};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, each_header, &e);
}

void srv_resp_add(struct srv_req *req, const char *name, const char *value)
{
    if (req->n_hdrs >= SRV_MAX_RESP_HEADERS) {
        cof_log_warn(req->rid, "response header %s dropped: too many headers", name);
        return;
    }
    char *n = strdup(name);
    char *v = strdup(value);
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return;
    }
    req->hdrs[req->n_hdrs].name = n;
    req->hdrs[req->n_hdrs].value = v;
    req->n_hdrs++;
}

static cof_err queue(struct srv_req *req, unsigned status, struct MHD_Response *resp)
{
    if (resp == NULL)
        return COF_ERR_NOMEM;
    MHD_add_response_header(resp, "x-amz-request-id", req->rid);
    MHD_add_response_header(resp, "x-amz-id-2", req->id2);
    MHD_add_response_header(resp, "x-localstack", SRV_VERSION_HEADER);
    MHD_add_response_header(resp, "Server", "coffer");
    /* libmicrohttpd refuses an empty header value; a single space goes out instead, which every
     * HTTP parser reads as the empty value (RFC 9110: optional whitespace around a field value is
     * not part of it). AWS returns user metadata with an empty value (x-amz-meta-a:) as such. */
    for (size_t i = 0; i < req->n_hdrs; i++)
        MHD_add_response_header(resp, req->hdrs[i].name,
                                req->hdrs[i].value[0] != '\0' ? req->hdrs[i].value : " ");
    if (req->in_body) {
        if (req->held != NULL)
            MHD_destroy_response(req->held);
        req->held = resp;
        req->held_status = status;
        req->responded = true;
        cof_log_debug(req->rid, "%s %s -> %u (after the body)", req->method, req->raw_uri, status);
        return COF_OK;
    }
    enum MHD_Result r = MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
    if (r != MHD_YES) {
        cof_log_error(req->rid, "could not queue the response");
        return COF_ERR_INTERNAL;
    }
    req->responded = true;
    cof_log_debug(req->rid, "%s %s -> %u", req->method, req->raw_uri, status);
    return COF_OK;
}

cof_err srv_reply(struct srv_req *req, unsigned status, const char *ctype, const void *body,
                  size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (resp != NULL && ctype != NULL)
        MHD_add_response_header(resp, "Content-Type", ctype);
    return queue(req, status, resp);
}

cof_err srv_reply_xml(struct srv_req *req, unsigned status, char *xml, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, xml, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(xml);
        return COF_ERR_NOMEM;
    }
    MHD_add_response_header(resp, "Content-Type", "application/xml");
    return queue(req, status, resp);
}

cof_err ops_reply_json(struct srv_req *req, unsigned status, char *doc)
{
    if (doc == NULL)
        return COF_ERR_NOMEM;
    srv_resp_add(req, "x-amzn-RequestId", req->rid);
    cof_err err = srv_reply(req, status, "application/x-amz-json-1.1", doc, strlen(doc));
    free(doc);
    return err;
}

cof_err ops_reply_query(struct srv_req *req, unsigned status, char *xml, size_t len)
{
    srv_resp_add(req, "x-amzn-RequestId", req->rid);
    cof_err err = srv_reply(req, status, "text/xml", xml, len);
    free(xml);
    return err;
}

/* How AWS's JSON 1.1 services (KMS) name what S3 calls a signature or credential failure. */
static const struct {
    const char *s3;
    unsigned status;
    const char *json;
    const char *message; /* NULL: keep the S3 table's */
} json_auth_errors[] = {
    {"AccessDenied", 400, "MissingAuthenticationTokenException", "Missing Authentication Token"},
    {"SignatureDoesNotMatch", 400, "InvalidSignatureException", NULL},
    {"RequestTimeTooSkewed", 400, "InvalidSignatureException", "Signature expired."},
    {"InvalidAccessKeyId", 400, "UnrecognizedClientException",
     "The security token included in the request is invalid."},
    {"AuthorizationHeaderMalformed", 400, "IncompleteSignatureException", NULL},
};

static cof_err json_error(struct srv_req *req, unsigned status, const char *code,
                          const char *message)
{
    /* S3 passes KMS's errors on as "KMS.<code>"; KMS itself names them bare. */
    if (strncmp(code, "KMS.", 4) == 0)
        code += 4;
    for (size_t i = 0; i < sizeof(json_auth_errors) / sizeof(json_auth_errors[0]); i++) {
        if (strcmp(code, json_auth_errors[i].s3) == 0) {
            status = json_auth_errors[i].status;
            if (json_auth_errors[i].message != NULL)
                message = json_auth_errors[i].message;
            code = json_auth_errors[i].json;
            break;
        }
    }
    json_t *o = json_pack("{s:s, s:s}", "__type", code, "message", message);
    char *doc = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return ops_reply_json(req, status, doc);
}

static cof_err query_error(struct srv_req *req, unsigned status, const char *code,
                           const char *message)
{
    struct srv_xml *x = NULL;
    char *doc = NULL;
    size_t len = 0;
    cof_err err = srv_xml_new_ns("ErrorResponse", OPS_STS_XMLNS, &x);
    if (err == COF_OK) {
        srv_xml_open(x, "Error");
        srv_xml_elem(x, "Type", status >= 500 ? "Receiver" : "Sender");
        srv_xml_elem(x, "Code", code);
        srv_xml_elem(x, "Message", message);
        srv_xml_close(x);
        srv_xml_elem(x, "RequestId", req->rid);
        err = srv_xml_finish(x, &doc, &len);
    }
    srv_xml_free(x);
    if (err != COF_OK)
        return srv_reply(req, status, NULL, "", 0);
    return ops_reply_query(req, status, doc, len);
}

cof_err ops_reply_service_error(struct srv_req *req, unsigned status, const char *code,
                                const char *message)
{
    if (status >= 500)
        cof_log_error(req->rid, "%s %s failed: %s", req->method, req->raw_uri, code);
    else
        cof_log_debug(req->rid, "%s %s -> %s", req->method, req->raw_uri, code);
    if ((req->op->flags & OPF_JSON) != 0)
        return json_error(req, status, code, message);
    return query_error(req, status, code, message);
}

static cof_err reply_error(struct srv_req *req, cof_err e, const char *message,
                           const char *extra_name, const char *extra_value, const char *extra2_name,
                           const char *extra2_value)
{
    const struct srv_s3err *se = srv_s3err_lookup(e);
    if (req->op != NULL && (req->op->flags & (OPF_JSON | OPF_QUERY)) != 0) {
        const struct srv_failure *f = &req->fail;
        bool own = e == COF_ERR_SERVICE && f->code == COF_ERR_SERVICE && f->code_text != NULL;
        return ops_reply_service_error(req, own ? f->status : se->status,
                                       own ? f->code_text : se->code,
                                       message != NULL ? message : se->message);
    }
    if (se->status >= 500)
        cof_log_error(req->rid, "%s %s failed: %s", req->method, req->raw_uri, cof_err_name(e));
    else
        cof_log_debug(req->rid, "%s %s -> %s", req->method, req->raw_uri, se->code);
    if (req->is_head || se->status == 304)
        return srv_reply(req, se->status, NULL, "", 0);
    struct srv_xml *x = NULL;
    char *doc = NULL;
    size_t len = 0;
    char *resource = NULL;
    cof_err err = srv_xml_new_plain("Error", &x);
    if (err == COF_OK) {
        srv_xml_elem(x, "Code", se->code);
        srv_xml_elem(x, "Message", message != NULL ? message : se->message);
        if (extra_name != NULL && extra_value != NULL)
            srv_xml_elem(x, extra_name, extra_value);
        if (extra2_name != NULL && extra2_value != NULL)
            srv_xml_elem(x, extra2_name, extra2_value);
        resource = req->raw_path != NULL ? req->raw_path : NULL;
        if (resource != NULL)
            srv_xml_elem(x, "Resource", resource);
        srv_xml_elem(x, "RequestId", req->rid);
        srv_xml_elem(x, "HostId", req->id2);
        err = srv_xml_finish(x, &doc, &len);
    }
    srv_xml_free(x);
    if (err != COF_OK)
        return srv_reply(req, se->status, NULL, "", 0);
    return srv_reply_xml(req, se->status, doc, len);
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

cof_err srv_fail_elem2(struct srv_req *req, cof_err e, const char *message, const char *name1,
                       const char *value1, const char *name2, const char *value2)
{
    struct srv_failure *f = &req->fail;
    if (f->code != COF_OK || e == COF_OK)
        return e;
    f->code = e;
    f->message = dup_or_null(message);
    if (name1 != NULL && value1 != NULL) {
        f->name1 = dup_or_null(name1);
        f->value1 = dup_or_null(value1);
    }
    if (name2 != NULL && value2 != NULL) {
        f->name2 = dup_or_null(name2);
        f->value2 = dup_or_null(value2);
    }
    return e;
}

cof_err srv_fail(struct srv_req *req, cof_err e, const char *message)
{
    return srv_fail_elem2(req, e, message, NULL, NULL, NULL, NULL);
}

cof_err srv_fail_elem(struct srv_req *req, cof_err e, const char *message, const char *name,
                      const char *value)
{
    return srv_fail_elem2(req, e, message, name, value, NULL, NULL);
}

cof_err srv_fail_arg(struct srv_req *req, cof_err e, const char *message, const char *arg_name,
                     const char *arg_value)
{
    return srv_fail_elem2(req, e, message, "ArgumentName", arg_name, "ArgumentValue", arg_value);
}

cof_err srv_fail_problem(struct srv_req *req, const struct srv_problem *p)
{
    if (p->message == NULL && p->name1 == NULL && p->name2 == NULL)
        return p->code;
    return srv_fail_elem2(req, p->code, p->message, p->name1, p->value1, p->name2, p->value2);
}

cof_err srv_fail_service(struct srv_req *req, unsigned status, const char *code,
                         const char *message)
{
    struct srv_failure *f = &req->fail;
    if (f->code != COF_OK)
        return COF_ERR_SERVICE;
    f->code = COF_ERR_SERVICE;
    f->status = status;
    f->code_text = dup_or_null(code);
    f->message = dup_or_null(message);
    return COF_ERR_SERVICE;
}

void srv_failure_cleanup(struct srv_failure *f)
{
    free(f->code_text);
    free(f->message);
    free(f->name1);
    free(f->value1);
    free(f->name2);
    free(f->value2);
    memset(f, 0, sizeof(*f));
}

cof_err srv_reply_failure(struct srv_req *req, cof_err e)
{
    const struct srv_failure *f = &req->fail;
    if (f->code != COF_OK)
        return reply_error(req, f->code, f->message, f->name1, f->value1, f->name2, f->value2);
    if (e == COF_ERR_NO_BUCKET && req->route.bucket != NULL)
        return reply_error(req, e, NULL, "BucketName", req->route.bucket, NULL, NULL);
    if (e == COF_ERR_NO_OBJECT && req->route.key != NULL)
        return reply_error(req, e, NULL, "Key", req->route.key, NULL, NULL);
    return reply_error(req, e, NULL, NULL, NULL, NULL, NULL);
}

static const char *view_get(void *arg, const char *name)
{
    return srv_req_header(arg, name);
}

static void view_each(void *arg, srv_header_fn cb, void *cb_arg)
{
    srv_req_each_header(arg, cb, cb_arg);
}

const struct srv_hdr_view *srv_req_headers(struct srv_req *req)
{
    req->headers.get = view_get;
    req->headers.each = view_each;
    req->headers.arg = req;
    return &req->headers;
}

struct stream_cls {
    srv_stream_fn fn;
    srv_stream_free_fn free_fn;
    void *cls;
};

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream_cls *s = cls;
    ssize_t n = s->fn(s->cls, pos, buf, max);
    if (n <= 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    return n;
}

static void stream_free(void *cls)
{
    struct stream_cls *s = cls;
    if (s->free_fn != NULL)
        s->free_fn(s->cls);
    free(s);
}

cof_err srv_reply_stream(struct srv_req *req, unsigned status, uint64_t size, srv_stream_fn fn,
                         void *cls, srv_stream_free_fn free_fn)
{
    struct stream_cls *s = malloc(sizeof(*s));
    if (s == NULL) {
        if (free_fn != NULL)
            free_fn(cls);
        return COF_ERR_NOMEM;
    }
    s->fn = fn;
    s->free_fn = free_fn;
    s->cls = cls;
    /* Blocks of at most 64 KiB match the cipher segments, so each callback decrypts at most
     * one; small bodies get a small buffer. */
    size_t block = size < 64 * 1024 ? (size_t)size : 64 * 1024;
    if (block < 1024)
        block = 1024;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(size, block, stream_reader, s, stream_free);
    if (resp == NULL) {
        stream_free(s);
        return COF_ERR_NOMEM;
    }
    return queue(req, status, resp);
}

cof_err ops_no_bucket(struct srv_req *req)
{
    return srv_fail_elem(req, COF_ERR_NO_BUCKET, NULL, "BucketName", req->route.bucket);
}

cof_err ops_reply_doc(struct srv_req *req, struct srv_xml *x)
{
    char *doc = NULL;
    size_t len = 0;
    cof_err err = srv_xml_finish(x, &doc, &len);
    srv_xml_free(x);
    if (err != COF_OK)
        return err;
    return srv_reply_xml(req, 200, doc, len);
}
