/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the tag parsers: the input is tried as an x-amz-tagging header and as a
 * Tagging document (object and bucket rules). Accepted sets must satisfy the rules, survive the
 * canonical encoding, the stored header line and the XML writer unchanged. Aborts on a
 * violation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/tagging.h"
#include "s3/uri.h"
#include "s3/xml.h"

#include "fuzz.h"

static bool same(const struct srv_tagset *a, const struct srv_tagset *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->v[i].key, b->v[i].key) != 0 || strcmp(a->v[i].value, b->v[i].value) != 0)
            return false;
    }
    return true;
}

/* An accepted set: within the rules, and unchanged through every representation. */
static void check_accepted(struct srv_tagset *t, enum srv_tag_scope scope)
{
    struct srv_problem e;
    REQUIRE(srv_tagset_validate(t, scope, &e) == COF_OK);
    REQUIRE(t->n <= (scope == SRV_TAGS_OBJECT ? SRV_MAX_OBJECT_TAGS : SRV_MAX_BUCKET_TAGS));
    char *canon = NULL, *block = NULL, *back = NULL, *doc = NULL;
    size_t len = 0;
    REQUIRE(srv_tagset_encode(t, &canon) == COF_OK);
    REQUIRE(srv_tagging_count(canon) == t->n);
    REQUIRE(strchr(canon, '\n') == NULL);
    struct srv_tagset d = {NULL, 0};
    REQUIRE(srv_tagset_decode(canon, &d) == COF_OK);
    REQUIRE(same(t, &d)); /* encode sorted t in place */
    srv_tagset_cleanup(&d);

    REQUIRE(srv_tagging_set_in_block("Content-Type:x\ncoffer-tagging:old\n", canon, &block) ==
            COF_OK);
    REQUIRE(srv_tagging_from_block(block, &back) == COF_OK);
    REQUIRE(strcmp(back, canon) == 0);

    REQUIRE(srv_tagset_write_xml(t, &doc, &len) == COF_OK);
    struct srv_problem e2;
    REQUIRE(srv_tagging_parse_xml(doc, len, scope, &d, &e2) == COF_OK);
    REQUIRE(same(t, &d));
    srv_tagset_cleanup(&d);
    free(doc);
    free(back);
    free(block);
    free(canon);
}

/* A refused set: nothing returned, and the problem in AWS's shape for its code (hdr: the
 * header parsed, NULL for a document). */
static void check_refused(const struct srv_tagset *t, const struct srv_problem *e, cof_err err,
                          const char *hdr)
{
    REQUIRE(t->v == NULL && t->n == 0);
    REQUIRE(e->code == err);
    REQUIRE(e->text_len < sizeof(e->text));
    switch (err) {
    case COF_ERR_INVALID_TAG: /* a message, TagKey where AWS sends one (copied into text[]) */
        REQUIRE(e->message != NULL && e->name2 == NULL);
        REQUIRE(e->name1 == NULL || (strcmp(e->name1, "TagKey") == 0 && e->value1 >= e->text &&
                                     e->value1 < e->text + sizeof(e->text)));
        break;
    case COF_ERR_BAD_REQUEST:
        REQUIRE(e->message != NULL && e->name1 == NULL);
        break;
    case COF_ERR_INVALID_ARGUMENT: /* only the header; it is quoted */
        REQUIRE(hdr != NULL && e->message != NULL);
        REQUIRE(strcmp(e->name1, "ArgumentName") == 0 && strcmp(e->value1, "x-amz-tagging") == 0);
        REQUIRE(strcmp(e->name2, "ArgumentValue") == 0 && e->value2 == hdr);
        break;
    case COF_ERR_MALFORMED_XML: /* bare codes, the handler maps them */
    case COF_ERR_TOO_LARGE:
    case COF_ERR_NOMEM:
        REQUIRE(e->message == NULL && e->name1 == NULL && e->name2 == NULL);
        break;
    default:
        REQUIRE(0 && "unexpected code");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    srv_xml_global_init();
    struct srv_tagset t = {NULL, 0};
    struct srv_problem e;

    cof_err err = srv_tagging_parse_xml((const char *)data, size, SRV_TAGS_OBJECT, &t, &e);
    if (err == COF_OK)
        check_accepted(&t, SRV_TAGS_OBJECT);
    else
        check_refused(&t, &e, err, NULL);
    srv_tagset_cleanup(&t);

    err = srv_tagging_parse_xml((const char *)data, size, SRV_TAGS_BUCKET, &t, &e);
    if (err == COF_OK)
        check_accepted(&t, SRV_TAGS_BUCKET);
    else
        check_refused(&t, &e, err, NULL);
    srv_tagset_cleanup(&t);

    if (size <= 16 * 1024) {
        char *hdr = malloc(size + 1);
        if (hdr == NULL)
            return 0;
        memcpy(hdr, data, size);
        hdr[size] = '\0';
        err = srv_tagging_parse_header(hdr, &t, &e);
        if (err == COF_OK)
            check_accepted(&t, SRV_TAGS_OBJECT);
        else
            check_refused(&t, &e, err, hdr);
        srv_tagset_cleanup(&t);
        /* Whatever the input, decoding it as stored text must not crash or leak. */
        if (srv_tagset_decode(hdr, &t) == COF_OK)
            REQUIRE(t.n <= SRV_QUERY_MAX_PARAMS);
        srv_tagset_cleanup(&t);
        free(hdr);
    }
    return 0;
}
