//  routes: see routes.h.
#include "gateway/routes.h"
#include "common/clock.h"
#include "common/log.h"
#include "gateway/assets.h"
#include "common/webout.h"
#include "gateway/login.h"
#include "gateway/probes.h"
#include "gateway/request.h"
#include "gateway/testpage.h"

#include <civetweb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *path;
    const char *method;
    int (*handler)(request_t *r);
    bool needs_session;  //  no valid session cookie: redirect to / (302, or 303 after a POST)
} s_route_t;

static int s_home(request_t *r);
static int s_index(request_t *r);
static int s_asset(request_t *r);

//  THE route table.
static const s_route_t s_routes[] = {
    { "/", "GET", s_home, false },
    { "/index", "GET", s_index, false },
    { "/login", "GET", login_start, false },
    { "/oauth2callback", "GET", login_callback, false },
    { "/test", "GET", testpage_show, true },
    { "/logout", "GET", login_logout_page, true },
    { "/logout", "POST", login_logout, true },
    { "/healthz", "GET", probes_healthz, false },
    { "/readyz", "GET", probes_readyz, false },
    { "/static/app.css", "GET", s_asset, false },
    { "/static/app.js", "GET", s_asset, false },
    { "/static/favicon.svg", "GET", s_asset, false },
};
#define ROUTE_COUNT (sizeof s_routes / sizeof s_routes[0])

static int s_home(request_t *r)
{
    proto_msg_t *error = NULL;
    //  The main page works even when authsvc does not: it then just does not show the login state.
    if (request_session(r, &error) < 0)
        r->state.known = false;
    proto_msg_destroy(&error);
    char word[32];
    pages_notice_t notice =
        request_query(r, "notice", word, sizeof word) > 0 ? pages_notice_parse(word) : PAGES_NOTICE_NONE;
    html_t *h = request_html();
    if (h)
        pages_home(h, &r->state, r->ctx->cfg, notice);
    return request_page(r, 200, &h, NULL, 0);
}

static int s_index(request_t *r)
{
    return reply_redirect(r->conn, 302, "/", NULL, 0);
}

static int s_asset(request_t *r)
{
    const assets_file_t *file = assets_find(r->ri->local_uri);
    if (!file)
        return request_error(r, 404, "Page not found", "There is no such page here.", NULL, 0);
    return reply_asset(r->conn, file, request_header(r, "If-None-Match"));
}

//  The methods a path answers, as an Allow value ("GET, POST"); "" when the path is unknown.
static void s_allow(const char *path, char *out, size_t size)
{
    out[0] = '\0';
    size_t len = 0;
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        if (strcmp(s_routes[i].path, path) != 0)
            continue;
        int n = snprintf(out + len, size - len, "%s%s", len ? ", " : "", s_routes[i].method);
        if (n < 0 || (size_t) n >= size - len)
            break;
        len += (size_t) n;
    }
}

static int s_dispatch(request_t *r, const char **route_p)
{
    const char *path = r->ri->local_uri ? r->ri->local_uri : "";
    const char *method = r->ri->request_method ? r->ri->request_method : "";
    for (size_t i = 0; i < ROUTE_COUNT; i++) {
        const s_route_t *route = &s_routes[i];
        if (strcmp(route->path, path) != 0 || strcmp(route->method, method) != 0)
            continue;
        *route_p = route->path;
        if (route->needs_session && !r->sid[0])
            return reply_redirect(r->conn, strcmp(method, "POST") == 0 ? 303 : 302,
                                  pages_notice_href(PAGES_NOTICE_LOGIN_FIRST), NULL, 0);
        return route->handler(r);
    }
    char allow[32];
    s_allow(path, allow, sizeof allow);
    if (!allow[0]) {
        *route_p = "(none)";
        return request_error(r, 404, "Page not found", "There is no such page here.", NULL, 0);
    }
    *route_p = "(method)";
    reply_header_t extra[] = { { "Allow", allow } };
    return request_error(r, 405, "Method not allowed", "This page cannot be used that way.", extra, 1);
}

int routes_handle(struct mg_connection *conn, void *cbdata)
{
    int64_t t0 = clock_mono_ms();
    probes_request_begin();
    webout_take_sent();
    request_t r;
    request_init(&r, conn, cbdata);
    const char *route = "(none)";
    int status = r.ri ? s_dispatch(&r, &route) : -1;
    //  A body left unread would be read by civetweb after us, with no deadline: close instead.
    if (request_body_unread(&r))
        mg_disable_connection_keep_alive(conn);
    int64_t ms = clock_mono_ms() - t0;
    probes_request_end(route, status, (double) ms / 1000.0);
    //  The access line. The route, never the path or query string: the callback's carries the code and state.
    //  rid: on every message sent for this request, hence on the services' lines, and an error page's reference.
    log_emit(probes_is_probe(route) ? LOGL_DEBUG : LOGL_INFO, "http",
             "method=%.10s route=%s status=%d ms=%lld bytes=%lld client=%s rid=%llx",
             r.ri && r.ri->request_method ? r.ri->request_method : "-", route, status, (long long) ms,
             webout_take_sent(), r.client, (unsigned long long) r.rid);
    return status >= 100 && status <= 999 ? status : 500;
}
