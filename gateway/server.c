//  server: see server.h.
#include "gateway/server.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/webout.h"
#include "gateway/probes.h"
#include "gateway/reply.h"
#include "gateway/request.h"
#include "gateway/routes.h"
#include "gateway/rpc.h"

#include <civetweb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct _server_t {
    config_t cfg;  //  our own copy: everything below points into it
    request_ctx_t rctx;
    rpc_config_t rpc_cfg;
    rpc_hub_t *hub;
    void *zctx;
    struct mg_context *mg;
    long drain_ms;               //  DRAIN_TIMEOUT_MS
    atomic_int in_flight;        //  requests inside the route handler
    atomic_bool draining;        //  stopping: new requests get 503, the others finish before mg_stop
    struct mg_context *metrics;  //  the metrics port's own context (NULL: METRICS_PORT=0)
    int metrics_port;            //  as configured: 0 none, SERVER_METRICS_ANY any
};

int server_threads_from_env(int *threads, char *err, size_t err_size)
{
    long n;
    int rc = config_getenv_long(&n, "GATEWAY_THREADS", SERVER_THREADS_DEFAULT, 1, SERVER_THREADS_MAX, err, err_size);
    *threads = rc == 0 ? (int) n : SERVER_THREADS_DEFAULT;
    return rc;
}

//  Each worker thread gets its own handle on the process's service client hub.
static void *s_init_thread(const struct mg_context *ctx, int thread_type)
{
    if (thread_type != 1)
        return NULL;
    server_t *self = mg_get_user_data(ctx);
    rpc_t *rpc = rpc_new(self->hub);
    if (!rpc)
        log_error("server.thread", "reason=\"no rpc client (out of memory)\"");
    return rpc;
}

static void s_exit_thread(const struct mg_context *ctx, int thread_type, void *thread_pointer)
{
    (void) ctx;
    if (thread_type == 1) {
        rpc_t *rpc = thread_pointer;
        rpc_destroy(&rpc);
    }
}

//  civetweb answers malformed or oversized requests itself: give them the gateway's page.
static int s_http_error(struct mg_connection *conn, int status, const char *errmsg)
{
    (void) errmsg;  //  may quote the request: not logged, not shown
    server_t *self = mg_get_user_data(mg_get_context(conn));
    pages_state_t st = { .demo_mode = self->cfg.demo_mode, .expires_in = -1 };
    pages_error_t e = { status,
                        status == 413 || status == 431 ? "Request too large" : "Bad request",
                        "The request could not be read: it was malformed or too large.",
                        NULL,
                        NULL,
                        NULL };
    if (status == 404)
        e = (pages_error_t){ 404, "Page not found", "There is no such page here.", NULL, NULL, NULL };
    probes_request_begin();
    int sent = reply_error_page(conn, &st, &e, NULL, 0);
    probes_request_end("(civetweb)", sent, 0);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    char client[REQUEST_CLIENT_SIZE];
    request_client_addr(ri ? ri->remote_addr : "", mg_get_header(conn, "X-Real-IP"), client, sizeof client);
    log_info("http", "method=- route=(civetweb) status=%d ms=0 bytes=%lld client=%s rid=-", sent, webout_take_sent(),
             client);
    return 0;
}

//  A worker took a connection (it holds the worker until closed): rcauth_http_busy_workers.
static int s_init_connection(const struct mg_connection *conn, void **conn_data)
{
    (void) conn;
    (void) conn_data;
    probes_connection(1);
    return 0;
}

static void s_connection_close(const struct mg_connection *conn)
{
    (void) conn;
    probes_connection(-1);
}

//  civetweb's own messages, on one line, cut before anything that may be a query string.
static int s_log_message(const struct mg_connection *conn, const char *message)
{
    (void) conn;
    char clean[160];
    size_t n = 0;
    for (const char *p = message; *p && *p != '?' && n < sizeof clean - 1; p++)
        clean[n++] = (*p >= 0x20 && *p < 0x7f && *p != '"') ? *p : ' ';
    clean[n] = '\0';
    log_warn("civetweb", "msg=\"%s\"", clean);
    return 1;
}

//  Room for every worker's sockets and connections: raise the soft fd limit to the hard one.
static void s_raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            log_warn("server.fds", "reason=\"cannot raise the open file limit\"");
    }
}

//  Stopping: a complete 503 page that says to come back, on a connection that is then closed.
static int s_draining_page(server_t *self, struct mg_connection *conn)
{
    mg_disable_connection_keep_alive(conn);
    pages_state_t st = { .demo_mode = self->cfg.demo_mode, .expires_in = -1 };
    pages_error_t e = {
        503, "The server is restarting", "This server is stopping or restarting. Try again in a moment.", NULL, NULL,
        NULL
    };
    reply_header_t extra[] = { { "Retry-After", "1" }, { "Connection", "close" } };
    int sent = reply_error_page(conn, &st, &e, extra, 2);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    char client[REQUEST_CLIENT_SIZE];
    request_client_addr(ri ? ri->remote_addr : "", mg_get_header(conn, "X-Real-IP"), client, sizeof client);
    log_info("http", "method=%.10s route=(draining) status=%d client=%s",
             ri && ri->request_method ? ri->request_method : "-", sent, client);
    return sent;
}

//  The request handler: the route table, counted so that server_stop can let the requests in flight finish.
static int s_handle(struct mg_connection *conn, void *cbdata)
{
    server_t *self = cbdata;
    atomic_fetch_add(&self->in_flight, 1);
    int rc;
    if (atomic_load(&self->draining))
        rc = s_draining_page(self, conn);
    else {
        rc = routes_handle(conn, &self->rctx);
        //  Finished during a drain: the connection is closed after this answer (mg_stop is near).
        if (atomic_load(&self->draining))
            mg_disable_connection_keep_alive(conn);
    }
    atomic_fetch_sub(&self->in_flight, 1);
    return rc;
}

static int s_no_auth(struct mg_connection *conn, void *cbdata)
{
    (void) conn;
    (void) cbdata;
    return 1;
}

//  METRICS_PORT: 0 (off) to 65535, default SERVER_METRICS_PORT, or "any" (SERVER_METRICS_ANY: a port the OS
//  picks; 0 already means off). Returns 0, or -1 and logs why.
static int s_metrics_port_from_env(int *port)
{
    char err[160];
    long n;
    const char *v = getenv("METRICS_PORT");
    if (v && strcmp(v, "any") == 0) {
        *port = SERVER_METRICS_ANY;
        return 0;
    }
    if (config_getenv_long(&n, "METRICS_PORT", SERVER_METRICS_PORT, 0, 65535, err, sizeof err) != 0) {
        log_error("server.start", "reason=\"%s\"", err);
        return -1;
    }
    *port = (int) n;
    return 0;
}

//  The metrics port: its own context (two workers, loopback only, admitting 127.0.0.1 only) whose one handler
//  answers /metrics, so the route table (the public side) never does. Returns NULL and logs why on failure.
static struct mg_context *s_metrics_start(server_t *self, const struct mg_callbacks *base)
{
    char ports[32];
    snprintf(ports, sizeof ports, "127.0.0.1:%d", self->metrics_port == SERVER_METRICS_ANY ? 0 : self->metrics_port);
    const char *options[] = { "listening_ports",
                              ports,
                              "access_control_list",
                              SERVER_ACL,
                              "num_threads",
                              "2",
                              "enable_keep_alive",
                              "yes",
                              "request_timeout_ms",
                              "10000",
                              "max_request_size",
                              "16384",
                              "enable_directory_listing",
                              "no",
                              NULL };
    struct mg_callbacks callbacks = *base;
    callbacks.init_connection = NULL;  //  not the public side's workers
    callbacks.connection_close = NULL;
    callbacks.http_error = NULL;
    struct mg_context *mg = mg_start(&callbacks, self, options);
    if (!mg) {
        log_error("server.start",
                  "listen=%s reason=\"civetweb could not start the metrics port (in use? set "
                  "METRICS_PORT, 0 for none, any for a free one)\"",
                  ports);
        return NULL;
    }
    mg_set_request_handler(mg, "**", probes_metrics, NULL);
    mg_set_auth_handler(mg, "**", s_no_auth, NULL);
    return mg;
}

//  GATEWAY_BODY_TIMEOUT_MS (tests shorten it): 100 ms to 10 minutes. Returns 0, or -1 and logs why.
static int s_body_timeout_from_env(long *ms)
{
    char err[160];
    if (config_getenv_long(ms, "GATEWAY_BODY_TIMEOUT_MS", REQUEST_BODY_TIMEOUT_MS, 100, 600000, err, sizeof err) == 0)
        return 0;
    log_error("server.start", "reason=\"%s\"", err);
    return -1;
}

server_t *server_start(const config_t *cfg, void *zmq_ctx, int threads)
{
    long body_timeout_ms, drain_ms;
    int metrics_port;
    char err[160];
    if (s_body_timeout_from_env(&body_timeout_ms) < 0 || s_metrics_port_from_env(&metrics_port) < 0)
        return NULL;
    if (config_getenv_long(&drain_ms, "DRAIN_TIMEOUT_MS", SERVER_DRAIN_TIMEOUT_MS, 0, 600000, err, sizeof err) != 0) {
        log_error("server.start", "reason=\"%s\"", err);
        return NULL;
    }
    server_t *self = calloc(1, sizeof *self);
    if (!self) {
        log_error("server.start", "reason=\"out of memory\"");
        return NULL;
    }
    self->cfg = *cfg;
    self->zctx = zmq_ctx;
    self->drain_ms = drain_ms;
    atomic_init(&self->in_flight, 0);
    atomic_init(&self->draining, false);
    self->metrics_port = metrics_port;
    probes_init();
    self->rctx = (request_ctx_t){ &self->cfg, body_timeout_ms };
    self->rpc_cfg = (rpc_config_t){ { self->cfg.authsvc_endpoint, self->cfg.apisvc_endpoint },
                                    self->cfg.service_timeout_ms,
                                    self->cfg.timeout_ms };
    s_raise_fd_limit();
    self->hub = rpc_hub_new(zmq_ctx, &self->rpc_cfg);
    if (!self->hub) {
        log_error("server.start", "reason=\"no service client (ZeroMQ sockets or thread)\"");
        free(self);
        return NULL;
    }

    char ports[32], nthreads[16], keep_alive[16], request_timeout[16];
    snprintf(ports, sizeof ports, "127.0.0.1:%d", self->cfg.gateway_internal_port);
    snprintf(nthreads, sizeof nthreads, "%d", threads);
    snprintf(keep_alive, sizeof keep_alive, "%d", SERVER_KEEP_ALIVE_MS);
    snprintf(request_timeout, sizeof request_timeout, "%d", SERVER_REQUEST_TIMEOUT_MS);
    const char *options[] = { "listening_ports",
                              ports,
                              "access_control_list",
                              SERVER_ACL,
                              "num_threads",
                              nthreads,
                              "listen_backlog",
                              "1024",
                              "enable_keep_alive",
                              "yes",
                              "keep_alive_timeout_ms",
                              keep_alive,
                              "request_timeout_ms",
                              request_timeout,
                              "max_request_size",
                              "16384",
                              "tcp_nodelay",
                              "1",
                              "enable_directory_listing",
                              "no",
                              "access_control_allow_origin",
                              "",
                              NULL };
    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.init_thread = s_init_thread;
    callbacks.exit_thread = s_exit_thread;
    callbacks.http_error = s_http_error;
    callbacks.log_message = s_log_message;
    callbacks.init_connection = s_init_connection;
    callbacks.connection_close = s_connection_close;

    mg_init_library(0);
    self->mg = mg_start(&callbacks, self, options);
    if (!self->mg) {
        log_error("server.start", "listen=%s reason=\"civetweb could not start (port in use?)\"", ports);
        mg_exit_library();
        rpc_hub_destroy(&self->hub);
        free(self);
        return NULL;
    }
    mg_set_request_handler(self->mg, "**", s_handle, self);
    //  The gateway has no password-protected paths; without an authorization handler civetweb
    //  looks for a .htpasswd file (a stat) on every request.
    mg_set_auth_handler(self->mg, "**", s_no_auth, NULL);
    if (self->metrics_port && !(self->metrics = s_metrics_start(self, &callbacks))) {
        mg_stop(self->mg);
        mg_exit_library();
        rpc_hub_destroy(&self->hub);
        free(self);
        return NULL;
    }
    log_info("server.start",
             "listen=127.0.0.1:%d admit=127.0.0.1 threads=%d keep_alive_ms=%d body_timeout_ms=%ld "
             "public_url=%s metrics=%s%d",
             server_port(self), threads, SERVER_KEEP_ALIVE_MS, body_timeout_ms, self->cfg.public_url,
             self->metrics ? "127.0.0.1:" : "off", self->metrics ? server_metrics_port(self) : 0);
    return self;
}

int server_port(const server_t *self)
{
    struct mg_server_port ports[4];
    int n = mg_get_server_ports(self->mg, 4, ports);
    return n > 0 ? ports[0].port : -1;
}

int server_metrics_port(const server_t *self)
{
    struct mg_server_port ports[2];
    int n = self->metrics ? mg_get_server_ports(self->metrics, 2, ports) : 0;
    return n > 0 ? ports[0].port : 0;
}

void server_stop(server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    server_t *self = *self_p;
    //  Drain first: once civetweb's stop flag is set its writes go nowhere, so a handler that finished
    //  after it would answer nobody. The rpc hub keeps serving the handlers meanwhile.
    atomic_store(&self->draining, true);
    int64_t t0 = clock_mono_ms();
    int left = atomic_load(&self->in_flight);
    log_info("server.drain", "in_flight=%d drain_timeout_ms=%ld", left, self->drain_ms);
    while (left > 0 && clock_mono_ms() - t0 < self->drain_ms) {
        nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
        left = atomic_load(&self->in_flight);
    }
    if (left > 0)
        log_warn("server.drain_timeout", "in_flight=%d ms=%lld msg=\"stopping with requests unanswered\"", left,
                 (long long) (clock_mono_ms() - t0));
    else
        log_info("server.drained", "ms=%lld", (long long) (clock_mono_ms() - t0));
    if (self->metrics)
        mg_stop(self->metrics);
    mg_stop(self->mg);
    mg_exit_library();
    rpc_hub_destroy(&self->hub);  //  after the workers: none is in a call now
    free(self);
    *self_p = NULL;
}
