//  rpc: see rpc.h.
#include "gateway/rpc.h"
#include "common/clock.h"
#include "common/log.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <zmq.h>

struct _rpc_t {
    void *zctx;
    rpc_config_t cfg;
    void *sock[RPC_SERVICE_COUNT];
    uint64_t next_rid;
};

//  Where one call of a batch stands.
typedef enum { S_WRITABLE, S_REPLY, S_PING, S_DONE } s_phase_t;

typedef struct {
    rpc_call_t *call;
    void *sock;
    char *frame;            //  the encoded request
    size_t frame_size;
    uint64_t rid, ping_rid;
    s_phase_t phase;
    bool is_ping;           //  the request itself is a PING: no liveness pings, one timeout
    int pings;
    int64_t sent;           //  when the request went out
    int64_t deadline;       //  of the current phase
    int64_t overall;        //  of the whole call
} s_pending_t;

static const char *s_names[RPC_SERVICE_COUNT] = { "authsvc", "apisvc" };

static int64_t s_min(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

const char *rpc_service_name(rpc_service_t service)
{
    return (int) service >= 0 && service < RPC_SERVICE_COUNT ? s_names[service] : "unknown";
}

rpc_t *rpc_new(void *zmq_ctx, const rpc_config_t *cfg)
{
    rpc_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->zctx = zmq_ctx;
    self->cfg = *cfg;
    if (self->cfg.service_timeout_ms < 3)
        self->cfg.service_timeout_ms = 3;
    //  Ids only need to be unique per socket; a random start tells threads apart in logs.
    self->next_rid = randombytes_random();
    return self;
}

static void s_reset(rpc_t *self, rpc_service_t svc)
{
    if (self->sock[svc]) {
        zmq_close(self->sock[svc]);
        self->sock[svc] = NULL;
    }
}

void rpc_destroy(rpc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (int i = 0; i < RPC_SERVICE_COUNT; i++)
        s_reset(*self_p, (rpc_service_t) i);
    free(*self_p);
    *self_p = NULL;
}

proto_msg_t *rpc_request(rpc_t *self, proto_type_t type)
{
    return proto_msg_new(type, self->next_rid++);
}

static void *s_open(rpc_t *self, rpc_service_t svc)
{
    void *s = zmq_socket(self->zctx, ZMQ_DEALER);
    if (!s) {
        log_error("rpc.socket", "svc=%s err=\"%s\"", s_names[svc], zmq_strerror(errno));
        return NULL;
    }
    int linger = 0, immediate = 1, ivl = 100, ivl_max = 1000;
    int64_t maxmsg = PROTO_FRAME_MAX;
    if (zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger)
        || zmq_setsockopt(s, ZMQ_IMMEDIATE, &immediate, sizeof immediate)
        || zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl)
        || zmq_setsockopt(s, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max)
        || zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg)
        || zmq_connect(s, self->cfg.endpoint[svc])) {
        log_error("rpc.connect", "svc=%s endpoint=%s err=\"%s\"", s_names[svc], self->cfg.endpoint[svc],
                  zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

//  End the call with an ERROR made here; a transport failure also resets the socket.
static void s_fail(rpc_t *self, s_pending_t *p, proto_code_t code, const char *why, int64_t ms)
{
    rpc_service_t svc = p->call->service;
    char message[128];
    snprintf(message, sizeof message, "%s %s", s_names[svc], why);
    log_warn("rpc.fail", "svc=%s type=%s rid=%llx code=%s reason=\"%s\" pings=%d ms=%lld", s_names[svc],
             proto_type_name(proto_msg_type(p->call->request)), (unsigned long long) p->rid,
             proto_code_name(code), why, p->pings, (long long) ms);
    p->call->reply = proto_error_new(p->rid, code, message, -1);
    p->phase = S_DONE;
    if (code == PROTO_UNAVAILABLE || code == PROTO_INTERNAL)
        s_reset(self, svc);
}

static int s_send(void *sock, const char *frame, size_t size)
{
    return zmq_send(sock, frame, size, ZMQ_DONTWAIT) == (int) size ? 0 : -1;
}

//  Send a PING on the call's socket to learn whether the service loop is alive. Returns 0 or -1.
static int s_ping(rpc_t *self, s_pending_t *p)
{
    proto_msg_t *ping = rpc_request(self, PROTO_PING);
    char *frame = NULL;
    size_t size = 0;
    int rc = -1;
    if (ping && proto_encode(ping, &frame, &size) == 0 && s_send(p->sock, frame, size) == 0) {
        p->ping_rid = proto_msg_rid(ping);
        p->pings++;
        rc = 0;
    }
    free(frame);
    proto_msg_destroy(&ping);
    return rc;
}

//  Take one decoded frame (msg may be NULL when it could not be decoded).
static void s_accept(rpc_t *self, s_pending_t *p, proto_msg_t *msg, uint64_t rid, const char *why,
                     int64_t now, int64_t t0, long timeout)
{
    if (!msg) {
        log_warn("rpc.garbage", "svc=%s rid=%llx reason=\"%s\"", s_names[p->call->service],
                 (unsigned long long) rid, why ? why : "?");
        if (rid == p->rid)
            s_fail(self, p, PROTO_INTERNAL, "sent a reply that cannot be read", now - t0);
        return;
    }
    proto_type_t type = proto_msg_type(msg);
    uint64_t mrid = proto_msg_rid(msg);
    if (mrid == p->rid) {
        if (type == PROTO_ERROR || type == proto_reply_type(proto_msg_type(p->call->request))) {
            p->call->reply = msg;
            p->phase = S_DONE;
            return;
        }
        s_fail(self, p, PROTO_INTERNAL, "answered with the wrong message type", now - t0);
    }
    else if (p->pings && mrid == p->ping_rid) {
        //  Alive, maybe waiting on RingCentral: wait another 2/3 before asking again. Unless it
        //  started (uptime, in whole seconds) after the request went out: then the request is lost.
        int64_t uptime = type == PROTO_PING_OK ? proto_msg_int(msg, "uptime", -1) : -1;
        if (uptime >= 0 && (uptime + 1) * 1000 <= now - p->sent)
            s_fail(self, p, PROTO_UNAVAILABLE, "restarted while handling the request", now - t0);
        else {
            p->phase = S_REPLY;
            p->deadline = s_min(now + timeout * 2 / 3, p->overall);
        }
    }
    else
        log_debug("rpc.stale", "svc=%s type=%s rid=%llx", s_names[p->call->service], proto_type_name(type),
                  (unsigned long long) mrid);
    proto_msg_destroy(&msg);
}

//  Read every frame waiting on the call's socket.
static void s_drain(rpc_t *self, s_pending_t *p, int64_t now, int64_t t0, long timeout)
{
    bool multipart = false;
    while (p->phase != S_DONE) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, p->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        bool more = zmq_msg_more(&m);
        if (more || multipart) {
            //  Not one frame: not a reply of ours. Drop every part.
            multipart = more;
            zmq_msg_close(&m);
            continue;
        }
        const char *why = NULL;
        uint64_t rid = 0;
        proto_msg_t *msg = proto_decode(zmq_msg_data(&m), zmq_msg_size(&m), &why, &rid);
        zmq_msg_close(&m);
        s_accept(self, p, msg, rid, why, now, t0, timeout);
    }
}

//  The current phase ran out of time.
static void s_expire(rpc_t *self, s_pending_t *p, int64_t now, int64_t t0, long timeout)
{
    if (p->phase == S_WRITABLE)
        s_fail(self, p, PROTO_UNAVAILABLE, "is not reachable", now - t0);
    else if (p->phase == S_PING)
        s_fail(self, p, PROTO_UNAVAILABLE, "does not answer", now - t0);
    else if (p->is_ping || now >= p->overall)
        s_fail(self, p, PROTO_UNAVAILABLE, p->pings ? "took too long to answer" : "does not answer", now - t0);
    else if (s_ping(self, p) < 0)
        s_fail(self, p, PROTO_UNAVAILABLE, "does not answer", now - t0);
    else {
        p->phase = S_PING;
        p->deadline = s_min(now + timeout / 3, p->overall);
    }
}

//  The request went out at now: wait for the reply (a liveness PING after 2/3 of the timeout).
static void s_sent(s_pending_t *p, int64_t now, int64_t t0, long timeout)
{
    p->phase = S_REPLY;
    p->sent = now;
    p->deadline = p->is_ping ? p->overall : s_min(t0 + timeout * 2 / 3, p->overall);
}

static void s_start(rpc_t *self, s_pending_t *p, rpc_call_t *call, int64_t t0, long timeout)
{
    p->call = call;
    call->reply = NULL;
    p->rid = proto_msg_rid(call->request);
    p->is_ping = proto_msg_type(call->request) == PROTO_PING;
    p->overall = t0 + timeout + (p->is_ping ? 0 : 2 * self->cfg.rc_timeout_ms);
    p->deadline = t0 + timeout / 3;
    p->phase = S_WRITABLE;
    if (proto_encode(call->request, &p->frame, &p->frame_size) < 0) {
        p->phase = S_DONE;
        call->reply = proto_error_new(p->rid, PROTO_INTERNAL, "the request could not be encoded", -1);
        log_error("rpc.encode", "svc=%s type=%s", s_names[call->service],
                  proto_type_name(proto_msg_type(call->request)));
        return;
    }
    //  The common case: the socket is connected and takes the frame at once.
    rpc_service_t svc = call->service;
    if (self->sock[svc] && s_send(self->sock[svc], p->frame, p->frame_size) == 0) {
        p->sock = self->sock[svc];
        s_sent(p, t0, t0, timeout);
        return;
    }
    //  Not writable (ZMQ_IMMEDIATE: no connection): replace it by a fresh one, which may be
    //  backing off its reconnects to a service that has just restarted, and wait for it.
    s_reset(self, svc);
    p->sock = self->sock[svc] = s_open(self, svc);
    if (!p->sock)
        s_fail(self, p, PROTO_UNAVAILABLE, "cannot be connected to", 0);
}

int rpc_call_many(rpc_t *self, rpc_call_t *calls, size_t count)
{
    assert(count <= RPC_SERVICE_COUNT);
    if (count > RPC_SERVICE_COUNT)
        return -1;
    s_pending_t pend[RPC_SERVICE_COUNT] = { 0 };
    long timeout = self->cfg.service_timeout_ms;
    int64_t t0 = clock_mono_ms();
    for (size_t i = 0; i < count; i++) {
        assert(calls[i].service < RPC_SERVICE_COUNT);
        for (size_t j = 0; j < i; j++)
            assert(calls[j].service != calls[i].service);   //  one socket, one call at a time
        s_start(self, &pend[i], &calls[i], t0, timeout);
    }
    for (;;) {
        zmq_pollitem_t items[RPC_SERVICE_COUNT];
        s_pending_t *owner[RPC_SERVICE_COUNT];
        size_t k = 0;
        int64_t wake = INT64_MAX;
        for (size_t i = 0; i < count; i++) {
            if (pend[i].phase == S_DONE)
                continue;
            short events = pend[i].phase == S_WRITABLE ? ZMQ_POLLOUT : ZMQ_POLLIN;
            items[k] = (zmq_pollitem_t) { .socket = pend[i].sock, .events = events };
            owner[k++] = &pend[i];
            wake = s_min(wake, pend[i].deadline);
        }
        if (!k)
            break;
        int64_t now = clock_mono_ms();
        if (zmq_poll(items, (int) k, wake > now ? (long) (wake - now) : 0) < 0 && errno != EINTR) {
            for (size_t j = 0; j < k; j++)
                s_fail(self, owner[j], PROTO_INTERNAL, "could not be polled", clock_mono_ms() - t0);
            break;
        }
        now = clock_mono_ms();
        for (size_t j = 0; j < k; j++) {
            s_pending_t *p = owner[j];
            if (p->phase == S_WRITABLE && (items[j].revents & ZMQ_POLLOUT)
                && s_send(p->sock, p->frame, p->frame_size) == 0)
                s_sent(p, now, t0, timeout);
            else if (p->phase != S_WRITABLE && (items[j].revents & ZMQ_POLLIN))
                s_drain(self, p, now, t0, timeout);
            if (p->phase != S_DONE && now >= p->deadline)
                s_expire(self, p, now, t0, timeout);
        }
    }
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        free(pend[i].frame);
        if (!calls[i].reply)
            rc = -1;
    }
    return rc;
}

proto_msg_t *rpc_call(rpc_t *self, rpc_service_t service, const proto_msg_t *request)
{
    rpc_call_t call = { .service = service, .request = request };
    rpc_call_many(self, &call, 1);
    return call.reply;
}
