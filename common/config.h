/* SPDX-License-Identifier: Apache-2.0 */
/* struct srv_config: every option, with one precedence: built-in defaults < config file <
 * environment < command line. Parsing only; nothing here opens sockets or data. */
#ifndef SRV_CONFIG_H
#define SRV_CONFIG_H

#include <stdbool.h>

#include "common/err.h"

enum srv_profile { SRV_PROFILE_LOCALSTACK = 0, SRV_PROFILE_AWS };

struct srv_config {
    char *listen_host;    /* "127.0.0.1" */
    unsigned listen_port; /* 4566; 0 = pick an ephemeral port */
    char *data_dir;       /* NULL with ephemeral */
    char *root_key_file;  /* default <data_dir>/root.key */
    char *config_file;
    bool ephemeral;
    bool durability_full;
    int log_level; /* enum cof_log_level */
    enum srv_profile profile;
    char *region;           /* default region for requests without a signature */
    unsigned threads;       /* libmicrohttpd thread pool size */
    bool kms_validate;      /* unknown KMS key ids are errors (else created on first use) */
    bool verify_signatures; /* SigV4 checked (aws profile, or S3_SKIP_SIGNATURE_VALIDATION=0) */
    char *credentials;      /* "AK:SECRET[,AK:SECRET...]" */
    char *principals;       /* "AK=ARN[,AK=ARN...]": who an access key is (bucket policies) */
    /* CORS (LocalStack's variables; the aws profile follows AWS and ignores them) */
    bool cors_disable_headers;   /* DISABLE_CORS_HEADERS: no default CORS headers */
    bool cors_disable_checks;    /* DISABLE_CORS_CHECKS: every origin gets the default */
    bool cors_disable_custom_s3; /* DISABLE_CUSTOM_CORS_S3: bucket rules ignored */
    char *cors_extra_origins;    /* EXTRA_CORS_ALLOWED_ORIGINS, comma list, or NULL */
    char *cors_extra_headers;    /* EXTRA_CORS_ALLOWED_HEADERS */
    char *cors_extra_expose;     /* EXTRA_CORS_EXPOSE_HEADERS */
    char *tls_cert;              /* key + certificate PEM; NULL or "" = self-signed in data_dir */
    /* State-changing admin endpoints (LocalStack's state resets, any /_coffer/ endpoint):
     * served when true. Default: on in the localstack profile, off in the aws profile. */
    bool admin_endpoints;
    bool admin_endpoints_given; /* set explicitly (else the profile decides) */
    /* Connections (seconds / counts) */
    unsigned header_timeout;             /* connect to complete request headers */
    unsigned keepalive_timeout;          /* idle between requests */
    unsigned body_timeout;               /* idle while a body is sent or received */
    unsigned max_connections;            /* admitted at once; more get 503 SlowDown */
    unsigned max_connections_per_client; /* admitted from one address; 0 = no cap */
    unsigned shutdown_grace;             /* requests in flight may finish this long at stop */
    unsigned lifecycle_interval;         /* seconds from one sweep's end to the next; 0: none */
    unsigned inline_max;                 /* bodies up to this many bytes stored inline; 0: none */
    /* Where blobs are kept: NULL or "file" (DATA/blobs), or "s3://BUCKET[/PREFIX]" upstream */
    char *blob_store;
    char *blob_store_endpoint;         /* "http(s)://host[:port]" of the upstream */
    char *blob_store_region;           /* its signing region; NULL: us-east-1 */
    char *blob_store_credentials_file; /* access key and secret (else the environment) */
    char *blob_store_ca_file;          /* CA bundle for TLS to the upstream; NULL: the system's */
    unsigned blob_store_part_size;     /* bytes per upstream part (a PUT up to it is one PUT) */
    unsigned blob_store_retry_seconds; /* how long one upstream call keeps retrying */
    unsigned backup_interval;          /* seconds between metadata backups upstream; 0: none */
    unsigned backup_keep;              /* newest backups kept upstream; 0: all */
    /* LocalStack init hooks: <init_dir>/{boot,start,ready,shutdown}.d; NULL: none */
    char *init_dir;
};

/* Fills c from defaults, the config file (--config / COFFER_CONFIG / conf/coffer.conf if it
 * exists), the environment and argv (argv[first_arg..]). Prints the reason and returns
 * COF_ERR_CONFIG on a bad option. *out_help is set when --help, --version or --man was given
 * (and printed). */
COF_MUST_CHECK cof_err srv_config_load(int argc, char **argv, int first_arg, struct srv_config *c,
                                       bool *out_help);
/* Frees the strings. Accepts NULL. */
void srv_config_cleanup(struct srv_config *c);
/* Prints the option reference (coffer --help). */
void srv_config_usage(const char *prog);

/* The secret of access key ak in a configured "AK:SECRET,..." list (creds), copied into out (n
 * bytes); false when the key is unknown or the secret does not fit. The caller wipes out. */
bool srv_config_secret_for(const char *creds, const char *ak, char *out, size_t n);

#endif
