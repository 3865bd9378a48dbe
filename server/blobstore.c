/* SPDX-License-Identifier: Apache-2.0 */
#include "server/blobstore.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "storage/blob.h"
#include "upstream/blobs3.h"

#define CRED_MAX 256

/* Reads "name = value" lines of a credentials file into ak and sk. Accepts both coffer's names
 * and the aws CLI's (aws_access_key_id, aws_secret_access_key); [sections] and # comments are
 * skipped. The first value of each wins. */
static cof_err read_credentials(const char *path, char ak[CRED_MAX], char sk[CRED_MAX])
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "coffer: cannot read --blob-store-credentials-file %s\n", path);
        return COF_ERR_CONFIG;
    }
    char line[1024];
    while (fgets(line, sizeof(line), f) != NULL) {
        char *eq = strchr(line, '=');
        if (eq == NULL || line[0] == '#' || line[0] == '[')
            continue;
        char *name = line, *val = eq + 1;
        *eq = '\0';
        while (isspace((unsigned char)*name))
            name++;
        for (char *e = eq; e > name && isspace((unsigned char)e[-1]);)
            *--e = '\0';
        while (isspace((unsigned char)*val))
            val++;
        size_t vl = strlen(val);
        while (vl > 0 && isspace((unsigned char)val[vl - 1]))
            val[--vl] = '\0';
        if (strncmp(name, "aws_", 4) == 0)
            name += 4;
        char *dst = strcmp(name, "access_key_id") == 0       ? ak
                    : strcmp(name, "secret_access_key") == 0 ? sk
                                                             : NULL;
        if (dst != NULL && dst[0] == '\0' && vl < CRED_MAX)
            memcpy(dst, val, vl + 1);
    }
    memset(line, 0, sizeof(line));
    fclose(f);
    return COF_OK;
}

static cof_err open_upstream(const struct srv_config *c, struct sto_blobs **out)
{
    char ak[CRED_MAX] = "", sk[CRED_MAX] = "";
    char *bucket = NULL, *prefix = NULL;
    cof_err err = up_blobs_parse_url(c->blob_store, &bucket, &prefix);
    if (err == COF_ERR_CONFIG)
        fprintf(stderr, "coffer: --blob-store must be file or s3://BUCKET[/PREFIX], not '%s'\n",
                c->blob_store);
    if (err == COF_OK && (c->blob_store_endpoint == NULL || c->blob_store_endpoint[0] == '\0')) {
        fprintf(stderr, "coffer: --blob-store %s needs --blob-store-endpoint\n", c->blob_store);
        err = COF_ERR_CONFIG;
    }
    if (err == COF_OK && c->blob_store_credentials_file != NULL &&
        c->blob_store_credentials_file[0] != '\0')
        err = read_credentials(c->blob_store_credentials_file, ak, sk);
    const char *eak = getenv("COFFER_BLOB_STORE_ACCESS_KEY_ID");
    const char *esk = getenv("COFFER_BLOB_STORE_SECRET_ACCESS_KEY");
    if (err == COF_OK && ak[0] == '\0' && eak != NULL && strlen(eak) < CRED_MAX)
        strcpy(ak, eak);
    if (err == COF_OK && sk[0] == '\0' && esk != NULL && strlen(esk) < CRED_MAX)
        strcpy(sk, esk);
    if (err == COF_OK && (ak[0] == '\0' || sk[0] == '\0')) {
        fprintf(stderr,
                "coffer: --blob-store %s needs credentials: COFFER_BLOB_STORE_ACCESS_KEY_ID "
                "and COFFER_BLOB_STORE_SECRET_ACCESS_KEY, or "
                "--blob-store-credentials-file\n",
                c->blob_store);
        err = COF_ERR_CONFIG;
    }
    if (err == COF_OK) {
        struct up_blobs_config uc = {
            .s3 = {.endpoint = c->blob_store_endpoint,
                   .region = c->blob_store_region,
                   .bucket = bucket,
                   .access_key = ak,
                   .secret_key = sk,
                   .ca_file = c->blob_store_ca_file,
                   .retry_ms = c->blob_store_retry_seconds * 1000u},
            .prefix = prefix,
            .part_size = c->blob_store_part_size,
        };
        err = up_blobs_open(&uc, out);
        if (err == COF_ERR_CONFIG)
            fprintf(stderr,
                    "coffer: --blob-store-endpoint must be http(s)://HOST[:PORT], not "
                    "'%s'\n",
                    c->blob_store_endpoint);
        else if (err != COF_OK)
            cof_log_error(NULL, "blob store %s at %s does not answer: %s", c->blob_store,
                          c->blob_store_endpoint, cof_err_name(err));
        else
            cof_log_info(NULL, "blobs kept upstream in %s at %s", c->blob_store,
                         c->blob_store_endpoint);
    }
    memset(sk, 0, sizeof(sk));
    free(bucket);
    free(prefix);
    return err;
}

cof_err srv_blobstore_open(const struct srv_config *c, struct sto_blobs **out)
{
    *out = NULL;
    if (c->blob_store == NULL || c->blob_store[0] == '\0' || strcmp(c->blob_store, "file") == 0)
        return sto_blobs_open(c->data_dir, c->durability_full, out);
    return open_upstream(c, out);
}
