//  api_test: the upstream URL apisvc builds from API{api, params}: only allow-listed, valid parameters,
//  URL-encoded by curl's URL API, always on the configured server.
#include "apisvc/api.h"
#include "tests/testlib.h"

#include <string.h>

static void t_params_ok(void)
{
    CHECK(api_params_ok("extension-call-log", NULL) == 0);
    CHECK(api_params_ok("extension-call-log", "") == 0);
    CHECK(api_params_ok("extension-call-log", "dateFrom=2024-03-01T00:00:00.000Z&perPage=10&view=Detailed") == 0);
    CHECK(api_params_ok("account-call-log", "direction=Inbound&type=Fax&page=3") == 0);
    CHECK(api_params_ok("extension", "page=2&perPage=10") == 0);
    CHECK(api_params_ok("extension", "dateFrom=2024-03-01") == -1);  //  not in its allow-list
    CHECK(api_params_ok("extension-call-log", "showDeleted=true") == -1);
    CHECK(api_params_ok("extension-call-log", "perPage=1001") == -1);
    CHECK(api_params_ok("extension-call-log", "perPage") == -1);
    CHECK(api_params_ok("extension-call-log", "view=Simple=x") == -1);
    CHECK(api_params_ok("extension-call-log", "dateFrom=2024-03-01T00:00:00Z%26x") == -1);
    CHECK(api_params_ok("nope", "") == -1);
}

static void t_url_build(void)
{
    char url[1024];
    CHECK(api_url_build("https://platform.ringcentral.com", "/restapi/v1.0/account/~/call-log",
                        "dateFrom=2024-03-01T10:00:00+01:00&perPage=10", url, sizeof url)
          == 0);
    CHECK(strncmp(url, "https://platform.ringcentral.com/restapi/v1.0/account/~/call-log?", 65) == 0);
    CHECK(strstr(url, "perPage=10") != NULL);
    CHECK(strcasestr(url, "dateFrom=2024-03-01T10%3a00%3a00%2b01%3a00") != NULL);  //  '+' is not a space
    CHECK(api_url_build("http://127.0.0.1:9", "/restapi/v1.0/account/~/extension", NULL, url, sizeof url) == 0);
    CHECK(strcmp(url, "http://127.0.0.1:9/restapi/v1.0/account/~/extension") == 0);
    CHECK(api_url_build("http://127.0.0.1:9", "/x", "page=2", url, 10) == -1);  //  does not fit
}

static const test_case_t cases[] = {
    { "params_ok", t_params_ok },
    { "url_build", t_url_build },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
