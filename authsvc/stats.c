//  stats: see stats.h.
#include "authsvc/stats.h"
#include "common/clock.h"
#include "common/metrics.h"

static struct {
    metrics_family_t *token, *token_seconds, *coalesced, *last_ok, *last_fail;
    metrics_family_t *sessions, *pending, *map_used, *readers;
} s_f;

static void s_collect(metrics_t *m, void *arg)
{
    (void) m;
    authsvc_t *self = arg;
    int64_t n = store_session_count(self->store);
    if (n >= 0)
        metrics_set(s_f.sessions, NULL, (double) n);
    n = store_pending_count(self->store);
    if (n >= 0)
        metrics_set(s_f.pending, NULL, (double) n);
    store_stats_t st;
    if (store_stats(self->store, &st) == 0) {
        metrics_set(s_f.map_used, NULL, st.map_used_ratio);
        metrics_set(s_f.readers, NULL, st.readers);
    }
}

void stats_init(authsvc_t *self)
{
    metrics_t *m = metrics_default();
    static const double bounds[] = METRICS_DURATION_BUCKETS;
    s_f.token =
        metrics_counter(m, "rcauth_oauth_token_requests_total",
                        "Calls of RingCentral's token and revoke endpoints, by grant and result.", "grant,result");
    s_f.token_seconds = metrics_histogram(m, "rcauth_oauth_token_duration_seconds",
                                          "How long RingCentral's token and revoke endpoints took, by grant.", "grant",
                                          bounds, sizeof bounds / sizeof bounds[0]);
    s_f.coalesced =
        metrics_counter(m, "rcauth_refresh_coalesced_total",
                        "Refresh requests answered by another request's refresh (no call of their own).", NULL);
    s_f.last_ok = metrics_gauge(m, "rcauth_refresh_last_success_timestamp_seconds",
                                "When a refresh last stored a new token pair (0: not since start).", NULL);
    s_f.last_fail = metrics_gauge(m, "rcauth_refresh_last_failure_timestamp_seconds",
                                  "When a refresh last failed (0: not since start).", NULL);
    s_f.sessions = metrics_gauge(m, "rcauth_sessions", "Session records in the store.", NULL);
    s_f.pending = metrics_gauge(m, "rcauth_pending_logins", "Pending logins in the store.", NULL);
    s_f.map_used = metrics_gauge(m, "rcauth_store_map_used_ratio", "Share of the LMDB map in use.", NULL);
    s_f.readers = metrics_gauge(m, "rcauth_store_readers", "LMDB reader slots taken.", NULL);
    metrics_set(s_f.last_ok, NULL, 0);
    metrics_set(s_f.last_fail, NULL, 0);
    metrics_add(s_f.coalesced, NULL, 0);
    metrics_add_collect(m, s_collect, self);
}

void stats_token(const char *grant, const http_response_t *resp)
{
    const char *result = resp->error == HTTP_ETIMEOUT                      ? "timeout"
        : resp->error != HTTP_OK                                           ? "error"
        : resp->status >= 200 && resp->status < 300                        ? "ok"
        : resp->status >= 400 && resp->status < 500 && resp->status != 429 ? "rejected"
                                                                           : "error";
    metrics_inc(s_f.token, (const char *[]){ grant, result });
    metrics_observe(s_f.token_seconds, (const char *[]){ grant }, (double) resp->elapsed_ms / 1000.0);
}

void stats_refresh_coalesced(void)
{
    metrics_inc(s_f.coalesced, NULL);
}

void stats_refresh_result(bool ok)
{
    metrics_set(ok ? s_f.last_ok : s_f.last_fail, NULL, (double) clock_now_ms() / 1000.0);
}
