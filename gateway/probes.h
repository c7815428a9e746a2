//  probes: what an operator asks the gateway: liveness, readiness, and the metrics.
//
//  GET /healthz   200 {"status":"ok"} whenever a worker can answer; no dependency is asked.
//  GET /readyz    named checks, each bounded by PROBES_CHECK_MS, asked at once:
//                   authsvc, apisvc  a round trip (READY to authsvc, PING to apisvc);
//                   store, config    authsvc's answer to READY (an LMDB read; an environment configured);
//                   mock             demo mode only: the mock RingCentral answers (asked by authsvc).
//                 200 when all pass, else 503: {"status":"ok"|"fail","checks":{"authsvc":{"status":"ok"},
//                 "store":{"status":"fail","reason":"..."},...}}. No pids, no paths. A log line when the set
//                 of failing checks changes (ev=readyz.fail failed=apisvc,..., then ev=readyz.ok).
//  The metrics port (METRICS_PORT, 127.0.0.1 only, its own civetweb context): GET /metrics gathers
//  STATS from authsvc and apisvc (PROBES_CHECK_MS each) and serves them with the gateway's own figures
//  in Prometheus' text format 0.0.4 (common/metrics.h); rcauth_service_up{service} says whose answered.
//  The gateway's figures: rcauth_http_requests_total{route,code}, rcauth_http_request_duration_seconds{route},
//  rcauth_http_in_flight, rcauth_http_busy_workers (connections held by a worker), and rpc.h's.
#ifndef PROBES_H_INCLUDED
#define PROBES_H_INCLUDED

#include "gateway/request.h"

#include <stdbool.h>

struct mg_connection;

//  The bound of each readiness check and of each service's STATS.
#define PROBES_CHECK_MS 1000

//  Make the gateway's metric families (the default registry; nothing without metrics_init). Before the server starts.
void probes_init(void);
//  The /healthz route handler. Returns the status sent.
int probes_healthz(request_t *r);
//  The /readyz route handler. Returns the status sent.
int probes_readyz(request_t *r);
//  True for the routes of probes (/healthz, /readyz): their access lines are logged at debug.
bool probes_is_probe(const char *route);
//  A request starts being handled (rcauth_http_in_flight).
void probes_request_begin(void);
//  A request of route ended with status after seconds.
void probes_request_end(const char *route, int status, double seconds);
//  A worker took (+1) or closed (-1) a connection (rcauth_http_busy_workers).
void probes_connection(int delta);
//  The civetweb request handler of the metrics port (every path: /metrics, else 404). Returns the status sent.
int probes_metrics(struct mg_connection *conn, void *cbdata);

#endif
