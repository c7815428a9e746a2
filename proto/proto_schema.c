//  proto_schema: THE table of message types and their fields (see proto.h).
//
//  Everything else follows from these rows: the codec encodes and checks them,
//  proto_msg_describe redacts the fields marked secret, the tests round-trip
//  every row at its limits. To add a message: add its enum value in proto.h,
//  its fields and its row here (a request's row names its reply).
#include "proto/proto.h"
#include "proto/proto_api.h"

#include <string.h>

//  Field shorthands, so that each row reads as name, type, required, max, secret.
#define STR(name, req, max, secret)         \
    {                                       \
        name, PROTO_F_STR, req, max, secret \
    }
#define INT(name, req)                   \
    {                                    \
        name, PROTO_F_INT, req, 0, false \
    }
#define BOOL(name, req)                   \
    {                                     \
        name, PROTO_F_BOOL, req, 0, false \
    }
#define REQ true
#define OPT false
#define SECRET true
#define PLAIN false

//  Session ids, states and codes are secrets: whoever reads them can act as the user. The limits that other
//  modules use too are named in proto.h (PROTO_*_MAX).

static const proto_field_t s_auth_url[] = {
    STR("sid", REQ, PROTO_SID_MAX, SECRET),
    STR("env", REQ, PROTO_ENV_MAX, PLAIN),
};
static const proto_field_t s_auth_url_ok[] = {
    STR("url", REQ, PROTO_AUTH_URL_MAX, SECRET),  //  carries the state
    STR("redirect_uri", REQ, 2048, PLAIN),
};
static const proto_field_t s_exchange[] = {
    STR("sid", REQ, PROTO_SID_MAX, SECRET),
    STR("code", REQ, PROTO_AUTH_CODE_MAX, SECRET),
    STR("state", REQ, PROTO_STATE_MAX, SECRET),
};
static const proto_field_t s_exchange_ok[] = {
    STR("new_sid", REQ, PROTO_SID_MAX, SECRET),
    STR("env", OPT, PROTO_ENV_MAX, PLAIN),
    STR("owner_id", OPT, PROTO_OWNER_MAX, PLAIN),
};
static const proto_field_t s_session[] = {
    STR("sid", REQ, PROTO_SID_MAX, SECRET),
};
static const proto_field_t s_session_ok[] = {
    BOOL("logged_in", REQ),        STR("env", OPT, PROTO_ENV_MAX, PLAIN),
    INT("access_expires_in", OPT), STR("owner_id", OPT, PROTO_OWNER_MAX, PLAIN),
    INT("version", OPT),
};
static const proto_field_t s_refresh[] = {
    STR("sid", REQ, PROTO_SID_MAX, SECRET),
    INT("seen_version", REQ),
};
static const proto_field_t s_refresh_ok[] = {
    INT("version", REQ),
};
static const proto_field_t s_logout[] = {
    STR("sid", REQ, PROTO_SID_MAX, SECRET),
};
static const proto_field_t s_logout_ok[] = {
    BOOL("revoked", OPT),  //  RingCentral confirmed the revoke (absent: nothing was revoked)
};
static const proto_field_t s_api[] = {
    STR("sid", REQ, PROTO_SID_MAX, SECRET),
    STR("api", REQ, PROTO_API_NAME_MAX, PLAIN),
    //  "key=value&…": allow-listed query parameters of the API (proto_api.h), validated by the gateway.
    STR("params", OPT, PROTO_API_PARAMS_MAX, PLAIN),
};
static const proto_field_t s_api_ok[] = {
    INT("status", REQ),
    STR("content_type", REQ, 256, PLAIN),
    //  A user's data from RingCentral (names, numbers, call logs): never logged.
    STR("body", REQ, PROTO_BODY_MAX, SECRET),
};
static const proto_field_t s_ping_ok[] = {
    STR("service", REQ, 32, PLAIN),
    INT("pid", REQ),
    INT("uptime", REQ),
};
//  apisvc -> authsvc after a 429: the session makes no upstream call before `until` (ms since the epoch).
static const proto_field_t s_hold[] = {
    STR("sid", REQ, PROTO_SID_MAX, SECRET),
    INT("until", REQ),
};
//  gateway -> authsvc when RingCentral redirected back with error=: consume this session's pending login of
//  state. DECLINED_OK says it was this session's; ERROR STATE_MISMATCH says it was not (or no such login).
static const proto_field_t s_declined[] = {
    STR("sid", REQ, PROTO_SID_MAX, SECRET),
    STR("state", REQ, PROTO_STATE_MAX, SECRET),
};
static const proto_field_t s_declined_ok[] = {
    STR("env", OPT, PROTO_ENV_MAX, PLAIN),
};
//  gateway -> authsvc for /readyz: each of authsvc's checks, "ok" or why it failed (never a path or a secret).
static const proto_field_t s_ready_ok[] = {
    STR("store", REQ, 256, PLAIN),   //  an LMDB read of the token store (store_check)
    STR("config", REQ, 256, PLAIN),  //  a RingCentral environment is configured
    STR("mock", OPT, 256, PLAIN),    //  demo mode only: the mock RingCentral answers
};
//  gateway -> any service for the metrics port: the process's metrics as Prometheus text 0.0.4, every sample
//  labelled service="<name>" (common/metrics.h); the gateway merges them with its own.
static const proto_field_t s_stats_ok[] = {
    STR("text", REQ, PROTO_FIELD_MAX, PLAIN),
};
static const proto_field_t s_error[] = {
    STR("code", REQ, 32, PLAIN),
    STR("message", REQ, 1024, PLAIN),
    INT("retry_after", OPT),
    STR("env", OPT, PROTO_ENV_MAX, PLAIN),                      //  the environment whose RingCentral failed
    INT("upstream_status", OPT),                                //  RingCentral's HTTP status
    STR("upstream_code", OPT, PROTO_UPSTREAM_CODE_MAX, PLAIN),  //  errorCode (top-level, else errors[0]) or OAuth error
    STR("upstream_message", OPT, PROTO_UPSTREAM_MESSAGE_MAX,
        PLAIN),  //  message, error_description or errors[0].message
};

#define ROW(t, name, fields, reply) [t] = { t, name, fields, sizeof(fields) / sizeof((fields)[0]), reply }
#define EMPTY(t, name, reply) [t] = { t, name, NULL, 0, reply }
#define NO_REPLY PROTO_INVALID  //  the row is itself a reply

//  Indexed by proto_type_t; row PROTO_INVALID stays empty. Each row: type, wire name, fields, reply type.
static const proto_msgdef_t s_defs[PROTO_TYPE_COUNT] = {
    ROW(PROTO_AUTH_URL, "AUTH_URL", s_auth_url, PROTO_AUTH_URL_OK),
    ROW(PROTO_AUTH_URL_OK, "AUTH_URL_OK", s_auth_url_ok, NO_REPLY),
    ROW(PROTO_EXCHANGE, "EXCHANGE", s_exchange, PROTO_EXCHANGE_OK),
    ROW(PROTO_EXCHANGE_OK, "EXCHANGE_OK", s_exchange_ok, NO_REPLY),
    ROW(PROTO_SESSION, "SESSION", s_session, PROTO_SESSION_OK),
    ROW(PROTO_SESSION_OK, "SESSION_OK", s_session_ok, NO_REPLY),
    ROW(PROTO_REFRESH, "REFRESH", s_refresh, PROTO_REFRESH_OK),
    ROW(PROTO_REFRESH_OK, "REFRESH_OK", s_refresh_ok, NO_REPLY),
    ROW(PROTO_LOGOUT, "LOGOUT", s_logout, PROTO_LOGOUT_OK),
    ROW(PROTO_LOGOUT_OK, "LOGOUT_OK", s_logout_ok, NO_REPLY),
    ROW(PROTO_API, "API", s_api, PROTO_API_OK),
    ROW(PROTO_API_OK, "API_OK", s_api_ok, NO_REPLY),
    EMPTY(PROTO_PING, "PING", PROTO_PING_OK),
    ROW(PROTO_PING_OK, "PING_OK", s_ping_ok, NO_REPLY),
    ROW(PROTO_HOLD, "HOLD", s_hold, PROTO_HOLD_OK),
    EMPTY(PROTO_HOLD_OK, "HOLD_OK", NO_REPLY),
    ROW(PROTO_DECLINED, "DECLINED", s_declined, PROTO_DECLINED_OK),
    ROW(PROTO_DECLINED_OK, "DECLINED_OK", s_declined_ok, NO_REPLY),
    EMPTY(PROTO_READY, "READY", PROTO_READY_OK),
    ROW(PROTO_READY_OK, "READY_OK", s_ready_ok, NO_REPLY),
    EMPTY(PROTO_STATS, "STATS", PROTO_STATS_OK),
    ROW(PROTO_STATS_OK, "STATS_OK", s_stats_ok, NO_REPLY),
    ROW(PROTO_ERROR, "ERROR", s_error, NO_REPLY),
};

//  Wire names of the error codes, indexed by proto_code_t.
static const char *const s_codes[PROTO_CODE_COUNT] = {
    [PROTO_OK] = "OK",
    [PROTO_BAD_REQUEST] = "BAD_REQUEST",
    [PROTO_NOT_LOGGED_IN] = "NOT_LOGGED_IN",
    [PROTO_STATE_MISMATCH] = "STATE_MISMATCH",
    [PROTO_UPSTREAM_REJECTED] = "UPSTREAM_REJECTED",
    [PROTO_UPSTREAM_ERROR] = "UPSTREAM_ERROR",
    [PROTO_UPSTREAM_TIMEOUT] = "UPSTREAM_TIMEOUT",
    [PROTO_RATE_LIMITED] = "RATE_LIMITED",
    [PROTO_UNAVAILABLE] = "UNAVAILABLE",
    [PROTO_STORE_FULL] = "STORE_FULL",
    [PROTO_INTERNAL] = "INTERNAL",
    [PROTO_UPSTREAM_DENIED] = "UPSTREAM_DENIED",
    [PROTO_UPSTREAM_UNREACHABLE] = "UPSTREAM_UNREACHABLE",
    [PROTO_APP_REJECTED] = "APP_REJECTED",
};

const proto_msgdef_t *proto_schema(proto_type_t type)
{
    if ((int) type <= PROTO_INVALID || (int) type >= PROTO_TYPE_COUNT)
        return NULL;
    return &s_defs[type];
}

const proto_field_t *proto_schema_field(proto_type_t type, const char *name)
{
    const proto_msgdef_t *def = proto_schema(type);
    for (size_t i = 0; def && name && i < def->field_count; i++)
        if (strcmp(def->fields[i].name, name) == 0)
            return &def->fields[i];
    return NULL;
}

const char *proto_type_name(proto_type_t type)
{
    const proto_msgdef_t *def = proto_schema(type);
    return def ? def->name : "INVALID";
}

proto_type_t proto_type_parse(const char *name, size_t len)
{
    if (!name)
        return PROTO_INVALID;
    for (int t = PROTO_INVALID + 1; t < PROTO_TYPE_COUNT; t++)
        if (strlen(s_defs[t].name) == len && memcmp(s_defs[t].name, name, len) == 0)
            return (proto_type_t) t;
    return PROTO_INVALID;
}

proto_type_t proto_reply_type(proto_type_t request)
{
    if ((int) request <= PROTO_INVALID || (int) request >= PROTO_TYPE_COUNT)
        return PROTO_INVALID;
    return s_defs[request].reply;
}

const char *proto_code_name(proto_code_t code)
{
    if ((int) code < 0 || (int) code >= PROTO_CODE_COUNT)
        return s_codes[PROTO_INTERNAL];
    return s_codes[code];
}

proto_code_t proto_code_parse(const char *name)
{
    if (!name)
        return PROTO_OK;
    for (int c = PROTO_OK + 1; c < PROTO_CODE_COUNT; c++)
        if (strcmp(s_codes[c], name) == 0)
            return (proto_code_t) c;
    return PROTO_OK;
}
