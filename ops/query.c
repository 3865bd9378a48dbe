/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Query protocol parameters and answers (see query.h). */
#include "ops/query.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "s3/xml.h"

static bool is_form(const struct srv_req *req)
{
    static const char form[] = "application/x-www-form-urlencoded";
    const char *ct = srv_req_header(req, "Content-Type");
    return ct != NULL && strncasecmp(ct, form, sizeof(form) - 1) == 0 &&
           (ct[sizeof(form) - 1] == '\0' || ct[sizeof(form) - 1] == ';');
}

cof_err ops_query_parse_form(struct srv_req *req)
{
    if (req->form_parsed)
        return COF_OK;
    if (req->body_err == COF_ERR_TOO_LARGE)
        return srv_fail_service(req, 413, "RequestEntityTooLarge",
                                "Request body must be at most 65536 bytes.");
    req->form_parsed = true;
    /* A body is a form when it says so, or when the request was routed here for the Action
     * its body holds (a credential scope of another service than s3 says so too). */
    if (req->body.len == 0 || (!is_form(req) && !req->route.action_in_body))
        return COF_OK;
    /* The buffer is NUL-terminated; a NUL inside would cut the form short unseen. */
    cof_err err = memchr(req->body.data, '\0', req->body.len) != NULL
                      ? COF_ERR_INVALID
                      : srv_query_parse(req->body.data, &req->form);
    if (err == COF_ERR_NOMEM)
        return err;
    if (err != COF_OK)
        return srv_fail_service(req, 400, "MalformedQueryString",
                                "The request body is not a valid form.");
    return COF_OK;
}

const char *ops_query_param(const struct srv_req *req, const char *name)
{
    const char *v = srv_query_get(&req->form, name);
    return v != NULL ? v : srv_query_get(&req->query, name);
}

cof_err ops_query_begin(const char *action, struct srv_xml **out)
{
    char name[96];
    snprintf(name, sizeof(name), "%sResponse", action);
    cof_err err = srv_xml_new_ns(name, OPS_STS_XMLNS, out);
    if (err == COF_OK) {
        snprintf(name, sizeof(name), "%sResult", action);
        srv_xml_open(*out, name);
    }
    return err;
}

cof_err ops_query_reply(struct srv_req *req, struct srv_xml *x)
{
    char *doc = NULL;
    size_t len = 0;
    srv_xml_close(x);
    srv_xml_open(x, "ResponseMetadata");
    srv_xml_elem(x, "RequestId", req->rid);
    srv_xml_close(x);
    cof_err err = srv_xml_finish(x, &doc, &len);
    srv_xml_free(x);
    if (err != COF_OK)
        return err;
    return ops_reply_query(req, 200, doc, len);
}
