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
                          "CUSTOM_SSL_CERT_PATH"};
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
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ_INT(load(3, bad[i], &c), COF_ERR_CONFIG);
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
    return check_finish();
}
