//  authsvc: the command table and shared helpers.
#include "authsvc/authsvc.h"
#include "authsvc/hold.h"
#include "authsvc/login.h"
#include "authsvc/logout.h"
#include "authsvc/ready.h"
#include "authsvc/refresh.h"
#include "common/log.h"
#include "common/rand.h"

#include "common/clock.h"

#include <stdio.h>
#include <stdlib.h>

struct _authsvc_later_t {
    authsvc_later_t *next;
    authsvc_later_fn *fn;
    void *arg;
};

typedef void(s_handler_fn)(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req);

static const struct {
    proto_type_t type;
    s_handler_fn *handler;
} s_commands[] = {
    { PROTO_AUTH_URL, login_auth_url }, { PROTO_EXCHANGE, login_exchange }, { PROTO_DECLINED, login_declined },
    { PROTO_SESSION, refresh_session }, { PROTO_REFRESH, refresh_request }, { PROTO_LOGOUT, logout_request },
    { PROTO_HOLD, hold_request },       { PROTO_READY, ready_request },
};

void authsvc_handle(svc_t *svc, const svc_peer_t *peer, proto_msg_t *req, void *arg)
{
    authsvc_t *self = arg;
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        if (s_commands[i].type == proto_msg_type(req)) {
            s_commands[i].handler(self, peer, req);
            proto_msg_destroy(&req);
            return;
        }
    log_warn("request.unsupported", "type=%s rid=%llx", proto_type_name(proto_msg_type(req)),
             (unsigned long long) proto_msg_rid(req));
    svc_reply_error(svc, peer, proto_msg_rid(req), PROTO_BAD_REQUEST, "authsvc does not handle this message type", -1);
    proto_msg_destroy(&req);
}

const config_rc_t *authsvc_env(authsvc_t *self, const svc_peer_t *peer, uint64_t rid, const char *env)
{
    int i = config_env_parse(env);
    if (i < 0) {
        svc_reply_error(self->svc, peer, rid, PROTO_BAD_REQUEST, "unknown environment (use production or sandbox)", -1);
        return NULL;
    }
    if (!self->cfg->rc[i].configured) {
        char msg[128];
        snprintf(msg, sizeof msg, "the %s environment is not configured on this server", env);
        svc_reply_error(self->svc, peer, rid, PROTO_UNAVAILABLE, msg, -1);
        return NULL;
    }
    return &self->cfg->rc[i];
}

bool authsvc_check_sid(authsvc_t *self, const svc_peer_t *peer, uint64_t rid, const char *sid)
{
    if (rand_id_is_valid(sid))
        return true;
    svc_reply_error(self->svc, peer, rid, PROTO_BAD_REQUEST, "malformed session id", -1);
    return false;
}

void authsvc_store_log(const char *op, uint64_t rid, int rc)
{
    if (rc != STORE_EFULL) {
        log_error(op, "rid=%llx error=\"%s\"", (unsigned long long) rid, store_strerror(rc));
        return;
    }
    //  A flood of refused logins must not become a flood of log lines: one a second, with a count.
    static int64_t last_ms = INT64_MIN;
    static unsigned long suppressed = 0;
    int64_t now = clock_mono_ms();
    if (last_ms != INT64_MIN && now - last_ms < 1000) {
        suppressed++;
        return;
    }
    log_error("store.full",
              "op=%s rid=%llx suppressed=%lu msg=\"the token store is full: such writes get 503 until "
              "records expire (pending logins: 10 min) or DATA_MAP_MB is raised\"",
              op, (unsigned long long) rid, suppressed);
    last_ms = now;
    suppressed = 0;
}

void authsvc_store_error(authsvc_t *self, const svc_peer_t *peer, uint64_t rid, const char *ev, int rc)
{
    authsvc_store_log(ev, rid, rc);
    if (rc == STORE_EFULL)
        svc_reply_error(self->svc, peer, rid, PROTO_STORE_FULL, "the token store is full; try again later", -1);
    else
        svc_reply_error(self->svc, peer, rid, PROTO_INTERNAL,
                        rc == STORE_ELOST ? "the token store's data directory was "
                                            "deleted or replaced"
                                          : "the token store failed",
                        -1);
}

int authsvc_later(authsvc_t *self, authsvc_later_fn *fn, void *arg)
{
    authsvc_later_t *l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    *l = (authsvc_later_t){ NULL, fn, arg };
    if (self->later_tail)
        self->later_tail->next = l;
    else
        self->later = l;
    self->later_tail = l;
    return 0;
}

void authsvc_after(svc_t *svc, void *arg)
{
    (void) svc;
    authsvc_t *self = arg;
    while (self->later) {
        authsvc_later_t *l = self->later;
        self->later = l->next;
        if (!self->later)
            self->later_tail = NULL;
        l->fn(self, l->arg);
        free(l);
    }
}
