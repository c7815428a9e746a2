//  mockrc_state_test: the mock's OAuth rules at the state level: codes bound to
//  client, redirect URI and PKCE, single use with replay revocation, refresh
//  rotation and grace, revoke, expire-all, revoke-all, the Auth limit, reset.
#include "common/rand.h"
#include "tests/mockrc/state.h"
#include "tests/testlib.h"

#include <stdio.h>
#include <string.h>

#define URI1 "http://127.0.0.1:5000/oauth2callback"
#define URI2 "http://localhost:6000/cb"

static state_t *s_state(state_config_t *cfg_out)
{
    CHECK(rand_init() == 0);
    state_client_t clients[2];
    CHECK(state_client_parse("app1:secret1:" URI1, &clients[0]) == 0);
    CHECK(state_client_parse("app2:secret2:" URI2, &clients[1]) == 0);
    state_config_t cfg;
    state_config_defaults(&cfg);
    state_t *st = state_new(clients, 2, &cfg);
    CHECK(st != NULL);
    state_set_base_url(st, "http://127.0.0.1:1");
    if (cfg_out)
        *cfg_out = cfg;
    return st;
}

typedef struct {
    char code[RAND_ID_SIZE];
    char verifier[RAND_ID_SIZE];
} grant_req_t;

//  Approve a login for client: a code and the verifier that goes with it.
static grant_req_t s_code(state_t *st, int client)
{
    grant_req_t g;
    state_authz_t req;
    memset(&req, 0, sizeof req);
    req.client = client;
    snprintf(req.redirect_uri, sizeof req.redirect_uri, "%s", state_client(st, client)->redirect_uri);
    CHECK(rand_id(g.verifier, sizeof g.verifier) == 0);
    CHECK(rand_pkce_challenge(g.verifier, req.challenge, sizeof req.challenge) == 0);
    CHECK(state_code_issue(st, &req, g.code) == 0);
    return g;
}

static state_tokens_t s_login(state_t *st, int client)
{
    grant_req_t g = s_code(st, client);
    state_tokens_t t;
    CHECK(state_exchange(st, client, g.code, state_client(st, client)->redirect_uri, g.verifier, &t) == STATE_OK);
    return t;
}

static state_result_t s_api(state_t *st, const char *access)
{
    user_t *u = NULL;
    state_result_t r = state_api_user(st, access, &u);
    CHECK((r == STATE_OK) == (u != NULL));
    user_unref(&u);
    return r;
}

static void t_client_parse(void)
{
    state_client_t c;
    CHECK(state_client_parse("id:sec:http://h:80/a:b", &c) == 0);
    CHECK(strcmp(c.id, "id") == 0 && strcmp(c.secret, "sec") == 0 && strcmp(c.redirect_uri, "http://h:80/a:b") == 0);
    CHECK(state_client_parse("id:sec", &c) == -1);
    CHECK(state_client_parse(":sec:http://h", &c) == -1);
    CHECK(state_client_parse("id::http://h", &c) == -1);
    CHECK(state_client_parse("id:sec:", &c) == -1);
    CHECK(state_client_parse(NULL, &c) == -1);
    char long_id[300];
    memset(long_id, 'x', sizeof long_id);
    memcpy(long_id + 200, ":s:http://h", 12);
    CHECK(state_client_parse(long_id, &c) == -1);
}

static void t_client_auth(void)
{
    state_t *st = s_state(NULL);
    CHECK(state_client_auth(st, "app1", "secret1") == 0);
    CHECK(state_client_auth(st, "app2", "secret2") == 1);
    CHECK(state_client_auth(st, "app1", "secret2") == -1);
    CHECK(state_client_auth(st, "app1", "secret11") == -1);
    CHECK(state_client_auth(st, "app1", "") == -1);
    CHECK(state_client_auth(st, "nobody", "secret1") == -1);
    CHECK(state_client_find(st, "app2") == 1);
    CHECK(state_client(st, 5) == NULL);
    state_destroy(&st);
    CHECK(st == NULL);
}

static void t_code_rules(void)
{
    state_t *st = s_state(NULL);
    state_tokens_t t;
    grant_req_t g = s_code(st, 0);
    char other[RAND_ID_SIZE];
    CHECK(rand_id(other, sizeof other) == 0);
    CHECK(state_exchange(st, 0, "nope", URI1, g.verifier, &t) == STATE_NOT_FOUND);
    CHECK(state_exchange(st, 1, g.code, URI1, g.verifier, &t) == STATE_WRONG_CLIENT);
    CHECK(state_exchange(st, 0, g.code, URI2, g.verifier, &t) == STATE_REDIRECT_MISMATCH);
    CHECK(state_exchange(st, 0, g.code, NULL, g.verifier, &t) == STATE_REDIRECT_MISMATCH);
    CHECK(state_exchange(st, 0, g.code, URI1, other, &t) == STATE_BAD_VERIFIER);
    CHECK(state_exchange(st, 0, g.code, URI1, NULL, &t) == STATE_BAD_VERIFIER);
    CHECK(state_exchange(st, 0, g.code, URI1, "short", &t) == STATE_BAD_VERIFIER);
    CHECK(state_exchange(st, 0, g.code, URI1, g.verifier, &t) == STATE_OK);  //  failures did not use it
    CHECK(strcmp(t.owner_id, "100001") == 0);
    CHECK(t.expires_in == 3600 && t.refresh_expires_in == 604800);
    CHECK(strlen(t.access) == RAND_ID_SIZE - 1 && strcmp(t.access, t.refresh) != 0);
    CHECK(t.rate_remaining == -1);
    CHECK(s_api(st, t.access) == STATE_OK);
    state_destroy(&st);
}

static void t_code_expires(void)
{
    state_config_t cfg;
    state_t *st = s_state(&cfg);
    cfg.code_ttl = 0;
    state_config_set(st, &cfg);
    grant_req_t g = s_code(st, 0);
    state_tokens_t t;
    CHECK(state_exchange(st, 0, g.code, URI1, g.verifier, &t) == STATE_EXPIRED);
    state_destroy(&st);
}

static void t_code_replay_revokes(void)
{
    state_t *st = s_state(NULL);
    grant_req_t g = s_code(st, 0);
    state_tokens_t t, again;
    CHECK(state_exchange(st, 0, g.code, URI1, g.verifier, &t) == STATE_OK);
    CHECK(state_exchange(st, 0, g.code, URI1, g.verifier, &again) == STATE_USED);
    CHECK(s_api(st, t.access) == STATE_NOT_FOUND);
    CHECK(state_refresh(st, 0, t.refresh, &again) == STATE_REVOKED);
    state_destroy(&st);
}

static void t_refresh_rotation(void)
{
    state_t *st = s_state(NULL);
    state_tokens_t t1 = s_login(st, 0), t2, t3;
    CHECK(state_refresh(st, 1, t1.refresh, &t2) == STATE_WRONG_CLIENT);
    CHECK(state_refresh(st, 0, t1.access, &t2) == STATE_NOT_FOUND);
    CHECK(state_refresh(st, 0, "unknown", &t2) == STATE_NOT_FOUND);
    CHECK(state_refresh(st, 0, t1.refresh, &t2) == STATE_OK);
    CHECK(!t2.grace);
    CHECK(strcmp(t2.owner_id, t1.owner_id) == 0 && strcmp(t2.endpoint_id, t1.endpoint_id) == 0);
    CHECK(s_api(st, t1.access) == STATE_NOT_FOUND);  //  old access: dead at once
    CHECK(s_api(st, t2.access) == STATE_OK);
    CHECK(state_refresh(st, 0, t1.refresh, &t3) == STATE_ROTATED);
    CHECK(state_refresh(st, 0, t2.refresh, &t3) == STATE_OK);
    state_destroy(&st);
}

static void t_refresh_grace(void)
{
    state_config_t cfg;
    state_t *st = s_state(&cfg);
    cfg.refresh_grace_ms = 60000;
    state_config_set(st, &cfg);
    state_tokens_t t1 = s_login(st, 0), t2, t3;
    CHECK(state_refresh(st, 0, t1.refresh, &t2) == STATE_OK);
    CHECK(state_refresh(st, 0, t1.refresh, &t3) == STATE_OK);  //  within the grace window
    CHECK(t3.grace);
    CHECK(s_api(st, t2.access) == STATE_NOT_FOUND);  //  the newest pair is the current one
    CHECK(s_api(st, t3.access) == STATE_OK);
    state_destroy(&st);
}

static void t_refresh_expired(void)
{
    state_config_t cfg;
    state_t *st = s_state(&cfg);
    cfg.refresh_ttl = 0;
    cfg.access_ttl = 0;
    state_config_set(st, &cfg);
    state_tokens_t t = s_login(st, 0), t2;
    CHECK(s_api(st, t.access) == STATE_EXPIRED);
    CHECK(state_refresh(st, 0, t.refresh, &t2) == STATE_EXPIRED);
    state_destroy(&st);
}

static void t_revoke(void)
{
    state_t *st = s_state(NULL);
    state_tokens_t a = s_login(st, 0), b = s_login(st, 0), out;
    CHECK(strcmp(a.owner_id, b.owner_id) != 0);  //  each login is a new user
    CHECK(state_revoke(st, 1, a.access, &out) == STATE_WRONG_CLIENT);
    CHECK(state_revoke(st, 0, "unknown", &out) == STATE_NOT_FOUND);
    CHECK(state_revoke(st, 0, a.refresh, &out) == STATE_OK);
    CHECK(state_revoke(st, 0, a.access, &out) == STATE_NOT_FOUND);  //  already ended
    CHECK(s_api(st, a.access) == STATE_NOT_FOUND);
    CHECK(state_refresh(st, 0, a.refresh, &out) == STATE_REVOKED);
    CHECK(s_api(st, b.access) == STATE_OK);  //  another login is untouched
    state_destroy(&st);
}

static void t_expire_and_revoke_all(void)
{
    state_t *st = s_state(NULL);
    state_tokens_t a = s_login(st, 0), b = s_login(st, 1), out;
    state_expire_all(st);
    CHECK(s_api(st, a.access) == STATE_EXPIRED);
    CHECK(s_api(st, b.access) == STATE_EXPIRED);
    CHECK(state_refresh(st, 0, a.refresh, &out) == STATE_OK);
    CHECK(s_api(st, out.access) == STATE_OK);
    state_revoke_all(st);
    CHECK(s_api(st, out.access) == STATE_NOT_FOUND);
    CHECK(state_refresh(st, 1, b.refresh, &out) == STATE_REVOKED);
    state_destroy(&st);
}

static void t_auth_limit(void)
{
    state_config_t cfg;
    state_t *st = s_state(&cfg);
    cfg.auth_limit = true;
    state_config_set(st, &cfg);
    grant_req_t g = s_code(st, 0);
    state_tokens_t t;
    for (int i = 0; i < 5; i++) {
        CHECK(state_exchange(st, 0, g.code, URI1, "wrong-verifier-wrong-verifier-wrong-verifier", &t)
              == STATE_BAD_VERIFIER);
        CHECK(t.rate_remaining == 4 - i);
    }
    CHECK(state_exchange(st, 0, g.code, URI1, g.verifier, &t) == STATE_RATE_LIMITED);
    CHECK(t.rate_window_s == 60);
    state_tokens_t other = s_login(st, 0);  //  another user: its own budget
    CHECK(other.rate_remaining == 4);
    state_destroy(&st);
}

static void t_pending(void)
{
    state_t *st = s_state(NULL);
    state_authz_t req, out;
    memset(&req, 0, sizeof req);
    req.client = 1;
    snprintf(req.state, sizeof req.state, "abc");
    req.has_state = true;
    char id[RAND_ID_SIZE];
    CHECK(state_pending_add(st, &req, id) == 0);
    CHECK(state_pending_take(st, id, &out) == 0);
    CHECK(out.client == 1 && strcmp(out.state, "abc") == 0);
    CHECK(state_pending_take(st, id, &out) == -1);  //  once
    CHECK(state_pending_take(st, "unknown", &out) == -1);
    state_destroy(&st);
}

static void t_tokens_json_and_reset(void)
{
    state_t *st = s_state(NULL);
    state_tokens_t t = s_login(st, 0), t2;
    s_code(st, 0);
    CHECK(state_refresh(st, 0, t.refresh, &t2) == STATE_OK);
    json_t *live = state_tokens_json(st, false);
    json_t *all = state_tokens_json(st, true);
    CHECK(json_array_size(json_object_get(live, "access")) == 1);
    CHECK(json_array_size(json_object_get(live, "refresh")) == 1);
    CHECK(json_array_size(json_object_get(live, "codes")) == 1);
    CHECK(strcmp(json_string_value(json_array_get(json_object_get(live, "access"), 0)), t2.access) == 0);
    CHECK(json_array_size(json_object_get(all, "access")) == 2);
    CHECK(json_array_size(json_object_get(all, "codes")) == 2);
    json_decref(live);
    json_decref(all);
    counters_add(state_counters(st), CTR_REVOKE_OK);
    state_reset(st);
    CHECK(counters_get(state_counters(st), CTR_REVOKE_OK) == 0);
    CHECK(s_api(st, t2.access) == STATE_NOT_FOUND);
    all = state_tokens_json(st, true);
    CHECK(json_array_size(json_object_get(all, "access")) == 0);
    json_decref(all);
    state_tokens_t again = s_login(st, 0);
    CHECK(strcmp(again.owner_id, "100001") == 0);  //  numbering starts again
    state_destroy(&st);
}

static void t_sleep_stops(void)
{
    state_t *st = s_state(NULL);
    int64_t t0 = state_now_ms();
    state_sleep_ms(st, 30);
    CHECK(state_now_ms() - t0 >= 30);
    state_stop(st);
    t0 = state_now_ms();
    state_sleep_ms(st, 10000);  //  returns at once after stop
    CHECK(state_now_ms() - t0 < 1000);
    state_destroy(&st);
}

//  state_save / state_load: live logins survive (access and refresh), revoked and rotated ones do not,
//  the users' numbering goes on; a missing file is no state, a corrupt or hostile one leaves the state empty.
static void t_save_load(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/mock.state", test_tmpdir());
    state_t *st = s_state(NULL);
    uint64_t c0 = state_changes(st);
    state_tokens_t a = s_login(st, 0), b = s_login(st, 1), gone = s_login(st, 0), old = a, t;
    CHECK(state_refresh(st, 0, old.refresh, &a) == STATE_OK);
    CHECK(state_revoke(st, 0, gone.access, &t) == STATE_OK);
    CHECK(state_changes(st) > c0);
    CHECK(state_save(st, path) == 0);
    state_destroy(&st);
    //  No token in the file: their hashes only (as a real server keeps them).
    char saved[8192] = "";
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    size_t got = f ? fread(saved, 1, sizeof saved - 1, f) : 0;
    if (f)
        fclose(f);
    CHECK(got > 0 && strstr(saved, "refresh_sha256") != NULL);
    CHECK(!strstr(saved, a.access) && !strstr(saved, a.refresh) && !strstr(saved, b.access)
          && !strstr(saved, b.refresh));

    st = s_state(NULL);
    char why[160];
    CHECK(state_load(st, path, why, sizeof why) == 2);
    CHECK(s_api(st, a.access) == STATE_OK && s_api(st, b.access) == STATE_OK);
    CHECK(s_api(st, gone.access) == STATE_NOT_FOUND && s_api(st, old.access) == STATE_NOT_FOUND);
    CHECK(state_refresh(st, 0, old.refresh, &t) == STATE_NOT_FOUND);
    CHECK(state_refresh(st, 0, a.refresh, &t) == STATE_OK);
    CHECK(state_refresh(st, 1, b.refresh, &t) == STATE_OK && strcmp(t.owner_id, b.owner_id) == 0);
    state_tokens_t next = s_login(st, 0);
    CHECK(strcmp(next.owner_id, "100004") == 0);         //  user 4: the numbering went on
    CHECK(state_load(st, path, why, sizeof why) == -1);  //  only into an empty state
    state_destroy(&st);

    const char *bad[] = {
        "garbage{",
        "[]",
        "{\"format\":\"mockrc-state\",\"version\":3,\"users\":1,\"grants\":[]}",
        "{\"format\":\"mockrc-state\",\"version\":1,\"users\":-1,\"grants\":[]}",
        "{\"format\":\"mockrc-state\",\"version\":1,\"users\":1,\"grants\":[{\"client\":\"app1\",\"user\":2,"
        "\"endpoint\":\"e\",\"refresh\":\"r1\",\"refresh_expires\":4000000000000}]}",
        "{\"format\":\"mockrc-state\",\"version\":1,\"users\":1,\"grants\":[{\"client\":\"app1\",\"user\":1,"
        "\"endpoint\":\"e\",\"refresh\":\"r 1\",\"refresh_expires\":4000000000000}]}",
        "{\"format\":\"mockrc-state\",\"version\":1,\"users\":1,\"grants\":[{\"client\":\"app1\",\"user\":1,"
        "\"endpoint\":\"e\",\"refresh\":\"r1\",\"refresh_expires\":-9223372036854775807}]}",
        "{\"format\":\"mockrc-state\",\"version\":1,\"users\":1,\"grants\":[{\"client\":\"app1\",\"user\":1,"
        "\"endpoint\":\"e\",\"refresh\":\"r1\",\"refresh_expires\":4000000000000},{\"client\":\"app1\",\"user\":1,"
        "\"endpoint\":\"e\",\"refresh\":\"r1\",\"refresh_expires\":4000000000000}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        test_write_file(path, bad[i]);
        st = s_state(NULL);
        CHECK(state_load(st, path, why, sizeof why) == -1);
        CHECK(strcmp(s_login(st, 0).owner_id, "100001") == 0);  //  empty: user 1 again
        state_destroy(&st);
    }
    //  An unknown app's login, or one run out, is skipped; the rest is taken in.
    test_write_file(
        path,
        "{\"format\":\"mockrc-state\",\"version\":1,\"users\":2,\"grants\":[{\"client\":\"nope\",\"user\":1,"
        "\"endpoint\":\"e\",\"refresh\":\"r1\",\"refresh_expires\":4000000000000},{\"client\":\"app1\",\"user\":2,"
        "\"endpoint\":\"e\",\"refresh\":\"r2\",\"refresh_expires\":1},{\"client\":\"app2\",\"user\":2,"
        "\"endpoint\":\"e\",\"refresh\":\"r3\",\"refresh_expires\":4000000000000}]}");
    st = s_state(NULL);
    CHECK(state_load(st, path, why, sizeof why) == 1);
    CHECK(state_refresh(st, 1, "r3", &t) == STATE_OK && strcmp(t.owner_id, "100002") == 0);
    state_destroy(&st);
    remove(path);
    st = s_state(NULL);
    CHECK(state_load(st, path, why, sizeof why) == 0);  //  no file: nothing to take in
    state_destroy(&st);
}

static const test_case_t cases[] = {
    { "save_load", t_save_load },
    { "client_parse", t_client_parse },
    { "client_auth", t_client_auth },
    { "code_rules", t_code_rules },
    { "code_expires", t_code_expires },
    { "code_replay_revokes", t_code_replay_revokes },
    { "refresh_rotation", t_refresh_rotation },
    { "refresh_grace", t_refresh_grace },
    { "refresh_expired", t_refresh_expired },
    { "revoke", t_revoke },
    { "expire_and_revoke_all", t_expire_and_revoke_all },
    { "auth_limit", t_auth_limit },
    { "pending", t_pending },
    { "tokens_json_and_reset", t_tokens_json_and_reset },
    { "sleep_stops", t_sleep_stops },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
