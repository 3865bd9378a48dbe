/* SPDX-License-Identifier: Apache-2.0 */
/* libxml2 glue: the response writer (xmlTextWriter for structure, our own escaping for text)
 * and the request-body parsers. Parsing uses XML_PARSE_NONET and never NOENT/DTDLOAD; a SAX
 * hook stops the parser at any DOCTYPE, so entity declarations are never even read. */
#include "s3/xml.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlwriter.h>

#include "common/buf.h"
#include "s3/uri.h"
#include "s3/xmltree.h"

#define XML_DECL     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define MAX_TEXT_LEN (16u * 1024 * 1024) /* escaped text of one element */

struct srv_xml {
    xmlBufferPtr buf;
    xmlTextWriterPtr w;
    cof_err err;    /* first error, sticky */
    unsigned depth; /* open elements */
    bool done;      /* root closed or document finished */
};

void srv_xml_global_init(void)
{
    xmlInitParser();
}

/* ---- writer ------------------------------------------------------------------------- */

/* Records a libxml2 writer result: they fail only on allocation. */
static cof_err wrc(struct srv_xml *x, int rc)
{
    if (rc < 0 && x->err == COF_OK)
        x->err = COF_ERR_NOMEM;
    return x->err;
}

static cof_err start(const char *root, const char *ns, struct srv_xml **out)
{
    struct srv_xml *x = NULL;
    cof_err err = COF_OK;

    *out = NULL;
    if (root == NULL)
        COF_BUG("srv_xml_new: NULL root");
    x = calloc(1, sizeof(*x));
    if (x == NULL)
        return COF_ERR_NOMEM;
    x->buf = xmlBufferCreate();
    if (x->buf != NULL)
        x->w = xmlNewTextWriterMemory(x->buf, 0);
    if (x->w == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    /* The declaration is written raw: xmlTextWriterStartDocument would install a UTF-8
     * "encoder" that we do not need, since all text is already UTF-8. */
    err = wrc(x, xmlTextWriterWriteRaw(x->w, (const xmlChar *)XML_DECL));
    if (err == COF_OK)
        err = wrc(x, xmlTextWriterStartElement(x->w, (const xmlChar *)root));
    if (err == COF_OK && ns != NULL)
        err = wrc(x,
                  xmlTextWriterWriteAttribute(x->w, (const xmlChar *)"xmlns", (const xmlChar *)ns));
    if (err != COF_OK)
        goto out;
    x->depth = 1;
    *out = x;
    x = NULL;
out:
    srv_xml_free(x);
    return err;
}

cof_err srv_xml_new(const char *root, struct srv_xml **out)
{
    return start(root, SRV_S3_XMLNS, out);
}

cof_err srv_xml_new_ns(const char *root, const char *ns, struct srv_xml **out)
{
    return start(root, ns, out);
}

cof_err srv_xml_new_plain(const char *root, struct srv_xml **out)
{
    return start(root, NULL, out);
}

void srv_xml_free(struct srv_xml *x)
{
    if (x == NULL)
        return;
    if (x->w != NULL)
        xmlFreeTextWriter(x->w);
    if (x->buf != NULL)
        xmlBufferFree(x->buf);
    free(x);
}

static void check_usable(const struct srv_xml *x, const char *name)
{
    if (x == NULL || name == NULL)
        COF_BUG("srv_xml: NULL writer or element name");
    if (x->done && x->err == COF_OK)
        COF_BUG("srv_xml: element written after the root was closed");
}

cof_err srv_xml_open(struct srv_xml *x, const char *name)
{
    check_usable(x, name);
    if (x->err != COF_OK)
        return x->err;
    if (wrc(x, xmlTextWriterStartElement(x->w, (const xmlChar *)name)) == COF_OK)
        x->depth++;
    return x->err;
}

cof_err srv_xml_attr(struct srv_xml *x, const char *name, const char *value)
{
    check_usable(x, name);
    if (x->err != COF_OK)
        return x->err;
    if (x->depth == 0)
        COF_BUG("srv_xml_attr: no open element");
    wrc(x, xmlTextWriterWriteAttribute(x->w, (const xmlChar *)name, (const xmlChar *)value));
    return x->err;
}

cof_err srv_xml_close(struct srv_xml *x)
{
    if (x == NULL)
        COF_BUG("srv_xml_close: NULL writer");
    if (x->err != COF_OK)
        return x->err;
    if (x->depth == 0)
        COF_BUG("srv_xml_close: no open element");
    if (wrc(x, xmlTextWriterFullEndElement(x->w)) == COF_OK && --x->depth == 0)
        x->done = true;
    return x->err;
}

/* Appends "&#xN;" (lower-case hex, as AWS writes &#x1b;). */
static cof_err char_ref(struct cof_buf *b, uint32_t cp)
{
    return cof_buf_printf(b, "&#x%" PRIx32 ";", cp);
}

/* Escapes UTF-8 text for element content; see the writer contract in xml.h. */
static cof_err escape_text(const char *s, struct cof_buf *b)
{
    static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
    size_t n = strlen(s);
    size_t i = 0;
    cof_err err = COF_OK;

    while (i < n && err == COF_OK) {
        size_t run = i;
        uint32_t cp = 0;
        size_t len = 0;
        /* Longest run needing no escape. */
        while (run < n) {
            len = srv_utf8_next(s + run, n - run, &cp);
            if (len == 0 || cp == '&' || cp == '<' || cp == '>' || cp == '"' ||
                (cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0xfffe || cp == 0xffff)
                break;
            run += len;
        }
        if (run > i)
            err = cof_buf_append(b, s + i, run - i);
        i = run;
        if (i >= n || err != COF_OK)
            break;
        if (len == 0) {
            err = cof_buf_append(b, replacement, sizeof(replacement) - 1);
            i++;
            continue;
        }
        switch (cp) {
        case '&':
            err = cof_buf_puts(b, "&amp;");
            break;
        case '<':
            err = cof_buf_puts(b, "&lt;");
            break;
        case '>':
            err = cof_buf_puts(b, "&gt;");
            break;
        case '"':
            err = cof_buf_puts(b, "&quot;");
            break;
        default: /* C0 control (CR included, which parsers would otherwise turn into LF) */
            err = char_ref(b, cp);
            break;
        }
        i += len;
    }
    return err;
}

cof_err srv_xml_elem(struct srv_xml *x, const char *name, const char *text)
{
    struct cof_buf b;

    check_usable(x, name);
    if (x->err != COF_OK)
        return x->err;
    cof_buf_init(&b, MAX_TEXT_LEN);
    cof_err err = escape_text(text != NULL ? text : "", &b);
    if (err != COF_OK) {
        x->err = err;
        goto out;
    }
    if (wrc(x, xmlTextWriterStartElement(x->w, (const xmlChar *)name)) == COF_OK && b.len > 0)
        wrc(x, xmlTextWriterWriteRawLen(x->w, (const xmlChar *)b.data, (int)b.len));
    if (x->err == COF_OK)
        wrc(x, xmlTextWriterFullEndElement(x->w));
out:
    cof_buf_cleanup(&b);
    return x->err;
}

cof_err srv_xml_elem_u64(struct srv_xml *x, const char *name, uint64_t v)
{
    char num[24];
    snprintf(num, sizeof(num), "%" PRIu64, v);
    return srv_xml_elem(x, name, num);
}

cof_err srv_xml_finish(struct srv_xml *x, char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (x == NULL)
        COF_BUG("srv_xml_finish: NULL writer");
    if (x->err != COF_OK)
        return x->err;
    while (x->depth > 0 && wrc(x, xmlTextWriterFullEndElement(x->w)) == COF_OK)
        x->depth--;
    if (x->err == COF_OK)
        wrc(x, xmlTextWriterFlush(x->w));
    if (x->err != COF_OK)
        return x->err;
    const xmlChar *content = xmlBufferContent(x->buf);
    int len = xmlBufferLength(x->buf);
    char *doc = malloc((size_t)len + 1);
    if (content == NULL || len < 0 || doc == NULL) {
        free(doc);
        x->err = COF_ERR_NOMEM;
        return x->err;
    }
    memcpy(doc, content, (size_t)len);
    doc[len] = '\0';
    *out = doc;
    *out_len = (size_t)len;
    x->done = true;
    x->err = COF_ERR_INTERNAL; /* finished: any further call is refused */
    return COF_OK;
}

/* ---- parsers ------------------------------------------------------------------------ */

/* SAX hook for <!DOCTYPE ...>: remember it and stop before any declaration is parsed, so
 * billion-laughs style entity bombs and external DTDs never get a chance to do anything. */
static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id, const xmlChar *sys_id)
{
    xmlParserCtxtPtr ctxt = ctx;
    (void)name;
    (void)ext_id;
    (void)sys_id;
    ctxt->_private = ctxt; /* flag: a DOCTYPE was seen */
    xmlStopParser(ctxt);
}

/* libxml2 reports some problems (e.g. encoding conversion failures) through its global,
 * per-thread error handlers even with XML_PARSE_NOERROR. Request bodies are attacker-controlled,
 * so parsing runs with silent handlers; the outcome is the return code alone. */
static void silent_generic(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static void silent_structured(void *ctx, xmlErrorPtr e)
{
    (void)ctx;
    (void)e;
}

static bool xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parses body into a tree. NOBLANKS is deliberately not used: its heuristics can drop a
 * whitespace text node that is part of a key (" <![CDATA[x]]>"); blank text between elements
 * is skipped by the walkers instead. */
static cof_err parse_doc(const char *body, size_t n, size_t cap, xmlDocPtr *out)
{
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    cof_err err = COF_OK;

    *out = NULL;
    if (n > cap)
        return COF_ERR_TOO_LARGE;
    if (n == 0 || body == NULL)
        return COF_ERR_MALFORMED_XML;
    xmlGenericErrorFunc old_generic = xmlGenericError;
    void *old_generic_ctx = xmlGenericErrorContext;
    xmlStructuredErrorFunc old_structured = xmlStructuredError;
    void *old_structured_ctx = xmlStructuredErrorContext;
    xmlSetGenericErrorFunc(NULL, silent_generic);
    xmlSetStructuredErrorFunc(NULL, silent_structured);
    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    ctxt->sax->internalSubset = on_doctype;
    ctxt->sax->externalSubset = on_doctype;
    ctxt->_private = NULL;
    doc = xmlCtxtReadMemory(ctxt, body, (int)n, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL || ctxt->_private != NULL || !ctxt->wellFormed || doc->intSubset != NULL ||
        doc->extSubset != NULL || xmlDocGetRootElement(doc) == NULL) {
        err = ctxt->errNo == XML_ERR_NO_MEMORY ? COF_ERR_NOMEM : COF_ERR_MALFORMED_XML;
        goto out;
    }
    *out = doc;
    doc = NULL;
out:
    if (doc != NULL)
        xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
    xmlSetStructuredErrorFunc(old_structured_ctx, old_structured);
    return err;
}

static bool is_elem(const xmlNode *nd, const char *name)
{
    return nd->type == XML_ELEMENT_NODE && strcmp((const char *)nd->name, name) == 0;
}

static bool blank(const xmlChar *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        if (!xml_space((char)*s))
            return false;
    }
    return true;
}

/* A container element holds elements, comments, PIs and blank text only. */
static cof_err check_container(const xmlNode *el)
{
    for (const xmlNode *c = el->children; c != NULL; c = c->next) {
        switch (c->type) {
        case XML_ELEMENT_NODE:
        case XML_COMMENT_NODE:
        case XML_PI_NODE:
            break;
        case XML_TEXT_NODE:
            if (!blank(c->content))
                return COF_ERR_MALFORMED_XML;
            break;
        default: /* CDATA, entity references, anything else */
            return COF_ERR_MALFORMED_XML;
        }
    }
    return COF_OK;
}

/* The text of a leaf element (text and CDATA concatenated, comments skipped; a child element
 * is malformed). trim: strip XML whitespace at both ends. *out is caller-owned. */
static cof_err leaf_text(const xmlNode *el, bool trim, char **out)
{
    struct cof_buf b;
    cof_err err = COF_OK;

    *out = NULL;
    cof_buf_init(&b, SRV_MAX_XML_BODY);
    for (const xmlNode *c = el->children; c != NULL && err == COF_OK; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (c->content != NULL)
                err = cof_buf_puts(&b, (const char *)c->content);
        } else if (c->type != XML_COMMENT_NODE && c->type != XML_PI_NODE) {
            err = COF_ERR_MALFORMED_XML;
        }
    }
    if (err == COF_OK)
        err = cof_buf_steal(&b, out);
    cof_buf_cleanup(&b);
    if (err != COF_OK || !trim)
        return err;
    char *s = *out;
    size_t len = strlen(s);
    size_t lo = 0;
    while (lo < len && xml_space(s[lo]))
        lo++;
    while (len > lo && xml_space(s[len - 1]))
        len--;
    memmove(s, s + lo, len - lo);
    s[len - lo] = '\0';
    return COF_OK;
}

/* Reads a singleton leaf into *slot; a second occurrence is malformed. */
static cof_err take_leaf(const xmlNode *el, bool trim, char **slot)
{
    if (*slot != NULL)
        return COF_ERR_MALFORMED_XML;
    return leaf_text(el, trim, slot);
}

/* xs:boolean as S3 accepts it: true/false, any case. */
static cof_err parse_bool(const xmlNode *el, bool *out)
{
    char *s = NULL;
    cof_err err = leaf_text(el, true, &s);
    if (err == COF_OK) {
        if (strcasecmp(s, "true") == 0)
            *out = true;
        else if (strcasecmp(s, "false") == 0)
            *out = false;
        else
            err = COF_ERR_MALFORMED_XML;
    }
    free(s);
    return err;
}

/* Turns "" into NULL. */
static void empty_to_null(char **s)
{
    if (*s != NULL && (*s)[0] == '\0') {
        free(*s);
        *s = NULL;
    }
}

cof_err srv_xml_parse_create_bucket(const char *body, size_t n, char **out_location)
{
    xmlDocPtr doc = NULL;
    char *loc = NULL;
    bool seen = false;
    cof_err err = COF_OK;

    *out_location = NULL;
    if (n > SRV_MAX_SMALL_XML_BODY)
        return COF_ERR_TOO_LARGE;
    size_t i = 0;
    while (i < n && xml_space(body[i]))
        i++;
    if (i == n) /* no body: the default region */
        return COF_OK;
    err = parse_doc(body, n, SRV_MAX_SMALL_XML_BODY, &doc);
    if (err != COF_OK)
        goto out;
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!is_elem(root, "CreateBucketConfiguration")) {
        err = COF_ERR_MALFORMED_XML;
        goto out;
    }
    err = check_container(root);
    for (const xmlNode *c = root->children; c != NULL && err == COF_OK; c = c->next) {
        if (is_elem(c, "LocationConstraint")) {
            err = seen ? COF_ERR_MALFORMED_XML : leaf_text(c, true, &loc);
            seen = true;
        }
    }
    if (err != COF_OK)
        goto out;
    empty_to_null(&loc);
    *out_location = loc;
    loc = NULL;
out:
    free(loc);
    if (doc != NULL)
        xmlFreeDoc(doc);
    return err;
}

/* Maps a leaf's text to one of two allowed static strings; *out stays NULL when absent. */
static cof_err leaf_choice(const xmlNode *c, const char *a, const char *b, const char **out)
{
    char *t = NULL;
    if (*out != NULL)
        return COF_ERR_MALFORMED_XML; /* duplicated */
    cof_err err = leaf_text(c, true, &t);
    if (err == COF_OK) {
        if (t != NULL && strcmp(t, a) == 0)
            *out = a;
        else if (t != NULL && strcmp(t, b) == 0)
            *out = b;
        else
            err = COF_ERR_MALFORMED_XML;
    }
    free(t);
    return err;
}

cof_err srv_xml_parse_versioning(const char *body, size_t n, const char **out_status,
                                 const char **out_mfa_delete)
{
    xmlDocPtr doc = NULL;
    const char *status = NULL, *mfa = NULL;
    *out_status = NULL;
    *out_mfa_delete = NULL;
    if (n > SRV_MAX_SMALL_XML_BODY)
        return COF_ERR_TOO_LARGE;
    cof_err err = parse_doc(body, n, SRV_MAX_SMALL_XML_BODY, &doc);
    if (err != COF_OK)
        return err;
    const xmlNode *root = xmlDocGetRootElement(doc);
    err = is_elem(root, "VersioningConfiguration") ? check_container(root) : COF_ERR_MALFORMED_XML;
    for (const xmlNode *c = root->children; c != NULL && err == COF_OK; c = c->next) {
        if (is_elem(c, "Status"))
            err = leaf_choice(c, "Enabled", "Suspended", &status);
        else if (is_elem(c, "MfaDelete"))
            err = leaf_choice(c, "Enabled", "Disabled", &mfa);
    }
    if (err == COF_OK) {
        *out_status = status;
        *out_mfa_delete = mfa;
    }
    xmlFreeDoc(doc);
    return err;
}

void srv_delete_req_cleanup(struct srv_delete_req *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->objs[i].key);
        free(r->objs[i].version_id);
    }
    free(r->objs);
    r->objs = NULL;
    r->n = 0;
    r->quiet = false;
}

static cof_err parse_delete_object(const xmlNode *obj, struct srv_delete_obj *o)
{
    cof_err err = check_container(obj);
    for (const xmlNode *c = obj->children; c != NULL && err == COF_OK; c = c->next) {
        if (is_elem(c, "Key"))
            err = take_leaf(c, false, &o->key);
        else if (is_elem(c, "VersionId"))
            err = take_leaf(c, false, &o->version_id);
    }
    if (err == COF_OK && o->key == NULL)
        err = COF_ERR_MALFORMED_XML;
    if (err == COF_OK && o->version_id != NULL && o->version_id[0] == '\0')
        empty_to_null(&o->version_id);
    return err;
}

cof_err srv_xml_parse_delete(const char *body, size_t n, struct srv_delete_req *out)
{
    xmlDocPtr doc = NULL;
    struct srv_delete_req r = {false, NULL, 0};
    bool quiet_seen = false;
    size_t count = 0;
    cof_err err = COF_OK;

    memset(out, 0, sizeof(*out));
    err = parse_doc(body, n, SRV_MAX_XML_BODY, &doc);
    if (err != COF_OK)
        goto out;
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!is_elem(root, "Delete")) {
        err = COF_ERR_MALFORMED_XML;
        goto out;
    }
    err = check_container(root);
    for (const xmlNode *c = root->children; c != NULL && err == COF_OK; c = c->next) {
        if (is_elem(c, "Object") && ++count > SRV_MAX_DELETE_OBJECTS)
            err = COF_ERR_MALFORMED_XML;
        else if (is_elem(c, "Quiet")) {
            err = quiet_seen ? COF_ERR_MALFORMED_XML : parse_bool(c, &r.quiet);
            quiet_seen = true;
        }
    }
    if (err == COF_OK && count == 0)
        err = COF_ERR_MALFORMED_XML;
    if (err != COF_OK)
        goto out;
    r.objs = calloc(count, sizeof(*r.objs));
    if (r.objs == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    for (const xmlNode *c = root->children; c != NULL && err == COF_OK; c = c->next) {
        if (is_elem(c, "Object")) {
            err = parse_delete_object(c, &r.objs[r.n]);
            r.n++; /* counted even on failure so cleanup frees what was read */
        }
    }
    if (err != COF_OK)
        goto out;
    *out = r;
    memset(&r, 0, sizeof(r));
out:
    srv_delete_req_cleanup(&r);
    if (doc != NULL)
        xmlFreeDoc(doc);
    return err;
}

void srv_sse_config_cleanup(struct srv_sse_config *c)
{
    if (c == NULL)
        return;
    free(c->algorithm);
    free(c->kms_key_id);
    memset(c, 0, sizeof(*c));
}

static cof_err parse_sse_default(const xmlNode *el, struct srv_sse_config *c)
{
    cof_err err = check_container(el);
    for (const xmlNode *k = el->children; k != NULL && err == COF_OK; k = k->next) {
        if (is_elem(k, "SSEAlgorithm"))
            err = take_leaf(k, true, &c->algorithm);
        else if (is_elem(k, "KMSMasterKeyID"))
            err = take_leaf(k, true, &c->kms_key_id);
    }
    if (err != COF_OK)
        return err;
    if (c->algorithm == NULL ||
        (strcmp(c->algorithm, "AES256") != 0 && strcmp(c->algorithm, "aws:kms") != 0 &&
         strcmp(c->algorithm, "aws:kms:dsse") != 0))
        return COF_ERR_MALFORMED_XML;
    empty_to_null(&c->kms_key_id);
    if (c->kms_key_id != NULL && strcmp(c->algorithm, "AES256") == 0)
        return COF_ERR_INVALID_ARGUMENT;
    return COF_OK;
}

/* <BlockedEncryptionTypes><EncryptionType>NONE|SSE-C</EncryptionType>...</...> */
static cof_err parse_blocked(const xmlNode *el, struct srv_sse_config *c)
{
    cof_err err = check_container(el);
    for (const xmlNode *k = el->children; k != NULL && err == COF_OK; k = k->next) {
        if (!is_elem(k, "EncryptionType"))
            continue;
        char *v = NULL;
        err = leaf_text(k, true, &v);
        if (err == COF_OK && strcmp(v, "SSE-C") == 0)
            c->block_ssec = true;
        else if (err == COF_OK && strcmp(v, "NONE") == 0)
            c->block_none = true;
        else if (err == COF_OK)
            err = COF_ERR_MALFORMED_XML;
        free(v);
    }
    return err;
}

static cof_err parse_sse_rule(const xmlNode *rule, struct srv_sse_config *c)
{
    bool dflt_seen = false;
    cof_err err = check_container(rule);
    for (const xmlNode *k = rule->children; k != NULL && err == COF_OK; k = k->next) {
        if (is_elem(k, "ApplyServerSideEncryptionByDefault")) {
            err = dflt_seen ? COF_ERR_MALFORMED_XML : parse_sse_default(k, c);
            dflt_seen = true;
        } else if (is_elem(k, "BucketKeyEnabled")) {
            err = c->bucket_key_set ? COF_ERR_MALFORMED_XML : parse_bool(k, &c->bucket_key_enabled);
            c->bucket_key_set = true;
        } else if (is_elem(k, "BlockedEncryptionTypes")) {
            err = c->blocked_set ? COF_ERR_MALFORMED_XML : parse_blocked(k, c);
            c->blocked_set = true;
        }
    }
    if (err == COF_OK && !dflt_seen)
        err = COF_ERR_MALFORMED_XML;
    return err;
}

cof_err srv_xml_parse_sse_config(const char *body, size_t n, struct srv_sse_config *out)
{
    xmlDocPtr doc = NULL;
    struct srv_sse_config c = {NULL, NULL, false, false, false, false, false};
    const xmlNode *rule = NULL;
    cof_err err = COF_OK;

    memset(out, 0, sizeof(*out));
    err = parse_doc(body, n, SRV_MAX_SMALL_XML_BODY, &doc);
    if (err != COF_OK)
        goto out;
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!is_elem(root, "ServerSideEncryptionConfiguration")) {
        err = COF_ERR_MALFORMED_XML;
        goto out;
    }
    err = check_container(root);
    for (const xmlNode *k = root->children; k != NULL && err == COF_OK; k = k->next) {
        if (is_elem(k, "Rule")) {
            if (rule != NULL)
                err = COF_ERR_MALFORMED_XML; /* S3 takes exactly one rule */
            rule = k;
        }
    }
    if (err == COF_OK && rule == NULL)
        err = COF_ERR_MALFORMED_XML;
    if (err == COF_OK)
        err = parse_sse_rule(rule, &c);
    if (err != COF_OK)
        goto out;
    *out = c;
    memset(&c, 0, sizeof(c));
out:
    srv_sse_config_cleanup(&c);
    if (doc != NULL)
        xmlFreeDoc(doc);
    return err;
}

cof_err srv_xml_write_sse_config(const struct srv_sse_config *c, char **out, size_t *out_len)
{
    struct srv_xml *x = NULL;

    *out = NULL;
    *out_len = 0;
    if (c == NULL || c->algorithm == NULL)
        COF_BUG("srv_xml_write_sse_config: no algorithm");
    cof_err err = srv_xml_new("ServerSideEncryptionConfiguration", &x);
    if (err == COF_OK)
        err = srv_xml_open(x, "Rule");
    if (err == COF_OK)
        err = srv_xml_open(x, "ApplyServerSideEncryptionByDefault");
    if (err == COF_OK)
        err = srv_xml_elem(x, "SSEAlgorithm", c->algorithm);
    if (err == COF_OK && c->kms_key_id != NULL)
        err = srv_xml_elem(x, "KMSMasterKeyID", c->kms_key_id);
    if (err == COF_OK)
        err = srv_xml_close(x);
    /* Echo BucketKeyEnabled only when it was set (stored rules are returned verbatim). */
    if (err == COF_OK && c->bucket_key_set)
        err = srv_xml_elem(x, "BucketKeyEnabled", c->bucket_key_enabled ? "true" : "false");
    if (err == COF_OK && c->blocked_set) {
        err = srv_xml_open(x, "BlockedEncryptionTypes");
        if (err == COF_OK && c->block_none)
            err = srv_xml_elem(x, "EncryptionType", "NONE");
        if (err == COF_OK && c->block_ssec)
            err = srv_xml_elem(x, "EncryptionType", "SSE-C");
        if (err == COF_OK)
            err = srv_xml_close(x);
    }
    if (err == COF_OK)
        err = srv_xml_finish(x, out, out_len);
    srv_xml_free(x);
    return err;
}

void srv_complete_req_cleanup(struct srv_complete_req *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->parts[i].etag);
        free(r->parts[i].checksum);
    }
    free(r->parts);
    r->parts = NULL;
    r->n = 0;
}

/* A part's Checksum<ALG> element (CompletedPart): kept as "ALG value" in p->checksum. */
static cof_err take_part_checksum(const xmlNode *c, struct srv_complete_part *p)
{
    static const char *const algs[] = {"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"};
    char name[32], *v = NULL;
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        snprintf(name, sizeof(name), "Checksum%s", algs[i]);
        if (!is_elem(c, name))
            continue;
        cof_err err = take_leaf(c, true, &v);
        size_t len = v != NULL ? strlen(algs[i]) + 1 + strlen(v) + 1 : 0;
        char *both = err == COF_OK ? malloc(len) : NULL;
        if (err == COF_OK && both == NULL)
            err = COF_ERR_NOMEM;
        if (err == COF_OK) {
            snprintf(both, len, "%s %s", algs[i], v);
            free(p->checksum);
            p->checksum = both;
        }
        free(v);
        return err;
    }
    return COF_OK; /* another element: ignored, as before */
}

static cof_err parse_complete_part(const xmlNode *el, struct srv_complete_part *p)
{
    char *num = NULL;
    cof_err err = check_container(el);
    for (const xmlNode *c = el->children; c != NULL && err == COF_OK; c = c->next) {
        if (is_elem(c, "PartNumber"))
            err = take_leaf(c, true, &num);
        else if (is_elem(c, "ETag"))
            err = take_leaf(c, true, &p->etag);
        else
            err = take_part_checksum(c, p);
    }
    if (err == COF_OK && (num == NULL || p->etag == NULL))
        err = COF_ERR_MALFORMED_XML;
    if (err == COF_OK) {
        char *end = NULL;
        long v = strtol(num, &end, 10);
        if (end == num || *end != '\0' || v < 1 || v > (long)SRV_MAX_PARTS)
            err = COF_ERR_MALFORMED_XML;
        else
            p->part_number = (int)v;
    }
    if (err == COF_OK) {
        /* "\"abc\"" -> "abc" */
        size_t len = strlen(p->etag);
        if (len >= 2 && p->etag[0] == '"' && p->etag[len - 1] == '"') {
            memmove(p->etag, p->etag + 1, len - 2);
            p->etag[len - 2] = '\0';
        }
    }
    free(num);
    return err;
}

cof_err srv_xml_parse_complete(const char *body, size_t n, struct srv_complete_req *out)
{
    xmlDocPtr doc = NULL;
    struct srv_complete_req r = {NULL, 0};
    size_t count = 0;
    memset(out, 0, sizeof(*out));
    cof_err err = parse_doc(body, n, SRV_MAX_XML_BODY, &doc);
    if (err != COF_OK)
        goto out;
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!is_elem(root, "CompleteMultipartUpload")) {
        err = COF_ERR_MALFORMED_XML;
        goto out;
    }
    err = check_container(root);
    for (const xmlNode *c = root->children; c != NULL && err == COF_OK; c = c->next)
        if (is_elem(c, "Part") && ++count > SRV_MAX_PARTS)
            err = COF_ERR_MALFORMED_XML;
    if (err == COF_OK && count == 0)
        err = COF_ERR_MALFORMED_XML;
    if (err != COF_OK)
        goto out;
    r.parts = calloc(count, sizeof(*r.parts));
    if (r.parts == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    for (const xmlNode *c = root->children; c != NULL && err == COF_OK; c = c->next) {
        if (is_elem(c, "Part")) {
            err = parse_complete_part(c, &r.parts[r.n]);
            r.n++;
        }
    }
    if (err != COF_OK)
        goto out;
    *out = r;
    memset(&r, 0, sizeof(r));
out:
    srv_complete_req_cleanup(&r);
    if (doc != NULL)
        xmlFreeDoc(doc);
    return err;
}

/* ---- tree helpers for other server parsers (xmltree.h) ------------------------------ */

cof_err srv_xmltree_parse(const char *body, size_t n, size_t cap, xmlDocPtr *out)
{
    return parse_doc(body, n, cap, out);
}

void srv_xmltree_free(xmlDocPtr doc)
{
    if (doc != NULL)
        xmlFreeDoc(doc);
}

bool srv_xmltree_is_elem(const xmlNode *nd, const char *name)
{
    return is_elem(nd, name);
}

cof_err srv_xmltree_check_container(const xmlNode *el)
{
    return check_container(el);
}

cof_err srv_xmltree_leaf_text(const xmlNode *el, bool trim, char **out)
{
    return leaf_text(el, trim, out);
}
