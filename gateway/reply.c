//  reply: see reply.h.
#include "gateway/reply.h"
#include "common/webout.h"
#include "common/log.h"

#include <civetweb.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  THE mapping from a service's ERROR code to what the browser sees.
static const reply_error_t s_errors[PROTO_CODE_COUNT] = {
    [PROTO_OK] = { PROTO_OK, 500, "Something went wrong",
                   "The server answered in a way it should not have. Please start again." },
    [PROTO_BAD_REQUEST] = { PROTO_BAD_REQUEST, 400, "Bad request",
                            "The request was not valid. Start again from the start page." },
    [PROTO_NOT_LOGGED_IN] = { PROTO_NOT_LOGGED_IN, 401, "Not logged in",
                              "You are not logged in, or your session has ended. Log in again." },
    [PROTO_STATE_MISMATCH] = { PROTO_STATE_MISMATCH, 400, "This login link is not valid",
                               "This login link is not valid for this browser, or it has expired or been "
                               "used already. Start the login again." },
    [PROTO_UPSTREAM_REJECTED] = { PROTO_UPSTREAM_REJECTED, 400, "RingCentral refused the login",
                                  "RingCentral refused the login; start again." },
    [PROTO_UPSTREAM_ERROR] = { PROTO_UPSTREAM_ERROR, 502, "RingCentral answered with an error",
                               "RingCentral answered, but with an error of its own, so the request could not be "
                               "completed. Try again in a moment." },
    [PROTO_UPSTREAM_TIMEOUT] = { PROTO_UPSTREAM_TIMEOUT, 504, "RingCentral did not answer in time",
                                 "RingCentral took too long to answer. Try again in a moment." },
    [PROTO_RATE_LIMITED] = { PROTO_RATE_LIMITED, 429, "Too many requests",
                             "RingCentral asks this app to slow down. Wait a little, then try again." },
    [PROTO_UNAVAILABLE] = { PROTO_UNAVAILABLE, 503, "Service unavailable",
                            "A part of this demo is not answering right now: service unavailable, try "
                            "again in a moment." },
    [PROTO_STORE_FULL] = { PROTO_STORE_FULL, 503, "The token store is full",
                           "The server's token store is full right now, so it cannot take this request. "
                           "If you were logged in, you still are. Try again later." },
    [PROTO_INTERNAL] = { PROTO_INTERNAL, 500, "Something went wrong",
                         "The server hit an unexpected problem. Try again, or start again from the start "
                         "page." },
    [PROTO_UPSTREAM_DENIED] = { PROTO_UPSTREAM_DENIED, 403, "RingCentral refused this call",
                                "RingCentral refused this API call; its answer is below." },
    [PROTO_UPSTREAM_UNREACHABLE] = { PROTO_UPSTREAM_UNREACHABLE, 502, "Could not reach RingCentral",
                                     "RingCentral could not be reached: no answer came back (network, DNS, TLS, or "
                                     "the server is down). Try again in a moment." },
    [PROTO_APP_REJECTED] = { PROTO_APP_REJECTED, 502, "RingCentral refused this app",
                             "RingCentral refused this app's credentials or grant type. Check the app's settings "
                             "and this environment's env file." },
};

const reply_error_t *reply_error_info(proto_code_t code)
{
    if ((int) code <= PROTO_OK || (int) code >= PROTO_CODE_COUNT)
        return &s_errors[PROTO_INTERNAL];
    return &s_errors[code];
}

//  The q value in the parameters p[0..n) of one media range (1 when absent).
static double s_param_q(const char *p, size_t n)
{
    while (n) {
        size_t len = 0;
        while (len < n && p[len] != ';')
            len++;
        size_t i = 0;
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (len - i >= 2 && (p[i] == 'q' || p[i] == 'Q') && p[i + 1] == '=') {
            char num[8] = { 0 };
            size_t m = len - i - 2 < sizeof num - 1 ? len - i - 2 : sizeof num - 1;
            memcpy(num, p + i + 2, m);
            char *end;
            double q = strtod(num, &end);
            if (end == num)
                return 0;  //  an unreadable q counts as "not acceptable"
            return q < 0 ? 0 : q > 1 ? 1 : q;
        }
        p += len;
        n -= len;
        if (n) {
            p++;
            n--;
        }
    }
    return 1;
}

static bool s_token_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

//  The q that accept gives to type/sub, from its most specific matching range; -1 when none matches.
//  *spec_p gets that range's specificity: 3 type/sub, 2 type/*, 1 */*, 0 none.
static double s_accept_q(const char *accept, const char *type, const char *sub, int *spec_p)
{
    int best = 0;
    double q = -1;
    const char *p = accept;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *semi = memchr(p, ';', len);
        const char *range = p, *range_end = semi ? semi : p + len;
        while (range < range_end && (*range == ' ' || *range == '\t'))
            range++;
        while (range_end > range && (range_end[-1] == ' ' || range_end[-1] == '\t'))
            range_end--;
        const char *slash = memchr(range, '/', (size_t) (range_end - range));
        if (slash) {
            size_t tl = (size_t) (slash - range), sl = (size_t) (range_end - slash - 1);
            int spec = 0;
            if (s_token_is(range, tl, "*") && s_token_is(slash + 1, sl, "*"))
                spec = 1;
            else if (s_token_is(range, tl, type))
                spec = s_token_is(slash + 1, sl, "*") ? 2 : s_token_is(slash + 1, sl, sub) ? 3 : 0;
            if (spec > best) {
                best = spec;
                q = semi ? s_param_q(semi + 1, (size_t) (p + len - semi - 1)) : 1;
            }
        }
        p += len;
        if (*p == ',')
            p++;
    }
    *spec_p = best;
    return q;
}

bool reply_wants_json(const char *accept)
{
    if (!accept)
        return false;
    int json_spec, html_spec;
    double json = s_accept_q(accept, "application", "json", &json_spec);
    double html = s_accept_q(accept, "text", "html", &html_spec);
    //  A tie goes to JSON only when it is named and HTML is merely covered by a wildcard.
    return json > 0 && (json > html || (json == html && json_spec == 3 && html_spec == 1));
}

//  One response, written at once (common/webout), with the headers every response has.
static int s_send(struct mg_connection *conn, int status, const char *content_type, const void *body, size_t len,
                  const char *cache_control, const reply_header_t *extra, size_t extra_count)
{
    const char *headers[2 * (REPLY_EXTRA_MAX + 6) + 1];
    size_t n = 0;
    const char *fixed[][2] = {
        { "X-Content-Type-Options", "nosniff" },
        { "Referrer-Policy", "no-referrer" },
        { "X-Frame-Options", "DENY" },
        { "Content-Security-Policy", REPLY_CSP },
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        headers[n++] = fixed[i][0];
        headers[n++] = fixed[i][1];
    }
    if (cache_control) {
        headers[n++] = "Cache-Control";
        headers[n++] = cache_control;
    }
    for (size_t i = 0; i < extra_count && i < REPLY_EXTRA_MAX; i++)
        if (extra[i].name && extra[i].value) {
            headers[n++] = extra[i].name;
            headers[n++] = extra[i].value;
        }
    headers[n] = NULL;
    return webout_send(conn, status, content_type, headers, body, len) == 0 ? status : -1;
}

int reply_send(struct mg_connection *conn, int status, const char *content_type, const void *body, size_t len,
               const reply_header_t *extra, size_t extra_count)
{
    return s_send(conn, status, content_type, body, len, "no-store", extra, extra_count);
}

//  The page of last resort, when a page could not be built: no allocation involved.
static const char s_fallback[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Something went wrong</title>"
    "<link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main><p class=\"status\">Error 500</p>"
    "<h1>Something went wrong</h1><p>This page could not be built. Try again, or go back to the start.</p>"
    "<p><a class=\"button\" href=\"/\">Back to the start</a></p></main></body></html>\n";

int reply_page(struct mg_connection *conn, int status, const html_t *h, const reply_header_t *extra, size_t extra_count)
{
    if (!h || !html_ok(h)) {
        log_error("reply.page", "reason=\"page could not be built\" status=%d", status);
        reply_send(conn, 500, "text/html; charset=utf-8", s_fallback, sizeof s_fallback - 1, NULL, 0);
        return 500;
    }
    reply_send(conn, status, "text/html; charset=utf-8", html_data(h), html_len(h), extra, extra_count);
    return status;
}

int reply_redirect(struct mg_connection *conn, int status, const char *location, const reply_header_t *extra,
                   size_t extra_count)
{
    reply_header_t headers[REPLY_EXTRA_MAX + 1];
    size_t n = 0;
    headers[n++] = (reply_header_t){ "Location", location };
    for (size_t i = 0; i < extra_count && n < REPLY_EXTRA_MAX; i++)
        headers[n++] = extra[i];
    static const char body[] = "Redirecting.\n";
    reply_send(conn, status, "text/plain; charset=utf-8", body, sizeof body - 1, headers, n);
    return status;
}

int reply_error_page(struct mg_connection *conn, const pages_state_t *st, const pages_error_t *e,
                     const reply_header_t *extra, size_t extra_count)
{
    html_t *h = html_new(64u << 10);
    if (h)
        pages_error(h, st, e);
    int status = reply_page(conn, e->status, h, extra, extra_count);
    html_destroy(&h);
    return status;
}

//  The permission named in RingCentral's message ("... needs to have [ReadCallLog] permission") into out.
//  Returns true when there is one (letters and digits only).
static bool s_permission(const char *message, char *out, size_t size)
{
    const char *open = message ? strchr(message, '[') : NULL;
    const char *close = open ? strchr(open, ']') : NULL;
    size_t n = open && close ? (size_t) (close - open - 1) : 0;
    if (n == 0 || n >= size || n >= 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((open[1 + i] >= 'a' && open[1 + i] <= 'z') || (open[1 + i] >= 'A' && open[1 + i] <= 'Z')
              || (open[1 + i] >= '0' && open[1 + i] <= '9')))
            return false;
    memcpy(out, open + 1, n);
    out[n] = '\0';
    return true;
}

void reply_error_text(const proto_msg_t *error, const pages_state_t *st, const config_t *cfg, reply_text_t *out)
{
    proto_code_t code = proto_error_code(error);
    const reply_error_t *info = reply_error_info(code);
    int64_t retry_after = proto_msg_int(error, "retry_after", -1);
    int64_t up_status = proto_msg_int(error, "upstream_status", 0);
    const char *up_code = proto_msg_str(error, "upstream_code");
    const char *up_message = proto_msg_str(error, "upstream_message");
    const char *message = proto_msg_str(error, "message");
    up_code = up_code ? up_code : "";
    up_message = up_message ? up_message : "";
    //  The environment whose RingCentral failed: the ERROR's, else the session's.
    const char *env = proto_msg_str(error, "env");
    if (!env || !*env)
        env = st && st->env ? st->env : "";
    int e = config_env_parse(env);
    const char *server = cfg && e >= 0 && cfg->rc[e].server_url[0] ? cfg->rc[e].server_url : NULL;
    char file[CONFIG_PATH_MAX + 32] = "";
    if (cfg && e >= 0)
        snprintf(file, sizeof file, "%s/.env-%s", cfg->rc_env_dir, config_env_name((config_env_t) e));
    bool logged_in = st && st->known && st->logged_in;
    const char *still = logged_in ? " You are still logged in." : "";

    out->status = info->status;
    out->title = info->title;
    snprintf(out->explain, sizeof out->explain, "%s%s", info->explain, still);
    //  RingCentral's words, shown as such; else the service's own message.
    if (up_status > 0 || *up_code || *up_message)
        snprintf(out->detail, sizeof out->detail, "RingCentral answered %lld%s%s%s%s", (long long) up_status,
                 *up_code ? " " : "", up_code, *up_message ? ": " : "", up_message);
    else
        snprintf(out->detail, sizeof out->detail, "%s", message ? message : "");

    char perm[64];
    switch (code) {
        case PROTO_UPSTREAM_DENIED:
            if (strcmp(up_code, "CMN-408") == 0 || strstr(up_message, "user needs to have")) {
                out->title = "This call needs an admin user";
                snprintf(out->explain, sizeof out->explain,
                         "RingCentral refused this call: the logged-in user lacks the %s permission. The account "
                         "call log needs a user with admin rights on the account: log in as an admin user, or use "
                         "the extension's own call log.%s",
                         s_permission(up_message, perm, sizeof perm) ? perm : "needed", still);
            }
            else if (strcmp(up_code, "InsufficientPermissions") == 0 || strcmp(up_code, "CMN-401") == 0
                     || (strstr(up_message, "permission") && s_permission(up_message, perm, sizeof perm))) {
                bool named = s_permission(up_message, perm, sizeof perm);
                out->title = "The app lacks a permission";
                snprintf(out->explain, sizeof out->explain,
                         "RingCentral refused this call: the app needs the %s permission. Add it at "
                         "developers.ringcentral.com \u2192 your app \u2192 Settings \u2192 permissions (app "
                         "scopes), then log out and log in again: a login carries the permissions the app had "
                         "when it was made.%s",
                         named ? perm : "missing", still);
            }
            else
                snprintf(out->explain, sizeof out->explain,
                         "RingCentral refused this call (HTTP %lld); its code and message are below.%s",
                         (long long) up_status, still);
            break;
        case PROTO_APP_REJECTED:
            if (strcmp(up_code, "unauthorized_client") == 0 || strstr(up_message, "grant type")
                || strstr(up_code, "OAU-251")) {
                out->title = "The app's auth type is not \"authorization code\"";
                snprintf(out->explain, sizeof out->explain,
                         "RingCentral refused the login: the app%s%s is not allowed the authorization code grant. "
                         "At developers.ringcentral.com \u2192 your app \u2192 Settings \u2192 Auth, choose "
                         "\"3-legged OAuth flow authorization code\" (a server-side web app), then log in again.",
                         *env ? " of the environment " : "", env);
            }
            else if (strcmp(up_code, "invalid_client") == 0 || up_status == 401) {
                out->title = "The client id or secret is wrong";
                snprintf(out->explain, sizeof out->explain,
                         "RingCentral did not accept the client id or the client secret of the %s environment. "
                         "Check RC_CLIENT_ID and RC_CLIENT_SECRET in %s (copy them from developers.ringcentral.com "
                         "\u2192 your app \u2192 Credentials), run make restart, then log in again.",
                         *env ? env : "chosen", file[0] ? file : "its env file (.env-<environment>)");
            }
            break;
        case PROTO_UPSTREAM_UNREACHABLE:
            snprintf(out->explain, sizeof out->explain,
                     "Could not reach %.200s: no answer came back (network, DNS, TLS, or the server is down), so "
                     "RingCentral did not refuse anything. Try again in a moment; if it goes on, check "
                     "RC_SERVER_URL%s%.240s.%s",
                     server ? server : "RingCentral", file[0] ? " in " : "", file, still);
            break;
        case PROTO_UPSTREAM_TIMEOUT:
            snprintf(out->explain, sizeof out->explain, "%s%s took too long to answer. Try again in a moment.%s",
                     server ? "RingCentral at " : "RingCentral", server ? server : "", still);
            break;
        case PROTO_RATE_LIMITED:
            if (retry_after >= 0)
                snprintf(out->explain, sizeof out->explain,
                         "RingCentral's rate limit was reached: wait %lld seconds, then try again.%s",
                         (long long) retry_after, still);
            break;
        default: break;
    }
}

int reply_service_error(struct mg_connection *conn, const pages_state_t *st, const config_t *cfg,
                        const proto_msg_t *error, const char *back_href, const char *back_label)
{
    reply_text_t *t = malloc(sizeof *t);
    if (!t) {
        const reply_error_t *info = reply_error_info(proto_error_code(error));
        pages_error_t e = { info->status, info->title, info->explain, NULL, back_href, back_label };
        return reply_error_page(conn, st, &e, NULL, 0);
    }
    reply_error_text(error, st, cfg, t);
    int64_t retry_after = proto_msg_int(error, "retry_after", -1);
    char seconds[24];
    reply_header_t extra[1];
    size_t n = 0;
    if (retry_after >= 0) {
        snprintf(seconds, sizeof seconds, "%lld", (long long) retry_after);
        extra[n++] = (reply_header_t){ "Retry-After", seconds };
    }
    pages_error_t e = { t->status, t->title, t->explain, t->detail[0] ? t->detail : NULL, back_href, back_label };
    int status = reply_error_page(conn, st, &e, extra, n);
    free(t);
    return status;
}

int reply_service_error_json(struct mg_connection *conn, const proto_msg_t *error)
{
    proto_code_t code = proto_error_code(error);
    const reply_error_t *info = reply_error_info(code);
    const char *message = proto_msg_str(error, "message");
    int64_t retry_after = proto_msg_int(error, "retry_after", -1);
    json_t *root = json_pack("{s:s, s:s}", "error", proto_code_name(info->code), "message",
                             message && *message ? message : info->explain);
    if (root && retry_after >= 0)
        json_object_set_new(root, "retry_after", json_integer(retry_after));
    if (root && proto_msg_has(error, "upstream_status"))
        json_object_set_new(root, "upstream_status", json_integer(proto_msg_int(error, "upstream_status", 0)));
    const char *up[] = { "upstream_code", "upstream_message" };
    for (size_t i = 0; root && i < 2; i++)
        if (proto_msg_has(error, up[i]))
            json_object_set_new(root, up[i], json_string(proto_msg_str(error, up[i])));
    char *body = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    char seconds[24];
    reply_header_t extra[1];
    size_t n = 0;
    if (retry_after >= 0) {
        snprintf(seconds, sizeof seconds, "%lld", (long long) retry_after);
        extra[n++] = (reply_header_t){ "Retry-After", seconds };
    }
    static const char oom[] = "{\"error\":\"INTERNAL\"}";
    reply_send(conn, info->status, "application/json", body ? body : oom, body ? strlen(body) : sizeof oom - 1, extra,
               n);
    free(body);
    return info->status;
}

int reply_asset(struct mg_connection *conn, const assets_file_t *file, const char *if_none_match)
{
    reply_header_t extra[] = { { "ETag", file->etag } };
    bool fresh = if_none_match && strstr(if_none_match, file->etag);
    int status = fresh ? 304 : 200;
    return s_send(conn, status, file->content_type, file->body, fresh ? 0 : file->len, "no-cache", extra, 1);
}
