//  login: see login.h.
#include "gateway/login.h"
#include "common/log.h"
#include "gateway/session.h"

#include <civetweb.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static bool s_is_http_url(const char *url)
{
    return url && (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0);
}

//  A request message with its string fields set (name, value pairs, NULL-terminated). NULL out of memory.
static proto_msg_t *s_message(request_t *r, proto_type_t type, const char *const *fields)
{
    proto_msg_t *msg = request_message(r, type);
    for (size_t i = 0; msg && fields[i]; i += 2)
        if (proto_msg_set_str(msg, fields[i], fields[i + 1]) < 0)
            proto_msg_destroy(&msg);
    return msg;
}

int login_start(request_t *r)
{
    char env[PROTO_ENV_MAX + 1];
    if (request_query(r, "env", env, sizeof env) < 0 || config_env_parse(env) < 0)
        return request_error(r, 400, "Unknown environment",
                             "You can log in to production or to sandbox: choose one on the start page.", NULL, 0);
    bool fresh = !r->sid[0];
    if (fresh && rand_id(r->sid, sizeof r->sid) < 0)
        return request_fail_code(r, PROTO_INTERNAL, "no session id could be made");
    log_info("login.start", "env=%s new_session=%d client=%s", env, fresh, r->client);
    proto_msg_t *reply =
        request_call(r, RPC_AUTHSVC, s_message(r, PROTO_AUTH_URL, (const char *[]){ "sid", r->sid, "env", env, NULL }));
    const char *url = reply && proto_msg_type(reply) == PROTO_AUTH_URL_OK ? proto_msg_str(reply, "url") : NULL;
    int status;
    if (!url)
        status = request_fail(r, reply, "/", NULL);
    else if (!s_is_http_url(url)) {
        log_error("login.url", "reason=\"authsvc gave an authorize URL that is not http(s)\"");
        status = request_fail_code(r, PROTO_INTERNAL, "the login address is not valid");
    }
    else {
        html_t *h = request_html();
        if (h)
            pages_login(h, &r->state, env, url);
        char cookie[SESSION_SET_COOKIE_SIZE];
        reply_header_t extra[] = { { "Set-Cookie", cookie } };
        bool set = fresh && session_set_cookie(cookie, sizeof cookie, r->sid, r->secure) == 0;
        status = request_page(r, 200, &h, extra, set ? 1 : 0);
    }
    proto_msg_destroy(&reply);
    return status;
}

//  The error code RingCentral sent, if it is a plain token; else a stand-in (it is shown and logged).
static const char *s_error_token(const char *error, int n)
{
    if (n <= 0 || strspn(error, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != (size_t) n)
        return "unknown_error";
    return error;
}

//  RingCentral answered error= (the user declined, or the request was refused). Anyone can send a browser
//  to this address with any error text, so RingCentral's error and description are shown (and told to the
//  opener) only when authsvc says the state is a pending login of this browser session, which it then
//  consumes. Otherwise a generic page says the login did not complete, and no pending login is touched.
//  Both are 4xx: 403 when the user refused access at RingCentral, 400 for any other answer.
static int s_declined(request_t *r)
{
    //  RingCentral's OAuth error and error_description, bounded as an ERROR carries them (upstream_code, _message).
    char error[PROTO_UPSTREAM_CODE_MAX + 1], description[PROTO_UPSTREAM_MESSAGE_MAX + 1], state[PROTO_STATE_MAX + 1];
    int n = request_query(r, "error", error, sizeof error);
    const char *token = s_error_token(error, n);
    int nd = request_query(r, "error_description", description, sizeof description);
    if (nd == -2)
        snprintf(description, sizeof description, "(a description too long to show)");
    else if (nd < 0)
        description[0] = 0;
    int ns = request_query(r, "state", state, sizeof state);
    proto_msg_t *reply = NULL;
    if (ns > 0 && r->sid[0])
        reply = request_call(r, RPC_AUTHSVC,
                             s_message(r, PROTO_DECLINED, (const char *[]){ "sid", r->sid, "state", state, NULL }));
    sodium_memzero(state, sizeof state);
    bool own = reply && proto_msg_type(reply) == PROTO_DECLINED_OK;
    proto_code_t code = reply && !own ? proto_error_code(reply) : PROTO_STATE_MISMATCH;
    if (!own && reply && code != PROTO_STATE_MISMATCH && code != PROTO_BAD_REQUEST) {
        //  authsvc could not say (down, store failed): the page of that, as for any service error.
        int status = request_fail(r, reply, "/", "Start again");
        proto_msg_destroy(&reply);
        return status;
    }
    proto_msg_destroy(&reply);
    log_info("login.declined", "error=%s this_session=%d client=%s", token, own, r->client);
    html_t *h = request_html();
    int status = 400;
    if (own) {
        status = strcmp(token, "access_denied") == 0 ? 403 : 400;
        if (h)
            pages_callback_declined(h, &r->state, token, description);
    }
    else if (h)
        pages_callback_unknown(h, &r->state);
    return request_page(r, status, &h, NULL, 0);
}

int login_callback(request_t *r)
{
    char probe[2];
    if (request_query(r, "error", probe, sizeof probe) != -1)
        return s_declined(r);
    //  Values longer than the protocol allows are refused (request_query: -2) before any service sees them.
    char code[PROTO_AUTH_CODE_MAX + 1], state[PROTO_STATE_MAX + 1];
    int nc = request_query(r, "code", code, sizeof code);
    int ns = request_query(r, "state", state, sizeof state);
    if (nc <= 0 || ns <= 0)
        return request_error(r, 400, "This login answer is incomplete",
                             "The address RingCentral sent back lacks a valid code or state, so the login cannot "
                             "finish. Start the login again.",
                             NULL, 0);
    if (!r->sid[0])
        return request_fail_code(r, PROTO_STATE_MISMATCH, "this browser has no session that started this login");
    proto_msg_t *req =
        s_message(r, PROTO_EXCHANGE, (const char *[]){ "sid", r->sid, "code", code, "state", state, NULL });
    sodium_memzero(code, sizeof code);
    proto_msg_t *reply = request_call(r, RPC_AUTHSVC, req);
    const char *new_sid = reply && proto_msg_type(reply) == PROTO_EXCHANGE_OK ? proto_msg_str(reply, "new_sid") : NULL;
    int status;
    char cookie[SESSION_SET_COOKIE_SIZE];
    if (!new_sid)
        status = request_fail(r, reply, "/", "Start again");
    else if (session_set_cookie(cookie, sizeof cookie, new_sid, r->secure) < 0) {
        log_error("login.exchange", "reason=\"authsvc gave a session id that is not valid\"");
        status = request_fail_code(r, PROTO_INTERNAL, "the new session is not valid");
    }
    else {
        snprintf(r->env, sizeof r->env, "%s", proto_msg_has(reply, "env") ? proto_msg_str(reply, "env") : "");
        snprintf(r->user, sizeof r->user, "%s",
                 proto_msg_has(reply, "owner_id") ? proto_msg_str(reply, "owner_id") : "");
        r->state = (pages_state_t){ .demo_mode = r->state.demo_mode,
                                    .known = true,
                                    .logged_in = true,
                                    .env = r->env,
                                    .user = r->user,
                                    .expires_in = -1 };
        log_info("login.done", "env=%s client=%s", r->env[0] ? r->env : "-", r->client);
        html_t *h = request_html();
        if (h)
            pages_callback_ok(h, &r->state);
        reply_header_t extra[] = { { "Set-Cookie", cookie } };
        status = request_page(r, 200, &h, extra, 1);
    }
    proto_msg_destroy(&reply);
    return status;
}

int login_logout_page(request_t *r)
{
    proto_msg_t *error = NULL;
    int logged_in = request_session(r, &error);
    if (logged_in < 0) {
        int status = request_fail(r, error, "/test", "Back to the test page");
        proto_msg_destroy(&error);
        return status;
    }
    if (!logged_in)
        return reply_redirect(r->conn, 302, pages_notice_href(PAGES_NOTICE_LOGIN_FIRST), NULL, 0);
    char csrf[SESSION_CSRF_SIZE];
    session_csrf(r->sid, csrf);
    html_t *h = request_html();
    if (h)
        pages_logout(h, &r->state, csrf);
    return request_page(r, 200, &h, NULL, 0);
}

int login_logout(request_t *r)
{
    if (!session_same_origin(request_header(r, "Origin"), request_header(r, "Host"),
                             request_header(r, "Sec-Fetch-Site"), r->secure)) {
        log_warn("logout.refused", "reason=cross_site client=%s", r->client);
        return request_error(r, 403, "This logout came from another site",
                             "Only this site's own Log out button can log you out. Open the test page and use "
                             "it there.",
                             NULL, 0);
    }
    char body[LOGIN_BODY_MAX + 1];
    int len = request_body(r, body, LOGIN_BODY_MAX);
    if (len == REQUEST_BODY_TOO_LARGE)
        return request_error(r, 413, "Request too large",
                             "This form sent more than a logout needs. Open the "
                             "test page and log out there.",
                             NULL, 0);
    if (len < 0)
        return request_body_fail(r, len);
    char token[SESSION_CSRF_SIZE + 1];
    if (mg_get_var(body, (size_t) len, "csrf", token, sizeof token) < 0 || !session_csrf_ok(r->sid, token)) {
        log_warn("logout.refused", "reason=csrf client=%s", r->client);
        return request_error(r, 403, "This logout form is not valid",
                             "The form does not belong to this session (it may be from before your last login). "
                             "Open the test page and log out there.",
                             NULL, 0);
    }
    proto_msg_t *reply =
        request_call(r, RPC_AUTHSVC, s_message(r, PROTO_LOGOUT, (const char *[]){ "sid", r->sid, NULL }));
    int status;
    if (!reply || (proto_msg_type(reply) == PROTO_ERROR && proto_error_code(reply) != PROTO_NOT_LOGGED_IN))
        status = request_fail(r, reply, "/test", "Back to the test page");  //  keep the cookie: retry can work
    else {
        char cookie[SESSION_SET_COOKIE_SIZE];
        session_clear_cookie(cookie, sizeof cookie, r->secure);
        reply_header_t extra[] = { { "Set-Cookie", cookie } };
        bool revoked = proto_msg_type(reply) == PROTO_LOGOUT_OK && proto_msg_bool(reply, "revoked", false);
        log_info("logout.done", "result=ok revoked=%d client=%s", revoked, r->client);
        status = reply_redirect(
            r->conn, 303, pages_notice_href(revoked ? PAGES_NOTICE_LOGGED_OUT : PAGES_NOTICE_LOGGED_OUT_UNREVOKED),
            extra, 1);
    }
    proto_msg_destroy(&reply);
    return status;
}
