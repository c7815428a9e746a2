//  rc: see rc.h.
#include "tests/mockrc/rc.h"

#include "common/log.h"
#include "tests/mockrc/web.h"

#include <stdio.h>
#include <string.h>

int rc_rate_limited(struct mg_connection *c, const char *group, int limit, long window_s, long retry_after)
{
    char limit_s[16], window[16], retry[16];
    snprintf(limit_s, sizeof limit_s, "%d", limit);
    snprintf(window, sizeof window, "%ld", window_s);
    snprintf(retry, sizeof retry, "%ld", retry_after);
    const char *headers[] = {
        "Retry-After",
        retry,
        "X-Rate-Limit-Group",
        group,
        "X-Rate-Limit-Limit",
        limit_s,
        "X-Rate-Limit-Remaining",
        "0",
        "X-Rate-Limit-Window",
        window,
        NULL,
    };
    return rc_api_error(c, 429, "CMN-301", "CMN-301", "Request rate exceeded", headers);
}

int rc_oauth_error(struct mg_connection *c, int status, const char *error, const char *error_code,
                   const char *description, const char *const *headers)
{
    json_t *body = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "error", error, "error_description", description, "errors",
                             "errorCode", error_code, "message", description);
    return web_json(c, status, body, headers);
}

int rc_api_error(struct mg_connection *c, int status, const char *error_code, const char *sub_code, const char *message,
                 const char *const *headers)
{
    json_t *body = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "errorCode", error_code, "message", message, "errors",
                             "errorCode", sub_code, "message", message);
    return web_json(c, status, body, headers);
}

//  The rate-limit group RingCentral puts a request of leaf in.
static const char *s_group(unsigned leaf)
{
    if (leaf == FAULT_EXTENSION)
        return "Medium";
    if (leaf & (FAULT_EXTENSION_CALL_LOG | FAULT_ACCOUNT_CALL_LOG))
        return "Heavy";
    return "Auth";
}

static int s_limit(const char *group)
{
    return group[0] == 'M' ? 40 : group[0] == 'H' ? 10 : 5;
}

int rc_begin(state_t *st, struct mg_connection *c, unsigned leaf)
{
    state_config_t cfg;
    state_config_get(st, &cfg);
    if (cfg.latency_ms > 0)
        state_sleep_ms(st, cfg.latency_ms);
    fault_t f;
    if (!fault_queue_take(state_faults(st), leaf, &f))
        return 0;
    counters_add(state_counters(st), CTR_FAULT_INJECTED);
    log_info("fault.inject", "target=%s kind=%s", f.target, fault_kind_name(f.kind));
    char retry[16];
    snprintf(retry, sizeof retry, "%ld", f.retry_after);
    const char *retry_header[] = { "Retry-After", retry, NULL };
    static const char garbage[] = "<html><body>502 Bad Gateway (mock garbage)</body></html>\n{\"access_token\":";
    switch (f.kind) {
        case FAULT_SLOW: state_sleep_ms(st, f.delay_ms); return 0;
        case FAULT_500:
            rc_api_error(c, 500, "CMN-500", "CMN-500", "Internal Server Error (mock fault)", NULL);
            return 1;
        case FAULT_503:
            rc_api_error(c, 503, "CMN-211", "CMN-211", "Service Temporarily Unavailable (mock fault)", retry_header);
            return 1;
        case FAULT_429: {
            const char *group = s_group(leaf);
            rc_rate_limited(c, group, s_limit(group), 60, f.retry_after);
            return 1;
        }
        case FAULT_GARBAGE: web_send(c, 200, "application/json", garbage, sizeof garbage - 1, NULL); return 1;
        case FAULT_HANG:
        case FAULT_DROP:
            if (f.kind == FAULT_HANG)
                state_sleep_ms(st, f.delay_ms);  //  then close without a reply, having done nothing
            if (web_drop(c) != 0)
                log_warn("fault.drop_failed", "reason=socket_not_found");
            return 1;
        case FAULT_403_PERMISSION:
        case FAULT_403_ADMIN:
        case FAULT_INVALID_CLIENT:
        case FAULT_UNAUTHORIZED_CLIENT: {
            int status = 500;
            const char *body = fault_body(f.kind, &status);
            web_send(c, status, "application/json", body, strlen(body), NULL);
            return 1;
        }
        case FAULT_KIND_COUNT: break;
    }
    return 0;
}
