/* SPDX-License-Identifier: Apache-2.0 */
/* server/tagging: x-amz-tagging and Tagging XML parsing, AWS's rules with their messages, the
 * canonical stored text and the tagging line of a header block. */
#include "check.h"
#include "common/err.h"
#include "s3/tagging.h"
#include "s3/xml.h"

#include <stdlib.h>

#define DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define NS   " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

static char *repeat(const char *unit, size_t n)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * ul, unit, ul);
    s[ul * n] = '\0';
    return s;
}

/* Encodes t and compares with want. */
static void check_canon(struct srv_tagset *t, const char *want)
{
    char *c = NULL;
    CHECK_EQ_INT(srv_tagset_encode(t, &c), COF_OK);
    CHECK_EQ_STR(c, want);
    free(c);
}

/* AWS's TagKey element, "" when the problem has none (and then no element at all). */
static const char *tag_key(const struct srv_problem *p)
{
    if (p->name1 != NULL && strcmp(p->name1, "TagKey") == 0) {
        CHECK(p->name2 == NULL);
        return p->value1;
    }
    CHECK(p->name1 == NULL || strcmp(p->name1, "ArgumentName") == 0);
    return "";
}

struct hdr_case {
    const char *hdr;
    cof_err err;
    const char *canon; /* when accepted */
    const char *msg;   /* when refused (NULL: not checked) */
    const char *tag_key;
};

#define BAD_HDR                                                                                    \
    "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters "   \
    "without tag name duplicates."

static const struct hdr_case hdr_cases[] = {
    {NULL, COF_OK, "", NULL, NULL},
    {"", COF_OK, "", NULL, NULL},
    {"a=1&b=2", COF_OK, "a=1&b=2", NULL, NULL},
    {"b=2&a=1", COF_OK, "a=1&b=2", NULL, NULL}, /* stored sorted by key */
    {"foo=bar&bar", COF_OK, "bar=&foo=bar", NULL, NULL},
    {"a&&b=", COF_OK, "a=&b=", NULL, NULL},
    {"a%20b=c%2Bd&e+f=g=h", COF_OK, "a%20b=c%2Bd&e%20f=g%3Dh", NULL, NULL},
    {"%C3%BC=%E6%96%87", COF_OK, "%C3%BC=%E6%96%87", NULL, NULL},
    {"k=a/b:c@d_e.f-g", COF_OK, "k=a%2Fb%3Ac%40d_e.f-g", NULL, NULL},
    /* InvalidArgument: not a well-formed UTF-8 query without duplicates */
    {"a=1&a=2", COF_ERR_INVALID_ARGUMENT, NULL, BAD_HDR, ""},
    {"=1", COF_ERR_INVALID_ARGUMENT, NULL, BAD_HDR, ""},
    {"a=%FF", COF_ERR_INVALID_ARGUMENT, NULL, BAD_HDR, ""},
    {"a=%zz", COF_ERR_INVALID_ARGUMENT, NULL, BAD_HDR, ""},
    {"a=%00", COF_ERR_INVALID_ARGUMENT, NULL, BAD_HDR, ""},
    {"%C3=1", COF_ERR_INVALID_ARGUMENT, NULL, BAD_HDR, ""},
    /* the object rules */
    {"k0&k1&k2&k3&k4&k5&k6&k7&k8&k9&k10", COF_ERR_BAD_REQUEST, NULL,
     "Object tags cannot be greater than 10", ""},
    {"a,b=1", COF_ERR_INVALID_TAG, NULL, "The TagKey you have provided is invalid", "a,b"},
    {"k=a%3Bb", COF_ERR_INVALID_TAG, NULL, "The TagValue you have provided is invalid", "k"},
    {"aws:cost=1", COF_ERR_INVALID_TAG, NULL,
     "Your TagKey cannot be prefixed with aws:", "aws:cost"},
};

static void test_header(void)
{
    for (size_t i = 0; i < sizeof(hdr_cases) / sizeof(hdr_cases[0]); i++) {
        const struct hdr_case *c = &hdr_cases[i];
        struct srv_tagset t;
        struct srv_problem e;
        cof_err err = srv_tagging_parse_header(c->hdr, &t, &e);
        CHECK_EQ_INT(err, c->err);
        CHECK_EQ_INT(e.code, c->err);
        if (err != c->err)
            fprintf(stderr, "  header case %zu: %s\n", i, c->hdr ? c->hdr : "(null)");
        if (err == COF_OK) {
            check_canon(&t, c->canon);
        } else {
            CHECK(t.v == NULL && t.n == 0);
            if (c->msg != NULL)
                CHECK_EQ_STR(e.message, c->msg);
            if (c->tag_key != NULL)
                CHECK_EQ_STR(tag_key(&e), c->tag_key);
            /* InvalidArgument names the header and quotes it (borrowed from the input) */
            if (err == COF_ERR_INVALID_ARGUMENT) {
                CHECK_EQ_STR(e.name1, "ArgumentName");
                CHECK_EQ_STR(e.value1, "x-amz-tagging");
                CHECK_EQ_STR(e.name2, "ArgumentValue");
                CHECK(e.value2 == c->hdr);
            } else {
                CHECK(e.name1 == NULL || strcmp(e.name1, "TagKey") == 0);
            }
        }
        srv_tagset_cleanup(&t);
    }
    /* exactly ten tags is fine */
    struct srv_tagset t;
    struct srv_problem e;
    CHECK_EQ_INT(srv_tagging_parse_header("k0&k1&k2&k3&k4&k5&k6&k7&k8&k9", &t, &e), COF_OK);
    CHECK_EQ_INT(t.n, 10);
    srv_tagset_cleanup(&t);
    /* more pieces than a query may hold: still "more than 10 tags" */
    char *many = repeat("k&", 150);
    CHECK_EQ_INT(srv_tagging_parse_header(many, &t, &e), COF_ERR_BAD_REQUEST);
    free(many);
}

/* One-tag validation cases (object scope unless noted). */
struct rule_case {
    const char *key;
    const char *value;
    cof_err err;
    const char *msg;
    const char *tag_key;
};

static void test_rules(void)
{
    char *k128 = repeat("k", 128), *k129 = repeat("k", 129);
    char *v256 = repeat("v", 256), *v257 = repeat("v", 257);
    /* UTF-16 counting: U+1F600 is outside the tag set, so length is checked with a 2-unit
     * letter instead: U+20000 (CJK Extension B) counts two. */
    char *astral64 = repeat("\xf0\xa0\x80\x80", 64), *astral65 = repeat("\xf0\xa0\x80\x80", 65);
    char *cjk128 = repeat("\xe6\x96\x87", 128);
    const struct rule_case cases[] = {
        {"k", "", COF_OK, NULL, NULL},
        {k128, v256, COF_OK, NULL, NULL},
        {astral64, "v", COF_OK, NULL, NULL},
        {cjk128, "v", COF_OK, NULL, NULL},
        {"a b+c-d=e.f_g:h/i@j", "A Z 0 9 + - = . _ : / @", COF_OK, NULL, NULL},
        {"\xc3\xbc\xc3\x9f", "\xe6\x96\x87\xe5\xad\x97 \xd0\x96", COF_OK, NULL, NULL},
        {"nbsp\xc2\xa0space", "ideographic\xe3\x80\x80space", COF_OK, NULL, NULL},
        {"something:aws:x", "v", COF_OK, NULL, NULL},
        {"AWS:x", "v", COF_OK, NULL, NULL}, /* the reserved prefix is lower-case */
        {"", "v", COF_ERR_INVALID_TAG, "The TagKey you have provided is invalid", ""},
        {k129, "v", COF_ERR_INVALID_TAG, "The TagKey you have provided is invalid", ""},
        {astral65, "v", COF_ERR_INVALID_TAG, "The TagKey you have provided is invalid", ""},
        {"k", v257, COF_ERR_INVALID_TAG, "The TagValue you have provided is invalid", "k"},
        {"aws:x", "v", COF_ERR_INVALID_TAG, "Your TagKey cannot be prefixed with aws:", "aws:x"},
        {"a\tb", "v", COF_ERR_INVALID_TAG, "The TagKey you have provided is invalid", "a\tb"},
        {"k", "a\nb", COF_ERR_INVALID_TAG, "The TagValue you have provided is invalid", "k"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct srv_tag tag = {(char *)(uintptr_t)cases[i].key, (char *)(uintptr_t)cases[i].value};
        struct srv_tagset t = {&tag, 1};
        struct srv_problem e;
        cof_err err = srv_tagset_validate(&t, SRV_TAGS_OBJECT, &e);
        CHECK_EQ_INT(err, cases[i].err);
        if (err != cases[i].err)
            fprintf(stderr, "  rule case %zu\n", i);
        if (err != COF_OK) {
            CHECK_EQ_STR(e.message, cases[i].msg);
            CHECK_EQ_STR(tag_key(&e), cases[i].tag_key);
        }
    }
    /* every character AWS's pattern leaves out, in keys and values */
    const char *bad[] = {",",
                         ";",
                         "?",
                         "!",
                         "*",
                         "#",
                         "%",
                         "(",
                         ")",
                         "\t",
                         "&",
                         "<",
                         "\"",
                         "'",
                         "\\",
                         "|",
                         "~",
                         "$",
                         "^",
                         "{",
                         "}",
                         "[",
                         "]",
                         "`",
                         "\xf0\x9f\x98\x80", /* emoji */
                         "\xe2\x82\xac",     /* euro sign */
                         "\xc2\xa7",         /* section sign */
                         "e\xcc\x81",        /* combining accent */
                         "\xef\xbc\x81",     /* fullwidth ! */
                         "\xe2\x80\x8b",     /* zero width space (Cf) */
                         "\xee\x80\x80"};    /* private use */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct srv_tag tag = {(char *)(uintptr_t)bad[i], (char *)(uintptr_t) "v"};
        struct srv_tagset t = {&tag, 1};
        struct srv_problem e;
        CHECK_EQ_INT(srv_tagset_validate(&t, SRV_TAGS_OBJECT, &e), COF_ERR_INVALID_TAG);
        CHECK_EQ_STR(e.message, "The TagKey you have provided is invalid");
        tag.key = (char *)(uintptr_t) "k";
        tag.value = (char *)(uintptr_t)bad[i];
        CHECK_EQ_INT(srv_tagset_validate(&t, SRV_TAGS_OBJECT, &e), COF_ERR_INVALID_TAG);
        CHECK_EQ_STR(e.message, "The TagValue you have provided is invalid");
    }
    free(k128);
    free(k129);
    free(v256);
    free(v257);
    free(astral64);
    free(astral65);
    free(cjk128);

    /* bucket scope: 50 tags, aws: with the bucket message */
    struct srv_tag many[51];
    char names[51][8];
    for (int i = 0; i < 51; i++) {
        snprintf(names[i], sizeof(names[i]), "k%d", i);
        many[i].key = names[i];
        many[i].value = (char *)(uintptr_t) "";
    }
    struct srv_tagset t = {many, 50};
    struct srv_problem e;
    CHECK_EQ_INT(srv_tagset_validate(&t, SRV_TAGS_BUCKET, &e), COF_OK);
    CHECK_EQ_INT(srv_tagset_validate(&t, SRV_TAGS_OBJECT, &e), COF_ERR_BAD_REQUEST);
    CHECK_EQ_STR(e.message, "Object tags cannot be greater than 10");
    t.n = 51;
    CHECK_EQ_INT(srv_tagset_validate(&t, SRV_TAGS_BUCKET, &e), COF_ERR_BAD_REQUEST);
    CHECK_EQ_STR(e.message, "Bucket tag count cannot be greater than 50");
    struct srv_tag sys = {(char *)(uintptr_t) "aws:x", (char *)(uintptr_t) ""};
    struct srv_tagset st = {&sys, 1};
    CHECK_EQ_INT(srv_tagset_validate(&st, SRV_TAGS_BUCKET, &e), COF_ERR_INVALID_TAG);
    CHECK_EQ_STR(e.message, "System tags cannot be added/updated by requester");
    /* duplicates */
    struct srv_tag dup[2] = {{(char *)(uintptr_t) "a", (char *)(uintptr_t) "1"},
                             {(char *)(uintptr_t) "a", (char *)(uintptr_t) "2"}};
    struct srv_tagset dt = {dup, 2};
    CHECK_EQ_INT(srv_tagset_validate(&dt, SRV_TAGS_BUCKET, &e), COF_ERR_INVALID_TAG);
    CHECK_EQ_STR(e.message, "Cannot provide multiple Tags with the same key");
    CHECK_EQ_STR(tag_key(&e), "a");
}

struct xml_case {
    const char *doc;
    cof_err err;
    const char *canon;
};

#define TAG(k, v) "<Tag><Key>" k "</Key><Value>" v "</Value></Tag>"

static const struct xml_case xml_cases[] = {
    {"<Tagging><TagSet>" TAG("b", "2") TAG("a", "1") "</TagSet></Tagging>", COF_OK, "a=1&b=2"},
    {"<Tagging" NS "><TagSet/></Tagging>", COF_OK, ""},
    {"<Tagging><TagSet>" TAG(" k ", "") "</TagSet></Tagging>", COF_OK, "%20k%20="},
    {"<Tagging><TagSet><Tag><Value>1</Value><Key>k</Key><Other/></Tag></TagSet></Tagging>", COF_OK,
     "k=1"},
    {"<Tagging><TagSet>" TAG("a&amp;", "1") "</TagSet></Tagging>", COF_ERR_INVALID_TAG, NULL},
    {"<Tagging><TagSet>" TAG("aws:a", "1") "</TagSet></Tagging>", COF_ERR_INVALID_TAG, NULL},
    {"<Tagging><TagSet>" TAG("a", "1") TAG("a", "1") "</TagSet></Tagging>", COF_ERR_INVALID_TAG,
     NULL},
    /* MalformedXML */
    {"", COF_ERR_MALFORMED_XML, NULL},
    {"<Tagging><TagSet>", COF_ERR_MALFORMED_XML, NULL},
    {"<Tagging></Tagging>", COF_ERR_MALFORMED_XML, NULL},
    {"<Tags><TagSet/></Tags>", COF_ERR_MALFORMED_XML, NULL},
    {"<Tagging><TagSet/><TagSet/></Tagging>", COF_ERR_MALFORMED_XML, NULL},
    {"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>", COF_ERR_MALFORMED_XML, NULL},
    {"<Tagging><TagSet><Tag><Value>a</Value></Tag></TagSet></Tagging>", COF_ERR_MALFORMED_XML,
     NULL},
    {"<Tagging><TagSet><Tag><Key>a</Key><Key>b</Key><Value/></Tag></TagSet></Tagging>",
     COF_ERR_MALFORMED_XML, NULL},
    {"<Tagging><TagSet><Tag><Key><b/></Key><Value/></Tag></TagSet></Tagging>",
     COF_ERR_MALFORMED_XML, NULL},
    {"<Tagging><TagSet>text</TagSet></Tagging>", COF_ERR_MALFORMED_XML, NULL},
    {"<!DOCTYPE t [<!ENTITY e \"x\">]><Tagging><TagSet>" TAG("&e;", "1") "</TagSet></Tagging>",
     COF_ERR_MALFORMED_XML, NULL},
};

static void test_xml(void)
{
    for (size_t i = 0; i < sizeof(xml_cases) / sizeof(xml_cases[0]); i++) {
        const struct xml_case *c = &xml_cases[i];
        struct srv_tagset t;
        struct srv_problem e;
        cof_err err = srv_tagging_parse_xml(c->doc, strlen(c->doc), SRV_TAGS_OBJECT, &t, &e);
        CHECK_EQ_INT(err, c->err);
        CHECK_EQ_INT(e.code, c->err);
        if (err != c->err)
            fprintf(stderr, "  xml case %zu\n", i);
        if (err == COF_OK)
            check_canon(&t, c->canon);
        else
            CHECK(t.v == NULL && t.n == 0);
        /* MalformedXML is a bare code: the handler maps it */
        if (err == COF_ERR_MALFORMED_XML)
            CHECK(e.message == NULL && e.name1 == NULL && e.name2 == NULL);
        srv_tagset_cleanup(&t);
    }
    /* the TagKey outlives the parsed set (kept in the problem), even at its longest */
    char *cjk128 = repeat("\xe6\x96\x87", 128);
    char *doc = malloc(strlen(cjk128) + 128);
    CHECK(doc != NULL);
    if (doc != NULL) {
        struct srv_tagset t;
        struct srv_problem e;
        snprintf(doc, strlen(cjk128) + 128,
                 "<Tagging><TagSet>" TAG("%s", "a;b") "</TagSet></Tagging>", cjk128);
        CHECK_EQ_INT(srv_tagging_parse_xml(doc, strlen(doc), SRV_TAGS_OBJECT, &t, &e),
                     COF_ERR_INVALID_TAG);
        CHECK_EQ_STR(e.message, "The TagValue you have provided is invalid");
        CHECK_EQ_STR(tag_key(&e), cjk128);
    }
    free(doc);
    free(cjk128);
    /* eleven tags: BadRequest for an object, fine for a bucket */
    const char *doc11 = "<Tagging><TagSet>" TAG("a", "") TAG("b", "") TAG("c", "") TAG("d", "")
        TAG("e", "") TAG("f", "") TAG("g", "") TAG("h", "") TAG("i", "") TAG("j", "")
            TAG("k", "") "</TagSet></Tagging>";
    struct srv_tagset t;
    struct srv_problem e;
    CHECK_EQ_INT(srv_tagging_parse_xml(doc11, strlen(doc11), SRV_TAGS_OBJECT, &t, &e),
                 COF_ERR_BAD_REQUEST);
    CHECK_EQ_INT(srv_tagging_parse_xml(doc11, strlen(doc11), SRV_TAGS_BUCKET, &t, &e), COF_OK);
    CHECK_EQ_INT(t.n, 11);
    srv_tagset_cleanup(&t);
    /* over the body cap */
    char *big = repeat(" ", SRV_MAX_TAGGING_BODY + 1);
    CHECK_EQ_INT(srv_tagging_parse_xml(big, strlen(big), SRV_TAGS_OBJECT, &t, &e),
                 COF_ERR_TOO_LARGE);
    CHECK(e.code == COF_ERR_TOO_LARGE && e.message == NULL && e.name1 == NULL);
    free(big);
}

static void test_write_xml(void)
{
    struct srv_tag tags[2] = {{(char *)(uintptr_t) "a b", (char *)(uintptr_t) "x&y"},
                              {(char *)(uintptr_t) "k", (char *)(uintptr_t) ""}};
    struct srv_tagset t = {tags, 2};
    char *doc = NULL;
    size_t len = 0;
    CHECK_EQ_INT(srv_tagset_write_xml(&t, &doc, &len), COF_OK);
    CHECK_EQ_STR(doc, DECL "<Tagging" NS "><TagSet><Tag><Key>a b</Key><Value>x&amp;y</Value>"
                           "</Tag><Tag><Key>k</Key><Value></Value></Tag></TagSet></Tagging>");
    CHECK_EQ_INT(len, strlen(doc));
    free(doc);
    t.n = 0;
    CHECK_EQ_INT(srv_tagset_write_xml(&t, &doc, &len), COF_OK);
    CHECK_EQ_STR(doc, DECL "<Tagging" NS "><TagSet></TagSet></Tagging>");
    free(doc);
}

static void test_canon(void)
{
    struct srv_tagset t;
    CHECK_EQ_INT(srv_tagset_decode("a%20b=c%2Bd&e=", &t), COF_OK);
    CHECK_EQ_INT(t.n, 2);
    CHECK_EQ_STR(t.v[0].key, "a b");
    CHECK_EQ_STR(t.v[0].value, "c+d");
    CHECK_EQ_STR(t.v[1].value, "");
    srv_tagset_cleanup(&t);
    CHECK_EQ_INT(srv_tagset_decode(NULL, &t), COF_OK);
    CHECK_EQ_INT(t.n, 0);
    CHECK_EQ_INT(srv_tagset_decode("a=%zz", &t), COF_ERR_INVALID);
    CHECK(t.v == NULL && t.n == 0);
    CHECK_EQ_INT(srv_tagging_count(NULL), 0);
    CHECK_EQ_INT(srv_tagging_count(""), 0);
    CHECK_EQ_INT(srv_tagging_count("a="), 1);
    CHECK_EQ_INT(srv_tagging_count("a=&b=1&c="), 3);
}

struct block_case {
    const char *block;
    const char *canon;
    const char *want;
};

static void test_block(void)
{
    static const struct block_case cases[] = {
        {NULL, "a=1", "coffer-tagging:a=1\n"},
        {"", NULL, ""},
        {"Content-Type:x\n", "a=1", "Content-Type:x\ncoffer-tagging:a=1\n"},
        {"Content-Type:x\ncoffer-tagging:old\ncoffer-checksum:CRC32 x\n", "b=2",
         "Content-Type:x\ncoffer-checksum:CRC32 x\ncoffer-tagging:b=2\n"},
        {"Content-Type:x\ncoffer-tagging:old\ncoffer-checksum:CRC32 x\n", "",
         "Content-Type:x\ncoffer-checksum:CRC32 x\n"},
        {"coffer-tagging:old", NULL, ""},
        {"x-amz-meta-coffer-tagging:keep\n", NULL, "x-amz-meta-coffer-tagging:keep\n"},
        {"Content-Type:x", "a=", "Content-Type:x\ncoffer-tagging:a=\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *out = NULL;
        CHECK_EQ_INT(srv_tagging_set_in_block(cases[i].block, cases[i].canon, &out), COF_OK);
        CHECK_EQ_STR(out, cases[i].want);
        free(out);
    }
    char *c = NULL;
    CHECK_EQ_INT(srv_tagging_from_block("A:b\ncoffer-tagging:a=1&b=\nC:d\n", &c), COF_OK);
    CHECK_EQ_STR(c, "a=1&b=");
    free(c);
    CHECK_EQ_INT(srv_tagging_from_block("x-amz-meta-coffer-tagging:no\n", &c), COF_OK);
    CHECK_EQ_STR(c, "");
    free(c);
    CHECK_EQ_INT(srv_tagging_from_block(NULL, &c), COF_OK);
    CHECK_EQ_STR(c, "");
    free(c);
}

int main(void)
{
    srv_xml_global_init();
    test_header();
    test_rules();
    test_xml();
    test_write_xml();
    test_canon();
    test_block();
    return check_finish();
}
