//  calllog_test: the readable view of API answers (cards, the call-log table, durations, paging links,
//  escaping of hostile values, the empty result) and the validation of the query parameters.
#include "gateway/calllog.h"
#include "tests/testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static html_t *s_render(const char *api, const char *params, const char *body, int *rc)
{
    html_t *h = html_new(1 << 20);
    *rc = calllog_render(h, apis_find(api), params, body, strlen(body));
    return h;
}

static void t_duration(void)
{
    char d[24];
    calllog_duration(0, d, sizeof d);
    CHECK(strcmp(d, "0:00:00") == 0);
    calllog_duration(7, d, sizeof d);
    CHECK(strcmp(d, "0:00:07") == 0);
    calllog_duration(3723, d, sizeof d);
    CHECK(strcmp(d, "1:02:03") == 0);
    calllog_duration(36000 + 59 * 60 + 59, d, sizeof d);
    CHECK(strcmp(d, "10:59:59") == 0);
    calllog_duration(-1, d, sizeof d);
    CHECK(strcmp(d, "") == 0);
}

static void t_extension_card(void)
{
    int rc;
    html_t *h =
        s_render("extension", "",
                 "{\"records\":[{\"id\":100001,\"name\":\"Ann <b>\",\"extensionNumber\":\"101\",\"type\":\"User\","
                 "\"status\":\"Enabled\",\"contact\":{\"email\":\"ann@example.com\"}}]}",
                 &rc);
    CHECK(rc == 0);
    const char *p = html_data(h);
    CHECK(strstr(p, "<article class=\"ext card\" data-id=\"100001\">") != NULL);
    CHECK(strstr(p, "<h3>Ann &lt;b&gt;</h3>") != NULL);
    CHECK(strstr(p, "ann@example.com") && strstr(p, ">101<") && strstr(p, ">Enabled<") && strstr(p, ">User<"));
    CHECK(strstr(p, "data-count=\"1\"") != NULL);
    html_destroy(&h);
}

static const char s_calls[] =
    "{\"uri\":\"http://rc/restapi/v1.0/account/1/call-log?page=2\",\"records\":["
    "{\"id\":\"A1\",\"startTime\":\"2024-03-01T09:13:07.000Z\",\"duration\":3723,\"type\":\"Voice\","
    "\"direction\":\"Inbound\",\"result\":\"Missed\",\"from\":{\"phoneNumber\":\"+16505550001\",\"name\":\"Bob\"},"
    "\"to\":{\"phoneNumber\":\"+14155550001\",\"name\":\"Ann\"}},"
    "{\"id\":\"A2\\\"><script>\",\"startTime\":\"<img src=x onerror=alert(1)>\",\"duration\":5,\"type\":\"</td><b>\","
    "\"direction\":\"Outbound\",\"result\":\"<script>alert(1)</script>\",\"from\":{\"name\":\"\\\"'&\"},"
    "\"to\":{\"extensionNumber\":\"102\"}}],"
    "\"paging\":{\"page\":2,\"perPage\":2,\"pageStart\":2,\"pageEnd\":3,\"totalPages\":3,\"totalElements\":6},"
    "\"navigation\":{\"previousPage\":{\"uri\":\"http://rc/restapi/v1.0/account/1/call-log?page=1&perPage=2"
    "&dateFrom=2024-02-01T00:00:00.000Z\"},\"nextPage\":{\"uri\":\"https://evil.example/steal?page=3&perPage=2"
    "&access_token=x&view=Bogus\"}}}";

static void t_call_table(void)
{
    int rc;
    html_t *h = s_render("account-call-log", "perPage=2&page=2", s_calls, &rc);
    CHECK(rc == 0);
    const char *p = html_data(h);
    CHECK(strstr(p, "<table class=\"calls\">") != NULL);
    CHECK(strstr(p, "data-count=\"2\">2 records on this page (6 in all)") != NULL);
    CHECK(strstr(p, "<time datetime=\"2024-03-01T09:13:07.000Z\" data-local>2024-03-01 09:13:07 UTC</time>") != NULL);
    CHECK(strstr(p, "<td class=\"duration\">1:02:03</td>") != NULL);
    CHECK(strstr(p, "Bob <span class=\"number\">+16505550001</span></span> \xe2\x86\x92 <span class=\"party\">Ann")
          != NULL);
    CHECK(strstr(p, ">Missed<") != NULL);
    //  hostile values are escaped, never markup
    CHECK(strstr(p, "<script>") == NULL && strstr(p, "<img") == NULL && strstr(p, "</td><b>") == NULL);
    CHECK(strstr(p, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
    CHECK(strstr(p, "data-id=\"A2&quot;&gt;&lt;script&gt;\"") != NULL);
    //  paging: the test page's own links, allow-listed parameters only, never the other host
    CHECK(strstr(p,
                 "rel=\"prev\" href=\"/test?api=account-call-log&amp;page=1&amp;perPage=2&amp;dateFrom="
                 "2024-02-01T00%3A00%3A00.000Z\"")
          != NULL);
    CHECK(strstr(p, "rel=\"next\" href=\"/test?api=account-call-log&amp;page=3&amp;perPage=2\"") != NULL);
    CHECK(strstr(p, "evil") == NULL && strstr(p, "access_token") == NULL && strstr(p, "Bogus") == NULL);
    CHECK(strstr(p, "Page 2") != NULL);
    //  the form keeps what was asked, and states the default range
    CHECK(strstr(p, "name=\"perPage\" min=\"1\" max=\"1000\" value=\"2\"") != NULL);
    CHECK(strstr(p, "last 24 hours") != NULL);
    html_destroy(&h);
}

static void t_empty(void)
{
    int rc;
    html_t *h = s_render("extension-call-log", "",
                         "{\"records\":[],\"paging\":{\"page\":1,\"perPage\":100},"
                         "\"navigation\":{}}",
                         &rc);
    CHECK(rc == 0);
    CHECK(strstr(html_data(h), "No calls in the last 24 hours") != NULL);
    CHECK(strstr(html_data(h), "data-count=\"0\"") != NULL);
    CHECK(strstr(html_data(h), "<table") == NULL);
    html_destroy(&h);
    h = s_render("extension-call-log", "dateFrom=2024-01-01T00:00:00.000Z", "{\"records\":[]}", &rc);
    CHECK(rc == 0 && strstr(html_data(h), "No calls in this range") != NULL);
    CHECK(strstr(html_data(h), "value=\"2024-01-01\"") != NULL);
    html_destroy(&h);
}

static void t_not_shown(void)
{
    int rc;
    html_t *h = s_render("extension-call-log", "", "not json", &rc);
    CHECK(rc == -1 && html_len(h) == 0);
    html_destroy(&h);
    h = s_render("extension-call-log", "", "{\"records\":{}}", &rc);
    CHECK(rc == -1);
    html_destroy(&h);
    //  deeper than APIS_PRETTY_DEPTH: not parsed at all
    char deep[400] = "{\"records\":[";
    size_t n = strlen(deep);
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    for (int i = 0; i < 100; i++)
        deep[n++] = ']';
    strcpy(deep + n, "]}");
    h = s_render("extension-call-log", "", deep, &rc);
    CHECK(rc == -1);
    html_destroy(&h);
}

static void t_params(void)
{
    const apis_t *cl = apis_find("account-call-log"), *ext = apis_find("extension");
    char p[PROTO_API_PARAMS_MAX + 1] = "";
    CHECK(calllog_param_add(cl, p, sizeof p, "dateFrom", "2024-03-01") == 0);
    CHECK(calllog_param_add(cl, p, sizeof p, "dateTo", "2024-03-02") == 0);
    CHECK(calllog_param_add(cl, p, sizeof p, "perPage", "25") == 0);
    CHECK(calllog_param_add(cl, p, sizeof p, "view", "Detailed") == 0);
    CHECK(strcmp(p, "dateFrom=2024-03-01T00:00:00.000Z&dateTo=2024-03-02T23:59:59.999Z&perPage=25&view=Detailed") == 0);
    const char *bad[][2] = {
        { "perPage", "0" },
        { "perPage", "1001" },
        { "perPage", "-5" },
        { "perPage", "01" },
        { "perPage", "1e3" },
        { "page", "0" },
        { "page", "999999999" },
        { "view", "simple" },
        { "view", "Detailed&x=1" },
        { "direction", "Sideways" },
        { "type", "SMS" },
        { "dateFrom", "yesterday" },
        { "dateFrom", "2024-13-01" },
        { "dateFrom", "2024-03-01T25:00:00Z" },
        { "dateTo", "2024-03-01T10:00:00+1:00" },
        { "dateTo", "2024-03-01 10:00" },
        { "showDeleted", "true" },
        { "access_token", "x" },
        { "dateFrom", "" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char q[64] = "";
        CHECK(calllog_param_add(cl, q, sizeof q, bad[i][0], bad[i][1]) == -1);
        CHECK(q[0] == '\0');
    }
    char q[64] = "";
    CHECK(calllog_param_add(cl, q, sizeof q, "dateFrom", "2024-03-01T10:00:00+01:00") == 0);
    CHECK(calllog_param_add(cl, q, sizeof q, "direction", "Inbound") == 0);
    CHECK(calllog_param_add(cl, q, sizeof q, "type", "Voice") == 0);
    CHECK(calllog_param_add(cl, q, sizeof q, "dateTo", "2024-03-01T10:00:00.123Z") == -2);  //  too long for q
    //  the extension list takes paging only
    CHECK(calllog_param_add(ext, q, sizeof q, "dateFrom", "2024-03-01") == -1);
    CHECK(calllog_param_add(NULL, q, sizeof q, "page", "1") == -1);
    char v[32];
    CHECK(calllog_param_get("a=1&page=2&perPage=30", "page", v, sizeof v) == 1 && strcmp(v, "2") == 0);
    CHECK(calllog_param_get("a=1&page=2", "perPage", v, sizeof v) == -1);
}

static void t_nav_href(void)
{
    const apis_t *cl = apis_find("extension-call-log");
    char out[512];
    CHECK(calllog_nav_href(cl,
                           "https://platform.ringcentral.com/restapi/v1.0/account/1/extension/2/call-log"
                           "?view=Simple&dateFrom=2024-03-01T00%3A00%3A00.000Z&page=3&perPage=100&foo=bar",
                           out, sizeof out)
          == 0);
    CHECK(strcmp(out,
                 "/test?api=extension-call-log&view=Simple&dateFrom=2024-03-01T00%3A00%3A00.000Z&page=3"
                 "&perPage=100")
          == 0);
    CHECK(calllog_nav_href(cl, "//evil.example/x?page=2&page=9", out, sizeof out) == -1
          || strcmp(out, "/test?api=extension-call-log&page=2") == 0);
    CHECK(calllog_nav_href(cl, "http://evil.example/?page=2%26perPage%3D5", out, sizeof out) == 0);
    CHECK(strcmp(out, "/test?api=extension-call-log") == 0);
    CHECK(calllog_nav_href(cl, "https://x/y?perPage=5#page=9&page=2", out, sizeof out) == 0);
    CHECK(strcmp(out, "/test?api=extension-call-log&perPage=5") == 0);
    CHECK(calllog_nav_href(cl, "not a url", out, sizeof out) == -1);
    CHECK(calllog_nav_href(cl, NULL, out, sizeof out) == -1);
}

static const test_case_t cases[] = {
    { "duration", t_duration }, { "extension_card", t_extension_card }, { "call_table", t_call_table },
    { "empty", t_empty },       { "not_shown", t_not_shown },           { "params", t_params },
    { "nav_href", t_nav_href },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
