/* SPDX-License-Identifier: Apache-2.0 */
/* srv_config_load: defaults, config file, environment and argv precedence; bad values. */
#include "check.h"
#include "common/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"

static cof_err load(int argc, char **argv, struct srv_config *c)
{
    bool help = false;
    return srv_config_load(argc, argv, 1, c, &help);
}

static void clear_env(void)
{
    const char *vars[] = {"COFFER_LISTEN",
                          "COFFER_DATA_DIR",
                          "COFFER_DURABILITY",
                          "GATEWAY_LISTEN",
                          "LOCALSTACK_GATEWAY_LISTEN",
                          "AWS_DEFAULT_REGION",
                          "DEFAULT_REGION",
                          "COFFER_CONFIG",
                          "COFFER_LOG_LEVEL",
                          "COFFER_PROFILE",
                          "COFFER_EPHEMERAL",
                          "COFFER_THREADS",
                          "COFFER_ROOT_KEY_FILE",
                          "DISABLE_CORS_HEADERS",
                          "DISABLE_CORS_CHECKS",
                          "DISABLE_CUSTOM_CORS_S3",
                          "EXTRA_CORS_ALLOWED_ORIGINS",
                          "EXTRA_CORS_ALLOWED_HEADERS",
                          "EXTRA_CORS_EXPOSE_HEADERS",
                          "CUSTOM_SSL_CERT_PATH",
                          "S3_SKIP_SIGNATURE_VALIDATION",
                          "COFFER_ADMIN_ENDPOINTS",
                          "COFFER_HEADER_TIMEOUT",
                          "COFFER_KEEPALIVE_TIMEOUT",
                          "COFFER_BODY_TIMEOUT",
                          "COFFER_MAX_CONNECTIONS",
                          "COFFER_MAX_CONNECTIONS_PER_CLIENT",
                          "COFFER_SHUTDOWN_GRACE"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
}

static void test_defaults(void)
{
    struct srv_config c;
    char *argv[] = {"coffer", NULL};
    CHECK_EQ_INT(load(1, argv, &c), COF_OK);
    CHECK_EQ_STR(c.listen_host, "127.0.0.1");
    CHECK_EQ_INT(c.listen_port, 4566);
    CHECK_EQ_STR(c.data_dir, "coffer-data");
    CHECK(c.durability_full);
    CHECK_EQ_INT(c.log_level, COF_LOG_INFO);
    CHECK_EQ_INT(c.profile, SRV_PROFILE_LOCALSTACK);
    CHECK_EQ_STR(c.region, "us-east-1");
    srv_config_cleanup(&c);
}

static void test_precedence(void)
{
    char path[] = "/tmp/coffer-conf-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# comment\nlisten = 0.0.0.0:1000\ndata_dir = \"/from/file\"\n"
               "durability = relaxed\nlog_level = debug\n");
    fclose(f);

    struct srv_config c;
    char *argv1[] = {"coffer", "--config", path, NULL};
    CHECK_EQ_INT(load(3, argv1, &c), COF_OK);
    CHECK_EQ_STR(c.listen_host, "0.0.0.0");
    CHECK_EQ_INT(c.listen_port, 1000);
    CHECK_EQ_STR(c.data_dir, "/from/file");
    CHECK(!c.durability_full);
    CHECK_EQ_INT(c.log_level, COF_LOG_DEBUG);
    srv_config_cleanup(&c);

    setenv("COFFER_DATA_DIR", "/from/env", 1);
    setenv("GATEWAY_LISTEN", "127.0.0.2:2000,0.0.0.0:443", 1);
    CHECK_EQ_INT(load(3, argv1, &c), COF_OK);
    CHECK_EQ_STR(c.data_dir, "/from/env");
    CHECK_EQ_STR(c.listen_host, "127.0.0.2");
    CHECK_EQ_INT(c.listen_port, 2000);
    srv_config_cleanup(&c);

    char *argv2[] = {"coffer",       "--config", path, "--data-dir=/from/argv", "--listen", ":3000",
                     "--durability", "full",     NULL};
    CHECK_EQ_INT(load(8, argv2, &c), COF_OK);
    CHECK_EQ_STR(c.data_dir, "/from/argv");
    CHECK_EQ_STR(c.listen_host, "127.0.0.2");
    CHECK_EQ_INT(c.listen_port, 3000);
    CHECK(c.durability_full);
    srv_config_cleanup(&c);
    clear_env();
    unlink(path);
}

static void test_bad_values(void)
{
    struct srv_config c;
    char *bad[][3] = {
        {"coffer", "--durability", "sometimes"},
        {"coffer", "--listen", "host:99999"},
        {"coffer", "--listen", "host:abc"},
        {"coffer", "--log-level", "loud"},
        {"coffer", "--profile", "gcs"},
        {"coffer", "--threads", "0"},
        {"coffer", "--bogus", "1"},
        {"coffer", "--config", "/nonexistent/coffer.conf"},
        {"coffer", "--principals", "AK"},
        {"coffer", "--principals", "=arn:aws:iam::111122223333:root"},
        {"coffer", "--principals", "AK=arn:aws:iam::1111:root"},
        {"coffer", "--principals", "AK=arn:aws:s3:::bucket"},
        {"coffer", "--principals", "AK=arn:aws:iam::111122223333:user/a,B"},
        {"coffer", "--header-timeout", "0"},
        {"coffer", "--header-timeout", "-5"},
        {"coffer", "--header-timeout", "15s"},
        {"coffer", "--keepalive-timeout", "0"},
        {"coffer", "--body-timeout", "99999999"},
        {"coffer", "--max-connections", "0"},
        {"coffer", "--max-connections", "2000000"},
        {"coffer", "--max-connections-per-client", "x"},
        {"coffer", "--shutdown-grace", "3601"},
        {"coffer", "--shutdown-grace", "18446744073709551617"},
        {"coffer", "--admin-endpoints=maybe", NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ_INT(load(bad[i][2] != NULL ? 3 : 2, bad[i], &c), COF_ERR_CONFIG);
        srv_config_cleanup(&c);
    }
    char *missing[] = {"coffer", "--data-dir", NULL};
    CHECK_EQ_INT(load(2, missing, &c), COF_ERR_CONFIG);
    srv_config_cleanup(&c);

    char path[] = "/tmp/coffer-conf-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "no equals sign here\n");
    fclose(f);
    char *argv[] = {"coffer", "--config", path, NULL};
    CHECK_EQ_INT(load(3, argv, &c), COF_ERR_CONFIG);
    srv_config_cleanup(&c);
    f = fopen(path, "w");
    fprintf(f, "unknown_key = 1\n");
    fclose(f);
    CHECK_EQ_INT(load(3, argv, &c), COF_ERR_CONFIG);
    srv_config_cleanup(&c);
    unlink(path);
}

static void test_principals(void)
{
    struct srv_config c;
    char *argv[] = {"coffer", "--principals",
                    "AK1=arn:aws:iam::111122223333:user/alice,AK2=arn:aws:sts::000000000000:"
                    "assumed-role/r/s",
                    NULL};
    CHECK_EQ_INT(load(3, argv, &c), COF_OK);
    CHECK_EQ_STR(c.principals, "AK1=arn:aws:iam::111122223333:user/alice,AK2=arn:aws:sts::"
                               "000000000000:assumed-role/r/s");
    srv_config_cleanup(&c);
    setenv("COFFER_PRINCIPALS", "E=arn:aws:iam::111122223333:root", 1);
    char *none[] = {"coffer", NULL};
    CHECK_EQ_INT(load(1, none, &c), COF_OK);
    CHECK_EQ_STR(c.principals, "E=arn:aws:iam::111122223333:root");
    srv_config_cleanup(&c);
    unsetenv("COFFER_PRINCIPALS");
}

static void test_ephemeral(void)
{
    struct srv_config c;
    char *argv[] = {"coffer", "--ephemeral", NULL};
    CHECK_EQ_INT(load(2, argv, &c), COF_OK);
    CHECK(c.ephemeral);
    CHECK(c.data_dir == NULL);
    srv_config_cleanup(&c);
}

/* LocalStack's CORS variables: environment, flags, and "" meaning unset (is_env_true). */
static void test_cors_options(void)
{
    struct srv_config c;
    char *argv0[] = {"coffer", NULL};
    CHECK_EQ_INT(load(1, argv0, &c), COF_OK);
    CHECK(!c.cors_disable_headers && !c.cors_disable_checks && !c.cors_disable_custom_s3);
    CHECK(c.cors_extra_origins == NULL && c.cors_extra_headers == NULL &&
          c.cors_extra_expose == NULL);
    srv_config_cleanup(&c);

    setenv("DISABLE_CORS_CHECKS", "1", 1);
    setenv("DISABLE_CORS_HEADERS", "", 1);
    setenv("EXTRA_CORS_ALLOWED_ORIGINS", "http://a.test,http://b.test", 1);
    setenv("EXTRA_CORS_EXPOSE_HEADERS", "", 1);
    char *argv[] = {"coffer", "--disable-custom-cors-s3", "--extra-cors-allowed-headers=x-h",
                    "--disable-cors-checks=false", NULL};
    CHECK_EQ_INT(load(4, argv, &c), COF_OK);
    CHECK(!c.cors_disable_checks); /* the command line wins */
    CHECK(!c.cors_disable_headers);
    CHECK(c.cors_disable_custom_s3);
    CHECK_EQ_STR(c.cors_extra_origins, "http://a.test,http://b.test");
    CHECK_EQ_STR(c.cors_extra_headers, "x-h");
    CHECK(c.cors_extra_expose == NULL);
    srv_config_cleanup(&c);

    setenv("DISABLE_CORS_HEADERS", "perhaps", 1);
    CHECK_EQ_INT(load(1, argv0, &c), COF_ERR_CONFIG);
    srv_config_cleanup(&c);
    clear_env();
}

/* tls_cert: config file < CUSTOM_SSL_CERT_PATH < --tls-cert; unset by default. */
static void test_tls_cert(void)
{
    char path[] = "/tmp/coffer-conf-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "tls_cert = /from/file.pem\n");
    fclose(f);
    struct srv_config c;
    char *argv0[] = {"coffer", NULL};
    CHECK_EQ_INT(load(1, argv0, &c), COF_OK);
    CHECK(c.tls_cert == NULL);
    srv_config_cleanup(&c);
    char *argv1[] = {"coffer", "--config", path, NULL};
    CHECK_EQ_INT(load(3, argv1, &c), COF_OK);
    CHECK_EQ_STR(c.tls_cert, "/from/file.pem");
    srv_config_cleanup(&c);
    setenv("CUSTOM_SSL_CERT_PATH", "/from/env.pem", 1);
    CHECK_EQ_INT(load(3, argv1, &c), COF_OK);
    CHECK_EQ_STR(c.tls_cert, "/from/env.pem");
    srv_config_cleanup(&c);
    char *argv2[] = {"coffer", "--config", path, "--tls-cert", "/from/argv.pem", NULL};
    CHECK_EQ_INT(load(5, argv2, &c), COF_OK);
    CHECK_EQ_STR(c.tls_cert, "/from/argv.pem");
    srv_config_cleanup(&c);
    clear_env();
    unlink(path);
}

/* Admin endpoints: the profile decides unless the option is given; every layer can set it. */
static void test_admin_endpoints(void)
{
    struct srv_config c;
    char *ls[] = {"coffer", NULL};
    CHECK_EQ_INT(load(1, ls, &c), COF_OK);
    CHECK(c.admin_endpoints);
    srv_config_cleanup(&c);
    char *aws[] = {"coffer", "--profile", "aws", NULL};
    CHECK_EQ_INT(load(3, aws, &c), COF_OK);
    CHECK(!c.admin_endpoints);
    srv_config_cleanup(&c);
    char *aws_on[] = {"coffer", "--profile", "aws", "--admin-endpoints", NULL};
    CHECK_EQ_INT(load(4, aws_on, &c), COF_OK);
    CHECK(c.admin_endpoints);
    srv_config_cleanup(&c);
    char *ls_off[] = {"coffer", "--admin-endpoints=off", NULL};
    CHECK_EQ_INT(load(2, ls_off, &c), COF_OK);
    CHECK(!c.admin_endpoints);
    srv_config_cleanup(&c);

    /* file < environment < command line */
    char path[] = "/tmp/coffer-conf-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "profile = aws\nadmin_endpoints = on\n");
    fclose(f);
    char *file[] = {"coffer", "--config", path, NULL};
    CHECK_EQ_INT(load(3, file, &c), COF_OK);
    CHECK(c.admin_endpoints);
    srv_config_cleanup(&c);
    setenv("COFFER_ADMIN_ENDPOINTS", "0", 1);
    CHECK_EQ_INT(load(3, file, &c), COF_OK);
    CHECK(!c.admin_endpoints);
    srv_config_cleanup(&c);
    char *file_on[] = {"coffer", "--config", path, "--admin-endpoints=yes", NULL};
    CHECK_EQ_INT(load(4, file_on, &c), COF_OK);
    CHECK(c.admin_endpoints);
    srv_config_cleanup(&c);
    clear_env();
    unlink(path);
}

/* Connection limits and timeouts: defaults, and the three layers in order. */
static void test_connection_options(void)
{
    struct srv_config c;
    char *none[] = {"coffer", NULL};
    CHECK_EQ_INT(load(1, none, &c), COF_OK);
    CHECK_EQ_INT(c.header_timeout, 15);
    CHECK_EQ_INT(c.keepalive_timeout, 60);
    CHECK_EQ_INT(c.body_timeout, 60);
    CHECK_EQ_INT(c.max_connections, 8192);
    CHECK_EQ_INT(c.max_connections_per_client, 1024);
    CHECK_EQ_INT(c.shutdown_grace, 8);
    srv_config_cleanup(&c);

    char path[] = "/tmp/coffer-conf-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "header_timeout = 5\nkeepalive_timeout = 6\nbody_timeout = 7\n"
               "max_connections = 100\nmax_connections_per_client = 0\nshutdown_grace = 0\n");
    fclose(f);
    char *file[] = {"coffer", "--config", path, NULL};
    CHECK_EQ_INT(load(3, file, &c), COF_OK);
    CHECK_EQ_INT(c.header_timeout, 5);
    CHECK_EQ_INT(c.keepalive_timeout, 6);
    CHECK_EQ_INT(c.body_timeout, 7);
    CHECK_EQ_INT(c.max_connections, 100);
    CHECK_EQ_INT(c.max_connections_per_client, 0);
    CHECK_EQ_INT(c.shutdown_grace, 0);
    srv_config_cleanup(&c);

    setenv("COFFER_HEADER_TIMEOUT", "9", 1);
    setenv("COFFER_MAX_CONNECTIONS_PER_CLIENT", "50", 1);
    setenv("COFFER_SHUTDOWN_GRACE", "3", 1);
    char *argv[] = {"coffer", "--config", path, "--shutdown-grace", "4", "--max-connections=200",
                    NULL};
    CHECK_EQ_INT(load(6, argv, &c), COF_OK);
    CHECK_EQ_INT(c.header_timeout, 9);              /* environment over file */
    CHECK_EQ_INT(c.max_connections_per_client, 50); /* environment over file */
    CHECK_EQ_INT(c.shutdown_grace, 4);              /* command line over environment */
    CHECK_EQ_INT(c.max_connections, 200);           /* command line over file */
    CHECK_EQ_INT(c.keepalive_timeout, 6);           /* file */
    srv_config_cleanup(&c);
    clear_env();
    unlink(path);
}

int main(void)
{
    clear_env();
    /* The default config file is conf/coffer.conf relative to the working directory. */
    if (chdir("/") != 0)
        return 1;
    test_defaults();
    test_precedence();
    test_bad_values();
    test_ephemeral();
    test_principals();
    test_cors_options();
    test_tls_cert();
    test_admin_endpoints();
    test_connection_options();
    return check_finish();
}
