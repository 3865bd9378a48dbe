/* SPDX-License-Identifier: Apache-2.0 */
/* Option parsing: defaults, then "key = value" config file, then environment, then argv.
 * Each option is one table row naming its config key, environment variable and flag. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "common/config.h"

#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"

enum opt_kind {
    OPT_STR,
    OPT_LISTEN,
    OPT_BOOL,
    OPT_DURABILITY,
    OPT_LOGLEVEL,
    OPT_PROFILE,
    OPT_UINT
};

struct opt {
    const char *key;  /* config file key */
    const char *env;  /* environment variable or NULL */
    const char *flag; /* --flag */
    enum opt_kind kind;
    const char *help;
};

static const struct opt opts[] = {
    {"listen", "COFFER_LISTEN", "--listen", OPT_LISTEN,
     "HOST:PORT to listen on (default 127.0.0.1:4566; GATEWAY_LISTEN is honoured)"},
    {"data_dir", "COFFER_DATA_DIR", "--data-dir", OPT_STR,
     "data directory (default ./coffer-data)"},
    {"root_key_file", "COFFER_ROOT_KEY_FILE", "--root-key-file", OPT_STR,
     "root keyring file, created 0600 on first start (default DATA/root.key)"},
    {"config", "COFFER_CONFIG", "--config", OPT_STR,
     "config file (default conf/coffer.conf when it exists)"},
    {"ephemeral", "COFFER_EPHEMERAL", "--ephemeral", OPT_BOOL,
     "use a temporary data dir and root key, removed on exit (test runs)"},
    {"durability", "COFFER_DURABILITY", "--durability", OPT_DURABILITY,
     "full (fsync every acknowledged write; default) or relaxed (survives a process crash only)"},
    {"log_level", "COFFER_LOG_LEVEL", "--log-level", OPT_LOGLEVEL,
     "error, warn, info (default) or debug"},
    {"profile", "COFFER_PROFILE", "--profile", OPT_PROFILE,
     "localstack (default) or aws: which service's behaviour to follow where they differ"},
    {"region", "DEFAULT_REGION", "--region", OPT_STR,
     "region assumed for unsigned requests (default us-east-1; AWS_DEFAULT_REGION honoured)"},
    {"threads", "COFFER_THREADS", "--threads", OPT_UINT,
     "worker threads serving connections (default 4 per usable CPU, at least 16, at most 64)"},
    {"credentials", "COFFER_CREDENTIALS", "--credentials", OPT_STR,
     "ACCESS_KEY:SECRET[,...] accepted when signatures are checked (default test:test)"},
    {"principals", "COFFER_PRINCIPALS", "--principals", OPT_STR,
     "ACCESS_KEY=arn:aws:iam::ACCOUNT:user/NAME[,...]: the principal bucket policies see for a "
     "signed request (default: the account root, arn:aws:iam::000000000000:root)"},
    {"disable_cors_headers", "DISABLE_CORS_HEADERS", "--disable-cors-headers", OPT_BOOL,
     "localstack profile: add no default CORS headers where a bucket has no CORS rules"},
    {"disable_cors_checks", "DISABLE_CORS_CHECKS", "--disable-cors-checks", OPT_BOOL,
     "localstack profile: every origin gets the default CORS headers (Allow-Origin: *)"},
    {"disable_custom_cors_s3", "DISABLE_CUSTOM_CORS_S3", "--disable-custom-cors-s3", OPT_BOOL,
     "localstack profile: ignore bucket CORS rules; the default CORS handling applies"},
    {"extra_cors_allowed_origins", "EXTRA_CORS_ALLOWED_ORIGINS", "--extra-cors-allowed-origins",
     OPT_STR, "comma list of origins given the default CORS headers besides LocalStack's own"},
    {"extra_cors_allowed_headers", "EXTRA_CORS_ALLOWED_HEADERS", "--extra-cors-allowed-headers",
     OPT_STR, "comma list added to the default Access-Control-Allow-Headers"},
    {"extra_cors_expose_headers", "EXTRA_CORS_EXPOSE_HEADERS", "--extra-cors-expose-headers",
     OPT_STR, "comma list added to the default Access-Control-Expose-Headers"},
    /* LocalStack's variable name, so a LocalStack setup keeps working unchanged. */
    {"tls_cert", "CUSTOM_SSL_CERT_PATH", "--tls-cert", OPT_STR,
     "PEM file with the TLS private key and certificate (chain) served on the same port "
     "(default: a self-signed one generated into DATA/tls.pem)"},
    {"admin_endpoints", "COFFER_ADMIN_ENDPOINTS", "--admin-endpoints", OPT_BOOL,
     "serve the state-changing endpoints (/_localstack/state/*, /moto-api/reset, /_coffer/*); "
     "default on in the localstack profile, off in the aws profile (--admin-endpoints=off)"},
    {"header_timeout", "COFFER_HEADER_TIMEOUT", "--header-timeout", OPT_UINT,
     "seconds from connect (or from the end of keep-alive idle time) to complete request "
     "headers: a deadline, not an idle limit (default 15)"},
    {"keepalive_timeout", "COFFER_KEEPALIVE_TIMEOUT", "--keepalive-timeout", OPT_UINT,
     "seconds an idle keep-alive connection is kept between requests (default 60)"},
    {"body_timeout", "COFFER_BODY_TIMEOUT", "--body-timeout", OPT_UINT,
     "seconds a request body upload (or a response) may stall before the connection is closed "
     "(default 60)"},
    {"max_connections", "COFFER_MAX_CONNECTIONS", "--max-connections", OPT_UINT,
     "connections served at once; more get 503 SlowDown (default 8192, lowered to fit the "
     "file descriptor limit)"},
    {"max_connections_per_client", "COFFER_MAX_CONNECTIONS_PER_CLIENT",
     "--max-connections-per-client", OPT_UINT,
     "connections served at once from one client address; more get 503 SlowDown (default "
     "1024; 0: no per-client cap)"},
    {"shutdown_grace", "COFFER_SHUTDOWN_GRACE", "--shutdown-grace", OPT_UINT,
     "seconds requests in flight may take to finish after SIGTERM; idle connections close at "
     "once (default 8)"},
    {"lifecycle_interval", "COFFER_LIFECYCLE_INTERVAL", "--lifecycle-interval", OPT_UINT,
     "seconds from the end of one lifecycle sweep (bucket lifecycle rules applied in the "
     "background) to the start of the next; the first starts that long after start-up (default "
     "3600; 0: none, only `coffer lifecycle run` and POST /_coffer/lifecycle/run)"},
    {"inline_max", "COFFER_INLINE_MAX", "--inline-max", OPT_UINT,
     "bodies of at most this many bytes are stored inline in the metadata store (encrypted the "
     "same way), not as blob files: a durable small PUT is then one shared commit (default "
     "16384; at most 65536; 0: every body is a file)"},
    {"blob_store", "COFFER_BLOB_STORE", "--blob-store", OPT_STR,
     "where blobs (the encrypted bodies) are kept: file (DATA/blobs; default) or "
     "s3://BUCKET[/PREFIX] on an S3-compatible store (Ceph RGW, MinIO, AWS S3); keys and "
     "metadata stay in DATA. Upstream credentials: COFFER_BLOB_STORE_ACCESS_KEY_ID and "
     "COFFER_BLOB_STORE_SECRET_ACCESS_KEY, or --blob-store-credentials-file"},
    {"blob_store_endpoint", "COFFER_BLOB_STORE_ENDPOINT", "--blob-store-endpoint", OPT_STR,
     "http(s)://HOST[:PORT] of the upstream store (required with s3://)"},
    {"blob_store_region", "COFFER_BLOB_STORE_REGION", "--blob-store-region", OPT_STR,
     "region the upstream requests are signed for (default us-east-1)"},
    {"blob_store_credentials_file", "COFFER_BLOB_STORE_CREDENTIALS_FILE",
     "--blob-store-credentials-file", OPT_STR,
     "file with the upstream access key and secret: lines access_key_id = ... and "
     "secret_access_key = ... (aws_ prefixed names and [sections] accepted)"},
    {"blob_store_ca_file", "COFFER_BLOB_STORE_CA_FILE", "--blob-store-ca-file", OPT_STR,
     "PEM CA bundle that verifies the upstream's TLS certificate (default: the system's)"},
    {"blob_store_part_size", "COFFER_BLOB_STORE_PART_SIZE", "--blob-store-part-size", OPT_UINT,
     "bytes per upstream part: a blob up to this size is one PUT, a larger one a multipart "
     "upload made as it streams in (default 8388608; at least 5242880)"},
    {"blob_store_retry_seconds", "COFFER_BLOB_STORE_RETRY_SECONDS", "--blob-store-retry-seconds",
     OPT_UINT,
     "how long one upstream call retries (backoff with jitter) before the request fails with "
     "503 (default 10)"},
    {"backup_interval", "COFFER_BACKUP_INTERVAL", "--backup-interval", OPT_UINT,
     "with --blob-store s3://...: seconds between two sealed metadata backups written to the "
     "store (as `coffer backup` does; the first one interval after start-up). Above 0, a blob "
     "no object names any more is kept upstream until the next backup, so that a restore gives "
     "back every object of the latest backup; 0: no scheduled backups, such blobs go at once "
     "(default 0)"},
    {"backup_keep", "COFFER_BACKUP_KEEP", "--backup-keep", OPT_UINT,
     "how many of the newest backups are kept upstream; each backup deletes the older ones "
     "(default 48; 0: all are kept)"},
    {"init_dir", "COFFER_INIT_DIR", "--init-dir", OPT_STR,
     "run LocalStack init hooks (*.sh, *.py) from DIR/{boot,start,ready,shutdown}.d at each stage "
     "and report them on /_localstack/init (the container uses /etc/localstack/init)"},
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static cof_err set_str(char **dst, const char *v)
{
    char *d = strdup(v);
    if (d == NULL)
        return COF_ERR_NOMEM;
    free(*dst);
    *dst = d;
    return COF_OK;
}

static bool parse_bool(const char *v, bool *out)
{
    if (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
        strcasecmp(v, "on") == 0 || *v == '\0') {
        *out = true;
        return true;
    }
    if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0 ||
        strcasecmp(v, "off") == 0) {
        *out = false;
        return true;
    }
    return false;
}

/* "host:port", ":port", "port", "[v6]:port". GATEWAY_LISTEN may be a comma list: first wins. */
static cof_err parse_listen(struct srv_config *c, const char *v)
{
    char tmp[256];
    size_t n = strcspn(v, ",");
    if (n == 0 || n >= sizeof(tmp))
        return COF_ERR_CONFIG;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *host = tmp;
    char *port = NULL;
    if (tmp[0] == '[') {
        char *end = strchr(tmp, ']');
        if (end == NULL)
            return COF_ERR_CONFIG;
        *end = '\0';
        host = tmp + 1;
        port = end[1] == ':' ? end + 2 : NULL;
    } else {
        char *colon = strrchr(tmp, ':');
        if (colon != NULL) {
            *colon = '\0';
            port = colon + 1;
        } else if (strspn(tmp, "0123456789") == strlen(tmp)) {
            port = tmp;
            host = "";
        }
    }
    if (port != NULL) {
        char *end = NULL;
        errno = 0;
        unsigned long p = strtoul(port, &end, 10);
        if (errno != 0 || end == port || *end != '\0' || p > 65535)
            return COF_ERR_CONFIG;
        c->listen_port = (unsigned)p;
    }
    if (*host != '\0')
        return set_str(&c->listen_host, strcmp(host, "0.0.0.0") == 0 ? "0.0.0.0" : host);
    return COF_OK;
}

/* "AK=arn:aws:iam::123456789012:...[,...]": every entry names a key and an IAM/STS ARN with a
 * 12-digit account, so a typo fails at start-up rather than silently matching no policy. */
static bool valid_principals(const char *v)
{
    const char *p = v;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        const char *eq = memchr(p, '=', len);
        if (eq == NULL || eq == p)
            return false;
        const char *arn = eq + 1;
        size_t alen = len - (size_t)(arn - p);
        if (alen < 27 ||
            (strncmp(arn, "arn:aws:iam::", 13) != 0 && strncmp(arn, "arn:aws:sts::", 13) != 0) ||
            strspn(arn + 13, "0123456789") != 12 || arn[25] != ':')
            return false;
        p += len;
        if (*p == ',')
            p++;
    }
    return true;
}

/* Where each unsigned option is stored, and the values it accepts. */
static unsigned *uint_field(struct srv_config *c, const char *key, unsigned long *out_min,
                            unsigned long *out_max)
{
    const struct {
        const char *key;
        unsigned *field;
        unsigned long min, max;
    } t[] = {
        {"threads", &c->threads, 1, 1024},
        {"header_timeout", &c->header_timeout, 1, 3600},
        {"keepalive_timeout", &c->keepalive_timeout, 1, 86400},
        {"body_timeout", &c->body_timeout, 1, 86400},
        {"max_connections", &c->max_connections, 1, 1u << 20},
        {"max_connections_per_client", &c->max_connections_per_client, 0, 1u << 20},
        {"shutdown_grace", &c->shutdown_grace, 0, 3600},
        {"lifecycle_interval", &c->lifecycle_interval, 0, 7u * 86400},
        {"inline_max", &c->inline_max, 0, 65536},
        {"blob_store_part_size", &c->blob_store_part_size, 5u * 1024 * 1024, 1u << 30},
        {"blob_store_retry_seconds", &c->blob_store_retry_seconds, 0, 3600},
        {"backup_interval", &c->backup_interval, 0, 7u * 86400},
        {"backup_keep", &c->backup_keep, 0, 100000},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (strcmp(t[i].key, key) == 0) {
            *out_min = t[i].min;
            *out_max = t[i].max;
            return t[i].field;
        }
    }
    return NULL;
}

static cof_err apply(struct srv_config *c, const struct opt *o, const char *v, const char *where)
{
    cof_err err = COF_OK;
    bool b = false;
    switch (o->kind) {
    case OPT_STR:
        if (strcmp(o->key, "data_dir") == 0)
            err = set_str(&c->data_dir, v);
        else if (strcmp(o->key, "root_key_file") == 0)
            err = set_str(&c->root_key_file, v);
        else if (strcmp(o->key, "config") == 0)
            err = set_str(&c->config_file, v);
        else if (strcmp(o->key, "region") == 0)
            err = set_str(&c->region, v);
        else if (strcmp(o->key, "credentials") == 0)
            err = set_str(&c->credentials, v);
        else if (strcmp(o->key, "principals") == 0)
            err = valid_principals(v) ? set_str(&c->principals, v) : COF_ERR_CONFIG;
        else if (strcmp(o->key, "extra_cors_allowed_origins") == 0)
            err = set_str(&c->cors_extra_origins, v);
        else if (strcmp(o->key, "extra_cors_allowed_headers") == 0)
            err = set_str(&c->cors_extra_headers, v);
        else if (strcmp(o->key, "extra_cors_expose_headers") == 0)
            err = set_str(&c->cors_extra_expose, v);
        else if (strcmp(o->key, "tls_cert") == 0)
            err = set_str(&c->tls_cert, v); /* "" (an empty env var): self-signed */
        else if (strcmp(o->key, "init_dir") == 0)
            err = set_str(&c->init_dir, v);
        else if (strcmp(o->key, "blob_store") == 0)
            err = set_str(&c->blob_store, v);
        else if (strcmp(o->key, "blob_store_endpoint") == 0)
            err = set_str(&c->blob_store_endpoint, v);
        else if (strcmp(o->key, "blob_store_region") == 0)
            err = set_str(&c->blob_store_region, v);
        else if (strcmp(o->key, "blob_store_credentials_file") == 0)
            err = set_str(&c->blob_store_credentials_file, v);
        else if (strcmp(o->key, "blob_store_ca_file") == 0)
            err = set_str(&c->blob_store_ca_file, v);
        break;
    case OPT_LISTEN:
        err = parse_listen(c, v);
        break;
    case OPT_BOOL:
        if (!parse_bool(v, &b))
            err = COF_ERR_CONFIG;
        else if (strcmp(o->key, "disable_cors_headers") == 0)
            c->cors_disable_headers = b;
        else if (strcmp(o->key, "disable_cors_checks") == 0)
            c->cors_disable_checks = b;
        else if (strcmp(o->key, "disable_custom_cors_s3") == 0)
            c->cors_disable_custom_s3 = b;
        else if (strcmp(o->key, "admin_endpoints") == 0) {
            c->admin_endpoints = b;
            c->admin_endpoints_given = true;
        } else
            c->ephemeral = b;
        break;
    case OPT_DURABILITY:
        if (strcasecmp(v, "full") == 0)
            c->durability_full = true;
        else if (strcasecmp(v, "relaxed") == 0)
            c->durability_full = false;
        else
            err = COF_ERR_CONFIG;
        break;
    case OPT_LOGLEVEL: {
        int l = cof_log_parse_level(v);
        if (l < 0)
            err = COF_ERR_CONFIG;
        else
            c->log_level = l;
        break;
    }
    case OPT_PROFILE:
        if (strcasecmp(v, "localstack") == 0)
            c->profile = SRV_PROFILE_LOCALSTACK;
        else if (strcasecmp(v, "aws") == 0)
            c->profile = SRV_PROFILE_AWS;
        else
            err = COF_ERR_CONFIG;
        break;
    case OPT_UINT: {
        unsigned long lo = 0, hi = 0;
        unsigned *field = uint_field(c, o->key, &lo, &hi);
        char *end = NULL;
        errno = 0;
        unsigned long n = strtoul(v, &end, 10);
        if (field == NULL || end == v || *end != '\0' || errno != 0 || v[0] == '-' || n < lo ||
            n > hi)
            err = COF_ERR_CONFIG;
        else
            *field = (unsigned)n;
        break;
    }
    }
    if (err == COF_ERR_CONFIG)
        fprintf(stderr, "coffer: invalid value '%s' for %s (%s)\n", v, o->flag, where);
    return err;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static cof_err load_file(struct srv_config *c, const char *path, bool must_exist)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (!must_exist && errno == ENOENT)
            return COF_OK;
        fprintf(stderr, "coffer: cannot open config file %s: %s\n", path, strerror(errno));
        return COF_ERR_CONFIG;
    }
    char line[1024];
    int lineno = 0;
    cof_err err = COF_OK;
    while (err == COF_OK && fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#' || *s == ';' || *s == '[')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            fprintf(stderr, "coffer: %s:%d: expected key = value\n", path, lineno);
            err = COF_ERR_CONFIG;
            break;
        }
        *eq = '\0';
        char *key = trim(s);
        char *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        const struct opt *o = NULL;
        for (size_t i = 0; i < N_OPTS; i++)
            if (strcmp(opts[i].key, key) == 0)
                o = &opts[i];
        if (o == NULL || strcmp(key, "config") == 0) {
            fprintf(stderr, "coffer: %s:%d: unknown option '%s'\n", path, lineno, key);
            err = COF_ERR_CONFIG;
            break;
        }
        err = apply(c, o, val, path);
    }
    fclose(f);
    return err;
}

void srv_config_usage(const char *prog)
{
    printf("Usage: %s [OPTIONS]            serve S3 on HOST:PORT\n"
           "       %s fsck [OPTIONS] [--dry-run]   check the data dir; remove unreferenced blobs\n"
           "       %s kms SUBCOMMAND [OPTIONS]     manage the local KMS keys (kms --help)\n"
           "       %s keys list|rotate|rewrap|retire ID [OPTIONS]   manage the root keyring\n"
           "       %s lifecycle run [--now TIME] [OPTIONS]   apply the buckets' lifecycle "
           "rules now\n"
           "       %s backup [--output FILE] [OPTIONS]   seal a snapshot of the metadata into "
           "the upstream store (or FILE)\n"
           "       %s restore [--input FILE] [--backup NAME] [OPTIONS]   rebuild a new data dir "
           "from the latest backup\n"
           "       %s blobs migrate --to upstream|files [OPTIONS]   move the blobs between local "
           "files and the --blob-store\n"
           "\nOptions (config file key / environment variable in brackets):\n",
           prog, prog, prog, prog, prog, prog, prog, prog);
    for (size_t i = 0; i < N_OPTS; i++) {
        const char *arg = opts[i].kind == OPT_BOOL ? "" : " VALUE";
        printf("  %s%s\n      %s [%s / %s]\n", opts[i].flag, arg, opts[i].help, opts[i].key,
               opts[i].env);
    }
    printf("  --help\n      show this help\n"
           "  --version\n      print coffer's version\n"
           "  --man\n      print this reference as a manual page (roff)\n"
           "\nPrecedence: defaults < config file < environment < command line.\n"
           "LocalStack variables honoured: GATEWAY_LISTEN, DEFAULT_REGION, AWS_DEFAULT_REGION,\n"
           "S3_SKIP_KMS_KEY_VALIDATION (0: unknown KMS keys are errors, not created on use),\n"
           "S3_SKIP_SIGNATURE_VALIDATION (0: SigV4 signatures and presigned URLs are checked),\n"
           "and the CORS variables above (DISABLE_CORS_*, EXTRA_CORS_*).\n"
           "Boolean options take =on/=off (e.g. --admin-endpoints=off); alone they mean on.\n"
           "coffer prints 'Ready.' on stdout once it serves; SIGTERM/SIGINT stop it cleanly.\n");
}

/* Text for roff: backslashes and hyphens escaped, and no line may start with a control
 * character ('.' or '\''), which the help texts never do. */
static void roff(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            fputs("\\e", stdout);
        else if (*s == '-')
            fputs("\\-", stdout);
        else
            putchar(*s);
    }
}

/* coffer(1), from the same option table as --help, so the two never drift. */
static void print_man(void)
{
    printf(".TH COFFER 1 \"\" \"coffer %s\" \"User Commands\"\n", COFFER_VERSION);
    puts(".SH NAME\ncoffer \\- local S3\\-compatible object storage that encrypts what it stores\n"
         ".SH SYNOPSIS\n.B coffer\n[\\fIOPTIONS\\fR]\n.br\n.B coffer fsck\n"
         "[\\fIOPTIONS\\fR] [\\fB\\-\\-dry\\-run\\fR]\n.br\n.B coffer kms\n"
         "\\fISUBCOMMAND\\fR [\\fIOPTIONS\\fR]\n.br\n.B coffer keys\n"
         "\\fBlist\\fR|\\fBrotate\\fR|\\fBrewrap\\fR|\\fBretire\\fR \\fIID\\fR "
         "[\\fIOPTIONS\\fR]\n.br\n.B coffer lifecycle run\n"
         "[\\fB\\-\\-now\\fR \\fITIME\\fR] [\\fIOPTIONS\\fR]\n"
         ".SH DESCRIPTION\n"
         "coffer serves the S3 API on one port, plain HTTP and TLS alike, and keeps every object "
         "on disk as AES\\-256\\-GCM ciphertext under its own data key, wrapped by a root key "
         "(SSE\\-S3), a local KMS key (SSE\\-KMS) or the customer's key (SSE\\-C). It "
         "answers as LocalStack's S3 does (the \\fBlocalstack\\fR profile) or as AWS does "
         "(\\fBaws\\fR). It prints \\fBReady.\\fR on standard output once it serves.\n"
         ".PP\n\\fBcoffer fsck\\fR decrypts every object end to end, reports damaged ones "
         "(exit status 1) and removes blob files no object references. \\fBcoffer kms\\fR "
         "manages the local KMS keys and \\fBcoffer keys\\fR the root keyring "
         "(\\fBrotate\\fR adds a new active root key and re\\-wraps every data key under it). "
         "\\fBcoffer lifecycle run\\fR applies every bucket's lifecycle rules once, as of "
         "\\fITIME\\fR (ISO 8601; default now), beside a running server or not.\n"
         ".SH OPTIONS\n"
         "Each option can be given on the command line, in the configuration file (key in "
         "brackets) or in the environment (variable in brackets). Precedence: built\\-in "
         "defaults < configuration file < environment < command line.");
    for (size_t i = 0; i < N_OPTS; i++) {
        printf(".TP\n.B ");
        roff(opts[i].flag);
        if (opts[i].kind != OPT_BOOL)
            printf(" \\fIVALUE\\fR");
        putchar('\n');
        roff(opts[i].help);
        printf(" [\\fB%s\\fR / \\fB", opts[i].key);
        roff(opts[i].env);
        printf("\\fR]\n");
    }
    puts(".TP\n.B \\-\\-help\nshow the option reference\n"
         ".TP\n.B \\-\\-version\nprint coffer's version\n"
         ".TP\n.B \\-\\-man\nprint this manual page\n"
         ".SH ENVIRONMENT\n"
         "LocalStack's variables are honoured: \\fBGATEWAY_LISTEN\\fR, \\fBDEFAULT_REGION\\fR, "
         "\\fBAWS_DEFAULT_REGION\\fR, \\fBS3_SKIP_KMS_KEY_VALIDATION\\fR (0: unknown KMS keys "
         "are errors, not created on use), \\fBS3_SKIP_SIGNATURE_VALIDATION\\fR (0: SigV4 "
         "signatures and presigned URLs are checked), \\fBCUSTOM_SSL_CERT_PATH\\fR and the "
         "CORS variables above.\n"
         ".SH FILES\n.TP\n.I /etc/coffer/coffer.conf\n"
         "the configuration file of the Debian package's service (\\fBkey = value\\fR lines)\n"
         ".TP\n.I /etc/coffer/root.key\nits root keyring (0600, owned by the \\fBcoffer\\fR "
         "user; back it up apart from the data: without it the data cannot be read). Rotate "
         "it as that user: \\fBsudo \\-u coffer coffer keys rotate \\-\\-config "
         "/etc/coffer/coffer.conf\\fR\n"
         ".TP\n.I /var/lib/coffer\nits data: coffer.db (SQLite), blobs/ (ciphertext), tmp/\n"
         ".SH SIGNALS\n\\fBSIGTERM\\fR and \\fBSIGINT\\fR stop the server cleanly, "
         "finishing requests in flight; the exit status is then 0. Under systemd "
         "(\\fBType=notify\\fR) coffer reports READY=1 once it serves.\n"
         ".SH SEE ALSO\n\\fBaws\\fR(1), \\fBsystemctl\\fR(1)");
}

static const struct opt *find_flag(const char *arg, const char **out_inline)
{
    *out_inline = NULL;
    for (size_t i = 0; i < N_OPTS; i++) {
        size_t fl = strlen(opts[i].flag);
        if (strncmp(arg, opts[i].flag, fl) == 0) {
            if (arg[fl] == '\0')
                return &opts[i];
            if (arg[fl] == '=') {
                *out_inline = arg + fl + 1;
                return &opts[i];
            }
        }
    }
    return NULL;
}

/* Workers block in fsync and in the SQLite commit, and group commit needs several writers in
 * flight, so there are more workers than CPUs: 4 per CPU this process may run on (its affinity
 * mask: a container's cpuset), at least 16, at most 64. The floor is measured: on 2 CPUs, 8
 * workers served about 30% fewer durable 4 KiB PUTs at 16 connections than 16 (bench/README.md). */
static unsigned default_threads(void)
{
    cpu_set_t set;
    long n = 0;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        n = CPU_COUNT(&set);
    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 4)
        return 16;
    return n >= 16 ? 64 : (unsigned)n * 4;
}

cof_err srv_config_load(int argc, char **argv, int first_arg, struct srv_config *c, bool *out_help)
{
    memset(c, 0, sizeof(*c));
    *out_help = false;
    c->listen_port = 4566;
    c->durability_full = true;
    c->log_level = COF_LOG_INFO;
    c->threads = default_threads();
    c->header_timeout = 15;
    c->keepalive_timeout = 60;
    c->body_timeout = 60;
    c->max_connections = 8192;
    c->max_connections_per_client = 1024;
    c->shutdown_grace = 8;
    c->lifecycle_interval = 3600;
    c->inline_max = 16384;
    c->blob_store_part_size = 8u * 1024 * 1024;
    c->blob_store_retry_seconds = 10;
    c->backup_keep = 48;
    cof_err err = set_str(&c->listen_host, "127.0.0.1");
    if (err == COF_OK)
        err = set_str(&c->region, "us-east-1");
    if (err != COF_OK)
        return err;

    /* Pass 1: find --config and --help on the command line. */
    const char *cfg = getenv("COFFER_CONFIG");
    for (int i = first_arg; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            srv_config_usage(argv[0]);
            *out_help = true;
            return COF_OK;
        }
        if (strcmp(argv[i], "--man") == 0) {
            print_man();
            *out_help = true;
            return COF_OK;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("coffer %s\n", COFFER_VERSION);
            *out_help = true;
            return COF_OK;
        }
        const char *inl = NULL;
        const struct opt *o = find_flag(argv[i], &inl);
        if (o != NULL && strcmp(o->key, "config") == 0)
            cfg = inl != NULL ? inl : (i + 1 < argc ? argv[i + 1] : NULL);
    }
    if (cfg != NULL)
        err = load_file(c, cfg, true);
    else
        err = load_file(c, "conf/coffer.conf", false);
    if (err != COF_OK)
        return err;

    /* Environment. LocalStack strips LOCALSTACK_ from variables; accept both spellings. */
    const char *gl = getenv("GATEWAY_LISTEN");
    if (gl == NULL)
        gl = getenv("LOCALSTACK_GATEWAY_LISTEN");
    if (gl != NULL && *gl != '\0' && (err = parse_listen(c, gl)) != COF_OK) {
        fprintf(stderr, "coffer: invalid GATEWAY_LISTEN '%s'\n", gl);
        return err;
    }
    const char *ar = getenv("AWS_DEFAULT_REGION");
    if (ar != NULL && *ar != '\0' && (err = set_str(&c->region, ar)) != COF_OK)
        return err;
    for (size_t i = 0; i < N_OPTS; i++) {
        const char *v = getenv(opts[i].env);
        if (v == NULL || strcmp(opts[i].key, "config") == 0)
            continue;
        /* LocalStack's variables (DISABLE_CORS_CHECKS=, EXTRA_CORS_...=) count as unset when
         * empty, as LocalStack's is_env_true reads them; COFFER_* booleans keep "" = on. */
        if (*v == '\0' && strncmp(opts[i].env, "COFFER_", 7) != 0)
            continue;
        err = apply(c, &opts[i], v, opts[i].env);
        if (err != COF_OK)
            return err;
    }

    /* Command line. */
    for (int i = first_arg; i < argc; i++) {
        const char *inl = NULL;
        const struct opt *o = find_flag(argv[i], &inl);
        if (o == NULL) {
            fprintf(stderr, "coffer: unknown argument '%s' (see --help)\n", argv[i]);
            return COF_ERR_CONFIG;
        }
        const char *v = inl;
        if (v == NULL && o->kind == OPT_BOOL)
            v = "true";
        if (v == NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "coffer: %s needs a value\n", o->flag);
                return COF_ERR_CONFIG;
            }
            v = argv[++i];
        }
        err = apply(c, o, v, "command line");
        if (err != COF_OK)
            return err;
    }
    if (c->data_dir == NULL && !c->ephemeral)
        err = set_str(&c->data_dir, "coffer-data");
    /* LocalStack's S3_SKIP_KMS_KEY_VALIDATION (default on: unknown keys are created on first
     * use); the aws profile always validates. */
    const char *skip = getenv("S3_SKIP_KMS_KEY_VALIDATION");
    bool skip_validation = true;
    if (skip != NULL && (strcmp(skip, "0") == 0 || strcasecmp(skip, "false") == 0))
        skip_validation = false;
    c->kms_validate = c->profile == SRV_PROFILE_AWS || !skip_validation;
    /* LocalStack's S3_SKIP_SIGNATURE_VALIDATION (default on); the aws profile always checks. */
    const char *skip_sig = getenv("S3_SKIP_SIGNATURE_VALIDATION");
    bool skip_sigs =
        !(skip_sig != NULL && (strcmp(skip_sig, "0") == 0 || strcasecmp(skip_sig, "false") == 0));
    c->verify_signatures = c->profile == SRV_PROFILE_AWS || !skip_sigs;
    /* LocalStack serves its state resets to anyone; AWS has no such thing. */
    if (!c->admin_endpoints_given)
        c->admin_endpoints = c->profile == SRV_PROFILE_LOCALSTACK;
    if (err == COF_OK && c->credentials == NULL)
        err = set_str(&c->credentials, "test:test");
    return err;
}

void srv_config_cleanup(struct srv_config *c)
{
    if (c == NULL)
        return;
    free(c->listen_host);
    free(c->data_dir);
    free(c->root_key_file);
    free(c->config_file);
    free(c->region);
    free(c->credentials);
    free(c->principals);
    free(c->cors_extra_origins);
    free(c->cors_extra_headers);
    free(c->cors_extra_expose);
    free(c->tls_cert);
    free(c->init_dir);
    free(c->blob_store);
    free(c->blob_store_endpoint);
    free(c->blob_store_region);
    free(c->blob_store_credentials_file);
    free(c->blob_store_ca_file);
    memset(c, 0, sizeof(*c));
}

/* The secret of an access key from the configured "AK:SECRET,..." list, or false. */
bool srv_config_secret_for(const char *creds, const char *ak, char *out, size_t n)
{
    size_t akl = strlen(ak);
    const char *p = creds;
    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (colon != NULL && (size_t)(colon - p) == akl && memcmp(p, ak, akl) == 0) {
            size_t sl = len - akl - 1;
            if (sl >= n)
                return false;
            memcpy(out, colon + 1, sl);
            out[sl] = '\0';
            return true;
        }
        p = comma != NULL ? comma + 1 : NULL;
    }
    return false;
}
