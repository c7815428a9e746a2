//  authc: see authc.h.
#include "apisvc/authc.h"
#include "common/bus.h"
#include "common/clock.h"
#include "common/log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct _s_call_t s_call_t;
struct _s_call_t {
    s_call_t *next;
    uint64_t rid;
    proto_type_t reply_type;  //  the request's reply type: calls of one request share its id (HOLD, REFRESH)
    int64_t deadline_ms;
    int64_t send_by_ms;  //  unsent (frame != NULL): give up when not connected by then
    char *frame;         //  the encoded request until it is sent
    size_t frame_size;
    authc_done_fn *done;
    void *arg;
};

//  How long a call waits for a connection to authsvc (one that is restarting, or that the
//  DEALER is about to reconnect to) before it fails; well inside the gateway's patience.
#define AUTHC_CONNECT_WAIT_MS 1000

struct _authc_t {
    void *ctx;
    void *socket;
    void *monitor;  //  PAIR receiving the DEALER's disconnect events (zmq_socket_monitor)
    char endpoint[512];
    svc_t *svc;
    long timeout_ms;
    s_call_t *calls;  //  waiting calls; few at a time (one per stale session), so a list
};

static void *s_connect(authc_t *self)
{
    void *s = zmq_socket(self->ctx, ZMQ_DEALER);
    //  IMMEDIATE: with authsvc gone (no connection) a send fails instead of queueing until the
    //  deadline, so a call waits AUTHC_CONNECT_WAIT_MS at most for authsvc to be there. A local
    //  reconnect is cheap: retry every 100..500 ms so a restarted authsvc is found well within that.
    int zero = 0, one = 1, ivl = 100, ivl_max = 500;
    int64_t maxmsg = PROTO_FRAME_MAX;
    if (!s || zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero)
        || zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg)
        || zmq_setsockopt(s, ZMQ_IMMEDIATE, &one, sizeof one) || zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl)
        || zmq_setsockopt(s, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max)
        || bus_client_setup(s, "apisvc", "authsvc", self->endpoint) != 0 || zmq_connect(s, self->endpoint) != 0) {
        log_error("authc.connect", "endpoint=%s error=\"%s\"", self->endpoint, zmq_strerror(zmq_errno()));
        if (s)
            zmq_close(s);
        return NULL;
    }
    return s;
}

static void s_on_readable(svc_t *svc, void *socket, void *arg)
{
    (void) svc;
    authc_t *self = arg;
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    if (zmq_msg_recv(&frame, socket, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&frame);
        return;
    }
    const char *why = NULL;
    uint64_t rid = 0;
    proto_msg_t *reply = proto_decode(zmq_msg_data(&frame), zmq_msg_size(&frame), &why, &rid);
    zmq_msg_close(&frame);
    if (!reply) {
        log_warn("authc.bad_reply", "rid=%llx reason=\"%s\"", (unsigned long long) rid, why);
        reply = proto_error_new(rid, PROTO_INTERNAL, "authsvc sent an unreadable reply", -1);
        if (!reply)
            return;
    }
    for (s_call_t **p = &self->calls; *p; p = &(*p)->next) {
        s_call_t *call = *p;
        proto_type_t type = proto_msg_type(reply);
        if (call->rid == proto_msg_rid(reply) && (type == call->reply_type || type == PROTO_ERROR)) {
            *p = call->next;
            call->done(reply, call->arg);
            free(call);
            break;
        }
    }
    //  No match: a late reply to a call that already timed out; dropped.
    proto_msg_destroy(&reply);
}

static void s_fail(s_call_t *call, const char *message);

//  The DEALER lost its connection to authsvc (it stopped, was killed, or restarts): the calls sent on it are
//  lost, since a reply is routed to the connection that brought the request (a restarted authsvc never heard
//  of them). Fail them now, not at their deadline. Replies that arrived before the disconnect are read first.
static void s_on_monitor(svc_t *svc, void *socket, void *arg)
{
    authc_t *self = arg;
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    bool disconnected = false, first = true;
    while (zmq_msg_recv(&frame, socket, ZMQ_DONTWAIT) >= 0) {
        //  An event is two frames: 6 bytes (uint16 event, uint32 value), then the endpoint.
        if (first && zmq_msg_size(&frame) == 6) {
            uint16_t event;
            memcpy(&event, zmq_msg_data(&frame), sizeof event);
            disconnected = disconnected || event == ZMQ_EVENT_DISCONNECTED;
        }
        first = !zmq_msg_more(&frame);
    }
    zmq_msg_close(&frame);
    if (!disconnected)
        return;
    for (int i = 0; i < 4096; i++) {
        int events = 0;
        size_t size = sizeof events;
        if (zmq_getsockopt(self->socket, ZMQ_EVENTS, &events, &size) != 0 || !(events & ZMQ_POLLIN))
            break;
        s_on_readable(svc, self->socket, self);
    }
    int lost = 0;
    for (s_call_t **p = &self->calls; *p;) {
        s_call_t *call = *p;
        if (call->frame) {  //  not sent yet: it waits for the next connection
            p = &call->next;
            continue;
        }
        *p = call->next;
        s_fail(call, "authsvc stopped or restarted while handling the request; try again");
        lost++;
    }
    log_warn("authc.disconnected", "calls_failed=%d msg=\"the connection to authsvc ended\"", lost);
}

//  Watch the DEALER's disconnects on an inproc PAIR polled by svc. Returns 0, or -1 (logged).
static int s_monitor(authc_t *self)
{
    char addr[64];
    snprintf(addr, sizeof addr, "inproc://authc-monitor-%p", (void *) self);
    int zero = 0;
    if (zmq_socket_monitor(self->socket, addr, ZMQ_EVENT_DISCONNECTED) != 0
        || !(self->monitor = zmq_socket(self->ctx, ZMQ_PAIR))
        || zmq_setsockopt(self->monitor, ZMQ_LINGER, &zero, sizeof zero) || zmq_connect(self->monitor, addr) != 0
        || svc_add_socket(self->svc, self->monitor, s_on_monitor, self) != 0) {
        log_error("authc.monitor", "error=\"%s\"", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

authc_t *authc_new(void *zmq_ctx, const char *endpoint, svc_t *svc, long timeout_ms)
{
    authc_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->ctx = zmq_ctx;
    self->svc = svc;
    self->timeout_ms = timeout_ms;
    snprintf(self->endpoint, sizeof self->endpoint, "%s", endpoint);
    self->socket = s_connect(self);
    if (!self->socket || svc_add_socket(svc, self->socket, s_on_readable, self) != 0 || s_monitor(self) != 0) {
        authc_destroy(&self);
        return NULL;
    }
    return self;
}

static void s_fail(s_call_t *call, const char *message)
{
    proto_msg_t *err = proto_error_new(call->rid, PROTO_UNAVAILABLE, message, -1);
    if (err)
        call->done(err, call->arg);
    proto_msg_destroy(&err);
    free(call->frame);
    free(call);
}

//  Send the call's frame. Returns 0 (sent, frame freed), 1 (no connection yet: try again), or -1.
static int s_send(authc_t *self, s_call_t *call)
{
    if (zmq_send(self->socket, call->frame, call->frame_size, ZMQ_DONTWAIT) < 0) {
        if (zmq_errno() == EAGAIN)
            return 1;
        log_warn("authc.send", "error=\"%s\"", zmq_strerror(zmq_errno()));
        return -1;
    }
    free(call->frame);
    call->frame = NULL;
    return 0;
}

void authc_destroy(authc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    authc_t *self = *self_p;
    while (self->calls) {
        s_call_t *call = self->calls;
        self->calls = call->next;
        s_fail(call, "apisvc is stopping");
    }
    if (self->monitor)
        zmq_close(self->monitor);
    if (self->socket) {
        zmq_socket_monitor(self->socket, NULL, 0);
        zmq_close(self->socket);
    }
    free(self);
    *self_p = NULL;
}

int authc_call(authc_t *self, const proto_msg_t *req, authc_done_fn *done, void *arg)
{
    return authc_call_within(self, req, self->timeout_ms, done, arg);
}

int authc_call_within(authc_t *self, const proto_msg_t *req, long timeout_ms, authc_done_fn *done, void *arg)
{
    s_call_t *call = calloc(1, sizeof *call);
    if (!call || proto_encode(req, &call->frame, &call->frame_size) != 0) {
        free(call);
        return -1;
    }
    int64_t now = clock_mono_ms();
    call->rid = proto_msg_rid(req);
    call->reply_type = proto_reply_type(proto_msg_type(req));
    call->done = done;
    call->arg = arg;
    call->deadline_ms = now + timeout_ms;
    call->send_by_ms = now + (timeout_ms < AUTHC_CONNECT_WAIT_MS ? timeout_ms : AUTHC_CONNECT_WAIT_MS);
    //  Not connected (rc 1): the call stays unsent and authc_tick retries the send.
    if (s_send(self, call) < 0) {
        free(call->frame);
        free(call);
        return -1;
    }
    call->next = self->calls;
    self->calls = call;
    return 0;
}

void authc_tick(svc_t *svc, void *arg)
{
    (void) svc;
    authc_t *self = arg;
    int64_t now = clock_mono_ms();
    int expired = 0, unreachable = 0;
    for (s_call_t **p = &self->calls; *p;) {
        s_call_t *call = *p;
        int rc = call->frame ? s_send(self, call) : 0;
        if (rc < 0 || (rc == 1 && call->send_by_ms <= now)) {
            *p = call->next;
            s_fail(call, "authsvc cannot be reached to refresh the token");
            unreachable++;
        }
        else if (call->deadline_ms <= now) {
            *p = call->next;
            s_fail(call, "authsvc did not answer");
            expired++;
        }
        else
            p = &call->next;
    }
    if (expired || unreachable)
        log_warn("authc.timeout", "calls=%d unreachable=%d", expired, unreachable);
}
