//  server: the gateway's civetweb server, hardened; its worker threads reach the services through one rpc hub.
//
//  No document root, no directory listing, no CORS preflight answers; one
//  request handler ("**") dispatching on the route table; requests bounded
//  (max_request_size 16 KiB, request_timeout_ms); keep-alive on (a kept-alive
//  connection holds a worker thread, hence many threads). Errors civetweb
//  answers itself (malformed or oversized requests) get the gateway's error page.
#ifndef SERVER_H_INCLUDED
#define SERVER_H_INCLUDED

#include "common/config.h"

#include <stddef.h>

//  Worker threads when GATEWAY_THREADS is not set.
#define SERVER_THREADS_DEFAULT 256
//  Most worker threads GATEWAY_THREADS may ask for.
#define SERVER_THREADS_MAX 1024

typedef struct _server_t server_t;

//  Read GATEWAY_THREADS (1..SERVER_THREADS_MAX, default SERVER_THREADS_DEFAULT). Returns 0, or -1 with a reason in err.
int server_threads_from_env(int *threads, char *err, size_t err_size);
//  Start serving on cfg->gateway_bind:cfg->gateway_port (port 0: any free port) with threads
//  workers talking to the services through zmq_ctx. Returns NULL and logs why on failure.
server_t *server_start(const config_t *cfg, void *zmq_ctx, int threads);
//  The TCP port the server listens on. Returns -1 when it cannot be told.
int server_port(const server_t *self);
//  Stop serving (waits for the worker threads, then stops the rpc hub), free, set *self_p to NULL. Safe with NULL.
void server_stop(server_t **self_p);

#endif
