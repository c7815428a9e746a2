//  request: see request.h.
#include "gateway/request.h"
#include "gateway/session.h"

#include <civetweb.h>
#include <stdio.h>
#include <string.h>

void request_init(request_t *r, struct mg_connection *conn, const request_ctx_t *ctx)
{
    memset(r, 0, sizeof *r);
    r->conn = conn;
    r->ri = mg_get_request_info(conn);
    r->ctx = ctx;
    r->rpc = mg_get_thread_pointer(conn);
    r->secure = r->ri && r->ri->is_ssl;
    session_sid_from_cookie(mg_get_header(conn, "Cookie"), r->sid);
    r->state.demo_mode = ctx->cfg->demo_mode;
    r->state.expires_in = -1;
}

const char *request_header(const request_t *r, const char *name)
{
    return mg_get_header(r->conn, name);
}

int request_query(const request_t *r, const char *name, char *buf, size_t size)
{
    buf[0] = '\0';
    const char *q = r->ri ? r->ri->query_string : NULL;
    if (!q)
        return -1;
    int n = mg_get_var(q, strlen(q), name, buf, size);
    if (n == -2 || (n >= 0 && strlen(buf) != (size_t) n)) {
        buf[0] = '\0';  //  too long, or a %00 inside: not a value we can use
        return -2;
    }
    return n;
}

proto_msg_t *request_message(request_t *r, proto_type_t type)
{
    return r->rpc ? rpc_request(r->rpc, type) : NULL;
}

proto_msg_t *request_call(request_t *r, rpc_service_t service, proto_msg_t *req)
{
    proto_msg_t *reply = NULL;
    if (req && r->rpc)
        reply = rpc_call(r->rpc, service, req);
    proto_msg_destroy(&req);
    return reply;
}

bool request_take_session(request_t *r, const proto_msg_t *session_ok)
{
    r->state.known = true;
    r->state.logged_in = proto_msg_bool(session_ok, "logged_in", false);
    if (!r->state.logged_in)
        return false;
    snprintf(r->env, sizeof r->env, "%s", proto_msg_has(session_ok, "env") ? proto_msg_str(session_ok, "env") : "");
    snprintf(r->user, sizeof r->user, "%s",
             proto_msg_has(session_ok, "owner_id") ? proto_msg_str(session_ok, "owner_id") : "");
    r->state.env = r->env;
    r->state.user = r->user;
    r->state.expires_in = proto_msg_int(session_ok, "access_expires_in", -1);
    return true;
}

int request_session(request_t *r, proto_msg_t **error_p)
{
    *error_p = NULL;
    if (!r->sid[0]) {
        r->state.known = true;
        return 0;
    }
    proto_msg_t *req = request_message(r, PROTO_SESSION);
    if (req && proto_msg_set_str(req, "sid", r->sid) < 0)
        proto_msg_destroy(&req);
    proto_msg_t *reply = request_call(r, RPC_AUTHSVC, req);
    if (!reply) {
        *error_p = proto_error_new(0, PROTO_INTERNAL, "out of memory", -1);
        return -1;
    }
    if (proto_msg_type(reply) == PROTO_ERROR) {
        if (proto_error_code(reply) == PROTO_NOT_LOGGED_IN) {
            r->state.known = true;
            proto_msg_destroy(&reply);
            return 0;
        }
        *error_p = reply;
        return -1;
    }
    int logged_in = request_take_session(r, reply) ? 1 : 0;
    proto_msg_destroy(&reply);
    return logged_in;
}

html_t *request_html(void)
{
    return html_new(REQUEST_PAGE_MAX);
}

int request_page(request_t *r, int status, html_t **h_p, const reply_header_t *extra, size_t extra_count)
{
    int sent = reply_page(r->conn, status, *h_p, extra, extra_count);
    html_destroy(h_p);
    return sent;
}

int request_fail(request_t *r, const proto_msg_t *error, const char *back_href, const char *back_label)
{
    if (!error)
        return request_fail_code(r, PROTO_INTERNAL, "out of memory");
    return reply_service_error(r->conn, &r->state, error, back_href, back_label);
}

int request_fail_code(request_t *r, proto_code_t code, const char *detail)
{
    proto_msg_t *error = proto_error_new(0, code, detail ? detail : "", -1);
    if (!error) {
        const reply_error_t *info = reply_error_info(code);
        pages_error_t e = { info->status, info->title, info->explain, NULL, NULL, NULL };
        return reply_error_page(r->conn, &r->state, &e, NULL, 0);
    }
    int status = reply_service_error(r->conn, &r->state, error, NULL, NULL);
    proto_msg_destroy(&error);
    return status;
}

int request_error(request_t *r, int status, const char *title, const char *explain, const reply_header_t *extra,
                  size_t extra_count)
{
    pages_error_t e = { status, title, explain, NULL, NULL, NULL };
    return reply_error_page(r->conn, &r->state, &e, extra, extra_count);
}
