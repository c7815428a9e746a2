//  testpage: see testpage.h.
#include "gateway/testpage.h"
#include "common/log.h"
#include "gateway/apis.h"
#include "gateway/calllog.h"
#include "gateway/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Not logged in (any more): to the start page, which says why. An ERROR that carries RingCentral's answer
//  (why: a refresh RingCentral refused, invalid_grant) means RingCentral ended the login; else log in first.
static int s_to_start(request_t *r, const proto_msg_t *why)
{
    bool ended = why && proto_msg_type(why) == PROTO_ERROR && proto_msg_has(why, "upstream_status");
    if (ended)
        log_info("session.ended", "upstream_status=%lld upstream_code=%s client=%s",
                 (long long) proto_msg_int(why, "upstream_status", 0),
                 proto_msg_has(why, "upstream_code") ? proto_msg_str(why, "upstream_code") : "-", r->client);
    return reply_redirect(r->conn, 302,
                          pages_notice_href(ended ? PAGES_NOTICE_SESSION_ENDED : PAGES_NOTICE_LOGIN_FIRST), NULL, 0);
}

static bool s_not_logged_in(const proto_msg_t *reply)
{
    return proto_msg_type(reply) == PROTO_ERROR && proto_error_code(reply) == PROTO_NOT_LOGGED_IN;
}

//  A content type fit to send back as a header: printable ASCII only.
static const char *s_content_type(const char *ct)
{
    if (!ct || !*ct)
        return "application/json";
    for (const char *p = ct; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return "application/json";
    return ct;
}

static proto_msg_t *s_message(request_t *r, proto_type_t type, const char *api, const char *params)
{
    proto_msg_t *msg = request_message(r, type);
    if (msg
        && (proto_msg_set_str(msg, "sid", r->sid) < 0 || (api && proto_msg_set_str(msg, "api", api) < 0)
            || (api && params && *params && proto_msg_set_str(msg, "params", params) < 0)))
        proto_msg_destroy(&msg);
    return msg;
}

//  The API's query parameters of the request, checked against its allow-list, into params ("k=v&k=v").
//  An empty value counts as absent (an empty form field). Returns 0, or -1 with the bad name in *bad.
static int s_params(request_t *r, const apis_t *api, char *params, size_t size, const char **bad)
{
    params[0] = '\0';
    for (size_t i = 0; proto_api_param_name(i); i++) {
        const char *key = proto_api_param_name(i);
        char value[64];
        int n = request_query(r, key, value, sizeof value);
        if (n == -1 || n == 0)
            continue;
        if (n < 0 || calllog_param_add(api, params, size, key, value) != 0) {
            *bad = key;
            return -1;
        }
    }
    return 0;
}

//  /test: the state, the API links and the Logout form.
static int s_test(request_t *r)
{
    proto_msg_t *error = NULL;
    int logged_in = request_session(r, &error);
    if (logged_in < 0) {
        int status = request_fail(r, error, "/", NULL);
        proto_msg_destroy(&error);
        return status;
    }
    if (!logged_in)
        return s_to_start(r, NULL);
    char csrf[SESSION_CSRF_SIZE];
    session_csrf(r->sid, csrf);
    html_t *h = request_html();
    if (h)
        pages_test(h, &r->state, csrf);
    return request_page(r, 200, &h, NULL, 0);
}

//  /test?api= for a client that prefers JSON: apisvc's body as it came, or {"error",...}.
static int s_api_json(request_t *r, const char *api, const char *params)
{
    proto_msg_t *reply = request_call(r, RPC_APISVC, s_message(r, PROTO_API, api, params));
    int status;
    if (!reply) {
        proto_msg_t *oom = proto_error_new(0, PROTO_INTERNAL, "out of memory", -1);
        status = reply_service_error_json(r->conn, oom);
        proto_msg_destroy(&oom);
    }
    else if (s_not_logged_in(reply))
        status = s_to_start(r, reply);
    else if (proto_msg_type(reply) == PROTO_ERROR)
        status = reply_service_error_json(r->conn, reply);
    else {
        reply_send(r->conn, 200, s_content_type(proto_msg_str(reply, "content_type")), proto_msg_str(reply, "body"),
                   proto_msg_strlen(reply, "body"), NULL, 0);
        status = 200;
    }
    proto_msg_destroy(&reply);
    return status;
}

//  /test?api= as a page: SESSION (for the state) and API at once, then the readable view and the JSON re-indented.
static int s_api_page(request_t *r, const char *api, const char *params)
{
    proto_msg_t *session_req = s_message(r, PROTO_SESSION, NULL, NULL), *api_req = s_message(r, PROTO_API, api, params);
    rpc_call_t calls[RPC_SERVICE_COUNT] = {
        { RPC_AUTHSVC, session_req, NULL, 0 },
        { RPC_APISVC, api_req, NULL, 0 },
    };
    if (session_req && api_req)
        rpc_call_many(r->rpc, calls, RPC_SERVICE_COUNT);
    const proto_msg_t *session = calls[0].reply, *result = calls[1].reply;
    int status;
    if (!session || !result)
        status = request_fail_code(r, PROTO_INTERNAL, "out of memory");
    else if (s_not_logged_in(session) || s_not_logged_in(result))
        status = s_to_start(r, s_not_logged_in(result) ? result : session);
    else if (proto_msg_type(session) == PROTO_ERROR)
        status = request_fail(r, session, "/test", "Back to the test page");
    else if (!request_take_session(r, session))
        status = s_to_start(r, NULL);
    else if (proto_msg_type(result) == PROTO_ERROR)
        status = request_fail(r, result, "/test", "Back to the test page");
    else {
        const char *body = proto_msg_str(result, "body");
        size_t len = proto_msg_strlen(result, "body");
        char *pretty = apis_pretty_json(body, len);
        char csrf[SESSION_CSRF_SIZE];
        session_csrf(r->sid, csrf);
        html_t *view = request_html();
        if (view && (calllog_render(view, apis_find(api), params, body, len) != 0 || !html_ok(view)))
            html_destroy(&view);
        html_t *h = request_html();
        if (h)
            pages_api(h, &r->state, csrf, api, (int) proto_msg_int(result, "status", 200),
                      s_content_type(proto_msg_str(result, "content_type")), view ? html_data(view) : NULL, pretty,
                      body ? body : "", len);
        html_destroy(&view);
        free(pretty);
        status = request_page(r, 200, &h, NULL, 0);
    }
    proto_msg_destroy(&session_req);
    proto_msg_destroy(&api_req);
    for (int i = 0; i < RPC_SERVICE_COUNT; i++)
        proto_msg_destroy(&calls[i].reply);
    return status;
}

int testpage_show(request_t *r)
{
    char api[PROTO_API_NAME_MAX + 1];
    int n = request_query(r, "api", api, sizeof api);
    if (n == -1)
        return s_test(r);
    bool json = reply_wants_json(request_header(r, "Accept"));
    if (n <= 0 || !apis_find(api)) {
        if (json) {
            proto_msg_t *error = proto_error_new(0, PROTO_BAD_REQUEST, "unknown api", -1);
            int status = error ? reply_service_error_json(r->conn, error) : 500;
            proto_msg_destroy(&error);
            return status;
        }
        return request_error(r, 400, "Unknown API",
                             "The test page offers extension, extension-call-log and account-call-log: pick one "
                             "of its links.",
                             NULL, 0);
    }
    char params[PROTO_API_PARAMS_MAX + 1];
    const char *bad = NULL;
    if (s_params(r, apis_find(api), params, sizeof params, &bad) != 0) {
        char explain[256];
        snprintf(explain, sizeof explain,
                 "The parameter %s is not allowed for this API or its value is not valid "
                 "(dates as YYYY-MM-DD or ISO 8601 with a zone, perPage 1-1000, page from 1, view Simple or "
                 "Detailed, direction Inbound or Outbound, type Voice or Fax).",
                 bad);
        if (json) {
            proto_msg_t *error = proto_error_new(0, PROTO_BAD_REQUEST, explain, -1);
            int status = error ? reply_service_error_json(r->conn, error) : 500;
            proto_msg_destroy(&error);
            return status;
        }
        return request_error(r, 400, "Parameter not accepted", explain, NULL, 0);
    }
    return json ? s_api_json(r, api, params) : s_api_page(r, api, params);
}
