/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for bucket lifecycle rules: the LifecycleConfiguration parser (every accepted
 * document obeys S3's limits and round-trips through the canonical writer unchanged), filter
 * matching and the expiry of an object named by the input, and the ISO 8601 reader. Aborts on
 * a violation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/lifecycle.h"
#include "s3/xml.h"

#include "fuzz.h"

static void check_config(const struct srv_lc_config *c)
{
    REQUIRE(c->n >= 1 && c->n <= SRV_LC_MAX_RULES);
    for (size_t i = 0; i < c->n; i++) {
        const struct srv_lc_rule *r = &c->rules[i];
        REQUIRE(r->id == NULL || strlen(r->id) <= SRV_LC_ID_MAX);
        REQUIRE(r->has_expiration || r->has_noncurrent || r->has_abort || r->n_tr + r->n_nc_tr > 0);
        REQUIRE(!r->has_expiration || (r->exp_days > 0) + (r->exp_date >= 0) + (r->eodm >= 0) == 1);
        REQUIRE(r->exp_date < 0 || r->exp_date % SRV_LC_DAY_S == 0);
        REQUIRE(!r->has_noncurrent || r->nc_days > 0);
        REQUIRE(!r->has_abort || (r->abort_days > 0 && r->filter.tags.n == 0));
    }
}

static void check_parse(const char *body, size_t n, struct srv_lc_config *out)
{
    struct srv_problem prob;
    cof_err err = srv_lc_parse(body, n, out, &prob);
    REQUIRE(err == COF_OK || err == COF_ERR_MALFORMED_XML || err == COF_ERR_INVALID_REQUEST ||
            err == COF_ERR_INVALID_ARGUMENT || err == COF_ERR_INVALID_TAG ||
            err == COF_ERR_BAD_REQUEST || err == COF_ERR_TOO_LARGE || err == COF_ERR_NOMEM);
    REQUIRE(prob.code == err);
    REQUIRE(prob.text_len < sizeof(prob.text));
    if (err != COF_OK) {
        REQUIRE(out->rules == NULL && out->n == 0);
        return;
    }
    check_config(out);
    char *doc = NULL, *doc2 = NULL;
    size_t len = 0, len2 = 0;
    struct srv_lc_config again;
    REQUIRE(srv_lc_write(out, &doc, &len) == COF_OK);
    REQUIRE(srv_lc_parse(doc, len, &again, &prob) == COF_OK);
    REQUIRE(again.n == out->n);
    REQUIRE(srv_lc_write(&again, &doc2, &len2) == COF_OK);
    REQUIRE(len == len2 && memcmp(doc, doc2, len) == 0);
    srv_lc_config_cleanup(&again);
    free(doc);
    free(doc2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    srv_xml_global_init();
    struct srv_lc_config parsed = {NULL, 0};
    check_parse((const char *)data, size, &parsed);
    if (size <= 4096) {
        char *text = malloc(size + 1);
        if (text != NULL) {
            memcpy(text, data, size);
            text[size] = '\0';
            int64_t ms = 0, due = 0;
            if (srv_lc_parse_time(text, &ms) == COF_OK)
                REQUIRE(srv_lc_due(ms, 1) * 1000 >= ms);
            const struct srv_lc_rule *r = NULL;
            if (parsed.n > 0 && srv_lc_expiry(&parsed, text, size, text, 0, &due, &r)) {
                char hdr[400];
                REQUIRE(r >= parsed.rules && r < parsed.rules + parsed.n);
                srv_lc_expiration_header(due, r->id, hdr, sizeof(hdr));
            }
            free(text);
        }
    }
    srv_lc_config_cleanup(&parsed);
    return 0;
}
