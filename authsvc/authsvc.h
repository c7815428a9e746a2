//  authsvc: the OAuth service's shared state and the small helpers its handlers use.
#ifndef AUTHSVC_H_INCLUDED
#define AUTHSVC_H_INCLUDED

#include "common/config.h"
#include "common/http.h"
#include "common/store.h"
#include "common/svc.h"
#include "proto/proto.h"

typedef struct _refresh_t refresh_t;

typedef struct {
    const config_t *cfg;
    store_t *store;
    http_t *http;
    svc_t *svc;
    refresh_t *refresh;     //  single-flight refresh table (refresh.c)
} authsvc_t;

//  The svc handler: dispatches a request to its module through the command table.
void authsvc_handle(svc_t *svc, const svc_peer_t *peer, proto_msg_t *req, void *arg);
//  The configured environment named env, or NULL (and an ERROR sent to peer) when unknown or unconfigured.
const config_rc_t *authsvc_env(authsvc_t *self, const svc_peer_t *peer, uint64_t rid, const char *env);
//  True when sid is a well-formed session id; otherwise sends ERROR BAD_REQUEST and returns false.
bool authsvc_check_sid(authsvc_t *self, const svc_peer_t *peer, uint64_t rid, const char *sid);
//  Send ERROR for a store failure (STORE_EFULL / STORE_EIO...) and log it once.
void authsvc_store_error(authsvc_t *self, const svc_peer_t *peer, uint64_t rid, const char *ev, int rc);

#endif
