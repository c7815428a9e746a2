//  rpc_test: the per-thread service client against fake services: replies matched by id,
//  dead and hung services bounded by the service timeout, slow but live ones waited for,
//  recovery without a restart, two services called at once.
//  tests/run: alone (it measures the hub's own timing: a ping after 1 s, a 400 ms ping timeout)
#include "tests/support/gwtest.h"
#include "gateway/rpc.h"

#define TIMEOUT_MS 300     //  SERVICE_TIMEOUT_MS of these tests
#define RC_TIMEOUT_MS 400  //  overall wait of a live service: 3 x 400 + 300 = 1500 ms
#define MARGIN_MS test_slack_ms(250)

static void *s_zctx;
static int s_seq;

typedef struct {
    char endpoint[RPC_SERVICE_COUNT][256];
    rpc_config_t cfg;
    fake_t fake[RPC_SERVICE_COUNT];
    rpc_hub_t *hub;
    rpc_t *rpc;
} s_env_t;

static void s_up(s_env_t *e, bool start)
{
    memset(e, 0, sizeof *e);
    for (int i = 0; i < RPC_SERVICE_COUNT; i++) {
        snprintf(e->endpoint[i], sizeof e->endpoint[i], "ipc://%s/rpc%d-%d.sock", test_tmpdir(), s_seq++, i);
        e->cfg.endpoint[i] = e->endpoint[i];
        fake_init(&e->fake[i], s_zctx, rpc_service_name((rpc_service_t) i), e->endpoint[i]);
        if (start)
            CHECK(fake_start(&e->fake[i]));
    }
    e->cfg.service_timeout_ms = TIMEOUT_MS;
    e->cfg.rc_timeout_ms = RC_TIMEOUT_MS;
    e->hub = rpc_hub_new(s_zctx, &e->cfg);
    CHECK(e->hub != NULL);
    e->rpc = rpc_new(e->hub);
    CHECK(e->rpc != NULL);
}

static void s_down(s_env_t *e)
{
    rpc_destroy(&e->rpc);
    CHECK(e->rpc == NULL);
    rpc_hub_destroy(&e->hub);
    CHECK(e->hub == NULL);
    for (int i = 0; i < RPC_SERVICE_COUNT; i++)
        fake_destroy(&e->fake[i]);
}

//  SESSION{sid} to authsvc; returns the reply and its duration.
static proto_msg_t *s_session(s_env_t *e, const char *sid, long *ms)
{
    proto_msg_t *req = rpc_request(e->rpc, PROTO_SESSION);
    proto_msg_set_str(req, "sid", sid);
    int64_t t0 = clock_mono_ms();
    proto_msg_t *reply = rpc_call(e->rpc, RPC_AUTHSVC, req);
    *ms = (long) (clock_mono_ms() - t0);
    proto_msg_destroy(&req);
    return reply;
}

//  Once the fake got the request, restart it: answering, uptime 0.
static void *s_restart_when_asked(void *arg)
{
    fake_t *f = arg;
    CHECK(fake_wait_count(f, PROTO_SESSION, 1, 2000));
    fake_stop(f);
    fake_reset(f);
    f->uptime = 0;
    fake_start(f);
    return NULL;
}

//  a equals b; a may be NULL (a missing field fails the check instead of crashing the test).
static bool s_streq(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

static bool s_is(const proto_msg_t *m, proto_type_t type, proto_code_t code)
{
    return m && proto_msg_type(m) == type && (type != PROTO_ERROR || proto_error_code(m) == code);
}

//  SESSION{sid} to authsvc when only the kind of answer matters: whether it was type (and code);
//  its duration in *ms.
static bool s_session_is(s_env_t *e, const char *sid, proto_type_t type, proto_code_t code, long *ms)
{
    proto_msg_t *reply = s_session(e, sid, ms);
    bool is = s_is(reply, type, code);
    proto_msg_destroy(&reply);
    return is;
}

static void t_reply_matched(void)
{
    s_env_t e;
    s_up(&e, true);
    long ms;
    proto_msg_t *reply = s_session(&e, e.fake[0].logged_in_sid, &ms);
    CHECK(s_is(reply, PROTO_SESSION_OK, 0));
    CHECK(proto_msg_bool(reply, "logged_in", false));
    CHECK(s_streq(proto_msg_str(reply, "owner_id"), FAKE_OWNER));
    CHECK(fake_saw_sid(&e.fake[0], PROTO_SESSION, e.fake[0].logged_in_sid));
    proto_msg_destroy(&reply);
    //  a stale reply (another id) and a garbage frame before the real one are dropped
    fake_set_mode(&e.fake[0], FAKE_ANSWER, 0, true);
    for (int i = 0; i < 3; i++)
        CHECK(s_session_is(&e, e.fake[0].logged_in_sid, PROTO_SESSION_OK, 0, &ms));
    s_down(&e);
}

static void t_error_passes_through(void)
{
    s_env_t e;
    s_up(&e, true);
    fake_set_error(&e.fake[0], PROTO_SESSION, PROTO_RATE_LIMITED, 42);
    long ms;
    proto_msg_t *reply = s_session(&e, "sid", &ms);
    CHECK(s_is(reply, PROTO_ERROR, PROTO_RATE_LIMITED));
    CHECK(proto_msg_int(reply, "retry_after", -1) == 42);
    proto_msg_destroy(&reply);
    s_down(&e);
}

static void t_dead_then_back(void)
{
    s_env_t e;
    s_up(&e, false);  //  nothing bound at the endpoints
    long ms;
    CHECK(s_session_is(&e, "sid", PROTO_ERROR, PROTO_UNAVAILABLE, &ms));
    CHECK(ms <= TIMEOUT_MS + MARGIN_MS);
    //  the service comes up: the very next call reaches it, same client, no restart
    CHECK(fake_start(&e.fake[0]));
    CHECK(s_session_is(&e, "sid", PROTO_SESSION_OK, 0, &ms));
    //  and it goes away again: bounded again
    fake_stop(&e.fake[0]);
    CHECK(s_session_is(&e, "sid", PROTO_ERROR, PROTO_UNAVAILABLE, &ms));
    CHECK(ms <= TIMEOUT_MS + MARGIN_MS);
    CHECK(fake_start(&e.fake[0]));
    CHECK(s_session_is(&e, "sid", PROTO_SESSION_OK, 0, &ms));
    s_down(&e);
}

static void t_hung_then_answers(void)
{
    s_env_t e;
    s_up(&e, true);
    fake_set_mode(&e.fake[0], FAKE_SILENT, 0, false);
    long ms;
    CHECK(s_session_is(&e, "sid", PROTO_ERROR, PROTO_UNAVAILABLE, &ms));
    CHECK(ms >= TIMEOUT_MS * 9 / 10 && ms <= TIMEOUT_MS + MARGIN_MS);
    CHECK(fake_count(&e.fake[0], PROTO_PING) == 1);  //  it was asked whether it lives
    fake_set_mode(&e.fake[0], FAKE_ANSWER, 0, false);
    CHECK(s_session_is(&e, "sid", PROTO_SESSION_OK, 0, &ms));
    s_down(&e);
}

static void t_slow_but_alive(void)
{
    s_env_t e;
    s_up(&e, true);
    //  the reply comes after 2.5 service timeouts, but PINGs are answered at once
    fake_set_mode(&e.fake[0], FAKE_ANSWER, TIMEOUT_MS * 5 / 2, false);
    long ms;
    CHECK(s_session_is(&e, "sid", PROTO_SESSION_OK, 0, &ms));
    CHECK(ms >= TIMEOUT_MS * 5 / 2);
    CHECK(fake_count(&e.fake[0], PROTO_PING) >= 2);
    s_down(&e);
}

static void t_too_slow(void)
{
    s_env_t e;
    s_up(&e, true);
    fake_set_mode(&e.fake[0], FAKE_ANSWER, 3000, false);
    long ms;
    CHECK(s_session_is(&e, "sid", PROTO_ERROR, PROTO_UNAVAILABLE, &ms));
    long overall = 3 * RC_TIMEOUT_MS + TIMEOUT_MS;
    CHECK(ms >= overall - 50 && ms <= overall + MARGIN_MS);
    s_down(&e);
}

static void t_restarted_meanwhile(void)
{
    s_env_t e;
    s_up(&e, true);
    e.cfg.service_timeout_ms = 1500;  //  pings after 1 s: enough to tell a restart by its uptime
    rpc_destroy(&e.rpc);
    rpc_hub_destroy(&e.hub);
    e.hub = rpc_hub_new(s_zctx, &e.cfg);
    e.rpc = rpc_new(e.hub);
    fake_set_mode(&e.fake[0], FAKE_SILENT, 0, false);
    proto_msg_t *req = rpc_request(e.rpc, PROTO_SESSION);
    proto_msg_set_str(req, "sid", "s");
    //  the request reaches the first process; a second one takes over right away (uptime 0)
    //  while the call waits: the request died with the first, so do not wait 2 x 400 + 1500 ms
    rpc_call_t call = { RPC_AUTHSVC, req, NULL, 0 };
    fake_t *f = &e.fake[0];
    int64_t t0 = clock_mono_ms();
    pthread_t restarter;
    pthread_create(&restarter, NULL, s_restart_when_asked, f);
    rpc_call_many(e.rpc, &call, 1);
    long ms = (long) (clock_mono_ms() - t0);
    pthread_join(restarter, NULL);
    CHECK(s_is(call.reply, PROTO_ERROR, PROTO_UNAVAILABLE));
    CHECK(ms >= 1000 && ms < 1500 + MARGIN_MS);
    CHECK(fake_count(f, PROTO_PING) == 1);
    proto_msg_destroy(&call.reply);
    proto_msg_destroy(&req);
    s_down(&e);
}

static void t_two_services_at_once(void)
{
    s_env_t e;
    s_up(&e, true);
    fake_set_mode(&e.fake[0], FAKE_ANSWER, 200, false);
    fake_set_mode(&e.fake[1], FAKE_ANSWER, 200, false);
    proto_msg_t *session = rpc_request(e.rpc, PROTO_SESSION), *api = rpc_request(e.rpc, PROTO_API);
    proto_msg_set_str(session, "sid", "s");
    proto_msg_set_str(api, "sid", "s");
    proto_msg_set_str(api, "api", "extension");
    rpc_call_t calls[] = { { RPC_AUTHSVC, session, NULL, 0 }, { RPC_APISVC, api, NULL, 0 } };
    int64_t t0 = clock_mono_ms();
    CHECK(rpc_call_many(e.rpc, calls, 2) == 0);
    long ms = (long) (clock_mono_ms() - t0);
    CHECK(s_is(calls[0].reply, PROTO_SESSION_OK, 0));
    CHECK(s_is(calls[1].reply, PROTO_API_OK, 0));
    CHECK(ms >= 200 && ms < 200 + test_slack_ms(150));  //  side by side, not one after the other (400)
    CHECK(strcmp(e.fake[1].last_api, "extension") == 0);
    for (int i = 0; i < 2; i++)
        proto_msg_destroy(&calls[i].reply);
    proto_msg_destroy(&session);
    proto_msg_destroy(&api);
    s_down(&e);
}

static void t_ping(void)
{
    s_env_t e;
    s_up(&e, true);
    fake_stop(&e.fake[1]);
    proto_msg_t *p0 = rpc_request(e.rpc, PROTO_PING), *p1 = rpc_request(e.rpc, PROTO_PING);
    rpc_call_t calls[] = { { RPC_AUTHSVC, p0, NULL, 0 }, { RPC_APISVC, p1, NULL, 0 } };
    int64_t t0 = clock_mono_ms();
    CHECK(rpc_call_many(e.rpc, calls, 2) == 0);
    CHECK(clock_mono_ms() - t0 <= TIMEOUT_MS + MARGIN_MS);
    CHECK(s_is(calls[0].reply, PROTO_PING_OK, 0));
    CHECK(s_streq(proto_msg_str(calls[0].reply, "service"), "authsvc"));
    CHECK(s_is(calls[1].reply, PROTO_ERROR, PROTO_UNAVAILABLE));
    for (int i = 0; i < 2; i++)
        proto_msg_destroy(&calls[i].reply);
    proto_msg_destroy(&p0);
    proto_msg_destroy(&p1);
    s_down(&e);
}

//  Many worker threads through one hub: every reply reaches the thread that asked.
#define MANY_THREADS 16
#define MANY_CALLS 300

typedef struct {
    s_env_t *env;
    int index;
    int wrong;
} s_worker_t;

static void *s_worker(void *arg)
{
    s_worker_t *w = arg;
    rpc_t *rpc = rpc_new(w->env->hub);
    bool mine = w->index % 2 == 0;  //  even threads ask about the logged-in sid
    for (int i = 0; i < MANY_CALLS && rpc; i++) {
        proto_msg_t *req = rpc_request(rpc, PROTO_SESSION);
        proto_msg_set_str(req, "sid", mine ? w->env->fake[0].logged_in_sid : "someone-else");
        proto_msg_t *reply = rpc_call(rpc, RPC_AUTHSVC, req);
        if (!s_is(reply, PROTO_SESSION_OK, 0) || proto_msg_rid(reply) != proto_msg_rid(req)
            || proto_msg_bool(reply, "logged_in", !mine) != mine)
            w->wrong++;
        proto_msg_destroy(&reply);
        proto_msg_destroy(&req);
    }
    if (!rpc)
        w->wrong = MANY_CALLS;
    rpc_destroy(&rpc);
    return NULL;
}

static void t_many_threads_one_hub(void)
{
    s_env_t e;
    s_up(&e, true);
    pthread_t threads[MANY_THREADS];
    s_worker_t workers[MANY_THREADS];
    for (int i = 0; i < MANY_THREADS; i++) {
        workers[i] = (s_worker_t){ &e, i, 0 };
        CHECK(pthread_create(&threads[i], NULL, s_worker, &workers[i]) == 0);
    }
    int wrong = 0;
    for (int i = 0; i < MANY_THREADS; i++) {
        pthread_join(threads[i], NULL);
        wrong += workers[i].wrong;
    }
    CHECK(wrong == 0);
    CHECK(fake_count(&e.fake[0], PROTO_SESSION) == MANY_THREADS * MANY_CALLS);
    s_down(&e);
}

static const test_case_t cases[] = {
    { "reply_matched", t_reply_matched },
    { "error_passes_through", t_error_passes_through },
    { "dead_then_back", t_dead_then_back },
    { "hung_then_answers", t_hung_then_answers },
    { "slow_but_alive", t_slow_but_alive },
    { "too_slow", t_too_slow },
    { "restarted_meanwhile", t_restarted_meanwhile },
    { "two_services_at_once", t_two_services_at_once },
    { "ping", t_ping },
    { "many_threads_one_hub", t_many_threads_one_hub },
};

int main(int argc, char **argv)
{
    log_init("rpc_test", LOGL_ERROR);
    if (rand_init() < 0)
        return 2;
    s_zctx = zmq_ctx_new();
    int rc = TEST_MAIN(argc, argv, cases);
    zmq_ctx_term(s_zctx);
    return rc;
}
