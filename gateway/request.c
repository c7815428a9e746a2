//  request: see request.h.
#include "gateway/request.h"
#include "common/clock.h"
#include "common/log.h"
#include "gateway/session.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

//  True when addr is a loopback address: 127.0.0.0/8, ::1, or ::ffff:127.x.y.z.
static bool s_is_loopback(const char *addr)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, addr, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, addr, a) != 1)
        return false;
    static const unsigned char one[16] = { [15] = 1 };
    static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
    return memcmp(a, one, 16) == 0 || (memcmp(a, mapped, 12) == 0 && a[12] == 127);
}

//  The canonical text of a valid IPv4 or IPv6 address into out. Returns 0, or -1 when it is not one.
static int s_canonical_addr(const char *addr, char *out, size_t size)
{
    unsigned char a[16];
    //  inet_pton takes dotted quads only (no octal, no short forms) and IPv6 without a zone.
    if (strlen(addr) >= REQUEST_CLIENT_SIZE)
        return -1;
    if (inet_pton(AF_INET, addr, a) == 1)
        return inet_ntop(AF_INET, a, out, (socklen_t) size) ? 0 : -1;
    if (inet_pton(AF_INET6, addr, a) == 1)
        return inet_ntop(AF_INET6, a, out, (socklen_t) size) ? 0 : -1;
    return -1;
}

void request_client_addr(const char *peer, const char *real_ip, char *out, size_t size)
{
    if (real_ip && peer && s_is_loopback(peer) && s_canonical_addr(real_ip, out, size) == 0)
        return;
    //  civetweb writes the peer itself (inet_ntop); "-" when there is none.
    snprintf(out, size, "%s", peer && *peer ? peer : "-");
}

void request_init(request_t *r, struct mg_connection *conn, const request_ctx_t *ctx)
{
    memset(r, 0, sizeof *r);
    r->conn = conn;
    r->ri = mg_get_request_info(conn);
    r->ctx = ctx;
    r->rpc = mg_get_thread_pointer(conn);
    r->rid = r->rpc ? rpc_new_rid(r->rpc) : ((uint64_t) randombytes_random() << 32 | randombytes_random());
    r->secure = ctx->cfg->public_https;
    request_client_addr(r->ri ? r->ri->remote_addr : NULL, mg_get_header(conn, "X-Real-IP"), r->client,
                        sizeof r->client);
    session_sid_from_cookie(mg_get_header(conn, "Cookie"), r->secure, r->sid);
    r->state.demo_mode = ctx->cfg->demo_mode;
    r->state.expires_in = -1;
}

int request_body(request_t *r, char *buf, size_t max)
{
    buf[0] = '\0';
    long long want = r->ri->content_length;
    if (want < 0) {
        if (mg_get_header(r->conn, "Transfer-Encoding"))
            return REQUEST_BODY_NO_LENGTH;
        want = 0;  //  no Content-Length, not chunked: no body
    }
    if (want > (long long) max)
        return REQUEST_BODY_TOO_LARGE;
    int64_t t0 = clock_mono_ms();
    int64_t deadline = t0 + r->ctx->body_timeout_ms;
    size_t len = 0;
    while (len < (size_t) want) {
        //  One byte at a time: mg_read returns only when it has all it was asked for (or a single
        //  wait of request_timeout_ms passed), however long a trickle of bytes takes.
        int n = clock_mono_ms() < deadline ? mg_read(r->conn, buf + len, 1) : 0;
        if (n < 0) {
            log_info("body.unreadable", "client=%s got=%zu of=%lld", r->client, len, want);
            return REQUEST_BODY_UNREADABLE;
        }
        if (n == 0) {
            log_warn("body.timeout", "client=%s got=%zu of=%lld ms=%lld", r->client, len, want,
                     (long long) (clock_mono_ms() - t0));
            return REQUEST_BODY_TIMEOUT;
        }
        len++;
    }
    buf[len] = '\0';
    r->body_read = true;
    return (int) len;
}

bool request_body_unread(const request_t *r)
{
    if (r->body_read || !r->ri)
        return false;
    return r->ri->content_length > 0 || (r->ri->content_length < 0 && mg_get_header(r->conn, "Transfer-Encoding"));
}

int request_body_fail(request_t *r, int code)
{
    //  What is left of the body is not read: civetweb must close the connection, not read on.
    mg_disable_connection_keep_alive(r->conn);
    reply_header_t extra[] = { { "Connection", "close" } };
    switch (code) {
        case REQUEST_BODY_TIMEOUT:
            return request_error(r, 408, "The request took too long",
                                 "Your browser did not send the whole form in time, so the server stopped waiting. "
                                 "Try again.",
                                 extra, 1);
        case REQUEST_BODY_TOO_LARGE:
            return request_error(r, 413, "Request too large", "This request sent more than this page takes.", extra, 1);
        case REQUEST_BODY_NO_LENGTH:
            return request_error(r, 411, "Length required",
                                 "This request did not say how long its body is; this server needs that.", extra, 1);
        default:
            return request_error(r, 400, "Bad request", "The request could not be read to its end. Try again.", extra,
                                 1);
    }
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
    return r->rpc ? proto_msg_new(type, r->rid) : NULL;
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

//  Give this error answer its reference: the request id, which every message of this request carried (so it
//  is on the services' lines as rid=) and the access line shows (rid=).
static void s_ref(request_t *r)
{
    snprintf(r->ref, sizeof r->ref, "%llx", (unsigned long long) r->rid);
    r->state.ref = r->ref;
}

int request_fail(request_t *r, const proto_msg_t *error, const char *back_href, const char *back_label)
{
    if (!error)
        return request_fail_code(r, PROTO_INTERNAL, "out of memory");
    s_ref(r);
    return reply_service_error(r->conn, &r->state, r->ctx->cfg, error, back_href, back_label);
}

int request_fail_code(request_t *r, proto_code_t code, const char *detail)
{
    s_ref(r);
    proto_msg_t *error = proto_error_new(0, code, detail ? detail : "", -1);
    if (!error) {
        const reply_error_t *info = reply_error_info(code);
        pages_error_t e = { info->status, info->title, info->explain, NULL, NULL, NULL };
        return reply_error_page(r->conn, &r->state, &e, NULL, 0);
    }
    int status = reply_service_error(r->conn, &r->state, r->ctx->cfg, error, NULL, NULL);
    proto_msg_destroy(&error);
    return status;
}

int request_error(request_t *r, int status, const char *title, const char *explain, const reply_header_t *extra,
                  size_t extra_count)
{
    s_ref(r);
    pages_error_t e = { status, title, explain, NULL, NULL, NULL };
    return reply_error_page(r->conn, &r->state, &e, extra, extra_count);
}
