//  reply_test: the error table (every code), Accept parsing, the API table and JSON re-indenting.
#include "gateway/apis.h"
#include "gateway/reply.h"
#include "tests/testlib.h"

#include <stdlib.h>
#include <string.h>

static void t_error_table(void)
{
    struct { proto_code_t code; int status; } want[] = {
        { PROTO_BAD_REQUEST, 400 },      { PROTO_NOT_LOGGED_IN, 401 },  { PROTO_STATE_MISMATCH, 400 },
        { PROTO_UPSTREAM_REJECTED, 400 }, { PROTO_UPSTREAM_ERROR, 502 }, { PROTO_UPSTREAM_TIMEOUT, 504 },
        { PROTO_RATE_LIMITED, 429 },     { PROTO_UNAVAILABLE, 503 },    { PROTO_STORE_FULL, 503 },
        { PROTO_INTERNAL, 500 },
    };
    CHECK(sizeof want / sizeof want[0] == PROTO_CODE_COUNT - 1);   //  every code is listed here
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
    CHECK(!reply_wants_json("application/json, text/html"));   //  a tie between named types is HTML
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
        CHECK(strstr(pretty, "\"records\"") < strstr(pretty, "\"paging\""));     //  order kept
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
    { "error_table", t_error_table },
    { "accept", t_accept },
    { "api_names", t_api_names },
    { "pretty_json", t_pretty_json },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
