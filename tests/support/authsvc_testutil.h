//  authsvc_testutil: an authsvc inside a unit test (test code only: tests/support/).
//
//  The real handlers (authsvc_handle's command table), the real store (LMDB in a temporary directory) and the
//  real reply path (svc's ROUTER on inproc, read by the test's DEALER); in place of libcurl a scripted token
//  endpoint (http_script.h), in place of the clocks clocks the test moves (clock_fake.h). The test plays the
//  event loop, one step at a time: at_send hands a request to the handler (as svc_run does), at_turn runs
//  what the turn queued for after its group commit (authsvc_after), at_tick fires refresh's 50 ms timer.
//  Nothing waits on real time: every case runs in milliseconds.
#ifndef AUTHSVC_TESTUTIL_H_INCLUDED
#define AUTHSVC_TESTUTIL_H_INCLUDED

#include "authsvc/authsvc.h"
#include "authsvc/refresh.h"
#include "common/rand.h"
#include "tests/support/clock_fake.h"
#include "tests/support/http_script.h"
#include "tests/support/store_testutil.h"
#include "tests/testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

//  RC_TIMEOUT_MS of the tests: a waiter is answered this long after it came; the refresh's transfer and lease run
//  on for max(30 s, 3 x this) (+ 5 s for the lease: refresh.c).
#define AT_TIMEOUT_MS 12000
#define AT_HARD_MS (3 * AT_TIMEOUT_MS)
#define AT_LEASE_MS (AT_HARD_MS + 5000)
#define AT_MONO0 ((int64_t) 1000000)  //  the monotonic clock at the start of a case
#define AT_SERVER "https://rc.test"
#define AT_CLIENT_ID "app-id"
#define AT_CLIENT_SECRET "app-secret"
#define AT_REPLIES_MAX 64

typedef struct {
    config_t cfg;
    authsvc_t a;
    void *ctx;
    void *client;     //  the test's DEALER: the replies arrive here
    svc_peer_t peer;  //  its identity, as svc hands it to the handler
} at_t;

//  Start an authsvc with both environments configured, an empty store, no transfer recorded, the clocks at
//  NOW and AT_MONO0. Unlike authsvc's main: no group commit (each write is its own transaction, replies go out at
//  once; at_turn runs what main runs after the commit) and no key ring (secrets stored in plaintext). A setup that
//  fails is a failed check, and an abort when nothing could run. End it with at_stop.
static inline void at_start(at_t *t)
{
    static int seq;
    char name[32], endpoint[64];
    seq++;
    snprintf(name, sizeof name, "authsvc-store-%d", seq);
    snprintf(endpoint, sizeof endpoint, "inproc://authsvc-test-%d", seq);
    memset(t, 0, sizeof *t);
    for (int i = 0; i < CONFIG_ENV_COUNT; i++) {
        config_rc_t *rc = &t->cfg.rc[i];
        rc->configured = true;
        snprintf(rc->server_url, sizeof rc->server_url, "%s", AT_SERVER);
        snprintf(rc->client_id, sizeof rc->client_id, "%s", AT_CLIENT_ID);
        snprintf(rc->client_secret, sizeof rc->client_secret, "%s", AT_CLIENT_SECRET);
        snprintf(rc->redirect_url, sizeof rc->redirect_url, "http://localhost:5000/oauth2callback");
    }
    t->cfg.timeout_ms = AT_TIMEOUT_MS;
    t->cfg.connect_timeout_ms = 3000;
    clock_fake_set(NOW, AT_MONO0);
    http_script_reset();
    CHECK(rand_init() == 0);
    t->a.cfg = &t->cfg;
    t->a.store = store_open(s_dir(name), (size_t) 16 << 20);
    t->a.refresh = refresh_new();
    t->ctx = zmq_ctx_new();
    t->a.svc = t->ctx ? svc_new("authsvc", t->ctx, endpoint, NULL, authsvc_handle, &t->a) : NULL;
    t->client = t->a.svc ? zmq_socket(t->ctx, ZMQ_DEALER) : NULL;
    CHECK(t->a.store && t->a.refresh && t->a.svc && t->client);
    if (!t->client)
        abort();  //  nothing below can run
    int zero = 0;
    snprintf((char *) t->peer.id, sizeof t->peer.id, "test-client");
    t->peer.len = strlen((char *) t->peer.id);
    zmq_setsockopt(t->client, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(t->client, ZMQ_ROUTING_ID, t->peer.id, t->peer.len);
    CHECK(zmq_connect(t->client, endpoint) == 0);
}

//  The next reply to the test (decoded), or NULL when none is there. An inproc reply is there as soon as it is sent.
static inline proto_msg_t *at_reply(at_t *t)
{
    static char buf[PROTO_FIELD_MAX];
    int n = zmq_recv(t->client, buf, sizeof buf, ZMQ_DONTWAIT);
    const char *why = NULL;
    uint64_t rid = 0;
    proto_msg_t *msg = n > 0 && (size_t) n <= sizeof buf ? proto_decode(buf, (size_t) n, &why, &rid) : NULL;
    CHECK(n < 0 || msg);
    return msg;
}

//  The string field of msg, "" when msg is NULL or the field unset.
static inline const char *at_str(const proto_msg_t *msg, const char *field)
{
    const char *s = msg ? proto_msg_str(msg, field) : NULL;
    return s ? s : "";
}

//  True when no reply waits.
static inline bool at_quiet(at_t *t)
{
    proto_msg_t *msg = at_reply(t);
    bool quiet = msg == NULL;
    proto_msg_destroy(&msg);
    return quiet;
}

//  Stop as authsvc's main does: the transfers in flight end HTTP_ECANCELLED, what they queued runs, every waiter
//  is answered; then free everything.
static inline void at_stop(at_t *t)
{
    http_script_cancel_all();
    authsvc_after(t->a.svc, &t->a);
    refresh_abort_all(&t->a);
    while (!at_quiet(t))
        ;
    refresh_destroy(&t->a.refresh);
    zmq_close(t->client);
    svc_destroy(&t->a.svc);
    zmq_ctx_term(t->ctx);
    store_close(&t->a.store);
    http_script_reset();
}

//  Hand req to authsvc's handler (which takes it), as svc_run does when it arrives.
static inline void at_handle(at_t *t, proto_msg_t *req)
{
    if (CHECK(req != NULL))
        authsvc_handle(t->a.svc, &t->peer, req, &t->a);
}

//  Hand a request of type with sid (and seen_version when >= 0) to the handler.
static inline void at_send(at_t *t, proto_type_t type, uint64_t rid, const char *sid, int64_t seen_version)
{
    proto_msg_t *req = proto_msg_new(type, rid);
    CHECK(req && proto_msg_set_str(req, "sid", sid) == 0);
    if (seen_version >= 0)
        CHECK(proto_msg_set_int(req, "seen_version", seen_version) == 0);
    at_handle(t, req);
}

//  The end of the loop's turn: run what was queued for after its group commit (store writes of refresh and logout).
static inline void at_turn(at_t *t)
{
    authsvc_after(t->a.svc, &t->a);
}

//  refresh's timer (every 50 ms in authsvc): waiters past their deadline, leases of other processes.
static inline void at_tick(at_t *t)
{
    refresh_tick(t->a.svc, &t->a);
}

//  A logged-in session with a new id in sid: version 1, refresh token "refresh-<seed>", in env production
//  (even seed) or sandbox; its access token expires at access_expires (its refresh token 8 h later).
static inline void at_login(at_t *t, char *sid, int seed, int64_t access_expires)
{
    store_session_t rec;
    CHECK(rand_id(sid, RAND_ID_SIZE) == 0);
    s_session(&rec, seed, access_expires + 8 * HOUR);
    rec.expires_at = access_expires;
    CHECK(store_session_put(t->a.store, sid, &rec) == 0);
}

//  The stored record of sid (at the fake clock's now). Returns 0 or a STORE_* code.
static inline int at_record(at_t *t, const char *sid, store_session_t *rec)
{
    return store_session_get(t->a.store, sid, rec);
}

//  A token endpoint answer (200) with the pair "access-<n>", "refresh-<n>": access 1 h, refresh 7 days.
static inline const char *at_tokens(int n)
{
    static char body[512];
    snprintf(body, sizeof body,
             "{\"access_token\":\"access-%d\",\"refresh_token\":\"refresh-%d\",\"token_type\":"
             "\"bearer\",\"expires_in\":3600,\"refresh_token_expires_in\":604800,\"owner_id\":\"owner-1\","
             "\"scope\":\"ReadAccounts ReadCallLog\"}",
             n, n);
    return body;
}

//  Check that the next reply answers rid with REFRESH_OK {version}.
static inline void at_expect_version(at_t *t, uint64_t rid, uint64_t version)
{
    proto_msg_t *msg = at_reply(t);
    CHECK(msg && proto_msg_type(msg) == PROTO_REFRESH_OK && proto_msg_rid(msg) == rid
          && proto_msg_int(msg, "version", -1) == (int64_t) version);
    proto_msg_destroy(&msg);
}

//  Check that the next reply answers rid with ERROR code; returns it for more checks (destroy it), or NULL.
static inline proto_msg_t *at_expect_error(at_t *t, uint64_t rid, proto_code_t code)
{
    proto_msg_t *msg = at_reply(t);
    bool ok = msg && proto_msg_type(msg) == PROTO_ERROR && proto_msg_rid(msg) == rid && proto_error_code(msg) == code;
    if (!CHECK(ok))
        fprintf(stderr, "#   wanted ERROR %s for rid %llu, got %s %s rid %llu\n", proto_code_name(code),
                (unsigned long long) rid, msg ? proto_type_name(proto_msg_type(msg)) : "nothing",
                msg ? proto_code_name(proto_error_code(msg)) : "",
                msg ? (unsigned long long) proto_msg_rid(msg) : 0ULL);
    return msg;
}

//  Check the next reply is ERROR code for rid, and nothing else of it.
static inline void at_expect_code(at_t *t, uint64_t rid, proto_code_t code)
{
    proto_msg_t *msg = at_expect_error(t, rid, code);
    proto_msg_destroy(&msg);
}

//  Another authsvc process that holds leases: a child blocked on a pipe until at_holder_end (then gone: waited for).
typedef struct {
    pid_t pid;
    int fd;
} at_holder_t;

static inline void at_holder_start(at_holder_t *h)
{
    int p[2];
    CHECK(pipe(p) == 0);
    h->pid = fork();
    if (h->pid == 0) {
        char c;
        close(p[1]);
        while (read(p[0], &c, 1) < 0)
            ;
        _exit(0);
    }
    close(p[0]);
    h->fd = p[1];
    CHECK(h->pid > 0);
}

static inline void at_holder_end(at_holder_t *h)
{
    close(h->fd);
    CHECK(waitpid(h->pid, NULL, 0) == h->pid);
}

//  Give sid's record a lease of process pid until until (ms, wall clock), as a refresh of that process would.
static inline void at_lease(at_t *t, const char *sid, int64_t pid, int64_t until)
{
    store_session_t rec;
    CHECK(at_record(t, sid, &rec) == 0);
    rec.refreshing_pid = pid;
    rec.refreshing_until = until;
    CHECK(store_session_put(t->a.store, sid, &rec) == 0);
}

#endif
