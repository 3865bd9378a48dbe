/* SPDX-License-Identifier: Apache-2.0 */
/* Tag sets: header and XML parsing, AWS's validation rules and messages, the canonical stored
 * text, and the tagging line of a stored header block. No I/O. */
#include "s3/tagging.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "s3/uri.h"
#include "s3/xml.h"
#include "s3/xmltree.h"

/* AWS's texts (LocalStack's AWS-validated tests, AWS responses quoted in public issues). */
#define MSG_OBJECT_COUNT "Object tags cannot be greater than 10"
#define MSG_BUCKET_COUNT "Bucket tag count cannot be greater than 50"
#define MSG_BAD_KEY      "The TagKey you have provided is invalid"
#define MSG_BAD_VALUE    "The TagValue you have provided is invalid"
#define MSG_DUP_KEY      "Cannot provide multiple Tags with the same key"
#define MSG_AWS_OBJECT   "Your TagKey cannot be prefixed with aws:"
#define MSG_AWS_BUCKET   "System tags cannot be added/updated by requester"
#define MSG_BAD_HEADER                                                                             \
    "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters "   \
    "without tag name duplicates."

#define TAGS_MAX_CANON (1024u * 1024) /* canonical text of 50 maximal tags is far below */

void srv_tagset_cleanup(struct srv_tagset *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].key);
        free(t->v[i].value);
    }
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

/* The TagKey is copied: the parsers free the set before returning. Keys that reach a
 * TagKey-bearing error are at most 128 UTF-16 units (<= 512 bytes), so they fit the text. */
static cof_err fail(struct srv_problem *p, cof_err code, const char *msg, const char *key)
{
    srv_problem_set(p, code, msg);
    if (key != NULL)
        srv_problem_elem(p, "TagKey", srv_problem_keep(p, "%s", key));
    return code;
}

/* The tag character set of AWS's pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]. ASCII is exact. Beyond
 * ASCII there is no Unicode database here, so letters, digits and spaces of every script are
 * accepted and the blocks that hold only (or mostly) punctuation, symbols, controls, format
 * characters, combining marks, emoji and private use are refused: an approximation that never
 * refuses a letter of a living script. */
static bool tag_char(uint32_t cp)
{
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))
            return true;
        return cp != 0 && strchr(" _.:/=+-@", (int)cp) != NULL;
    }
    static const struct {
        uint32_t lo, hi;
    } refused[] = {
        {0x80, 0x9f}, /* C1 controls */
        {0xa1, 0xa9}, /* Latin-1 punctuation and symbols (0xa0 is a space) */
        {0xab, 0xb1},        {0xb4, 0xb4},     {0xb6, 0xb8},
        {0xbb, 0xbb},        {0xbf, 0xbf},     {0xd7, 0xd7},
        {0xf7, 0xf7},        {0x300, 0x36f}, /* combining diacritical marks (category M) */
        {0x200b, 0x2027}, /* format characters and general punctuation (not its spaces) */
        {0x202a, 0x202e},    {0x2030, 0x205e}, {0x2060, 0x206f},
        {0x20a0, 0x20ff}, /* currency symbols, combining marks for symbols */
        {0x2190, 0x245f}, /* arrows, mathematical operators, technical, control pictures */
        {0x2500, 0x2bff}, /* box drawing, shapes, miscellaneous symbols, dingbats, arrows */
        {0x2e00, 0x2e7f}, /* supplemental punctuation */
        {0x3001, 0x3004},    {0x3008, 0x3020}, /* CJK punctuation and brackets */
        {0xd800, 0xf8ff},                      /* surrogates, private use */
        {0xfe00, 0xfe6f}, /* variation selectors, CJK compatibility and small forms */
        {0xfeff, 0xfeff}, /* BOM */
        {0xff01, 0xff0f},    {0xff1a, 0xff20}, {0xff3b, 0xff40},
        {0xff5b, 0xff65},    {0xfff0, 0xffff}, /* specials */
        {0x1f000, 0x1faff},                    /* mahjong, cards, emoji, pictographs */
        {0xe0000, 0x10ffff}, /* tags, variation selectors supplement, private use planes */
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (cp >= refused[i].lo && cp <= refused[i].hi)
            return false;
    }
    return true;
}

/* Checks s's characters and counts its length in UTF-16 code units; false when s is not
 * UTF-8 or holds a character outside the tag set. */
static bool tag_text(const char *s, size_t *out_units)
{
    size_t n = strlen(s), i = 0, units = 0;
    while (i < n) {
        uint32_t cp = 0;
        size_t len = srv_utf8_next(s + i, n - i, &cp);
        if (len == 0 || !tag_char(cp))
            return false;
        units += cp > 0xffff ? 2 : 1;
        i += len;
    }
    *out_units = units;
    return true;
}

/* Length in UTF-16 code units of UTF-8 text (invalid bytes count one each). */
static size_t utf16_units(const char *s)
{
    size_t n = strlen(s), i = 0, units = 0;
    while (i < n) {
        uint32_t cp = 0;
        size_t len = srv_utf8_next(s + i, n - i, &cp);
        units += len == 0 ? 1 : cp > 0xffff ? 2 : 1;
        i += len == 0 ? 1 : len;
    }
    return units;
}

cof_err srv_tagset_validate(const struct srv_tagset *t, enum srv_tag_scope scope,
                            struct srv_problem *p)
{
    bool object = scope == SRV_TAGS_OBJECT;
    srv_problem_init(p);
    /* AWS answers an oversized set with 400 BadRequest, not InvalidTag (S3 responses quoted
     * in hashicorp/terraform-provider-aws#19895 and #41747). */
    if (t->n > (object ? SRV_MAX_OBJECT_TAGS : SRV_MAX_BUCKET_TAGS))
        return fail(p, COF_ERR_BAD_REQUEST, object ? MSG_OBJECT_COUNT : MSG_BUCKET_COUNT, NULL);
    for (size_t i = 0; i < t->n; i++) {
        const char *k = t->v[i].key, *v = t->v[i].value;
        size_t units = utf16_units(k);
        /* An empty or over-long key: AWS's answer carries no TagKey element. */
        if (units == 0 || units > SRV_TAG_KEY_MAX)
            return fail(p, COF_ERR_INVALID_TAG, MSG_BAD_KEY, NULL);
        if (strncmp(k, "aws:", 4) == 0)
            return fail(p, COF_ERR_INVALID_TAG, object ? MSG_AWS_OBJECT : MSG_AWS_BUCKET, k);
        if (!tag_text(k, &units))
            return fail(p, COF_ERR_INVALID_TAG, MSG_BAD_KEY, k);
        if (!tag_text(v, &units) || units > SRV_TAG_VALUE_MAX)
            return fail(p, COF_ERR_INVALID_TAG, MSG_BAD_VALUE, k);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(t->v[j].key, k) == 0)
                return fail(p, COF_ERR_INVALID_TAG, MSG_DUP_KEY, k);
        }
    }
    return COF_OK;
}

/* Builds a tag set from query params (names and values taken over). */
static cof_err from_query(struct srv_query *q, struct srv_tagset *out)
{
    out->v = NULL;
    out->n = 0;
    if (q->n == 0)
        return COF_OK;
    out->v = calloc(q->n, sizeof(*out->v));
    if (out->v == NULL)
        return COF_ERR_NOMEM;
    for (size_t i = 0; i < q->n; i++) {
        out->v[i].key = q->params[i].name;
        out->v[i].value = q->params[i].value;
        q->params[i].name = NULL;
        q->params[i].value = NULL;
    }
    out->n = q->n;
    return COF_OK;
}

/* InvalidArgument, naming the header and quoting it (AWS's answer). */
static cof_err bad_header(struct srv_problem *p, const char *hdr)
{
    return srv_problem_arg(p, COF_ERR_INVALID_ARGUMENT, MSG_BAD_HEADER, "x-amz-tagging", hdr);
}

cof_err srv_tagging_parse_header(const char *hdr, struct srv_tagset *out, struct srv_problem *p)
{
    struct srv_query q = {NULL, 0};
    struct srv_tagset t = {NULL, 0};
    srv_problem_init(p);
    out->v = NULL;
    out->n = 0;
    cof_err err = srv_query_parse(hdr, &q);
    if (err == COF_ERR_TOO_LARGE) /* over 100 pieces: certainly over 10 tags */
        err = fail(p, COF_ERR_BAD_REQUEST, MSG_OBJECT_COUNT, NULL);
    else if (err == COF_ERR_INVALID)
        err = bad_header(p, hdr);
    for (size_t i = 0; err == COF_OK && i < q.n; i++) {
        const char *k = q.params[i].name, *v = q.params[i].value;
        if (k[0] == '\0' || !srv_utf8_valid(k, strlen(k)) || !srv_utf8_valid(v, strlen(v)))
            err = bad_header(p, hdr);
        for (size_t j = 0; err == COF_OK && j < i; j++) {
            if (strcmp(q.params[j].name, k) == 0)
                err = bad_header(p, hdr);
        }
    }
    if (err == COF_OK)
        err = from_query(&q, &t);
    if (err == COF_OK)
        err = srv_tagset_validate(&t, SRV_TAGS_OBJECT, p);
    if (err == COF_OK) {
        *out = t;
        t.v = NULL;
        t.n = 0;
    }
    srv_tagset_cleanup(&t);
    srv_query_cleanup(&q);
    return srv_problem_finish(p, err);
}

/* Reads a singleton leaf into *slot; a second occurrence is malformed. */
static cof_err take_leaf(const xmlNode *el, char **slot)
{
    if (*slot != NULL)
        return COF_ERR_MALFORMED_XML;
    return srv_xmltree_leaf_text(el, false, slot);
}

static cof_err parse_tag(const xmlNode *el, struct srv_tag *t)
{
    cof_err err = srv_xmltree_check_container(el);
    for (const xmlNode *c = el->children; c != NULL && err == COF_OK; c = c->next) {
        if (srv_xmltree_is_elem(c, "Key"))
            err = take_leaf(c, &t->key);
        else if (srv_xmltree_is_elem(c, "Value"))
            err = take_leaf(c, &t->value);
    }
    /* Key and Value are both required (AWS API Tag: "Required: Yes"). */
    if (err == COF_OK && (t->key == NULL || t->value == NULL))
        err = COF_ERR_MALFORMED_XML;
    return err;
}

/* The Tagging document (cap SRV_MAX_TAGGING_BODY): root Tagging with exactly one TagSet, whose
 * Tag elements each hold exactly one Key and one Value. Texts are exact (not trimmed; Value may
 * be empty). Structure only; an empty TagSet gives n == 0. */
static cof_err parse_xml(const char *body, size_t n, struct srv_tagset *out)
{
    xmlDocPtr doc = NULL;
    struct srv_tagset t = {NULL, 0};
    const xmlNode *set = NULL;
    size_t count = 0;
    out->v = NULL;
    out->n = 0;
    cof_err err = srv_xmltree_parse(body, n, SRV_MAX_TAGGING_BODY, &doc);
    if (err != COF_OK)
        goto out;
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!srv_xmltree_is_elem(root, "Tagging")) {
        err = COF_ERR_MALFORMED_XML;
        goto out;
    }
    err = srv_xmltree_check_container(root);
    for (const xmlNode *c = root->children; c != NULL && err == COF_OK; c = c->next) {
        if (srv_xmltree_is_elem(c, "TagSet")) {
            if (set != NULL)
                err = COF_ERR_MALFORMED_XML;
            set = c;
        }
    }
    if (err == COF_OK && set == NULL)
        err = COF_ERR_MALFORMED_XML;
    if (err == COF_OK)
        err = srv_xmltree_check_container(set);
    for (const xmlNode *c = set != NULL ? set->children : NULL; err == COF_OK && c != NULL;
         c = c->next)
        count += srv_xmltree_is_elem(c, "Tag");
    if (err != COF_OK || count == 0)
        goto out;
    t.v = calloc(count, sizeof(*t.v));
    if (t.v == NULL) {
        err = COF_ERR_NOMEM;
        goto out;
    }
    for (const xmlNode *c = set->children; c != NULL && err == COF_OK; c = c->next) {
        if (srv_xmltree_is_elem(c, "Tag")) {
            err = parse_tag(c, &t.v[t.n]);
            t.n++; /* counted even on failure so cleanup frees what was read */
        }
    }
    if (err != COF_OK)
        goto out;
    *out = t;
    memset(&t, 0, sizeof(t));
out:
    srv_tagset_cleanup(&t);
    srv_xmltree_free(doc);
    return err;
}

cof_err srv_tagging_parse_xml(const char *body, size_t n, enum srv_tag_scope scope,
                              struct srv_tagset *out, struct srv_problem *p)
{
    struct srv_tagset t = {NULL, 0};
    srv_problem_init(p);
    out->v = NULL;
    out->n = 0;
    cof_err err = parse_xml(body, n, &t);
    if (err == COF_OK)
        err = srv_tagset_validate(&t, scope, p);
    if (err == COF_OK) {
        *out = t;
        t.v = NULL;
        t.n = 0;
    }
    srv_tagset_cleanup(&t);
    return srv_problem_finish(p, err);
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const struct srv_tag *)a)->key, ((const struct srv_tag *)b)->key);
}

cof_err srv_tagset_encode(struct srv_tagset *t, char **out)
{
    struct cof_buf b;
    cof_err err = COF_OK;
    *out = NULL;
    if (t->n > 1)
        qsort(t->v, t->n, sizeof(*t->v), by_key);
    cof_buf_init(&b, TAGS_MAX_CANON);
    for (size_t i = 0; err == COF_OK && i < t->n; i++) {
        if (i > 0)
            err = cof_buf_append(&b, "&", 1);
        if (err == COF_OK)
            err = srv_uri_encode(t->v[i].key, false, &b);
        if (err == COF_OK)
            err = cof_buf_append(&b, "=", 1);
        if (err == COF_OK)
            err = srv_uri_encode(t->v[i].value, false, &b);
    }
    if (err == COF_OK && b.len == 0) {
        *out = strdup("");
        err = *out != NULL ? COF_OK : COF_ERR_NOMEM;
    } else if (err == COF_OK) {
        err = cof_buf_steal(&b, out);
    }
    cof_buf_cleanup(&b);
    return err;
}

cof_err srv_tagset_decode(const char *canon, struct srv_tagset *out)
{
    struct srv_query q = {NULL, 0};
    out->v = NULL;
    out->n = 0;
    cof_err err = srv_query_parse(canon, &q);
    if (err == COF_ERR_TOO_LARGE)
        err = COF_ERR_INVALID;
    if (err == COF_OK)
        err = from_query(&q, out);
    srv_query_cleanup(&q);
    return err;
}

size_t srv_tagging_count(const char *canon)
{
    if (canon == NULL || canon[0] == '\0')
        return 0;
    size_t n = 1;
    for (const char *p = canon; *p != '\0'; p++)
        n += *p == '&';
    return n;
}

cof_err srv_tagset_write_xml(const struct srv_tagset *t, char **out, size_t *out_len)
{
    struct srv_xml *x = NULL;
    *out = NULL;
    *out_len = 0;
    cof_err err = srv_xml_new("Tagging", &x);
    if (err == COF_OK)
        err = srv_xml_open(x, "TagSet");
    for (size_t i = 0; err == COF_OK && i < t->n; i++) {
        srv_xml_open(x, "Tag");
        srv_xml_elem(x, "Key", t->v[i].key);
        srv_xml_elem(x, "Value", t->v[i].value);
        err = srv_xml_close(x);
    }
    if (err == COF_OK)
        err = srv_xml_finish(x, out, out_len);
    srv_xml_free(x);
    return err;
}

/* The tagging line at the start of p, if it is one: its value and length. */
static bool tagging_line(const char *p, const char **value, size_t *len)
{
    static const char pfx[] = SRV_TAGGING_LINE ":";
    if (strncmp(p, pfx, sizeof(pfx) - 1) != 0)
        return false;
    *value = p + sizeof(pfx) - 1;
    *len = strcspn(*value, "\n");
    return true;
}

cof_err srv_tagging_from_block(const char *block, char **out)
{
    const char *p = block != NULL ? block : "";
    const char *v = "";
    size_t len = 0;
    *out = NULL;
    while (*p != '\0') {
        if (tagging_line(p, &v, &len))
            break;
        const char *nl = strchr(p, '\n');
        p = nl != NULL ? nl + 1 : p + strlen(p);
    }
    *out = strndup(v, len);
    return *out != NULL ? COF_OK : COF_ERR_NOMEM;
}

cof_err srv_tagging_set_in_block(const char *block, const char *canon, char **out)
{
    const char *p = block != NULL ? block : "";
    struct cof_buf b;
    cof_err err = COF_OK;
    *out = NULL;
    cof_buf_init(&b,
                 strlen(p) + (canon != NULL ? strlen(canon) : 0) + sizeof(SRV_TAGGING_LINE) + 3);
    while (err == COF_OK && *p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);
        const char *v = NULL;
        size_t vlen = 0;
        if (!tagging_line(p, &v, &vlen)) {
            err = cof_buf_append(&b, p, len);
            /* A last line without its newline gets one, so the tagging line stays separate. */
            if (err == COF_OK && nl == NULL)
                err = cof_buf_append(&b, "\n", 1);
        }
        p += len;
    }
    if (err == COF_OK && canon != NULL && canon[0] != '\0')
        err = cof_buf_printf(&b, SRV_TAGGING_LINE ":%s\n", canon);
    if (err == COF_OK && b.len == 0) {
        *out = strdup("");
        err = *out != NULL ? COF_OK : COF_ERR_NOMEM;
    } else if (err == COF_OK) {
        err = cof_buf_steal(&b, out);
    }
    cof_buf_cleanup(&b);
    return err;
}
