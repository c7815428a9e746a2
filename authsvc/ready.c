//  ready: see ready.h.
#include "authsvc/ready.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>

#define S_REASON_MAX 200

typedef struct {
    authsvc_t *owner;
    svc_peer_t peer;
    uint64_t rid;
    char store[S_REASON_MAX];
    char config[S_REASON_MAX];
} s_job_t;

static void s_reply(s_job_t *job, const char *mock)
{
    proto_msg_t *reply = proto_msg_new(PROTO_READY_OK, job->rid);
    if (reply && proto_msg_set_str(reply, "store", job->store) == 0
        && proto_msg_set_str(reply, "config", job->config) == 0
        && (!mock || proto_msg_set_str(reply, "mock", mock) == 0))
        svc_reply(job->owner->svc, &job->peer, reply);
    else
        svc_reply_error(job->owner->svc, &job->peer, job->rid, PROTO_INTERNAL, "out of memory", -1);
    log_debug("ready", "rid=%llx store=\"%s\" config=\"%s\" mock=\"%s\"", (unsigned long long) job->rid, job->store,
              job->config, mock ? mock : "-");
    proto_msg_destroy(&reply);
    free(job);
}

static void s_mock_done(const http_response_t *resp, void *arg)
{
    char why[S_REASON_MAX];
    if (resp->error == HTTP_OK && resp->status == 200)
        snprintf(why, sizeof why, "ok");
    else if (resp->error == HTTP_OK)
        snprintf(why, sizeof why, "the mock RingCentral answered HTTP %ld", resp->status);
    else
        snprintf(why, sizeof why, "the mock RingCentral does not answer (%s)", http_strerror(resp->error));
    s_reply(arg, why);
}

//  The server the mock answers at in demo mode: the first configured environment's.
static const config_rc_t *s_mock_env(const config_t *cfg)
{
    for (int i = 0; i < CONFIG_ENV_COUNT; i++)
        if (cfg->rc[i].configured)
            return &cfg->rc[i];
    return NULL;
}

void ready_request(authsvc_t *self, const svc_peer_t *peer, proto_msg_t *req)
{
    uint64_t rid = proto_msg_rid(req);
    s_job_t *job = calloc(1, sizeof *job);
    if (!job) {
        svc_reply_error(self->svc, peer, rid, PROTO_INTERNAL, "out of memory", -1);
        return;
    }
    *job = (s_job_t){ .owner = self, .peer = *peer, .rid = rid };
    if (store_check(self->store, job->store, sizeof job->store) == 0)
        snprintf(job->store, sizeof job->store, "ok");
    const config_rc_t *rc = s_mock_env(self->cfg);
    snprintf(job->config, sizeof job->config, "%s", rc ? "ok" : "no RingCentral environment is configured");
    if (!self->cfg->demo_mode) {
        s_reply(job, NULL);
        return;
    }
    char url[CONFIG_VALUE_MAX + 32];
    snprintf(url, sizeof url, "%s/_mock/health", rc ? rc->server_url : "");
    http_request_t get = { .method = "GET", .url = url, .timeout_ms = READY_MOCK_TIMEOUT_MS };
    if (!rc || http_start(self->http, &get, s_mock_done, job) != 0)
        s_reply(job, rc ? "the mock RingCentral check could not start" : "no mock RingCentral is configured");
}
