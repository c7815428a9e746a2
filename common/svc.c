//  svc: see svc.h.
#include "common/svc.h"
#include "common/bus.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/runfile.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define SVC_MAX_SOCKETS 4
#define SVC_MAX_TIMERS 8
//  Requests taken from one socket before curl and timers get a turn.
#define SVC_BATCH 256

typedef struct {
    void *socket;
    svc_socket_fn *fn;
    void *arg;
} s_socket_t;

typedef struct {
    long interval_ms;
    int64_t next_ms;
    svc_timer_fn *fn;
    void *arg;
} s_timer_t;

//  A reply held back until the turn's batch is committed.
typedef struct {
    svc_peer_t peer;
    uint64_t rid;
    char *data;
    size_t size;
} s_held_t;

struct _svc_t {
    char name[32];
    char instance[40];   //  its files in RUN_DIR (common/runfile.h)
    char endpoint[512];  //  where the ROUTER is bound (a tcp port the OS picked, filled in)
    void *router;
    bus_server_t *bus;  //  CURVE and the senders' roles on a tcp endpoint (common/bus.h)
    http_t *http;
    svc_handler_fn *handler;
    void *handler_arg;
    s_socket_t sockets[SVC_MAX_SOCKETS];
    size_t socket_count;
    s_timer_t timers[SVC_MAX_TIMERS];
    size_t timer_count;
    int64_t started_ms;
    volatile int stopping;
    int (*batch_begin)(void *arg);
    int (*batch_commit)(void *arg);
    void *batch_arg;
    svc_timer_fn *after;
    void *after_arg;
    bool in_batch;
    size_t pending;           //  requests handed to the handler and not answered yet
    bool (*busy)(void *arg);  //  svc_set_busy
    void *busy_arg;
    long drain_ms;  //  DRAIN_TIMEOUT_MS
    bool draining;  //  a signal came: refuse new requests, finish the others
    int64_t drain_start, drain_until;
    bool sent;  //  something was sent on the ROUTER in this turn of the loop
    s_held_t *held;
    size_t held_count, held_cap;
};

static int s_signal_pipe[2] = { -1, -1 };

static void s_batch_end(svc_t *self);

static void s_on_bus_monitor(svc_t *svc, void *socket, void *arg)
{
    (void) svc, (void) socket;
    bus_server_on_monitor(arg);
}

static void s_on_signal(int sig)
{
    (void) sig;
    int saved = errno;
    if (s_signal_pipe[1] >= 0 && write(s_signal_pipe[1], "x", 1) < 0) {
        //  The pipe is full: a wake-up is already pending.
    }
    errno = saved;
}

svc_t *svc_new(const char *name, void *zmq_ctx, const char *endpoint, http_t *http, svc_handler_fn *handler, void *arg)
{
    svc_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    snprintf(self->name, sizeof self->name, "%s", name);
    self->http = http;
    self->handler = handler;
    self->handler_arg = arg;
    self->started_ms = clock_mono_ms();
    char err[160];
    if (runfile_name(self->instance, sizeof self->instance, name, err, sizeof err) != 0
        || config_getenv_long(&self->drain_ms, "DRAIN_TIMEOUT_MS", SVC_DRAIN_TIMEOUT_MS, 0, 600000, err, sizeof err)
            != 0) {
        log_error("svc.config", "reason=\"%s\"", err);
        svc_destroy(&self);
        return NULL;
    }
    self->router = zmq_socket(zmq_ctx, ZMQ_ROUTER);
    int zero = 0, hwm = 100000;
    int64_t maxmsg = PROTO_FRAME_MAX;  //  a larger frame closes the connection before it is read into memory
    if (!self->router || zmq_setsockopt(self->router, ZMQ_LINGER, &zero, sizeof zero)
        || zmq_setsockopt(self->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg)
        || zmq_setsockopt(self->router, ZMQ_SNDHWM, &hwm, sizeof hwm)
        || zmq_setsockopt(self->router, ZMQ_RCVHWM, &hwm, sizeof hwm)
        || !(self->bus = bus_server_new(zmq_ctx, self->router, name, endpoint))
        || zmq_bind(self->router, endpoint) != 0) {
        log_error("svc.bind", "endpoint=%s error=\"%s\"", endpoint,
                  self->router && !self->bus ? "the bus could not be secured (see the bus line above)"
                                             : zmq_strerror(zmq_errno()));
        svc_destroy(&self);
        return NULL;
    }
    if (bus_server_monitor(self->bus))
        svc_add_socket(self, bus_server_monitor(self->bus), s_on_bus_monitor, self->bus);
    if (s_signal_pipe[0] < 0) {
        if (pipe2(s_signal_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
            log_error("svc.pipe", "error=\"%s\"", strerror(errno));
            svc_destroy(&self);
            return NULL;
        }
        struct sigaction sa = { .sa_handler = s_on_signal };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
    }
    //  tcp://127.0.0.1:* binds a port the OS picks: ZMQ_LAST_ENDPOINT says which.
    size_t len = sizeof self->endpoint;
    if (zmq_getsockopt(self->router, ZMQ_LAST_ENDPOINT, self->endpoint, &len) != 0)
        snprintf(self->endpoint, sizeof self->endpoint, "%s", endpoint);
    log_info("svc.listen", "endpoint=%s", self->endpoint);
    return self;
}

const char *svc_endpoint(const svc_t *self)
{
    return self->endpoint;
}

int svc_report(const svc_t *self, const char *run_dir)
{
    if (runfile_write(run_dir, self->instance, "endpoint", self->endpoint) == 0)
        return 0;
    log_error("svc.report", "run_dir=%s name=%s error=\"%s\" msg=\"scripts cannot read the endpoint\"", run_dir,
              self->instance, strerror(errno));
    return -1;
}

void svc_set_handler_arg(svc_t *self, void *arg)
{
    self->handler_arg = arg;
}

void svc_destroy(svc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    svc_t *self = *self_p;
    s_batch_end(self);
    free(self->held);
    bus_server_destroy(&self->bus);
    if (self->router)
        zmq_close(self->router);
    free(self);
    *self_p = NULL;
}

static int s_send_raw(svc_t *self, const svc_peer_t *peer, uint64_t rid, const char *data, size_t size)
{
    //  A ROUTER drops messages for peers that are gone; DONTWAIT never blocks the loop.
    self->sent = true;
    if (zmq_send(self->router, peer->id, peer->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_send(self->router, data, size, ZMQ_DONTWAIT) < 0) {
        log_warn("svc.send", "rid=%llx error=\"%s\"", (unsigned long long) rid, zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

static int s_send(svc_t *self, const svc_peer_t *peer, const proto_msg_t *msg)
{
    char *data = NULL;
    size_t size = 0;
    uint64_t rid = proto_msg_rid(msg);
    if (proto_encode(msg, &data, &size) != 0) {
        log_error("svc.encode", "type=%s rid=%llx", proto_type_name(proto_msg_type(msg)), (unsigned long long) rid);
        return -1;
    }
    if (self->in_batch) {
        if (self->held_count == self->held_cap) {
            size_t cap = self->held_cap ? self->held_cap * 2 : 64;
            s_held_t *held = realloc(self->held, cap * sizeof *held);
            if (!held) {
                free(data);
                return -1;
            }
            self->held = held;
            self->held_cap = cap;
        }
        self->held[self->held_count++] = (s_held_t){ *peer, rid, data, size };
        return 0;
    }
    int rc = s_send_raw(self, peer, rid, data, size);
    free(data);
    return rc;
}

//  Send ERROR for rid to peer: svc's own answers (bad frames, refusals, failed commits), no handler's.
static int s_send_error(svc_t *self, const svc_peer_t *peer, uint64_t rid, proto_code_t code, const char *message,
                        int64_t retry_after)
{
    proto_msg_t *err = proto_error_new(rid, code, message, retry_after);
    if (!err)
        return -1;
    int rc = s_send(self, peer, err);
    proto_msg_destroy(&err);
    return rc;
}

void svc_set_batch(svc_t *self, int (*begin)(void *arg), int (*commit)(void *arg), void *arg)
{
    self->batch_begin = begin;
    self->batch_commit = commit;
    self->batch_arg = arg;
}

//  End the turn's batch: commit, then send the held replies (or, when the commit failed, errors).
static void s_batch_end(svc_t *self)
{
    if (!self->in_batch)
        return;
    self->in_batch = false;
    int rc = self->batch_commit(self->batch_arg);
    for (size_t i = 0; i < self->held_count; i++) {
        s_held_t *h = &self->held[i];
        if (rc == 0)
            s_send_raw(self, &h->peer, h->rid, h->data, h->size);
        else if (rc == PROTO_STORE_FULL)
            s_send_error(self, &h->peer, h->rid, PROTO_STORE_FULL, "the token store is full; try again later", -1);
        else
            s_send_error(self, &h->peer, h->rid, PROTO_INTERNAL, "the token store failed", -1);
        free(h->data);
    }
    self->held_count = 0;
}

void svc_set_after(svc_t *self, svc_timer_fn *fn, void *arg)
{
    self->after = fn;
    self->after_arg = arg;
}

//  A handler answered one of its requests (whether or not the send worked: it will not answer again).
static void s_answered(svc_t *self)
{
    if (self->pending > 0)
        self->pending--;
}

int svc_reply(svc_t *self, const svc_peer_t *peer, const proto_msg_t *reply)
{
    s_answered(self);
    return s_send(self, peer, reply);
}

int svc_reply_error(svc_t *self, const svc_peer_t *peer, uint64_t rid, proto_code_t code, const char *message,
                    int64_t retry_after)
{
    s_answered(self);
    return s_send_error(self, peer, rid, code, message, retry_after);
}

void svc_set_busy(svc_t *self, bool (*busy)(void *arg), void *arg)
{
    self->busy = busy;
    self->busy_arg = arg;
}

size_t svc_pending(const svc_t *self)
{
    return self->pending;
}

int svc_add_socket(svc_t *self, void *socket, svc_socket_fn *fn, void *arg)
{
    if (self->socket_count == SVC_MAX_SOCKETS)
        return -1;
    self->sockets[self->socket_count++] = (s_socket_t){ socket, fn, arg };
    return 0;
}

int svc_every(svc_t *self, long interval_ms, svc_timer_fn *fn, void *arg)
{
    if (self->timer_count == SVC_MAX_TIMERS)
        return -1;
    self->timers[self->timer_count++] = (s_timer_t){ interval_ms, clock_mono_ms() + interval_ms, fn, arg };
    return 0;
}

void svc_stop(svc_t *self)
{
    self->stopping = 1;
}

static void s_on_ping(svc_t *self, const svc_peer_t *peer, proto_msg_t *req)
{
    proto_msg_t *reply = proto_msg_new(PROTO_PING_OK, proto_msg_rid(req));
    if (reply) {
        proto_msg_set_str(reply, "service", self->name);
        proto_msg_set_int(reply, "pid", getpid());
        proto_msg_set_int(reply, "uptime", (clock_mono_ms() - self->started_ms) / 1000);
        s_send(self, peer, reply);
        proto_msg_destroy(&reply);
    }
}

//  STATS: this process's metrics (the default registry), rendered here: the services stay free of HTTP.
static void s_on_stats(svc_t *self, const svc_peer_t *peer, proto_msg_t *req)
{
    char *text = malloc(PROTO_FIELD_MAX + 1);
    proto_msg_t *reply = text ? proto_msg_new(PROTO_STATS_OK, proto_msg_rid(req)) : NULL;
    if (reply) {
        metrics_render(metrics_default(), text, PROTO_FIELD_MAX + 1);
        proto_msg_set_str(reply, "text", text);
        s_send(self, peer, reply);
    }
    else
        s_send_error(self, peer, proto_msg_rid(req), PROTO_INTERNAL, "out of memory", -1);
    proto_msg_destroy(&reply);
    free(text);
}

//  Read one request from the ROUTER: [identity, frame]. Returns 0 when one was handled, -1 when none waits.
static int s_take_request(svc_t *self)
{
    svc_peer_t peer;
    int n = zmq_recv(self->router, peer.id, sizeof peer.id, ZMQ_DONTWAIT);
    if (n < 0)
        return -1;
    peer.len = (size_t) n > sizeof peer.id ? sizeof peer.id : (size_t) n;
    int more = 0;
    size_t more_size = sizeof more;
    zmq_getsockopt(self->router, ZMQ_RCVMORE, &more, &more_size);
    if (!more)
        return 0;  //  an identity without a body: ignore
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    if (zmq_msg_recv(&frame, self->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&frame);
        return 0;
    }
    //  Drop any extra frames: the contract is exactly one.
    int extra = zmq_msg_more(&frame);
    while (extra) {
        zmq_msg_t junk;
        zmq_msg_init(&junk);
        if (zmq_msg_recv(&junk, self->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&junk);
            break;
        }
        extra = zmq_msg_more(&junk);
        zmq_msg_close(&junk);
    }
    const char *why = NULL;
    uint64_t rid = 0;
    proto_msg_t *req = proto_decode(zmq_msg_data(&frame), zmq_msg_size(&frame), &why, &rid);
    //  On every message: a certificate removed from the accepted ones does not end a live connection.
    bool allowed = !req || bus_server_allows(self->bus, &frame, proto_msg_type(req));
    zmq_msg_close(&frame);
    if (!req) {
        log_warn("svc.bad_frame", "rid=%llx reason=\"%s\"", (unsigned long long) rid, why ? why : "?");
        s_send_error(self, &peer, rid, PROTO_BAD_REQUEST, why ? why : "bad request", -1);
        return 0;
    }
    if (!allowed) {
        s_send_error(self, &peer, proto_msg_rid(req), PROTO_BAD_REQUEST, "not allowed for this sender", -1);
        proto_msg_destroy(&req);
        return 0;
    }
    if (proto_msg_type(req) == PROTO_PING) {
        s_on_ping(self, &peer, req);
        proto_msg_destroy(&req);
        return 0;
    }
    if (proto_msg_type(req) == PROTO_STATS) {
        s_on_stats(self, &peer, req);
        proto_msg_destroy(&req);
        return 0;
    }
    if (self->draining) {
        //  Stopping: no new work. The caller (the gateway's page, apisvc's authc) says to try again.
        char msg[64];
        snprintf(msg, sizeof msg, "%s is stopping; try again", self->name);
        s_send_error(self, &peer, proto_msg_rid(req), PROTO_UNAVAILABLE, msg, 1);
        proto_msg_destroy(&req);
        return 0;
    }
    self->pending++;
    self->handler(self, &peer, req, self->handler_arg);
    return 0;
}

static int s_readable(void *socket)
{
    int events = 0;
    size_t size = sizeof events;
    if (zmq_getsockopt(socket, ZMQ_EVENTS, &events, &size) != 0)
        return 0;
    return (events & ZMQ_POLLIN) != 0;
}

static int s_zmq_fd(void *socket)
{
    int fd = -1;
    size_t size = sizeof fd;
    zmq_getsockopt(socket, ZMQ_FD, &fd, &size);
    return fd;
}

//  A signal came. Returns true when the loop must end now (a second signal), else starts the drain.
static bool s_on_stop_signal(svc_t *self)
{
    if (self->draining) {
        log_warn("svc.drain_abort", "pending=%zu msg=\"second signal: stopping now\"", self->pending);
        return true;
    }
    self->draining = true;
    self->drain_start = clock_mono_ms();
    self->drain_until = self->drain_start + self->drain_ms;
    log_info("svc.signal", "msg=draining pending=%zu busy=%d drain_timeout_ms=%ld", self->pending,
             self->busy && self->busy(self->busy_arg), self->drain_ms);
    return false;
}

//  Draining: true when nothing is left to finish, or the time is up (logged either way).
static bool s_drained(svc_t *self)
{
    bool busy = self->busy && self->busy(self->busy_arg);
    int64_t now = clock_mono_ms();
    if (self->pending == 0 && !busy) {
        log_info("svc.drained", "ms=%lld", (long long) (now - self->drain_start));
        return true;
    }
    if (now < self->drain_until)
        return false;
    log_warn("svc.drain_timeout", "pending=%zu busy=%d ms=%lld msg=\"stopping with work unfinished\"", self->pending,
             busy, (long long) (now - self->drain_start));
    return true;
}

int svc_run(svc_t *self)
{
    //  A handful of descriptors: the signal pipe, the ROUTER, the extra sockets and curl's epoll set.
    struct pollfd fds[SVC_MAX_SOCKETS + 3];
    nfds_t nfds = 0;
    fds[nfds++] = (struct pollfd){ .fd = s_signal_pipe[0], .events = POLLIN };
    fds[nfds++] = (struct pollfd){ .fd = s_zmq_fd(self->router), .events = POLLIN };
    for (size_t i = 0; i < self->socket_count; i++)
        fds[nfds++] = (struct pollfd){ .fd = s_zmq_fd(self->sockets[i].socket), .events = POLLIN };
    if (self->http)
        fds[nfds++] = (struct pollfd){ .fd = http_fd(self->http), .events = POLLIN };

    while (!self->stopping) {
        if (fds[0].revents & POLLIN) {
            char buf[16];
            ssize_t n = read(s_signal_pipe[0], buf, sizeof buf);
            bool now = false;
            for (ssize_t i = 0; i < n && !now; i++)  //  one byte a signal: two at once stop at once
                now = s_on_stop_signal(self);
            if (now)
                break;
        }
        if (self->draining && s_drained(self))
            break;
        if (self->batch_begin && self->batch_begin(self->batch_arg) == 0)
            self->in_batch = true;
        //  ZMQ_FD is edge-triggered: drain the ROUTER until a receive finds nothing (each
        //  ZMQ_EVENTS query costs system calls: no asking before every request).
        self->sent = false;
        int taken = 0;
        while (taken < SVC_BATCH && s_take_request(self) == 0)
            taken++;
        for (size_t s = 0; s < self->socket_count; s++)
            for (int i = 0; i < SVC_BATCH && s_readable(self->sockets[s].socket); i++)
                self->sockets[s].fn(self, self->sockets[s].socket, self->sockets[s].arg);
        if (self->http)
            http_perform(self->http);
        s_batch_end(self);
        int64_t now = clock_mono_ms();
        long wait_ms = 1000;
        for (size_t i = 0; i < self->timer_count; i++) {
            s_timer_t *t = &self->timers[i];
            if (now >= t->next_ms) {
                t->fn(self, t->arg);
                t->next_ms = now + t->interval_ms;
            }
            if (t->next_ms - now < wait_ms)
                wait_ms = (long) (t->next_ms - now);
        }
        if (self->after)
            self->after(self, self->after_arg);
        //  Sending may have consumed a socket's edge: never sleep on pending input.
        int pending = taken == SVC_BATCH || (self->sent && s_readable(self->router));
        for (size_t s = 0; !pending && s < self->socket_count; s++)
            pending = s_readable(self->sockets[s].socket);
        if (pending)
            wait_ms = 0;
        if (self->draining && wait_ms > 50)
            wait_ms = 50;  //  notice the end of the drain (or its deadline) promptly
        if (self->http) {
            long curl_ms = http_wait_ms(self->http);
            if (curl_ms >= 0 && curl_ms < wait_ms)
                wait_ms = curl_ms;
        }
        if (poll(fds, nfds, (int) wait_ms) < 0 && errno != EINTR) {
            log_error("svc.poll", "error=\"%s\"", strerror(errno));
            usleep(10000);  //  never spin on a persistent error
        }
    }
    return 0;
}
