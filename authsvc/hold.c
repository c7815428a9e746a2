//  hold: see hold.h.
#include "authsvc/hold.h"
#include "common/clock.h"
#include "common/log.h"

#include <stdint.h>

void hold_request(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req)
{
    uint64_t rid = proto_msg_rid(req);
    const char *sid = proto_msg_str(req, "sid");
    if (!authsvc_check_sid(self, peer, rid, sid))
        return;
    int64_t until = proto_msg_int(req, "until", 0);
    int64_t now = clock_now_ms();
    int64_t ahead;
    if (__builtin_sub_overflow(until, now, &ahead))
        ahead = until < now ? INT64_MIN : INT64_MAX;
    if (ahead <= 0 || ahead > STORE_HOLD_MAX_MS) {
        log_warn("hold.bad_until", "rid=%llx ahead_ms=%lld", (unsigned long long) rid, (long long) ahead);
        svc_reply_error(self->svc, peer, rid, PROTO_BAD_REQUEST,
                        "until must be in the future and at most an hour ahead", -1);
        return;
    }
    int src = store_session_hold(self->store, sid, now, until);
    if (src == STORE_ENOTFOUND) {
        svc_reply_error(self->svc, peer, rid, PROTO_NOT_LOGGED_IN, "not logged in", -1);
        return;
    }
    if (src != STORE_OK) {
        authsvc_store_error(self, peer, rid, "hold.store", src);
        return;
    }
    log_info("hold.ok", "rid=%llx ahead_ms=%lld", (unsigned long long) rid, (long long) ahead);
    proto_msg_t *reply = proto_msg_new(PROTO_HOLD_OK, rid);
    if (reply)
        svc_reply(self->svc, peer, reply);
    else
        svc_reply_error(self->svc, peer, rid, PROTO_INTERNAL, "out of memory", -1);
    proto_msg_destroy(&reply);
}
