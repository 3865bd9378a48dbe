/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the XML request-body parsers (CreateBucketConfiguration, Delete,
 * ServerSideEncryptionConfiguration, the stored-only sub-resources of s3/subres.c, the Object
 * Lock bodies and dates) and the writer's escaping. Every parser sees the whole
 * input; results are checked against the schema's invariants and round-tripped through the
 * writer. Aborts on a violation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/objlock.h"
#include "s3/subres.h"
#include "s3/uri.h"
#include "s3/xml.h"

#include "fuzz.h"

static void check_create_bucket(const char *body, size_t n)
{
    char *loc = NULL;
    cof_err err = srv_xml_parse_create_bucket(body, n, &loc);
    REQUIRE(err == COF_OK || err == COF_ERR_MALFORMED_XML || err == COF_ERR_TOO_LARGE ||
            err == COF_ERR_NOMEM);
    if (err != COF_OK)
        REQUIRE(loc == NULL);
    if (loc != NULL)
        REQUIRE(loc[0] != '\0');
    free(loc);
}

static void check_delete(const char *body, size_t n)
{
    struct srv_delete_req r;
    cof_err err = srv_xml_parse_delete(body, n, &r);
    REQUIRE(err == COF_OK || err == COF_ERR_MALFORMED_XML || err == COF_ERR_TOO_LARGE ||
            err == COF_ERR_NOMEM);
    if (err != COF_OK) {
        REQUIRE(r.objs == NULL && r.n == 0);
        return;
    }
    REQUIRE(r.n >= 1 && r.n <= SRV_MAX_DELETE_OBJECTS);
    for (size_t i = 0; i < r.n; i++) {
        REQUIRE(r.objs[i].key != NULL);
        REQUIRE(srv_utf8_valid(r.objs[i].key, strlen(r.objs[i].key)));
        REQUIRE(r.objs[i].version_id == NULL || r.objs[i].version_id[0] != '\0');
    }
    srv_delete_req_cleanup(&r);
}

static void check_sse(const char *body, size_t n)
{
    struct srv_sse_config c;
    cof_err err = srv_xml_parse_sse_config(body, n, &c);
    REQUIRE(err == COF_OK || err == COF_ERR_MALFORMED_XML || err == COF_ERR_INVALID_ARGUMENT ||
            err == COF_ERR_TOO_LARGE || err == COF_ERR_NOMEM);
    if (err != COF_OK) {
        REQUIRE(c.algorithm == NULL && c.kms_key_id == NULL);
        return;
    }
    REQUIRE(strcmp(c.algorithm, "AES256") == 0 || strcmp(c.algorithm, "aws:kms") == 0 ||
            strcmp(c.algorithm, "aws:kms:dsse") == 0);
    REQUIRE(c.kms_key_id == NULL || strcmp(c.algorithm, "AES256") != 0);
    REQUIRE(c.bucket_key_set || !c.bucket_key_enabled);

    char *doc = NULL;
    size_t len = 0;
    struct srv_sse_config c2;
    REQUIRE(srv_xml_write_sse_config(&c, &doc, &len) == COF_OK);
    REQUIRE(srv_xml_parse_sse_config(doc, len, &c2) == COF_OK);
    REQUIRE(strcmp(c2.algorithm, c.algorithm) == 0);
    REQUIRE((c2.kms_key_id == NULL) == (c.kms_key_id == NULL));
    REQUIRE(c.kms_key_id == NULL || strcmp(c2.kms_key_id, c.kms_key_id) == 0);
    REQUIRE(c2.bucket_key_enabled == c.bucket_key_enabled);
    REQUIRE(c2.bucket_key_set == c.bucket_key_set);
    srv_sse_config_cleanup(&c2);
    free(doc);
    srv_sse_config_cleanup(&c);
}

/* Each sub-resource kind: a known outcome, nothing left on failure, and a canonical form that
 * reads back to itself (the stored document is what Get returns and what a Put of it stores). */
static void check_subres(const char *body, size_t n)
{
    for (int k = SRV_SUBRES_ACCELERATE; k <= SRV_SUBRES_NOTIFICATION; k++) {
        struct srv_subres_doc d, again;
        struct srv_problem prob;
        cof_err err = srv_subres_parse((enum srv_subres)k, body, n, &d, &prob);
        REQUIRE(err == COF_OK || err == COF_ERR_MALFORMED_XML || err == COF_ERR_TOO_LARGE ||
                err == COF_ERR_INVALID_ARGUMENT || err == COF_ERR_INVALID_REQUEST ||
                err == COF_ERR_NOMEM);
        REQUIRE(prob.code == err);
        if (err != COF_OK) {
            REQUIRE(d.xml == NULL && d.buckets == NULL && d.n_buckets == 0);
            continue;
        }
        REQUIRE(d.len == strlen(d.xml));
        for (size_t i = 0; i < d.n_buckets; i++)
            REQUIRE(d.buckets[i][0] != '\0');
        /* notification targets are refused, never stored: their canonical form leaves them out */
        err = srv_subres_parse((enum srv_subres)k, d.xml, d.len, &again, &prob);
        REQUIRE(err == COF_OK || err == COF_ERR_NOMEM);
        if (err == COF_OK) {
            REQUIRE(strcmp(again.xml, d.xml) == 0);
            REQUIRE(again.n_buckets == d.n_buckets && !again.targets);
        }
        srv_subres_doc_cleanup(&again);
        srv_subres_doc_cleanup(&d);
    }
}

/* Object Lock bodies: a parsed configuration survives the stored form and the writer; a
 * retention has both parts or neither; a date parses the same twice. */
static void check_objlock(const char *body, size_t n, const char *text)
{
    struct srv_lock_config c, back;
    struct srv_problem p;
    srv_problem_init(&p);
    cof_err err = srv_objlock_parse_config(body, n, &c, &p);
    REQUIRE(err == COF_OK || err == COF_ERR_MALFORMED_XML || err == COF_ERR_INVALID_ARGUMENT ||
            err == COF_ERR_TOO_LARGE || err == COF_ERR_NOMEM);
    if (err == COF_OK) {
        char stored[64];
        char *doc = NULL;
        size_t len = 0;
        REQUIRE(c.enabled);
        REQUIRE(c.mode == SRV_LOCK_NONE || (c.days > 0) != (c.years > 0));
        srv_objlock_config_format(&c, stored, sizeof(stored));
        REQUIRE(srv_objlock_config_parse_stored(stored, &back) == COF_OK);
        REQUIRE(back.mode == c.mode && back.days == c.days && back.years == c.years);
        REQUIRE(srv_objlock_write_config(&c, &doc, &len) == COF_OK);
        REQUIRE(srv_objlock_parse_config(doc, len, &back, &p) == COF_OK);
        REQUIRE(back.mode == c.mode && back.days == c.days && back.years == c.years);
        free(doc);
    }
    int mode = -1;
    int64_t until = -1;
    err = srv_objlock_parse_retention(body, n, &mode, &until);
    REQUIRE(err == COF_OK || err == COF_ERR_MALFORMED_XML || err == COF_ERR_TOO_LARGE ||
            err == COF_ERR_NOMEM);
    REQUIRE(err == COF_OK || (mode == SRV_LOCK_NONE && until == 0));
    REQUIRE(mode != SRV_LOCK_NONE || until == 0);
    bool on = false;
    err = srv_objlock_parse_legal_hold(body, n, &on);
    REQUIRE(err == COF_OK || err == COF_ERR_MALFORMED_XML || err == COF_ERR_TOO_LARGE ||
            err == COF_ERR_NOMEM);
    if (text != NULL) {
        int64_t a = 0, b = 0;
        bool ok = srv_iso8601_parse(text, &a);
        REQUIRE(ok == srv_iso8601_parse(text, &b) && a == b);
        REQUIRE(ok || a == 0);
    }
}

/* Characters the writer can only emit as references that XML 1.0 forbids (AWS does the same). */
static bool xml_representable(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = srv_utf8_next(s + i, n - i, &cp);
        if (len == 0 || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xfffe ||
            cp == 0xffff)
            return false;
        i += len;
    }
    return true;
}

/* Writes the input as a Delete key and parses it back: representable text must survive. */
static void check_writer(const char *text)
{
    struct srv_xml *x = NULL;
    char *doc = NULL;
    size_t len = 0;
    cof_err err = srv_xml_new("Delete", &x);
    if (err == COF_OK)
        err = srv_xml_open(x, "Object");
    if (err == COF_OK)
        err = srv_xml_elem(x, "Key", text);
    if (err == COF_OK)
        err = srv_xml_finish(x, &doc, &len);
    srv_xml_free(x);
    REQUIRE(err == COF_OK || err == COF_ERR_NOMEM);
    if (err != COF_OK)
        return;
    if (xml_representable(text, strlen(text))) {
        struct srv_delete_req r;
        REQUIRE(srv_xml_parse_delete(doc, len, &r) == COF_OK);
        REQUIRE(r.n == 1 && strcmp(r.objs[0].key, text) == 0);
        srv_delete_req_cleanup(&r);
    }
    free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    srv_xml_global_init();
    const char *body = (const char *)data;
    check_create_bucket(body, size);
    check_delete(body, size);
    check_sse(body, size);
    check_subres(body, size);

    char *text = NULL;
    if (size <= 4096) {
        text = malloc(size + 1);
        if (text != NULL) {
            memcpy(text, data, size);
            text[size] = '\0';
            check_writer(text);
        }
    }
    check_objlock(body, size, text);
    free(text);
    return 0;
}
