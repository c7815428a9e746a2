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
                               "RingCentral could not complete the request. You are still logged in; "
                               "try again in a moment." },
    [PROTO_UPSTREAM_TIMEOUT] = { PROTO_UPSTREAM_TIMEOUT, 504, "RingCentral did not answer in time",
                                 "RingCentral took too long to answer. You are still logged in; try again "
                                 "in a moment." },
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
                return 0;   //  an unreadable q counts as "not acceptable"
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
        { "X-Content-Type-Options", "nosniff" }, { "Referrer-Policy", "no-referrer" },
        { "X-Frame-Options", "DENY" }, { "Content-Security-Policy", REPLY_CSP },
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

int reply_page(struct mg_connection *conn, int status, const html_t *h, const reply_header_t *extra,
               size_t extra_count)
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
    headers[n++] = (reply_header_t) { "Location", location };
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

int reply_service_error(struct mg_connection *conn, const pages_state_t *st, const proto_msg_t *error,
                        const char *back_href, const char *back_label)
{
    const reply_error_t *info = reply_error_info(proto_error_code(error));
    int64_t retry_after = proto_msg_int(error, "retry_after", -1);
    char explain[512], seconds[24];
    reply_header_t extra[1];
    size_t n = 0;
    snprintf(explain, sizeof explain, "%s", info->explain);
    if (retry_after >= 0) {
        snprintf(seconds, sizeof seconds, "%lld", (long long) retry_after);
        extra[n++] = (reply_header_t) { "Retry-After", seconds };
        snprintf(explain, sizeof explain, "%s Try again in %lld seconds.", info->explain, (long long) retry_after);
    }
    pages_error_t e = { info->status, info->title, explain, proto_msg_str(error, "message"), back_href,
                        back_label };
    return reply_error_page(conn, st, &e, extra, n);
}

int reply_service_error_json(struct mg_connection *conn, const proto_msg_t *error)
{
    proto_code_t code = proto_error_code(error);
    const reply_error_t *info = reply_error_info(code);
    const char *message = proto_msg_str(error, "message");
    int64_t retry_after = proto_msg_int(error, "retry_after", -1);
    json_t *root = json_pack("{s:s, s:s}", "error", proto_code_name(info->code),
                             "message", message && *message ? message : info->explain);
    if (root && retry_after >= 0)
        json_object_set_new(root, "retry_after", json_integer(retry_after));
    char *body = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    char seconds[24];
    reply_header_t extra[1];
    size_t n = 0;
    if (retry_after >= 0) {
        snprintf(seconds, sizeof seconds, "%lld", (long long) retry_after);
        extra[n++] = (reply_header_t) { "Retry-After", seconds };
    }
    static const char oom[] = "{\"error\":\"INTERNAL\"}";
    reply_send(conn, info->status, "application/json", body ? body : oom, body ? strlen(body) : sizeof oom - 1,
               extra, n);
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
