//  authc: apisvc's asynchronous client to authsvc (a DEALER polled in apisvc's event loop).
//  Each call has a deadline; a call that authsvc does not answer in time ends with
//  ERROR UNAVAILABLE (its late reply, if any, is dropped by request id). The DEALER
//  reconnects by itself when authsvc restarts.
#ifndef AUTHC_H_INCLUDED
#define AUTHC_H_INCLUDED

#include "common/svc.h"
#include "proto/proto.h"

typedef struct _authc_t authc_t;

//  Called once with the reply (an _OK or ERROR message, owned by authc) of a call.
typedef void (authc_done_fn)(const proto_msg_t *reply, void *arg);

//  Connect a DEALER to endpoint and register it with svc. Returns NULL and logs why on failure.
authc_t *authc_new(void *zmq_ctx, const char *endpoint, svc_t *svc, long timeout_ms);
//  Fail every call still waiting (UNAVAILABLE), close, set *self_p to NULL. Safe with NULL.
void authc_destroy(authc_t **self_p);
//  Send req (not taken) and call done with the reply. Returns 0, or -1 (done is never called).
int authc_call(authc_t *self, const proto_msg_t *req, authc_done_fn *done, void *arg);
//  A fresh request id for a call.
uint64_t authc_next_rid(authc_t *self);
//  Timer: end calls past their deadline. Call every ~50 ms.
void authc_tick(svc_t *svc, void *arg);

#endif
