//  login: see login.h.
#include "authsvc/login.h"
#include "common/clock.h"
#include "authsvc/logout.h"
#include "authsvc/oauth.h"
#include "common/log.h"
#include "common/rand.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    authsvc_t *owner;
    svc_peer_t peer;
    uint64_t rid;
    char sid[STORE_KEY_MAX];
    char env[STORE_ENV_MAX];
    int64_t started_ms;
} s_exchange_t;

//  Take the pending login of state if this session (sid, or sid before its last rotation: a login in another
//  tab finished first) started it. Replies ERROR and returns false when it did not, or when the state is
//  unknown or expired; another session's pending login is left for its owner. op prefixes the log events.
static bool s_take_own(authsvc_t *self, const svc_peer_t *peer, uint64_t rid, const char *sid, const char *state,
                       const char *op, store_pending_t *pending)
{
    char ev[48];
    snprintf(ev, sizeof ev, "%s.state_mismatch", op);
    if (!rand_id_is_valid(state)) {
        log_warn(ev, "rid=%llx why=malformed_state", (unsigned long long) rid);
        svc_reply_error(self->svc, peer, rid, PROTO_STATE_MISMATCH, "unknown login state", -1);
        return false;
    }
    store_session_t *rec = store_session_new();
    if (!rec) {
        svc_reply_error(self->svc, peer, rid, PROTO_INTERNAL, "out of memory", -1);
        return false;
    }
    const char *prev = store_session_get(self->store, sid, rec) == STORE_OK ? rec->prev_sid : NULL;
    int src = store_pending_take_owned(self->store, state, sid, prev, clock_now_ms(), pending);
    store_session_destroy(&rec);
    if (src == STORE_ENOTFOUND || src == STORE_EPERM) {
        log_warn(ev, "rid=%llx why=%s", (unsigned long long) rid,
                 src == STORE_EPERM ? "other_session" : "unknown_or_expired");
        svc_reply_error(self->svc, peer, rid, PROTO_STATE_MISMATCH,
                        "this login was not started from this browser session, or it expired; start again", -1);
        return false;
    }
    if (src != STORE_OK) {
        snprintf(ev, sizeof ev, "%s.store", op);
        authsvc_store_error(self, peer, rid, ev, src);
        return false;
    }
    return true;
}

void login_auth_url(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req)
{
    uint64_t rid = proto_msg_rid(req);
    const char *sid = proto_msg_str(req, "sid");
    const char *env = proto_msg_str(req, "env");
    if (!authsvc_check_sid(self, peer, rid, sid))
        return;
    const config_rc_t *rc = authsvc_env(self, peer, rid, env);
    if (!rc)
        return;
    char state[RAND_ID_SIZE], challenge[RAND_ID_SIZE + 4], url[PROTO_AUTH_URL_MAX + 1];
    store_pending_t pending = { .created_at = clock_now_ms() };
    snprintf(pending.sid, sizeof pending.sid, "%s", sid);
    snprintf(pending.env, sizeof pending.env, "%s", env);
    if (rand_id(state, sizeof state) || rand_id(pending.code_verifier, sizeof pending.code_verifier)
        || rand_pkce_challenge(pending.code_verifier, challenge, sizeof challenge)
        || oauth_authorize_url(rc, state, challenge, url, sizeof url)) {
        svc_reply_error(self->svc, peer, rid, PROTO_INTERNAL, "could not build the authorize URL", -1);
        return;
    }
    int src = store_pending_put(self->store, state, &pending);
    memset(pending.code_verifier, 0, sizeof pending.code_verifier);
    if (src != STORE_OK) {
        authsvc_store_error(self, peer, rid, "auth_url.store", src);
        return;
    }
    proto_msg_t *reply = proto_msg_new(PROTO_AUTH_URL_OK, rid);
    if (reply && proto_msg_set_str(reply, "url", url) == 0
        && proto_msg_set_str(reply, "redirect_uri", rc->redirect_url) == 0)
        svc_reply(self->svc, peer, reply);
    else
        svc_reply_error(self->svc, peer, rid, PROTO_INTERNAL, "could not encode the reply", -1);
    proto_msg_destroy(&reply);
    log_info("auth_url.ok", "rid=%llx env=%s", (unsigned long long) rid, env);
}

static void s_exchange_done(const http_response_t *resp, void *arg)
{
    s_exchange_t *job = arg;
    authsvc_t *self = job->owner;
    const char *reason = NULL;
    upstream_detail_t detail;
    proto_code_t code = oauth_classify(resp, &reason, &detail);
    store_session_t *rec = NULL;
    if (code == PROTO_OK) {
        rec = store_session_new();
        const char *why = "out of memory";
        if (!rec || oauth_parse_tokens(resp->body, resp->body_len, clock_now_ms(), rec, &why) != 0) {
            code = PROTO_UPSTREAM_ERROR;
            reason = why;
        }
    }
    if (code == PROTO_OK) {
        char new_sid[RAND_ID_SIZE];
        snprintf(rec->env, sizeof rec->env, "%s", job->env);
        snprintf(rec->prev_sid, sizeof rec->prev_sid, "%s", job->sid);
        rec->version = 1;
        //  A login over an earlier one (another tab, or logging in again): end the earlier tokens.
        store_session_t *old = store_session_new();
        if (old && store_session_get(self->store, job->sid, old) == STORE_OK)
            logout_revoke_detached(self, old);
        store_session_destroy(&old);
        int src = rand_id(new_sid, sizeof new_sid) == 0 ? store_session_rotate(self->store, job->sid, new_sid, rec)
                                                        : STORE_EINVAL;
        if (src != STORE_OK)
            authsvc_store_error(self, &job->peer, job->rid, "exchange.store", src);
        else {
            proto_msg_t *reply = proto_msg_new(PROTO_EXCHANGE_OK, job->rid);
            if (reply && proto_msg_set_str(reply, "new_sid", new_sid) == 0
                && proto_msg_set_str(reply, "env", job->env) == 0
                && (!rec->owner_id[0] || proto_msg_set_str(reply, "owner_id", rec->owner_id) == 0))
                svc_reply(self->svc, &job->peer, reply);
            else
                svc_reply_error(self->svc, &job->peer, job->rid, PROTO_INTERNAL, "could not encode the reply", -1);
            proto_msg_destroy(&reply);
            log_info("exchange.ok", "rid=%llx env=%s ms=%ld", (unsigned long long) job->rid, job->env,
                     resp->elapsed_ms);
        }
    }
    else {
        char words[320];
        log_warn("exchange.fail", "rid=%llx env=%s status=%ld reason=%s%s ms=%ld", (unsigned long long) job->rid,
                 job->env, resp->status, reason, upstream_detail_log(&detail, words, sizeof words), resp->elapsed_ms);
        const char *msg = code == PROTO_UPSTREAM_REJECTED
            ? "RingCentral refused the authorization code (expired or already used); log in again"
            : code == PROTO_APP_REJECTED         ? "RingCentral refused this app at the code exchange"
            : code == PROTO_UPSTREAM_TIMEOUT     ? "RingCentral did not answer in time; try again"
            : code == PROTO_UPSTREAM_UNREACHABLE ? "RingCentral could not be reached; try again"
            : code == PROTO_RATE_LIMITED         ? "RingCentral rate limit; wait and try again"
                                                 : "RingCentral's token endpoint failed; try again";
        long retry = code == PROTO_RATE_LIMITED ? upstream_retry_after(resp) : -1;
        proto_msg_t *error = upstream_error_new(job->rid, code, msg, retry, job->env, &detail);
        if (error)
            svc_reply(self->svc, &job->peer, error);
        else
            svc_reply_error(self->svc, &job->peer, job->rid, code, msg, retry);
        proto_msg_destroy(&error);
    }
    store_session_destroy(&rec);
    free(job);
}

void login_exchange(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req)
{
    uint64_t rid = proto_msg_rid(req);
    const char *sid = proto_msg_str(req, "sid");
    if (!authsvc_check_sid(self, peer, rid, sid))
        return;
    //  Single use: this session's pending login is gone after this, whatever happens next.
    store_pending_t pending;
    if (!s_take_own(self, peer, rid, sid, proto_msg_str(req, "state"), "exchange", &pending))
        return;
    const config_rc_t *rc = authsvc_env(self, peer, rid, pending.env);
    s_exchange_t *job = rc ? calloc(1, sizeof *job) : NULL;
    if (rc && !job)
        svc_reply_error(self->svc, peer, rid, PROTO_INTERNAL, "out of memory", -1);
    if (job) {
        *job = (s_exchange_t){ .owner = self, .peer = *peer, .rid = rid, .started_ms = clock_mono_ms() };
        snprintf(job->sid, sizeof job->sid, "%s", sid);
        snprintf(job->env, sizeof job->env, "%s", pending.env);
        if (oauth_start_exchange(self->http, rc, proto_msg_str(req, "code"), pending.code_verifier, s_exchange_done,
                                 job)
            != 0) {
            svc_reply_error(self->svc, peer, rid, PROTO_INTERNAL, "could not start the token request", -1);
            free(job);
        }
    }
    memset(&pending, 0, sizeof pending);
}

void login_declined(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req)
{
    uint64_t rid = proto_msg_rid(req);
    const char *sid = proto_msg_str(req, "sid");
    if (!authsvc_check_sid(self, peer, rid, sid))
        return;
    store_pending_t pending;
    if (!s_take_own(self, peer, rid, sid, proto_msg_str(req, "state"), "declined", &pending))
        return;
    proto_msg_t *reply = proto_msg_new(PROTO_DECLINED_OK, rid);
    if (reply && proto_msg_set_str(reply, "env", pending.env) == 0)
        svc_reply(self->svc, peer, reply);
    else
        svc_reply_error(self->svc, peer, rid, PROTO_INTERNAL, "could not encode the reply", -1);
    proto_msg_destroy(&reply);
    log_info("declined.ok", "rid=%llx env=%s", (unsigned long long) rid, pending.env);
    memset(&pending, 0, sizeof pending);
}
