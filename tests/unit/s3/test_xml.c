/* SPDX-License-Identifier: Apache-2.0 */
/* server/xml: the writer (escaping, sticky errors) and the three capped body parsers. */
#include "check.h"
#include "common/buf.h"
#include "common/err.h"
#include "s3/xml.h"

#include <stdlib.h>

#define DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define NS   " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

static void test_writer(void)
{
    struct srv_xml *x = NULL;
    char *doc = NULL;
    size_t len = 0;

    CHECK_EQ_INT(srv_xml_new("ListAllMyBucketsResult", &x), COF_OK);
    CHECK_EQ_INT(srv_xml_open(x, "Owner"), COF_OK);
    CHECK_EQ_INT(srv_xml_elem(x, "ID", "abc"), COF_OK);
    CHECK_EQ_INT(srv_xml_close(x), COF_OK);
    CHECK_EQ_INT(srv_xml_open(x, "Buckets"), COF_OK);
    CHECK_EQ_INT(srv_xml_open(x, "Bucket"), COF_OK);
    CHECK_EQ_INT(srv_xml_elem(x, "Name", "b1"), COF_OK);
    CHECK_EQ_INT(srv_xml_elem_u64(x, "Size", UINT64_MAX), COF_OK);
    CHECK_EQ_INT(srv_xml_elem(x, "Prefix", ""), COF_OK);
    CHECK_EQ_INT(srv_xml_elem(x, "Marker", NULL), COF_OK);
    CHECK_EQ_INT(srv_xml_finish(x, &doc, &len), COF_OK); /* closes Bucket, Buckets, root */
    CHECK_EQ_STR(doc, DECL "<ListAllMyBucketsResult" NS "><Owner><ID>abc</ID></Owner><Buckets>"
                           "<Bucket><Name>b1</Name><Size>18446744073709551615</Size>"
                           "<Prefix></Prefix><Marker></Marker></Bucket></Buckets>"
                           "</ListAllMyBucketsResult>");
    CHECK_EQ_INT(len, strlen(doc));
    free(doc);
    /* finished writers refuse further use */
    CHECK_EQ_INT(srv_xml_finish(x, &doc, &len), COF_ERR_INTERNAL);
    CHECK(doc == NULL && len == 0);
    srv_xml_free(x);

    /* plain root, explicit close of the root, then finish */
    CHECK_EQ_INT(srv_xml_new_plain("Error", &x), COF_OK);
    CHECK_EQ_INT(srv_xml_elem(x, "Code", "NoSuchKey"), COF_OK);
    CHECK_EQ_INT(srv_xml_close(x), COF_OK);
    CHECK_EQ_INT(srv_xml_finish(x, &doc, &len), COF_OK);
    CHECK_EQ_STR(doc, DECL "<Error><Code>NoSuchKey</Code></Error>");
    free(doc);
    srv_xml_free(x);
    srv_xml_free(NULL);
}

struct esc_case {
    const char *in;
    const char *want;
};

static const struct esc_case escapes[] = {
    {"plain", "plain"},
    {"a&b<c>d", "a&amp;b&lt;c&gt;d"},
    {"\"etag\"", "&quot;etag&quot;"},
    {"it's", "it's"},
    {"tab\there\nnl", "tab\there\nnl"},
    {"cr\r", "cr&#xd;"},
    {"\x01", "&#x1;"},
    {"a\x1b"
     "b",
     "a&#x1b;b"},
    {"\x1f\x7f", "&#x1f;\x7f"},
    {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
    {"\xef\xbf\xbe\xef\xbf\xbf", "&#xfffe;&#xffff;"},
    {"\xc2\x85", "\xc2\x85"}, /* C1 controls are legal XML 1.0 characters */
    {"bad\xff"
     "byte",
     "bad\xef\xbf\xbd"
     "byte"},
    {"\xc3", "\xef\xbf\xbd"},
    {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
    {"]]>", "]]&gt;"},
};

static void test_escaping(void)
{
    for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
        struct srv_xml *x = NULL;
        char *doc = NULL;
        size_t len = 0;
        char want[256];
        CHECK_EQ_INT(srv_xml_new_plain("K", &x), COF_OK);
        CHECK_EQ_INT(srv_xml_elem(x, "Key", escapes[i].in), COF_OK);
        CHECK_EQ_INT(srv_xml_finish(x, &doc, &len), COF_OK);
        snprintf(want, sizeof(want), DECL "<K><Key>%s</Key></K>", escapes[i].want);
        CHECK_EQ_STR(doc, want);
        free(doc);
        srv_xml_free(x);
    }
}

struct cb_case {
    const char *body;
    cof_err err;
    const char *loc; /* NULL: expect NULL */
};

static const struct cb_case cbs[] = {
    {"", COF_OK, NULL},
    {"  \r\n\t ", COF_OK, NULL},
    {"<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
     "<LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>",
     COF_OK, "eu-west-1"},
    {DECL "<CreateBucketConfiguration>\n  <LocationConstraint> us-west-2 </LocationConstraint>\n"
          "</CreateBucketConfiguration>\n",
     COF_OK, "us-west-2"},
    {"<s3:CreateBucketConfiguration xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
     "<s3:LocationConstraint>ap-south-1</s3:LocationConstraint></s3:CreateBucketConfiguration>",
     COF_OK, "ap-south-1"},
    {"<CreateBucketConfiguration/>", COF_OK, NULL},
    {"<CreateBucketConfiguration><LocationConstraint/></CreateBucketConfiguration>", COF_OK, NULL},
    {"<CreateBucketConfiguration><LocationConstraint></LocationConstraint>"
     "</CreateBucketConfiguration>",
     COF_OK, NULL},
    {"<CreateBucketConfiguration><!-- c --><LocationConstraint>EU</LocationConstraint>"
     "<Bucket><Type>Directory</Type></Bucket></CreateBucketConfiguration>",
     COF_OK, "EU"},
    {"<CreateBucketConfiguration><LocationConstraint><![CDATA[eu-central-1]]>"
     "</LocationConstraint></CreateBucketConfiguration>",
     COF_OK, "eu-central-1"},
    /* malformed */
    {"<CreateBucketConfiguration>", COF_ERR_MALFORMED_XML, NULL},
    {"<CreateBucketConfiguration></CreateBucketConfig>", COF_ERR_MALFORMED_XML, NULL},
    {"<Foo><LocationConstraint>eu-west-1</LocationConstraint></Foo>", COF_ERR_MALFORMED_XML, NULL},
    {"not xml", COF_ERR_MALFORMED_XML, NULL},
    {"<CreateBucketConfiguration>text</CreateBucketConfiguration>", COF_ERR_MALFORMED_XML, NULL},
    {"<CreateBucketConfiguration><LocationConstraint>a</LocationConstraint>"
     "<LocationConstraint>b</LocationConstraint></CreateBucketConfiguration>",
     COF_ERR_MALFORMED_XML, NULL},
    {"<CreateBucketConfiguration><LocationConstraint><x/></LocationConstraint>"
     "</CreateBucketConfiguration>",
     COF_ERR_MALFORMED_XML, NULL},
    {"<CreateBucketConfiguration/><Extra/>", COF_ERR_MALFORMED_XML, NULL},
    {"<CreateBucketConfiguration>&foo;</CreateBucketConfiguration>", COF_ERR_MALFORMED_XML, NULL},
    {"<!DOCTYPE CreateBucketConfiguration><CreateBucketConfiguration/>", COF_ERR_MALFORMED_XML,
     NULL},
    {"<!DOCTYPE x [<!ENTITY e \"eu-west-1\">]><CreateBucketConfiguration><LocationConstraint>&e;"
     "</LocationConstraint></CreateBucketConfiguration>",
     COF_ERR_MALFORMED_XML, NULL},
    {"<!DOCTYPE x SYSTEM \"http://127.0.0.1:1/evil.dtd\"><CreateBucketConfiguration/>",
     COF_ERR_MALFORMED_XML, NULL},
    {"<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><CreateBucketConfiguration>"
     "<LocationConstraint>&xxe;</LocationConstraint></CreateBucketConfiguration>",
     COF_ERR_MALFORMED_XML, NULL},
};

static void test_create_bucket(void)
{
    for (size_t i = 0; i < sizeof(cbs) / sizeof(cbs[0]); i++) {
        char *loc = (char *)1;
        cof_err err = srv_xml_parse_create_bucket(cbs[i].body, strlen(cbs[i].body), &loc);
        if (err != cbs[i].err)
            fprintf(stderr, "create-bucket case %zu: %s\n", i, cof_err_name(err));
        CHECK_EQ_INT(err, cbs[i].err);
        if (cbs[i].loc != NULL)
            CHECK_EQ_STR(loc, cbs[i].loc);
        else
            CHECK(loc == NULL);
        free(loc);
    }
    char *loc = NULL;
    CHECK_EQ_INT(srv_xml_parse_create_bucket(NULL, 0, &loc), COF_OK);
    CHECK(loc == NULL);
    /* only the first n bytes count */
    const char *b = "<CreateBucketConfiguration/>garbage";
    CHECK_EQ_INT(srv_xml_parse_create_bucket(b, 28, &loc), COF_OK);
    CHECK_EQ_INT(srv_xml_parse_create_bucket(b, 27, &loc), COF_ERR_MALFORMED_XML);
    /* cap */
    size_t big = SRV_MAX_SMALL_XML_BODY + 1;
    char *body = malloc(big);
    memset(body, ' ', big);
    CHECK_EQ_INT(srv_xml_parse_create_bucket(body, big, &loc), COF_ERR_TOO_LARGE);
    CHECK_EQ_INT(srv_xml_parse_create_bucket(body, big - 1, &loc), COF_OK);
    free(body);
}

static char *delete_body(size_t nobj, const char *extra)
{
    struct cof_buf b;
    char *s = NULL;
    cof_buf_init(&b, SRV_MAX_XML_BODY);
    if (cof_buf_puts(&b, "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">") != COF_OK)
        return NULL;
    for (size_t i = 0; i < nobj; i++) {
        if (cof_buf_printf(&b, "<Object><Key>k%zu</Key></Object>", i) != COF_OK)
            return NULL;
    }
    if (cof_buf_puts(&b, extra) != COF_OK || cof_buf_puts(&b, "</Delete>") != COF_OK ||
        cof_buf_steal(&b, &s) != COF_OK)
        return NULL;
    return s;
}

struct del_case {
    const char *body;
    cof_err err;
    bool quiet;
    size_t n;
    const char *key0, *vid0, *key1;
};

static const struct del_case dels[] = {
    {"<Delete><Object><Key>a</Key></Object></Delete>", COF_OK, false, 1, "a", NULL, NULL},
    {DECL "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n  <Quiet>true</Quiet>\n"
          "  <Object>\n    <Key>a b</Key>\n    <VersionId>v1</VersionId>\n  </Object>\n"
          "  <Object><Key>c/d</Key></Object>\n</Delete>",
     COF_OK, true, 2, "a b", "v1", "c/d"},
    {"<Delete><Quiet>FALSE</Quiet><Object><Key>x</Key></Object></Delete>", COF_OK, false, 1, "x",
     NULL, NULL},
    {"<Delete><Quiet> True </Quiet><Object><Key>x</Key></Object></Delete>", COF_OK, true, 1, "x",
     NULL, NULL},
    {"<Delete><Object><Key> </Key></Object><Object><Key>\n x \n</Key></Object></Delete>", COF_OK,
     false, 2, " ", NULL, "\n x \n"},
    {"<Delete><Object><Key> <![CDATA[x]]></Key></Object></Delete>", COF_OK, false, 1, " x", NULL,
     NULL},
    {"<Delete><Object><Key>a&amp;b&lt;&gt;&quot;&apos;&#xe9;&#x1F600;</Key></Object></Delete>",
     COF_OK, false, 1, "a&b<>\"'\xc3\xa9\xf0\x9f\x98\x80", NULL, NULL},
    {"<Delete><Object><Key>&#xD;&#x9;</Key></Object></Delete>", COF_OK, false, 1, "\r\t", NULL,
     NULL},
    {"<Delete><Object><Key><![CDATA[<not>&markup;]]></Key></Object></Delete>", COF_OK, false, 1,
     "<not>&markup;", NULL, NULL},
    {"<Delete><Object><Key>a<!-- c -->b</Key></Object></Delete>", COF_OK, false, 1, "ab", NULL,
     NULL},
    {"<Delete><Object><Key></Key></Object></Delete>", COF_OK, false, 1, "", NULL, NULL},
    {"<Delete><Object><Key>k</Key><VersionId></VersionId></Object></Delete>", COF_OK, false, 1, "k",
     NULL, NULL},
    {"<Delete><Object><Key>k</Key><VersionId>null</VersionId><ETag>\"e\"</ETag><Size>3</Size>"
     "</Object></Delete>",
     COF_OK, false, 1, "k", "null", NULL},
    {"<d:Delete xmlns:d=\"urn:x\"><d:Object><d:Key>ns</d:Key></d:Object></d:Delete>", COF_OK, false,
     1, "ns", NULL, NULL},
    {"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Delete><Object><Key>\xe9</Key></Object>"
     "</Delete>",
     COF_OK, false, 1, "\xc3\xa9", NULL, NULL},
    /* malformed */
    {"", COF_ERR_MALFORMED_XML, false, 0, NULL, NULL, NULL},
    {"<?xml version=\"1.0\" encoding=\"EUC-JP\"?><Delete><Object><Key>\xdf\x8f\xcd\x20</Key>"
     "</Object></Delete>",
     COF_ERR_MALFORMED_XML, false, 0, NULL, NULL, NULL},
    {"   ", COF_ERR_MALFORMED_XML, false, 0, NULL, NULL, NULL},
    {"<Delete></Delete>", COF_ERR_MALFORMED_XML, false, 0, NULL, NULL, NULL},
    {"<Delete><Quiet>true</Quiet></Delete>", COF_ERR_MALFORMED_XML, false, 0, NULL, NULL, NULL},
    {"<Delete><Object></Object></Delete>", COF_ERR_MALFORMED_XML, false, 0, NULL, NULL, NULL},
    {"<Delete><Object><VersionId>v</VersionId></Object></Delete>", COF_ERR_MALFORMED_XML, false, 0,
     NULL, NULL, NULL},
    {"<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>", COF_ERR_MALFORMED_XML, false, 0,
     NULL, NULL, NULL},
    {"<Delete><Object><Key>a</Key><VersionId>1</VersionId><VersionId>2</VersionId></Object>"
     "</Delete>",
     COF_ERR_MALFORMED_XML, false, 0, NULL, NULL, NULL},
    {"<Delete><Object><Key>a</Key></Object><Object></Object></Delete>", COF_ERR_MALFORMED_XML,
     false, 0, NULL, NULL, NULL},
    {"<Delete><Quiet>yes</Quiet><Object><Key>a</Key></Object></Delete>", COF_ERR_MALFORMED_XML,
     false, 0, NULL, NULL, NULL},
    {"<Delete><Quiet>true</Quiet><Quiet>true</Quiet><Object><Key>a</Key></Object></Delete>",
     COF_ERR_MALFORMED_XML, false, 0, NULL, NULL, NULL},
    {"<Delete><Object><Key>a<b/></Key></Object></Delete>", COF_ERR_MALFORMED_XML, false, 0, NULL,
     NULL, NULL},
    {"<Delete>junk<Object><Key>a</Key></Object></Delete>", COF_ERR_MALFORMED_XML, false, 0, NULL,
     NULL, NULL},
    {"<Delete><Object>junk<Key>a</Key></Object></Delete>", COF_ERR_MALFORMED_XML, false, 0, NULL,
     NULL, NULL},
    {"<Delete><Object><Key>&#x1;</Key></Object></Delete>", COF_ERR_MALFORMED_XML, false, 0, NULL,
     NULL, NULL},
    {"<Delete><Object><Key>a</Key></Object>", COF_ERR_MALFORMED_XML, false, 0, NULL, NULL, NULL},
    {"<Remove><Object><Key>a</Key></Object></Remove>", COF_ERR_MALFORMED_XML, false, 0, NULL, NULL,
     NULL},
    {"<Delete><Object><Key>a</Key></Object></Delete><Delete/>", COF_ERR_MALFORMED_XML, false, 0,
     NULL, NULL, NULL},
    {"<Delete><Object><Key>\xff</Key></Object></Delete>", COF_ERR_MALFORMED_XML, false, 0, NULL,
     NULL, NULL},
    {"<!DOCTYPE Delete [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
     "<Delete><Object><Key>&b;</Key></Object></Delete>",
     COF_ERR_MALFORMED_XML, false, 0, NULL, NULL, NULL},
};

static void test_delete(void)
{
    for (size_t i = 0; i < sizeof(dels) / sizeof(dels[0]); i++) {
        const struct del_case *c = &dels[i];
        struct srv_delete_req r;
        cof_err err = srv_xml_parse_delete(c->body, strlen(c->body), &r);
        if (err != c->err)
            fprintf(stderr, "delete case %zu: %s\n", i, cof_err_name(err));
        CHECK_EQ_INT(err, c->err);
        CHECK_EQ_INT(r.n, c->n);
        if (err != COF_OK) {
            CHECK(r.objs == NULL);
            continue;
        }
        CHECK_EQ_INT(r.quiet, c->quiet);
        if (r.n >= 1) {
            CHECK_EQ_STR(r.objs[0].key, c->key0);
            if (c->vid0 != NULL)
                CHECK_EQ_STR(r.objs[0].version_id, c->vid0);
            else
                CHECK(r.objs[0].version_id == NULL);
        }
        if (r.n >= 2)
            CHECK_EQ_STR(r.objs[1].key, c->key1);
        srv_delete_req_cleanup(&r);
        CHECK(r.objs == NULL && r.n == 0);
    }

    /* counts: 1000 fine, 1001 not */
    struct srv_delete_req r;
    char *body = delete_body(1000, "<Quiet>true</Quiet>");
    CHECK(body != NULL);
    CHECK_EQ_INT(srv_xml_parse_delete(body, strlen(body), &r), COF_OK);
    CHECK_EQ_INT(r.n, 1000);
    CHECK(r.quiet);
    CHECK_EQ_STR(r.objs[999].key, "k999");
    srv_delete_req_cleanup(&r);
    free(body);
    body = delete_body(1001, "");
    CHECK(body != NULL);
    CHECK_EQ_INT(srv_xml_parse_delete(body, strlen(body), &r), COF_ERR_MALFORMED_XML);
    CHECK(r.objs == NULL && r.n == 0);
    free(body);

    /* a 1024-byte key of multi-byte characters survives intact */
    struct cof_buf b;
    cof_buf_init(&b, 8192);
    CHECK_EQ_INT(cof_buf_puts(&b, "<Delete><Object><Key>"), COF_OK);
    cof_err berr = COF_OK;
    for (int i = 0; i < 512 && berr == COF_OK; i++)
        berr = cof_buf_puts(&b, "\xc3\xa9");
    CHECK_EQ_INT(berr, COF_OK);
    CHECK_EQ_INT(cof_buf_puts(&b, "</Key></Object></Delete>"), COF_OK);
    CHECK_EQ_INT(srv_xml_parse_delete(b.data, b.len, &r), COF_OK);
    CHECK_EQ_INT(strlen(r.objs[0].key), 1024);
    srv_delete_req_cleanup(&r);
    cof_buf_cleanup(&b);

    /* cap */
    char *huge = malloc(SRV_MAX_XML_BODY + 1);
    memset(huge, ' ', SRV_MAX_XML_BODY + 1);
    CHECK_EQ_INT(srv_xml_parse_delete(huge, SRV_MAX_XML_BODY + 1, &r), COF_ERR_TOO_LARGE);
    free(huge);

    /* deep nesting: libxml2's depth limit turns it into a parse error */
    cof_buf_init(&b, SRV_MAX_XML_BODY);
    CHECK_EQ_INT(cof_buf_puts(&b, "<Delete><Object><Key>k</Key></Object>"), COF_OK);
    for (int i = 0; i < 5000 && berr == COF_OK; i++)
        berr = cof_buf_puts(&b, "<a>");
    for (int i = 0; i < 5000 && berr == COF_OK; i++)
        berr = cof_buf_puts(&b, "</a>");
    CHECK_EQ_INT(berr, COF_OK);
    CHECK_EQ_INT(cof_buf_puts(&b, "</Delete>"), COF_OK);
    CHECK_EQ_INT(srv_xml_parse_delete(b.data, b.len, &r), COF_ERR_MALFORMED_XML);
    cof_buf_cleanup(&b);

    srv_delete_req_cleanup(NULL);
}

struct sse_case {
    const char *body;
    cof_err err;
    const char *alg;
    const char *kms;
    bool bk, bk_set;
};

#define SSE_OPEN                                                                                   \
    "<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
#define SSE_CLOSE "</ServerSideEncryptionConfiguration>"
#define RULE(x)   "<Rule>" x "</Rule>"
#define DFLT(x)   "<ApplyServerSideEncryptionByDefault>" x "</ApplyServerSideEncryptionByDefault>"
#define ALG(x)    "<SSEAlgorithm>" x "</SSEAlgorithm>"
#define KMS(x)    "<KMSMasterKeyID>" x "</KMSMasterKeyID>"
#define BK(x)     "<BucketKeyEnabled>" x "</BucketKeyEnabled>"

static const struct sse_case sses[] = {
    {SSE_OPEN RULE(DFLT(ALG("AES256"))) SSE_CLOSE, COF_OK, "AES256", NULL, false, false},
    {SSE_OPEN RULE(DFLT(ALG("AES256")) BK("false")) SSE_CLOSE, COF_OK, "AES256", NULL, false, true},
    {SSE_OPEN RULE(DFLT(ALG("aws:kms") KMS("arn:aws:kms:us-east-1:000000000000:key/abc"))
                       BK("true")) SSE_CLOSE,
     COF_OK, "aws:kms", "arn:aws:kms:us-east-1:000000000000:key/abc", true, true},
    {SSE_OPEN RULE(DFLT(ALG("aws:kms"))) SSE_CLOSE, COF_OK, "aws:kms", NULL, false, false},
    {SSE_OPEN RULE(DFLT(ALG("aws:kms") KMS(""))) SSE_CLOSE, COF_OK, "aws:kms", NULL, false, false},
    {SSE_OPEN RULE(DFLT(ALG("aws:kms:dsse") KMS("k1"))) SSE_CLOSE, COF_OK, "aws:kms:dsse", "k1",
     false, false},
    {SSE_OPEN RULE(DFLT(ALG(" AES256 ")) BK(" TRUE ")) SSE_CLOSE, COF_OK, "AES256", NULL, true,
     true},
    {SSE_OPEN RULE(BK("true") DFLT(KMS("k") ALG("aws:kms"))) SSE_CLOSE, COF_OK, "aws:kms", "k",
     true, true},
    {SSE_OPEN RULE(DFLT(ALG("AES256")) "<BlockedEncryptionTypes><EncryptionType>SSE-C"
                                       "</EncryptionType></BlockedEncryptionTypes>") SSE_CLOSE,
     COF_OK, "AES256", NULL, false, false},
    {"<ServerSideEncryptionConfiguration>" RULE(DFLT(ALG("AES256"))) SSE_CLOSE, COF_OK, "AES256",
     NULL, false, false},
    /* AES256 with a KMS key */
    {SSE_OPEN RULE(DFLT(ALG("AES256") KMS("k1"))) SSE_CLOSE, COF_ERR_INVALID_ARGUMENT, NULL, NULL,
     false, false},
    /* malformed */
    {SSE_OPEN SSE_CLOSE, COF_ERR_MALFORMED_XML, NULL, NULL, false, false},
    {SSE_OPEN RULE(DFLT(ALG("AES256"))) RULE(DFLT(ALG("AES256"))) SSE_CLOSE, COF_ERR_MALFORMED_XML,
     NULL, NULL, false, false},
    {SSE_OPEN RULE("") SSE_CLOSE, COF_ERR_MALFORMED_XML, NULL, NULL, false, false},
    {SSE_OPEN RULE(BK("true")) SSE_CLOSE, COF_ERR_MALFORMED_XML, NULL, NULL, false, false},
    {SSE_OPEN RULE(DFLT("")) SSE_CLOSE, COF_ERR_MALFORMED_XML, NULL, NULL, false, false},
    {SSE_OPEN RULE(DFLT(KMS("k"))) SSE_CLOSE, COF_ERR_MALFORMED_XML, NULL, NULL, false, false},
    {SSE_OPEN RULE(DFLT(ALG(""))) SSE_CLOSE, COF_ERR_MALFORMED_XML, NULL, NULL, false, false},
    {SSE_OPEN RULE(DFLT(ALG("aes256"))) SSE_CLOSE, COF_ERR_MALFORMED_XML, NULL, NULL, false, false},
    {SSE_OPEN RULE(DFLT(ALG("AES128"))) SSE_CLOSE, COF_ERR_MALFORMED_XML, NULL, NULL, false, false},
    {SSE_OPEN RULE(DFLT(ALG("aws:kms") ALG("aws:kms"))) SSE_CLOSE, COF_ERR_MALFORMED_XML, NULL,
     NULL, false, false},
    {SSE_OPEN RULE(DFLT(ALG("aws:kms") KMS("a") KMS("b"))) SSE_CLOSE, COF_ERR_MALFORMED_XML, NULL,
     NULL, false, false},
    {SSE_OPEN RULE(DFLT(ALG("AES256")) DFLT(ALG("AES256"))) SSE_CLOSE, COF_ERR_MALFORMED_XML, NULL,
     NULL, false, false},
    {SSE_OPEN RULE(DFLT(ALG("AES256")) BK("1")) SSE_CLOSE, COF_ERR_MALFORMED_XML, NULL, NULL, false,
     false},
    {SSE_OPEN RULE(DFLT(ALG("AES256")) BK("true") BK("true")) SSE_CLOSE, COF_ERR_MALFORMED_XML,
     NULL, NULL, false, false},
    {SSE_OPEN RULE(DFLT(ALG("AES256") "x")) SSE_CLOSE, COF_ERR_MALFORMED_XML, NULL, NULL, false,
     false},
    {SSE_OPEN RULE(DFLT(ALG("AES<x/>256"))) SSE_CLOSE, COF_ERR_MALFORMED_XML, NULL, NULL, false,
     false},
    {"<EncryptionConfiguration>" RULE(DFLT(ALG("AES256"))) "</EncryptionConfiguration>",
     COF_ERR_MALFORMED_XML, NULL, NULL, false, false},
    {SSE_OPEN RULE(DFLT(ALG("AES256"))), COF_ERR_MALFORMED_XML, NULL, NULL, false, false},
    {"", COF_ERR_MALFORMED_XML, NULL, NULL, false, false},
    {"<!DOCTYPE a [<!ENTITY alg \"AES256\">]>" SSE_OPEN RULE(DFLT(ALG("&alg;"))) SSE_CLOSE,
     COF_ERR_MALFORMED_XML, NULL, NULL, false, false},
};

static void test_sse(void)
{
    for (size_t i = 0; i < sizeof(sses) / sizeof(sses[0]); i++) {
        const struct sse_case *c = &sses[i];
        struct srv_sse_config s;
        cof_err err = srv_xml_parse_sse_config(c->body, strlen(c->body), &s);
        if (err != c->err)
            fprintf(stderr, "sse case %zu: %s\n", i, cof_err_name(err));
        CHECK_EQ_INT(err, c->err);
        if (err != COF_OK) {
            CHECK(s.algorithm == NULL && s.kms_key_id == NULL);
            continue;
        }
        CHECK_EQ_STR(s.algorithm, c->alg);
        if (c->kms != NULL)
            CHECK_EQ_STR(s.kms_key_id, c->kms);
        else
            CHECK(s.kms_key_id == NULL);
        CHECK_EQ_INT(s.bucket_key_enabled, c->bk);
        CHECK_EQ_INT(s.bucket_key_set, c->bk_set);

        /* write -> parse gives the same configuration */
        char *doc = NULL;
        size_t len = 0;
        struct srv_sse_config s2;
        CHECK_EQ_INT(srv_xml_write_sse_config(&s, &doc, &len), COF_OK);
        CHECK_EQ_INT(srv_xml_parse_sse_config(doc, len, &s2), COF_OK);
        CHECK_EQ_STR(s2.algorithm, s.algorithm);
        CHECK((s2.kms_key_id == NULL) == (s.kms_key_id == NULL));
        if (s.kms_key_id != NULL)
            CHECK_EQ_STR(s2.kms_key_id, s.kms_key_id);
        CHECK_EQ_INT(s2.bucket_key_enabled, s.bucket_key_enabled);
        CHECK_EQ_INT(s2.bucket_key_set, s.bucket_key_set);
        srv_sse_config_cleanup(&s2);
        free(doc);
        srv_sse_config_cleanup(&s);
        CHECK(s.algorithm == NULL);
    }
    srv_sse_config_cleanup(NULL);

    /* the AWS default document, byte for byte */
    struct srv_sse_config dflt = {(char *)"AES256", NULL, false, true, false, false, false};
    char *doc = NULL;
    size_t len = 0;
    CHECK_EQ_INT(srv_xml_write_sse_config(&dflt, &doc, &len), COF_OK);
    CHECK_EQ_STR(doc, DECL "<ServerSideEncryptionConfiguration" NS "><Rule>"
                           "<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256"
                           "</SSEAlgorithm></ApplyServerSideEncryptionByDefault>"
                           "<BucketKeyEnabled>false</BucketKeyEnabled></Rule>"
                           "</ServerSideEncryptionConfiguration>");
    free(doc);
    /* BlockedEncryptionTypes round trip (AWS, April 2026) */
    {
        static const char blocked[] =
            "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
            "<SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault>"
            "<BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType>"
            "</BlockedEncryptionTypes></Rule></ServerSideEncryptionConfiguration>";
        struct srv_sse_config b;
        CHECK_EQ_INT(srv_xml_parse_sse_config(blocked, strlen(blocked), &b), COF_OK);
        CHECK(b.blocked_set && b.block_ssec && !b.block_none);
        char *out = NULL;
        size_t n = 0;
        CHECK_EQ_INT(srv_xml_write_sse_config(&b, &out, &n), COF_OK);
        CHECK(out != NULL && strstr(out, "<BlockedEncryptionTypes><EncryptionType>SSE-C"
                                         "</EncryptionType></BlockedEncryptionTypes>") != NULL);
        free(out);
        srv_sse_config_cleanup(&b);
        static const char bad[] =
            "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
            "<SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault>"
            "<BlockedEncryptionTypes><EncryptionType>SSE-KMS</EncryptionType>"
            "</BlockedEncryptionTypes></Rule></ServerSideEncryptionConfiguration>";
        CHECK_EQ_INT(srv_xml_parse_sse_config(bad, strlen(bad), &b), COF_ERR_MALFORMED_XML);
    }
    /* a stored rule without BucketKeyEnabled is echoed without it */
    dflt.bucket_key_set = false;
    CHECK_EQ_INT(srv_xml_write_sse_config(&dflt, &doc, &len), COF_OK);
    CHECK_EQ_STR(doc, DECL "<ServerSideEncryptionConfiguration" NS "><Rule>"
                           "<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256"
                           "</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>"
                           "</ServerSideEncryptionConfiguration>");
    free(doc);
    struct srv_sse_config kms = {
        (char *)"aws:kms", (char *)"arn:aws:kms:k&<", true, true, false, false, false};
    CHECK_EQ_INT(srv_xml_write_sse_config(&kms, &doc, &len), COF_OK);
    CHECK(strstr(doc, "<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>arn:aws:kms:k&amp;"
                      "&lt;</KMSMasterKeyID></ApplyServerSideEncryptionByDefault>"
                      "<BucketKeyEnabled>true</BucketKeyEnabled>") != NULL);
    free(doc);

    struct srv_sse_config s;
    size_t big = SRV_MAX_SMALL_XML_BODY + 1;
    char *body = malloc(big);
    memset(body, ' ', big);
    CHECK_EQ_INT(srv_xml_parse_sse_config(body, big, &s), COF_ERR_TOO_LARGE);
    free(body);
}

/* CompleteMultipartUpload: parts with their optional Checksum<ALG>. */
static void test_complete(void)
{
    struct srv_complete_req r;
    const char *ok = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
                     "<ETag>\"abc\"</ETag><ChecksumCRC32>y/Q5Jg==</ChecksumCRC32></Part>"
                     "<Part><ETag>def</ETag><PartNumber>2</PartNumber>"
                     "<ChecksumSHA256> xyz= </ChecksumSHA256><Other>1</Other></Part>"
                     "<Part><PartNumber>3</PartNumber><ETag>g</ETag></Part>"
                     "</CompleteMultipartUpload>";
    CHECK_EQ_INT(srv_xml_parse_complete(ok, strlen(ok), &r), COF_OK);
    CHECK_EQ_INT(r.n, 3);
    if (r.n == 3) {
        CHECK_EQ_STR(r.parts[0].etag, "abc");
        CHECK_EQ_STR(r.parts[0].checksum, "CRC32 y/Q5Jg==");
        CHECK_EQ_STR(r.parts[1].checksum, "SHA256 xyz=");
        CHECK(r.parts[2].checksum == NULL);
    }
    srv_complete_req_cleanup(&r);
    const char *twice = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag>"
                        "<ChecksumCRC32>a</ChecksumCRC32><ChecksumCRC32>b</ChecksumCRC32>"
                        "</Part></CompleteMultipartUpload>";
    CHECK_EQ_INT(srv_xml_parse_complete(twice, strlen(twice), &r), COF_OK);
    CHECK_EQ_STR(r.n == 1 ? r.parts[0].checksum : "", "CRC32 b");
    srv_complete_req_cleanup(&r);
    const char *nested = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag>"
                         "<ChecksumCRC32><x/></ChecksumCRC32></Part></CompleteMultipartUpload>";
    CHECK_EQ_INT(srv_xml_parse_complete(nested, strlen(nested), &r), COF_ERR_MALFORMED_XML);
    CHECK(r.parts == NULL);
}

int main(void)
{
    srv_xml_global_init();
    test_complete();
    test_writer();
    test_escaping();
    test_create_bucket();
    test_delete();
    test_sse();
    return check_finish();
}
