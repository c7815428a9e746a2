//  authorize: see authorize.h.
#include "tests/mockrc/authorize.h"

#include "common/log.h"
#include "tests/mockrc/rc.h"
#include "tests/mockrc/web.h"

#include <stdio.h>
#include <string.h>

#define FORM_MAX 8192
#define PAGE_MAX 4096
#define LOCATION_MAX 4096

static const char s_b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

//  400 with a small HTML page: RingCentral never redirects a request it could not verify.
static int s_reject(struct mg_connection *c, state_t *st, const char *why)
{
    counters_add(state_counters(st), CTR_AUTHORIZE_REJECTED);
    log_debug("authorize.reject", "reason=\"%s\"", why);
    char page[PAGE_MAX];
    snprintf(page, sizeof page,
             "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             "<title>RingCentral (mock) \xe2\x80\x94 Error</title></head>\n<body>"
             "<h1>Bad request</h1>\n<p id=\"error\">%s</p>\n</body></html>\n",
             why);  //  why is always one of this file's literals
    return web_html(c, 400, page);
}

//  Redirect the browser back to the client: code=… or error=…, then state.
static int s_back(struct mg_connection *c, const state_authz_t *req, const char *code)
{
    char location[LOCATION_MAX];
    const char *params[][2] = {
        { "code", code },
        { "error", code ? NULL : "access_denied" },
        { "error_description", code ? NULL : "The user denied access to the application" },
        { "state", req->has_state ? req->state : NULL },
    };
    if (web_url_build(location, sizeof location, req->redirect_uri, params, 4) != 0)
        return web_html(c, 500, "<!doctype html><title>Error</title><p>redirect too long</p>");
    return web_redirect(c, location);
}

static int s_approve(struct mg_connection *c, state_t *st, const state_authz_t *req)
{
    char code[RAND_ID_SIZE];
    if (state_code_issue(st, req, code) != 0)
        return web_html(c, 500, "<!doctype html><title>Error</title><p>out of memory</p>");
    counters_add(state_counters(st), CTR_AUTHORIZE_APPROVE);
    return s_back(c, req, code);
}

static int s_login_page(struct mg_connection *c, state_t *st, const state_authz_t *req)
{
    char id[RAND_ID_SIZE];
    if (state_pending_add(st, req, id) != 0)
        return web_html(c, 500, "<!doctype html><title>Error</title><p>out of memory</p>");
    char app[STATE_CLIENT_ID_MAX * 6];
    web_html_escape(state_client(st, req->client)->id, app, sizeof app);
    char page[PAGE_MAX];
    snprintf(page, sizeof page,
             "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             "<meta name=\"referrer\" content=\"no-referrer\">"
             "<title>RingCentral (mock) \xe2\x80\x94 Sign in</title></head>\n<body>\n"
             "<h1>RingCentral (mock) \xe2\x80\x94 Sign in</h1>\n"
             "<p>The application <b id=\"app\">%s</b> asks to access your account: ReadAccounts, ReadCallLog.</p>\n"
             "<form id=\"consent\" method=\"post\" action=\"/restapi/oauth/authorize\">\n"
             "<input type=\"hidden\" name=\"request\" value=\"%s\">\n"
             "<button id=\"authorize\" type=\"submit\" name=\"decision\" value=\"approve\">Authorize</button>\n"
             "<button id=\"deny\" type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\n"
             "</form>\n</body></html>\n",
             app, id);
    counters_add(state_counters(st), CTR_AUTHORIZE_PAGE);
    return web_html(c, 200, page);
}

int authorize_get(struct mg_connection *c, state_t *st, int arg)
{
    (void) arg;
    if (rc_begin(st, c, FAULT_AUTHORIZE))
        return 1;
    const char *qs = mg_get_request_info(c)->query_string;
    size_t qlen = qs ? strlen(qs) : 0;
    state_authz_t req;
    memset(&req, 0, sizeof req);
    char client_id[STATE_CLIENT_ID_MAX], response_type[16], method[16];

    //  client_id and redirect_uri first: until both are verified nothing may be redirected.
    if (web_form_get(qs, qlen, "client_id", client_id, sizeof client_id) < 0)
        return s_reject(c, st, "client_id is missing or malformed");
    req.client = state_client_find(st, client_id);
    if (req.client < 0)
        return s_reject(c, st, "Unknown client_id");
    if (web_form_get(qs, qlen, "redirect_uri", req.redirect_uri, sizeof req.redirect_uri) < 0)
        return s_reject(c, st, "redirect_uri is missing or malformed");
    if (strcmp(req.redirect_uri, state_client(st, req.client)->redirect_uri) != 0)
        return s_reject(c, st, "redirect_uri is not registered for this application");
    if (web_form_get(qs, qlen, "response_type", response_type, sizeof response_type) < 0
        || strcmp(response_type, "code") != 0)
        return s_reject(c, st, "response_type must be code");
    int clen = web_form_get(qs, qlen, "code_challenge", req.challenge, sizeof req.challenge);
    if (clen < 43 || strspn(req.challenge, s_b64url) != (size_t) clen)
        return s_reject(c, st, "code_challenge is missing or malformed");
    if (web_form_get(qs, qlen, "code_challenge_method", method, sizeof method) < 0 || strcmp(method, "S256") != 0)
        return s_reject(c, st, "code_challenge_method must be S256");
    int slen = web_form_get(qs, qlen, "state", req.state, sizeof req.state);
    if (slen == -2)
        return s_reject(c, st, "state is too long or repeated");
    req.has_state = slen >= 0;

    state_config_t cfg;
    state_config_get(st, &cfg);
    return cfg.auto_approve ? s_approve(c, st, &req) : s_login_page(c, st, &req);
}

int authorize_post(struct mg_connection *c, state_t *st, int arg)
{
    (void) arg;
    if (rc_begin(st, c, FAULT_AUTHORIZE))
        return 1;
    char body[FORM_MAX], id[RAND_ID_SIZE + 8], decision[16];
    size_t len;
    if (!web_is_form(c) || web_read_body(c, body, sizeof body, &len) != 0)
        return s_reject(c, st, "The form must be application/x-www-form-urlencoded and small");
    if (web_form_get(body, len, "decision", decision, sizeof decision) < 0
        || (strcmp(decision, "approve") != 0 && strcmp(decision, "deny") != 0))
        return s_reject(c, st, "decision must be approve or deny");
    state_authz_t req;
    if (web_form_get(body, len, "request", id, sizeof id) < 0 || state_pending_take(st, id, &req) != 0)
        return s_reject(c, st, "This sign-in request is unknown or has expired");
    if (strcmp(decision, "approve") == 0)
        return s_approve(c, st, &req);
    counters_add(state_counters(st), CTR_AUTHORIZE_DENY);
    return s_back(c, &req, NULL);
}
