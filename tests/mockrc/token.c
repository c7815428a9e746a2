//  token: see token.h.
#include "tests/mockrc/token.h"

#include "common/log.h"
#include "tests/mockrc/rc.h"
#include "tests/mockrc/web.h"

#include <stdio.h>
#include <string.h>

#define FORM_MAX 8192
#define VALUE_MAX 1024

//  How each refusal is worded (the errorCode values are the mock's own; the shape is RingCentral's).
static const struct {
    const char *code;
    const char *description;
} s_refusals[] = {
    [STATE_NOT_FOUND] = { "OAU-213", "Token not found" },
    [STATE_USED] = { "OAU-211", "Authorization code has already been used; its tokens are revoked" },
    [STATE_EXPIRED] = { "OAU-212", "Token expired" },
    [STATE_WRONG_CLIENT] = { "OAU-219", "Token was issued to another client" },
    [STATE_REDIRECT_MISMATCH] = { "OAU-215", "redirect_uri does not match the authorization request" },
    [STATE_BAD_VERIFIER] = { "OAU-216", "Invalid code_verifier" },
    [STATE_REVOKED] = { "OAU-211", "Token is revoked" },
    [STATE_ROTATED] = { "OAU-211", "Token is revoked (refresh token already used)" },
};

//  The authenticated client's index, or -1 after answering 401 invalid_client.
static int s_client(struct mg_connection *c, state_t *st, counter_id_t bad_counter)
{
    char id[STATE_CLIENT_ID_MAX], secret[STATE_CLIENT_ID_MAX];
    int have = web_basic_auth(c, id, sizeof id, secret, sizeof secret) == 0;
    int client = have ? state_client_auth(st, id, secret) : -1;
    if (client >= 0)
        return client;
    counters_add(state_counters(st), bad_counter);
    log_debug("token.bad_client", "reason=%s", have ? "wrong_credentials" : "no_basic_auth");
    static const char *const headers[] = { "WWW-Authenticate", "Basic realm=\"RingCentral\"", NULL };
    rc_oauth_error(c, 401, "invalid_client", have ? "OAU-153" : "OAU-123",
                   have ? "Invalid client credentials" : "Client authentication is required", headers);
    return -1;
}

//  X-Rate-Limit-* headers of the Auth group when the limit applied to this request.
static const char *const *s_rate_headers(const state_tokens_t *t, char *remaining, char *window, const char **out)
{
    if (t->rate_remaining < 0)
        return NULL;
    snprintf(remaining, 16, "%d", t->rate_remaining);
    snprintf(window, 16, "%ld", t->rate_window_s);
    const char *h[] = { "X-Rate-Limit-Group",
                        "Auth",
                        "X-Rate-Limit-Limit",
                        "5",
                        "X-Rate-Limit-Remaining",
                        remaining,
                        "X-Rate-Limit-Window",
                        window,
                        NULL };
    memcpy(out, h, sizeof h);
    return out;
}

//  429 of the Auth group: Retry-After is the whole window, as the penalty restarts now.
static int s_rate_limited(struct mg_connection *c, state_t *st, const state_tokens_t *t)
{
    counters_add(state_counters(st), CTR_TOKEN_RATE_LIMITED);
    return rc_rate_limited(c, "Auth", STATE_AUTH_LIMIT, t->rate_window_s, t->rate_window_s);
}

static int s_refused(struct mg_connection *c, state_t *st, state_result_t r, const state_tokens_t *t,
                     counter_id_t rejected)
{
    if (r == STATE_RATE_LIMITED)
        return s_rate_limited(c, st, t);
    counters_add(state_counters(st), rejected);
    char remaining[16], window[16];
    const char *headers[9];
    return rc_oauth_error(c, 400, "invalid_grant", s_refusals[r].code, s_refusals[r].description,
                          s_rate_headers(t, remaining, window, headers));
}

static int s_issued(struct mg_connection *c, const state_tokens_t *t)
{
    json_t *body = json_pack("{s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:s}", "access_token", t->access, "token_type",
                             "bearer", "expires_in", (json_int_t) t->expires_in, "refresh_token", t->refresh,
                             "refresh_token_expires_in", (json_int_t) t->refresh_expires_in, "scope",
                             "ReadAccounts ReadCallLog", "owner_id", t->owner_id, "endpoint_id", t->endpoint_id);
    char remaining[16], window[16];
    const char *headers[9];
    return web_json(c, 200, body, s_rate_headers(t, remaining, window, headers));
}

static int s_bad_request(struct mg_connection *c, state_t *st, counter_id_t counter, const char *error, const char *why)
{
    counters_add(state_counters(st), counter);
    return rc_oauth_error(c, 400, error, "OAU-101", why, NULL);
}

static int s_code_grant(struct mg_connection *c, state_t *st, int client, const char *body, size_t len)
{
    char code[VALUE_MAX], redirect_uri[STATE_URI_MAX], verifier[STATE_CHALLENGE_MAX];
    int has_code = web_form_get(body, len, "code", code, sizeof code) >= 0;
    int has_redirect = web_form_get(body, len, "redirect_uri", redirect_uri, sizeof redirect_uri) >= 0;
    int has_verifier = web_form_get(body, len, "code_verifier", verifier, sizeof verifier) >= 0;
    state_tokens_t t;
    state_result_t r = state_exchange(st, client, has_code ? code : NULL, has_redirect ? redirect_uri : NULL,
                                      has_verifier ? verifier : NULL, &t);
    log_debug("token.code", "result=%d", (int) r);
    if (r == STATE_USED)
        counters_add(state_counters(st), CTR_TOKEN_CODE_REPLAYED);
    if (r != STATE_OK)
        return s_refused(c, st, r, &t, CTR_TOKEN_CODE_REJECTED);
    counters_add(state_counters(st), CTR_TOKEN_CODE_OK);
    return s_issued(c, &t);
}

static int s_refresh_grant(struct mg_connection *c, state_t *st, int client, const char *body, size_t len)
{
    char refresh[VALUE_MAX];
    int has = web_form_get(body, len, "refresh_token", refresh, sizeof refresh) >= 0;
    state_tokens_t t;
    state_result_t r = state_refresh(st, client, has ? refresh : NULL, &t);
    log_debug("token.refresh", "result=%d", (int) r);
    if (r == STATE_ROTATED)
        counters_add(state_counters(st), CTR_TOKEN_REFRESH_ROTATED_REUSE);
    if (r != STATE_OK)
        return s_refused(c, st, r, &t, CTR_TOKEN_REFRESH_REJECTED);
    counters_add(state_counters(st), CTR_TOKEN_REFRESH_OK);
    if (t.grace)
        counters_add(state_counters(st), CTR_TOKEN_REFRESH_GRACE);
    return s_issued(c, &t);
}

int token_handle(struct mg_connection *c, state_t *st, int arg)
{
    (void) arg;
    //  The body is read first: its grant_type decides which faults match.
    char body[FORM_MAX], grant[64] = "";
    size_t len = 0;
    int body_ok = web_read_body(c, body, sizeof body, &len) == 0;
    if (body_ok)
        web_form_get(body, len, "grant_type", grant, sizeof grant);
    int is_code = strcmp(grant, "authorization_code") == 0;
    int is_refresh = strcmp(grant, "refresh_token") == 0;
    if (rc_begin(st, c, is_code ? FAULT_CODE : is_refresh ? FAULT_REFRESH : FAULT_TOKEN_OTHER))
        return 1;
    int client = s_client(c, st, CTR_TOKEN_BAD_CLIENT);
    if (client < 0)
        return 401;
    if (!body_ok || !web_is_form(c))
        return s_bad_request(c, st, CTR_TOKEN_BAD_REQUEST, "invalid_request",
                             "The body must be application/x-www-form-urlencoded and at most 8 KiB");
    if (is_code)
        return s_code_grant(c, st, client, body, len);
    if (is_refresh)
        return s_refresh_grant(c, st, client, body, len);
    return s_bad_request(c, st, CTR_TOKEN_BAD_REQUEST, "unsupported_grant_type",
                         "grant_type must be authorization_code or refresh_token");
}

int token_revoke(struct mg_connection *c, state_t *st, int arg)
{
    (void) arg;
    if (rc_begin(st, c, FAULT_REVOKE))
        return 1;
    char body[FORM_MAX], token[VALUE_MAX];
    size_t len = 0;
    int body_ok = web_read_body(c, body, sizeof body, &len) == 0;
    int client = s_client(c, st, CTR_REVOKE_BAD_CLIENT);
    if (client < 0)
        return 401;
    if (!body_ok || !web_is_form(c) || web_form_get(body, len, "token", token, sizeof token) < 0)
        return s_bad_request(c, st, CTR_REVOKE_REJECTED, "invalid_request",
                             "The body must be a small application/x-www-form-urlencoded form with token");
    state_tokens_t t;
    state_result_t r = state_revoke(st, client, token, &t);
    log_debug("token.revoke", "result=%d", (int) r);
    if (r == STATE_RATE_LIMITED)
        return s_rate_limited(c, st, &t);
    if (r == STATE_WRONG_CLIENT) {
        counters_add(state_counters(st), CTR_REVOKE_REJECTED);
        return rc_oauth_error(c, 400, "unauthorized_client", "OAU-219", "Token was issued to another client", NULL);
    }
    counters_add(state_counters(st), r == STATE_OK ? CTR_REVOKE_OK : CTR_REVOKE_UNKNOWN);
    char remaining[16], window[16];
    const char *headers[9];
    return web_send(c, 200, "text/plain; charset=utf-8", "", 0, s_rate_headers(&t, remaining, window, headers));
}
