//  logout: see logout.h.
#include "authsvc/logout.h"
#include "authsvc/oauth.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    authsvc_t *owner;
    svc_peer_t peer;
    uint64_t rid;
    char sid[STORE_KEY_MAX];
    bool revoked;  //  RingCentral answered the revoke with 2xx
} s_logout_t;

//  Runs after the turn's group commit (authsvc_later): a delete of its own, which a full map makes room for
//  (store.h), and which no other write of the turn can fail.
static void s_delete_and_reply(authsvc_t *self, const svc_peer_t *peer, uint64_t rid, const char *sid, bool revoked)
{
    int src = store_session_delete(self->store, sid);
    if (src != STORE_OK && src != STORE_ENOTFOUND) {
        authsvc_store_error(self, peer, rid, "logout.store", src);
        return;
    }
    proto_msg_t *reply = proto_msg_new(PROTO_LOGOUT_OK, rid);
    if (reply && proto_msg_set_bool(reply, "revoked", revoked) == 0)
        svc_reply(self->svc, peer, reply);
    else
        svc_reply_error(self->svc, peer, rid, PROTO_INTERNAL, "could not encode the reply", -1);
    proto_msg_destroy(&reply);
}

static void s_delete_later(authsvc_t *self, void *arg)
{
    s_logout_t *job = arg;
    s_delete_and_reply(self, &job->peer, job->rid, job->sid, job->revoked);
    free(job);
}

//  Delete after the turn's group commit (or at once, out of memory) and reply; frees job.
static void s_delete(s_logout_t *job)
{
    if (authsvc_later(job->owner, s_delete_later, job) != 0)
        s_delete_later(job->owner, job);
}

static void s_revoke_done(const http_response_t *resp, void *arg)
{
    s_logout_t *job = arg;
    //  A failed revoke is logged and otherwise ignored: the local record goes anyway.
    if (resp->error != HTTP_OK || resp->status < 200 || resp->status >= 300)
        log_warn("logout.revoke_fail", "rid=%llx status=%ld error=%s ms=%ld", (unsigned long long) job->rid,
                 resp->status, http_strerror(resp->error), resp->elapsed_ms);
    else {
        job->revoked = true;
        log_info("logout.ok", "rid=%llx ms=%ld", (unsigned long long) job->rid, resp->elapsed_ms);
    }
    s_delete(job);
}

static void s_detached_done(const http_response_t *resp, void *arg)
{
    (void) arg;
    if (resp->error != HTTP_OK || resp->status < 200 || resp->status >= 300)
        log_warn("relogin.revoke_fail", "status=%ld error=%s", resp->status, http_strerror(resp->error));
}

void logout_revoke_detached(authsvc_t *self, const store_session_t *rec)
{
    int env = config_env_parse(rec->env);
    if (env >= 0 && self->cfg->rc[env].configured
        && oauth_start_revoke(self->http, &self->cfg->rc[env], rec->refresh_token, s_detached_done, NULL) != 0)
        log_warn("relogin.revoke_fail", "error=\"could not start\"");
}

void logout_request(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req)
{
    uint64_t rid = proto_msg_rid(req);
    const char *sid = proto_msg_str(req, "sid");
    if (!authsvc_check_sid(self, peer, rid, sid))
        return;
    store_session_t *rec = store_session_new();
    int src = rec ? store_session_get(self->store, sid, rec) : STORE_EIO;
    int env = src == STORE_OK ? config_env_parse(rec->env) : -1;
    s_logout_t *job = calloc(1, sizeof *job);
    if (!job)
        svc_reply_error(self->svc, peer, rid, PROTO_INTERNAL, "out of memory", -1);
    else {
        *job = (s_logout_t){ .owner = self, .peer = *peer, .rid = rid };
        snprintf(job->sid, sizeof job->sid, "%s", sid);
    }
    //  Revoking the refresh token ends the whole login (both tokens).
    if (job
        && (!(env >= 0 && self->cfg->rc[env].configured)
            || oauth_start_revoke(self->http, &self->cfg->rc[env], rec->refresh_token, s_revoke_done, job) != 0)) {
        if (src == STORE_OK)
            log_warn("logout.revoke_skipped", "rid=%llx", (unsigned long long) rid);
        s_delete(job);
    }
    store_session_destroy(&rec);
}
