//  counters: see counters.h.
#include "tests/mockrc/counters.h"

#include <stdatomic.h>
#include <stdlib.h>

struct _counters_t {
    atomic_long value[CTR_COUNT];
};

//  Indexed by counter_id_t; the README lists the same names.
static const char *s_names[CTR_COUNT] = {
    [CTR_AUTHORIZE_PAGE] = "authorize.page",
    [CTR_AUTHORIZE_APPROVE] = "authorize.approve",
    [CTR_AUTHORIZE_DENY] = "authorize.deny",
    [CTR_AUTHORIZE_REJECTED] = "authorize.rejected",
    [CTR_TOKEN_CODE_OK] = "token.code.ok",
    [CTR_TOKEN_CODE_REJECTED] = "token.code.rejected",
    [CTR_TOKEN_CODE_REPLAYED] = "token.code.replayed",
    [CTR_TOKEN_REFRESH_OK] = "token.refresh.ok",
    [CTR_TOKEN_REFRESH_REJECTED] = "token.refresh.rejected",
    [CTR_TOKEN_REFRESH_ROTATED_REUSE] = "token.refresh.rotated_reuse",
    [CTR_TOKEN_REFRESH_GRACE] = "token.refresh.grace",
    [CTR_TOKEN_BAD_CLIENT] = "token.bad_client",
    [CTR_TOKEN_BAD_REQUEST] = "token.bad_request",
    [CTR_TOKEN_RATE_LIMITED] = "token.rate_limited",
    [CTR_REVOKE_OK] = "revoke.ok",
    [CTR_REVOKE_UNKNOWN] = "revoke.unknown",
    [CTR_REVOKE_REJECTED] = "revoke.rejected",
    [CTR_REVOKE_BAD_CLIENT] = "revoke.bad_client",
    [CTR_API_EXTENSION_OK] = "api.extension.ok",
    [CTR_API_EXTENSION_CALL_LOG_OK] = "api.extension-call-log.ok",
    [CTR_API_ACCOUNT_CALL_LOG_OK] = "api.account-call-log.ok",
    [CTR_API_UNAUTHORIZED] = "api.unauthorized",
    [CTR_API_EXPIRED] = "api.expired",
    [CTR_FAULT_INJECTED] = "fault.injected",
    [CTR_HTTP_NOT_FOUND] = "http.not_found",
};

counters_t *counters_new(void)
{
    counters_t *self = malloc(sizeof *self);
    if (!self)
        return NULL;
    for (int i = 0; i < CTR_COUNT; i++)
        atomic_init(&self->value[i], 0);
    return self;
}

void counters_destroy(counters_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

void counters_add(counters_t *self, counter_id_t id)
{
    if (id >= 0 && id < CTR_COUNT)
        atomic_fetch_add_explicit(&self->value[id], 1, memory_order_relaxed);
}

long counters_get(counters_t *self, counter_id_t id)
{
    if (id < 0 || id >= CTR_COUNT)
        return 0;
    return atomic_load_explicit(&self->value[id], memory_order_relaxed);
}

void counters_reset(counters_t *self)
{
    for (int i = 0; i < CTR_COUNT; i++)
        atomic_store(&self->value[i], 0);
}

const char *counters_name(counter_id_t id)
{
    return id >= 0 && id < CTR_COUNT ? s_names[id] : "?";
}

json_t *counters_json(counters_t *self)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    for (int i = 0; i < CTR_COUNT; i++) {
        if (json_object_set_new(obj, s_names[i], json_integer(counters_get(self, (counter_id_t) i))) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}
