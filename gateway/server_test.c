//  server_test: the gateway's HTTP server in process on 127.0.0.1:<any port>, with fake
//  authsvc and apisvc (ipc endpoints in a temporary directory), driven by libcurl: routes, pages,
//  service errors. Its edge (body deadline, who may connect, the https cookie): server_edge_test.
#include "tests/support/gwtest.h"
#include "gateway/front.h"
#include "gateway/reply.h"
#include "gateway/server.h"
#include "gateway/session.h"

#define TIMEOUT_MS GWENV_TIMEOUT_MS
#define MARGIN_MS test_slack_ms(400)

//  The security headers every dynamic response carries.
static bool s_hardened(const http_resp_t *r)
{
    char v[512];
    return http_header(r, "Cache-Control", v, sizeof v) && strcmp(v, "no-store") == 0
        && http_header(r, "Referrer-Policy", v, sizeof v) && strcmp(v, "no-referrer") == 0
        && http_header(r, "X-Content-Type-Options", v, sizeof v) && strcmp(v, "nosniff") == 0
        && http_header(r, "Content-Security-Policy", v, sizeof v) && strcmp(v, REPLY_CSP) == 0;
}

//  The value of the rcsid cookie set by r into sid ("" when none).
static void s_set_sid(const http_resp_t *r, char *sid, size_t size)
{
    char v[256];
    sid[0] = '\0';
    if (http_header(r, "Set-Cookie", v, sizeof v) && strncmp(v, "rcsid=", 6) == 0)
        snprintf(sid, size, "%.*s", (int) strcspn(v + 6, ";."), v + 6);  //  the id, not its tag
}

static void t_home(void)
{
    gwenv_t *e = gwenv_shared();
    http_resp_t r = http_get(e->port, "/", NULL);
    CHECK(r.status == 200);
    CHECK(s_hardened(&r));
    CHECK(http_has(&r, "href=\"/login?env=production\""));
    CHECK(http_has(&r, "href=\"/login?env=sandbox\""));
    CHECK(http_has(&r, "DEMO MODE"));
    CHECK(http_has(&r, "<script src=\"/static/app.js\" defer></script>"));
    CHECK(!http_has(&r, "href=\"/test\""));
    CHECK(fake_count(&e->auth, PROTO_SESSION) == 0);  //  no cookie, no question to authsvc
    //  the headers the front's own pages get (gateway --static-headers) are the ones every page has
    for (const char *const *h = front_headers(); *h; h += 2) {
        char v[512];
        CHECK(http_header(&r, h[0], v, sizeof v) && strcmp(v, h[1]) == 0);
    }
    http_free(&r);
    const char *headers[] = { e->cookie, NULL };
    r = http_get(e->port, "/", headers);
    CHECK(r.status == 200 && http_has(&r, "href=\"/test\"") && http_has(&r, FAKE_OWNER));
    http_free(&r);
    //  authsvc down: the main page still works
    fake_stop(&e->auth);
    r = http_get(e->port, "/", headers);
    CHECK(r.status == 200 && http_has(&r, "href=\"/login?env=sandbox\""));
    http_free(&r);
    CHECK(fake_start(&e->auth));
    r = http_get(e->port, "/index", NULL);
    char v[64];
    CHECK(r.status == 302 && http_header(&r, "Location", v, sizeof v) && strcmp(v, "/") == 0);
    http_free(&r);
    //  The start page's notices: fixed words to fixed text; anything else shows none.
    r = http_get(e->port, "/?notice=logged-out", NULL);
    CHECK(r.status == 200 && http_has(&r, "data-notice=\"logged-out\"")
          && http_has(&r, "RingCentral revoked the tokens"));
    http_free(&r);
    r = http_get(e->port, "/?notice=logged-out-unrevoked", NULL);
    CHECK(r.status == 200 && http_has(&r, "did not confirm that it revoked"));
    http_free(&r);
    r = http_get(e->port, "/?notice=login-first", NULL);
    CHECK(r.status == 200 && http_has(&r, "Log in first"));
    http_free(&r);
    r = http_get(e->port, "/?notice=%3Cscript%3Ex", NULL);
    CHECK(r.status == 200 && !http_has(&r, "data-notice") && !http_has(&r, "<script>x"));
    http_free(&r);
}

static void t_login(void)
{
    gwenv_t *e = gwenv_shared();
    const char *bad[] = { "/login?env=bogus",      "/login",
                          "/login?env=",           "/login?env=Sandbox",
                          "/login?env=sandbox%00", "/login?env=production%20" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http_resp_t r = http_get(e->port, bad[i], NULL);
        CHECK(r.status == 400 && http_has(&r, "Unknown environment") && s_hardened(&r));
        http_free(&r);
    }
    CHECK(fake_count(&e->auth, PROTO_AUTH_URL) == 0);

    http_resp_t r = http_get(e->port, "/login?env=sandbox", NULL);
    char v[256], sid[64];
    CHECK(r.status == 200 && s_hardened(&r));
    CHECK(http_header(&r, "Set-Cookie", v, sizeof v));
    CHECK(strstr(v, "; HttpOnly") && strstr(v, "; SameSite=Lax") && strstr(v, "; Path=/") && !strstr(v, "Secure"));
    s_set_sid(&r, sid, sizeof sid);
    CHECK(rand_id_is_valid(sid));
    CHECK(fake_count(&e->auth, PROTO_AUTH_URL) == 1);
    CHECK(fake_saw_sid(&e->auth, PROTO_AUTH_URL, sid) && strcmp(e->auth.last_env, "sandbox") == 0);
    //  the URL is in attributes, escaped, and nowhere raw
    const char *escaped = "https://rc.example/restapi/oauth/authorize?response_type=code&amp;client_id=app&amp;"
                          "state=st8&amp;x=&lt;&quot;q&#39;&gt;";
    char attr[512];
    snprintf(attr, sizeof attr, "data-authorize-url=\"%s\"", escaped);
    CHECK(http_has(&r, attr));
    snprintf(attr, sizeof attr, "href=\"%s\"", escaped);
    CHECK(http_has(&r, attr));
    CHECK(!http_has(&r, FAKE_URL));
    CHECK(!http_has(&r, "<script>"));
    http_free(&r);

    //  an existing valid cookie (the id and the tag the gateway set) is kept and used
    char cookie[128], value[SESSION_COOKIE_VALUE_SIZE];
    CHECK(session_cookie_value(sid, value, sizeof value) == 0);
    snprintf(cookie, sizeof cookie, "Cookie: rcsid=%s", value);
    const char *headers[] = { cookie, NULL };
    r = http_get(e->port, "/login?env=production", headers);
    CHECK(r.status == 200 && !http_header(&r, "Set-Cookie", v, sizeof v));
    CHECK(fake_saw_sid(&e->auth, PROTO_AUTH_URL, sid) && strcmp(e->auth.last_env, "production") == 0);
    http_free(&r);
    //  an invalid cookie is replaced
    const char *junk[] = { "Cookie: rcsid=../../etc/passwd", NULL };
    r = http_get(e->port, "/login?env=sandbox", junk);
    s_set_sid(&r, sid, sizeof sid);
    CHECK(r.status == 200 && rand_id_is_valid(sid));
    http_free(&r);
    //  a planted cookie (a well-formed id without the gateway's tag, or with a wrong one) is no cookie: a fresh id
    //  is minted and set, and authsvc never hears of the planted one
    char planted[RAND_ID_SIZE], fresh[64], wrong[SESSION_COOKIE_VALUE_SIZE];
    rand_id(planted, sizeof planted);
    CHECK(session_cookie_value(planted, wrong, sizeof wrong) == 0);
    wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == 'A' ? 'B' : 'A';
    const char *tails[] = { "", ".", ".AAAAAAAAAAAAAAAAAAAAAA", NULL };  //  NULL: a tag one character off
    for (int i = 0; i < 4; i++) {
        if (tails[i])
            snprintf(cookie, sizeof cookie, "Cookie: rcsid=%s%s", planted, tails[i]);
        else
            snprintf(cookie, sizeof cookie, "Cookie: rcsid=%s", wrong);
        r = http_get(e->port, "/login?env=sandbox", headers);
        s_set_sid(&r, fresh, sizeof fresh);
        CHECK(r.status == 200 && rand_id_is_valid(fresh) && strcmp(fresh, planted) != 0);
        CHECK(fake_saw_sid(&e->auth, PROTO_AUTH_URL, fresh) && !fake_saw_sid(&e->auth, PROTO_AUTH_URL, planted));
        http_free(&r);
    }
}

static void t_callback(void)
{
    gwenv_t *e = gwenv_shared();
    const char *headers[] = { e->cookie, NULL };

    http_resp_t r = http_get(e->port,
                             "/oauth2callback?error=access_denied&error_description=User%20%3Cb%3Edenied"
                             "%3C%2Fb%3E&state=st8",
                             headers);
    //  this session's login (authsvc answers DECLINED_OK): RingCentral's text, 403 for a refusal
    CHECK(r.status == 403 && s_hardened(&r));
    CHECK(http_has(&r, "You declined"));
    CHECK(http_has(&r, "RingCentral said: User &lt;b&gt;denied&lt;/b&gt;"));
    CHECK(http_has(&r, "data-result=\"declined\""));
    CHECK(http_has(&r, "href=\"/\""));
    http_free(&r);
    CHECK(fake_count(&e->auth, PROTO_DECLINED) == 1);
    CHECK(fake_saw_sid(&e->auth, PROTO_DECLINED, e->auth.logged_in_sid));
    //  no state: authsvc is not asked, and nothing of the answer is shown
    r = http_get(e->port, "/oauth2callback?error=%22%3E%3Cscript%3E&error_description=evil", headers);
    CHECK(r.status == 400 && http_has(&r, "did not complete") && !http_has(&r, "<script>"));
    CHECK(!http_has(&r, "evil") && !http_has(&r, "RingCentral said"));
    http_free(&r);
    CHECK(fake_count(&e->auth, PROTO_DECLINED) == 1);
    //  not this session's state (authsvc says STATE_MISMATCH): the generic page
    fake_set_error(&e->auth, PROTO_DECLINED, PROTO_STATE_MISMATCH, -1);
    r = http_get(e->port, "/oauth2callback?error=access_denied&error_description=evil&state=st9", headers);
    CHECK(r.status == 400 && s_hardened(&r) && http_has(&r, "did not complete"));
    CHECK(!http_has(&r, "evil") && !http_has(&r, "You declined") && http_has(&r, "data-error=\"state_mismatch\""));
    http_free(&r);
    CHECK(fake_count(&e->auth, PROTO_DECLINED) == 2);
    fake_set_error(&e->auth, PROTO_DECLINED, PROTO_OK, -1);

    const char *missing[] = { "/oauth2callback", "/oauth2callback?state=st8", "/oauth2callback?code=c1",
                              "/oauth2callback?code=&state=st8" };
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        r = http_get(e->port, missing[i], headers);
        CHECK(r.status == 400 && s_hardened(&r));
        http_free(&r);
    }
    //  a code longer than the protocol allows never reaches authsvc
    char longpath[4200];
    snprintf(longpath, sizeof longpath, "/oauth2callback?state=st8&code=%03000d", 7);
    r = http_get(e->port, longpath, headers);
    CHECK(r.status == 400);
    http_free(&r);
    CHECK(fake_count(&e->auth, PROTO_EXCHANGE) == 0);

    //  no session cookie: not this browser's login
    r = http_get(e->port, "/oauth2callback?code=c1&state=st8", NULL);
    CHECK(r.status == 400 && http_has(&r, "not valid for this browser"));
    http_free(&r);
    CHECK(fake_count(&e->auth, PROTO_EXCHANGE) == 0);

    r = http_get(e->port, "/oauth2callback?code=c1&state=st8", headers);
    char sid[64], v[256];
    CHECK(r.status == 200 && http_has(&r, "Login success") && http_has(&r, "data-result=\"ok\""));
    s_set_sid(&r, sid, sizeof sid);
    CHECK(strcmp(sid, e->auth.new_sid) == 0);  //  rotated
    CHECK(http_header(&r, "Set-Cookie", v, sizeof v) && strstr(v, "HttpOnly") && strstr(v, "SameSite=Lax"));
    CHECK(fake_saw_sid(&e->auth, PROTO_EXCHANGE, e->auth.logged_in_sid));
    CHECK(strcmp(e->auth.last_code, "c1") == 0 && strcmp(e->auth.last_state, "st8") == 0);
    http_free(&r);

    fake_set_error(&e->auth, PROTO_EXCHANGE, PROTO_STATE_MISMATCH, -1);
    r = http_get(e->port, "/oauth2callback?code=c2&state=other", headers);
    CHECK(r.status == 400 && http_has(&r, "not valid for this browser") && !http_header(&r, "Set-Cookie", v, sizeof v));
    http_free(&r);
    fake_set_error(&e->auth, PROTO_EXCHANGE, PROTO_UPSTREAM_REJECTED, -1);
    r = http_get(e->port, "/oauth2callback?code=c3&state=st8", headers);
    CHECK(r.status == 400 && http_has(&r, "RingCentral refused the login; start again"));
    http_free(&r);
}

static void t_test_page(void)
{
    gwenv_t *e = gwenv_shared();
    http_resp_t r = http_get(e->port, "/test", NULL);
    char v[256];
    CHECK(r.status == 302 && http_header(&r, "Location", v, sizeof v) && strcmp(v, "/?notice=login-first") == 0);
    http_free(&r);
    char other[RAND_ID_SIZE], cookie[128], value[SESSION_COOKIE_VALUE_SIZE];
    rand_id(other, sizeof other);
    CHECK(session_cookie_value(other, value, sizeof value) == 0);
    snprintf(cookie, sizeof cookie, "Cookie: rcsid=%s", value);
    const char *stranger[] = { cookie, NULL };
    r = http_get(e->port, "/test", stranger);
    CHECK(r.status == 302);
    http_free(&r);

    const char *headers[] = { e->cookie, NULL };
    r = http_get(e->port, "/test", headers);
    CHECK(r.status == 200 && s_hardened(&r));
    CHECK(http_has(&r, "href=\"/test?api=extension\""));
    CHECK(http_has(&r, "href=\"/test?api=extension-call-log\""));
    CHECK(http_has(&r, "href=\"/test?api=account-call-log\""));
    CHECK(http_has(&r, "data-env=\"sandbox\"") && http_has(&r, "data-owner=\"" FAKE_OWNER "\""));
    char csrf[SESSION_CSRF_SIZE], field[160];
    session_csrf(e->auth.logged_in_sid, csrf);
    snprintf(field, sizeof field, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", csrf);
    CHECK(http_has(&r, field));
    CHECK(http_has(&r, "<form method=\"post\" action=\"/logout\">"));
    CHECK(!http_has(&r, e->auth.logged_in_sid));  //  the session id itself never is in a page
    http_free(&r);
}

static void t_api(void)
{
    gwenv_t *e = gwenv_shared();
    const char *headers[] = { e->cookie, NULL };
    http_resp_t r = http_get(e->port, "/test?api=extension", headers);
    CHECK(r.status == 200 && s_hardened(&r));
    CHECK(http_has(&r,
                   "<pre class=\"json\">{\n  \"records\": [\n    {\n      \"name\": \"&lt;b&gt;Alice&lt;/b&gt; &amp; "
                   "J\xc3\xbcrgen\",\n"));
    CHECK(http_has(&r, "sandbox") && http_has(&r, FAKE_OWNER));
    CHECK(strcmp(e->api.last_api, "extension") == 0);
    CHECK(fake_saw_sid(&e->api, PROTO_API, e->auth.logged_in_sid));
    http_free(&r);

    const char *json[] = { e->cookie, "Accept: application/json", NULL };
    r = http_get(e->port, "/test?api=account-call-log", json);
    char v[256];
    CHECK(r.status == 200 && strcmp(r.body, FAKE_BODY) == 0);
    CHECK(http_header(&r, "Content-Type", v, sizeof v) && strcmp(v, "application/json; charset=utf-8") == 0);
    CHECK(strcmp(e->api.last_api, "account-call-log") == 0);
    http_free(&r);

    const char *bad[] = { "/test?api=bogus", "/test?api=", "/test?api=Extension", "/test?api=extension%00" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = http_get(e->port, bad[i], headers);
        CHECK(r.status == 400 && http_has(&r, "Unknown API"));
        http_free(&r);
    }
    CHECK(fake_count(&e->api, PROTO_API) == 2);

    fake_set_error(&e->api, PROTO_API, PROTO_NOT_LOGGED_IN, -1);
    r = http_get(e->port, "/test?api=extension", headers);
    CHECK(r.status == 302 && http_header(&r, "Location", v, sizeof v) && strcmp(v, "/?notice=login-first") == 0);
    http_free(&r);
}

static void t_error_codes(void)
{
    gwenv_t *e = gwenv_shared();
    const char *headers[] = { e->cookie, NULL };
    const char *json[] = { e->cookie, "Accept: application/json", NULL };
    for (int code = PROTO_BAD_REQUEST; code < PROTO_CODE_COUNT; code++) {
        int want = code == PROTO_NOT_LOGGED_IN ? 302 : reply_error_info((proto_code_t) code)->status;
        fake_set_error(&e->api, PROTO_API, (proto_code_t) code, code == PROTO_RATE_LIMITED ? 7 : -1);
        http_resp_t r = http_get(e->port, "/test?api=extension-call-log", headers);
        CHECK(r.status == want);
        if (code != PROTO_NOT_LOGGED_IN) {
            CHECK(s_hardened(&r));
            CHECK(http_has(&r, reply_error_info((proto_code_t) code)->title));
            CHECK(http_has(&r, "href=\"/test\""));  //  a way back
        }
        char v[64];
        if (code == PROTO_RATE_LIMITED)
            CHECK(http_header(&r, "Retry-After", v, sizeof v) && strcmp(v, "7") == 0);
        http_free(&r);
        r = http_get(e->port, "/test?api=extension-call-log", json);
        CHECK(r.status == want);
        if (code != PROTO_NOT_LOGGED_IN)
            CHECK(http_has(&r, "\"error\":\"") && http_has(&r, proto_code_name((proto_code_t) code)));
        http_free(&r);
    }
    //  the same table serves authsvc's errors
    fake_set_error(&e->auth, PROTO_SESSION, PROTO_UPSTREAM_TIMEOUT, -1);
    http_resp_t r = http_get(e->port, "/test", headers);
    CHECK(r.status == 504);
    http_free(&r);
}

static void t_logout(void)
{
    gwenv_t *e = gwenv_shared();
    char csrf[SESSION_CSRF_SIZE], body[128], v[256];
    session_csrf(e->auth.logged_in_sid, csrf);
    char origin[64];
    snprintf(origin, sizeof origin, "Origin: http://127.0.0.1:%d", e->port);
    const char *headers[] = { e->cookie, origin, NULL };

    //  GET /logout shows the button and logs nothing out
    http_resp_t r = http_get(e->port, "/logout", headers);
    CHECK(r.status == 200 && http_has(&r, "action=\"/logout\"") && http_has(&r, csrf));
    http_free(&r);
    CHECK(fake_count(&e->auth, PROTO_LOGOUT) == 0);

    r = http_do(e->port, "POST", "/logout", headers, "");
    CHECK(r.status == 403 && s_hardened(&r));
    http_free(&r);
    r = http_do(e->port, "POST", "/logout", headers, "csrf=wrong");
    CHECK(r.status == 403);
    http_free(&r);
    char other[SESSION_CSRF_SIZE], sid[RAND_ID_SIZE];
    rand_id(sid, sizeof sid);
    session_csrf(sid, other);
    snprintf(body, sizeof body, "csrf=%s", other);  //  another session's token
    r = http_do(e->port, "POST", "/logout", headers, body);
    CHECK(r.status == 403);
    http_free(&r);
    snprintf(body, sizeof body, "csrf=%s", csrf);
    const char *cross[] = { e->cookie, "Origin: https://evil.example", NULL };
    r = http_do(e->port, "POST", "/logout", cross, body);
    CHECK(r.status == 403);
    http_free(&r);
    const char *fetch_cross[] = { e->cookie, "Sec-Fetch-Site: cross-site", NULL };
    r = http_do(e->port, "POST", "/logout", fetch_cross, body);
    CHECK(r.status == 403);
    http_free(&r);
    //  a body larger than a logout needs
    char big[2100];
    snprintf(big, sizeof big, "csrf=%s&pad=%02000d", csrf, 0);
    r = http_do(e->port, "POST", "/logout", headers, big);
    CHECK(r.status == 413);
    http_free(&r);
    CHECK(fake_count(&e->auth, PROTO_LOGOUT) == 0);

    r = http_do(e->port, "POST", "/logout", headers, body);
    CHECK(r.status == 303 && http_header(&r, "Location", v, sizeof v) && strcmp(v, "/?notice=logged-out") == 0);
    CHECK(http_header(&r, "Set-Cookie", v, sizeof v) && strncmp(v, "rcsid=;", 7) == 0 && strstr(v, "Max-Age=0"));
    http_free(&r);
    CHECK(fake_count(&e->auth, PROTO_LOGOUT) == 1);
    CHECK(fake_saw_sid(&e->auth, PROTO_LOGOUT, e->auth.logged_in_sid));

    //  no session: nothing to log out
    r = http_do(e->port, "POST", "/logout", NULL, body);
    CHECK(r.status == 303);
    http_free(&r);
    r = http_get(e->port, "/logout", NULL);
    CHECK(r.status == 302);
    http_free(&r);
    CHECK(fake_count(&e->auth, PROTO_LOGOUT) == 1);

    //  authsvc down: the logout is not pretended, the cookie stays
    fake_set_error(&e->auth, PROTO_LOGOUT, PROTO_UNAVAILABLE, -1);
    r = http_do(e->port, "POST", "/logout", headers, body);
    CHECK(r.status == 503 && !http_header(&r, "Set-Cookie", v, sizeof v));
    http_free(&r);
}

static void t_dead_service(void)
{
    gwenv_t e;
    gwenv_up(&e, false);  //  nothing bound at either endpoint
    const char *headers[] = { e.cookie, NULL };
    http_resp_t r = http_get(e.port, "/test", headers);
    CHECK(r.status == 503 && http_has(&r, "Service unavailable") && s_hardened(&r));
    CHECK(r.ms <= TIMEOUT_MS + MARGIN_MS);
    http_free(&r);
    //  Liveness asks nothing; readiness names both services, within its 1 s bound.
    r = http_get(e.port, "/healthz", NULL);
    CHECK(r.status == 200 && r.body && strcmp(r.body, "{\"status\":\"ok\"}") == 0);
    http_free(&r);
    r = http_get(e.port, "/readyz", NULL);
    CHECK(r.status == 503 && http_has(&r, "\"status\":\"fail\"") && r.ms <= 1000 + MARGIN_MS
          && http_has(&r, "\"authsvc\":{\"status\":\"fail\",\"reason\":\"authsvc is not reachable\"}")
          && http_has(&r, "\"apisvc\":{\"status\":\"fail\",\"reason\":\"apisvc is not reachable\"}")
          && http_has(&r, "\"store\":{\"status\":\"fail\",\"reason\":\"authsvc did not answer\"}")
          && !http_has(&r, "pid"));
    http_free(&r);
    //  authsvc comes up: the next request works, no gateway restart
    CHECK(fake_start(&e.auth));
    r = http_get(e.port, "/test", headers);
    CHECK(r.status == 200);
    http_free(&r);
    //  authsvc hangs: bounded too, and back again when it answers
    fake_set_mode(&e.auth, FAKE_SILENT, 0, false);
    r = http_get(e.port, "/test", headers);
    CHECK(r.status == 503 && r.ms >= TIMEOUT_MS * 9 / 10 && r.ms <= TIMEOUT_MS + MARGIN_MS);
    http_free(&r);
    fake_set_mode(&e.auth, FAKE_ANSWER, 0, false);
    r = http_get(e.port, "/test", headers);
    CHECK(r.status == 200);
    http_free(&r);
    CHECK(fake_start(&e.api));
    r = http_get(e.port, "/readyz", NULL);
    CHECK(r.status == 200 && http_has(&r, "{\"status\":\"ok\",\"checks\":{")
          && http_has(&r, "\"authsvc\":{\"status\":\"ok\"}") && http_has(&r, "\"apisvc\":{\"status\":\"ok\"}")
          && http_has(&r, "\"store\":{\"status\":\"ok\"}") && http_has(&r, "\"config\":{\"status\":\"ok\"}")
          && http_has(&r, "\"mock\":{\"status\":\"ok\"}"));
    http_free(&r);
    //  The metrics are not on this port (their own, METRICS_PORT), nor on any path of it.
    r = http_get(e.port, "/metrics", NULL);
    CHECK(r.status == 404);
    http_free(&r);
    gwenv_down(&e);
}

typedef struct {
    int port;
    const char *cookie;
    long status;
} s_worker_t;

static void *s_worker(void *arg)
{
    s_worker_t *w = arg;
    const char *headers[] = { w->cookie, NULL };
    http_resp_t r = http_get(w->port, "/test?api=extension", headers);
    w->status = r.status;
    http_free(&r);
    return NULL;
}

static void t_parallel(void)
{
    gwenv_t *e = gwenv_shared();
    fake_set_mode(&e->api, FAKE_ANSWER, 300, false);
    enum { N = 6 };
    pthread_t threads[N];
    s_worker_t w[N];
    int64_t t0 = clock_mono_ms();
    for (int i = 0; i < N; i++) {
        w[i] = (s_worker_t){ e->port, e->cookie, 0 };
        pthread_create(&threads[i], NULL, s_worker, &w[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(threads[i], NULL);
        CHECK(w[i].status == 200);
    }
    CHECK(clock_mono_ms() - t0 < 2 * 300 + MARGIN_MS);  //  not one after the other (that is 1800 ms)
    CHECK(fake_count(&e->api, PROTO_API) == N);
}

static void t_hostile_requests(void)
{
    gwenv_t *e = gwenv_shared();
    size_t big = 20000;
    char *header = malloc(big + 16);
    snprintf(header, big + 16, "X-Big: %0*d", (int) big, 0);
    const char *headers[] = { header, NULL };
    http_resp_t r = http_get(e->port, "/", headers);
    CHECK(r.status >= 400 && r.status < 500);
    http_free(&r);
    free(header);
    char *path = malloc(big + 16);
    snprintf(path, big + 16, "/test?api=%0*d", (int) big, 0);
    r = http_get(e->port, path, NULL);
    CHECK(r.status >= 400 && r.status < 500);
    http_free(&r);
    free(path);
    r = http_get(e->port, "/nope", NULL);
    CHECK(r.status == 404 && http_has(&r, "Page not found") && s_hardened(&r));
    http_free(&r);
    r = http_do(e->port, "DELETE", "/test", NULL, NULL);
    char v[64];
    CHECK(r.status == 405 && http_header(&r, "Allow", v, sizeof v) && strcmp(v, "GET") == 0);
    http_free(&r);
    r = http_do(e->port, "POST", "/", NULL, "x=1");
    CHECK(r.status == 405);
    http_free(&r);
    r = http_do(e->port, "PUT", "/logout", NULL, "x=1");
    CHECK(r.status == 405 && http_header(&r, "Allow", v, sizeof v) && strcmp(v, "GET, POST") == 0);
    http_free(&r);
    //  still serving
    r = http_get(e->port, "/", NULL);
    CHECK(r.status == 200);
    http_free(&r);
}

static void t_static(void)
{
    gwenv_t *e = gwenv_shared();
    http_resp_t r = http_get(e->port, "/static/app.js", NULL);
    char v[128], etag[64], inm[96];
    CHECK(r.status == 200 && http_has(&r, "window.open") && http_has(&r, "postMessage"));
    CHECK(http_header(&r, "Content-Type", v, sizeof v) && strncmp(v, "text/javascript", 15) == 0);
    CHECK(http_header(&r, "ETag", etag, sizeof etag));
    http_free(&r);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *headers[] = { inm, NULL };
    r = http_get(e->port, "/static/app.js", headers);
    CHECK(r.status == 304 && r.body_len == 0);
    http_free(&r);
    r = http_get(e->port, "/static/app.css", NULL);
    CHECK(r.status == 200 && http_header(&r, "Content-Type", v, sizeof v) && strncmp(v, "text/css", 8) == 0);
    http_free(&r);
    r = http_get(e->port, "/static/nope.js", NULL);
    CHECK(r.status == 404);
    http_free(&r);
}

static const test_case_t cases[] = {
    { "home", t_home },         { "login", t_login },
    { "callback", t_callback }, { "test_page", t_test_page },
    { "api", t_api },           { "error_codes", t_error_codes },
    { "logout", t_logout },     { "dead_service", t_dead_service },
    { "parallel", t_parallel }, { "hostile_requests", t_hostile_requests },
    { "static", t_static },
};

int main(int argc, char **argv)
{
    return GWENV_MAIN("server_test", argc, argv, cases);
}
