/* SPDX-License-Identifier: Apache-2.0 */
/* TEMPORARY stand-in for bucket owners (issue 12 section 2), which the lead builds on main: every
 * bucket belongs to 000000000000. Deleted at merge, replaced by the real ops_bucket_owner,
 * ops_canonical_user and ops_request_account (ops/bucketcfg.h). */
#include <stdio.h>
#include <string.h>

#include "common/hex.h"
#include "crypto/digest.h"
#include "ops/bucketcfg.h"
#include "ops/listparams.h"
#include "storage/meta.h"

#define DEFAULT_ACCOUNT "000000000000"

cof_err ops_bucket_owner(struct srv_req *req, const char *bucket, char account[13])
{
    cof_err err = sto_meta_get_bucket(req->ctx->obj.meta, bucket, NULL);
    if (err == COF_OK)
        snprintf(account, 13, "%s", DEFAULT_ACCOUNT);
    return err;
}

void ops_canonical_user(const char *account, char id[65], const char **display_name)
{
    uint8_t h[CRY_SHA256_LEN];
    if (strcmp(account, DEFAULT_ACCOUNT) == 0 ||
        cry_digest_oneshot(CRY_DIGEST_SHA256, account, strlen(account), h) != COF_OK) {
        snprintf(id, 65, "%s", SRV_OWNER_ID);
        *display_name = SRV_OWNER_NAME;
        return;
    }
    cof_hex_encode(h, sizeof(h), id);
    *display_name = "coffer-account";
}

void ops_request_account(const struct srv_req *req, char account[13])
{
    /* arn:aws:iam::<12 digits>:... or arn:aws:sts::<12 digits>:... */
    const char *p = req->principal;
    if (strncmp(p, "arn:aws:", 8) == 0 && strlen(p) >= 25 && p[12] == ':' && p[25] == ':' &&
        strspn(p + 13, "0123456789") == 12) {
        memcpy(account, p + 13, 12);
        account[12] = '\0';
        return;
    }
    snprintf(account, 13, "%s", DEFAULT_ACCOUNT);
}
