//  request: what a route handler knows about the request it serves, and its helpers.
//
//  request_init reads the session cookie (validated: anything but a rand_id is
//  no session; its name follows PUBLIC_URL's scheme), the client's address, the
//  thread's rpc client and the server context. The helpers send pages with the
//  header bar filled from what the request learnt.
//
//  The client's address is the TCP peer's, or the X-Real-IP header when the peer is
//  the front (a loopback address) and the header is a plain IPv4 or IPv6 address.
//  A request body is read with an overall deadline (REQUEST_BODY_TIMEOUT_MS): civetweb's
//  mg_read waits for every byte it is asked for as long as bytes keep coming, so the
//  body is read one byte at a time (each read bounded by civetweb's request_timeout_ms)
//  and the clock checked between reads. A request whose body was not read to its end is
//  not kept alive (civetweb would otherwise read the rest after the handler, with no
//  deadline).
#ifndef REQUEST_H_INCLUDED
#define REQUEST_H_INCLUDED

#include "common/config.h"
#include "common/rand.h"
#include "gateway/pages.h"
#include "gateway/reply.h"
#include "gateway/rpc.h"
#include "proto/proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mg_connection;
struct mg_request_info;

//  Largest page a handler builds (the API page with its JSON is the big one).
#define REQUEST_PAGE_MAX (24u << 20)

//  The longest a whole request body may take to arrive (GATEWAY_BODY_TIMEOUT_MS overrides it).
#define REQUEST_BODY_TIMEOUT_MS 10000
//  Room for a client address (INET6_ADDRSTRLEN).
#define REQUEST_CLIENT_SIZE 46

//  What request_body returns when it has no body to give.
#define REQUEST_BODY_TOO_LARGE (-1)   //  Content-Length over the limit
#define REQUEST_BODY_TIMEOUT (-2)     //  not all there by the deadline
#define REQUEST_BODY_UNREADABLE (-3)  //  the connection failed or closed before the end
#define REQUEST_BODY_NO_LENGTH (-4)   //  chunked (no Content-Length): not taken

//  What every request of one server shares (read only).
typedef struct {
    const config_t *cfg;
    long body_timeout_ms;  //  REQUEST_BODY_TIMEOUT_MS, or GATEWAY_BODY_TIMEOUT_MS read at start
} request_ctx_t;

typedef struct {
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    const request_ctx_t *ctx;
    rpc_t *rpc;                        //  this thread's service client; NULL when it could not be made
    uint64_t rid;                      //  the request id: on every message sent for this request, the access line
                                       //  (rid=) and an error page's reference
    char sid[RAND_ID_SIZE];            //  the cookie's session id; "" when none or not valid
    bool secure;                       //  PUBLIC_URL is https: the cookie is __Host-rcsid, Secure; origins are https
    bool body_read;                    //  request_body read the whole body
    char client[REQUEST_CLIENT_SIZE];  //  the client's address (see above); never "" after request_init
    pages_state_t state;               //  what the header bar shows
    char ref[24];  //  an error answer's reference (the rid in hex), storage behind state.ref ("" when none)
    char env[PROTO_ENV_MAX + 1];     //  storage behind state.env
    char user[PROTO_OWNER_MAX + 1];  //  storage behind state.user (owner_id)
} request_t;

//  Fill r for conn. Never fails: a missing cookie or rpc client is recorded as such.
void request_init(request_t *r, struct mg_connection *conn, const request_ctx_t *ctx);
//  Write the client's address into out: real_ip (canonical form) when peer is a loopback address and real_ip
//  is a valid IPv4 or IPv6 address, else peer ("-" when peer is empty or NULL). Never fails; out is bounded.
void request_client_addr(const char *peer, const char *real_ip, char *out, size_t size);
//  Read the whole body (at most max bytes, NUL-terminated: buf has max + 1 bytes) by the deadline.
//  Returns its length, or a REQUEST_BODY_* code (logged when the deadline passed).
int request_body(request_t *r, char *buf, size_t max);
//  Send the page for a REQUEST_BODY_* code (408, 400, 411, 413) and close the connection. Returns the status sent.
int request_body_fail(request_t *r, int code);
//  True when the request came with a body that request_body has not read to its end.
bool request_body_unread(const request_t *r);
//  The value of a request header. Returns NULL when absent.
const char *request_header(const request_t *r, const char *name);
//  Decode query parameter name into buf. Returns its length, -1 when absent, -2 when too long for buf.
int request_query(const request_t *r, const char *name, char *buf, size_t size);
//  Send req (taking it) to a service. Returns the reply (OK or ERROR), or NULL out of memory.
proto_msg_t *request_call(request_t *r, rpc_service_t service, proto_msg_t *req);
//  A new request message of type carrying r->rid (NULL out of memory or without an rpc client).
proto_msg_t *request_message(request_t *r, proto_type_t type);
//  Record a SESSION_OK reply (logged_in, env, owner_id, access_expires_in) in r->state. Returns logged_in.
bool request_take_session(request_t *r, const proto_msg_t *session_ok);
//  Ask authsvc about r->sid. Returns 1 logged in, 0 not (or no cookie), -1 on an ERROR (then *error_p holds it).
int request_session(request_t *r, proto_msg_t **error_p);
//  Send the page in h (destroying it) with status and extra headers. Returns the status sent.
int request_page(request_t *r, int status, html_t **h_p, const reply_header_t *extra, size_t extra_count);
//  A new page buffer of REQUEST_PAGE_MAX. Returns NULL out of memory.
html_t *request_html(void);
//  Send the page of a service ERROR, with the way back. Returns the status sent.
int request_fail(request_t *r, const proto_msg_t *error, const char *back_href, const char *back_label);
//  Send the page of code (as if a service had answered ERROR{code}) with detail. Returns the status sent.
int request_fail_code(request_t *r, proto_code_t code, const char *detail);
//  Send a gateway-made error page (404, 405, 400 ...). Returns the status sent.
int request_error(request_t *r, int status, const char *title, const char *explain, const reply_header_t *extra,
                  size_t extra_count);

#endif
