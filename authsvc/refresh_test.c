//  refresh_test: REFRESH and SESSION through authsvc's handlers, against a scripted token endpoint and a clock the
//  test moves (tests/support/authsvc_testutil.h): the refresh runs once however many ask (single flight), waits for
//  or takes over another process's lease (live, dead, run out), applies a late answer as a timely one, and turns
//  each answer of RingCentral into the error its callers get (refresh.h, docs/ARCHITECTURE.md "Refresh, once").
#include "tests/support/authsvc_testutil.h"

#define SID_SIZE RAND_ID_SIZE

//  Read every waiting reply into by_rid[rid] (rids 1 .. max-1). Returns how many came.
static int s_collect(at_t *t, proto_msg_t **by_rid, int max)
{
    int n = 0;
    proto_msg_t *msg;
    while ((msg = at_reply(t))) {
        uint64_t rid = proto_msg_rid(msg);
        if (CHECK(rid > 0 && rid < (uint64_t) max && !by_rid[rid]))
            by_rid[rid] = msg;
        else
            proto_msg_destroy(&msg);
        n++;
    }
    return n;
}

static void s_free_all(proto_msg_t **by_rid, int max)
{
    for (int i = 0; i < max; i++)
        proto_msg_destroy(&by_rid[i]);
}

//  What transfer i sent: the refresh_token grant of refresh_token, with the app's Basic credentials.
static bool s_is_refresh_of(size_t i, const char *refresh_token)
{
    const http_script_call_t *c = http_script_call(i);
    char want[128];
    snprintf(want, sizeof want, "refresh_token=%s", refresh_token);
    return c && strcmp(c->method, "POST") == 0 && strcmp(c->url, AT_SERVER "/restapi/oauth/token") == 0
        && strstr(c->form, "grant_type=refresh_token") && strstr(c->form, want)
        && strcmp(c->basic_user, AT_CLIENT_ID) == 0 && strcmp(c->basic_pass, AT_CLIENT_SECRET) == 0 && !c->bearer;
}

//  Ten REFRESH of one version, eight at once and two while the transfer runs: one call of the token endpoint,
//  its new pair stored before anyone is answered, then all ten answered with the new version.
static void t_single_flight(void)
{
    at_t t;
    at_start(&t);
    char sid[SID_SIZE];
    at_login(&t, sid, 1, NOW + HOUR);
    for (uint64_t rid = 1; rid <= 8; rid++)
        at_send(&t, PROTO_REFRESH, rid, sid, 1);
    CHECK(http_script_count() == 0);  //  the lease is claimed after the turn's group commit
    at_turn(&t);
    CHECK(http_script_count() == 1 && s_is_refresh_of(0, "refresh-1"));
    CHECK(http_script_call(0)->timeout_ms == AT_HARD_MS);  //  the transfer outlives the waiters' timeout
    store_session_t rec;
    CHECK(at_record(&t, sid, &rec) == 0 && rec.refreshing_pid == getpid() && rec.refreshing_until == NOW + AT_LEASE_MS);
    at_send(&t, PROTO_REFRESH, 9, sid, 1);
    at_send(&t, PROTO_REFRESH, 10, sid, 1);
    at_turn(&t);
    CHECK(http_script_count() == 1);  //  they joined the refresh in flight
    CHECK(at_quiet(&t));

    clock_fake_advance(250);
    CHECK(http_script_reply(0, 200, -1, at_tokens(2)) == 0);
    CHECK(at_quiet(&t));  //  not before the new pair is committed (after the group commit)
    at_turn(&t);
    proto_msg_t *by_rid[16] = { 0 };
    CHECK(s_collect(&t, by_rid, 16) == 10);
    for (uint64_t rid = 1; rid <= 10; rid++)
        CHECK(by_rid[rid] && proto_msg_type(by_rid[rid]) == PROTO_REFRESH_OK
              && proto_msg_int(by_rid[rid], "version", 0) == 2);
    s_free_all(by_rid, 16);
    CHECK(at_record(&t, sid, &rec) == 0 && rec.version == 2 && strcmp(rec.access_token, "access-2") == 0
          && strcmp(rec.refresh_token, "refresh-2") == 0 && rec.expires_at == NOW + 250 + 3600 * 1000
          && rec.refreshing_until == 0 && rec.refreshing_pid == 0);

    //  A REFRESH of the old version: answered at once with the new one, no call.
    at_send(&t, PROTO_REFRESH, 11, sid, 1);
    at_expect_version(&t, 11, 2);
    CHECK(http_script_count() == 1);
    //  A REFRESH of the new version is a new refresh, which sends the rotated refresh token.
    at_send(&t, PROTO_REFRESH, 12, sid, 2);
    at_turn(&t);
    CHECK(http_script_count() == 2 && s_is_refresh_of(1, "refresh-2"));
    CHECK(http_script_reply(1, 200, -1, at_tokens(3)) == 0);
    at_turn(&t);
    at_expect_version(&t, 12, 3);
    at_stop(&t);
}

//  A SESSION whose access token is about to expire joins the refresh like a REFRESH, and gets the refreshed record.
static void t_session_joins(void)
{
    at_t t;
    at_start(&t);
    char sid[SID_SIZE];
    at_login(&t, sid, 2, NOW + 30000);  //  within the 60 s margin
    at_send(&t, PROTO_SESSION, 1, sid, -1);
    at_send(&t, PROTO_REFRESH, 2, sid, 1);
    at_send(&t, PROTO_SESSION, 3, sid, -1);
    at_turn(&t);
    CHECK(http_script_count() == 1 && s_is_refresh_of(0, "refresh-2"));
    CHECK(at_quiet(&t));
    CHECK(http_script_reply(0, 200, -1, at_tokens(7)) == 0);
    at_turn(&t);
    proto_msg_t *by_rid[8] = { 0 };
    CHECK(s_collect(&t, by_rid, 8) == 3);
    CHECK(by_rid[2] && proto_msg_type(by_rid[2]) == PROTO_REFRESH_OK && proto_msg_int(by_rid[2], "version", 0) == 2);
    for (int rid = 1; rid <= 3; rid += 2)
        CHECK(by_rid[rid] && proto_msg_type(by_rid[rid]) == PROTO_SESSION_OK
              && proto_msg_bool(by_rid[rid], "logged_in", false) && proto_msg_int(by_rid[rid], "version", 0) == 2
              && proto_msg_int(by_rid[rid], "access_expires_in", 0) == 3600);
    s_free_all(by_rid, 8);
    //  A fresh access token: SESSION answers from the record, no call.
    at_send(&t, PROTO_SESSION, 4, sid, -1);
    proto_msg_t *msg = at_reply(&t);
    CHECK(msg && proto_msg_type(msg) == PROTO_SESSION_OK && proto_msg_int(msg, "version", 0) == 2);
    proto_msg_destroy(&msg);
    CHECK(http_script_count() == 1);
    at_stop(&t);
}

//  Another process holds a live lease: no call from here; its waiters get its result when it stores it.
static void t_lease_live_holder(void)
{
    at_t t;
    at_start(&t);
    char sid[SID_SIZE];
    at_login(&t, sid, 1, NOW + HOUR);
    at_holder_t other;
    at_holder_start(&other);
    at_lease(&t, sid, other.pid, NOW + 20000);
    at_send(&t, PROTO_REFRESH, 1, sid, 1);
    at_send(&t, PROTO_REFRESH, 2, sid, 1);
    at_turn(&t);
    at_tick(&t);
    clock_fake_advance(3000);
    at_tick(&t);
    CHECK(http_script_count() == 0 && at_quiet(&t));
    //  The other process stores its refresh (version 2).
    store_session_t rec;
    CHECK(at_record(&t, sid, &rec) == 0);
    snprintf(rec.refresh_token, sizeof rec.refresh_token, "refresh-other");
    CHECK(store_refresh_complete(t.a.store, sid, &rec) == 0 && rec.version == 2);
    at_tick(&t);
    proto_msg_t *by_rid[4] = { 0 };
    CHECK(s_collect(&t, by_rid, 4) == 2);
    for (int rid = 1; rid <= 2; rid++)
        CHECK(by_rid[rid] && proto_msg_type(by_rid[rid]) == PROTO_REFRESH_OK
              && proto_msg_int(by_rid[rid], "version", 0) == 2);
    s_free_all(by_rid, 4);
    CHECK(http_script_count() == 0);
    at_holder_end(&other);
    at_stop(&t);
}

//  A lease whose process is gone is void: taken over at once, and when its holder dies while we wait.
static void t_lease_dead_holder(void)
{
    at_t t;
    at_start(&t);
    char sid[SID_SIZE], sid2[SID_SIZE];
    at_login(&t, sid, 1, NOW + HOUR);
    at_login(&t, sid2, 3, NOW + HOUR);
    at_holder_t dead, dying;
    at_holder_start(&dead);
    at_holder_end(&dead);  //  exited and waited for: its pid is gone
    at_lease(&t, sid, dead.pid, NOW + 20000);
    at_send(&t, PROTO_REFRESH, 1, sid, 1);
    at_turn(&t);
    CHECK(http_script_count() == 1 && s_is_refresh_of(0, "refresh-1"));
    store_session_t rec;
    CHECK(at_record(&t, sid, &rec) == 0 && rec.refreshing_pid == getpid());
    CHECK(http_script_reply(0, 200, -1, at_tokens(2)) == 0);
    at_turn(&t);
    at_expect_version(&t, 1, 2);

    //  A live holder that dies while we wait: the next tick takes the lease over.
    at_holder_start(&dying);
    at_lease(&t, sid2, dying.pid, NOW + 20000);
    at_send(&t, PROTO_REFRESH, 2, sid2, 1);
    at_turn(&t);
    at_tick(&t);
    CHECK(http_script_count() == 1 && at_quiet(&t));
    at_holder_end(&dying);
    at_tick(&t);
    CHECK(http_script_count() == 2 && s_is_refresh_of(1, "refresh-3"));
    CHECK(http_script_reply(1, 200, -1, at_tokens(4)) == 0);
    at_turn(&t);
    at_expect_version(&t, 2, 2);
    at_stop(&t);
}

//  A lease that has run out is taken over, whether it had when the request came or runs out while it waits.
static void t_lease_expired(void)
{
    at_t t;
    at_start(&t);
    char sid[SID_SIZE], sid2[SID_SIZE];
    at_login(&t, sid, 1, NOW + HOUR);
    at_login(&t, sid2, 3, NOW + HOUR);
    at_holder_t other;  //  alive throughout: only the time ends its leases
    at_holder_start(&other);
    at_lease(&t, sid, other.pid, NOW);
    at_send(&t, PROTO_REFRESH, 1, sid, 1);
    at_turn(&t);
    CHECK(http_script_count() == 1 && s_is_refresh_of(0, "refresh-1"));
    CHECK(http_script_reply(0, 200, -1, at_tokens(2)) == 0);
    at_turn(&t);
    at_expect_version(&t, 1, 2);

    at_lease(&t, sid2, other.pid, NOW + 5000);
    at_send(&t, PROTO_REFRESH, 2, sid2, 1);
    at_turn(&t);
    clock_fake_advance(4999);
    at_tick(&t);
    CHECK(http_script_count() == 1 && at_quiet(&t));
    clock_fake_advance(1);
    at_tick(&t);
    CHECK(http_script_count() == 2 && s_is_refresh_of(1, "refresh-3"));
    CHECK(http_script_reply(1, 200, -1, at_tokens(4)) == 0);
    at_turn(&t);
    at_expect_version(&t, 2, 2);
    at_holder_end(&other);
    at_stop(&t);
}

//  A live lease of this very process with no refresh of ours under way (a release that was not stored) is taken
//  back at once, not waited out.
static void t_lease_own_leftover(void)
{
    at_t t;
    at_start(&t);
    char sid[SID_SIZE];
    at_login(&t, sid, 1, NOW + HOUR);
    at_lease(&t, sid, getpid(), NOW + 20000);
    at_send(&t, PROTO_REFRESH, 1, sid, 1);
    at_turn(&t);
    CHECK(http_script_count() == 1 && s_is_refresh_of(0, "refresh-1"));
    store_session_t rec;
    CHECK(at_record(&t, sid, &rec) == 0 && rec.refreshing_pid == getpid() && rec.refreshing_until == NOW + AT_LEASE_MS);
    CHECK(http_script_reply(0, 200, -1, at_tokens(2)) == 0);
    at_turn(&t);
    at_expect_version(&t, 1, 2);
    at_stop(&t);
}

//  Waiting on another process's lease is bounded by the waiter's timeout: UPSTREAM_TIMEOUT, nothing touched.
static void t_lease_wait_timeout(void)
{
    at_t t;
    at_start(&t);
    char sid[SID_SIZE];
    at_login(&t, sid, 1, NOW + HOUR);
    at_holder_t other;
    at_holder_start(&other);
    at_lease(&t, sid, other.pid, NOW + 30000);
    at_send(&t, PROTO_REFRESH, 1, sid, 1);
    at_turn(&t);
    clock_fake_advance(AT_TIMEOUT_MS - 1);
    at_tick(&t);
    CHECK(at_quiet(&t));
    clock_fake_advance(1);
    at_tick(&t);
    at_expect_code(&t, 1, PROTO_UPSTREAM_TIMEOUT);
    at_tick(&t);
    CHECK(http_script_count() == 0 && at_quiet(&t));
    store_session_t rec;
    CHECK(at_record(&t, sid, &rec) == 0 && rec.version == 1 && rec.refreshing_pid == other.pid);
    at_holder_end(&other);
    at_stop(&t);
}

//  A refresh slower than the waiters' timeout: they get UPSTREAM_TIMEOUT, the transfer goes on under the lease, a
//  request that comes meanwhile joins it (no second call with the same refresh token), and the late pair is stored.
static void t_late_success(void)
{
    at_t t;
    at_start(&t);
    char sid[SID_SIZE];
    at_login(&t, sid, 1, NOW + HOUR);
    at_send(&t, PROTO_REFRESH, 1, sid, 1);
    at_turn(&t);
    clock_fake_advance(AT_TIMEOUT_MS);
    at_tick(&t);
    at_expect_code(&t, 1, PROTO_UPSTREAM_TIMEOUT);
    CHECK(http_script_in_flight() == 1);
    at_send(&t, PROTO_REFRESH, 2, sid, 1);
    at_turn(&t);
    CHECK(http_script_count() == 1 && at_quiet(&t));
    clock_fake_advance(5000);
    at_tick(&t);
    CHECK(http_script_reply(0, 200, -1, at_tokens(2)) == 0);  //  17 s after the call, 5 s after rid 2 came
    at_turn(&t);
    at_expect_version(&t, 2, 2);
    store_session_t rec;
    CHECK(at_record(&t, sid, &rec) == 0 && rec.version == 2 && strcmp(rec.refresh_token, "refresh-2") == 0
          && rec.refreshing_until == 0);
    at_stop(&t);
}

//  A late answer after a logout: the pair is of no use and dropped (the record is not brought back); whoever
//  still waits is told the session is over. A late invalid_grant ends the session as a timely one would.
static void t_late_after_logout(void)
{
    at_t t;
    at_start(&t);
    char sid[SID_SIZE], sid2[SID_SIZE];
    at_login(&t, sid, 1, NOW + HOUR);
    at_send(&t, PROTO_REFRESH, 1, sid, 1);
    at_turn(&t);
    clock_fake_advance(AT_TIMEOUT_MS);
    at_tick(&t);
    at_expect_code(&t, 1, PROTO_UPSTREAM_TIMEOUT);
    at_send(&t, PROTO_REFRESH, 2, sid, 1);  //  joins the late refresh
    at_send(&t, PROTO_LOGOUT, 3, sid, -1);
    CHECK(http_script_count() == 2);
    const http_script_call_t *revoke = http_script_call(1);
    CHECK(revoke && strcmp(revoke->url, AT_SERVER "/restapi/oauth/revoke") == 0
          && strstr(revoke->form, "token=refresh-1"));
    CHECK(http_script_reply(1, 200, -1, NULL) == 0);
    at_turn(&t);
    proto_msg_t *msg = at_reply(&t);
    CHECK(msg && proto_msg_type(msg) == PROTO_LOGOUT_OK && proto_msg_rid(msg) == 3
          && proto_msg_bool(msg, "revoked", false));
    proto_msg_destroy(&msg);
    store_session_t rec;
    CHECK(at_record(&t, sid, &rec) == STORE_ENOTFOUND);
    CHECK(http_script_reply(0, 200, -1, at_tokens(2)) == 0);
    at_turn(&t);
    at_expect_code(&t, 2, PROTO_NOT_LOGGED_IN);
    CHECK(at_record(&t, sid, &rec) == STORE_ENOTFOUND);

    at_login(&t, sid2, 3, NOW + HOUR);
    at_send(&t, PROTO_REFRESH, 4, sid2, 1);
    at_turn(&t);
    clock_fake_advance(AT_TIMEOUT_MS);
    at_tick(&t);
    at_expect_code(&t, 4, PROTO_UPSTREAM_TIMEOUT);
    CHECK(http_script_reply(2, 400, -1, "{\"error\":\"invalid_grant\",\"error_description\":\"Token is revoked\"}")
          == 0);
    at_turn(&t);
    CHECK(at_quiet(&t) && at_record(&t, sid2, &rec) == STORE_ENOTFOUND);
    at_send(&t, PROTO_REFRESH, 5, sid2, 1);
    at_expect_code(&t, 5, PROTO_NOT_LOGGED_IN);
    at_stop(&t);
}

//  A late pair for a version that moved on without us (our lease ran out and another process refreshed): of no
//  use, dropped; the waiters get the version that is stored.
static void t_late_version_moved_on(void)
{
    at_t t;
    at_start(&t);
    char sid[SID_SIZE];
    at_login(&t, sid, 1, NOW + HOUR);
    at_send(&t, PROTO_REFRESH, 1, sid, 1);
    at_turn(&t);
    store_session_t rec;
    CHECK(at_record(&t, sid, &rec) == 0);
    snprintf(rec.refresh_token, sizeof rec.refresh_token, "refresh-other");
    CHECK(store_refresh_complete(t.a.store, sid, &rec) == 0 && rec.version == 2);
    CHECK(http_script_reply(0, 200, -1, at_tokens(2)) == 0);
    at_turn(&t);
    at_expect_version(&t, 1, 2);
    CHECK(at_record(&t, sid, &rec) == 0 && rec.version == 2 && strcmp(rec.refresh_token, "refresh-other") == 0);
    at_stop(&t);
}

//  The drain at SIGTERM waits while a refresh is under way, also once its waiters were answered (its pair must be
//  stored), and no longer; at shutdown a transfer cut off releases the lease (the tokens stay).
static void t_busy(void)
{
    at_t t;
    at_start(&t);
    char sid[SID_SIZE];
    at_login(&t, sid, 1, NOW + HOUR);
    CHECK(!refresh_busy(t.a.refresh));
    at_send(&t, PROTO_REFRESH, 1, sid, 1);
    CHECK(refresh_busy(t.a.refresh));  //  the claim is queued
    at_turn(&t);
    clock_fake_advance(AT_TIMEOUT_MS);
    at_tick(&t);
    at_expect_code(&t, 1, PROTO_UPSTREAM_TIMEOUT);
    CHECK(refresh_busy(t.a.refresh));  //  nobody waits, the transfer runs
    CHECK(http_script_reply(0, 200, -1, at_tokens(2)) == 0);
    CHECK(refresh_busy(t.a.refresh));  //  answered, not stored yet
    at_turn(&t);
    CHECK(!refresh_busy(t.a.refresh));
    at_send(&t, PROTO_REFRESH, 2, sid, 2);
    at_turn(&t);
    http_script_cancel_all();  //  http_destroy at shutdown
    at_turn(&t);
    at_expect_code(&t, 2, PROTO_UPSTREAM_ERROR);
    CHECK(!refresh_busy(t.a.refresh));
    store_session_t rec;
    CHECK(at_record(&t, sid, &rec) == 0 && rec.version == 2 && strcmp(rec.refresh_token, "refresh-2") == 0
          && rec.refreshing_until == 0);
    at_stop(&t);
}

//  Each answer of the token endpoint, and what REFRESH's callers get for it (oauth_classify, refresh.c s_settle).
static void t_errors(void)
{
    static const struct {
        const char *what;
        http_error_t error;  //  HTTP_OK: an answer with status, retry_after, body
        long status, retry_after;
        const char *body;
        proto_code_t code;  //  the ERROR the waiters get
        long want_retry;    //  its retry_after (-1: none)
        bool ended;         //  the record is deleted (the login is over)
    } rows[] = {
        { "400 invalid_grant", HTTP_OK, 400, -1,
          "{\"error\":\"invalid_grant\",\"error_description\":\"Token is revoked\"}", PROTO_NOT_LOGGED_IN, -1, true },
        { "400 without a body", HTTP_OK, 400, -1, "", PROTO_NOT_LOGGED_IN, -1, true },
        { "403", HTTP_OK, 403, -1, "{\"error\":\"access_denied\"}", PROTO_NOT_LOGGED_IN, -1, true },
        { "401 invalid_client", HTTP_OK, 401, -1, "{\"error\":\"invalid_client\"}", PROTO_APP_REJECTED, -1, false },
        { "401 without a body", HTTP_OK, 401, -1, "", PROTO_APP_REJECTED, -1, false },
        { "400 OAU-251", HTTP_OK, 400, -1,
          "{\"error\":\"unauthorized_client\",\"errors\":[{\"errorCode\":\"OAU-251\",\"message\":\"Unauthorized for "
          "this grant type\"}]}",
          PROTO_APP_REJECTED, -1, false },
        { "429 Retry-After 7", HTTP_OK, 429, 7, "{\"errorCode\":\"CMN-301\",\"message\":\"Request rate exceeded\"}",
          PROTO_RATE_LIMITED, 7, false },
        { "429 without Retry-After", HTTP_OK, 429, -1, "", PROTO_RATE_LIMITED, 60, false },
        { "503 Retry-After 5", HTTP_OK, 503, 5, "", PROTO_RATE_LIMITED, 5, false },
        { "503", HTTP_OK, 503, -1, "", PROTO_UPSTREAM_ERROR, -1, false },
        { "500", HTTP_OK, 500, -1, "{\"message\":\"Internal Server Error\"}", PROTO_UPSTREAM_ERROR, -1, false },
        { "200 without tokens", HTTP_OK, 200, -1, "{\"access_token\":\"a\"}", PROTO_UPSTREAM_ERROR, -1, false },
        { "network error", HTTP_ENETWORK, 0, -1, NULL, PROTO_UPSTREAM_UNREACHABLE, -1, false },
        { "timeout", HTTP_ETIMEOUT, 0, -1, NULL, PROTO_UPSTREAM_TIMEOUT, -1, false },
        { "body over the ceiling", HTTP_ETOOBIG, 0, -1, NULL, PROTO_UPSTREAM_ERROR, -1, false },
    };
    at_t t;
    at_start(&t);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char sid[SID_SIZE];
        at_login(&t, sid, 1, NOW + HOUR);
        size_t call = http_script_count();
        at_send(&t, PROTO_REFRESH, 1, sid, 1);
        at_send(&t, PROTO_REFRESH, 2, sid, 1);
        at_turn(&t);
        CHECK(http_script_count() == call + 1);
        CHECK((rows[i].error == HTTP_OK ? http_script_reply(call, rows[i].status, rows[i].retry_after, rows[i].body)
                                        : http_script_fail(call, rows[i].error))
              == 0);
        at_turn(&t);
        for (uint64_t rid = 2; rid >= 1; rid--) {  //  every waiter gets the same answer
            proto_msg_t *msg = at_expect_error(&t, rid, rows[i].code);
            bool answered = rows[i].error == HTTP_OK && rows[i].status != 200;
            bool ok = msg && proto_msg_int(msg, "retry_after", -1) == rows[i].want_retry
                && proto_msg_int(msg, "upstream_status", 0) == (answered ? rows[i].status : 0);
            if (!CHECK(ok))
                fprintf(stderr, "#   row \"%s\": retry_after %lld upstream_status %lld\n", rows[i].what,
                        (long long) proto_msg_int(msg, "retry_after", -1),
                        (long long) proto_msg_int(msg, "upstream_status", 0));
            proto_msg_destroy(&msg);
        }
        store_session_t rec;
        int src = at_record(&t, sid, &rec);
        if (!CHECK(rows[i].ended ? src == STORE_ENOTFOUND
                                 : src == 0 && rec.version == 1 && strcmp(rec.refresh_token, "refresh-1") == 0
                           && rec.refreshing_until == 0 && rec.refreshing_pid == 0))
            fprintf(stderr, "#   row \"%s\": record %d\n", rows[i].what, src);
        //  What the next REFRESH finds: the end of the login, a pause (429), or a new attempt.
        at_send(&t, PROTO_REFRESH, 3, sid, 1);
        at_turn(&t);
        if (rows[i].ended)
            at_expect_code(&t, 3, PROTO_NOT_LOGGED_IN);
        else if (rows[i].code == PROTO_RATE_LIMITED)
            at_expect_code(&t, 3, PROTO_RATE_LIMITED);
        else
            CHECK(http_script_count() == call + 2 && at_quiet(&t));
        CHECK(http_script_count() == call + 1 + (!rows[i].ended && rows[i].code != PROTO_RATE_LIMITED));
        http_script_cancel_all();
        at_turn(&t);
        while (!at_quiet(&t))
            ;
    }
    at_stop(&t);
}

//  After a 429 the session's refreshes wait out Retry-After: REFRESH gets RATE_LIMITED with the time left, SESSION
//  the record as it is; no call until the pause is over.
static void t_rate_limit_pause(void)
{
    at_t t;
    at_start(&t);
    char sid[SID_SIZE];
    at_login(&t, sid, 1, NOW + 30000);
    at_send(&t, PROTO_REFRESH, 1, sid, 1);
    at_turn(&t);
    CHECK(http_script_reply(0, 429, 7, "") == 0);
    at_turn(&t);
    proto_msg_t *msg = at_expect_error(&t, 1, PROTO_RATE_LIMITED);
    CHECK(msg && proto_msg_int(msg, "retry_after", -1) == 7);
    proto_msg_destroy(&msg);
    clock_fake_advance(3000);
    at_tick(&t);
    at_send(&t, PROTO_REFRESH, 2, sid, 1);
    msg = at_expect_error(&t, 2, PROTO_RATE_LIMITED);
    CHECK(msg && proto_msg_int(msg, "retry_after", -1) == 4);
    proto_msg_destroy(&msg);
    at_send(&t, PROTO_SESSION, 3, sid, -1);  //  its access token is stale, but no refresh now
    msg = at_reply(&t);
    CHECK(msg && proto_msg_type(msg) == PROTO_SESSION_OK && proto_msg_rid(msg) == 3
          && proto_msg_int(msg, "version", 0) == 1);
    proto_msg_destroy(&msg);
    at_turn(&t);
    CHECK(http_script_count() == 1);
    clock_fake_advance(4000);
    at_tick(&t);
    at_send(&t, PROTO_REFRESH, 4, sid, 1);
    at_turn(&t);
    CHECK(http_script_count() == 2 && s_is_refresh_of(1, "refresh-1"));
    CHECK(http_script_reply(1, 200, -1, at_tokens(2)) == 0);
    at_turn(&t);
    at_expect_version(&t, 4, 2);
    at_stop(&t);
}

//  A Retry-After beyond reason (RingCentral's to send, curl's to parse: any 64-bit number) pauses the session's
//  refreshes for at most an hour (STORE_HOLD_MAX_MS, as apisvc's HOLD), never for ever nor not at all.
static void t_rate_limit_huge(void)
{
    static const long huge[] = { 99999999999999999L, 10000000000L };  //  overflows ms; ~317 years
    at_t t;
    at_start(&t);
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        char sid[SID_SIZE];
        at_login(&t, sid, 1, NOW + 2 * HOUR);
        size_t call = http_script_count();
        at_send(&t, PROTO_REFRESH, 1, sid, 1);
        at_turn(&t);
        CHECK(http_script_reply(call, 429, huge[i], "") == 0);
        at_turn(&t);
        at_expect_code(&t, 1, PROTO_RATE_LIMITED);
        clock_fake_advance(1000);
        at_tick(&t);
        at_send(&t, PROTO_REFRESH, 2, sid, 1);
        at_expect_code(&t, 2, PROTO_RATE_LIMITED);
        clock_fake_advance(STORE_HOLD_MAX_MS - 1000);
        at_tick(&t);
        at_send(&t, PROTO_REFRESH, 3, sid, 1);
        at_turn(&t);
        CHECK(http_script_count() == call + 2 && at_quiet(&t));
        http_script_cancel_all();
        at_turn(&t);
        while (!at_quiet(&t))
            ;
    }
    at_stop(&t);
}

//  A transfer that cannot start, and a session that is not there: answered at once, no lease left behind.
static void t_no_call(void)
{
    at_t t;
    at_start(&t);
    char sid[SID_SIZE], gone[SID_SIZE];
    at_login(&t, sid, 1, NOW + HOUR);
    http_script_refuse(1);
    at_send(&t, PROTO_REFRESH, 1, sid, 1);
    at_turn(&t);
    at_expect_code(&t, 1, PROTO_INTERNAL);
    store_session_t rec;
    CHECK(at_record(&t, sid, &rec) == 0 && rec.refreshing_until == 0 && rec.version == 1);
    CHECK(rand_id(gone, sizeof gone) == 0);
    at_send(&t, PROTO_REFRESH, 2, gone, 1);
    at_expect_code(&t, 2, PROTO_NOT_LOGGED_IN);
    at_send(&t, PROTO_REFRESH, 3, "not an id", 1);
    at_expect_code(&t, 3, PROTO_BAD_REQUEST);
    CHECK(http_script_count() == 0);
    at_stop(&t);
}

static const test_case_t cases[] = {
    { "single_flight", t_single_flight },
    { "session_joins", t_session_joins },
    { "lease_live_holder", t_lease_live_holder },
    { "lease_dead_holder", t_lease_dead_holder },
    { "lease_expired", t_lease_expired },
    { "lease_own_leftover", t_lease_own_leftover },
    { "lease_wait_timeout", t_lease_wait_timeout },
    { "late_success", t_late_success },
    { "late_after_logout", t_late_after_logout },
    { "late_version_moved_on", t_late_version_moved_on },
    { "errors", t_errors },
    { "rate_limit_pause", t_rate_limit_pause },
    { "rate_limit_huge", t_rate_limit_huge },
    { "no_call", t_no_call },
    { "busy", t_busy },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
