//  fault: see fault.h.
#include "tests/mockrc/fault.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_MAX 64

static const struct {
    const char *name;
    unsigned targets;
} s_targets[] = {
    { "token", FAULT_CODE | FAULT_REFRESH | FAULT_TOKEN_OTHER },
    { "code", FAULT_CODE },
    { "refresh", FAULT_REFRESH },
    { "revoke", FAULT_REVOKE },
    { "api", FAULT_EXTENSION | FAULT_EXTENSION_CALL_LOG | FAULT_ACCOUNT_CALL_LOG },
    { "extension", FAULT_EXTENSION },
    { "extension-call-log", FAULT_EXTENSION_CALL_LOG },
    { "account-call-log", FAULT_ACCOUNT_CALL_LOG },
    { "authorize", FAULT_AUTHORIZE },
    { "any", ~0u },
};

static const char *s_kinds[] = {
    [FAULT_500] = "500",
    [FAULT_503] = "503",
    [FAULT_429] = "429",
    [FAULT_SLOW] = "slow",
    [FAULT_GARBAGE] = "garbage",
    [FAULT_DROP] = "drop",
    [FAULT_HANG] = "hang",
    [FAULT_403_PERMISSION] = "403-permission",
    [FAULT_403_ADMIN] = "403-admin",
    [FAULT_INVALID_CLIENT] = "invalid_client",
    [FAULT_UNAUTHORIZED_CLIENT] = "unauthorized_client",
};

//  RingCentral's bodies for these answers, as its API and token endpoint send them.
static const struct {
    int status;
    const char *body;
} s_bodies[FAULT_KIND_COUNT] = {
    [FAULT_403_PERMISSION] = { 403,
                               "{\"errorCode\":\"InsufficientPermissions\",\"message\":\"In order to call this API "
                               "endpoint, "
                               "application needs to have [ReadCallLog] "
                               "permission\",\"errors\":[{\"errorCode\":\"CMN-401\","
                               "\"message\":\"In order to call this API endpoint, application needs to have "
                               "[ReadCallLog] "
                               "permission\",\"permissionName\":\"ReadCallLog\"}],\"permissionName\":"
                               "\"ReadCallLog\"}" },
    [FAULT_403_ADMIN] = { 403,
                          "{\"errorCode\":\"CMN-408\",\"message\":\"In order to call this API endpoint, user needs to "
                          "have "
                          "[ReadCompanyCallLog] permission for requested "
                          "resource.\",\"errors\":[{\"errorCode\":\"CMN-408\","
                          "\"message\":\"In order to call this API endpoint, user needs to have [ReadCompanyCallLog] "
                          "permission "
                          "for requested resource.\",\"permissionName\":\"ReadCompanyCallLog\"}],"
                          "\"permissionName\":\"ReadCompanyCallLog\"}" },
    [FAULT_INVALID_CLIENT] = { 401,
                               "{\"error\":\"invalid_client\",\"errors\":[{\"errorCode\":\"OAU-123\",\"message\":"
                               "\"Invalid "
                               "client: mock-client\"}],\"error_description\":\"Invalid client: mock-client\"}" },
    [FAULT_UNAUTHORIZED_CLIENT] = { 400,
                                    "{\"error\":\"unauthorized_client\",\"errors\":[{\"errorCode\":\"OAU-251\","
                                    "\"message\":"
                                    "\"Unauthorized for this grant type\"}],\"error_description\":\"Unauthorized for "
                                    "this grant type\"}" },
};

const char *fault_body(fault_kind_t kind, int *status_p)
{
    if ((int) kind < 0 || kind >= FAULT_KIND_COUNT || !s_bodies[kind].body)
        return NULL;
    *status_p = s_bodies[kind].status;
    return s_bodies[kind].body;
}

struct _fault_queue_t {
    pthread_mutex_t lock;
    atomic_int length;  //  read without the lock: the common case is an empty queue
    fault_t items[QUEUE_MAX];
};

//  Read an optional integer field within [min, max]. Returns 0, or -1 with err set.
static int s_int_field(const json_t *spec, const char *key, long min, long max, long *value, char *err, size_t err_size)
{
    json_t *v = json_object_get(spec, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        snprintf(err, err_size, "%s must be an integer in [%ld, %ld]", key, min, max);
        return -1;
    }
    *value = (long) json_integer_value(v);
    return 0;
}

int fault_parse(const json_t *spec, fault_t *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    out->count = 1;
    out->retry_after = 60;
    out->delay_ms = 1000;
    if (!json_is_object(spec)) {
        snprintf(err, err_size, "the fault must be a JSON object");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *) spec, key, v)
    {
        if (strcmp(key, "target") && strcmp(key, "kind") && strcmp(key, "count") && strcmp(key, "retry_after")
            && strcmp(key, "delay_ms")) {
            snprintf(err, err_size, "unknown key %.40s", key);
            return -1;
        }
    }
    const char *target = json_string_value(json_object_get(spec, "target"));
    for (size_t i = 0; target && i < sizeof s_targets / sizeof s_targets[0]; i++)
        if (strcmp(target, s_targets[i].name) == 0) {
            out->targets = s_targets[i].targets;
            snprintf(out->target, sizeof out->target, "%s", s_targets[i].name);
        }
    if (!out->targets) {
        snprintf(err, err_size,
                 "target must be one of token, code, refresh, revoke, api, extension, "
                 "extension-call-log, account-call-log, authorize, any");
        return -1;
    }
    json_t *kind = json_object_get(spec, "kind");
    char kind_text[24] = "";
    if (json_is_string(kind))
        snprintf(kind_text, sizeof kind_text, "%s", json_string_value(kind));
    else if (json_is_integer(kind))
        snprintf(kind_text, sizeof kind_text, "%lld", (long long) json_integer_value(kind));
    int found = 0;
    for (size_t i = 0; i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        if (strcmp(kind_text, s_kinds[i]) == 0) {
            out->kind = (fault_kind_t) i;
            found = 1;
        }
    if (!found) {
        snprintf(err, err_size,
                 "kind must be one of 500, 503, 429, slow, garbage, drop, hang, 403-permission, "
                 "403-admin, invalid_client, unauthorized_client");
        return -1;
    }
    if (s_int_field(spec, "count", 1, 1000000, &out->count, err, err_size) != 0
        || s_int_field(spec, "retry_after", 0, 86400, &out->retry_after, err, err_size) != 0
        || s_int_field(spec, "delay_ms", 0, 600000, &out->delay_ms, err, err_size) != 0)
        return -1;
    return 0;
}

const char *fault_kind_name(fault_kind_t kind)
{
    return kind < FAULT_KIND_COUNT ? s_kinds[kind] : "?";
}

json_t *fault_json(const fault_t *fault)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:I}", "target", fault->target, "kind", fault_kind_name(fault->kind),
                     "count", (json_int_t) fault->count, "retry_after", (json_int_t) fault->retry_after, "delay_ms",
                     (json_int_t) fault->delay_ms);
}

fault_queue_t *fault_queue_new(void)
{
    fault_queue_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    atomic_init(&self->length, 0);
    return self;
}

void fault_queue_destroy(fault_queue_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy(&(*self_p)->lock);
    free(*self_p);
    *self_p = NULL;
}

int fault_queue_push(fault_queue_t *self, const fault_t *fault)
{
    pthread_mutex_lock(&self->lock);
    int n = atomic_load(&self->length);
    int rc = -1;
    if (n < QUEUE_MAX) {
        self->items[n] = *fault;
        atomic_store(&self->length, n + 1);
        rc = 0;
    }
    pthread_mutex_unlock(&self->lock);
    return rc;
}

int fault_queue_take(fault_queue_t *self, unsigned leaf, fault_t *out)
{
    if (atomic_load_explicit(&self->length, memory_order_acquire) == 0)
        return 0;
    pthread_mutex_lock(&self->lock);
    int n = atomic_load(&self->length);
    int found = 0;
    for (int i = 0; i < n && !found; i++) {
        if (!(self->items[i].targets & leaf))
            continue;
        found = 1;
        *out = self->items[i];
        if (--self->items[i].count == 0) {
            memmove(&self->items[i], &self->items[i + 1], (size_t) (n - i - 1) * sizeof self->items[0]);
            atomic_store(&self->length, n - 1);
        }
    }
    pthread_mutex_unlock(&self->lock);
    return found;
}

void fault_queue_clear(fault_queue_t *self)
{
    pthread_mutex_lock(&self->lock);
    atomic_store(&self->length, 0);
    pthread_mutex_unlock(&self->lock);
}

json_t *fault_queue_json(fault_queue_t *self)
{
    json_t *list = json_array();
    pthread_mutex_lock(&self->lock);
    int n = atomic_load(&self->length);
    for (int i = 0; list && i < n; i++)
        json_array_append_new(list, fault_json(&self->items[i]));
    pthread_mutex_unlock(&self->lock);
    return list;
}
