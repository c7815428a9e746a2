//  server: see server.h.
#include "tests/mockrc/server.h"

#include "common/log.h"
#include "tests/mockrc/routes.h"
#include "tests/mockrc/web.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct _server_t {
    struct mg_context *ctx;
    int port;
    char host[64];  //  where clients (and the waker) connect
    char url[128];
    atomic_bool stopped;  //  tells the waker mg_stop has returned
};

static int s_log_message(const struct mg_connection *c, const char *message)
{
    (void) c;
    log_warn("civetweb", "msg=\"%.200s\"", message);
    return 1;
}

static void s_end_request(const struct mg_connection *c, int status)
{
    if (!log_enabled(LOGL_DEBUG))
        return;
    const struct mg_request_info *ri = mg_get_request_info(c);
    //  The path only: query strings and bodies may carry codes and tokens.
    log_debug("http.request", "method=%s path=%.200s status=%d", ri->request_method,
              ri->local_uri ? ri->local_uri : "-", status);
}

server_t *server_start(const char *bind, long port, long threads, long keep_alive_ms, state_t *st)
{
    server_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    atomic_init(&self->stopped, false);
    char ports[300], nthreads[16], keep_alive[16];
    snprintf(ports, sizeof ports, strchr(bind, ':') ? "[%s]:%ld" : "%s:%ld", bind, port);
    snprintf(nthreads, sizeof nthreads, "%ld", threads);
    snprintf(keep_alive, sizeof keep_alive, "%ld", keep_alive_ms);
    const char *options[] = {
        "listening_ports",
        ports,
        "num_threads",
        nthreads,
        "enable_keep_alive",
        "yes",
        "keep_alive_timeout_ms",
        keep_alive,
        "tcp_nodelay",
        "1",
        "listen_backlog",
        "1024",
        NULL,
    };
    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.log_message = s_log_message;
    callbacks.end_request = s_end_request;
    self->ctx = mg_start(&callbacks, st, options);
    struct mg_server_port bound;
    if (!self->ctx || mg_get_server_ports(self->ctx, 1, &bound) != 1) {
        log_error("server.start_failed", "bind=%s port=%ld", bind, port);
        server_stop(&self);
        return NULL;
    }
    self->port = bound.port;
    mg_set_request_handler(self->ctx, "/", routes_handle, st);
    int any = strcmp(bind, "0.0.0.0") == 0 || strcmp(bind, "::") == 0;
    snprintf(self->host, sizeof self->host, "%s", any ? "127.0.0.1" : bind);
    snprintf(self->url, sizeof self->url, strchr(self->host, ':') ? "http://[%s]:%d" : "http://%s:%d", self->host,
             self->port);
    return self;
}

int server_port(const server_t *self)
{
    return self->port;
}

const char *server_url(const server_t *self)
{
    return self->url;
}

//  civetweb's listener, and workers idle on keep-alive connections, poll in 2 s
//  slices, so mg_stop alone takes up to 2 s. While it runs, this thread ends
//  reading on the accepted connections and connects to the listener every
//  20 ms, which wakes them all.
static void *s_waker(void *arg)
{
    server_t *self = arg;
    struct sockaddr_storage sa;
    memset(&sa, 0, sizeof sa);
    socklen_t len;
    struct sockaddr_in *in = (struct sockaddr_in *) &sa;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &sa;
    if (inet_pton(AF_INET, self->host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t) self->port);
        len = sizeof *in;
    }
    else if (inet_pton(AF_INET6, self->host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t) self->port);
        len = sizeof *in6;
    }
    else
        return NULL;
    while (!atomic_load(&self->stopped)) {
        web_end_reads(self->port);
        int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
            connect(fd, (struct sockaddr *) &sa, len);
            close(fd);
        }
        nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
    }
    return NULL;
}

void server_stop(server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    server_t *self = *self_p;
    if (self->ctx) {
        pthread_t waker;
        int have_waker = self->port > 0 && pthread_create(&waker, NULL, s_waker, self) == 0;
        mg_stop(self->ctx);
        atomic_store(&self->stopped, true);
        if (have_waker)
            pthread_join(waker, NULL);
    }
    free(self);
    *self_p = NULL;
}
