//  routes: see routes.h.
#include "tests/mockrc/routes.h"

#include "tests/mockrc/api.h"
#include "tests/mockrc/authorize.h"
#include "tests/mockrc/control.h"
#include "tests/mockrc/rc.h"
#include "tests/mockrc/token.h"
#include "tests/mockrc/web.h"

#include <string.h>

typedef int (*route_fn)(struct mg_connection *c, state_t *st, int arg);

static const struct {
    const char *method;
    const char *path;
    route_fn fn;
    int arg;
} s_routes[] = {
    //  RingCentral
    { "GET", "/restapi/v1.0/account/~/extension", api_handle, USER_API_EXTENSION },
    { "GET", "/restapi/v1.0/account/~/extension/~/call-log", api_handle, USER_API_EXTENSION_CALL_LOG },
    { "GET", "/restapi/v1.0/account/~/call-log", api_handle, USER_API_ACCOUNT_CALL_LOG },
    { "GET", "/restapi/oauth/authorize", authorize_get, 0 },
    { "POST", "/restapi/oauth/authorize", authorize_post, 0 },
    { "POST", "/restapi/oauth/token", token_handle, 0 },
    { "POST", "/restapi/oauth/revoke", token_revoke, 0 },
    //  The mock's control API
    { "GET", "/_mock/health", control_action, CONTROL_HEALTH },
    { "GET", "/_mock/counters", control_action, CONTROL_COUNTERS },
    { "POST", "/_mock/fault", control_action, CONTROL_FAULT_ADD },
    { "GET", "/_mock/fault", control_action, CONTROL_FAULT_LIST },
    { "DELETE", "/_mock/fault", control_action, CONTROL_FAULT_CLEAR },
    { "POST", "/_mock/expire-all", control_action, CONTROL_EXPIRE_ALL },
    { "POST", "/_mock/revoke-all", control_action, CONTROL_REVOKE_ALL },
    { "POST", "/_mock/reset", control_action, CONTROL_RESET },
    { "GET", "/_mock/config", control_action, CONTROL_CONFIG_GET },
    { "POST", "/_mock/config", control_action, CONTROL_CONFIG_SET },
    { "GET", "/_mock/tokens", control_action, CONTROL_TOKENS },
};

int routes_handle(struct mg_connection *c, void *cbdata)
{
    state_t *st = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *path = ri->local_uri ? ri->local_uri : "";
    int path_known = 0;
    for (size_t i = 0; i < sizeof s_routes / sizeof s_routes[0]; i++) {
        if (strcmp(path, s_routes[i].path) != 0)
            continue;
        if (strcmp(ri->request_method, s_routes[i].method) == 0)
            return s_routes[i].fn(c, st, s_routes[i].arg);
        path_known = 1;
    }
    if (path_known)
        return rc_api_error(c, 405, "CMN-405", "CMN-405", "Method not allowed", NULL);
    counters_add(state_counters(st), CTR_HTTP_NOT_FOUND);
    return rc_api_error(c, 404, "CMN-102", "CMN-102", "Resource not found", NULL);
}
