/* SPDX-License-Identifier: Apache-2.0 */
/* The TLS identity of the listener: a PEM key and certificate loaded from a file (LocalStack's
 * CUSTOM_SSL_CERT_PATH: one PEM holding both), or a self-signed one generated on first start
 * (EC P-256, SANs localhost, localhost.localstack.cloud, *.localhost.localstack.cloud,
 * 127.0.0.1) and kept 0600 in the data dir. */
#ifndef CRY_TLSCERT_H
#define CRY_TLSCERT_H

#include <stdbool.h>

#include "common/err.h"

struct cry_tls_identity {
    char *key_pem;  /* owned; wiped on cleanup */
    char *cert_pem; /* owned */
};

/* Reads path (key and certificate PEM blocks in one file). Missing path with generate set:
 * creates it. COF_ERR_CONFIG for a file without both blocks, COF_ERR_IO. */
COF_MUST_CHECK cof_err cry_tls_identity_load(const char *path, bool generate,
                                             struct cry_tls_identity *out);
/* Wipes the key and frees both. Accepts NULL. */
void cry_tls_identity_cleanup(struct cry_tls_identity *id);

#endif
