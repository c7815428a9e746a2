//  probes: see probes.h.
#include "gateway/probes.h"
#include "common/log.h"
#include "common/metrics.h"
#include "gateway/reply.h"

#include <civetweb.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The gateway's own rendering, and all of them merged: the services' each fit a STATS_OK (PROTO_FIELD_MAX).
#define S_OWN_MAX ((size_t) 128 << 10)
#define S_ALL_MAX (S_OWN_MAX + RPC_SERVICE_COUNT * (size_t) PROTO_FIELD_MAX)

static struct {
    metrics_family_t *requests, *seconds, *in_flight, *busy, *up;
} s_f;

void probes_init(void)
{
    metrics_t *m = metrics_default();
    static const double bounds[] = METRICS_DURATION_BUCKETS;
    s_f.requests =
        metrics_counter(m, "rcauth_http_requests_total", "HTTP requests answered, by route and status.", "route,code");
    s_f.seconds = metrics_histogram(m, "rcauth_http_request_duration_seconds", "How long HTTP requests took, by route.",
                                    "route", bounds, sizeof bounds / sizeof bounds[0]);
    s_f.in_flight = metrics_gauge(m, "rcauth_http_in_flight", "HTTP requests being handled.", NULL);
    s_f.busy = metrics_gauge(m, "rcauth_http_busy_workers",
                             "Worker threads holding a connection (handling a request or keeping it alive).", NULL);
    s_f.up = metrics_gauge(m, "rcauth_service_up", "Whether the service answered the gateway's STATS (1) or not (0).",
                           "service");
    metrics_set(s_f.in_flight, NULL, 0);
    metrics_set(s_f.busy, NULL, 0);
}

bool probes_is_probe(const char *route)
{
    return strcmp(route, "/healthz") == 0 || strcmp(route, "/readyz") == 0;
}

void probes_request_begin(void)
{
    metrics_add(s_f.in_flight, NULL, 1);
}

void probes_request_end(const char *route, int status, double seconds)
{
    char code[16];
    snprintf(code, sizeof code, "%d", status);
    metrics_add(s_f.in_flight, NULL, -1);
    metrics_inc(s_f.requests, (const char *[]){ route, code });
    metrics_observe(s_f.seconds, (const char *[]){ route }, seconds);
}

void probes_connection(int delta)
{
    metrics_add(s_f.busy, NULL, delta);
}

//  Send root as JSON with status (no-store). Returns the status sent.
static int s_json(struct mg_connection *conn, int status, json_t *root)
{
    char *body = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    static const char oom[] = "{\"status\":\"fail\"}";
    int sent = reply_send(conn, body ? status : 503, "application/json", body ? body : oom,
                          body ? strlen(body) : sizeof oom - 1, NULL, 0);
    free(body);
    return sent;
}

int probes_healthz(request_t *r)
{
    return s_json(r->conn, 200, json_pack("{s:s}", "status", "ok"));
}

//  The names of the checks that failed, for the log line ("apisvc,store").
typedef struct {
    char names[64];
    size_t len;
} s_failed_t;

//  Add check name to checks: ok, or fail with reason (and name to failed). Returns ok.
static bool s_check(json_t *checks, s_failed_t *failed, const char *name, bool ok, const char *reason)
{
    json_object_set_new(checks, name,
                        ok ? json_pack("{s:s}", "status", "ok")
                           : json_pack("{s:s, s:s}", "status", "fail", "reason", reason ? reason : "?"));
    if (!ok) {
        int n = snprintf(failed->names + failed->len, sizeof failed->names - failed->len, "%s%s",
                         failed->len ? "," : "", name);
        if (n > 0 && (size_t) n < sizeof failed->names - failed->len)
            failed->len += (size_t) n;
    }
    return ok;
}

//  Why a call failed: the ERROR's message ("apisvc is not reachable"), or a word for an odd reply.
static const char *s_why(const proto_msg_t *reply)
{
    const char *message = proto_msg_type(reply) == PROTO_ERROR ? proto_msg_str(reply, "message") : NULL;
    return message && *message ? message : "no answer";
}

//  A field of READY_OK: "ok" passes; anything else is the reason. authsvc down: every one of its checks fails.
static bool s_ready_field(json_t *checks, s_failed_t *failed, const char *name, const proto_msg_t *ready)
{
    if (!ready)
        return s_check(checks, failed, name, false, "authsvc did not answer");
    const char *v = proto_msg_str(ready, name);
    return s_check(checks, failed, name, v && strcmp(v, "ok") == 0, v ? v : "authsvc did not say");
}

//  One line when what fails changes (a prober asks every few seconds: a line each time would drown the log).
static void s_log_change(uint64_t rid, const char *failed)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static char last[sizeof((s_failed_t *) 0)->names];
    pthread_mutex_lock(&lock);
    bool changed = strcmp(last, failed) != 0;
    if (changed)
        snprintf(last, sizeof last, "%s", failed);
    pthread_mutex_unlock(&lock);
    if (changed && *failed)
        log_warn("readyz.fail", "rid=%llx failed=%s", (unsigned long long) rid, failed);
    else if (changed)
        log_info("readyz.ok", "rid=%llx msg=\"every check passes again\"", (unsigned long long) rid);
}

int probes_readyz(request_t *r)
{
    proto_msg_t *ready = request_message(r, PROTO_READY), *ping = request_message(r, PROTO_PING);
    rpc_call_t calls[RPC_SERVICE_COUNT] = { { RPC_AUTHSVC, ready, NULL, PROBES_CHECK_MS },
                                            { RPC_APISVC, ping, NULL, PROBES_CHECK_MS } };
    if (ready && ping)
        rpc_call_many(r->rpc, calls, RPC_SERVICE_COUNT);
    const proto_msg_t *auth =
        calls[0].reply && proto_msg_type(calls[0].reply) == PROTO_READY_OK ? calls[0].reply : NULL;
    bool api_up = calls[1].reply && proto_msg_type(calls[1].reply) == PROTO_PING_OK;
    json_t *checks = json_object();
    s_failed_t failed = { "", 0 };
    bool ok = s_check(checks, &failed, "authsvc", auth != NULL, s_why(calls[0].reply));
    ok &= s_check(checks, &failed, "apisvc", api_up, s_why(calls[1].reply));
    ok &= s_ready_field(checks, &failed, "store", auth);
    ok &= s_ready_field(checks, &failed, "config", auth);
    if (r->ctx->cfg->demo_mode)
        ok &= s_ready_field(checks, &failed, "mock", auth);
    for (int i = 0; i < RPC_SERVICE_COUNT; i++)
        proto_msg_destroy(&calls[i].reply);
    proto_msg_destroy(&ready);
    proto_msg_destroy(&ping);
    s_log_change(r->rid, failed.names);
    json_t *root = json_pack("{s:s, s:o}", "status", ok ? "ok" : "fail", "checks", checks);
    return s_json(r->conn, ok ? 200 : 503, root);
}

int probes_metrics(struct mg_connection *conn, void *cbdata)
{
    (void) cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (!ri || !ri->local_uri || strcmp(ri->local_uri, "/metrics") != 0) {
        static const char none[] = "not found: the metrics are at /metrics\n";
        return reply_send(conn, 404, "text/plain; charset=utf-8", none, sizeof none - 1, NULL, 0);
    }
    if (!ri->request_method || strcmp(ri->request_method, "GET") != 0) {
        static const char no[] = "GET only\n";
        reply_header_t allow[] = { { "Allow", "GET" } };
        return reply_send(conn, 405, "text/plain; charset=utf-8", no, sizeof no - 1, allow, 1);
    }
    rpc_t *rpc = mg_get_thread_pointer(conn);
    proto_msg_t *reqs[RPC_SERVICE_COUNT] = { NULL, NULL };
    rpc_call_t calls[RPC_SERVICE_COUNT];
    for (int i = 0; i < RPC_SERVICE_COUNT; i++) {
        reqs[i] = rpc ? rpc_request(rpc, PROTO_STATS) : NULL;
        calls[i] = (rpc_call_t){ (rpc_service_t) i, reqs[i], NULL, PROBES_CHECK_MS };
    }
    if (reqs[0] && reqs[1])
        rpc_call_many(rpc, calls, RPC_SERVICE_COUNT);
    const char *texts[1 + RPC_SERVICE_COUNT] = { NULL };
    for (int i = 0; i < RPC_SERVICE_COUNT; i++) {
        bool up = calls[i].reply && proto_msg_type(calls[i].reply) == PROTO_STATS_OK;
        metrics_set(s_f.up, (const char *[]){ rpc_service_name((rpc_service_t) i) }, up);
        texts[1 + i] = up ? proto_msg_str(calls[i].reply, "text") : NULL;
    }
    char *own = malloc(S_OWN_MAX), *all = malloc(S_ALL_MAX);
    int sent;
    if (own && all) {
        metrics_render(metrics_default(), own, S_OWN_MAX);
        texts[0] = own;
        size_t len = metrics_merge(texts, 1 + RPC_SERVICE_COUNT, all, S_ALL_MAX);
        sent = reply_send(conn, 200, METRICS_CONTENT_TYPE, all, len, NULL, 0);
    }
    else {
        static const char oom[] = "out of memory\n";
        sent = reply_send(conn, 503, "text/plain; charset=utf-8", oom, sizeof oom - 1, NULL, 0);
    }
    log_debug("metrics.scrape", "status=%d authsvc=%d apisvc=%d", sent, texts[1] != NULL, texts[2] != NULL);
    free(own);
    free(all);
    for (int i = 0; i < RPC_SERVICE_COUNT; i++) {
        proto_msg_destroy(&calls[i].reply);
        proto_msg_destroy(&reqs[i]);
    }
    return sent < 0 ? 500 : sent;
}
