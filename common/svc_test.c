//  svc_test: the services' event loop stopping on a signal: the drain (requests handed to the handler are
//  answered before svc_run returns; the busy hook holds it too), bounded by DRAIN_TIMEOUT_MS, cut short by
//  a second signal. (New requests refused during a drain: tests/integration/drain.test.mjs.) A tcp endpoint with
//  port "*" is bound to a port the OS picks, which svc_endpoint and svc_report's file tell.
#include "common/clock.h"
#include "common/log.h"
#include "common/svc.h"
#include "tests/testlib.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define HELD_MAX 8

typedef struct {
    char endpoint[600];
    void *ctx;
    svc_t *svc;
    svc_peer_t peers[HELD_MAX];
    uint64_t rids[HELD_MAX];
    atomic_int held;          //  requests the handler keeps
    atomic_llong release_at;  //  clock_mono_ms() from which the timer answers them (0: not yet)
    int answered;
    int sends;       //  requests the client sends, then signals
    int signals;     //  how many SIGTERMs the client sends
    int replies_ok;  //  replies the client got, each ERROR NOT_LOGGED_IN for one of its rids
} s_test_t;

static void s_handler(svc_t *svc, const svc_peer_t *peer, proto_msg_t *req, void *arg)
{
    (void) svc;
    s_test_t *t = arg;
    int i = atomic_load(&t->held);
    if (i < HELD_MAX) {
        t->peers[i] = *peer;
        t->rids[i] = proto_msg_rid(req);
        atomic_store(&t->held, i + 1);
    }
    proto_msg_destroy(&req);
}

//  Answer the held requests once their time has come.
static void s_timer(svc_t *svc, void *arg)
{
    s_test_t *t = arg;
    long long at = atomic_load(&t->release_at);
    if (!at || clock_mono_ms() < at)
        return;
    for (; t->answered < atomic_load(&t->held); t->answered++)
        svc_reply_error(svc, &t->peers[t->answered], t->rids[t->answered], PROTO_NOT_LOGGED_IN, "later", -1);
}

//  The client: send the requests, wait until the handler holds them, signal, collect the replies.
static void *s_client(void *arg)
{
    s_test_t *t = arg;
    void *s = zmq_socket(t->ctx, ZMQ_DEALER);
    int zero = 0, wait_ms = 5000;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &wait_ms, sizeof wait_ms);
    zmq_connect(s, t->endpoint);
    for (int i = 0; i < t->sends; i++) {
        proto_msg_t *req = proto_msg_new(PROTO_SESSION, 100 + (uint64_t) i);
        char *data = NULL;
        size_t size = 0;
        proto_msg_set_str(req, "sid", "x");
        if (proto_encode(req, &data, &size) == 0)
            zmq_send(s, data, size, 0);
        free(data);
        proto_msg_destroy(&req);
    }
    int64_t deadline = clock_mono_ms() + 5000;
    while (atomic_load(&t->held) < t->sends && clock_mono_ms() < deadline)
        zmq_poll(NULL, 0, 5);
    //  A thread-directed signal runs the handler before pthread_kill returns.
    for (int i = 0; i < t->signals; i++)
        pthread_kill(pthread_self(), SIGTERM);
    atomic_store(&t->release_at, clock_mono_ms() + 300);
    for (int i = 0; i < t->sends; i++) {
        char buf[512];
        int n = zmq_recv(s, buf, sizeof buf, 0);
        const char *why = NULL;
        uint64_t rid = 0;
        proto_msg_t *reply = n > 0 ? proto_decode(buf, (size_t) n, &why, &rid) : NULL;
        if (reply && proto_error_code(reply) == PROTO_NOT_LOGGED_IN && proto_msg_rid(reply) >= 100
            && proto_msg_rid(reply) < 100 + (uint64_t) t->sends)
            t->replies_ok++;
        proto_msg_destroy(&reply);
    }
    zmq_close(s);
    return NULL;
}

static bool s_busy(void *arg)
{
    (void) arg;
    return true;
}

//  Run a loop with the client above; returns how long svc_run took after the signal (about: after start).
static long s_run(s_test_t *t, const char *name, const char *drain_ms, bool busy)
{
    setenv("DRAIN_TIMEOUT_MS", drain_ms, 1);
    snprintf(t->endpoint, sizeof t->endpoint, "ipc://%s/%s.sock", test_tmpdir(), name);
    t->ctx = zmq_ctx_new();
    t->svc = svc_new("svc_test", t->ctx, t->endpoint, NULL, s_handler, t);
    CHECK(t->svc != NULL);
    if (!t->svc)
        return -1;
    CHECK(svc_every(t->svc, 10, s_timer, t) == 0);
    if (busy)
        svc_set_busy(t->svc, s_busy, NULL);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, s_client, t) == 0);
    int64_t t0 = clock_mono_ms();
    svc_run(t->svc);
    long ms = (long) (clock_mono_ms() - t0);
    pthread_join(th, NULL);
    CHECK(svc_pending(t->svc) == 0 || busy);
    svc_destroy(&t->svc);
    zmq_ctx_term(t->ctx);
    return ms;
}

static void t_drain_answers(void)
{
    s_test_t t = { .sends = 3, .signals = 1 };
    long ms = s_run(&t, "answers", "5000", false);
    CHECK(t.replies_ok == 3);                            //  every request in flight at the signal was answered
    CHECK(ms >= 300 && ms < 300 + test_slack_ms(1000));  //  svc_run waited for them, not for the deadline (5 s)
}

static void t_drain_deadline(void)
{
    s_test_t t = { .sends = 0, .signals = 1 };
    long ms = s_run(&t, "deadline", "300", true);  //  busy for ever: the deadline ends it
    CHECK(ms >= 300 && ms < 300 + test_slack_ms(1700));
}

static void t_second_signal(void)
{
    s_test_t t = { .sends = 0, .signals = 2 };
    long ms = s_run(&t, "second", "10000", true);  //  busy for ever, but a second signal stops at once
    CHECK(ms < test_slack_ms(2000));
}

static void t_any_port(void)
{
    setenv("INSECURE_BUS", "1", 1);  //  no CURVE keys here: the bus's checks are bus_test's
    setenv("INSTANCE_NAME", "svc_test7", 1);
    void *ctx = zmq_ctx_new();
    svc_t *svc = svc_new("svc_test", ctx, "tcp://127.0.0.1:*", NULL, s_handler, NULL);
    CHECK(svc != NULL);
    if (svc) {
        int port = 0;
        char rest = 0;
        CHECK(sscanf(svc_endpoint(svc), "tcp://127.0.0.1:%d%c", &port, &rest) == 1);
        CHECK(port > 0 && port < 65536);
        //  Really bound there: a second bind of it fails.
        void *other = zmq_socket(ctx, ZMQ_ROUTER);
        CHECK(zmq_bind(other, svc_endpoint(svc)) != 0 && zmq_errno() == EADDRINUSE);
        zmq_close(other);
        CHECK(svc_report(svc, test_tmpdir()) == 0);
        char path[600], text[80] = "", want[80];
        snprintf(path, sizeof path, "%s/svc_test7.endpoint", test_tmpdir());
        FILE *f = fopen(path, "r");
        CHECK(f && fgets(text, sizeof text, f));
        if (f)
            fclose(f);
        snprintf(want, sizeof want, "%s\n", svc_endpoint(svc));
        CHECK(strcmp(text, want) == 0);
    }
    svc_destroy(&svc);
    zmq_ctx_term(ctx);
    unsetenv("INSTANCE_NAME");
    unsetenv("INSECURE_BUS");
}

static const test_case_t cases[] = {
    { "any_port", t_any_port },
    { "drain_answers", t_drain_answers },
    { "drain_deadline", t_drain_deadline },
    { "second_signal", t_second_signal },
};

int main(int argc, char **argv)
{
    log_init("svc_test", getenv("SVC_TEST_LOG") ? LOGL_DEBUG : LOGL_WARN);
    return TEST_MAIN(argc, argv, cases);
}
