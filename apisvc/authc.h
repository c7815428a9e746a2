//  authc: apisvc's asynchronous client to authsvc (a DEALER polled in apisvc's event loop).
//  A call waits up to 1 s for a connection to authsvc (dead or restarting), then ends with
//  ERROR UNAVAILABLE "authsvc cannot be reached"; a call that a connected authsvc does not
//  answer by its deadline ends with ERROR UNAVAILABLE "authsvc did not answer" (its late
//  reply, if any, is dropped by request id). The DEALER reconnects by itself when authsvc
//  restarts. When the connection ends (authsvc stopped, killed or restarting), the calls
//  already sent on it can no longer be answered: they end at once with ERROR UNAVAILABLE
//  "authsvc stopped or restarted while handling the request" (a disconnect event of the
//  DEALER, watched with zmq_socket_monitor), not at their deadline. A call carries the id of
//  the request it serves (the gateway's, so that authsvc's lines show it too): a reply goes to
//  the oldest waiting call with its id that expects its type (or any, for an ERROR).
#ifndef AUTHC_H_INCLUDED
#define AUTHC_H_INCLUDED

#include "common/svc.h"
#include "proto/proto.h"

typedef struct _authc_t authc_t;

//  Called once with the reply (an _OK or ERROR message, owned by authc) of a call.
typedef void(authc_done_fn)(const proto_msg_t *reply, void *arg);

//  Connect a DEALER to endpoint and register it with svc. Returns NULL and logs why on failure.
authc_t *authc_new(void *zmq_ctx, const char *endpoint, svc_t *svc, long timeout_ms);
//  Fail every call still waiting (UNAVAILABLE), close, set *self_p to NULL. Safe with NULL.
void authc_destroy(authc_t **self_p);
//  Send req (not taken) and call done with the reply (or ERROR). Returns 0, or -1 out of memory
//  or on a socket error (done is never called).
int authc_call(authc_t *self, const proto_msg_t *req, authc_done_fn *done, void *arg);
//  authc_call with its own deadline: the reply (or ERROR UNAVAILABLE) comes within about timeout_ms
//  (a short wait for a connection included). Returns as authc_call.
int authc_call_within(authc_t *self, const proto_msg_t *req, long timeout_ms, authc_done_fn *done, void *arg);
//  Timer: send calls waiting for a connection, end calls past their deadline. Call every ~50 ms.
void authc_tick(svc_t *svc, void *arg);

#endif
