//  config_test: env files and environment variables are read and checked.
#include "common/config.h"
#include "tests/testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void t_env_file(void)
{
    char path[600], err[256] = "";
    config_rc_t rc;
    snprintf(path, sizeof path, "%s/.env-good", test_tmpdir());
    test_write_file(path,
                    "# the tutorial's file\n"
                    "RC_SERVER_URL=https://platform.ringcentral.com/\n"
                    "RC_CLIENT_ID = \"abc\"\n"
                    "export RC_CLIENT_SECRET='s3cr=t'\n"
                    "RC_REDIRECT_URL=http://localhost:5000/oauth2callback\r\n"
                    "RC_USERNAME=ignored\n\n");
    CHECK(config_load_env_file(path, &rc, 5000, err, sizeof err) == 0);
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
    CHECK(config_load_env_file(path, &rc, 5000, err, sizeof err) == 0);
    CHECK(!rc.configured);
    snprintf(path, sizeof path, "%s/.env-template", test_tmpdir());
    test_write_file(path, "RC_SERVER_URL=https://platform.ringcentral.com\nRC_CLIENT_ID=\n");
    CHECK(config_load_env_file(path, &rc, 5000, err, sizeof err) == 0);
    CHECK(!rc.configured);
}

static void t_env_file_bad(void)
{
    char path[600], err[256] = "";
    config_rc_t rc;
    snprintf(path, sizeof path, "%s/.env-bad", test_tmpdir());
    test_write_file(path, "RC_CLIENT_ID=abc\nRC_CLIENT_SECRET=x\nRC_SERVER_URL=ftp://x\nRC_REDIRECT_URL=http://a/b\n");
    CHECK(config_load_env_file(path, &rc, 5000, err, sizeof err) == -1);
    CHECK(strstr(err, "RC_SERVER_URL") != NULL);
    test_write_file(path, "no equals sign here\n");
    CHECK(config_load_env_file(path, &rc, 5000, err, sizeof err) == -1);
    CHECK(strstr(err, ":1:") != NULL);
    char big[2000];
    memset(big, 'a', sizeof big - 2);
    big[sizeof big - 2] = '\n';
    big[sizeof big - 1] = '\0';
    test_write_file(path, big);
    CHECK(config_load_env_file(path, &rc, 5000, err, sizeof err) == -1);
}

//  Write text to the file name in the test's temporary folder and read it: returns config_load_env_file's result.
static int s_load(const char *name, const char *text, config_rc_t *rc, char *err, size_t err_size)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    test_write_file(path, text);
    return config_load_env_file(path, rc, 5000, err, err_size);
}

#define GOOD_REST \
    "RC_SERVER_URL=https://platform.ringcentral.com\nRC_REDIRECT_URL=http://localhost:5000/oauth2callback\n"

static void t_env_file_inline_comments(void)
{
    char err[512] = "";
    config_rc_t rc;
    //  An unquoted value ends at a '#' after a blank; "a#b" keeps its '#'; a quoted '#' stays.
    CHECK(s_load(".env-comments",
                 "RC_CLIENT_ID=abc # the app's id\n"
                 "RC_CLIENT_SECRET=s3#cr3t\t# tab before the comment\n" GOOD_REST,
                 &rc, err, sizeof err)
          == 0);
    CHECK(rc.configured);
    CHECK(strcmp(rc.client_id, "abc") == 0);
    CHECK(strcmp(rc.client_secret, "s3#cr3t") == 0);
    CHECK(s_load(".env-comments",
                 "RC_CLIENT_ID=\"abc # not a comment\" # a comment\n"
                 "RC_CLIENT_SECRET='x #y'\n" GOOD_REST,
                 &rc, err, sizeof err)
          == 0);
    CHECK(strcmp(rc.client_id, "abc # not a comment") == 0);
    CHECK(strcmp(rc.client_secret, "x #y") == 0);
    //  A template whose RC_CLIENT_ID is only a comment is not configured (demo mode).
    CHECK(s_load(".env-comments", "RC_CLIENT_ID= # fill in\nRC_CLIENT_SECRET=\n" GOOD_REST, &rc, err, sizeof err) == 0);
    CHECK(!rc.configured);
}

static void t_env_file_quotes(void)
{
    char err[512] = "";
    config_rc_t rc;
    CHECK(
        s_load(".env-quotes", "RC_CLIENT_ID=\"a\\\"b\\\\c\"\nRC_CLIENT_SECRET='x\\y'\n" GOOD_REST, &rc, err, sizeof err)
        == 0);
    CHECK(strcmp(rc.client_id, "a\"b\\c") == 0);
    CHECK(strcmp(rc.client_secret, "x\\y") == 0);
    CHECK(s_load(".env-quotes", "# x\nRC_CLIENT_ID=\"abc\n", &rc, err, sizeof err) == -1);
    CHECK(strstr(err, ".env-quotes:2: RC_CLIENT_ID: the closing \" is missing") != NULL);
    CHECK(s_load(".env-quotes", "RC_CLIENT_ID='abc' def\n", &rc, err, sizeof err) == -1);
    CHECK(strstr(err, ".env-quotes:1: RC_CLIENT_ID: only a # comment may follow the closing '") != NULL);
}

static void t_env_file_malformed_lines(void)
{
    char err[1024] = "";
    config_rc_t rc;
    CHECK(s_load(".env-malformed",
                 "# comment\n"
                 "no equals sign here\n"
                 "=value\n"
                 "RC-CLIENT-ID=x\n"
                 "\n"
                 "1KEY=x\n"
                 "RC CLIENT_ID=x\n"
                 "RC_CLIENT_ID=abc\n",
                 &rc, err, sizeof err)
          == -1);
    CHECK(!rc.configured);
    CHECK(strstr(err, ".env-malformed:1:") == NULL);
    CHECK(strstr(err, ".env-malformed:2: expected KEY=value") != NULL);
    CHECK(strstr(err, ".env-malformed:3: expected KEY=value") != NULL);
    CHECK(strstr(err, ".env-malformed:4: expected KEY=value") != NULL);
    CHECK(strstr(err, ".env-malformed:6: expected KEY=value") != NULL);
    CHECK(strstr(err, ".env-malformed:7: expected KEY=value") != NULL);
    CHECK(strstr(err, "; ") != NULL);
    //  The line never appears in the error (it might be a secret without its '=').
    CHECK(strstr(err, "no equals") == NULL);
}

static void t_env_file_unknown_keys(void)
{
    char err[1024] = "";
    config_rc_t rc;
    //  A mistyped RC_CLIENT_ID alone is an error, never "not configured".
    CHECK(s_load(".env-typo", "RC_SERVER_URL=https://platform.ringcentral.com\nRC_CLIENTID=abc\n", &rc, err, sizeof err)
          == -1);
    CHECK(strstr(err, ".env-typo:2: unknown key RC_CLIENTID: did you mean RC_CLIENT_ID?") != NULL);
    CHECK(s_load(".env-typo",
                 "RC_CLIENT_SECERT=x\nRC_SEVRER_URL=x\nrc_client_id=x\nRC_REDIRECT_URI=x\n"
                 "RC_APP_CLIENT_ID=x\nFOO=bar\nRC_CLIENT=x\n",
                 &rc, err, sizeof err)
          == -1);
    CHECK(strstr(err, ":1: unknown key RC_CLIENT_SECERT: did you mean RC_CLIENT_SECRET?") != NULL);
    CHECK(strstr(err, ":2: unknown key RC_SEVRER_URL: did you mean RC_SERVER_URL?") != NULL);
    CHECK(strstr(err, ":3: unknown key rc_client_id: did you mean RC_CLIENT_ID?") != NULL);
    CHECK(strstr(err, ":4: unknown key RC_REDIRECT_URI: did you mean RC_REDIRECT_URL?") != NULL);
    CHECK(strstr(err, ":5: unknown key RC_APP_CLIENT_ID: did you mean RC_CLIENT_ID?") != NULL);
    CHECK(strstr(err, ":6: unknown key FOO;") != NULL);
    CHECK(strstr(err, ":7: unknown key RC_CLIENT: did you mean RC_CLIENT_ID?") != NULL);
}

static void t_env_file_allowed_keys(void)
{
    char err[512] = "";
    config_rc_t rc;
    //  The other keys of RingCentral's sample .env files are accepted and ignored.
    CHECK(s_load(".env-allowed",
                 "RC_CLIENT_ID=abc\nRC_CLIENT_SECRET=x\n" GOOD_REST
                 "RC_USERNAME=+16505550100\nRC_PASSWORD=pw\nRC_EXTENSION=101\nRC_JWT=eyJ\nRC_USER_JWT=eyJ\n",
                 &rc, err, sizeof err)
          == 0);
    CHECK(rc.configured);
    //  A key set twice is an error naming both lines.
    CHECK(s_load(".env-allowed", "RC_CLIENT_ID=abc\nRC_CLIENT_SECRET=x\n" GOOD_REST "RC_CLIENT_ID=def\n", &rc, err,
                 sizeof err)
          == -1);
    CHECK(strstr(err, ".env-allowed:5: RC_CLIENT_ID is set again (first on line 1)") != NULL);
}

static void t_env_file_missing_named(void)
{
    char err[512] = "", path[600];
    config_rc_t rc;
    snprintf(path, sizeof path, "%s/.env-missing", test_tmpdir());
    CHECK(s_load(".env-missing", "RC_CLIENT_ID=abc\n", &rc, err, sizeof err) == -1);
    CHECK(!rc.configured);
    char want[2000];
    snprintf(want, sizeof want,
             "%s: RC_SERVER_URL is missing; %s: RC_CLIENT_SECRET is missing; "
             "%s: RC_REDIRECT_URL is missing",
             path, path, path);
    CHECK(strcmp(err, want) == 0);
    CHECK(s_load(".env-missing", "RC_CLIENT_ID=abc\nRC_CLIENT_SECRET=\nRC_SERVER_URL=ftp://x\n", &rc, err, sizeof err)
          == -1);
    CHECK(strstr(err, ".env-missing:2: RC_CLIENT_SECRET is empty") != NULL);
    CHECK(strstr(err, ".env-missing:3: RC_SERVER_URL must be an http(s) URL (got ftp://x)") != NULL);
    CHECK(strstr(err, ".env-missing: RC_REDIRECT_URL is missing") != NULL);
}

static void t_env_file_secret_never_in_error(void)
{
    char err[2048] = "", text[1500];
    config_rc_t rc;
    const char *secret = "Sup3rS3cretValue";
    snprintf(text, sizeof text,
             "RC_CLIENT_ID=abc\n"
             "RC_CLIENT_SECRET: %s\n"
             "RC_CLIENT_SECERT=%s\n"
             "RC_CLIENT_SECRET=\"%s\n"
             "RC_CLIENT_SECRET='%s' %s\n"
             "RC_CLIENT_SECRET=%s\n"
             "RC_CLIENT_SECRET=%s\n"
             "RC_CLIENT_SECRET=%s%0600d\n",
             secret, secret, secret, secret, secret, secret, secret, secret, 0);
    CHECK(s_load(".env-secret", text, &rc, err, sizeof err) == -1);
    CHECK(strstr(err, ":7: RC_CLIENT_SECRET is set again") != NULL);
    CHECK(strstr(err, secret) == NULL);
    CHECK(strstr(err, "Sup3r") == NULL);
}

static void t_env_file_many_problems_bounded(void)
{
    char err[200], text[2000] = "";
    config_rc_t rc;
    for (int i = 0; i < 50; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "bad line %d\n", i);
    CHECK(s_load(".env-many", text, &rc, err, sizeof err) == -1);
    CHECK(strlen(err) < sizeof err);
    CHECK(strstr(err, ".env-many:1: expected KEY=value") != NULL);
    const char *more = strstr(err, "; and ");
    CHECK(more && strstr(more, " more") && more[strlen(more) - 1] == 'e');
    //  A buffer too small even for the first problem gets it cut, never overrun.
    char tiny[16];
    CHECK(s_load(".env-many", text, &rc, tiny, sizeof tiny) == -1);
    CHECK(strlen(tiny) == sizeof tiny - 1);
}

static void t_load_names_both_files(void)
{
    char dir[600], path[700], err[1024] = "";
    config_t cfg;
    snprintf(dir, sizeof dir, "%s/both", test_tmpdir());
    CHECK(mkdir(dir, 0700) == 0);
    snprintf(path, sizeof path, "%s/.env-production", dir);
    test_write_file(path, "RC_CLIENTID=abc\n");
    snprintf(path, sizeof path, "%s/.env-sandbox", dir);
    test_write_file(path, "RC_CLIENT_ID=abc\nRC_CLIENT_SECRET=x\n" GOOD_REST "oops\n");
    setenv("RC_ENV_DIR", dir, 1);
    CHECK(config_load(&cfg, err, sizeof err) == -1);
    CHECK(strstr(err, "both/.env-production:1: unknown key RC_CLIENTID: did you mean RC_CLIENT_ID?; ") != NULL);
    CHECK(strstr(err, "both/.env-sandbox:5: expected KEY=value") != NULL);
    //  Templates (RC_CLIENT_ID empty) load as "not configured".
    snprintf(path, sizeof path, "%s/.env-production", dir);
    test_write_file(path, "RC_SERVER_URL=https://platform.ringcentral.com\nRC_CLIENT_ID=\nRC_CLIENT_SECRET=\n");
    snprintf(path, sizeof path, "%s/.env-sandbox", dir);
    test_write_file(path, "RC_CLIENT_ID=\n");
    CHECK(config_load(&cfg, err, sizeof err) == 0);
    CHECK(!cfg.rc[0].configured && !cfg.rc[1].configured);
    unsetenv("RC_ENV_DIR");
}

//  Only authsvc loads the client secrets (config_load_with_secrets); config_load (gateway, apisvc) checks the
//  secret is there but keeps nothing of it.
static void t_load_secrets_opt_in(void)
{
    char dir[600], path[700], err[1024] = "";
    config_t cfg;
    snprintf(dir, sizeof dir, "%s/secrets", test_tmpdir());
    CHECK(mkdir(dir, 0700) == 0);
    snprintf(path, sizeof path, "%s/.env-production", dir);
    test_write_file(path,
                    "RC_SERVER_URL=https://platform.ringcentral.com\nRC_CLIENT_ID=abc\nRC_CLIENT_SECRET=s3cr3t-XYZ\n"
                    "RC_REDIRECT_URL=http://localhost:5000/oauth2callback\n");
    setenv("RC_ENV_DIR", dir, 1);
    CHECK(config_load(&cfg, err, sizeof err) == 0);
    CHECK(cfg.rc[CONFIG_PRODUCTION].configured && strcmp(cfg.rc[CONFIG_PRODUCTION].client_id, "abc") == 0);
    CHECK(strcmp(cfg.rc[CONFIG_PRODUCTION].server_url, "https://platform.ringcentral.com") == 0);
    CHECK(cfg.rc[CONFIG_PRODUCTION].client_secret[0] == '\0');
    CHECK(memmem(&cfg, sizeof cfg, "s3cr3t", 6) == NULL);
    CHECK(config_load_with_secrets(&cfg, err, sizeof err) == 0);
    CHECK(strcmp(cfg.rc[CONFIG_PRODUCTION].client_secret, "s3cr3t-XYZ") == 0);
    config_wipe(&cfg);
    CHECK(memmem(&cfg, sizeof cfg, "s3cr3t", 6) == NULL && !cfg.rc[CONFIG_PRODUCTION].configured);
    //  without secrets, a missing or empty secret is still named
    test_write_file(path,
                    "RC_SERVER_URL=https://platform.ringcentral.com\nRC_CLIENT_ID=abc\nRC_CLIENT_SECRET=\n"
                    "RC_REDIRECT_URL=http://localhost:5000/oauth2callback\n");
    CHECK(config_load(&cfg, err, sizeof err) == -1 && strstr(err, ".env-production:3: RC_CLIENT_SECRET is empty"));
    unsetenv("RC_ENV_DIR");
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

static void t_redirects_match_public_url(void)
{
    static config_t cfg;
    char err[1024];
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.rc_env_dir, sizeof cfg.rc_env_dir, "environment");
    snprintf(cfg.public_url, sizeof cfg.public_url, "http://localhost:5000");
    cfg.rc[CONFIG_PRODUCTION].configured = true;
    snprintf(cfg.rc[CONFIG_PRODUCTION].redirect_url, CONFIG_VALUE_MAX, "http://localhost:5000/oauth2callback");
    snprintf(cfg.rc[CONFIG_SANDBOX].redirect_url, CONFIG_VALUE_MAX,
             "http://elsewhere/x");  //  not configured: not checked
    CHECK(config_check_redirects(&cfg, err, sizeof err) == 0 && err[0] == '\0');
    //  another port, another host, another scheme, another path: each named, with what to set
    const char *bad[] = { "http://localhost:6000/oauth2callback", "http://127.0.0.1:5000/oauth2callback",
                          "https://localhost:5000/oauth2callback", "http://localhost:5000/callback" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cfg.rc[CONFIG_PRODUCTION].redirect_url, CONFIG_VALUE_MAX, "%s", bad[i]);
        CHECK(config_check_redirects(&cfg, err, sizeof err) == -1);
        CHECK(strstr(err, "environment/.env-production: RC_REDIRECT_URL is ") != NULL && strstr(err, bad[i]) != NULL);
        CHECK(strstr(err, "set RC_REDIRECT_URL=http://localhost:5000/oauth2callback") != NULL);
    }
    //  both environments wrong: both named; a small buffer is cut, never overrun
    cfg.rc[CONFIG_SANDBOX].configured = true;
    CHECK(config_check_redirects(&cfg, err, sizeof err) == -1 && strstr(err, ".env-sandbox") != NULL);
    char small[40];
    CHECK(config_check_redirects(&cfg, small, sizeof small) == -1 && strlen(small) < sizeof small);
}

static void t_env_file_expands_port(void)
{
    char err[512] = "";
    config_rc_t rc;
    CHECK(s_load(".env-port",
                 "RC_CLIENT_ID=abc\nRC_CLIENT_SECRET=pa${ss}\nRC_SERVER_URL=https://platform.ringcentral.com\n"
                 "RC_REDIRECT_URL=http://localhost:${GATEWAY_PORT}/oauth2callback\n",
                 &rc, err, sizeof err)
          == 0);
    CHECK(strcmp(rc.redirect_url, "http://localhost:5000/oauth2callback") == 0);
    CHECK(strcmp(rc.client_secret, "pa${ss}") == 0);  //  only the redirect URI is expanded
    //  another variable is named, never taken from the shell
    CHECK(s_load(".env-var",
                 "RC_CLIENT_ID=abc\nRC_CLIENT_SECRET=x\nRC_SERVER_URL=https://platform.ringcentral.com\n"
                 "RC_REDIRECT_URL=http://${HOST}:5000/oauth2callback\n",
                 &rc, err, sizeof err)
          == -1);
    CHECK(strstr(err, ".env-var:4: RC_REDIRECT_URL: only ${GATEWAY_PORT} may be used") != NULL);
}

//  Write an env dir name holding .env-production with redirect (sandbox absent) and point RC_ENV_DIR at it.
static void s_env_dir(const char *name, const char *redirect)
{
    char dir[600], path[700], text[1024];
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), name);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/.env-production", dir);
    snprintf(text, sizeof text,
             "RC_CLIENT_ID=abc\nRC_CLIENT_SECRET=x\nRC_SERVER_URL=https://platform.ringcentral.com\n"
             "RC_REDIRECT_URL=%s\n",
             redirect);
    test_write_file(path, text);
    setenv("RC_ENV_DIR", dir, 1);
}

static void t_public_url_from_redirects(void)
{
    char err[1024] = "";
    static config_t cfg;
    unsetenv("PUBLIC_URL");
    unsetenv("TLS_CERT");
    //  the tutorial's file with the example's ${GATEWAY_PORT}: PUBLIC_URL follows, and they agree
    setenv("GATEWAY_PORT", "8080", 1);
    s_env_dir("derive1", "http://localhost:${GATEWAY_PORT}/oauth2callback");
    CHECK(config_load(&cfg, err, sizeof err) == 0 && cfg.public_url_derived);
    CHECK(strcmp(cfg.public_url, "http://localhost:8080") == 0);
    CHECK(config_check_redirects(&cfg, err, sizeof err) == 0);
    //  a hard-coded port 5000 with GATEWAY_PORT=8080: named, with the line to write
    s_env_dir("derive2", "http://localhost:5000/oauth2callback");
    CHECK(config_load(&cfg, err, sizeof err) == 0 && strcmp(cfg.public_url, "http://localhost:5000") == 0);
    CHECK(config_check_redirects(&cfg, err, sizeof err) == -1);
    CHECK(
        strstr(err,
               "derive2/.env-production: RC_REDIRECT_URL is http://localhost:5000/oauth2callback but the front "
               "serves http on GATEWAY_PORT 8080: set RC_REDIRECT_URL=http://localhost:${GATEWAY_PORT}/oauth2callback")
        != NULL);
    //  a public name on the default https port, served with TLS on 443: the origin is PUBLIC_URL
    setenv("GATEWAY_PORT", "443", 1);
    setenv("TLS_CERT", "/x.crt", 1);
    s_env_dir("derive3", "https://demo.example.com/oauth2callback");
    CHECK(config_load(&cfg, err, sizeof err) == 0 && strcmp(cfg.public_url, "https://demo.example.com") == 0);
    CHECK(cfg.public_https && config_check_redirects(&cfg, err, sizeof err) == 0);
    //  the same without TLS: the front would serve http, RingCentral would send browsers to https
    unsetenv("TLS_CERT");
    CHECK(config_load(&cfg, err, sizeof err) == 0 && config_check_redirects(&cfg, err, sizeof err) == -1);
    CHECK(strstr(err, "serves http on GATEWAY_PORT 443") != NULL);
    //  PUBLIC_URL set (a proxy in front on another port): no port rule, only the redirect's own match
    setenv("PUBLIC_URL", "https://demo.example.com", 1);
    CHECK(config_load(&cfg, err, sizeof err) == 0 && !cfg.public_url_derived);
    CHECK(config_check_redirects(&cfg, err, sizeof err) == 0);
    unsetenv("PUBLIC_URL");
    //  no credentials (demo mode): localhost on the port, https with a certificate
    setenv("RC_ENV_DIR", "/nonexistent-env-dir", 1);
    setenv("TLS_CERT", "/x.crt", 1);
    setenv("GATEWAY_PORT", "6126", 1);
    CHECK(config_load(&cfg, err, sizeof err) == 0 && strcmp(cfg.public_url, "https://localhost:6126") == 0);
    CHECK(config_check_redirects(&cfg, err, sizeof err) == 0);
    unsetenv("TLS_CERT");
    unsetenv("GATEWAY_PORT");
    unsetenv("RC_ENV_DIR");
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
    { "load_secrets_opt_in", t_load_secrets_opt_in },
    { "env_file", t_env_file },
    { "env_file_missing_or_template", t_env_file_missing_or_template },
    { "env_file_bad", t_env_file_bad },
    { "env_file_inline_comments", t_env_file_inline_comments },
    { "env_file_quotes", t_env_file_quotes },
    { "env_file_malformed_lines", t_env_file_malformed_lines },
    { "env_file_unknown_keys", t_env_file_unknown_keys },
    { "env_file_allowed_keys", t_env_file_allowed_keys },
    { "env_file_missing_named", t_env_file_missing_named },
    { "env_file_secret_never_in_error", t_env_file_secret_never_in_error },
    { "env_file_many_problems_bounded", t_env_file_many_problems_bounded },
    { "load_names_both_files", t_load_names_both_files },
    { "load_environment", t_load_environment },
    { "front_and_store", t_front_and_store },
    { "redirects_match_public_url", t_redirects_match_public_url },
    { "env_file_expands_port", t_env_file_expands_port },
    { "public_url_from_redirects", t_public_url_from_redirects },
    { "env_names", t_env_names },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
