//  config: see config.h.
#include "common/config.h"
#include "common/log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_env_names[CONFIG_ENV_COUNT] = { "production", "sandbox" };

int config_env_parse(const char *name)
{
    for (int i = 0; name && i < CONFIG_ENV_COUNT; i++)
        if (strcmp(name, s_env_names[i]) == 0)
            return i;
    return -1;
}

const char *config_env_name(config_env_t env)
{
    return env >= 0 && env < CONFIG_ENV_COUNT ? s_env_names[env] : "unknown";
}

static int s_copy(char *dst, size_t size, const char *value, const char *what, char *err, size_t err_size)
{
    if (strlen(value) >= size) {
        snprintf(err, err_size, "%s is longer than %zu characters", what, size - 1);
        return -1;
    }
    snprintf(dst, size, "%s", value);
    return 0;
}

static int s_getenv(char *dst, size_t size, const char *name, const char *dflt, char *err, size_t err_size)
{
    const char *v = getenv(name);
    return s_copy(dst, size, v && *v ? v : dflt, name, err, err_size);
}

int config_getenv_long(long *dst, const char *name, long dflt, long lo, long hi, char *err, size_t err_size)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *dst = dflt;
        return 0;
    }
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < lo || n > hi) {
        snprintf(err, err_size, "%s must be a whole number from %ld to %ld (got \"%.40s\")", name, lo, hi, v);
        return -1;
    }
    *dst = n;
    return 0;
}

//  Trim spaces and one pair of matching quotes around a value, in place.
static char *s_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

static int s_is_http_url(const char *v)
{
    return strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0;
}

static void s_strip_slashes(char *url)
{
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        url[--n] = '\0';
}

//  GATEWAY_INTERNAL_PORT: a plain port. civetweb's "NNNNs" (TLS) is refused with the reason.
static int s_internal_port(config_t *cfg, char *err, size_t err_size)
{
    const char *v = getenv("GATEWAY_INTERNAL_PORT");
    size_t n = v ? strlen(v) : 0;
    if (n && (v[n - 1] == 's' || v[n - 1] == 'S')) {
        snprintf(err, err_size, "GATEWAY_INTERNAL_PORT=%.20s asks for TLS in the gateway: refused, because Debian 12's "
                 "civetweb 1.15 crashes on its first TLS connection under OpenSSL 3; HTTPS is served by the nginx "
                 "front (set TLS_CERT and TLS_KEY)", v);
        return -1;
    }
    long port = 0;
    if (config_getenv_long(&port, "GATEWAY_INTERNAL_PORT", 0, 0, 65535, err, err_size))
        return -1;
    cfg->gateway_internal_port = (int) port;
    return 0;
}

int config_load_env_file(const char *path, config_rc_t *rc, char *err, size_t err_size)
{
    memset(rc, 0, sizeof *rc);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, err_size, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    struct { const char *key; char *dst; } keys[] = {
        { "RC_SERVER_URL", rc->server_url },
        { "RC_CLIENT_ID", rc->client_id },
        { "RC_CLIENT_SECRET", rc->client_secret },
        { "RC_REDIRECT_URL", rc->redirect_url },
    };
    char line[1024];
    int lineno = 0, rc_code = 0;
    while (rc_code == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, err_size, "%s:%d: line too long", path, lineno);
            rc_code = -1;
            break;
        }
        char *s = s_trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        if (strncmp(s, "export ", 7) == 0)
            s += 7;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, err_size, "%s:%d: expected KEY=value", path, lineno);
            rc_code = -1;
            break;
        }
        *eq = '\0';
        char *key = s_trim(s), *value = s_trim(eq + 1);
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (strcmp(key, keys[i].key) == 0)
                rc_code = s_copy(keys[i].dst, CONFIG_VALUE_MAX, value, keys[i].key, err, err_size);
        //  Other keys (the tutorial's RC_USERNAME etc.) are ignored.
    }
    fclose(f);
    if (rc_code)
        return -1;
    if (!rc->client_id[0])
        return 0;   //  a template without credentials: not configured
    if (!s_is_http_url(rc->server_url) || !s_is_http_url(rc->redirect_url) || !rc->client_secret[0]) {
        snprintf(err, err_size, "%s: RC_SERVER_URL and RC_REDIRECT_URL must be http(s) URLs and RC_CLIENT_SECRET set", path);
        return -1;
    }
    s_strip_slashes(rc->server_url);
    rc->configured = true;
    return 0;
}

int config_load(config_t *cfg, char *err, size_t err_size)
{
    memset(cfg, 0, sizeof *cfg);
    long port = 0, level;
    if (s_getenv(cfg->rc_env_dir, sizeof cfg->rc_env_dir, "RC_ENV_DIR", "environment", err, err_size)
        || s_getenv(cfg->data_dir, sizeof cfg->data_dir, "DATA_DIR", "var/data", err, err_size)
        || s_getenv(cfg->run_dir, sizeof cfg->run_dir, "RUN_DIR", "var/run", err, err_size)
        || s_getenv(cfg->gateway_bind, sizeof cfg->gateway_bind, "GATEWAY_BIND", "127.0.0.1", err, err_size)
        || config_getenv_long(&port, "GATEWAY_PORT", 5000, 1, 65535, err, err_size)
        || config_getenv_long(&cfg->connect_timeout_ms, "RC_CONNECT_TIMEOUT_MS", 3000, 1, 600000, err, err_size)
        || config_getenv_long(&cfg->timeout_ms, "RC_TIMEOUT_MS", 10000, 1, 600000, err, err_size)
        || config_getenv_long(&cfg->service_timeout_ms, "SERVICE_TIMEOUT_MS", 3000, 1, 600000, err, err_size)
        || config_getenv_long(&cfg->data_map_mb, "DATA_MAP_MB", 256, 1, 1L << 20, err, err_size)
        || s_internal_port(cfg, err, err_size))
        return -1;
    cfg->gateway_port = (int) port;
    char dflt_url[64];
    snprintf(dflt_url, sizeof dflt_url, "http://localhost:%d", cfg->gateway_port);
    if (s_getenv(cfg->public_url, sizeof cfg->public_url, "PUBLIC_URL", dflt_url, err, err_size))
        return -1;
    if (!s_is_http_url(cfg->public_url) || strpbrk(cfg->public_url, "?#\"<> \t\r\n")) {
        snprintf(err, err_size, "PUBLIC_URL must be an http(s) URL without query or spaces (got \"%.60s\")",
                 cfg->public_url);
        return -1;
    }
    s_strip_slashes(cfg->public_url);
    cfg->public_https = strncmp(cfg->public_url, "https://", 8) == 0;
    level = log_level_parse(getenv("LOG_LEVEL"));
    if (level < 0) {
        snprintf(err, err_size, "LOG_LEVEL must be debug, info, warn or error");
        return -1;
    }
    cfg->log_level = (int) level;
    const char *demo = getenv("DEMO_MODE");
    cfg->demo_mode = demo && strcmp(demo, "1") == 0;

    char dflt[CONFIG_PATH_MAX + 32];
    snprintf(dflt, sizeof dflt, "ipc://%s/authsvc.sock", cfg->run_dir);
    if (s_getenv(cfg->authsvc_endpoint, sizeof cfg->authsvc_endpoint, "AUTHSVC_ENDPOINT", dflt, err, err_size))
        return -1;
    snprintf(dflt, sizeof dflt, "ipc://%s/apisvc.sock", cfg->run_dir);
    if (s_getenv(cfg->apisvc_endpoint, sizeof cfg->apisvc_endpoint, "APISVC_ENDPOINT", dflt, err, err_size))
        return -1;

    for (int i = 0; i < CONFIG_ENV_COUNT; i++) {
        char path[CONFIG_PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/.env-%s", cfg->rc_env_dir, s_env_names[i]);
        if (config_load_env_file(path, &cfg->rc[i], err, err_size))
            return -1;
    }
    return 0;
}

void config_log(const config_t *cfg)
{
    log_info("config", "rc_env_dir=%s data_dir=%s data_map_mb=%ld run_dir=%s authsvc=%s apisvc=%s public=%s:%d "
             "internal_port=%d public_url=%s connect_timeout_ms=%ld timeout_ms=%ld service_timeout_ms=%ld demo_mode=%d",
             cfg->rc_env_dir, cfg->data_dir, cfg->data_map_mb, cfg->run_dir, cfg->authsvc_endpoint,
             cfg->apisvc_endpoint, cfg->gateway_bind, cfg->gateway_port, cfg->gateway_internal_port, cfg->public_url,
             cfg->connect_timeout_ms, cfg->timeout_ms, cfg->service_timeout_ms, cfg->demo_mode);
    for (int i = 0; i < CONFIG_ENV_COUNT; i++) {
        const config_rc_t *rc = &cfg->rc[i];
        if (rc->configured)
            log_info("config.env", "env=%s server=%s client_id=%s client_secret=<set> redirect=%s",
                     s_env_names[i], rc->server_url, rc->client_id, rc->redirect_url);
        else
            log_warn("config.env", "env=%s configured=0 file=%s/.env-%s", s_env_names[i],
                     cfg->rc_env_dir, s_env_names[i]);
    }
    if (cfg->demo_mode)
        log_warn("config.demo", "msg=\"DEMO MODE: both environments point at the bundled mock RingCentral\"");
}
