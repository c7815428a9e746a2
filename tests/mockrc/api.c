//  api: see api.h.
#include "tests/mockrc/api.h"

#include "tests/mockrc/rc.h"
#include "tests/mockrc/web.h"

#include <stdio.h>
#include <stdlib.h>

#define BEARER_MAX 1024

static const struct {
    unsigned leaf;
    counter_id_t ok;
} s_apis[USER_API_COUNT] = {
    [USER_API_EXTENSION] = { FAULT_EXTENSION, CTR_API_EXTENSION_OK },
    [USER_API_EXTENSION_CALL_LOG] = { FAULT_EXTENSION_CALL_LOG, CTR_API_EXTENSION_CALL_LOG_OK },
    [USER_API_ACCOUNT_CALL_LOG] = { FAULT_ACCOUNT_CALL_LOG, CTR_API_ACCOUNT_CALL_LOG_OK },
};

int api_handle(struct mg_connection *c, state_t *st, int arg)
{
    if (arg < 0 || arg >= USER_API_COUNT)
        return rc_api_error(c, 404, "CMN-102", "CMN-102", "Resource not found", NULL);
    if (rc_begin(st, c, s_apis[arg].leaf))
        return 1;
    char token[BEARER_MAX];
    user_t *user = NULL;
    state_result_t r = web_bearer(c, token, sizeof token) == 0 ? state_api_user(st, token, &user) : STATE_NOT_FOUND;
    if (r != STATE_OK) {
        counters_add(state_counters(st), CTR_API_UNAUTHORIZED);
        if (r == STATE_EXPIRED) {
            counters_add(state_counters(st), CTR_API_EXPIRED);
            return rc_api_error(c, 401, "TokenExpired", "OAU-128", "Access token expired", NULL);
        }
        return rc_api_error(c, 401, "TokenInvalid", "OAU-149", "Invalid token", NULL);
    }
    size_t len;
    const char *bad = NULL;
    char *body = user_api_answer(user, (user_api_t) arg, mg_get_request_info(c)->query_string, &len, &bad);
    //  Counted before the answer leaves: a client that reads the counters next must see it.
    if (body)
        counters_add(state_counters(st), s_apis[arg].ok);
    char message[96];
    snprintf(message, sizeof message, "Parameter [%s] value is invalid", bad ? bad : "");
    int status = body ? web_send(c, 200, "application/json", body, len, NULL)
        : bad         ? rc_api_error(c, 400, "CMN-101", "CMN-101", message, NULL)
                      : rc_api_error(c, 500, "CMN-101", "CMN-101", "Internal error (out of memory)", NULL);
    free(body);
    user_unref(&user);
    return status;
}
