//  control: see control.h.
#include "tests/mockrc/control.h"

#include "common/log.h"
#include "tests/mockrc/web.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define BODY_MAX 8192

//  The configuration keys: name, where in state_config_t, bool or integer, and bounds.
static const struct {
    const char *name;
    size_t offset;
    int is_bool;
    long min;
    long max;
} s_keys[] = {
    { "auto_approve", offsetof(state_config_t, auto_approve), 1, 0, 1 },
    { "latency_ms", offsetof(state_config_t, latency_ms), 0, 0, 600000 },
    { "auth_limit", offsetof(state_config_t, auth_limit), 1, 0, 1 },
    { "auth_window_ms", offsetof(state_config_t, auth_window_ms), 0, 1, 3600000 },
    { "refresh_grace_ms", offsetof(state_config_t, refresh_grace_ms), 0, 0, 3600000 },
    { "access_ttl", offsetof(state_config_t, access_ttl), 0, 0, 315360000 },
    { "refresh_ttl", offsetof(state_config_t, refresh_ttl), 0, 0, 315360000 },
    { "code_ttl", offsetof(state_config_t, code_ttl), 0, 0, 86400 },
};
#define NKEYS (sizeof s_keys / sizeof s_keys[0])

int control_config_merge(state_config_t *cfg, const json_t *patch, char *err, size_t err_size)
{
    if (!json_is_object(patch)) {
        snprintf(err, err_size, "the config must be a JSON object");
        return -1;
    }
    state_config_t next = *cfg;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *) patch, key, v)
    {
        size_t i = 0;
        while (i < NKEYS && strcmp(s_keys[i].name, key) != 0)
            i++;
        if (i == NKEYS) {
            snprintf(err, err_size, "unknown key %.40s", key);
            return -1;
        }
        char *field = (char *) &next + s_keys[i].offset;
        if (s_keys[i].is_bool) {
            if (!json_is_boolean(v)) {
                snprintf(err, err_size, "%s must be true or false", key);
                return -1;
            }
            *(bool *) field = json_is_true(v);
        }
        else {
            if (!json_is_integer(v) || json_integer_value(v) < s_keys[i].min || json_integer_value(v) > s_keys[i].max) {
                snprintf(err, err_size, "%s must be an integer in [%ld, %ld]", key, s_keys[i].min, s_keys[i].max);
                return -1;
            }
            *(long *) field = (long) json_integer_value(v);
        }
    }
    *cfg = next;
    return 0;
}

json_t *control_config_json(const state_config_t *cfg)
{
    json_t *obj = json_object();
    for (size_t i = 0; obj && i < NKEYS; i++) {
        const char *field = (const char *) cfg + s_keys[i].offset;
        json_object_set_new(obj, s_keys[i].name,
                            s_keys[i].is_bool ? json_boolean(*(const bool *) field)
                                              : json_integer(*(const long *) field));
    }
    return obj;
}

static int s_ok(struct mg_connection *c)
{
    return web_json(c, 200, json_pack("{s:b}", "ok", 1), NULL);
}

static int s_bad(struct mg_connection *c, const char *why)
{
    return web_json(c, 400, json_pack("{s:b, s:s}", "ok", 0, "error", why), NULL);
}

//  The request body parsed as JSON, or NULL after answering 400.
static json_t *s_body(struct mg_connection *c)
{
    char body[BODY_MAX];
    size_t len;
    if (web_read_body(c, body, sizeof body, &len) != 0) {
        s_bad(c, "the body must be at most 8 KiB");
        return NULL;
    }
    json_error_t error;
    json_t *json = json_loadb(body, len, 0, &error);
    if (!json) {
        char why[256];
        snprintf(why, sizeof why, "invalid JSON: %s", error.text);
        s_bad(c, why);
    }
    return json;
}

//  POST /_mock/fault: one fault object, or an array of them (all or none are queued).
static int s_fault_add(struct mg_connection *c, state_t *st)
{
    json_t *spec = s_body(c);
    if (!spec)
        return 400;
    json_t *list = json_is_array(spec) ? json_incref(spec) : json_pack("[O]", spec);
    fault_t faults[16];
    size_t n = json_array_size(list);
    char err[256] = "";
    if (n == 0 || n > sizeof faults / sizeof faults[0])
        snprintf(err, sizeof err, "give 1 to 16 faults");
    for (size_t i = 0; !err[0] && i < n; i++)
        fault_parse(json_array_get(list, i), &faults[i], err, sizeof err);
    json_decref(list);
    json_decref(spec);
    if (err[0])
        return s_bad(c, err);
    for (size_t i = 0; i < n; i++) {
        if (fault_queue_push(state_faults(st), &faults[i]) != 0)
            return s_bad(c, "the fault queue is full");
        log_info("fault.queued", "target=%s kind=%s count=%ld", faults[i].target, fault_kind_name(faults[i].kind),
                 faults[i].count);
    }
    return web_json(c, 200, json_pack("{s:b, s:o}", "ok", 1, "faults", fault_queue_json(state_faults(st))), NULL);
}

static int s_config_set(struct mg_connection *c, state_t *st)
{
    json_t *patch = s_body(c);
    if (!patch)
        return 400;
    state_config_t cfg;
    state_config_get(st, &cfg);
    char err[256];
    int rc = control_config_merge(&cfg, patch, err, sizeof err);
    json_decref(patch);
    if (rc != 0)
        return s_bad(c, err);
    state_config_set(st, &cfg);
    log_info("config.set", "auto_approve=%d latency_ms=%ld auth_limit=%d", cfg.auto_approve, cfg.latency_ms,
             cfg.auth_limit);
    return web_json(c, 200, control_config_json(&cfg), NULL);
}

int control_action(struct mg_connection *c, state_t *st, int arg)
{
    state_config_t cfg;
    char all[8] = "";
    const char *qs = mg_get_request_info(c)->query_string;
    switch ((control_action_t) arg) {
        case CONTROL_HEALTH: return s_ok(c);
        case CONTROL_COUNTERS: return web_json(c, 200, counters_json(state_counters(st)), NULL);
        case CONTROL_FAULT_ADD: return s_fault_add(c, st);
        case CONTROL_FAULT_LIST:
            return web_json(c, 200, json_pack("{s:o}", "faults", fault_queue_json(state_faults(st))), NULL);
        case CONTROL_FAULT_CLEAR: fault_queue_clear(state_faults(st)); return s_ok(c);
        case CONTROL_EXPIRE_ALL: state_expire_all(st); return s_ok(c);
        case CONTROL_REVOKE_ALL: state_revoke_all(st); return s_ok(c);
        case CONTROL_RESET:
            state_reset(st);
            log_info("mock.reset", "state=cleared");
            return s_ok(c);
        case CONTROL_CONFIG_GET: state_config_get(st, &cfg); return web_json(c, 200, control_config_json(&cfg), NULL);
        case CONTROL_CONFIG_SET: return s_config_set(c, st);
        case CONTROL_TOKENS:
            web_form_get(qs, qs ? strlen(qs) : 0, "all", all, sizeof all);
            return web_json(c, 200, state_tokens_json(st, strcmp(all, "1") == 0 || strcmp(all, "true") == 0), NULL);
    }
    return s_bad(c, "unknown action");
}
