//  oauth_test: reading the token endpoint's answers: oauth_parse_tokens (what a 200 must hold to be stored) and
//  oauth_classify (what a refused answer means: the flows through the handlers are in refresh_test and login_test).
#include "authsvc/oauth.h"
#include "tests/testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 ((int64_t) 1800000000000)

static int s_parse(const char *body, store_session_t *rec, const char **why)
{
    memset(rec, 0, sizeof *rec);
    *why = NULL;
    return oauth_parse_tokens(body, strlen(body), T0, rec, why);
}

static void t_parse_tokens(void)
{
    store_session_t *rec = calloc(1, sizeof *rec);
    const char *why = NULL;
    CHECK(s_parse("{\"access_token\":\"A\",\"refresh_token\":\"R\",\"token_type\":\"bearer\",\"expires_in\":3600,"
                  "\"refresh_token_expires_in\":604800,\"owner_id\":\"42\",\"scope\":\"ReadAccounts\"}",
                  rec, &why)
          == 0);
    CHECK(strcmp(rec->access_token, "A") == 0 && strcmp(rec->refresh_token, "R") == 0
          && strcmp(rec->owner_id, "42") == 0 && strcmp(rec->scope, "ReadAccounts") == 0
          && rec->expires_at == T0 + 3600 * 1000 && rec->refresh_expires_at == T0 + 604800LL * 1000 && why == NULL);
    //  As RingCentral and its SDK fixtures send them: "Bearer", numbers as strings, owner_id a number; no scope.
    CHECK(s_parse("{\"access_token\":\"A\",\"refresh_token\":\"R\",\"token_type\":\"Bearer\",\"expires_in\":\"3600\","
                  "\"refresh_token_expires_in\":\"604800\",\"owner_id\":12345}",
                  rec, &why)
          == 0);
    CHECK(strcmp(rec->owner_id, "12345") == 0 && rec->scope[0] == '\0' && rec->expires_at == T0 + 3600 * 1000);

    static const char *const bad[] = {
        "",
        "[]",
        "{\"access_token\":\"A\",\"token_type\":\"bearer\",\"expires_in\":3600,\"refresh_token_expires_in\":60}",
        "{\"access_token\":\"\",\"refresh_token\":\"R\",\"token_type\":\"bearer\",\"expires_in\":3600,\"refresh_token_"
        "expires_in\":60}",
        "{\"access_token\":\"A\\u0000B\",\"refresh_token\":\"R\",\"token_type\":\"bearer\",\"expires_in\":3600,"
        "\"refresh_token_expires_in\":60}",
        "{\"access_token\":\"A\",\"refresh_token\":\"R\",\"token_type\":\"mac\",\"expires_in\":3600,\"refresh_token_"
        "expires_in\":60}",
        "{\"access_token\":\"A\",\"refresh_token\":\"R\",\"token_type\":\"bearer\",\"expires_in\":0,\"refresh_token_"
        "expires_in\":60}",
        "{\"access_token\":\"A\",\"refresh_token\":\"R\",\"token_type\":\"bearer\",\"expires_in\":\"1h\",\"refresh_"
        "token_expires_in\":60}",
        "{\"access_token\":\"A\",\"refresh_token\":\"R\",\"token_type\":\"bearer\",\"expires_in\":3600,\"refresh_token_"
        "expires_in\":999999999999}",
        "{\"access_token\":\"A\",\"refresh_token\":\"R\",\"token_type\":\"bearer\",\"expires_in\":3600,\"refresh_token_"
        "expires_in\":60,\"owner_id\":[1]}",
        //  A key twice: which one is meant is anyone's guess.
        "{\"access_token\":\"A\",\"access_token\":\"B\",\"refresh_token\":\"R\",\"token_type\":\"bearer\",\"expires_"
        "in\":3600,\"refresh_token_expires_in\":60}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool refused = s_parse(bad[i], rec, &why) == -1 && why && *why;
        if (!CHECK(refused && rec->access_token[0] == '\0' && rec->refresh_token[0] == '\0'))
            fprintf(stderr, "#   bad[%zu] %s\n", i, bad[i]);
    }
    //  A token longer than the store holds.
    size_t big = STORE_TOKEN_MAX + 200;
    char *body = malloc(big + 200);
    int n = snprintf(body, big + 200, "{\"access_token\":\"");
    memset(body + n, 'a', STORE_TOKEN_MAX);
    snprintf(body + n + STORE_TOKEN_MAX, big + 200 - (size_t) n - STORE_TOKEN_MAX,
             "\",\"refresh_token\":\"R\","
             "\"token_type\":\"bearer\",\"expires_in\":3600,\"refresh_token_expires_in\":60}");
    CHECK(s_parse(body, rec, &why) == -1);
    free(body);
    free(rec);
}

static proto_code_t s_classify(http_error_t error, long status, long retry_after, const char *body, const char **reason)
{
    http_response_t resp = {
        .error = error, .status = status, .body = (char *) body, .body_len = strlen(body), .retry_after = retry_after
    };
    upstream_detail_t d;
    return oauth_classify(&resp, reason, &d);
}

static void t_classify(void)
{
    static const struct {
        http_error_t error;
        long status, retry_after;
        const char *body;
        proto_code_t code;
        const char *reason;
    } rows[] = {
        { HTTP_OK, 200, -1, "{}", PROTO_OK, "ok" },
        { HTTP_OK, 400, -1, "{\"error\":\"invalid_grant\"}", PROTO_UPSTREAM_REJECTED, "invalid_grant" },
        { HTTP_OK, 400, -1, "not json", PROTO_UPSTREAM_REJECTED, "invalid_grant" },
        { HTTP_OK, 400, -1, "{\"error\":\"Invalid Grant!\"}", PROTO_UPSTREAM_REJECTED,
          "invalid_grant" },  //  not a word: not logged
        { HTTP_OK, 404, -1, "", PROTO_UPSTREAM_REJECTED, "rejected" },
        { HTTP_OK, 400, -1, "{\"error\":\"invalid_client\"}", PROTO_APP_REJECTED, "invalid_client" },
        { HTTP_OK, 400, -1, "{\"error\":\"unauthorized_client\"}", PROTO_APP_REJECTED, "unauthorized_client" },
        { HTTP_OK, 400, -1, "{\"error\":\"invalid_request\",\"errors\":[{\"errorCode\":\"OAU-251\"}]}",
          PROTO_APP_REJECTED, "invalid_request" },
        { HTTP_OK, 401, -1, "", PROTO_APP_REJECTED, "invalid_client" },
        { HTTP_OK, 429, -1, "", PROTO_RATE_LIMITED, "rate_limited" },
        { HTTP_OK, 503, 30, "", PROTO_RATE_LIMITED, "rate_limited" },
        { HTTP_OK, 503, -1, "", PROTO_UPSTREAM_ERROR, "server_error" },
        { HTTP_OK, 302, -1, "", PROTO_UPSTREAM_ERROR, "server_error" },
        { HTTP_ETIMEOUT, 0, -1, "", PROTO_UPSTREAM_TIMEOUT, "timeout" },
        { HTTP_ENETWORK, 0, -1, "", PROTO_UPSTREAM_UNREACHABLE, "network" },
        { HTTP_ETOOBIG, 0, -1, "", PROTO_UPSTREAM_ERROR, "too_big" },
        { HTTP_ECANCELLED, 0, -1, "", PROTO_UPSTREAM_ERROR, "cancelled" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *reason = NULL;
        proto_code_t code = s_classify(rows[i].error, rows[i].status, rows[i].retry_after, rows[i].body, &reason);
        if (!CHECK(code == rows[i].code && reason && strcmp(reason, rows[i].reason) == 0))
            fprintf(stderr, "#   row %zu: %s %s\n", i, proto_code_name(code), reason ? reason : "(null)");
    }
}

static const test_case_t cases[] = {
    { "parse_tokens", t_parse_tokens },
    { "classify", t_classify },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
