//  api: see api.h.
#include "apisvc/api.h"
#include "apisvc/json_check.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/rand.h"
#include "common/upstream.h"
#include "proto/proto_api.h"

#include <curl/curl.h>
#include <czmq.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define API_REFRESH_MARGIN_MS 60000
#define API_SHORT_RETRY_S 2
//  How long a RATE_LIMITED answer waits for authsvc to commit the session's hold (HOLD), so
//  that the other apisvc processes hold back too as soon as the caller has seen the 429.
#define API_HOLD_WAIT_MS 1000

typedef struct _s_job_t s_job_t;
struct _s_job_t {
    s_job_t *next;  //  in the delayed list while waiting out a short Retry-After
    api_t *owner;
    svc_t *svc;
    svc_peer_t peer;
    uint64_t rid;
    char sid[STORE_KEY_MAX];
    const char *name, *path;
    char params[PROTO_API_PARAMS_MAX + 1];  //  API{params}, checked against the API's allow-list
    bool refreshed, retried;
    bool loaded;  //  rec holds the session (a job delayed on arrival has not read it yet)
    int64_t retry_at;
    int64_t retry_after;  //  of the RATE_LIMITED answer waiting for HOLD_OK
    char message[256];    //  its message
    store_access_t rec;   //  the session as apisvc may see it: no refresh token (wiped with the job)
};

//  apisvc's metrics (common/metrics.h; nothing without metrics_init).
typedef struct {
    metrics_family_t *calls;    //  rcauth_ringcentral_requests_total{api,code}: code the HTTP status, or the
                                //  transfer's error (timeout, network, too_big, cancelled)
    metrics_family_t *seconds;  //  rcauth_ringcentral_request_duration_seconds{api}
    metrics_family_t *holds;    //  rcauth_rate_limit_holds_total: sessions held back after a 429 (HOLD)
    metrics_family_t *retries;  //  rcauth_upstream_retries_total{reason}: rate_limited, token_rejected
} s_metrics_t;

struct _api_t {
    s_metrics_t m;
    const config_t *cfg;
    store_t *store;
    http_t *http;
    authc_t *authc;
    zhashx_t *blocked;  //  sid -> int64_t* (mono ms) until which the session waits out a 429 (this
                        //  process, at once; the session record's rate_limited_until holds the others)
    s_job_t *delayed;
};

const char *api_path(const char *name)
{
    const proto_api_t *api = proto_api_find(name);
    return api ? api->upstream : NULL;
}

int api_params_ok(const char *name, const char *params)
{
    const proto_api_t *api = proto_api_find(name);
    if (!api)
        return -1;
    if (!params || !*params)
        return 0;
    if (strlen(params) > PROTO_API_PARAMS_MAX)
        return -1;
    char buf[PROTO_API_PARAMS_MAX + 1];
    snprintf(buf, sizeof buf, "%s", params);
    char *save = NULL;
    for (char *pair = strtok_r(buf, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        if (!eq)
            return -1;
        *eq = '\0';
        if (!proto_api_param_ok(api, pair, eq + 1))
            return -1;
    }
    return 0;
}

int api_url_build(const char *server, const char *path, const char *params, char *out, size_t size)
{
    CURLU *u = curl_url();
    char base[CONFIG_VALUE_MAX + 128];
    int rc = -1;
    if (!u || snprintf(base, sizeof base, "%s%s", server, path) >= (int) sizeof base
        || curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK)
        goto done;
    if (params && *params) {
        char buf[PROTO_API_PARAMS_MAX + 1];
        snprintf(buf, sizeof buf, "%s", params);
        char *save = NULL;
        for (char *pair = strtok_r(buf, "&", &save); pair; pair = strtok_r(NULL, "&", &save))
            if (curl_url_set(u, CURLUPART_QUERY, pair, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
                goto done;
    }
    char *url = NULL;
    if (curl_url_get(u, CURLUPART_URL, &url, 0) == CURLUE_OK && strlen(url) < size) {
        memcpy(out, url, strlen(url) + 1);
        rc = 0;
    }
    curl_free(url);
done:
    curl_url_cleanup(u);
    return rc;
}

static void s_free_blocked(void **item)
{
    free(*item);
    *item = NULL;
}

api_t *api_new(const config_t *cfg, store_t *store, http_t *http, authc_t *authc)
{
    api_t *self = calloc(1, sizeof *self);
    if (!self || !(self->blocked = zhashx_new())) {
        free(self);
        return NULL;
    }
    zhashx_set_destructor(self->blocked, s_free_blocked);
    *self = (api_t){ .cfg = cfg, .store = store, .http = http, .authc = authc, .blocked = self->blocked };
    metrics_t *m = metrics_default();
    static const double bounds[] = METRICS_DURATION_BUCKETS;
    self->m.calls =
        metrics_counter(m, "rcauth_ringcentral_requests_total",
                        "Calls of RingCentral's REST APIs, by API and HTTP status (or transfer error).", "api,code");
    self->m.seconds = metrics_histogram(m, "rcauth_ringcentral_request_duration_seconds",
                                        "How long RingCentral's REST APIs took, by API.", "api", bounds,
                                        sizeof bounds / sizeof bounds[0]);
    self->m.holds = metrics_counter(m, "rcauth_rate_limit_holds_total",
                                    "Sessions held back after RingCentral answered 429 (HOLD sent).", NULL);
    self->m.retries = metrics_counter(m, "rcauth_upstream_retries_total",
                                      "API calls made again, by reason (rate_limited: a short Retry-After waited "
                                      "out; token_rejected: after a refresh).",
                                      "reason");
    metrics_add(self->m.holds, NULL, 0);
    metrics_add(self->m.retries, (const char *[]){ "rate_limited" }, 0);
    metrics_add(self->m.retries, (const char *[]){ "token_rejected" }, 0);
    return self;
}

static void s_job_free(s_job_t *job)
{
    sodium_memzero(&job->rec, sizeof job->rec);  //  a memset before free may be optimised away
    free(job);
}

void api_destroy(api_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    api_t *self = *self_p;
    while (self->delayed) {
        s_job_t *job = self->delayed;
        self->delayed = job->next;
        svc_reply_error(job->svc, &job->peer, job->rid, PROTO_UNAVAILABLE, "apisvc is stopping", -1);
        s_job_free(job);
    }
    zhashx_destroy(&self->blocked);
    free(self);
    *self_p = NULL;
}

static void s_fail(s_job_t *job, proto_code_t code, const char *message, int64_t retry_after)
{
    svc_reply_error(job->svc, &job->peer, job->rid, code, message, retry_after);
    s_job_free(job);
}

static void s_hold_done(const proto_msg_t *reply, void *arg);

//  The session makes no upstream call for retry_after seconds: at once in this process, and (HOLD to
//  authsvc, which writes rate_limited_until in the session record) in every apisvc process. job: the
//  request to answer RATE_LIMITED once authsvc has answered the HOLD, or NULL not to wait. Returns 0, or -1
//  when no HOLD was sent (job is then still the caller's).
static int s_block(api_t *self, const char *sid, int64_t retry_after, uint64_t rid, s_job_t *job)
{
    int64_t ms = retry_after < STORE_HOLD_MAX_MS / 1000 ? retry_after * 1000 : STORE_HOLD_MAX_MS;
    metrics_inc(self->m.holds, NULL);
    int64_t *until = malloc(sizeof *until);
    if (until) {
        *until = clock_mono_ms() + ms;
        zhashx_update(self->blocked, sid, until);
    }
    proto_msg_t *req = proto_msg_new(PROTO_HOLD, rid);  //  the request's id: on authsvc's lines too
    int rc = -1;
    if (req && proto_msg_set_str(req, "sid", sid) == 0 && proto_msg_set_int(req, "until", clock_now_ms() + ms) == 0)
        rc = authc_call_within(self->authc, req, API_HOLD_WAIT_MS, s_hold_done, job);
    if (rc != 0)
        log_warn("api.hold_fail", "rid=%llx error=\"could not send HOLD\"",
                 (unsigned long long) (req ? proto_msg_rid(req) : 0));
    proto_msg_destroy(&req);
    return rc;
}

bool api_is_token_error(const char *body, size_t len)
{
    static const char *codes[] = { "TokenInvalid", "TokenExpired", "OAU-149", "OAU-128", "OAU-213" };
    json_t *root = json_loadb(body, len, 0, NULL);
    bool hit = false;
    const char *top = json_string_value(json_object_get(root, "errorCode"));
    json_t *errors = json_object_get(root, "errors");
    for (size_t i = 0; !hit && i < sizeof codes / sizeof codes[0]; i++) {
        hit = top && strcmp(top, codes[i]) == 0;
        size_t k;
        json_t *e;
        json_array_foreach(errors, k, e)
        {
            const char *nested = json_string_value(json_object_get(e, "errorCode"));
            if (nested && strcmp(nested, codes[i]) == 0)
                hit = true;
        }
    }
    json_decref(root);
    return hit;
}

static void s_call(s_job_t *job);
static void s_refresh(s_job_t *job);

//  Answer RATE_LIMITED (retry_after seconds, > 0) and hold the session back that long everywhere: the
//  answer goes once authsvc has recorded the hold (or could not), at most API_HOLD_WAIT_MS later.
static void s_rate_limited(s_job_t *job, const char *message, int64_t retry_after)
{
    snprintf(job->message, sizeof job->message, "%s", message);
    job->retry_after = retry_after;
    if (s_block(job->owner, job->sid, retry_after, job->rid, job) != 0)
        s_fail(job, PROTO_RATE_LIMITED, job->message, retry_after);
}

static void s_hold_done(const proto_msg_t *reply, void *arg)
{
    s_job_t *job = arg;
    if (proto_msg_type(reply) != PROTO_HOLD_OK) {
        const char *msg = proto_msg_str(reply, "message");
        log_warn("api.hold_fail", "rid=%llx code=%s error=\"%s\"", (unsigned long long) proto_msg_rid(reply),
                 proto_code_name(proto_error_code(reply)), msg ? msg : "");
    }
    if (job)
        s_fail(job, PROTO_RATE_LIMITED, job->message, job->retry_after);
}

static void s_call_done(const http_response_t *resp, void *arg)
{
    s_job_t *job = arg;
    api_t *self = job->owner;
    proto_code_t code = upstream_code(resp);
    log_info("api.call", "rid=%llx api=%s status=%ld error=%s ms=%ld", (unsigned long long) job->rid, job->name,
             resp->status, http_strerror(resp->error), resp->elapsed_ms);
    char status[16];
    snprintf(status, sizeof status, "%ld", resp->status);
    metrics_inc(self->m.calls,
                (const char *[]){ job->name, resp->error == HTTP_OK ? status : http_strerror(resp->error) });
    metrics_observe(self->m.seconds, (const char *[]){ job->name }, (double) resp->elapsed_ms / 1000.0);
    if (code == PROTO_OK) {
        if (!json_check_document(resp->body, resp->body_len)) {
            s_fail(job, PROTO_UPSTREAM_ERROR, "RingCentral sent a malformed (non-JSON) answer", -1);
            return;
        }
        proto_msg_t *reply = proto_msg_new(PROTO_API_OK, job->rid);
        if (reply && proto_msg_set_int(reply, "status", resp->status) == 0
            && proto_msg_set_str(reply, "content_type", resp->content_type[0] ? resp->content_type : "application/json")
                == 0
            && proto_msg_set_strn(reply, "body", resp->body, resp->body_len) == 0)
            svc_reply(job->svc, &job->peer, reply);
        else
            svc_reply_error(job->svc, &job->peer, job->rid, PROTO_UPSTREAM_ERROR,
                            "RingCentral's answer cannot be passed on", -1);
        proto_msg_destroy(&reply);
        s_job_free(job);
        return;
    }
    if (resp->error == HTTP_OK && resp->status == 401 && api_is_token_error(resp->body, resp->body_len)) {
        if (!job->refreshed) {
            job->refreshed = true;
            metrics_inc(self->m.retries, (const char *[]){ "token_rejected" });
            s_refresh(job);
        }
        else
            s_fail(job, PROTO_NOT_LOGGED_IN, "RingCentral no longer accepts this login; log in again", -1);
        return;
    }
    if (code == PROTO_RATE_LIMITED) {
        long ra = upstream_retry_after(resp);
        if (!job->retried && ra <= API_SHORT_RETRY_S) {
            //  Wait it out and retry once; the session's other requests meanwhile wait too
            //  (api_handle delays them) instead of hammering RingCentral.
            job->retried = true;
            metrics_inc(self->m.retries, (const char *[]){ "rate_limited" });
            job->retry_at = clock_mono_ms() + ra * 1000;
            job->next = self->delayed;
            self->delayed = job;
            s_block(self, job->sid, ra, job->rid, NULL);
            return;
        }
        s_rate_limited(job, "RingCentral rate limit reached; wait and try again", ra);
        return;
    }
    //  RingCentral refused the call, failed, or could not be reached: its own words go to the page and the log.
    upstream_detail_t detail;
    upstream_detail_read(resp, &detail);
    char words[320];
    log_warn("api.fail", "rid=%llx api=%s env=%s code=%s%s", (unsigned long long) job->rid, job->name, job->rec.env,
             proto_code_name(code), upstream_detail_log(&detail, words, sizeof words));
    proto_msg_t *error = upstream_error_new(job->rid, code, upstream_message(code, resp), -1, job->rec.env, &detail);
    if (error) {
        svc_reply(job->svc, &job->peer, error);
        proto_msg_destroy(&error);
        s_job_free(job);
    }
    else
        s_fail(job, code, upstream_message(code, resp), -1);
}

static void s_call(s_job_t *job)
{
    api_t *self = job->owner;
    int env = config_env_parse(job->rec.env);
    if (env < 0 || !self->cfg->rc[env].configured) {
        s_fail(job, PROTO_UNAVAILABLE, "the session's environment is not configured on this server", -1);
        return;
    }
    char url[CONFIG_VALUE_MAX + 128 + 3 * PROTO_API_PARAMS_MAX];
    if (api_url_build(self->cfg->rc[env].server_url, job->path, job->params, url, sizeof url) != 0) {
        s_fail(job, PROTO_BAD_REQUEST, "the RingCentral URL cannot be built from these parameters", -1);
        return;
    }
    http_request_t req = { .method = "GET", .url = url, .bearer = job->rec.access_token };
    if (http_start(self->http, &req, s_call_done, job) != 0)
        s_fail(job, PROTO_INTERNAL, "could not start the RingCentral call", -1);
}

//  Load the session; then call, or refresh first when the access token is (nearly) stale.
static void s_load_and_go(s_job_t *job, bool may_refresh)
{
    int src = store_access_get(job->owner->store, job->sid, clock_now_ms(), &job->rec);
    if (src == STORE_ENOTFOUND) {
        s_fail(job, PROTO_NOT_LOGGED_IN, "not logged in", -1);
        return;
    }
    if (src != STORE_OK) {
        log_error("api.store", "rid=%llx error=\"%s\"", (unsigned long long) job->rid, store_strerror(src));
        s_fail(job, PROTO_INTERNAL,
               src == STORE_ELOST ? "the token store's data directory was deleted or replaced"
                                  : "the token store failed",
               -1);
        return;
    }
    //  A 429 penalty recorded by any apisvc process (HOLD): answer, or wait out a short rest, without a call.
    int64_t now = clock_now_ms(), left;
    if (__builtin_sub_overflow(job->rec.rate_limited_until, now, &left))
        left = job->rec.rate_limited_until > 0 ? INT64_MAX : INT64_MIN;
    if (left > API_SHORT_RETRY_S * 1000) {
        if (left > STORE_HOLD_MAX_MS)
            left = STORE_HOLD_MAX_MS;
        s_fail(job, PROTO_RATE_LIMITED, "RingCentral rate limit reached; wait and try again", (left + 999) / 1000);
        return;
    }
    if (left > 0) {
        job->loaded = false;  //  read again when due (api_tick)
        job->retry_at = clock_mono_ms() + left;
        job->next = job->owner->delayed;
        job->owner->delayed = job;
        return;
    }
    job->loaded = true;
    if (may_refresh && job->rec.expires_at - now < API_REFRESH_MARGIN_MS) {
        job->refreshed = true;
        s_refresh(job);
    }
    else
        s_call(job);
}

static void s_refresh_done(const proto_msg_t *reply, void *arg)
{
    s_job_t *job = arg;
    if (proto_msg_type(reply) == PROTO_REFRESH_OK)
        s_load_and_go(job, false);
    else {
        proto_code_t code = proto_error_code(reply);
        const char *msg = proto_msg_str(reply, "message");
        int64_t retry_after = proto_msg_int(reply, "retry_after", -1);
        //  A rate-limited refresh: the token stays stale until the penalty is over, so every
        //  call before then would only earn a 401 (and authsvc the same answer): wait it out, in every process.
        if (code == PROTO_RATE_LIMITED && retry_after > 0)
            s_rate_limited(job, msg ? msg : "the token refresh was rate limited", retry_after);
        else if (proto_msg_has(reply, "upstream_status")) {
            //  RingCentral's words about the refused refresh travel on to the page.
            upstream_detail_t d = { .status = (long) proto_msg_int(reply, "upstream_status", 0) };
            const char *c = proto_msg_str(reply, "upstream_code"), *m = proto_msg_str(reply, "upstream_message");
            snprintf(d.code, sizeof d.code, "%s", c ? c : "");
            snprintf(d.message, sizeof d.message, "%s", m ? m : "");
            proto_msg_t *error = upstream_error_new(job->rid, code, msg ? msg : "the token refresh failed", retry_after,
                                                    job->rec.env, &d);
            if (error) {
                svc_reply(job->svc, &job->peer, error);
                proto_msg_destroy(&error);
                s_job_free(job);
            }
            else
                s_fail(job, code, msg ? msg : "the token refresh failed", retry_after);
        }
        else
            s_fail(job, code, msg ? msg : "the token refresh failed", retry_after);
    }
}

static void s_refresh(s_job_t *job)
{
    api_t *self = job->owner;
    proto_msg_t *req = proto_msg_new(PROTO_REFRESH, job->rid);  //  the request's id: on authsvc's lines too
    if (!req || proto_msg_set_str(req, "sid", job->sid) != 0
        || proto_msg_set_int(req, "seen_version", (int64_t) job->rec.version) != 0
        || authc_call(self->authc, req, s_refresh_done, job) != 0)
        s_fail(job, PROTO_UNAVAILABLE, "authsvc cannot be reached to refresh the token", -1);
    proto_msg_destroy(&req);
}

void api_handle(svc_t *svc, const svc_peer_t *peer, proto_msg_t *req, void *arg)
{
    api_t *self = arg;
    uint64_t rid = proto_msg_rid(req);
    //  Any type may arrive (on ipc:// no role is checked): read API's fields only from an API.
    bool is_api = proto_msg_type(req) == PROTO_API;
    const char *sid = is_api ? proto_msg_str(req, "sid") : NULL;
    const char *path = is_api ? api_path(proto_msg_str(req, "api")) : NULL;
    int64_t *until = sid ? zhashx_lookup(self->blocked, sid) : NULL;
    int64_t now = clock_mono_ms();
    if (!is_api)
        svc_reply_error(svc, peer, rid, PROTO_BAD_REQUEST, "apisvc handles API requests only", -1);
    else if (!path)
        svc_reply_error(svc, peer, rid, PROTO_BAD_REQUEST,
                        "unknown api (use extension, extension-call-log or account-call-log)", -1);
    else if (api_params_ok(proto_msg_str(req, "api"), proto_msg_str(req, "params")) != 0)
        svc_reply_error(svc, peer, rid, PROTO_BAD_REQUEST, "a parameter is not allowed for this api or not valid", -1);
    else if (!rand_id_is_valid(sid))
        svc_reply_error(svc, peer, rid, PROTO_NOT_LOGGED_IN, "not logged in", -1);
    else if (until && *until - now > API_SHORT_RETRY_S * 1000)
        svc_reply_error(svc, peer, rid, PROTO_RATE_LIMITED, "RingCentral rate limit reached; wait and try again",
                        (*until - now + 999) / 1000);
    else {
        s_job_t *job = calloc(1, sizeof *job);
        if (!job)
            svc_reply_error(svc, peer, rid, PROTO_INTERNAL, "out of memory", -1);
        else {
            *job = (s_job_t){ .owner = self, .svc = svc, .peer = *peer, .rid = rid, .path = path };
            job->name = proto_api_find(proto_msg_str(req, "api"))->name;  //  static: outlives req
            const char *params = proto_msg_str(req, "params");
            snprintf(job->params, sizeof job->params, "%s", params ? params : "");
            snprintf(job->sid, sizeof job->sid, "%s", sid);
            if (until && *until > now) {
                //  A short penalty: wait it out (api_tick starts the job), as the request that got it does.
                job->retry_at = *until;
                job->next = self->delayed;
                self->delayed = job;
            }
            else
                s_load_and_go(job, true);
        }
    }
    proto_msg_destroy(&req);
}

void api_tick(svc_t *svc, void *arg)
{
    (void) svc;
    api_t *self = arg;
    int64_t now = clock_mono_ms();
    s_job_t *due = NULL;
    for (s_job_t **p = &self->delayed; *p;) {
        s_job_t *job = *p;
        if (job->retry_at <= now) {
            *p = job->next;
            job->next = due;
            due = job;
        }
        else
            p = &job->next;
    }
    while (due) {
        s_job_t *job = due;
        due = job->next;
        job->next = NULL;
        if (job->loaded)
            s_call(job);
        else
            s_load_and_go(job, !job->refreshed);
    }
    //  Forget penalties that are over (bounded work per tick).
    const char *expired[32];
    size_t n = 0;
    for (int64_t *until = zhashx_first(self->blocked); until && n < 32; until = zhashx_next(self->blocked))
        if (*until <= now)
            expired[n++] = zhashx_cursor(self->blocked);
    for (size_t i = 0; i < n; i++)
        zhashx_delete(self->blocked, expired[i]);
}
