//  server: the gateway's civetweb server, hardened; its worker threads reach the services through one rpc hub.
//
//  It sits behind the nginx front: it listens on 127.0.0.1:GATEWAY_INTERNAL_PORT only
//  and admits connections from 127.0.0.1 only (access_control_list; others are
//  closed at accept). No document root, no directory listing, no CORS preflight
//  answers; one request handler ("**") dispatching on the route table; requests
//  bounded (max_request_size 16 KiB, request_timeout_ms 10 s for the header and for
//  each single read, REQUEST_BODY_TIMEOUT_MS for a whole body); keep-alive on, kept
//  75 s (longer than the front's upstream keepalive_timeout, so the front never
//  reuses a connection civetweb is closing). A kept-alive connection holds a worker
//  thread, hence many threads: each costs a 100 KiB stack (Debian's civetweb), of
//  which only the pages a request touches are resident. Errors civetweb answers
//  itself (malformed or oversized requests) get the gateway's error page.
#ifndef SERVER_H_INCLUDED
#define SERVER_H_INCLUDED

#include "common/config.h"

#include <stddef.h>

//  Worker threads when GATEWAY_THREADS is not set: at least 1,000 requests in flight at once through
//  the front, whose idle keep-alive connections (128, deploy/nginx-conf) hold threads too.
#define SERVER_THREADS_DEFAULT 1152
//  Most worker threads GATEWAY_THREADS may ask for.
#define SERVER_THREADS_MAX 4096
//  civetweb's access_control_list: only the front (on this host) may connect.
#define SERVER_ACL "-0.0.0.0/0,+127.0.0.1"
//  How long civetweb keeps an idle connection: longer than the front's upstream keepalive_timeout (30 s).
#define SERVER_KEEP_ALIVE_MS 75000
//  civetweb's bound on reading a request header, and on each single read of a body.
#define SERVER_REQUEST_TIMEOUT_MS 10000
//  How long server_stop lets the requests in flight finish when DRAIN_TIMEOUT_MS is not set.
#define SERVER_DRAIN_TIMEOUT_MS 5000

//  The metrics port when METRICS_PORT is not set (Prometheus' registry of default ports lists 9464 for exporters
//  of this kind); 0 turns it off. It listens on 127.0.0.1 only, in a civetweb context of its own (gateway/probes.h).
#define SERVER_METRICS_PORT 9464
//  METRICS_PORT=any: a port the OS picks (server_metrics_port tells which; the gateway writes it to RUN_DIR).
#define SERVER_METRICS_ANY (-1)

typedef struct _server_t server_t;

//  Read GATEWAY_THREADS (1..SERVER_THREADS_MAX, default SERVER_THREADS_DEFAULT). Returns 0, or -1 with a reason in err.
int server_threads_from_env(int *threads, char *err, size_t err_size);
//  Start serving on 127.0.0.1:cfg->gateway_internal_port (0: any free port) with threads workers
//  talking to the services through zmq_ctx, and the metrics port; reads GATEWAY_BODY_TIMEOUT_MS (default
//  REQUEST_BODY_TIMEOUT_MS) and METRICS_PORT (default SERVER_METRICS_PORT, 0: none, "any": any free port) once. Returns NULL and logs why on failure.
server_t *server_start(const config_t *cfg, void *zmq_ctx, int threads);
//  The metrics port the server listens on. Returns 0 when it has none (METRICS_PORT=0).
int server_metrics_port(const server_t *self);
//  The TCP port the server listens on. Returns -1 when it cannot be told.
int server_port(const server_t *self);
//  Stop serving: new requests get a 503 page (Retry-After: 1, Connection: close) while the requests in flight
//  finish (DRAIN_TIMEOUT_MS at most, default SERVER_DRAIN_TIMEOUT_MS); then stop civetweb (waits for the worker
//  threads), then the rpc hub; free, set *self_p to NULL. Safe with NULL.
void server_stop(server_t **self_p);

#endif
