//  config_test: env files and environment variables are read and checked.
#include "common/config.h"
#include "tests/testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void t_env_file(void)
{
    char path[600], err[256] = "";
    config_rc_t rc;
    snprintf(path, sizeof path, "%s/.env-good", test_tmpdir());
    s_write(path, "# the tutorial's file\n"
                  "RC_SERVER_URL=https://platform.ringcentral.com/\n"
                  "RC_CLIENT_ID = \"abc\"\n"
                  "export RC_CLIENT_SECRET='s3cr=t'\n"
                  "RC_REDIRECT_URL=http://localhost:5000/oauth2callback\r\n"
                  "RC_USERNAME=ignored\n\n");
    CHECK(config_load_env_file(path, &rc, err, sizeof err) == 0);
    CHECK(rc.configured);
    CHECK(strcmp(rc.server_url, "https://platform.ringcentral.com") == 0);
    CHECK(strcmp(rc.client_id, "abc") == 0);
    CHECK(strcmp(rc.client_secret, "s3cr=t") == 0);
    CHECK(strcmp(rc.redirect_url, "http://localhost:5000/oauth2callback") == 0);
}

static void t_env_file_missing_or_template(void)
{
    char path[600], err[256] = "";
    config_rc_t rc;
    snprintf(path, sizeof path, "%s/.env-none", test_tmpdir());
    CHECK(config_load_env_file(path, &rc, err, sizeof err) == 0);
    CHECK(!rc.configured);
    snprintf(path, sizeof path, "%s/.env-template", test_tmpdir());
    s_write(path, "RC_SERVER_URL=https://platform.ringcentral.com\nRC_CLIENT_ID=\n");
    CHECK(config_load_env_file(path, &rc, err, sizeof err) == 0);
    CHECK(!rc.configured);
}

static void t_env_file_bad(void)
{
    char path[600], err[256] = "";
    config_rc_t rc;
    snprintf(path, sizeof path, "%s/.env-bad", test_tmpdir());
    s_write(path, "RC_CLIENT_ID=abc\nRC_CLIENT_SECRET=x\nRC_SERVER_URL=ftp://x\nRC_REDIRECT_URL=http://a/b\n");
    CHECK(config_load_env_file(path, &rc, err, sizeof err) == -1);
    CHECK(strstr(err, "RC_SERVER_URL") != NULL);
    s_write(path, "no equals sign here\n");
    CHECK(config_load_env_file(path, &rc, err, sizeof err) == -1);
    CHECK(strstr(err, ":1:") != NULL);
    char big[2000];
    memset(big, 'a', sizeof big - 2);
    big[sizeof big - 2] = '\n';
    big[sizeof big - 1] = '\0';
    s_write(path, big);
    CHECK(config_load_env_file(path, &rc, err, sizeof err) == -1);
}

static void t_load_environment(void)
{
    char err[256] = "";
    config_t cfg;
    setenv("RC_ENV_DIR", test_tmpdir(), 1);
    setenv("RUN_DIR", "/tmp/run-x", 1);
    setenv("GATEWAY_PORT", "6123", 1);
    unsetenv("AUTHSVC_ENDPOINT");
    CHECK(config_load(&cfg, err, sizeof err) == 0);
    CHECK(cfg.gateway_port == 6123);
    CHECK(strcmp(cfg.authsvc_endpoint, "ipc:///tmp/run-x/authsvc.sock") == 0);
    CHECK(strcmp(cfg.apisvc_endpoint, "ipc:///tmp/run-x/apisvc.sock") == 0);
    CHECK(cfg.connect_timeout_ms == 3000 && cfg.timeout_ms == 10000);
    setenv("GATEWAY_PORT", "70000", 1);
    CHECK(config_load(&cfg, err, sizeof err) == -1);
    CHECK(strstr(err, "GATEWAY_PORT") != NULL);
    setenv("GATEWAY_PORT", "12x", 1);
    CHECK(config_load(&cfg, err, sizeof err) == -1);
    unsetenv("GATEWAY_PORT");
    setenv("LOG_LEVEL", "loud", 1);
    CHECK(config_load(&cfg, err, sizeof err) == -1);
    unsetenv("LOG_LEVEL");
}

static void t_front_and_store(void)
{
    char err[512] = "";
    config_t cfg;
    setenv("RC_ENV_DIR", test_tmpdir(), 1);
    setenv("GATEWAY_PORT", "6124", 1);
    unsetenv("PUBLIC_URL");
    unsetenv("GATEWAY_INTERNAL_PORT");
    unsetenv("DATA_MAP_MB");
    CHECK(config_load(&cfg, err, sizeof err) == 0);
    CHECK(strcmp(cfg.public_url, "http://localhost:6124") == 0 && !cfg.public_https);
    CHECK(cfg.gateway_internal_port == 0);
    CHECK(cfg.data_map_mb == 256);
    setenv("PUBLIC_URL", "https://demo.example.com:8443/", 1);
    setenv("GATEWAY_INTERNAL_PORT", "7001", 1);
    setenv("DATA_MAP_MB", "4", 1);
    CHECK(config_load(&cfg, err, sizeof err) == 0);
    CHECK(strcmp(cfg.public_url, "https://demo.example.com:8443") == 0 && cfg.public_https);
    CHECK(cfg.gateway_internal_port == 7001 && cfg.data_map_mb == 4);
    //  A TLS port for civetweb is refused, saying why.
    setenv("GATEWAY_INTERNAL_PORT", "8443s", 1);
    CHECK(config_load(&cfg, err, sizeof err) == -1);
    CHECK(strstr(err, "TLS") != NULL && strstr(err, "nginx") != NULL);
    setenv("GATEWAY_INTERNAL_PORT", "7001", 1);
    setenv("PUBLIC_URL", "localhost:5000", 1);
    CHECK(config_load(&cfg, err, sizeof err) == -1 && strstr(err, "PUBLIC_URL") != NULL);
    setenv("PUBLIC_URL", "http://a b", 1);
    CHECK(config_load(&cfg, err, sizeof err) == -1);
    unsetenv("PUBLIC_URL");
    setenv("DATA_MAP_MB", "0", 1);
    CHECK(config_load(&cfg, err, sizeof err) == -1 && strstr(err, "DATA_MAP_MB") != NULL);
    unsetenv("DATA_MAP_MB");
    unsetenv("GATEWAY_INTERNAL_PORT");
    unsetenv("GATEWAY_PORT");
}

static void t_env_names(void)
{
    CHECK(config_env_parse("production") == CONFIG_PRODUCTION);
    CHECK(config_env_parse("sandbox") == CONFIG_SANDBOX);
    CHECK(config_env_parse("Production") == -1);
    CHECK(config_env_parse("") == -1);
    CHECK(config_env_parse(NULL) == -1);
    CHECK(strcmp(config_env_name(CONFIG_SANDBOX), "sandbox") == 0);
}

static const test_case_t cases[] = {
    { "env_file", t_env_file },
    { "env_file_missing_or_template", t_env_file_missing_or_template },
    { "env_file_bad", t_env_file_bad },
    { "load_environment", t_load_environment },
    { "front_and_store", t_front_and_store },
    { "env_names", t_env_names },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
