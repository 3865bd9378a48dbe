/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for ACLs: the AccessControlPolicy parser (an accepted document round-trips through
 * the writer and the stored form unchanged), the grant-header parser, the stored-form decoder
 * (a decoded line re-encodes to itself), and the OwnershipControls and PublicAccessBlock
 * parsers. Aborts on a violation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3/acl.h"
#include "s3/xml.h"

#include "fuzz.h"

static void check_round_trip(const struct srv_acl *a)
{
    static struct srv_acl again;
    struct srv_problem prob;
    char *doc = NULL, *line = NULL, *line2 = NULL;
    size_t len = 0;
    REQUIRE(a->n <= SRV_ACL_MAX_GRANTS);
    REQUIRE(srv_acl_write_xml(a, "name", &doc, &len) == COF_OK);
    REQUIRE(srv_acl_parse_xml(doc, len, &again, &prob) == COF_OK);
    REQUIRE(again.n == a->n && strcmp(again.owner, a->owner) == 0);
    REQUIRE(srv_acl_encode(a, &line) == COF_OK);
    REQUIRE(srv_acl_decode(line, &again) == COF_OK);
    REQUIRE(srv_acl_encode(&again, &line2) == COF_OK);
    REQUIRE(strcmp(line, line2) == 0);
    free(doc);
    free(line);
    free(line2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct srv_acl acl;
    struct srv_problem prob;
    srv_xml_global_init();
    cof_err err = srv_acl_parse_xml((const char *)data, size, &acl, &prob);
    REQUIRE(err == COF_OK || err == COF_ERR_MALFORMED_ACL || err == COF_ERR_INVALID_ARGUMENT ||
            err == COF_ERR_UNRESOLVABLE_EMAIL || err == COF_ERR_TOO_LARGE || err == COF_ERR_NOMEM);
    REQUIRE(prob.code == err && prob.text_len < sizeof(prob.text));
    if (err == COF_OK)
        check_round_trip(&acl);
    else
        REQUIRE(acl.n == 0);

    enum srv_ownership own;
    struct srv_pab pab;
    err = srv_ownership_parse_xml((const char *)data, size, &own);
    REQUIRE(err != COF_OK || srv_ownership_parse(srv_ownership_name(own), &own));
    err = srv_pab_parse_xml((const char *)data, size, &pab);
    REQUIRE(err == COF_OK || err == COF_ERR_MALFORMED_XML || err == COF_ERR_TOO_LARGE ||
            err == COF_ERR_NOMEM);

    if (size <= 8192) {
        char *text = malloc(size + 1);
        if (text == NULL)
            return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        memset(&acl, 0, sizeof(acl));
        err = srv_acl_add_grant_header(&acl, size % 5, text, &prob);
        REQUIRE(err == COF_OK || err == COF_ERR_INVALID_ARGUMENT ||
                err == COF_ERR_UNRESOLVABLE_EMAIL);
        REQUIRE(acl.n <= SRV_ACL_MAX_GRANTS);
        if (srv_acl_decode(text, &acl) == COF_OK)
            check_round_trip(&acl);
        free(text);
    }
    return 0;
}
