//  reply_test: the error table (every code), Accept parsing, the API table and JSON re-indenting.
#include "gateway/apis.h"
#include "gateway/reply.h"
#include "tests/testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void t_error_table(void)
{
    struct {
        proto_code_t code;
        int status;
    } want[] = {
        { PROTO_BAD_REQUEST, 400 },       { PROTO_NOT_LOGGED_IN, 401 },   { PROTO_STATE_MISMATCH, 400 },
        { PROTO_UPSTREAM_REJECTED, 400 }, { PROTO_UPSTREAM_ERROR, 502 },  { PROTO_UPSTREAM_TIMEOUT, 504 },
        { PROTO_RATE_LIMITED, 429 },      { PROTO_UNAVAILABLE, 503 },     { PROTO_STORE_FULL, 503 },
        { PROTO_INTERNAL, 500 },          { PROTO_UPSTREAM_DENIED, 403 }, { PROTO_UPSTREAM_UNREACHABLE, 502 },
        { PROTO_APP_REJECTED, 502 },
    };
    CHECK(sizeof want / sizeof want[0] == PROTO_CODE_COUNT - 1);  //  every code is listed here
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const reply_error_t *e = reply_error_info(want[i].code);
        CHECK(e->code == want[i].code);
        CHECK(e->status == want[i].status);
        CHECK(e->title && *e->title && e->explain && *e->explain);
    }
    CHECK(strstr(reply_error_info(PROTO_UNAVAILABLE)->explain, "service unavailable, try again"));
    CHECK(strcmp(reply_error_info(PROTO_STORE_FULL)->title, "The token store is full") == 0);
    CHECK(strstr(reply_error_info(PROTO_STORE_FULL)->explain, "Try again later"));
    CHECK(strstr(reply_error_info(PROTO_UPSTREAM_REJECTED)->explain, "RingCentral refused the login; start again"));
    //  anything else is INTERNAL: never a blank 500
    CHECK(reply_error_info(PROTO_OK)->code == PROTO_INTERNAL);
    CHECK(reply_error_info((proto_code_t) 99)->status == 500);
    CHECK(reply_error_info((proto_code_t) -1)->status == 500);
}

//  An ERROR as a service sends it, with RingCentral's words when status > 0.
static proto_msg_t *s_error(proto_code_t code, const char *env, long status, const char *up_code,
                            const char *up_message, int64_t retry_after)
{
    proto_msg_t *e = proto_error_new(1, code, "the service's message", retry_after);
    if (env)
        proto_msg_set_str(e, "env", env);
    if (status > 0)
        proto_msg_set_int(e, "upstream_status", status);
    if (up_code)
        proto_msg_set_str(e, "upstream_code", up_code);
    if (up_message)
        proto_msg_set_str(e, "upstream_message", up_message);
    return e;
}

static void t_error_text(void)
{
    config_t *cfg = calloc(1, sizeof *cfg);
    snprintf(cfg->rc_env_dir, sizeof cfg->rc_env_dir, "/srv/rc");
    snprintf(cfg->rc[CONFIG_SANDBOX].server_url, sizeof cfg->rc[CONFIG_SANDBOX].server_url,
             "https://platform.devtest.ringcentral.com");
    pages_state_t in = { .known = true, .logged_in = true, .env = "sandbox" }, out = { .known = true };
    reply_text_t t;
    //  403 InsufficientPermissions: the permission named, where to add it, still logged in; RingCentral's words.
    proto_msg_t *e =
        s_error(PROTO_UPSTREAM_DENIED, "sandbox", 403, "InsufficientPermissions",
                "In order to call this API endpoint, application needs to have [ReadCallLog] permission", -1);
    reply_error_text(e, &in, cfg, &t);
    CHECK(t.status == 403 && strcmp(t.title, "The app lacks a permission") == 0);
    CHECK(strstr(t.explain, "needs the ReadCallLog permission") && strstr(t.explain, "developers.ringcentral.com"));
    CHECK(strstr(t.explain, "Settings") && strstr(t.explain, "log in again") && strstr(t.explain, "still logged in"));
    CHECK(strstr(t.detail, "RingCentral answered 403 InsufficientPermissions: In order to call"));
    proto_msg_destroy(&e);
    //  CMN-408: an admin user is needed.
    e = s_error(PROTO_UPSTREAM_DENIED, NULL, 403, "CMN-408",
                "In order to call this API endpoint, user needs to have [ReadCompanyCallLog] permission", -1);
    reply_error_text(e, &in, cfg, &t);
    CHECK(t.status == 403 && strstr(t.title, "admin") && strstr(t.explain, "ReadCompanyCallLog"));
    proto_msg_destroy(&e);
    //  Another 4xx: refused, status and code shown.
    e = s_error(PROTO_UPSTREAM_DENIED, NULL, 404, "CMN-102", "Resource for parameter [accountId] is not found", -1);
    reply_error_text(e, &in, cfg, &t);
    CHECK(strcmp(t.title, "RingCentral refused this call") == 0 && strstr(t.explain, "HTTP 404"));
    CHECK(strstr(t.detail, "404 CMN-102"));
    proto_msg_destroy(&e);
    //  invalid_client at the exchange: the file named.
    e = s_error(PROTO_APP_REJECTED, "sandbox", 401, "invalid_client", "Invalid client: abc", -1);
    reply_error_text(e, &out, cfg, &t);
    CHECK(strcmp(t.title, "The client id or secret is wrong") == 0 && strstr(t.explain, "/srv/rc/.env-sandbox"));
    CHECK(!strstr(t.explain, "still logged in"));
    proto_msg_destroy(&e);
    //  unauthorized_client / OAU-251: the auth type.
    e = s_error(PROTO_APP_REJECTED, "sandbox", 400, "unauthorized_client", "Unauthorized for this grant type", -1);
    reply_error_text(e, &out, cfg, &t);
    CHECK(strstr(t.title, "authorization code") && strstr(t.explain, "Auth"));
    proto_msg_destroy(&e);
    //  Unreachable: the server named; not "answered with an error".
    e = s_error(PROTO_UPSTREAM_UNREACHABLE, "sandbox", 0, NULL, NULL, -1);
    reply_error_text(e, &in, cfg, &t);
    CHECK(strstr(t.explain, "Could not reach https://platform.devtest.ringcentral.com"));
    CHECK(strcmp(t.detail, "the service's message") == 0);
    proto_msg_destroy(&e);
    //  429: one sentence with the wait.
    e = s_error(PROTO_RATE_LIMITED, NULL, 0, NULL, NULL, 42);
    reply_error_text(e, &in, cfg, &t);
    CHECK(strstr(t.explain, "wait 42 seconds, then try again."));
    proto_msg_destroy(&e);
    //  No config, no env: still a page, never a crash.
    e = s_error(PROTO_APP_REJECTED, NULL, 401, "invalid_client", NULL, -1);
    reply_error_text(e, NULL, NULL, &t);
    CHECK(t.status == 502 && strstr(t.explain, "env file"));
    proto_msg_destroy(&e);
    free(cfg);
}

static void t_accept(void)
{
    CHECK(reply_wants_json("application/json"));
    CHECK(reply_wants_json("application/json, text/plain, */*"));
    CHECK(reply_wants_json("text/html;q=0.5, application/json"));
    CHECK(reply_wants_json("application/*"));
    CHECK(reply_wants_json(" Application/JSON ; charset=utf-8"));
    CHECK(!reply_wants_json(NULL));
    CHECK(!reply_wants_json(""));
    CHECK(!reply_wants_json("*/*"));
    CHECK(!reply_wants_json("text/html"));
    CHECK(!reply_wants_json("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
    CHECK(!reply_wants_json("application/json;q=0.5, text/html"));
    CHECK(!reply_wants_json("application/json;q=0"));
    CHECK(!reply_wants_json("application/json;q=abc"));
    CHECK(!reply_wants_json("application/json, text/html"));  //  a tie between named types is HTML
    CHECK(!reply_wants_json("application/json;q=0.8, */*"));
    //  the most specific range wins: text/html is refused, so JSON is preferred
    CHECK(reply_wants_json("*/*;q=0.9, text/html;q=0"));
    CHECK(!reply_wants_json(",,;;, /, application/jsonx"));
}

static void t_api_names(void)
{
    CHECK(apis_find("extension") && strcmp(apis_find("extension")->upstream, "/restapi/v1.0/account/~/extension") == 0);
    CHECK(apis_find("extension-call-log")
          && strcmp(apis_find("extension-call-log")->upstream, "/restapi/v1.0/account/~/extension/~/call-log") == 0);
    CHECK(apis_find("account-call-log")
          && strcmp(apis_find("account-call-log")->upstream, "/restapi/v1.0/account/~/call-log") == 0);
    CHECK(!apis_find(NULL));
    CHECK(!apis_find(""));
    CHECK(!apis_find("Extension"));
    CHECK(!apis_find("extension "));
    CHECK(!apis_find("../extension"));
    CHECK(!apis_find("call-log"));
    size_t n = 0;
    while (apis_at(n))
        n++;
    CHECK(n == 3);
}

static void t_pretty_json(void)
{
    const char body[] = "{\"records\":[{\"name\":\"J\xc3\xbcrgen <b>\",\"id\":1}],\"paging\":{}}";
    char *pretty = apis_pretty_json(body, strlen(body));
    CHECK(pretty != NULL);
    if (pretty) {
        CHECK(strstr(pretty, "{\n  \"records\": [\n    {\n      \"name\": \"J\xc3\xbcrgen <b>\",\n      \"id\": 1\n")
              != NULL);
        CHECK(strstr(pretty, "\"records\"") < strstr(pretty, "\"paging\""));  //  order kept
        free(pretty);
    }
    CHECK(apis_pretty_json("not json", 8) == NULL);
    CHECK(apis_pretty_json("{\"a\":1", 6) == NULL);
    CHECK(apis_pretty_json("", 0) == NULL);
    CHECK(apis_pretty_json(NULL, 3) == NULL);

    //  nesting that would blow up when indented is refused, not built
    size_t depth = 2000, len = depth * 2, copies = 10;
    char *deep = malloc(len * copies + copies + 2);
    size_t at = 0;
    deep[at++] = '[';
    for (size_t c = 0; c < copies; c++) {
        if (c)
            deep[at++] = ',';
        memset(deep + at, '[', depth);
        memset(deep + at + depth, ']', depth);
        at += len;
    }
    deep[at++] = ']';
    pretty = apis_pretty_json(deep, at);
    CHECK(pretty == NULL);
    free(pretty);
    free(deep);
}

static const test_case_t cases[] = {
    { "error_table", t_error_table }, { "error_text", t_error_text },   { "accept", t_accept },
    { "api_names", t_api_names },     { "pretty_json", t_pretty_json },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
