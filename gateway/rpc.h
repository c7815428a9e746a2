//  rpc: one thread's client of the services (authsvc, apisvc) over ZeroMQ.
//
//  A ZeroMQ socket belongs to one thread, so each civetweb worker thread owns
//  one rpc_t with one DEALER per service, created on first use. A request is
//  ONE frame (proto_encode'd); the service's ROUTER answers with ONE frame on
//  the same DEALER, matched by request id (any other id is a stale reply and
//  is dropped).
//
//  Liveness: a dead or hung service costs at most service_timeout_ms:
//    - up to 1/3 of it for the socket to become writable (ZMQ_IMMEDIATE: only
//      when a service is connected), else UNAVAILABLE;
//    - up to 2/3 of it (from the start) for the reply; then a PING on the same
//      socket and up to 1/3 more for any answer. A PING_OK proves the service
//      loop alive (it may be waiting on RingCentral): keep waiting, pinging
//      again every 2/3, up to 2 x rc_timeout_ms + service_timeout_ms in all;
//      but a PING_OK whose uptime says the service started after the request
//      went out means the request died with the old process: UNAVAILABLE.
//  After UNAVAILABLE the socket is closed, and the next call makes a fresh one
//  so that it reaches a restarted service at once.
#ifndef RPC_H_INCLUDED
#define RPC_H_INCLUDED

#include "proto/proto.h"

#include <stddef.h>

typedef enum { RPC_AUTHSVC = 0, RPC_APISVC = 1, RPC_SERVICE_COUNT = 2 } rpc_service_t;

typedef struct {
    const char *endpoint[RPC_SERVICE_COUNT];    //  borrowed: must outlive every rpc_t
    long service_timeout_ms;                    //  SERVICE_TIMEOUT_MS
    long rc_timeout_ms;                         //  RC_TIMEOUT_MS
} rpc_config_t;

//  One request of a batch and, after rpc_call_many, its reply.
typedef struct {
    rpc_service_t service;
    const proto_msg_t *request;
    proto_msg_t *reply;     //  out, owned by the caller: the service's reply or an ERROR made here
} rpc_call_t;

typedef struct _rpc_t rpc_t;

//  A new client for the calling thread (no socket yet). Returns NULL out of memory.
rpc_t *rpc_new(void *zmq_ctx, const rpc_config_t *cfg);
//  Close the sockets and free the client, set *self_p to NULL. Call from the owning thread. Safe with NULL.
void rpc_destroy(rpc_t **self_p);
//  A new request message of type with a fresh request id. Returns NULL out of memory.
proto_msg_t *rpc_request(rpc_t *self, proto_type_t type);
//  Send each request (each to a different service) and wait for all replies at once.
//  Each reply is <TYPE>_OK or ERROR (UNAVAILABLE when the service is dead or hung,
//  INTERNAL when its reply is garbage). Returns 0, or -1 out of memory (replies may be NULL).
int rpc_call_many(rpc_t *self, rpc_call_t *calls, size_t count);
//  One request to one service. Returns the reply as rpc_call_many does, or NULL out of memory.
proto_msg_t *rpc_call(rpc_t *self, rpc_service_t service, const proto_msg_t *request);
//  The name of a service ("authsvc"). Returns "unknown" for any other value.
const char *rpc_service_name(rpc_service_t service);

#endif
