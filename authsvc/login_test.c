//  login_test: AUTH_URL, EXCHANGE and LOGOUT through authsvc's handlers, against a scripted token endpoint
//  (tests/support/authsvc_testutil.h): the authorize URL and its PKCE pair, the code exchange as sent, the session
//  id rotated at login, a login over an earlier one revoking it, the state single use and bound to its session,
//  each answer of the token endpoint turned into the error the gateway shows, and LOGOUT's revoke and delete.
#include "tests/support/authsvc_testutil.h"

//  The value of query parameter key in url, into out ("" when absent).
static void s_param(const char *url, const char *key, char *out, size_t size)
{
    char pat[64];
    snprintf(pat, sizeof pat, "%c%s=", '&', key);
    const char *p = strstr(url, pat);
    if (!p) {
        pat[0] = '?';
        p = strstr(url, pat);
    }
    out[0] = '\0';
    if (p) {
        p += strlen(pat);
        size_t n = strcspn(p, "&");
        snprintf(out, size, "%.*s", (int) (n < size ? n : size - 1), p);
    }
}

//  AUTH_URL for sid in env: the authorize URL's state and code_challenge into state and challenge.
static void s_auth_url(at_t *t, uint64_t rid, const char *sid, const char *env, char *state, char *challenge)
{
    proto_msg_t *req = proto_msg_new(PROTO_AUTH_URL, rid);
    CHECK(req && proto_msg_set_str(req, "sid", sid) == 0 && proto_msg_set_str(req, "env", env) == 0);
    at_handle(t, req);
    proto_msg_t *msg = at_reply(t);
    const char *url = msg && proto_msg_type(msg) == PROTO_AUTH_URL_OK ? at_str(msg, "url") : "";
    CHECK(strncmp(url, AT_SERVER "/restapi/oauth/authorize?", strlen(AT_SERVER "/restapi/oauth/authorize?")) == 0);
    char v[256];
    s_param(url, "response_type", v, sizeof v);
    CHECK(strcmp(v, "code") == 0);
    s_param(url, "client_id", v, sizeof v);
    CHECK(strcmp(v, AT_CLIENT_ID) == 0);
    s_param(url, "code_challenge_method", v, sizeof v);
    CHECK(strcmp(v, "S256") == 0);
    s_param(url, "state", state, RAND_ID_SIZE);
    s_param(url, "code_challenge", challenge, RAND_ID_SIZE + 4);
    CHECK(rand_id_is_valid(state) && strlen(challenge) == 43);
    proto_msg_destroy(&msg);
}

static void s_exchange(at_t *t, uint64_t rid, const char *sid, const char *code, const char *state)
{
    proto_msg_t *req = proto_msg_new(PROTO_EXCHANGE, rid);
    CHECK(req && proto_msg_set_str(req, "sid", sid) == 0 && proto_msg_set_str(req, "code", code) == 0
          && proto_msg_set_str(req, "state", state) == 0);
    at_handle(t, req);
}

//  A login: the authorize URL, the code exchange as sent (its verifier matching the URL's challenge), the new
//  session id with its record; the state is used up.
static void t_exchange(void)
{
    at_t t;
    at_start(&t);
    char sid[RAND_ID_SIZE], state[RAND_ID_SIZE], challenge[RAND_ID_SIZE + 4];
    CHECK(rand_id(sid, sizeof sid) == 0);
    s_auth_url(&t, 1, sid, "sandbox", state, challenge);
    s_exchange(&t, 2, sid, "the-code", state);
    CHECK(http_script_count() == 1 && at_quiet(&t));
    const http_script_call_t *c = http_script_call(0);
    char verifier[256], want[RAND_ID_SIZE + 4];
    s_param(c ? c->form : "", "code_verifier", verifier, sizeof verifier);
    CHECK(c && strcmp(c->url, AT_SERVER "/restapi/oauth/token") == 0 && strcmp(c->method, "POST") == 0
          && strstr(c->form, "grant_type=authorization_code") && strstr(c->form, "code=the-code")
          && strstr(c->form, "redirect_uri=http%3A%2F%2Flocalhost%3A5000%2Foauth2callback")
          && strcmp(c->basic_user, AT_CLIENT_ID) == 0 && strcmp(c->basic_pass, AT_CLIENT_SECRET) == 0
          && c->timeout_ms == 0);
    CHECK(rand_pkce_challenge(verifier, want, sizeof want) == 0 && strcmp(want, challenge) == 0);
    clock_fake_advance(400);
    CHECK(http_script_reply(0, 200, -1, at_tokens(1)) == 0);
    proto_msg_t *msg = at_reply(&t);
    const char *new_sid =
        msg && proto_msg_type(msg) == PROTO_EXCHANGE_OK && proto_msg_rid(msg) == 2 ? at_str(msg, "new_sid") : "";
    CHECK(rand_id_is_valid(new_sid) && strcmp(new_sid, sid) != 0);
    CHECK(strcmp(at_str(msg, "env"), "sandbox") == 0 && strcmp(at_str(msg, "owner_id"), "owner-1") == 0);
    store_session_t rec;
    CHECK(at_record(&t, new_sid, &rec) == 0 && rec.version == 1 && strcmp(rec.env, "sandbox") == 0
          && strcmp(rec.refresh_token, "refresh-1") == 0 && strcmp(rec.prev_sid, sid) == 0
          && rec.expires_at == NOW + 400 + 3600 * 1000);
    proto_msg_destroy(&msg);
    //  The state was single use.
    s_exchange(&t, 3, sid, "the-code", state);
    at_expect_code(&t, 3, PROTO_STATE_MISMATCH);
    CHECK(http_script_count() == 1);
    at_stop(&t);
}

//  A state is its session's: another session's EXCHANGE is refused and leaves it for its owner.
static void t_state_bound(void)
{
    at_t t;
    at_start(&t);
    char sid[RAND_ID_SIZE], other[RAND_ID_SIZE], state[RAND_ID_SIZE], challenge[RAND_ID_SIZE + 4];
    CHECK(rand_id(sid, sizeof sid) == 0 && rand_id(other, sizeof other) == 0);
    s_auth_url(&t, 1, sid, "production", state, challenge);
    s_exchange(&t, 2, other, "the-code", state);
    at_expect_code(&t, 2, PROTO_STATE_MISMATCH);
    s_exchange(&t, 3, sid, "the-code", "not-a-state");
    at_expect_code(&t, 3, PROTO_STATE_MISMATCH);
    CHECK(http_script_count() == 0);
    s_exchange(&t, 4, sid, "the-code", state);
    CHECK(http_script_count() == 1);
    at_stop(&t);
}

//  Logging in again over a session: its earlier tokens are revoked, its old id is gone.
static void t_relogin_revokes(void)
{
    at_t t;
    at_start(&t);
    char sid[RAND_ID_SIZE], state[RAND_ID_SIZE], challenge[RAND_ID_SIZE + 4];
    at_login(&t, sid, 5, NOW + HOUR);
    s_auth_url(&t, 1, sid, "sandbox", state, challenge);
    s_exchange(&t, 2, sid, "the-code", state);
    CHECK(http_script_reply(0, 200, -1, at_tokens(6)) == 0);
    proto_msg_t *msg = at_reply(&t);
    CHECK(msg && proto_msg_type(msg) == PROTO_EXCHANGE_OK);
    proto_msg_destroy(&msg);
    const http_script_call_t *revoke = http_script_call(1);
    CHECK(http_script_count() == 2 && revoke && strcmp(revoke->url, AT_SERVER "/restapi/oauth/revoke") == 0
          && strstr(revoke->form, "token=refresh-5"));
    store_session_t rec;
    CHECK(at_record(&t, sid, &rec) == STORE_ENOTFOUND);
    CHECK(http_script_fail(1, HTTP_ENETWORK) == 0);  //  a failed revoke is logged, nothing else
    CHECK(at_quiet(&t));
    at_stop(&t);
}

//  LOGOUT revokes the refresh token, then deletes the record whatever RingCentral answered (revoked says which);
//  a session that is not there is logged out all the same, without a call.
static void t_logout(void)
{
    at_t t;
    at_start(&t);
    char sid[RAND_ID_SIZE], sid2[RAND_ID_SIZE], gone[RAND_ID_SIZE];
    at_login(&t, sid, 1, NOW + HOUR);
    at_login(&t, sid2, 2, NOW + HOUR);
    CHECK(rand_id(gone, sizeof gone) == 0);
    for (int i = 0; i < 2; i++) {
        at_send(&t, PROTO_LOGOUT, (uint64_t) i + 1, i ? sid2 : sid, -1);
        const http_script_call_t *c = http_script_call((size_t) i);
        CHECK(c && strcmp(c->url, AT_SERVER "/restapi/oauth/revoke") == 0
              && strstr(c->form, i ? "token=refresh-2" : "token=refresh-1")
              && strcmp(c->basic_user, AT_CLIENT_ID) == 0);
        CHECK((i ? http_script_fail(1, HTTP_ENETWORK) : http_script_reply(0, 200, -1, NULL)) == 0);
        CHECK(at_quiet(&t));  //  the delete runs after the turn's group commit
        at_turn(&t);
        proto_msg_t *msg = at_reply(&t);
        CHECK(msg && proto_msg_type(msg) == PROTO_LOGOUT_OK && proto_msg_rid(msg) == (uint64_t) i + 1
              && proto_msg_bool(msg, "revoked", i == 1) == (i == 0));
        proto_msg_destroy(&msg);
    }
    CHECK(store_session_count(t.a.store) == 0);
    at_send(&t, PROTO_LOGOUT, 3, gone, -1);
    at_turn(&t);
    proto_msg_t *msg = at_reply(&t);
    CHECK(msg && proto_msg_type(msg) == PROTO_LOGOUT_OK && !proto_msg_bool(msg, "revoked", true));
    proto_msg_destroy(&msg);
    CHECK(http_script_count() == 2);
    at_stop(&t);
}

//  Each answer of the token endpoint at the code exchange, and the ERROR the gateway gets (with the environment and
//  RingCentral's words); no session is made.
static void t_errors(void)
{
    static const struct {
        const char *what;
        http_error_t error;
        long status, retry_after;
        const char *body;
        proto_code_t code;
        long want_retry;
        const char *upstream_code;
    } rows[] = {
        { "400 invalid_grant", HTTP_OK, 400, -1, "{\"error\":\"invalid_grant\",\"error_description\":\"Code expired\"}",
          PROTO_UPSTREAM_REJECTED, -1, "invalid_grant" },
        { "401 invalid_client", HTTP_OK, 401, -1, "{\"error\":\"invalid_client\"}", PROTO_APP_REJECTED, -1,
          "invalid_client" },
        { "401 without a body", HTTP_OK, 401, -1, "", PROTO_APP_REJECTED, -1, "" },
        { "400 unauthorized_client", HTTP_OK, 400, -1, "{\"error\":\"unauthorized_client\"}", PROTO_APP_REJECTED, -1,
          "unauthorized_client" },
        { "429 Retry-After 9", HTTP_OK, 429, 9, "", PROTO_RATE_LIMITED, 9, "" },
        { "429", HTTP_OK, 429, -1, "", PROTO_RATE_LIMITED, 60, "" },
        { "502", HTTP_OK, 502, -1, "", PROTO_UPSTREAM_ERROR, -1, "" },
        { "200 without tokens", HTTP_OK, 200, -1, "{}", PROTO_UPSTREAM_ERROR, -1, "" },
        { "network error", HTTP_ENETWORK, 0, -1, NULL, PROTO_UPSTREAM_UNREACHABLE, -1, "" },
        { "timeout", HTTP_ETIMEOUT, 0, -1, NULL, PROTO_UPSTREAM_TIMEOUT, -1, "" },
    };
    at_t t;
    at_start(&t);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char sid[RAND_ID_SIZE], state[RAND_ID_SIZE], challenge[RAND_ID_SIZE + 4];
        CHECK(rand_id(sid, sizeof sid) == 0);
        s_auth_url(&t, 1, sid, "sandbox", state, challenge);
        s_exchange(&t, 2, sid, "the-code", state);
        CHECK((rows[i].error == HTTP_OK ? http_script_reply(i, rows[i].status, rows[i].retry_after, rows[i].body)
                                        : http_script_fail(i, rows[i].error))
              == 0);
        proto_msg_t *msg = at_expect_error(&t, 2, rows[i].code);
        long status = rows[i].error == HTTP_OK ? rows[i].status : 0;
        bool ok = msg && proto_msg_int(msg, "retry_after", -1) == rows[i].want_retry
            && proto_msg_int(msg, "upstream_status", 0) == status && strcmp(at_str(msg, "env"), "sandbox") == 0
            && strcmp(at_str(msg, "upstream_code"), rows[i].upstream_code) == 0;
        if (!CHECK(ok))
            fprintf(stderr, "#   row \"%s\"\n", rows[i].what);
        proto_msg_destroy(&msg);
    }
    CHECK(store_session_count(t.a.store) == 0);
    at_stop(&t);
}

static const test_case_t cases[] = {
    { "exchange", t_exchange }, { "state_bound", t_state_bound }, { "relogin_revokes", t_relogin_revokes },
    { "logout", t_logout },     { "errors", t_errors },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
