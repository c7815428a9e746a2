//  gwtest: test support for gateway/*_test.c only (never included by the gateway itself).
//
//  fake_t: a fake authsvc or apisvc: a ROUTER bound at an ipc endpoint, served
//  by a thread that answers each request with a canned reply (or an injected
//  ERROR, late, after a stale reply, or not at all) and records what it got.
//  http_*: a tiny libcurl client that never follows redirects.
//  All functions are static: each test file gets its own copy.
#ifndef GWTEST_H_INCLUDED
#define GWTEST_H_INCLUDED

#include "common/config.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/rand.h"
#include "gateway/server.h"
#include "gateway/session.h"
#include "proto/proto.h"
#include "tests/testlib.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define FAKE_URL "https://rc.example/restapi/oauth/authorize?response_type=code&client_id=app&state=st8&x=<\"q'>"
#define FAKE_BODY "{\"records\":[{\"name\":\"<b>Alice</b> & J\xc3\xbcrgen\",\"id\":101}],\"paging\":{\"page\":1}}"
#define FAKE_OWNER "owner-7"
#define FAKE_PENDING_MAX 64

typedef enum { FAKE_ANSWER, FAKE_SILENT } fake_mode_t;

typedef struct {
    zmq_msg_t id;
    char *frame;
    size_t size;
    int64_t due;
} fake_pending_t;

typedef struct {
    char endpoint[CONFIG_PATH_MAX];
    const char *service;
    void *zctx;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool bound;
    //  behaviour (set under lock)
    fake_mode_t mode;
    proto_code_t error[PROTO_TYPE_COUNT];  //  answer this type with ERROR{code}; 0: the canned reply
    int64_t retry_after;                   //  for injected errors; < 0 unset
    int delay_ms;                          //  answer requests (not PING) this late
    int uptime;                            //  what PING_OK says (seconds)
    bool stale_first;                      //  send a reply with another id and a garbage frame first
    char logged_in_sid[RAND_ID_SIZE];      //  SESSION of this sid (or new_sid) says logged in
    char new_sid[RAND_ID_SIZE];            //  what EXCHANGE_OK rotates to
    //  records (read under lock)
    int count[PROTO_TYPE_COUNT];
    char last_sid[PROTO_TYPE_COUNT][RAND_ID_SIZE];
    char last_env[PROTO_ENV_MAX + 1], last_code[64], last_state[64], last_api[PROTO_API_NAME_MAX + 1];
    fake_pending_t pending[FAKE_PENDING_MAX];
    int npending;
} fake_t;

static inline void s_fake_copy(char *dst, size_t size, const proto_msg_t *m, const char *field)
{
    const char *v = proto_msg_has(m, field) ? proto_msg_str(m, field) : "";
    snprintf(dst, size, "%s", v);
}

//  The canned reply of req (called with the lock held).
static inline proto_msg_t *s_fake_reply(fake_t *f, const proto_msg_t *req)
{
    proto_type_t type = proto_msg_type(req);
    uint64_t rid = proto_msg_rid(req);
    if (type != PROTO_PING && f->error[type])
        return proto_error_new(rid, f->error[type], "injected by the test", f->retry_after);
    proto_msg_t *r = proto_msg_new(proto_reply_type(type), rid);
    const char *sid = proto_schema_field(type, "sid") && proto_msg_has(req, "sid") ? proto_msg_str(req, "sid") : "";
    switch (type) {
        case PROTO_PING:
            proto_msg_set_str(r, "service", f->service);
            proto_msg_set_int(r, "pid", getpid());
            proto_msg_set_int(r, "uptime", f->uptime);
            break;
        case PROTO_AUTH_URL:
            proto_msg_set_str(r, "url", FAKE_URL);
            proto_msg_set_str(r, "redirect_uri", "http://localhost:5000/oauth2callback");
            break;
        case PROTO_EXCHANGE:
            proto_msg_set_str(r, "new_sid", f->new_sid);
            proto_msg_set_str(r, "env", "sandbox");
            proto_msg_set_str(r, "owner_id", FAKE_OWNER);
            break;
        case PROTO_SESSION: {
            bool in = *sid && (strcmp(sid, f->logged_in_sid) == 0 || strcmp(sid, f->new_sid) == 0);
            proto_msg_set_bool(r, "logged_in", in);
            if (in) {
                proto_msg_set_str(r, "env", "sandbox");
                proto_msg_set_str(r, "owner_id", FAKE_OWNER);
                proto_msg_set_int(r, "access_expires_in", 3000);
            }
            break;
        }
        case PROTO_LOGOUT: proto_msg_set_bool(r, "revoked", true); break;
        case PROTO_API:
            proto_msg_set_int(r, "status", 200);
            proto_msg_set_str(r, "content_type", "application/json; charset=utf-8");
            proto_msg_set_str(r, "body", FAKE_BODY);
            break;
        case PROTO_READY:
            proto_msg_set_str(r, "store", "ok");
            proto_msg_set_str(r, "config", "ok");
            proto_msg_set_str(r, "mock", "ok");
            break;
        case PROTO_STATS: {
            char text[256];
            snprintf(text, sizeof text,
                     "# HELP rcauth_fake_total F.\n# TYPE rcauth_fake_total counter\n"
                     "rcauth_fake_total{service=\"%s\"} 1\n",
                     f->service);
            proto_msg_set_str(r, "text", text);
            break;
        }
        default: break;
    }
    return r;
}

static inline void s_fake_send(void *sock, zmq_msg_t *id, const char *frame, size_t size)
{
    zmq_msg_t copy;
    zmq_msg_init(&copy);
    zmq_msg_copy(&copy, id);
    zmq_msg_send(&copy, sock, ZMQ_SNDMORE);
    zmq_send(sock, frame, size, 0);
}

//  Take one request [id][frame] and answer it now, later, or never.
static inline void s_fake_take(fake_t *f, void *sock)
{
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&id, sock, 0) < 0 || !zmq_msg_more(&id) || zmq_msg_recv(&body, sock, 0) < 0) {
        zmq_msg_close(&id);
        zmq_msg_close(&body);
        return;
    }
    const char *why = NULL;
    uint64_t rid = 0;
    proto_msg_t *req = proto_decode(zmq_msg_data(&body), zmq_msg_size(&body), &why, &rid);
    zmq_msg_close(&body);
    pthread_mutex_lock(&f->lock);
    if (req) {
        proto_type_t type = proto_msg_type(req);
        f->count[type]++;
        pthread_cond_broadcast(&f->cond);
        if (proto_schema_field(type, "sid") && proto_msg_has(req, "sid"))
            s_fake_copy(f->last_sid[type], sizeof f->last_sid[type], req, "sid");
        if (type == PROTO_AUTH_URL)
            s_fake_copy(f->last_env, sizeof f->last_env, req, "env");
        if (type == PROTO_EXCHANGE) {
            s_fake_copy(f->last_code, sizeof f->last_code, req, "code");
            s_fake_copy(f->last_state, sizeof f->last_state, req, "state");
        }
        if (type == PROTO_API)
            s_fake_copy(f->last_api, sizeof f->last_api, req, "api");
    }
    proto_msg_t *reply = req && f->mode == FAKE_ANSWER ? s_fake_reply(f, req) : NULL;
    char *frame = NULL;
    size_t size = 0;
    if (reply && proto_encode(reply, &frame, &size) == 0) {
        if (f->stale_first && proto_msg_type(req) != PROTO_PING) {
            proto_msg_t *stale = proto_error_new(rid + 1000, PROTO_INTERNAL, "stale", -1);
            char *sf = NULL;
            size_t ss = 0;
            if (stale && proto_encode(stale, &sf, &ss) == 0)
                s_fake_send(sock, &id, sf, ss);
            free(sf);
            proto_msg_destroy(&stale);
            s_fake_send(sock, &id, "\xc1garbage", 8);
        }
        if (f->delay_ms > 0 && proto_msg_type(req) != PROTO_PING && f->npending < FAKE_PENDING_MAX) {
            fake_pending_t *p = &f->pending[f->npending++];
            zmq_msg_init(&p->id);
            zmq_msg_copy(&p->id, &id);
            p->frame = frame;
            p->size = size;
            p->due = clock_mono_ms() + f->delay_ms;
            frame = NULL;
        }
        else
            s_fake_send(sock, &id, frame, size);
    }
    pthread_mutex_unlock(&f->lock);
    free(frame);
    proto_msg_destroy(&reply);
    proto_msg_destroy(&req);
    zmq_msg_close(&id);
}

//  Send the delayed replies that are due; returns ms until the next one (or 20).
static inline long s_fake_flush(fake_t *f, void *sock)
{
    long wait = 20;
    pthread_mutex_lock(&f->lock);
    int64_t now = clock_mono_ms();
    for (int i = 0; i < f->npending;) {
        fake_pending_t *p = &f->pending[i];
        if (p->due <= now) {
            s_fake_send(sock, &p->id, p->frame, p->size);
            zmq_msg_close(&p->id);
            free(p->frame);
            f->pending[i] = f->pending[--f->npending];
            continue;
        }
        if (p->due - now < wait)
            wait = (long) (p->due - now);
        i++;
    }
    pthread_mutex_unlock(&f->lock);
    return wait;
}

static inline void *s_fake_run(void *arg)
{
    fake_t *f = arg;
    void *sock = zmq_socket(f->zctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    int rc = zmq_bind(sock, f->endpoint);
    pthread_mutex_lock(&f->lock);
    f->bound = rc == 0;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    while (rc == 0 && !atomic_load(&f->stop)) {
        long wait = s_fake_flush(f, sock);
        zmq_pollitem_t item = { .socket = sock, .events = ZMQ_POLLIN };
        if (zmq_poll(&item, 1, wait) > 0)
            s_fake_take(f, sock);
    }
    for (int i = 0; i < f->npending; i++) {
        zmq_msg_close(&f->pending[i].id);
        free(f->pending[i].frame);
    }
    f->npending = 0;
    zmq_close(sock);
    return NULL;
}

//  Prepare a fake (not yet bound) for service at endpoint.
static inline void fake_init(fake_t *f, void *zctx, const char *service, const char *endpoint)
{
    char copy[CONFIG_PATH_MAX];  //  endpoint may live next to f: copy it before clearing f
    snprintf(copy, sizeof copy, "%s", endpoint);
    memset(f, 0, sizeof *f);
    f->zctx = zctx;
    f->service = service;
    f->retry_after = -1;
    f->uptime = 1;
    memcpy(f->endpoint, copy, sizeof copy);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    rand_id(f->logged_in_sid, sizeof f->logged_in_sid);
    rand_id(f->new_sid, sizeof f->new_sid);
}

//  Bind and serve; returns once bound (true) or failed (false).
static inline bool fake_start(fake_t *f)
{
    atomic_store(&f->stop, false);
    f->bound = false;
    if (pthread_create(&f->thread, NULL, s_fake_run, f) != 0)
        return false;
    f->running = true;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&f->lock);
    int rc = 0;
    while (!f->bound && rc == 0)
        rc = pthread_cond_timedwait(&f->cond, &f->lock, &until);
    bool bound = f->bound;
    pthread_mutex_unlock(&f->lock);
    return bound;
}

static inline void fake_stop(fake_t *f)
{
    if (!f->running)
        return;
    atomic_store(&f->stop, true);
    pthread_join(f->thread, NULL);
    f->running = false;
}

static inline void fake_destroy(fake_t *f)
{
    fake_stop(f);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
}

//  Back to answering everything at once with the canned replies; records cleared.
static inline void fake_reset(fake_t *f)
{
    pthread_mutex_lock(&f->lock);
    memset(f->error, 0, sizeof f->error);
    memset(f->count, 0, sizeof f->count);
    memset(f->last_sid, 0, sizeof f->last_sid);
    f->last_env[0] = f->last_code[0] = f->last_state[0] = f->last_api[0] = '\0';
    f->retry_after = -1;
    f->mode = FAKE_ANSWER;
    f->delay_ms = 0;
    f->stale_first = false;
    pthread_mutex_unlock(&f->lock);
}

static inline int fake_count(fake_t *f, proto_type_t type)
{
    pthread_mutex_lock(&f->lock);
    int n = f->count[type];
    pthread_mutex_unlock(&f->lock);
    return n;
}

//  Whether the last request of type that f saw carried sid (read under f's lock: the fake's thread writes it).
static inline bool fake_saw_sid(fake_t *f, proto_type_t type, const char *sid)
{
    pthread_mutex_lock(&f->lock);
    bool same = strcmp(f->last_sid[type], sid) == 0;
    pthread_mutex_unlock(&f->lock);
    return same;
}
//  Wait until the fake has received n requests of type, or timeout_ms passed. Returns true when it has.
static inline bool fake_wait_count(fake_t *f, proto_type_t type, int n, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long) (timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&f->lock);
    int rc = 0;
    while (f->count[type] < n && rc == 0)
        rc = pthread_cond_timedwait(&f->cond, &f->lock, &until);
    bool reached = f->count[type] >= n;
    pthread_mutex_unlock(&f->lock);
    return reached;
}

static inline void fake_set_error(fake_t *f, proto_type_t type, proto_code_t code, int64_t retry_after)
{
    pthread_mutex_lock(&f->lock);
    f->error[type] = code;
    f->retry_after = retry_after;
    pthread_mutex_unlock(&f->lock);
}

static inline void fake_set_mode(fake_t *f, fake_mode_t mode, int delay_ms, bool stale_first)
{
    pthread_mutex_lock(&f->lock);
    f->mode = mode;
    f->delay_ms = delay_ms;
    f->stale_first = stale_first;
    pthread_mutex_unlock(&f->lock);
}

//  ---------------------------------------------------------------- HTTP client

typedef struct {
    long status;
    char *body;
    size_t body_len;
    char *head;  //  every response header line, as received
    size_t head_len;
    long ms;
    bool ok;  //  curl got a response
} http_resp_t;

typedef struct {
    char **data;
    size_t *len;
} s_sink_t;

static inline size_t s_http_collect(char *ptr, size_t size, size_t nmemb, void *arg)
{
    s_sink_t *sink = arg;
    size_t n = size * nmemb;
    if (*sink->len + n > (64u << 20))
        return 0;
    char *grown = realloc(*sink->data, *sink->len + n + 1);
    if (!grown)
        return 0;
    memcpy(grown + *sink->len, ptr, n);
    *sink->len += n;
    grown[*sink->len] = '\0';
    *sink->data = grown;
    return n;
}

//  One request to the gateway at port; headers is NULL-terminated (may be NULL), body NULL for none.
static inline http_resp_t http_do(int port, const char *method, const char *path, const char *const *headers,
                                  const char *body)
{
    http_resp_t r = { 0 };
    CURL *c = curl_easy_init();
    char url[20000];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    struct curl_slist *list = NULL;
    for (size_t i = 0; headers && headers[i]; i++)
        list = curl_slist_append(list, headers[i]);
    s_sink_t body_sink = { &r.body, &r.body_len }, head_sink = { &r.head, &r.head_len };
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long) strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_http_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body_sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s_http_collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &head_sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    int64_t t0 = clock_mono_ms();
    r.ok = curl_easy_perform(c) == CURLE_OK;
    r.ms = (long) (clock_mono_ms() - t0);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    if (!r.body)
        r.body = calloc(1, 1);
    if (!r.head)
        r.head = calloc(1, 1);
    return r;
}

static inline http_resp_t http_get(int port, const char *path, const char *const *headers)
{
    return http_do(port, "GET", path, headers, NULL);
}

static inline void http_free(http_resp_t *r)
{
    free(r->body);
    free(r->head);
    r->body = r->head = NULL;
}

//  The value of response header name (the first one) into out. Returns false when absent.
static inline bool http_header(const http_resp_t *r, const char *name, char *out, size_t size)
{
    out[0] = '\0';
    size_t n = strlen(name);
    for (const char *line = r->head; line && *line;) {
        const char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t) (end - line) : strlen(line);
        if (len > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            snprintf(out, size, "%.*s", (int) (len - (size_t) (v - line)), v);
            return true;
        }
        line = end ? end + 2 : NULL;
    }
    return false;
}

static inline bool http_has(const http_resp_t *r, const char *text)
{
    return r->body && strstr(r->body, text) != NULL;
}

//  ---------------------------------------------------------------- a server with fake services

//  SERVICE_TIMEOUT_MS of the servers gwenv starts.
#define GWENV_TIMEOUT_MS 600

//  The METRICS_PORT of the servers gwenv starts (0: none, SERVER_METRICS_ANY: "any"); a test that sets it sets it back to 0.
static int gwenv_metrics_port;

//  A gateway server on 127.0.0.1:<any port> with fake authsvc and apisvc on ipc endpoints.
typedef struct {
    config_t cfg;
    void *zctx;
    fake_t auth, api;
    server_t *server;
    int port;
    char cookie[128];  //  "Cookie: rcsid=<the fake's logged-in sid>.<tag>"
} gwenv_t;

//  Start e: threads workers; https: PUBLIC_URL is https (the __Host- cookie); start_fakes: the fakes answer.
static inline void gwenv_up_with(gwenv_t *e, bool start_fakes, int threads, bool https)
{
    static int seq;  //  each server its own endpoints
    memset(e, 0, sizeof *e);
    e->zctx = zmq_ctx_new();
    e->cfg.gateway_internal_port = 0;
    e->cfg.public_https = https;
    snprintf(e->cfg.public_url, sizeof e->cfg.public_url, "%s://localhost:5000", https ? "https" : "http");
    snprintf(e->cfg.authsvc_endpoint, sizeof e->cfg.authsvc_endpoint, "ipc://%s/auth%d.sock", test_tmpdir(), seq);
    snprintf(e->cfg.apisvc_endpoint, sizeof e->cfg.apisvc_endpoint, "ipc://%s/api%d.sock", test_tmpdir(), seq++);
    snprintf(e->cfg.rc_env_dir, sizeof e->cfg.rc_env_dir, "environment");
    e->cfg.service_timeout_ms = GWENV_TIMEOUT_MS;
    e->cfg.timeout_ms = 1000;
    e->cfg.demo_mode = true;
    char metrics_port[16];  //  none unless a test asks (gwenv_metrics_port): test servers never take 9464
    snprintf(metrics_port, sizeof metrics_port, "%d", gwenv_metrics_port);
    setenv("METRICS_PORT", gwenv_metrics_port == SERVER_METRICS_ANY ? "any" : metrics_port, 1);
    fake_init(&e->auth, e->zctx, "authsvc", e->cfg.authsvc_endpoint);
    fake_init(&e->api, e->zctx, "apisvc", e->cfg.apisvc_endpoint);
    char err[128], value[SESSION_COOKIE_VALUE_SIZE];
    static bool keyed;  //  one key per test process: a second server accepts the first one's cookies
    if (!keyed)
        CHECK((keyed = session_key_load(NULL, err, sizeof err) == 0));
    CHECK(session_cookie_value(e->auth.logged_in_sid, value, sizeof value) == 0);
    snprintf(e->cookie, sizeof e->cookie, "Cookie: %s=%s", session_cookie_name(https), value);
    //  both fakes know the same logged-in session
    memcpy(e->api.logged_in_sid, e->auth.logged_in_sid, sizeof e->api.logged_in_sid);
    if (start_fakes) {
        CHECK(fake_start(&e->auth));
        CHECK(fake_start(&e->api));
    }
    e->server = server_start(&e->cfg, e->zctx, threads);
    CHECK(e->server != NULL);
    e->port = e->server ? server_port(e->server) : -1;
    CHECK(e->port > 0);
}

//  Start e with 8 workers over http.
static inline void gwenv_up(gwenv_t *e, bool start_fakes)
{
    gwenv_up_with(e, start_fakes, 8, false);
}

//  Stop e's server and fakes.
static inline void gwenv_down(gwenv_t *e)
{
    server_stop(&e->server);
    CHECK(e->server == NULL);
    fake_destroy(&e->auth);
    fake_destroy(&e->api);
    zmq_ctx_term(e->zctx);
}

//  The server most cases of a test binary share (a civetweb stop takes seconds). up: start it (if not yet),
//  reset its fakes and return it; !up: stop it (if started) and return NULL.
static inline gwenv_t *s_gwenv_shared(bool up)
{
    static gwenv_t env;
    static bool is_up;
    if (!up) {
        if (is_up)
            gwenv_down(&env);
        is_up = false;
        return NULL;
    }
    if (!is_up) {
        gwenv_up(&env, true);
        is_up = true;
    }
    fake_reset(&env.auth);
    fake_reset(&env.api);
    return &env;
}

//  The shared server, started on first use, with both fakes reset.
static inline gwenv_t *gwenv_shared(void)
{
    return s_gwenv_shared(true);
}

//  Stop the shared server if a case started it (at the end of main).
static inline void gwenv_shared_down(void)
{
    s_gwenv_shared(false);
}

//  The main of a test binary whose cases use the shared server: logging as name, random ids and libcurl set up,
//  the cases run, then the shared server stopped. Returns the exit status (2 when the set-up fails).
static inline int gwenv_main(const char *name, int argc, char **argv, const test_case_t *cases, size_t count)
{
    log_init(name, LOGL_WARN);
    if (rand_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return 2;
    int rc = test_main(argc, argv, cases, count);
    gwenv_shared_down();
    curl_global_cleanup();
    return rc;
}
#define GWENV_MAIN(name, argc, argv, cases) \
    gwenv_main((name), (argc), (argv), (cases), sizeof(cases) / sizeof((cases)[0]))

#endif
