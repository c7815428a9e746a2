//  config: see config.h.
#include "common/config.h"
#include "common/log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
        snprintf(err, err_size,
                 "GATEWAY_INTERNAL_PORT=%.20s asks for TLS in the gateway: refused, because Debian 12's "
                 "civetweb 1.15 crashes on its first TLS connection under OpenSSL 3; HTTPS is served by the nginx "
                 "front (set TLS_CERT and TLS_KEY)",
                 v);
        return -1;
    }
    long port = 0;
    if (config_getenv_long(&port, "GATEWAY_INTERNAL_PORT", 0, 0, 65535, err, err_size))
        return -1;
    cfg->gateway_internal_port = (int) port;
    return 0;
}

//  The problems of a configuration, in err, separated by "; ". When the next one would not fit (with room kept for
//  the count), it and the rest are counted: "...; and 3 more".
typedef struct {
    char *buf;
    size_t size, len;
    int count, dropped;  //  problems found; of those, the ones not in buf
} s_problems_t;

#define S_MORE_ROOM 24  //  "; and 2147483647 more" and its NUL

static void s_problems_init(s_problems_t *p, char *buf, size_t size)
{
    *p = (s_problems_t){ .buf = buf, .size = size };
    if (size)
        buf[0] = '\0';
}

__attribute__((format(printf, 2, 3))) static void s_problem(s_problems_t *p, const char *fmt, ...)
{
    char one[CONFIG_PATH_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(one, sizeof one, fmt, ap);
    va_end(ap);
    const char *sep = p->count ? "; " : "";
    size_t need = strlen(sep) + strlen(one);
    p->count++;
    if (p->size == 0)
        return;
    if (!p->dropped && p->len + need + S_MORE_ROOM < p->size) {
        snprintf(p->buf + p->len, p->size - p->len, "%s%s", sep, one);
        p->len += need;
    }
    else if (p->len == 0)  //  the first problem, cut to the buffer
        p->len = (size_t) snprintf(p->buf, p->size, "%s", one) < p->size ? strlen(one) : p->size - 1;
    else
        p->dropped++;
}

//  Returns 0 when there was no problem, else -1 with the count of those that did not fit appended.
static int s_problems_end(s_problems_t *p)
{
    if (p->dropped > 0 && p->len + S_MORE_ROOM <= p->size)
        snprintf(p->buf + p->len, p->size - p->len, "; and %d more", p->dropped);
    return p->count ? -1 : 0;
}

//  The keys an env file may hold: the four this program reads, and the other keys of RingCentral's sample .env
//  files, accepted and ignored (see config.h). A key of neither list is an error.
static const char *s_unused_keys[] = { "RC_USERNAME", "RC_PASSWORD", "RC_EXTENSION", "RC_JWT", "RC_USER_JWT" };
//  Names that newer RingCentral samples use for the keys this program reads.
static const struct {
    const char *name, *key;
} s_aliases[] = {
    { "RC_APP_CLIENT_ID", "RC_CLIENT_ID" },
    { "RC_APP_CLIENT_SECRET", "RC_CLIENT_SECRET" },
};

#define S_KEY_MAX 64

//  Edit distance of a and b ignoring case, where swapping two neighbours is one edit (optimal string alignment).
//  Keys longer than S_KEY_MAX are "far" (S_KEY_MAX).
static int s_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > S_KEY_MAX || m > S_KEY_MAX)
        return S_KEY_MAX;
    int d[S_KEY_MAX + 1][S_KEY_MAX + 1];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int) i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int) j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int ca = toupper((unsigned char) a[i - 1]), cb = toupper((unsigned char) b[j - 1]);
            int best = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == toupper((unsigned char) b[j - 2]) && toupper((unsigned char) a[i - 2]) == cb
                && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

//  The known key that key is likely a typo of, or NULL: the nearest one within max(2, its length / 4) edits.
static const char *s_suggest(const char *key, const char *const *known, size_t count)
{
    for (size_t i = 0; i < sizeof s_aliases / sizeof s_aliases[0]; i++)
        if (strcasecmp(key, s_aliases[i].name) == 0)
            return s_aliases[i].key;
    const char *best = NULL;
    int best_d = S_KEY_MAX;
    for (size_t i = 0; i < count; i++) {
        int d = s_distance(key, known[i]), limit = (int) strlen(known[i]) / 4;
        if (d <= (limit > 2 ? limit : 2) && d < best_d) {
            best = known[i];
            best_d = d;
        }
    }
    return best;
}

static bool s_is_blank(int c)
{
    return c == ' ' || c == '\t';
}

static bool s_is_key_char(int c, bool first)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (!first && c >= '0' && c <= '9');
}

//  Parse one line (its text up to '\n') as dotenv does, in place. Returns 1 with *key and *value for KEY=value, 0 for
//  a blank or comment line, -1 after naming the problem in p.
static int s_parse_line(char *s, char **key, char **value, const char *path, int lineno, s_problems_t *p)
{
    s[strcspn(s, "\r\n")] = '\0';
    while (s_is_blank(*s))
        s++;
    if (*s == '\0' || *s == '#')
        return 0;
    if (strncmp(s, "export", 6) == 0 && s_is_blank(s[6]))
        for (s += 6; s_is_blank(*s); s++)
            ;
    char *k = s;
    while (s_is_key_char(*s, s == k))
        s++;
    char *k_end = s;
    while (s_is_blank(*s))
        s++;
    if (k_end == k || *s != '=') {
        s_problem(p, "%s:%d: expected KEY=value", path, lineno);
        return -1;
    }
    *k_end = '\0';
    for (s++; s_is_blank(*s); s++)
        ;
    char *v = s;
    if (*s == '"' || *s == '\'') {
        //  Quoted: everything up to the closing quote, '#' included; in "..." a backslash escapes " and \ .
        char q = *s++, *out = v;
        for (; *s && *s != q; s++) {
            if (q == '"' && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
                s++;
            *out++ = *s;
        }
        if (*s != q) {
            s_problem(p, "%s:%d: %s: the closing %c is missing", path, lineno, k, q);
            return -1;
        }
        *out = '\0';
        for (s++; s_is_blank(*s); s++)
            ;
        if (*s != '\0' && *s != '#') {
            s_problem(p, "%s:%d: %s: only a # comment may follow the closing %c", path, lineno, k, q);
            return -1;
        }
    }
    else {
        //  Unquoted: a '#' that starts the value or follows a blank starts a comment; "a#b" keeps its '#'.
        for (; *s; s++)
            if (*s == '#' && (s == v || s_is_blank(s[-1])))
                break;
        while (s > v && s_is_blank(s[-1]))
            s--;
        *s = '\0';
    }
    *key = k;
    *value = v;
    return 1;
}

//  Replace each ${GATEWAY_PORT} in value (CONFIG_VALUE_MAX bytes) by port, as dotenv-expand does, so that the
//  redirect URI follows the port. Any other ${NAME} is named in p (a value from elsewhere would make the file
//  mean different things in different shells). Returns 0, or -1 after naming the problem.
static int s_expand(char *value, int port, const char *path, int lineno, const char *key, s_problems_t *p)
{
    static const char var[] = "${GATEWAY_PORT}";
    char out[CONFIG_VALUE_MAX];
    size_t used = 0;
    for (const char *s = value; *s;) {
        const char *next = strstr(s, "${");
        size_t plain = next ? (size_t) (next - s) : strlen(s);
        int n = snprintf(out + used, sizeof out - used, "%.*s", (int) plain, s);
        used += n > 0 ? (size_t) n : 0;
        if (!next)
            break;
        if (strncmp(next, var, sizeof var - 1) != 0) {
            s_problem(p, "%s:%d: %s: only ${GATEWAY_PORT} may be used in a value", path, lineno, key);
            return -1;
        }
        n = snprintf(out + used, used < sizeof out ? sizeof out - used : 0, "%d", port);
        used += n > 0 ? (size_t) n : 0;
        s = next + sizeof var - 1;
        if (used >= sizeof out)
            break;
    }
    if (used >= sizeof out) {
        s_problem(p, "%s:%d: %s is longer than %d characters", path, lineno, key, CONFIG_VALUE_MAX - 1);
        return -1;
    }
    memcpy(value, out, used + 1);
    return 0;
}

//  Read one env file into rc, naming each problem in p; gateway_port is what ${GATEWAY_PORT} stands for. Without
//  secrets, RC_CLIENT_SECRET is checked (set, not empty) but not kept: rc->client_secret stays empty. Every buffer
//  that held a line of the file (stdio's included) is wiped before returning.
static void s_env_file(const char *path, config_rc_t *rc, int gateway_port, bool secrets, s_problems_t *p)
{
    memset(rc, 0, sizeof *rc);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno != ENOENT)
            s_problem(p, "cannot read %s: %s", path, strerror(errno));
        return;
    }
    char iobuf[4096], secret[CONFIG_VALUE_MAX] = "";
    setvbuf(f, iobuf, _IOFBF, sizeof iobuf);  //  ours, so that it can be wiped
    struct {
        const char *key;
        char *dst;
        int line;
    } keys[] = {
        { "RC_SERVER_URL", rc->server_url, 0 },
        { "RC_CLIENT_ID", rc->client_id, 0 },
        { "RC_CLIENT_SECRET", secrets ? rc->client_secret : secret, 0 },
        { "RC_REDIRECT_URL", rc->redirect_url, 0 },
    };
    enum { SERVER, CLIENT_ID, SECRET, REDIRECT, NKEYS };
    const char *known[NKEYS + sizeof s_unused_keys / sizeof s_unused_keys[0]];
    size_t nknown = 0;
    for (size_t i = 0; i < NKEYS; i++)
        known[nknown++] = keys[i].key;
    for (size_t i = 0; i < sizeof s_unused_keys / sizeof s_unused_keys[0]; i++)
        known[nknown++] = s_unused_keys[i];
    int problems_before = p->count;

    char line[1024];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            s_problem(p, "%s:%d: line longer than %zu characters", path, lineno, sizeof line - 2);
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n')
                ;
            continue;
        }
        char *s = line, *key, *value;
        if (lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
            s += 3;  //  a UTF-8 byte order mark, as some editors write
        if (s_parse_line(s, &key, &value, path, lineno, p) != 1)
            continue;
        size_t i = 0;
        while (i < NKEYS && strcmp(key, keys[i].key) != 0)
            i++;
        if (i < NKEYS) {
            if (keys[i].line)
                s_problem(p, "%s:%d: %s is set again (first on line %d)", path, lineno, key, keys[i].line);
            else if (strlen(value) >= CONFIG_VALUE_MAX)
                s_problem(p, "%s:%d: %s is longer than %d characters", path, lineno, key, CONFIG_VALUE_MAX - 1);
            else {
                snprintf(keys[i].dst, CONFIG_VALUE_MAX, "%s", value);
                if (i == REDIRECT)
                    s_expand(keys[i].dst, gateway_port, path, lineno, key, p);
            }
            keys[i].line = lineno;
            continue;
        }
        bool unused = false;
        for (size_t j = NKEYS; j < nknown; j++)
            unused = unused || strcmp(key, known[j]) == 0;
        if (unused)
            continue;
        const char *hint = s_suggest(key, known, nknown);
        if (hint)
            s_problem(p, "%s:%d: unknown key %.64s: did you mean %s?", path, lineno, key, hint);
        else
            s_problem(p, "%s:%d: unknown key %.64s", path, lineno, key);
    }
    if (ferror(f))
        s_problem(p, "cannot read %s: %s", path, strerror(errno));
    fclose(f);
    explicit_bzero(line, sizeof line);
    explicit_bzero(iobuf, sizeof iobuf);
    if (!rc->client_id[0]) {
        explicit_bzero(secret, sizeof secret);
        return;  //  a template without credentials: not configured
    }
    for (size_t i = 0; i < NKEYS; i++) {
        if (i == CLIENT_ID)
            continue;
        if (!keys[i].line)
            s_problem(p, "%s: %s is missing", path, keys[i].key);
        else if (!keys[i].dst[0])
            s_problem(p, "%s:%d: %s is empty", path, keys[i].line, keys[i].key);
        else if (i != SECRET && !s_is_http_url(keys[i].dst))
            s_problem(p, "%s:%d: %s must be an http(s) URL (got %.60s)", path, keys[i].line, keys[i].key, keys[i].dst);
    }
    explicit_bzero(secret, sizeof secret);
    if (p->count > problems_before) {
        memset(rc, 0, sizeof *rc);
        return;
    }
    s_strip_slashes(rc->server_url);
    rc->configured = true;
}

int config_load_env_file(const char *path, config_rc_t *rc, int gateway_port, char *err, size_t err_size)
{
    s_problems_t p;
    s_problems_init(&p, err, err_size);
    s_env_file(path, rc, gateway_port, true, &p);
    return s_problems_end(&p);
}

//  The origin (scheme://host[:port]) of an http(s) URL into out. Returns 0, or -1 when it does not fit.
static int s_origin(const char *url, char *out, size_t size)
{
    const char *host = strstr(url, "://") + 3;
    size_t n = (size_t) (host - url) + strcspn(host, "/?#");
    if (n >= size)
        return -1;
    memcpy(out, url, n);
    out[n] = '\0';
    return 0;
}

//  PUBLIC_URL: as set, else the origin of the configured redirect URIs (the address RingCentral sends browsers
//  back to is the one they use), else http(s)://localhost:GATEWAY_PORT (https when TLS_CERT is set).
static int s_public_url(config_t *cfg, char *err, size_t err_size)
{
    const char *set = getenv("PUBLIC_URL");
    if (set && *set) {
        if (s_copy(cfg->public_url, sizeof cfg->public_url, set, "PUBLIC_URL", err, err_size))
            return -1;
    }
    else {
        cfg->public_url_derived = true;
        const char *tls = getenv("TLS_CERT");
        snprintf(cfg->public_url, sizeof cfg->public_url, "%s://localhost:%d", tls && *tls ? "https" : "http",
                 cfg->gateway_port);
        for (int i = CONFIG_ENV_COUNT - 1; i >= 0; i--)  //  production's wins: the mismatch is named for sandbox
            if (cfg->rc[i].configured)
                s_origin(cfg->rc[i].redirect_url, cfg->public_url, sizeof cfg->public_url);
    }
    if (!s_is_http_url(cfg->public_url) || strpbrk(cfg->public_url, "?#\"<> \t\r\n")) {
        snprintf(err, err_size, "PUBLIC_URL must be an http(s) URL without query or spaces (got \"%.60s\")",
                 cfg->public_url);
        return -1;
    }
    s_strip_slashes(cfg->public_url);
    cfg->public_https = strncmp(cfg->public_url, "https://", 8) == 0;
    return 0;
}

//  config_load, with the client secrets when secrets is set.
static int s_load(config_t *cfg, bool secrets, char *err, size_t err_size)
{
    memset(cfg, 0, sizeof *cfg);
    long port = 0, level;
    if (s_getenv(cfg->rc_env_dir, sizeof cfg->rc_env_dir, "RC_ENV_DIR", "environment", err, err_size)
        || s_getenv(cfg->data_dir, sizeof cfg->data_dir, "DATA_DIR", "var/data", err, err_size)
        || s_getenv(cfg->run_dir, sizeof cfg->run_dir, "RUN_DIR", "var/run", err, err_size)
        || s_getenv(cfg->key_file, sizeof cfg->key_file, "KEY_FILE", "", err, err_size)
        || s_getenv(cfg->gateway_bind, sizeof cfg->gateway_bind, "GATEWAY_BIND", "127.0.0.1", err, err_size)
        || config_getenv_long(&port, "GATEWAY_PORT", 5000, 1, 65535, err, err_size)
        || config_getenv_long(&cfg->connect_timeout_ms, "RC_CONNECT_TIMEOUT_MS", 3000, 1, 600000, err, err_size)
        || config_getenv_long(&cfg->timeout_ms, "RC_TIMEOUT_MS", 10000, 1, 600000, err, err_size)
        || config_getenv_long(&cfg->service_timeout_ms, "SERVICE_TIMEOUT_MS", 3000, 1, 600000, err, err_size)
        || config_getenv_long(&cfg->data_map_mb, "DATA_MAP_MB", 256, 1, 1L << 20, err, err_size)
        || s_internal_port(cfg, err, err_size))
        return -1;
    cfg->gateway_port = (int) port;
    if (!cfg->key_file[0]
        && snprintf(cfg->key_file, sizeof cfg->key_file, "%s/keys", cfg->data_dir) >= (int) sizeof cfg->key_file) {
        snprintf(err, err_size, "DATA_DIR is too long");
        return -1;
    }
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

    s_problems_t p;
    s_problems_init(&p, err, err_size);
    for (int i = 0; i < CONFIG_ENV_COUNT; i++) {
        char path[CONFIG_PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/.env-%s", cfg->rc_env_dir, s_env_names[i]);
        s_env_file(path, &cfg->rc[i], cfg->gateway_port, secrets, &p);
    }
    if (s_problems_end(&p) != 0)
        return -1;
    return s_public_url(cfg, err, err_size);
}

int config_load(config_t *cfg, char *err, size_t err_size)
{
    return s_load(cfg, false, err, err_size);
}

int config_load_with_secrets(config_t *cfg, char *err, size_t err_size)
{
    return s_load(cfg, true, err, err_size);
}

void config_wipe(config_t *cfg)
{
    explicit_bzero(cfg, sizeof *cfg);
}

//  The port of an http(s) origin: the one written, else the scheme's (80, 443).
static long s_origin_port(const char *origin)
{
    const char *host = strstr(origin, "://") + 3, *colon = strrchr(host, ':');
    if (colon && !strchr(colon, ']'))
        return strtol(colon + 1, NULL, 10);
    return strncmp(origin, "https:", 6) == 0 ? 443 : 80;
}

int config_check_redirects(const config_t *cfg, char *err, size_t err_size)
{
    char want[CONFIG_VALUE_MAX + 32];
    snprintf(want, sizeof want, "%s/oauth2callback", cfg->public_url);
    size_t used = 0;
    if (err_size)
        err[0] = '\0';
    //  PUBLIC_URL taken from a redirect URI: the front must serve that scheme and port itself (with a proxy of
    //  another port in front, PUBLIC_URL is set). The tutorial's port 5000 with GATEWAY_PORT=8080 is caught here.
    const char *tls = getenv("TLS_CERT");
    const char *scheme = tls && *tls ? "https" : "http";
    int from = cfg->rc[CONFIG_PRODUCTION].configured ? CONFIG_PRODUCTION : CONFIG_SANDBOX;
    if (cfg->public_url_derived && cfg->rc[from].configured
        && (s_origin_port(cfg->public_url) != cfg->gateway_port || strncmp(cfg->public_url, scheme, strlen(scheme)) != 0
            || cfg->public_url[strlen(scheme)] != ':')) {
        int n =
            snprintf(err, err_size,
                     "%s/.env-%s: RC_REDIRECT_URL is %.200s but the front serves %s on GATEWAY_PORT %d: set "
                     "RC_REDIRECT_URL=%s://localhost:${GATEWAY_PORT}/oauth2callback (and register it for the app "
                     "at developers.ringcentral.com), or set PUBLIC_URL when a proxy in front serves that address",
                     cfg->rc_env_dir, s_env_names[from], cfg->rc[from].redirect_url, scheme, cfg->gateway_port, scheme);
        if (n > 0)
            used = (size_t) n < err_size ? (size_t) n : (err_size ? err_size - 1 : 0);
    }
    for (int i = 0; i < CONFIG_ENV_COUNT; i++) {
        const config_rc_t *rc = &cfg->rc[i];
        if (!rc->configured || strcmp(rc->redirect_url, want) == 0)
            continue;
        int n = snprintf(err + used, used < err_size ? err_size - used : 0,
                         "%s%s/.env-%s: RC_REDIRECT_URL is %.200s but PUBLIC_URL is %.200s: RingCentral would send the "
                         "browser to another address than the one holding its session; set RC_REDIRECT_URL=%.200s "
                         "(and register it for the app at developers.ringcentral.com) or PUBLIC_URL to the redirect "
                         "URI's origin",
                         used ? "; " : "", cfg->rc_env_dir, s_env_names[i], rc->redirect_url, cfg->public_url, want);
        if (n > 0)
            used = used + (size_t) n < err_size ? used + (size_t) n : (err_size ? err_size - 1 : 0);
    }
    return used ? -1 : 0;
}

void config_log(const config_t *cfg)
{
    log_info("config",
             "rc_env_dir=%s data_dir=%s key_file=%s data_map_mb=%ld run_dir=%s authsvc=%s apisvc=%s public=%s:%d "
             "internal_port=%d public_url=%s connect_timeout_ms=%ld timeout_ms=%ld service_timeout_ms=%ld demo_mode=%d",
             cfg->rc_env_dir, cfg->data_dir, cfg->key_file, cfg->data_map_mb, cfg->run_dir, cfg->authsvc_endpoint,
             cfg->apisvc_endpoint, cfg->gateway_bind, cfg->gateway_port, cfg->gateway_internal_port, cfg->public_url,
             cfg->connect_timeout_ms, cfg->timeout_ms, cfg->service_timeout_ms, cfg->demo_mode);
    for (int i = 0; i < CONFIG_ENV_COUNT; i++) {
        const config_rc_t *rc = &cfg->rc[i];
        if (rc->configured)
            log_info("config.env", "env=%s server=%s client_id=%s client_secret=%s redirect=%s", s_env_names[i],
                     rc->server_url, rc->client_id, rc->client_secret[0] ? "<set>" : "<not loaded>", rc->redirect_url);
        else
            log_warn("config.env", "env=%s configured=0 file=%s/.env-%s", s_env_names[i], cfg->rc_env_dir,
                     s_env_names[i]);
    }
    if (cfg->demo_mode)
        log_warn("config.demo", "msg=\"DEMO MODE: both environments point at the bundled mock RingCentral\"");
}
