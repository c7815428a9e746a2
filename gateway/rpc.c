//  rpc: see rpc.h.
#include "gateway/rpc.h"
#include "common/bus.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

//  Where one call stands. S_QUEUED: handed to the hub, not yet seen by it.
typedef enum { S_QUEUED, S_WRITABLE, S_REPLY, S_PING, S_DONE } s_phase_t;

typedef struct _s_pending_t s_pending_t;
struct _s_pending_t {
    rpc_t *owner;
    rpc_call_t *call;
    s_pending_t *next_queued;  //  the hub's submission queue
    char *frame;               //  the encoded request
    size_t frame_size;
    uint64_t rid, ping_rid;
    s_phase_t phase;
    bool is_ping;  //  a PING, or a call with its own timeout_ms: no liveness pings, one timeout
    int pings;
    unsigned gen;      //  of the service socket the request went out on
    int64_t t0;        //  when the call started
    int64_t sent;      //  when the request went out
    int64_t deadline;  //  of the current phase
    int64_t overall;   //  of the whole call
};

struct _rpc_hub_t {
    void *zctx;
    rpc_config_t cfg;
    void *sock[RPC_SERVICE_COUNT];      //  owned by the hub thread
    unsigned gen[RPC_SERVICE_COUNT];    //  bumped whenever a socket is replaced
    int64_t opened[RPC_SERVICE_COUNT];  //  when each socket was made (monotonic ms)
    atomic_uint_fast64_t next_rid;
    int wake_fd;  //  eventfd: a worker queued calls, or stop
    pthread_t thread;
    //  Workers push calls here (a lock-free stack: no lock that 256 threads and the hub would
    //  contend for); the hub takes the whole stack at once.
    _Atomic(s_pending_t *) queue;
    atomic_bool stopping;
    //  Hub thread only: the calls it is working on.
    s_pending_t **active;
    size_t active_count, active_cap;
    bool quitting;                      //  stop seen: fail what is left, open no sockets
    metrics_family_t *calls, *seconds;  //  see rpc.h (NULL without metrics_init)
};

struct _rpc_t {
    rpc_hub_t *hub;
    sem_t done;  //  posted by the hub once for each call of this thread it has ended
};

//  A refused connection is retried after 10 ms, then 20, 40... up to 1 s. A socket younger
//  than RPC_FRESH_MS is still in its first quick retries: it is not replaced for being
//  unconnected (replacing it would only start the connecting over).
#define RPC_RECONNECT_IVL_MS 10
#define RPC_FRESH_MS 50

static const char *s_names[RPC_SERVICE_COUNT] = { "authsvc", "apisvc" };

static int64_t s_min(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

const char *rpc_service_name(rpc_service_t service)
{
    return (int) service >= 0 && service < RPC_SERVICE_COUNT ? s_names[service] : "unknown";
}

static uint64_t s_next_rid(rpc_hub_t *hub)
{
    return atomic_fetch_add(&hub->next_rid, 1);
}

// ---------------------------------------------------------------------------
//  Hub thread: sockets

static void *s_open(rpc_hub_t *self, rpc_service_t svc)
{
    void *s = zmq_socket(self->zctx, ZMQ_DEALER);
    if (!s) {
        log_error("rpc.socket", "svc=%s err=\"%s\"", s_names[svc], zmq_strerror(errno));
        return NULL;
    }
    int linger = 0, immediate = 1, ivl = RPC_RECONNECT_IVL_MS, ivl_max = 1000, hwm = 0;
    int64_t maxmsg = PROTO_FRAME_MAX;
    if (zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger)
        || zmq_setsockopt(s, ZMQ_IMMEDIATE, &immediate, sizeof immediate)
        || zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl)
        || zmq_setsockopt(s, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max)
        || zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg)
        //  Every call is bounded by its own deadline: the queues need no other limit.
        || zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm) || zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm)
        || bus_client_setup(s, "gateway", s_names[svc], self->cfg.endpoint[svc]) != 0
        || zmq_connect(s, self->cfg.endpoint[svc])) {
        log_error("rpc.connect", "svc=%s endpoint=%s err=\"%s\"", s_names[svc], self->cfg.endpoint[svc],
                  zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

//  Replace the service's socket by a fresh one: the old one may be backing off its
//  reconnects to a service that has just restarted. Replies still owed on it are lost;
//  their calls find out through their own deadlines.
static void s_reset(rpc_hub_t *self, rpc_service_t svc)
{
    if (self->sock[svc])
        zmq_close(self->sock[svc]);
    self->sock[svc] = s_open(self, svc);
    self->opened[svc] = clock_mono_ms();
    self->gen[svc]++;
}

static int s_send(void *sock, const char *frame, size_t size)
{
    return sock && zmq_send(sock, frame, size, ZMQ_DONTWAIT) == (int) size ? 0 : -1;
}

// ---------------------------------------------------------------------------
//  Hub thread: one call's phases

//  Count the end of a call (not a probe's) with result.
static void s_count(rpc_hub_t *self, const s_pending_t *p, const char *result, int64_t now)
{
    proto_type_t type = proto_msg_type(p->call->request);
    if (type == PROTO_PING || type == PROTO_READY || type == PROTO_STATS)
        return;
    const char *svc = s_names[p->call->service];
    metrics_inc(self->calls, (const char *[]){ svc, result });
    metrics_observe(self->seconds, (const char *[]){ svc }, (double) (now - p->t0) / 1000.0);
}

//  End the call with an ERROR made here. A service that cannot be reached or does not
//  answer gets a fresh socket, once for all the calls that went out on the old one.
static void s_fail(rpc_hub_t *self, s_pending_t *p, proto_code_t code, const char *why, int64_t now)
{
    rpc_service_t svc = p->call->service;
    char message[128];
    snprintf(message, sizeof message, "%s %s", s_names[svc], why);
    log_warn("rpc.fail", "svc=%s type=%s rid=%llx code=%s reason=\"%s\" pings=%d ms=%lld", s_names[svc],
             proto_type_name(proto_msg_type(p->call->request)), (unsigned long long) p->rid, proto_code_name(code), why,
             p->pings, (long long) (now - p->t0));
    p->call->reply = proto_error_new(p->rid, code, message, -1);
    p->phase = S_DONE;
    s_count(self, p, code == PROTO_UNAVAILABLE ? "unavailable" : "bad_reply", now);
    if (code == PROTO_UNAVAILABLE && p->gen == self->gen[svc] && !self->quitting)
        s_reset(self, svc);
}

//  The request went out at now: wait for the reply (a liveness PING after 2/3 of the timeout).
static void s_sent(rpc_hub_t *self, s_pending_t *p, int64_t now)
{
    long timeout = self->cfg.service_timeout_ms;
    p->phase = S_REPLY;
    p->sent = now;
    p->gen = self->gen[p->call->service];
    p->deadline = p->is_ping ? p->overall : s_min(p->t0 + timeout * 2 / 3, p->overall);
}

static void s_try_send(rpc_hub_t *self, s_pending_t *p, int64_t now)
{
    if (s_send(self->sock[p->call->service], p->frame, p->frame_size) == 0)
        s_sent(self, p, now);
}

//  Send a PING for p on its service's socket to learn whether the service loop is alive.
static int s_ping(rpc_hub_t *self, s_pending_t *p)
{
    proto_msg_t *ping = proto_msg_new(PROTO_PING, s_next_rid(self));
    char *frame = NULL;
    size_t size = 0;
    int rc = -1;
    if (ping && proto_encode(ping, &frame, &size) == 0 && s_send(self->sock[p->call->service], frame, size) == 0) {
        p->ping_rid = proto_msg_rid(ping);
        p->pings++;
        rc = 0;
    }
    free(frame);
    proto_msg_destroy(&ping);
    return rc;
}

//  The current phase of p ran out of time.
static void s_expire(rpc_hub_t *self, s_pending_t *p, int64_t now)
{
    long timeout = self->cfg.service_timeout_ms;
    if (p->phase == S_WRITABLE)
        s_fail(self, p, PROTO_UNAVAILABLE, "is not reachable", now);
    else if (p->phase == S_PING)
        s_fail(self, p, PROTO_UNAVAILABLE, "does not answer", now);
    else if (p->is_ping || now >= p->overall)
        s_fail(self, p, PROTO_UNAVAILABLE, p->pings ? "took too long to answer" : "does not answer", now);
    else if (s_ping(self, p) < 0)
        s_fail(self, p, PROTO_UNAVAILABLE, "does not answer", now);
    else {
        p->phase = S_PING;
        p->deadline = s_min(now + timeout / 3, p->overall);
    }
}

//  A frame from svc: the reply of a call, the answer to a call's PING, or stale (dropped).
//  msg is NULL when the frame could not be decoded (rid then as far as it was read).
static void s_accept(rpc_hub_t *self, rpc_service_t svc, proto_msg_t *msg, uint64_t rid, const char *why, int64_t now)
{
    s_pending_t *p = NULL;
    bool to_ping = false;
    for (size_t i = 0; i < self->active_count && !p; i++) {
        s_pending_t *a = self->active[i];
        if (a->call->service != svc || a->phase == S_DONE)
            continue;
        if (a->rid == rid && (a->phase == S_REPLY || a->phase == S_PING))
            p = a;
        else if (a->pings && a->ping_rid == rid) {
            p = a;
            to_ping = true;
        }
    }
    if (!msg) {
        log_warn("rpc.garbage", "svc=%s rid=%llx reason=\"%s\"", s_names[svc], (unsigned long long) rid,
                 why ? why : "?");
        if (p && !to_ping)
            s_fail(self, p, PROTO_INTERNAL, "sent a reply that cannot be read", now);
        return;
    }
    proto_type_t type = proto_msg_type(msg);
    if (p && !to_ping) {
        if (type == PROTO_ERROR || type == proto_reply_type(proto_msg_type(p->call->request))) {
            p->call->reply = msg;
            p->phase = S_DONE;
            s_count(self, p, type == PROTO_ERROR ? "error" : "ok", now);
            return;
        }
        s_fail(self, p, PROTO_INTERNAL, "answered with the wrong message type", now);
    }
    else if (p) {
        //  Alive, maybe waiting on RingCentral: wait another 2/3 before asking again. Unless it
        //  started (uptime, in whole seconds) after the request went out: then the request is lost.
        int64_t uptime = type == PROTO_PING_OK ? proto_msg_int(msg, "uptime", -1) : -1;
        if (uptime >= 0 && (uptime + 1) * 1000 <= now - p->sent)
            s_fail(self, p, PROTO_UNAVAILABLE, "restarted while handling the request", now);
        else {
            p->phase = S_REPLY;
            p->deadline = s_min(now + self->cfg.service_timeout_ms * 2 / 3, p->overall);
        }
    }
    else
        log_debug("rpc.stale", "svc=%s type=%s rid=%llx", s_names[svc], proto_type_name(type),
                  (unsigned long long) rid);
    proto_msg_destroy(&msg);
}

//  Read every frame waiting on the service's socket.
static void s_drain(rpc_hub_t *self, rpc_service_t svc, int64_t now)
{
    bool multipart = false;
    void *sock = self->sock[svc];
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (!sock || zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
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
        s_accept(self, svc, msg, rid, why, now);
    }
}

// ---------------------------------------------------------------------------
//  Hub thread: the loop

static int s_add_active(rpc_hub_t *self, s_pending_t *p)
{
    if (self->active_count == self->active_cap) {
        size_t cap = self->active_cap ? self->active_cap * 2 : 64;
        s_pending_t **a = realloc(self->active, cap * sizeof *a);
        if (!a)
            return -1;
        self->active = a;
        self->active_cap = cap;
    }
    self->active[self->active_count++] = p;
    return 0;
}

//  Whether another call to p's service already waits for its socket to become writable.
static bool s_others_waiting(const rpc_hub_t *self, const s_pending_t *p)
{
    for (size_t i = 0; i < self->active_count; i++) {
        const s_pending_t *a = self->active[i];
        if (a != p && a->phase == S_WRITABLE && a->call->service == p->call->service)
            return true;
    }
    return false;
}

//  Take the calls queued by workers: send each at once when its socket takes it.
static bool s_take_queue(rpc_hub_t *self, int64_t now)
{
    s_pending_t *q = atomic_exchange(&self->queue, NULL);
    self->quitting = atomic_load(&self->stopping);
    //  The queue is newest first: reverse it so that calls go out in order.
    s_pending_t *in_order = NULL;
    while (q) {
        s_pending_t *next = q->next_queued;
        q->next_queued = in_order;
        in_order = q;
        q = next;
    }
    for (s_pending_t *p = in_order, *next; p; p = next) {
        next = p->next_queued;
        p->phase = S_WRITABLE;
        p->gen = self->gen[p->call->service];
        p->deadline = s_min(p->t0 + self->cfg.service_timeout_ms / 3, p->overall);
        if (s_add_active(self, p) < 0) {
            p->call->reply = proto_error_new(p->rid, PROTO_INTERNAL, "out of memory", -1);
            p->phase = S_DONE;
            sem_post(&p->owner->done);  //  not in the active list: end it here
            continue;
        }
        if (self->quitting) {
            s_fail(self, p, PROTO_UNAVAILABLE, "is not reachable: the gateway is stopping", now);
            continue;
        }
        s_try_send(self, p, now);
        //  Not writable (ZMQ_IMMEDIATE: no connection), and this call is the first to find
        //  out: a fresh socket connects at once, where this one may be backing off. Unless it
        //  is fresh itself: then it is still connecting (or retrying every few ms).
        if (p->phase == S_WRITABLE && !s_others_waiting(self, p)
            && now - self->opened[p->call->service] >= RPC_FRESH_MS) {
            s_reset(self, p->call->service);
            p->gen = self->gen[p->call->service];
            s_try_send(self, p, now);
        }
    }
    return self->quitting;
}

//  Hand finished calls back to their threads.
static void s_finish_done(rpc_hub_t *self)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->active_count; i++) {
        s_pending_t *p = self->active[i];
        if (p->phase != S_DONE)
            self->active[kept++] = p;
        else
            sem_post(&p->owner->done);  //  the owner may now return and free p: hands off
    }
    self->active_count = kept;
}

static void *s_run(void *arg)
{
    rpc_hub_t *self = arg;
    for (;;) {
        int64_t now = clock_mono_ms();
        bool stopping = s_take_queue(self, now);
        for (int s = 0; s < RPC_SERVICE_COUNT; s++)
            s_drain(self, (rpc_service_t) s, now);
        now = clock_mono_ms();
        int64_t wake = INT64_MAX;
        bool want_out[RPC_SERVICE_COUNT] = { false };
        for (size_t i = 0; i < self->active_count; i++) {
            s_pending_t *p = self->active[i];
            if (p->phase == S_WRITABLE)
                s_try_send(self, p, now);
            if (stopping && p->phase != S_DONE)
                s_fail(self, p, PROTO_UNAVAILABLE, "did not answer before the gateway stopped", now);
            if (p->phase != S_DONE && now >= p->deadline)
                s_expire(self, p, now);
            if (p->phase != S_DONE)
                wake = s_min(wake, p->deadline);
            if (p->phase == S_WRITABLE)
                want_out[p->call->service] = true;
        }
        s_finish_done(self);
        if (stopping)
            break;
        zmq_pollitem_t items[RPC_SERVICE_COUNT + 1] = { { .fd = self->wake_fd, .events = ZMQ_POLLIN } };
        int n = 1;
        for (int s = 0; s < RPC_SERVICE_COUNT; s++)
            if (self->sock[s])
                items[n++] = (zmq_pollitem_t){ .socket = self->sock[s],
                                               .events = (short) (ZMQ_POLLIN | (want_out[s] ? ZMQ_POLLOUT : 0)) };
        long timeout = wake == INT64_MAX ? -1 : wake > now ? (long) (wake - now) : 0;
        if (zmq_poll(items, n, timeout) < 0 && errno != EINTR) {
            log_error("rpc.poll", "err=\"%s\"", zmq_strerror(errno));
            usleep(1000);  //  never spin
        }
        if (items[0].revents & ZMQ_POLLIN) {
            uint64_t v;
            if (read(self->wake_fd, &v, sizeof v) < 0) {
                //  EAGAIN: someone else's wake-up was already taken
            }
        }
    }
    return NULL;
}

//  Close what the hub holds and free it (its thread not running).
static void s_hub_free(rpc_hub_t *self)
{
    for (int s = 0; s < RPC_SERVICE_COUNT; s++)
        if (self->sock[s])
            zmq_close(self->sock[s]);
    if (self->wake_fd >= 0)
        close(self->wake_fd);
    free(self->active);
    free(self);
}

rpc_hub_t *rpc_hub_new(void *zmq_ctx, const rpc_config_t *cfg)
{
    rpc_hub_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->zctx = zmq_ctx;
    self->cfg = *cfg;
    if (self->cfg.service_timeout_ms < 3)
        self->cfg.service_timeout_ms = 3;
    //  Ids only need to be unique per hub; a random start tells runs apart in logs.
    atomic_init(&self->next_rid, ((uint64_t) randombytes_random() << 32) | randombytes_random());
    self->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    static const double bounds[] = METRICS_DURATION_BUCKETS;
    self->calls =
        metrics_counter(metrics_default(), "rcauth_rpc_requests_total",
                        "The gateway's calls of the services (service: the one called), by result.", "service,result");
    self->seconds = metrics_histogram(metrics_default(), "rcauth_rpc_duration_seconds",
                                      "How long the gateway's calls of the services took (service: the one called).",
                                      "service", bounds, sizeof bounds / sizeof bounds[0]);
    atomic_init(&self->queue, NULL);
    atomic_init(&self->stopping, false);
    bool ok = self->wake_fd >= 0;
    for (int s = 0; ok && s < RPC_SERVICE_COUNT; s++) {
        ok = (self->sock[s] = s_open(self, (rpc_service_t) s)) != NULL;
        self->opened[s] = clock_mono_ms();
    }
    if (ok && pthread_create(&self->thread, NULL, s_run, self) != 0) {
        log_error("rpc.thread", "err=\"%s\"", strerror(errno));
        ok = false;
    }
    if (!ok) {
        s_hub_free(self);
        return NULL;
    }
    return self;
}

static void s_wake(rpc_hub_t *self)
{
    uint64_t one = 1;
    if (write(self->wake_fd, &one, sizeof one) < 0) {
        //  EAGAIN: the counter is full, so a wake-up is pending anyway
    }
}

void rpc_hub_destroy(rpc_hub_t **hub_p)
{
    if (!hub_p || !*hub_p)
        return;
    rpc_hub_t *self = *hub_p;
    atomic_store(&self->stopping, true);
    s_wake(self);
    pthread_join(self->thread, NULL);
    s_hub_free(self);
    *hub_p = NULL;
}

// ---------------------------------------------------------------------------
//  Worker threads

rpc_t *rpc_new(rpc_hub_t *hub)
{
    rpc_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->hub = hub;
    if (sem_init(&self->done, 0, 0) != 0) {
        free(self);
        return NULL;
    }
    return self;
}

void rpc_destroy(rpc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sem_destroy(&(*self_p)->done);
    free(*self_p);
    *self_p = NULL;
}

proto_msg_t *rpc_request(rpc_t *self, proto_type_t type)
{
    return proto_msg_new(type, s_next_rid(self->hub));
}

uint64_t rpc_new_rid(rpc_t *self)
{
    return s_next_rid(self->hub);
}

int rpc_call_many(rpc_t *self, rpc_call_t *calls, size_t count)
{
    assert(count <= RPC_SERVICE_COUNT);
    if (count > RPC_SERVICE_COUNT)
        return -1;
    rpc_hub_t *hub = self->hub;
    s_pending_t pend[RPC_SERVICE_COUNT];
    memset(pend, 0, sizeof pend);
    int64_t t0 = clock_mono_ms();
    long timeout = hub->cfg.service_timeout_ms;
    size_t queued = 0;
    for (size_t i = 0; i < count; i++) {
        assert(calls[i].service < RPC_SERVICE_COUNT);
        for (size_t j = 0; j < i; j++)
            assert(calls[j].service != calls[i].service);  //  one call a service at a time
        s_pending_t *p = &pend[i];
        calls[i].reply = NULL;
        *p = (s_pending_t){
            .owner = self, .call = &calls[i], .rid = proto_msg_rid(calls[i].request), .phase = S_QUEUED, .t0 = t0
        };
        p->is_ping = proto_msg_type(calls[i].request) == PROTO_PING || calls[i].timeout_ms > 0;
        p->overall = calls[i].timeout_ms > 0 ? t0 + calls[i].timeout_ms
                                             : t0 + timeout + (p->is_ping ? 0 : 3 * hub->cfg.rc_timeout_ms);
        if (proto_encode(calls[i].request, &p->frame, &p->frame_size) < 0) {
            p->phase = S_DONE;
            calls[i].reply = proto_error_new(p->rid, PROTO_INTERNAL, "the request could not be encoded", -1);
            log_error("rpc.encode", "svc=%s type=%s", s_names[calls[i].service],
                      proto_type_name(proto_msg_type(calls[i].request)));
            continue;
        }
        queued++;
    }
    //  Push each call; a stack that was not empty means a wake-up is already on its way to the hub.
    bool wake = false;
    for (size_t i = 0; i < count; i++) {
        if (pend[i].phase != S_QUEUED)
            continue;
        //  Once the exchange succeeds the hub may take p and rewrite p->next_queued at once: the old head is
        //  read from a local, never from p.
        s_pending_t *p = &pend[i], *head = atomic_load(&hub->queue);
        do
            p->next_queued = head;
        while (!atomic_compare_exchange_weak(&hub->queue, &head, p));
        wake |= head == NULL;
    }
    if (wake)
        s_wake(hub);
    //  The hub ends every call by its deadline (or at stop), so this wait is bounded.
    for (size_t i = 0; i < queued; i++)
        while (sem_wait(&self->done) != 0 && errno == EINTR) {
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
