//  svc: the event loop of a service (authsvc, apisvc).
//
//  One thread runs everything: a ZeroMQ ROUTER bound at the service endpoint,
//  the service's libcurl multi client (common/http.h), extra ZeroMQ sockets
//  (e.g. apisvc's DEALER to authsvc), periodic timers and SIGINT/SIGTERM.
//  A request is handed to the handler with the requester's identity; the
//  handler may answer at once or keep a copy of the peer and answer later
//  (after an upstream call), so many requests are in flight at once.
//  svc answers PING and STATS (the default metrics registry, common/metrics.h) itself, and answers
//  undecodable frames with ERROR BAD_REQUEST. Its ROUTER takes frames up to PROTO_FRAME_MAX (a larger one
//  closes the connection unread); on a tcp endpoint it requires CURVE and answers a message its sender's
//  role may not send with ERROR BAD_REQUEST (common/bus.h).
//  SIGINT/SIGTERM start a drain: new requests are answered ERROR UNAVAILABLE (retry_after 1),
//  the loop runs on until every request handed to the handler has been answered and the busy hook
//  (svc_set_busy: e.g. a refresh still at RingCentral) says nothing is left, or DRAIN_TIMEOUT_MS
//  (default SVC_DRAIN_TIMEOUT_MS) has passed; a second signal ends it at once.
#ifndef SVC_H_INCLUDED
#define SVC_H_INCLUDED

#include "common/http.h"
#include "proto/proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _svc_t svc_t;

//  How long a drain may last when DRAIN_TIMEOUT_MS is not set.
#define SVC_DRAIN_TIMEOUT_MS 5000

//  The ROUTER identity of a requester: copy it by value to answer later.
typedef struct {
    unsigned char id[256];
    size_t len;
} svc_peer_t;

//  A request arrived; the handler owns req (destroy it) and must answer peer exactly once.
typedef void(svc_handler_fn)(svc_t *svc, const svc_peer_t *peer, proto_msg_t *req, void *arg);
//  An extra socket is readable.
typedef void(svc_socket_fn)(svc_t *svc, void *socket, void *arg);
//  A timer fired.
typedef void(svc_timer_fn)(svc_t *svc, void *arg);

//  Bind a ROUTER at endpoint (tcp://127.0.0.1:*: a port the OS picks) and create the loop; reads INSTANCE_NAME
//  (common/runfile.h, default name). Returns NULL and logs why on failure.
svc_t *svc_new(const char *name, void *zmq_ctx, const char *endpoint, http_t *http, svc_handler_fn *handler, void *arg);
//  The endpoint the ROUTER is bound at, with the port the OS picked for a "*".
const char *svc_endpoint(const svc_t *self);
//  Write svc_endpoint to RUN_DIR/<instance name>.endpoint for scripts (atomically). Returns 0, or -1 (logged).
int svc_report(const svc_t *self, const char *run_dir);
//  Change the argument handed to the handler (when it can only be made after the loop).
void svc_set_handler_arg(svc_t *self, void *arg);
//  Close the socket and free the loop; set *self_p to NULL. Safe with NULL.
void svc_destroy(svc_t **self_p);
//  Send reply to peer. Returns 0, or -1 (logged) when it cannot be encoded or sent.
int svc_reply(svc_t *self, const svc_peer_t *peer, const proto_msg_t *reply);
//  Send ERROR{code, message, retry_after (<0: none)} for request rid to peer. Returns as svc_reply.
int svc_reply_error(svc_t *self, const svc_peer_t *peer, uint64_t rid, proto_code_t code, const char *message,
                    int64_t retry_after);
//  Poll another ZeroMQ socket in the loop and call fn when it is readable. Returns 0, or -1 when full.
int svc_add_socket(svc_t *self, void *socket, svc_socket_fn *fn, void *arg);
//  Call fn every interval_ms. Returns 0, or -1 when full.
int svc_every(svc_t *self, long interval_ms, svc_timer_fn *fn, void *arg);
//  Group commit hooks: begin() is called before each turn of the loop handles requests, extra sockets and
//  transfers, commit() after them, and every reply sent in between is held back until commit() returns 0
//  (so no reply goes out before the writes it depends on are durable). When commit() fails it returns the
//  proto_code_t each held reply becomes (PROTO_STORE_FULL; anything else: ERROR INTERNAL).
//  Timers and the after hook (svc_set_after) run after commit(), outside the batch.
void svc_set_batch(svc_t *self, int (*begin)(void *arg), int (*commit)(void *arg), void *arg);
//  Call fn once every turn of the loop, after the turn's batch is committed and its replies sent, outside any
//  batch: work whose writes must not depend on the batch's commit (its own transactions), replies sent at once.
void svc_set_after(svc_t *self, svc_timer_fn *fn, void *arg);
//  While draining, keep the loop running as long as busy(arg) returns true (work that is no request: a
//  refresh whose waiters were answered but whose new tokens are not stored yet).
void svc_set_busy(svc_t *self, bool (*busy)(void *arg), void *arg);
//  Requests handed to the handler and not answered yet (svc_reply / svc_reply_error count as the answer).
size_t svc_pending(const svc_t *self);
//  Run until SIGINT/SIGTERM (then drain, see above) or svc_stop. Returns 0.
int svc_run(svc_t *self);
//  Make svc_run return after the current iteration.
void svc_stop(svc_t *self);

#endif
