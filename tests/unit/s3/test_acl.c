/* SPDX-License-Identifier: Apache-2.0 */
/* acl.c: canned ACLs, grant headers, AccessControlPolicy documents (valid and every refusal),
 * the written document, the stored form (round trip and corrupt lines), what an ACL grants, and
 * the OwnershipControls and PublicAccessBlockConfiguration documents. */
#include "check.h"
#include "s3/acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "s3/xml.h"

#define OWNER "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
#define OTHER "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define XSI   "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
#define USER(id, perm)                                                                             \
    "<Grant><Grantee " XSI "xsi:type=\"CanonicalUser\"><ID>" id "</ID></Grantee><Permission>" perm \
    "</Permission></Grant>"
#define GROUP(uri, perm)                                                                           \
    "<Grant><Grantee " XSI "xsi:type=\"Group\"><URI>" uri "</URI></Grantee><Permission>" perm      \
    "</Permission></Grant>"
#define DOC(grants)                                                                                \
    "<AccessControlPolicy><Owner><ID>" OWNER "</ID><DisplayName>x</DisplayName></Owner>"           \
    "<AccessControlList>" grants "</AccessControlList></AccessControlPolicy>"

static struct srv_acl *acl_new(void)
{
    struct srv_acl *a = calloc(1, sizeof(*a));
    if (a == NULL)
        abort();
    return a;
}

static void test_canned(void)
{
    static const struct {
        const char *name;
        enum srv_acl_scope scope;
        size_t n;
        bool is_public;
    } cases[] = {
        {"private", SRV_ACL_BUCKET, 1, false},
        {"public-read", SRV_ACL_BUCKET, 2, true},
        {"public-read-write", SRV_ACL_OBJECT, 3, true},
        {"authenticated-read", SRV_ACL_OBJECT, 2, true},
        {"aws-exec-read", SRV_ACL_OBJECT, 2, false},
        {"bucket-owner-read", SRV_ACL_BUCKET, 1, false},
        {"bucket-owner-read", SRV_ACL_OBJECT, 2, false},
        {"bucket-owner-full-control", SRV_ACL_OBJECT, 2, false},
        {"bucket-owner-full-control", SRV_ACL_BUCKET, 1, false},
        {"log-delivery-write", SRV_ACL_BUCKET, 3, false},
    };
    struct srv_acl *a = acl_new();
    struct srv_problem prob;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* The object's writer is OTHER; the bucket's owner OWNER. */
        CHECK_EQ_INT(srv_acl_canned(cases[i].name, cases[i].scope, OTHER, OWNER, a, &prob), COF_OK);
        CHECK_EQ_INT(a->n, cases[i].n);
        CHECK(srv_acl_is_public(a) == cases[i].is_public);
        CHECK_EQ_STR(a->g[0].value, OTHER);
        CHECK_EQ_INT(a->g[0].perm, SRV_ACL_FULL_CONTROL);
    }
    CHECK_EQ_INT(srv_acl_canned("public-read", SRV_ACL_OBJECT, OWNER, OWNER, a, &prob), COF_OK);
    CHECK_EQ_STR(a->g[1].value, SRV_ACL_ALL_USERS);
    CHECK(!srv_acl_is_owner_only(a));
    CHECK_EQ_INT(
        srv_acl_canned("bucket-owner-full-control", SRV_ACL_OBJECT, OWNER, OWNER, a, &prob),
        COF_OK);
    CHECK(srv_acl_is_owner_only(a));
    static const char *const bad[] = {"", "Private", "public", "public-read ", "all"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ_INT(srv_acl_canned(bad[i], SRV_ACL_OBJECT, OWNER, OWNER, a, &prob),
                     COF_ERR_INVALID_ARGUMENT);
        CHECK_EQ_STR(prob.message, "");
        CHECK_EQ_STR(prob.name1, "ArgumentName");
        CHECK_EQ_STR(prob.value1, "x-amz-acl");
        CHECK_EQ_STR(prob.value2, bad[i]);
    }
    free(a);
}

static void test_grant_headers(void)
{
    struct srv_acl *a = acl_new();
    struct srv_problem prob;
    CHECK_EQ_INT(
        srv_acl_add_grant_header(a, 0, "uri=\"" SRV_ACL_ALL_USERS "\", id=\"" OTHER "\"", &prob),
        COF_OK);
    CHECK_EQ_INT(srv_acl_add_grant_header(a, 4, " id=" OWNER " ", &prob), COF_OK);
    CHECK_EQ_INT(a->n, 3);
    CHECK_EQ_INT(a->g[0].kind, SRV_GRANTEE_GROUP);
    CHECK_EQ_INT(a->g[1].perm, SRV_ACL_READ);
    CHECK_EQ_INT(a->g[2].perm, SRV_ACL_FULL_CONTROL);
    static const struct {
        size_t which;
        const char *value;
        cof_err want;
        const char *msg, *arg, *argval;
    } bad[] = {
        {0, "nonsense", COF_ERR_INVALID_ARGUMENT, "Argument format not recognized",
         "x-amz-grant-read", "nonsense"},
        {1, "who=\"me\"", COF_ERR_INVALID_ARGUMENT, "Argument format not recognized",
         "x-amz-grant-write", "who=\"me\""},
        {2, "id=\"ABC\"", COF_ERR_INVALID_ARGUMENT, "Invalid id", "id", "ABC"},
        {2, "id=\"" OWNER "0\"", COF_ERR_INVALID_ARGUMENT, "Invalid id", "id", OWNER "0"},
        {3, "uri=\"http://acs.amazonaws.com/groups/global/Everyone\"", COF_ERR_INVALID_ARGUMENT,
         "Invalid group uri", "uri", "http://acs.amazonaws.com/groups/global/Everyone"},
        {4, "emailAddress=\"a@b.example\"", COF_ERR_UNRESOLVABLE_EMAIL, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cof_err err = srv_acl_add_grant_header(a, bad[i].which, bad[i].value, &prob);
        CHECK_EQ_INT(err, bad[i].want);
        CHECK_EQ_INT(prob.code, bad[i].want);
        if (bad[i].msg != NULL) {
            CHECK_EQ_STR(prob.message, bad[i].msg);
            CHECK_EQ_STR(prob.value1, bad[i].arg);
            CHECK_EQ_STR(prob.value2, bad[i].argval);
        }
    }
    /* No more than 100 grants. */
    struct srv_acl *b = acl_new();
    size_t cap = 101 * 80;
    char *many = malloc(cap);
    CHECK(many != NULL);
    if (many != NULL) {
        size_t len = 0;
        for (int i = 0; i < 101 && len < cap; i++)
            len += (size_t)snprintf(many + len, cap - len, "%sid=\"%s\"", i ? "," : "", OTHER);
        CHECK(len < cap);
        CHECK_EQ_INT(srv_acl_add_grant_header(b, 0, many, &prob), COF_ERR_INVALID_ARGUMENT);
        free(many);
    }
    free(b);
    free(a);
}

static void test_parse_xml(void)
{
    struct srv_acl *a = acl_new();
    struct srv_problem prob;
    const char ok[] = DOC(USER(OWNER, "FULL_CONTROL") GROUP(SRV_ACL_AUTH_USERS, "READ_ACP")
                              GROUP(SRV_ACL_LOG_DELIVERY, "WRITE"));
    CHECK_EQ_INT(srv_acl_parse_xml(ok, strlen(ok), a, &prob), COF_OK);
    CHECK_EQ_STR(a->owner, OWNER);
    CHECK_EQ_INT(a->n, 3);
    CHECK_EQ_INT(a->g[1].perm, SRV_ACL_READ_ACP);
    CHECK(srv_acl_is_public(a));
    const char empty[] = DOC("");
    CHECK_EQ_INT(srv_acl_parse_xml(empty, strlen(empty), a, &prob), COF_OK);
    CHECK_EQ_INT(a->n, 0);

    static const char *const malformed[] = {
        "",
        "<AccessControlPolicy>",
        "<Other/>",
        "<AccessControlPolicy><AccessControlList/></AccessControlPolicy>",
        "<AccessControlPolicy><Owner><ID>" OWNER "</ID></Owner></AccessControlPolicy>",
        "<AccessControlPolicy><Owner/><AccessControlList/></AccessControlPolicy>",
        DOC(USER(OWNER, "ALL")),
        DOC(USER(OWNER, "")),
        DOC("<Grant><Grantee " XSI "xsi:type=\"CanonicalUser\"><ID>" OWNER "</ID></Grantee>"
            "</Grant>"),
        DOC("<Grant><Grantee><ID>" OWNER "</ID></Grantee><Permission>READ</Permission></Grant>"),
        DOC("<Grant><Grantee " XSI "xsi:type=\"Robot\"><ID>" OWNER
            "</ID></Grantee><Permission>READ</Permission></Grant>"),
        DOC("<Grant><Grantee " XSI "xsi:type=\"Group\"><ID>" OWNER
            "</ID></Grantee><Permission>READ</Permission></Grant>"),
        DOC("<Grant><Permission>READ</Permission></Grant>"),
        DOC("<NotAGrant/>"),
        DOC("text"),
        "<!DOCTYPE a [<!ENTITY e \"READ\">]>" DOC(USER(OWNER, "&e;")),
    };
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        cof_err err = srv_acl_parse_xml(malformed[i], strlen(malformed[i]), a, &prob);
        if (err != COF_ERR_MALFORMED_ACL)
            fprintf(stderr, "case %zu: %s\n", i, cof_err_name(err));
        CHECK_EQ_INT(err, COF_ERR_MALFORMED_ACL);
        CHECK_EQ_INT(a->n, 0);
    }
    const char bad_id[] = DOC(USER("0123", "READ"));
    CHECK_EQ_INT(srv_acl_parse_xml(bad_id, strlen(bad_id), a, &prob), COF_ERR_INVALID_ARGUMENT);
    CHECK_EQ_STR(prob.message, "Invalid id");
    CHECK_EQ_STR(prob.value1, "CanonicalUser/ID");
    CHECK_EQ_STR(prob.value2, "0123");
    const char bad_group[] = DOC(GROUP("http://acs.amazonaws.com/groups/x", "READ"));
    CHECK_EQ_INT(srv_acl_parse_xml(bad_group, strlen(bad_group), a, &prob),
                 COF_ERR_INVALID_ARGUMENT);
    CHECK_EQ_STR(prob.value1, "Group/URI");
    const char email[] =
        DOC("<Grant><Grantee " XSI "xsi:type=\"AmazonCustomerByEmail\"><EmailAddress>a@b.c"
            "</EmailAddress></Grantee><Permission>READ</Permission></Grant>");
    CHECK_EQ_INT(srv_acl_parse_xml(email, strlen(email), a, &prob), COF_ERR_UNRESOLVABLE_EMAIL);
    free(a);
}

static void test_write_and_store(void)
{
    struct srv_acl *a = acl_new(), *b = acl_new();
    struct srv_problem prob;
    char *doc = NULL, *line = NULL, *line2 = NULL;
    size_t len = 0;
    CHECK_EQ_INT(srv_acl_canned("log-delivery-write", SRV_ACL_BUCKET, OWNER, OWNER, a, &prob),
                 COF_OK);
    CHECK_EQ_INT(srv_acl_write_xml(a, "webfile", &doc, &len), COF_OK);
    CHECK(doc != NULL && strstr(doc, "<Owner><ID>" OWNER "</ID><DisplayName>webfile</DisplayName>"
                                     "</Owner>") != NULL);
    CHECK(doc != NULL && strstr(doc, "<Grantee " XSI "xsi:type=\"CanonicalUser\"><ID>" OWNER
                                     "</ID><DisplayName>webfile</DisplayName></Grantee>"
                                     "<Permission>FULL_CONTROL</Permission>") != NULL);
    CHECK(doc != NULL && strstr(doc, "xsi:type=\"Group\"><URI>" SRV_ACL_LOG_DELIVERY
                                     "</URI></Grantee><Permission>READ_ACP</Permission>") != NULL);
    char *anon_doc = NULL;
    size_t anon_len = 0;
    CHECK_EQ_INT(srv_acl_write_xml(a, NULL, &anon_doc, &anon_len), COF_OK);
    CHECK(anon_doc != NULL && strstr(anon_doc, "DisplayName") == NULL);
    free(anon_doc);
    /* What GetBucketAcl writes, PutBucketAcl reads back. */
    CHECK_EQ_INT(srv_acl_parse_xml(doc, len, b, &prob), COF_OK);
    CHECK_EQ_INT(b->n, 3);
    CHECK_EQ_INT(srv_acl_encode(a, &line), COF_OK);
    CHECK_EQ_STR(line, "owner:" OWNER " FULL_CONTROL:u:" OWNER " WRITE:g:" SRV_ACL_LOG_DELIVERY
                       " READ_ACP:g:" SRV_ACL_LOG_DELIVERY);
    CHECK_EQ_INT(srv_acl_decode(line, b), COF_OK);
    CHECK_EQ_INT(srv_acl_encode(b, &line2), COF_OK);
    CHECK_EQ_STR(line2, line);
    static const char *const corrupt[] = {
        "",
        "owner:",
        "owner:" OWNER "x",
        "owner:" OWNER " READ",
        "owner:" OWNER " READ:x:" OWNER,
        "owner:" OWNER " READ:u:abc",
        "owner:" OWNER " READ:g:http://example.com/",
        "owner:" OWNER " NONE:u:" OWNER,
        "owner:" OWNER "  READ:u:" OWNER,
        "grants:" OWNER,
    };
    for (size_t i = 0; i < sizeof(corrupt) / sizeof(corrupt[0]); i++) {
        CHECK_EQ_INT(srv_acl_decode(corrupt[i], b), COF_ERR_INVALID);
        CHECK_EQ_INT(b->n, 0);
    }
    free(doc);
    free(line);
    free(line2);
    free(a);
    free(b);
}

static void test_granted(void)
{
    struct srv_acl *a = acl_new();
    struct srv_problem prob;
    CHECK_EQ_INT(srv_acl_canned("public-read", SRV_ACL_OBJECT, OWNER, OWNER, a, &prob), COF_OK);
    CHECK_EQ_INT(srv_acl_granted(a, OWNER, true, false), SRV_ACL_FULL_CONTROL);
    CHECK_EQ_INT(srv_acl_granted(a, NULL, false, false), SRV_ACL_READ);
    CHECK_EQ_INT(srv_acl_granted(a, OTHER, true, false), SRV_ACL_READ);
    CHECK_EQ_INT(srv_acl_granted(a, NULL, false, true), 0);
    CHECK_EQ_INT(srv_acl_canned("authenticated-read", SRV_ACL_OBJECT, OWNER, OWNER, a, &prob),
                 COF_OK);
    CHECK_EQ_INT(srv_acl_granted(a, NULL, false, false), 0);
    CHECK_EQ_INT(srv_acl_granted(a, OTHER, true, false), SRV_ACL_READ);
    CHECK_EQ_INT(srv_acl_granted(a, OTHER, true, true), 0);
    CHECK_EQ_INT(srv_acl_canned("log-delivery-write", SRV_ACL_BUCKET, OWNER, OWNER, a, &prob),
                 COF_OK);
    CHECK_EQ_INT(srv_acl_granted(a, NULL, false, false), 0);
    CHECK_EQ_INT(srv_acl_granted(a, OTHER, true, false), 0);
    free(a);
}

static void test_ownership(void)
{
    enum srv_ownership o;
    CHECK(srv_ownership_parse("ObjectWriter", &o) && o == SRV_OWN_WRITER);
    CHECK(!srv_ownership_parse("objectwriter", &o));
    CHECK_EQ_STR(srv_ownership_name(SRV_OWN_ENFORCED), "BucketOwnerEnforced");
    const char ok[] = "<OwnershipControls xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                      "<Rule><ObjectOwnership> BucketOwnerPreferred </ObjectOwnership></Rule>"
                      "</OwnershipControls>";
    CHECK_EQ_INT(srv_ownership_parse_xml(ok, strlen(ok), &o), COF_OK);
    CHECK_EQ_INT(o, SRV_OWN_PREFERRED);
    static const char *const bad[] = {
        "",
        "<OwnershipControls/>",
        "<OwnershipControls><Rule/></OwnershipControls>",
        "<OwnershipControls><Rule><ObjectOwnership>X</ObjectOwnership></Rule></OwnershipControls>",
        "<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership>"
        "<ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>",
        "<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule><Rule>"
        "<ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>",
        "<Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(srv_ownership_parse_xml(bad[i], strlen(bad[i]), &o), COF_ERR_MALFORMED_XML);
}

static void test_pab(void)
{
    struct srv_pab p;
    char *doc = NULL;
    size_t len = 0;
    const char ok[] = "<PublicAccessBlockConfiguration><IgnorePublicAcls>true</IgnorePublicAcls>"
                      "<RestrictPublicBuckets>false</RestrictPublicBuckets>"
                      "</PublicAccessBlockConfiguration>";
    CHECK_EQ_INT(srv_pab_parse_xml(ok, strlen(ok), &p), COF_OK);
    CHECK(!p.block_acls && p.ignore_acls && !p.block_policy && !p.restrict_buckets);
    CHECK_EQ_INT(srv_pab_write_xml(&p, &doc, &len), COF_OK);
    CHECK(doc != NULL &&
          strstr(doc, "<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/"
                      "2006-03-01/\"><BlockPublicAcls>false</BlockPublicAcls><IgnorePublicAcls>"
                      "true</IgnorePublicAcls><BlockPublicPolicy>false</BlockPublicPolicy>"
                      "<RestrictPublicBuckets>false</RestrictPublicBuckets>") != NULL);
    struct srv_pab again;
    CHECK_EQ_INT(srv_pab_parse_xml(doc, len, &again), COF_OK);
    CHECK(memcmp(&again, &p, sizeof(p)) == 0);
    free(doc);
    static const char *const bad[] = {
        "",
        "<X/>",
        "<PublicAccessBlockConfiguration><BlockPublicAcls>TRUE</BlockPublicAcls>"
        "</PublicAccessBlockConfiguration>",
        "<PublicAccessBlockConfiguration><BlockPublicAcls/></PublicAccessBlockConfiguration>",
        "<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><BlockPublicAcls>"
        "true</BlockPublicAcls></PublicAccessBlockConfiguration>",
        "<PublicAccessBlockConfiguration>x</PublicAccessBlockConfiguration>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(srv_pab_parse_xml(bad[i], strlen(bad[i]), &p), COF_ERR_MALFORMED_XML);
}

int main(void)
{
    srv_xml_global_init();
    test_canned();
    test_grant_headers();
    test_parse_xml();
    test_write_and_store();
    test_granted();
    test_ownership();
    test_pab();
    return check_finish();
}
