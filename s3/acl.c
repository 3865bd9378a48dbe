/* SPDX-License-Identifier: Apache-2.0 */
/* S3 ACLs: canned ACLs, grant headers, the AccessControlPolicy document, the stored one-line
 * form, what an ACL grants; OwnershipControls and PublicAccessBlockConfiguration documents.
 * No I/O. */
#include "s3/acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "s3/xml.h"
#include "s3/xmltree.h"

#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"
/* The canonical user aws-exec-read grants READ to (Amazon EC2, as S3 shows it). */
#define EC2_ID "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c"

static const struct {
    const char *name;
    enum srv_acl_perm perm;
} perms[] = {
    {"READ", SRV_ACL_READ},
    {"WRITE", SRV_ACL_WRITE},
    {"READ_ACP", SRV_ACL_READ_ACP},
    {"WRITE_ACP", SRV_ACL_WRITE_ACP},
    {"FULL_CONTROL", SRV_ACL_FULL_CONTROL},
};

const char *const srv_acl_grant_headers[5] = {
    "x-amz-grant-read",      "x-amz-grant-write",        "x-amz-grant-read-acp",
    "x-amz-grant-write-acp", "x-amz-grant-full-control",
};

static const char *perm_name(enum srv_acl_perm p)
{
    for (size_t i = 0; i < sizeof(perms) / sizeof(perms[0]); i++) {
        if (perms[i].perm == p)
            return perms[i].name;
    }
    return "READ";
}

static bool perm_parse(const char *s, enum srv_acl_perm *out)
{
    for (size_t i = 0; i < sizeof(perms) / sizeof(perms[0]); i++) {
        if (strcmp(perms[i].name, s) == 0) {
            *out = perms[i].perm;
            return true;
        }
    }
    return false;
}

static bool valid_id(const char *id)
{
    if (strlen(id) != SRV_ACL_ID_LEN)
        return false;
    for (const char *c = id; *c != '\0'; c++) {
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return false;
    }
    return true;
}

static bool valid_group(const char *uri)
{
    return strcmp(uri, SRV_ACL_ALL_USERS) == 0 || strcmp(uri, SRV_ACL_AUTH_USERS) == 0 ||
           strcmp(uri, SRV_ACL_LOG_DELIVERY) == 0;
}

static cof_err add(struct srv_acl *acl, enum srv_grantee_kind kind, enum srv_acl_perm perm,
                   const char *value)
{
    if (acl->n >= SRV_ACL_MAX_GRANTS)
        return COF_ERR_TOO_LARGE;
    if (strlen(value) >= sizeof(acl->g[0].value))
        return COF_ERR_INVALID;
    struct srv_grant *g = &acl->g[acl->n++];
    g->kind = kind;
    g->perm = perm;
    snprintf(g->value, sizeof(g->value), "%s", value);
    return COF_OK;
}

static void acl_init(struct srv_acl *acl, const char *owner)
{
    memset(acl, 0, sizeof(*acl));
    snprintf(acl->owner, sizeof(acl->owner), "%s", owner);
}

/* ---- canned ACLs ------------------------------------------------------------------------ */

cof_err srv_acl_canned(const char *name, enum srv_acl_scope scope, const char *owner,
                       const char *bucket_owner, struct srv_acl *out, struct srv_problem *prob)
{
    srv_problem_init(prob);
    acl_init(out, owner);
    cof_err err = add(out, SRV_GRANTEE_USER, SRV_ACL_FULL_CONTROL, owner);
    bool other_owner = scope == SRV_ACL_OBJECT && strcmp(owner, bucket_owner) != 0;
    if (strcmp(name, "private") == 0)
        return err;
    if (strcmp(name, "public-read") == 0)
        return add(out, SRV_GRANTEE_GROUP, SRV_ACL_READ, SRV_ACL_ALL_USERS);
    if (strcmp(name, "public-read-write") == 0) {
        err = add(out, SRV_GRANTEE_GROUP, SRV_ACL_READ, SRV_ACL_ALL_USERS);
        return err == COF_OK ? add(out, SRV_GRANTEE_GROUP, SRV_ACL_WRITE, SRV_ACL_ALL_USERS) : err;
    }
    if (strcmp(name, "authenticated-read") == 0)
        return add(out, SRV_GRANTEE_GROUP, SRV_ACL_READ, SRV_ACL_AUTH_USERS);
    if (strcmp(name, "aws-exec-read") == 0)
        return add(out, SRV_GRANTEE_USER, SRV_ACL_READ, EC2_ID);
    if (strcmp(name, "bucket-owner-read") == 0)
        return other_owner ? add(out, SRV_GRANTEE_USER, SRV_ACL_READ, bucket_owner) : err;
    if (strcmp(name, "bucket-owner-full-control") == 0)
        return other_owner ? add(out, SRV_GRANTEE_USER, SRV_ACL_FULL_CONTROL, bucket_owner) : err;
    if (strcmp(name, "log-delivery-write") == 0) {
        err = add(out, SRV_GRANTEE_GROUP, SRV_ACL_WRITE, SRV_ACL_LOG_DELIVERY);
        return err == COF_OK ? add(out, SRV_GRANTEE_GROUP, SRV_ACL_READ_ACP, SRV_ACL_LOG_DELIVERY)
                             : err;
    }
    out->n = 0;
    /* S3 answers an unknown canned ACL with an empty message. */
    return srv_problem_arg(prob, COF_ERR_INVALID_ARGUMENT, "", "x-amz-acl", name);
}

/* ---- grant headers ---------------------------------------------------------------------- */

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* One 'type="value"' (quotes optional) piece of a grant header, trimmed, into a grant. */
static cof_err add_piece(struct srv_acl *out, size_t which, const char *piece,
                         struct srv_problem *prob)
{
    const char *eq = strchr(piece, '=');
    const char *hdr = srv_acl_grant_headers[which];
    if (eq == NULL)
        return srv_problem_arg(prob, COF_ERR_INVALID_ARGUMENT, "Argument format not recognized",
                               hdr, srv_problem_keep(prob, "%s", piece));
    size_t tlen = (size_t)(eq - piece);
    const char *v = eq + 1;
    size_t vlen = strlen(v);
    if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
        v++;
        vlen -= 2;
    }
    char value[256];
    if (vlen >= sizeof(value))
        vlen = sizeof(value) - 1;
    memcpy(value, v, vlen);
    value[vlen] = '\0';
    if (tlen == 2 && strncmp(piece, "id", 2) == 0) {
        if (!valid_id(value))
            return srv_problem_arg(prob, COF_ERR_INVALID_ARGUMENT, "Invalid id", "id",
                                   srv_problem_keep(prob, "%s", value));
        return add(out, SRV_GRANTEE_USER, perms[which].perm, value);
    }
    if (tlen == 3 && strncmp(piece, "uri", 3) == 0) {
        if (!valid_group(value))
            return srv_problem_arg(prob, COF_ERR_INVALID_ARGUMENT, "Invalid group uri", "uri",
                                   srv_problem_keep(prob, "%s", value));
        return add(out, SRV_GRANTEE_GROUP, perms[which].perm, value);
    }
    if (tlen == 12 && strncmp(piece, "emailAddress", 12) == 0)
        return srv_problem_set(prob, COF_ERR_UNRESOLVABLE_EMAIL, NULL);
    return srv_problem_arg(prob, COF_ERR_INVALID_ARGUMENT, "Argument format not recognized", hdr,
                           srv_problem_keep(prob, "%s", piece));
}

cof_err srv_acl_add_grant_header(struct srv_acl *out, size_t which, const char *value,
                                 struct srv_problem *prob)
{
    srv_problem_init(prob);
    if (which >= 5)
        COF_BUG("srv_acl_add_grant_header: no such header");
    const char *p = value;
    while (*p != '\0') {
        p = skip_space(p);
        size_t len = strcspn(p, ",");
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        char piece[512];
        if (len >= sizeof(piece))
            len = sizeof(piece) - 1;
        memcpy(piece, p, len);
        piece[len] = '\0';
        cof_err err = add_piece(out, which, piece, prob);
        if (err == COF_ERR_TOO_LARGE || err == COF_ERR_INVALID)
            return srv_problem_arg(prob, COF_ERR_INVALID_ARGUMENT, "Argument format not recognized",
                                   srv_acl_grant_headers[which],
                                   srv_problem_keep(prob, "%s", piece));
        if (err != COF_OK)
            return err;
        p += strcspn(p, ",");
        if (*p == ',')
            p++;
    }
    return COF_OK;
}

/* ---- AccessControlPolicy document ------------------------------------------------------- */

static cof_err malformed(struct srv_problem *prob)
{
    return srv_problem_set(prob, COF_ERR_MALFORMED_ACL, NULL);
}

/* The single child element name of el, or NULL (absent); *dup set when it repeats. */
static const xmlNode *child(const xmlNode *el, const char *name, bool *dup)
{
    const xmlNode *found = NULL;
    for (const xmlNode *c = el->children; c != NULL; c = c->next) {
        if (!srv_xmltree_is_elem(c, name))
            continue;
        if (found != NULL)
            *dup = true;
        found = c;
    }
    return found;
}

/* The trimmed text of the child element name of el into out (n bytes); false when it is
 * absent, repeated, not a leaf, or too long. */
static bool child_text(const xmlNode *el, const char *name, char *out, size_t n)
{
    bool dup = false;
    char *t = NULL;
    const xmlNode *c = child(el, name, &dup);
    if (c == NULL || dup || srv_xmltree_leaf_text(c, true, &t) != COF_OK)
        return false;
    bool fits = strlen(t) < n;
    if (fits)
        memcpy(out, t, strlen(t) + 1);
    free(t);
    return fits;
}

/* The xsi:type of a Grantee (namespaced as clients send it; a bare "type" is accepted too). */
static char *grantee_type(const xmlNode *g)
{
    xmlChar *t = xmlGetNsProp(g, (const xmlChar *)"type", (const xmlChar *)XSI_NS);
    if (t == NULL)
        t = xmlGetNoNsProp(g, (const xmlChar *)"type");
    if (t == NULL)
        return NULL;
    char *s = strdup((const char *)t);
    xmlFree(t);
    return s;
}

static cof_err parse_grantee(const xmlNode *grantee, enum srv_acl_perm perm, struct srv_acl *out,
                             struct srv_problem *prob)
{
    char value[256];
    char *type = grantee_type(grantee);
    cof_err err = COF_OK;
    if (type == NULL) {
        err = malformed(prob);
    } else if (strcmp(type, "CanonicalUser") == 0) {
        if (!child_text(grantee, "ID", value, sizeof(value)))
            err = malformed(prob);
        else if (!valid_id(value))
            err = srv_problem_arg(prob, COF_ERR_INVALID_ARGUMENT, "Invalid id", "CanonicalUser/ID",
                                  srv_problem_keep(prob, "%s", value));
        else
            err = add(out, SRV_GRANTEE_USER, perm, value);
    } else if (strcmp(type, "Group") == 0) {
        if (!child_text(grantee, "URI", value, sizeof(value)))
            err = malformed(prob);
        else if (!valid_group(value))
            err = srv_problem_arg(prob, COF_ERR_INVALID_ARGUMENT, "Invalid group uri", "Group/URI",
                                  srv_problem_keep(prob, "%s", value));
        else
            err = add(out, SRV_GRANTEE_GROUP, perm, value);
    } else if (strcmp(type, "AmazonCustomerByEmail") == 0) {
        err = child_text(grantee, "EmailAddress", value, sizeof(value))
                  ? srv_problem_set(prob, COF_ERR_UNRESOLVABLE_EMAIL, NULL)
                  : malformed(prob);
    } else {
        err = malformed(prob);
    }
    free(type);
    if (err == COF_ERR_TOO_LARGE)
        err = malformed(prob);
    return err;
}

static cof_err parse_grant(const xmlNode *g, struct srv_acl *out, struct srv_problem *prob)
{
    char pname[32];
    enum srv_acl_perm perm;
    bool dup = false;
    const xmlNode *grantee = child(g, "Grantee", &dup);
    if (srv_xmltree_check_container(g) != COF_OK || grantee == NULL || dup ||
        !child_text(g, "Permission", pname, sizeof(pname)) || !perm_parse(pname, &perm))
        return malformed(prob);
    return parse_grantee(grantee, perm, out, prob);
}

cof_err srv_acl_parse_xml(const char *body, size_t n, struct srv_acl *out, struct srv_problem *prob)
{
    xmlDocPtr doc = NULL;
    bool dup = false;
    srv_problem_init(prob);
    memset(out, 0, sizeof(*out));
    cof_err err = srv_xmltree_parse(body, n, SRV_MAX_SMALL_XML_BODY, &doc);
    if (err == COF_ERR_MALFORMED_XML)
        err = malformed(prob);
    if (err != COF_OK)
        return srv_problem_finish(prob, err);
    const xmlNode *root = xmlDocGetRootElement(doc);
    const xmlNode *owner = NULL, *list = NULL;
    if (!srv_xmltree_is_elem(root, "AccessControlPolicy") ||
        srv_xmltree_check_container(root) != COF_OK)
        err = malformed(prob);
    if (err == COF_OK) {
        owner = child(root, "Owner", &dup);
        list = child(root, "AccessControlList", &dup);
        if (owner == NULL || list == NULL || dup || srv_xmltree_check_container(list) != COF_OK ||
            !child_text(owner, "ID", out->owner, sizeof(out->owner)))
            err = malformed(prob);
        else if (!valid_id(out->owner))
            err = srv_problem_arg(prob, COF_ERR_INVALID_ARGUMENT, "Invalid id", "CanonicalUser/ID",
                                  srv_problem_keep(prob, "%s", out->owner));
    }
    for (const xmlNode *g = list != NULL ? list->children : NULL; err == COF_OK && g != NULL;
         g = g->next) {
        if (g->type != XML_ELEMENT_NODE)
            continue;
        err = srv_xmltree_is_elem(g, "Grant") ? parse_grant(g, out, prob) : malformed(prob);
    }
    srv_xmltree_free(doc);
    if (err != COF_OK)
        memset(out, 0, sizeof(*out));
    return srv_problem_finish(prob, err);
}

cof_err srv_acl_write_xml(const struct srv_acl *acl, const char *owner_name, char **out,
                          size_t *out_len)
{
    struct srv_xml *x = NULL;
    cof_err err = srv_xml_new("AccessControlPolicy", &x);
    if (err != COF_OK)
        return err;
    srv_xml_open(x, "Owner");
    srv_xml_elem(x, "ID", acl->owner);
    if (owner_name != NULL)
        srv_xml_elem(x, "DisplayName", owner_name);
    srv_xml_close(x);
    srv_xml_open(x, "AccessControlList");
    for (size_t i = 0; i < acl->n; i++) {
        const struct srv_grant *g = &acl->g[i];
        bool user = g->kind == SRV_GRANTEE_USER;
        srv_xml_open(x, "Grant");
        srv_xml_open(x, "Grantee");
        srv_xml_attr(x, "xmlns:xsi", XSI_NS);
        srv_xml_attr(x, "xsi:type", user ? "CanonicalUser" : "Group");
        srv_xml_elem(x, user ? "ID" : "URI", g->value);
        if (user && owner_name != NULL && strcmp(g->value, acl->owner) == 0)
            srv_xml_elem(x, "DisplayName", owner_name);
        srv_xml_close(x);
        srv_xml_elem(x, "Permission", perm_name(g->perm));
        srv_xml_close(x);
    }
    err = srv_xml_close(x);
    if (err == COF_OK)
        err = srv_xml_finish(x, out, out_len);
    srv_xml_free(x);
    return err;
}

/* ---- stored form ------------------------------------------------------------------------ */

cof_err srv_acl_encode(const struct srv_acl *acl, char **out)
{
    struct cof_buf b;
    cof_buf_init(&b, 64u * 1024);
    cof_err err = cof_buf_printf(&b, "owner:%s", acl->owner);
    for (size_t i = 0; err == COF_OK && i < acl->n; i++)
        err = cof_buf_printf(&b, " %s:%c:%s", perm_name(acl->g[i].perm),
                             acl->g[i].kind == SRV_GRANTEE_USER ? 'u' : 'g', acl->g[i].value);
    if (err == COF_OK)
        err = cof_buf_steal(&b, out);
    cof_buf_cleanup(&b);
    return err;
}

static cof_err decode_grant(const char *w, size_t len, struct srv_acl *out)
{
    char word[256];
    if (len >= sizeof(word))
        return COF_ERR_INVALID;
    memcpy(word, w, len);
    word[len] = '\0';
    char *c1 = strchr(word, ':');
    if (c1 == NULL || (c1[1] != 'u' && c1[1] != 'g') || c1[2] != ':')
        return COF_ERR_INVALID;
    *c1 = '\0';
    enum srv_acl_perm perm;
    if (!perm_parse(word, &perm))
        return COF_ERR_INVALID;
    bool user = c1[1] == 'u';
    const char *v = c1 + 3;
    if (user ? !valid_id(v) : !valid_group(v))
        return COF_ERR_INVALID;
    return add(out, user ? SRV_GRANTEE_USER : SRV_GRANTEE_GROUP, perm, v) == COF_OK
               ? COF_OK
               : COF_ERR_INVALID;
}

cof_err srv_acl_decode(const char *text, struct srv_acl *out)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(text, "owner:", 6) != 0)
        return COF_ERR_INVALID;
    const char *p = text + 6;
    size_t len = strcspn(p, " ");
    if (len != SRV_ACL_ID_LEN)
        return COF_ERR_INVALID;
    memcpy(out->owner, p, len);
    out->owner[len] = '\0';
    if (!valid_id(out->owner))
        return COF_ERR_INVALID;
    p += len;
    while (*p == ' ') {
        p++;
        len = strcspn(p, " ");
        if (decode_grant(p, len, out) != COF_OK) {
            memset(out, 0, sizeof(*out));
            return COF_ERR_INVALID;
        }
        p += len;
    }
    if (*p != '\0') {
        memset(out, 0, sizeof(*out));
        return COF_ERR_INVALID;
    }
    return COF_OK;
}

/* ---- what an ACL grants ----------------------------------------------------------------- */

bool srv_acl_is_owner_only(const struct srv_acl *acl)
{
    return acl->n == 1 && acl->g[0].kind == SRV_GRANTEE_USER &&
           acl->g[0].perm == SRV_ACL_FULL_CONTROL && strcmp(acl->g[0].value, acl->owner) == 0;
}

static bool public_group(const struct srv_grant *g)
{
    return g->kind == SRV_GRANTEE_GROUP &&
           (strcmp(g->value, SRV_ACL_ALL_USERS) == 0 || strcmp(g->value, SRV_ACL_AUTH_USERS) == 0);
}

bool srv_acl_is_public(const struct srv_acl *acl)
{
    for (size_t i = 0; i < acl->n; i++) {
        if (public_group(&acl->g[i]))
            return true;
    }
    return false;
}

unsigned srv_acl_granted(const struct srv_acl *acl, const char *user, bool signed_in,
                         bool ignore_public)
{
    unsigned bits = 0;
    for (size_t i = 0; i < acl->n; i++) {
        const struct srv_grant *g = &acl->g[i];
        if (g->kind == SRV_GRANTEE_USER) {
            if (user != NULL && strcmp(g->value, user) == 0)
                bits |= (unsigned)g->perm;
            continue;
        }
        if (ignore_public && public_group(g))
            continue;
        if (strcmp(g->value, SRV_ACL_ALL_USERS) == 0 ||
            (signed_in && strcmp(g->value, SRV_ACL_AUTH_USERS) == 0))
            bits |= (unsigned)g->perm;
    }
    return bits;
}

/* ---- object ownership ------------------------------------------------------------------- */

static const char *const ownership_names[] = {
    [SRV_OWN_ENFORCED] = "BucketOwnerEnforced",
    [SRV_OWN_PREFERRED] = "BucketOwnerPreferred",
    [SRV_OWN_WRITER] = "ObjectWriter",
};

const char *srv_ownership_name(enum srv_ownership o)
{
    return ownership_names[o];
}

bool srv_ownership_parse(const char *name, enum srv_ownership *out)
{
    for (size_t i = 0; i < sizeof(ownership_names) / sizeof(ownership_names[0]); i++) {
        if (strcmp(name, ownership_names[i]) == 0) {
            *out = (enum srv_ownership)i;
            return true;
        }
    }
    return false;
}

cof_err srv_ownership_parse_xml(const char *body, size_t n, enum srv_ownership *out)
{
    xmlDocPtr doc = NULL;
    bool dup = false;
    char name[64];
    cof_err err = srv_xmltree_parse(body, n, SRV_MAX_SMALL_XML_BODY, &doc);
    if (err != COF_OK)
        return err;
    const xmlNode *root = xmlDocGetRootElement(doc);
    const xmlNode *rule = NULL;
    if (!srv_xmltree_is_elem(root, "OwnershipControls") ||
        srv_xmltree_check_container(root) != COF_OK)
        err = COF_ERR_MALFORMED_XML;
    if (err == COF_OK)
        rule = child(root, "Rule", &dup);
    if (err == COF_OK && (rule == NULL || dup || srv_xmltree_check_container(rule) != COF_OK ||
                          !child_text(rule, "ObjectOwnership", name, sizeof(name)) ||
                          !srv_ownership_parse(name, out)))
        err = COF_ERR_MALFORMED_XML;
    srv_xmltree_free(doc);
    return err;
}

/* ---- public access block ---------------------------------------------------------------- */

static const char *const pab_names[4] = {"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                         "RestrictPublicBuckets"};

static bool *pab_flag(struct srv_pab *p, size_t i)
{
    bool *flags[4] = {&p->block_acls, &p->ignore_acls, &p->block_policy, &p->restrict_buckets};
    return flags[i];
}

cof_err srv_pab_parse_xml(const char *body, size_t n, struct srv_pab *out)
{
    xmlDocPtr doc = NULL;
    memset(out, 0, sizeof(*out));
    cof_err err = srv_xmltree_parse(body, n, SRV_MAX_SMALL_XML_BODY, &doc);
    if (err != COF_OK)
        return err;
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!srv_xmltree_is_elem(root, "PublicAccessBlockConfiguration") ||
        srv_xmltree_check_container(root) != COF_OK)
        err = COF_ERR_MALFORMED_XML;
    for (size_t i = 0; err == COF_OK && i < 4; i++) {
        bool dup = false;
        char v[16];
        if (child(root, pab_names[i], &dup) == NULL)
            continue;
        if (dup || !child_text(root, pab_names[i], v, sizeof(v)) ||
            (strcmp(v, "true") != 0 && strcmp(v, "false") != 0))
            err = COF_ERR_MALFORMED_XML;
        else
            *pab_flag(out, i) = strcmp(v, "true") == 0;
    }
    srv_xmltree_free(doc);
    if (err != COF_OK)
        memset(out, 0, sizeof(*out));
    return err;
}

cof_err srv_pab_write_xml(const struct srv_pab *p, char **out, size_t *out_len)
{
    struct srv_xml *x = NULL;
    struct srv_pab copy = *p;
    cof_err err = srv_xml_new("PublicAccessBlockConfiguration", &x);
    if (err != COF_OK)
        return err;
    for (size_t i = 0; i < 4; i++)
        srv_xml_elem(x, pab_names[i], *pab_flag(&copy, i) ? "true" : "false");
    err = srv_xml_finish(x, out, out_len);
    srv_xml_free(x);
    return err;
}
