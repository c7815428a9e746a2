//  authsvc: the OAuth service's shared state and the small helpers its handlers use.
#ifndef AUTHSVC_H_INCLUDED
#define AUTHSVC_H_INCLUDED

#include "common/config.h"
#include "common/http.h"
#include "common/store.h"
#include "common/svc.h"
#include "proto/proto.h"

typedef struct _refresh_t refresh_t;
typedef struct _seal_ring_t seal_ring_t;
typedef struct _authsvc_later_t authsvc_later_t;

typedef struct {
    const config_t *cfg;
    store_t *store;
    seal_ring_t *ring;  //  the key ring sealing the store's secrets (KEY_FILE; rekey.c reloads it)
    http_t *http;
    svc_t *svc;
    refresh_t *refresh;                   //  single-flight refresh table (refresh.c)
    authsvc_later_t *later, *later_tail;  //  calls queued for after this turn's group commit (authsvc_later)
} authsvc_t;

//  Work run after the turn's group commit (authsvc_later).
typedef void(authsvc_later_fn)(authsvc_t *self, void *arg);

//  The svc handler: dispatches a request to its module through the command table.
void authsvc_handle(svc_t *svc, const svc_peer_t *peer, proto_msg_t *req, void *arg);
//  The configured environment named env, or NULL (and an ERROR sent to peer) when unknown or unconfigured.
const config_rc_t *authsvc_env(authsvc_t *self, const svc_peer_t *peer, uint64_t rid, const char *env);
//  True when sid is a well-formed session id; otherwise sends ERROR BAD_REQUEST and returns false.
bool authsvc_check_sid(authsvc_t *self, const svc_peer_t *peer, uint64_t rid, const char *sid);
//  Send ERROR for a store failure (STORE_EFULL: STORE_FULL, a 503; else INTERNAL) and log it once (authsvc_store_log).
void authsvc_store_error(authsvc_t *self, const svc_peer_t *peer, uint64_t rid, const char *ev, int rc);
//  Log a store failure of op: STORE_EFULL as lvl=error ev=store.full op=<op> (at most one line a second, the
//  lines left out counted in the next one's suppressed=), others as lvl=error ev=<op>. Never a key or token.
void authsvc_store_log(const char *op, uint64_t rid, int rc);
//  Run fn(self, arg) after this turn's group commit, outside it: its writes are their own transactions (where
//  the map may grow for deletes, and no other write can fail them) and its replies go out at once.
//  Calls run in the order queued. Returns 0, or -1 out of memory (fn is then not called).
int authsvc_later(authsvc_t *self, authsvc_later_fn *fn, void *arg);
//  The svc after hook (svc_set_after; also called once at shutdown): run the queued calls, and those they queue.
void authsvc_after(svc_t *svc, void *arg);

#endif
