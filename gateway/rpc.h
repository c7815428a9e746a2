//  rpc: the gateway's client of the services (authsvc, apisvc) over ZeroMQ.
//
//  One hub per process owns one DEALER per service and one thread that does all
//  the ZeroMQ work; each civetweb worker thread has an rpc_t handle, hands its
//  encoded requests to the hub and sleeps until the hub has the replies. So a
//  service sees one connection from the gateway however many worker threads
//  there are (per-thread sockets cost every thread a connection, pipes and
//  buffers in both processes, and a wake-up per message on each side). The hub
//  multiplexes, it does not serialize: it only moves frames without blocking, and
//  every call waits for its own reply while any number of others are in flight
//  (200 at once in make bench's (c); 16 threads in rpc_test). A request
//  is ONE frame (proto_encode'd); the service's ROUTER answers with ONE frame,
//  matched by request id (unique per hub; any other id is stale and dropped).
//
//  Liveness: a dead or hung service costs at most service_timeout_ms:
//    - up to 1/3 of it for the socket to become writable (ZMQ_IMMEDIATE: only
//      when a service is connected), else UNAVAILABLE;
//    - up to 2/3 of it (from the start) for the reply; then a PING and up to
//      1/3 more for any answer. A PING_OK proves the service loop alive (it may
//      be waiting on RingCentral): keep waiting, pinging again every 2/3, up to
//      3 x rc_timeout_ms + service_timeout_ms in all (apisvc's worst case is a
//      call, a refresh and a retry); but a PING_OK whose uptime says the service
//      started after the request went out means the request died with the old
//      process: UNAVAILABLE.
//  When a service is unreachable or stops answering, the hub replaces its socket
//  so that the next call reaches a restarted service at once.
//  The calls of one HTTP request may share one request id (the id on the access
//  line), as long as they go to different services or one after the other.
//  Metrics (the default registry): rcauth_rpc_requests_total{service,result}
//  (result: ok, error: the service's ERROR, unavailable, bad_reply) and
//  rcauth_rpc_duration_seconds{service}; the probes' PING, READY and STATS are
//  not counted.
#ifndef RPC_H_INCLUDED
#define RPC_H_INCLUDED

#include "proto/proto.h"

#include <stddef.h>

typedef enum { RPC_AUTHSVC = 0, RPC_APISVC = 1, RPC_SERVICE_COUNT = 2 } rpc_service_t;

typedef struct {
    const char *endpoint[RPC_SERVICE_COUNT];  //  borrowed: must outlive every rpc_t
    long service_timeout_ms;                  //  SERVICE_TIMEOUT_MS
    long rc_timeout_ms;                       //  RC_TIMEOUT_MS
} rpc_config_t;

//  One request of a batch and, after rpc_call_many, its reply.
typedef struct {
    rpc_service_t service;
    const proto_msg_t *request;
    proto_msg_t *reply;  //  out, owned by the caller: the service's reply or an ERROR made here
    long timeout_ms;     //  > 0: the whole call's bound (no liveness pings; a probe's check); 0: as above
} rpc_call_t;

typedef struct _rpc_hub_t rpc_hub_t;
typedef struct _rpc_t rpc_t;

//  Start the hub (its thread and sockets) for cfg, which it copies (the endpoints stay borrowed).
//  Returns NULL when a socket or the thread cannot be made.
rpc_hub_t *rpc_hub_new(void *zmq_ctx, const rpc_config_t *cfg);
//  Stop the hub: calls still waiting end UNAVAILABLE; join its thread, close its sockets, free it,
//  set *hub_p to NULL. Every rpc_t of it must be idle (no call in progress). Safe with NULL.
void rpc_hub_destroy(rpc_hub_t **hub_p);
//  A new client handle for the calling thread. Returns NULL out of memory.
rpc_t *rpc_new(rpc_hub_t *hub);
//  Free the client handle (not during a call), set *self_p to NULL. Safe with NULL.
void rpc_destroy(rpc_t **self_p);
//  A new request message of type with a fresh request id. Returns NULL out of memory.
proto_msg_t *rpc_request(rpc_t *self, proto_type_t type);
//  A request id no call of this process has used or will use (for a reference id that names no call).
uint64_t rpc_new_rid(rpc_t *self);
//  Send each request (each to a different service) and wait for all replies at once.
//  Each reply is <TYPE>_OK or ERROR (UNAVAILABLE when the service is dead or hung,
//  INTERNAL when its reply is garbage). Returns 0, or -1 out of memory (replies may be NULL).
int rpc_call_many(rpc_t *self, rpc_call_t *calls, size_t count);
//  One request to one service. Returns the reply as rpc_call_many does, or NULL out of memory.
proto_msg_t *rpc_call(rpc_t *self, rpc_service_t service, const proto_msg_t *request);
//  The name of a service ("authsvc"). Returns "unknown" for any other value.
const char *rpc_service_name(rpc_service_t service);

#endif
