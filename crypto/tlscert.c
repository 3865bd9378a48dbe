/* SPDX-License-Identifier: Apache-2.0 */
/* Self-signed certificate generation and PEM loading for the TLS side of the listener. */
#include "crypto/tlscert.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

#define MAX_PEM (1u << 20)

static char *mem_to_str(BIO *b)
{
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    if (n <= 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s != NULL) {
        memcpy(s, p, (size_t)n);
        s[n] = '\0';
    }
    return s;
}

/* Builds a self-signed EC certificate and writes key+cert PEM to path (0600, O_EXCL). */
static cof_err generate(const char *path)
{
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509V3_CTX v3;
    X509_EXTENSION *ext = NULL;
    BIO *b = BIO_new(BIO_s_mem());
    char *text = NULL;
    cof_err err = COF_ERR_INTERNAL;
    int fd = -1;
    if (pkey == NULL || x == NULL || b == NULL)
        goto out;
    X509_set_version(x, 2);
    uint8_t serial[16];
    if (RAND_bytes(serial, sizeof(serial)) != 1)
        goto out;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL) {
        BN_free(bn);
        goto out;
    }
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"localhost.localstack.cloud", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"coffer", -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
                              "DNS:localhost,DNS:localhost.localstack.cloud,"
                              "DNS:*.localhost.localstack.cloud,IP:127.0.0.1,IP:::1");
    if (ext == NULL || X509_add_ext(x, ext, -1) != 1)
        goto out;
    if (X509_sign(x, pkey, EVP_sha256()) == 0)
        goto out;
    if (PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
        PEM_write_bio_X509(b, x) != 1)
        goto out;
    text = mem_to_str(b);
    if (text == NULL)
        goto out;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    size_t len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
        cof_log_error(NULL, "tls: cannot write %s: %s", path, strerror(errno));
        err = COF_ERR_IO;
        goto out;
    }
    cof_log_info(NULL, "tls: generated a self-signed certificate in %s", path);
    err = COF_OK;
out:
    if (fd >= 0)
        close(fd);
    if (text != NULL) {
        OPENSSL_cleanse(text, strlen(text));
        free(text);
    }
    X509_EXTENSION_free(ext);
    BIO_free(b);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return err;
}

/* Copies the PEM block starting at the first line that begins with `begin` up to its END line. */
static char *pem_block(const char *text, const char *kind_prefix)
{
    const char *p = text;
    while ((p = strstr(p, "-----BEGIN ")) != NULL) {
        const char *kind = p + 11;
        if (strncmp(kind, kind_prefix, strlen(kind_prefix)) == 0 ||
            (strcmp(kind_prefix, "PRIVATE") == 0 && strstr(kind, "PRIVATE KEY-----") != NULL &&
             strstr(kind, "PRIVATE KEY-----") < strchr(kind, '\n'))) {
            const char *end = strstr(p, "-----END ");
            if (end == NULL)
                return NULL;
            const char *eol = strchr(end, '\n');
            size_t n = eol != NULL ? (size_t)(eol - p) + 1 : strlen(p);
            char *s = malloc(n + 1);
            if (s != NULL) {
                memcpy(s, p, n);
                s[n] = '\0';
            }
            return s;
        }
        p += 11;
    }
    return NULL;
}

cof_err cry_tls_identity_load(const char *path, bool generate_missing, struct cry_tls_identity *out)
{
    memset(out, 0, sizeof(*out));
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT || !generate_missing) {
            cof_log_error(NULL, "tls: %s: %s", path, strerror(errno));
            return COF_ERR_IO;
        }
        cof_err err = generate(path);
        if (err != COF_OK)
            return err;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        cof_log_error(NULL, "tls: cannot open %s: %s", path, strerror(errno));
        return COF_ERR_IO;
    }
    char *text = calloc(1, MAX_PEM + 1);
    size_t n = text != NULL ? fread(text, 1, MAX_PEM, f) : 0;
    fclose(f);
    if (text == NULL)
        return COF_ERR_NOMEM;
    text[n] = '\0';
    out->key_pem = pem_block(text, "PRIVATE");
    out->cert_pem = pem_block(text, "CERTIFICATE");
    OPENSSL_cleanse(text, n);
    free(text);
    if (out->key_pem == NULL || out->cert_pem == NULL) {
        cof_log_error(NULL, "tls: %s must hold a private key and a certificate (PEM)", path);
        cry_tls_identity_cleanup(out);
        return COF_ERR_CONFIG;
    }
    return COF_OK;
}

void cry_tls_identity_cleanup(struct cry_tls_identity *id)
{
    if (id == NULL)
        return;
    if (id->key_pem != NULL) {
        OPENSSL_cleanse(id->key_pem, strlen(id->key_pem));
        free(id->key_pem);
    }
    free(id->cert_pem);
    id->key_pem = NULL;
    id->cert_pem = NULL;
}
