/* SPDX-License-Identifier: Apache-2.0 */
/* SigV2 string to sign
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html). */
#include "s3/sigv2.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "crypto/digest.h"
#include "crypto/key.h"

/* Query parameters that are part of the signed resource (the list SigV2 signers use). */
static const char *const signed_params[] = {
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
};

#define N_SIGNED (sizeof(signed_params) / sizeof(signed_params[0]))
#define MAX_AMZ  64

struct amz_collect {
    char *names[MAX_AMZ];
    const char *values[MAX_AMZ];
    size_t n;
};

static void collect(void *arg, const char *name, const char *value)
{
    struct amz_collect *c = arg;
    if (strncasecmp(name, "x-amz-", 6) != 0 || c->n == MAX_AMZ)
        return;
    char *lower = strdup(name);
    if (lower == NULL)
        return;
    for (char *p = lower; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    c->names[c->n] = lower;
    c->values[c->n] = value;
    c->n++;
}

static int by_name(const void *a, const void *b)
{
    const struct srv_query_param *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

static int param_index(const char *name)
{
    for (size_t i = 0; i < N_SIGNED; i++)
        if (strcmp(name, signed_params[i]) == 0)
            return (int)i;
    return -1;
}

cof_err srv_sigv2_sign(const struct srv_sigv2_in *in, const char *secret, char out[32])
{
    struct cof_buf b;
    struct amz_collect amz = {{0}, {0}, 0};
    const char *md5 = in->hdrs->get(in->hdrs->arg, "Content-MD5");
    const char *ctype = in->hdrs->get(in->hdrs->arg, "Content-Type");
    cof_buf_init(&b, 64 * 1024);
    cof_err err = cof_buf_printf(&b, "%s\n%s\n%s\n%s\n", in->method, md5 ? md5 : "",
                                 ctype ? ctype : "", in->date);
    in->hdrs->each(in->hdrs->arg, collect, &amz);
    for (size_t i = 0; in->query_amz && in->query != NULL && i < in->query->n; i++)
        collect(&amz, in->query->params[i].name, in->query->params[i].value);
    /* Sort by name, keeping each name's values together ("name:v1,v2"). */
    size_t order[MAX_AMZ];
    for (size_t i = 0; i < amz.n; i++)
        order[i] = i;
    for (size_t i = 1; i < amz.n; i++)
        for (size_t j = i; j > 0 && strcmp(amz.names[order[j - 1]], amz.names[order[j]]) > 0; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (size_t k = 0; err == COF_OK && k < amz.n; k++) {
        size_t i = order[k];
        bool first = k == 0 || strcmp(amz.names[order[k - 1]], amz.names[i]) != 0;
        const char *v = amz.values[i];
        while (*v == ' ')
            v++;
        if (first)
            err = cof_buf_printf(&b, "%s%s:%s", k > 0 ? "\n" : "", amz.names[i], v);
        else
            err = cof_buf_printf(&b, ",%s", v);
    }
    if (err == COF_OK && amz.n > 0)
        err = cof_buf_append(&b, "\n", 1);
    if (err == COF_OK)
        err = cof_buf_puts(&b, in->resource_path);
    /* Signed subresources, sorted by name, values as given (not encoded). */
    const struct srv_query_param *sel[N_SIGNED];
    size_t ns = 0;
    for (size_t i = 0; in->query != NULL && i < in->query->n && ns < N_SIGNED; i++)
        if (param_index(in->query->params[i].name) >= 0)
            sel[ns++] = &in->query->params[i];
    qsort(sel, ns, sizeof(sel[0]), by_name);
    for (size_t i = 0; err == COF_OK && i < ns; i++) {
        const char *v = sel[i]->value;
        err = cof_buf_printf(&b, "%c%s%s%s", i == 0 ? '?' : '&', sel[i]->name,
                             v != NULL && *v ? "=" : "", v != NULL ? v : "");
    }
    uint8_t mac[CRY_SHA1_LEN];
    if (err == COF_OK)
        err = cry_hmac_sha1(secret, strlen(secret), b.data, b.len, mac);
    if (err == COF_OK)
        srv_base64_encode(mac, sizeof(mac), out);
    for (size_t i = 0; i < amz.n; i++)
        free(amz.names[i]);
    cof_buf_cleanup(&b);
    return err;
}

cof_err srv_sigv2_verify(const struct srv_sigv2_in *in, const char *secret, const char *signature)
{
    char want[32];
    cof_err err = srv_sigv2_sign(in, secret, want);
    if (err != COF_OK)
        return err;
    size_t n = strlen(want);
    if (signature == NULL || strlen(signature) != n || !cry_equal(signature, want, n))
        return COF_ERR_SIGNATURE_MISMATCH;
    return COF_OK;
}
