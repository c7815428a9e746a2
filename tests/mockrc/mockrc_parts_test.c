//  mockrc_parts_test: the mock's building blocks: table, ratelimit, fault queue,
//  counters, user data and the web helpers that need no connection.
#include "tests/mockrc/counters.h"
#include "tests/mockrc/fault.h"
#include "tests/mockrc/ratelimit.h"
#include "tests/mockrc/table.h"
#include "tests/mockrc/user.h"
#include "tests/mockrc/web.h"
#include "tests/testlib.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int s_drop_odd(const char *key, void *value, void *arg)
{
    (void) key;
    (*(int *) arg)++;
    if (*(int *) value % 2 == 0)
        return 0;
    free(value);
    return 1;
}

static void t_table(void)
{
    table_t *t = table_new();
    CHECK(t != NULL);
    CHECK(table_get(t, "a") == NULL);
    for (int i = 0; i < 10000; i++) {
        char key[32];
        snprintf(key, sizeof key, "key-%d", i);
        int *v = malloc(sizeof *v);
        *v = i;
        CHECK(table_put(t, key, v) == 0);
    }
    CHECK(table_size(t) == 10000);
    int dup = 0;
    CHECK(table_put(t, "key-7", &dup) == -1);  //  keys are unique
    CHECK(*(int *) table_get(t, "key-7") == 7);
    CHECK(*(int *) table_get(t, "key-9999") == 9999);
    int *v = table_take(t, "key-42");
    CHECK(v && *v == 42);
    free(v);
    CHECK(table_get(t, "key-42") == NULL);
    CHECK(table_take(t, "key-42") == NULL);
    int visited = 0;
    table_sweep(t, s_drop_odd, &visited);
    CHECK(visited == 9999);
    CHECK(table_size(t) == 4999);  //  the 5000 even keys but key-42
    CHECK(table_get(t, "key-3") == NULL);
    CHECK(table_get(t, "key-4") != NULL);
    table_destroy(&t, free);
    CHECK(t == NULL);
    table_destroy(&t, free);  //  safe twice
}

static void t_ratelimit_window(void)
{
    ratelimit_t *r = ratelimit_new();
    int left = -1;
    for (int i = 0; i < 5; i++) {
        CHECK(ratelimit_hit(r, "u1", 1000 + i, 5, 60000, &left) == 0);
        CHECK(left == 4 - i);
    }
    CHECK(ratelimit_hit(r, "u1", 2000, 5, 60000, &left) == 1);  //  the 6th
    CHECK(left == 0);
    CHECK(ratelimit_hit(r, "u2", 2000, 5, 60000, &left) == 0);  //  per key
    CHECK(left == 4);
    ratelimit_clear(r);
    CHECK(ratelimit_hit(r, "u1", 2001, 5, 60000, &left) == 0);
    ratelimit_destroy(&r);
    CHECK(r == NULL);
}

static void t_ratelimit_penalty_restarts(void)
{
    ratelimit_t *r = ratelimit_new();
    int left;
    for (int i = 0; i < 5; i++)
        ratelimit_hit(r, "u", 0, 5, 60000, &left);
    CHECK(ratelimit_hit(r, "u", 10000, 5, 60000, &left) == 1);   //  penalty until 70000
    CHECK(ratelimit_hit(r, "u", 50000, 5, 60000, &left) == 1);   //  restarts: until 110000
    CHECK(ratelimit_hit(r, "u", 100000, 5, 60000, &left) == 1);  //  past 70000, still limited; until 160000
    CHECK(ratelimit_hit(r, "u", 160000, 5, 60000, &left) == 0);  //  a full window without requests
    CHECK(left == 4);
    ratelimit_destroy(&r);
}

static json_t *s_spec(const char *text)
{
    json_error_t e;
    return json_loads(text, 0, &e);
}

static void t_fault_parse(void)
{
    fault_t f;
    char err[200];
    json_t *j = s_spec("{\"target\":\"token\",\"kind\":\"429\",\"count\":3,\"retry_after\":9}");
    CHECK(fault_parse(j, &f, err, sizeof err) == 0);
    CHECK(f.kind == FAULT_429 && f.count == 3 && f.retry_after == 9 && f.delay_ms == 1000);
    CHECK(f.targets == (FAULT_CODE | FAULT_REFRESH | FAULT_TOKEN_OTHER));
    json_decref(j);
    j = s_spec("{\"target\":\"api\",\"kind\":503}");  //  a number works for the status kinds
    CHECK(fault_parse(j, &f, err, sizeof err) == 0 && f.kind == FAULT_503 && f.count == 1 && f.retry_after == 60);
    json_decref(j);
    const char *bad[] = {
        "{\"target\":\"x\",\"kind\":\"500\"}",
        "{\"target\":\"api\",\"kind\":\"404\"}",
        "{\"kind\":\"500\"}",
        "{\"target\":\"api\",\"kind\":\"500\",\"count\":0}",
        "{\"target\":\"api\",\"kind\":\"500\",\"delay_ms\":\"1\"}",
        "{\"target\":\"api\",\"kind\":\"500\",\"extra\":1}",
        "[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = s_spec(bad[i]);
        err[0] = '\0';
        CHECK(fault_parse(j, &f, err, sizeof err) == -1);
        CHECK(err[0] != '\0');
        json_decref(j);
    }
}

static void s_push(fault_queue_t *q, const char *text)
{
    fault_t f;
    char err[200];
    json_t *j = s_spec(text);
    CHECK(fault_parse(j, &f, err, sizeof err) == 0);
    CHECK(fault_queue_push(q, &f) == 0);
    json_decref(j);
}

static void t_fault_queue(void)
{
    fault_queue_t *q = fault_queue_new();
    fault_t f;
    CHECK(fault_queue_take(q, FAULT_EXTENSION, &f) == 0);
    s_push(q, "{\"target\":\"code\",\"kind\":\"500\",\"count\":2}");
    s_push(q, "{\"target\":\"api\",\"kind\":\"drop\"}");
    s_push(q, "{\"target\":\"any\",\"kind\":\"slow\",\"delay_ms\":5}");
    CHECK(fault_queue_take(q, FAULT_REFRESH, &f) == 1 && f.kind == FAULT_SLOW);  //  only "any" matches
    CHECK(fault_queue_take(q, FAULT_REFRESH, &f) == 0);
    CHECK(fault_queue_take(q, FAULT_CODE, &f) == 1 && f.kind == FAULT_500);
    CHECK(fault_queue_take(q, FAULT_ACCOUNT_CALL_LOG, &f) == 1 && f.kind == FAULT_DROP);
    CHECK(fault_queue_take(q, FAULT_EXTENSION, &f) == 0);
    CHECK(fault_queue_take(q, FAULT_CODE, &f) == 1 && f.kind == FAULT_500);  //  count 2
    CHECK(fault_queue_take(q, FAULT_CODE, &f) == 0);
    json_t *list = fault_queue_json(q);
    CHECK(json_array_size(list) == 0);
    json_decref(list);
    for (int i = 0; i < 64; i++)
        s_push(q, "{\"target\":\"api\",\"kind\":\"500\"}");
    CHECK(fault_queue_push(q, &f) == -1);  //  full
    fault_queue_clear(q);
    CHECK(fault_queue_take(q, FAULT_EXTENSION, &f) == 0);
    fault_queue_destroy(&q);
    CHECK(q == NULL);
}

static void t_counters(void)
{
    counters_t *c = counters_new();
    counters_add(c, CTR_TOKEN_CODE_OK);
    counters_add(c, CTR_TOKEN_CODE_OK);
    counters_add(c, CTR_COUNT);  //  ignored
    CHECK(counters_get(c, CTR_TOKEN_CODE_OK) == 2);
    json_t *j = counters_json(c);
    CHECK(json_object_size(j) == CTR_COUNT);  //  every name present and distinct
    CHECK(json_integer_value(json_object_get(j, "token.code.ok")) == 2);
    CHECK(json_integer_value(json_object_get(j, "token.refresh.rotated_reuse")) == 0);
    json_decref(j);
    CHECK(strcmp(counters_name(CTR_API_UNAUTHORIZED), "api.unauthorized") == 0);
    counters_reset(c);
    CHECK(counters_get(c, CTR_TOKEN_CODE_OK) == 0);
    counters_destroy(&c);
    CHECK(c == NULL);
}

static void t_user_data(void)
{
    user_t *a = user_new(1, "http://127.0.0.1:9");
    user_t *b = user_new(2, "http://127.0.0.1:9");
    user_t *a2 = user_new(1, "http://127.0.0.1:9");
    CHECK(strcmp(user_owner_id(a), "100001") == 0);
    CHECK(strcmp(user_name(b), "Mock User 2") == 0);
    for (int api = 0; api < USER_API_COUNT; api++) {
        size_t la, lb, la2;
        const char *bad;
        char *ba = user_api_answer(a, (user_api_t) api, NULL, &la, &bad);
        char *bb = user_api_answer(b, (user_api_t) api, NULL, &lb, &bad);
        char *ba2 = user_api_answer(a2, (user_api_t) api, NULL, &la2, &bad);
        json_error_t e;
        json_t *j = json_loadb(ba, la, 0, &e);
        CHECK(j != NULL);
        CHECK(json_is_string(json_object_get(j, "uri")));
        CHECK(json_array_size(json_object_get(j, "records")) >= 2);
        CHECK(json_is_object(json_object_get(j, "paging")));
        CHECK(json_is_object(json_object_get(j, "navigation")));
        json_decref(j);
        CHECK(la != lb || memcmp(ba, bb, la) != 0);    //  users differ
        CHECK(la == la2 && memcmp(ba, ba2, la) == 0);  //  deterministic
        free(ba);
        free(bb);
        free(ba2);
    }
    user_t *ref = user_ref(a);
    user_unref(&a);
    CHECK(a == NULL);
    CHECK(strcmp(user_owner_id(ref), "100001") == 0);  //  still alive: one reference left
    user_unref(&ref);
    user_unref(&b);
    user_unref(&a2);
}

static void t_web_helpers(void)
{
    char out[64];
    CHECK(web_html_escape("<a href=\"x\">&'", out, sizeof out) == 0);
    CHECK(strcmp(out, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;") == 0);
    char tiny[4];
    CHECK(web_html_escape("<<<<", tiny, sizeof tiny) == -1 && tiny[0] == '\0');

    char url[256];
    const char *p[][2] = { { "code", "a+b/c" }, { "error", NULL }, { "state", "x y&z" } };
    CHECK(web_url_build(url, sizeof url, "http://h:1/cb", p, 3) == 0);
    CHECK(strcmp(url, "http://h:1/cb?code=a%2bb%2fc&state=x%20y%26z") == 0);
    CHECK(web_url_build(url, sizeof url, "http://h/cb?x=1", p, 1) == 0);
    CHECK(strcmp(url, "http://h/cb?x=1&code=a%2bb%2fc") == 0);
    char small[20];
    CHECK(web_url_build(small, sizeof small, "http://h:1/cb", p, 3) == -1);

    const char *form = "a=1&b=x%20y+z&a2=&dup=1&dup=2";
    char v[16];
    CHECK(web_form_get(form, strlen(form), "b", v, sizeof v) == 5 && strcmp(v, "x y z") == 0);
    CHECK(web_form_get(form, strlen(form), "a", v, sizeof v) == 1 && strcmp(v, "1") == 0);
    CHECK(web_form_get(form, strlen(form), "a2", v, sizeof v) == 0);
    CHECK(web_form_get(form, strlen(form), "nope", v, sizeof v) == -1);
    CHECK(web_form_get(form, strlen(form), "dup", v, sizeof v) == -2);
    char one[2];
    CHECK(web_form_get(form, strlen(form), "b", one, sizeof one) == -2);
    CHECK(web_form_get(NULL, 0, "b", v, sizeof v) == -1);
}

static const test_case_t cases[] = {
    { "table", t_table },
    { "ratelimit_window", t_ratelimit_window },
    { "ratelimit_penalty_restarts", t_ratelimit_penalty_restarts },
    { "fault_parse", t_fault_parse },
    { "fault_queue", t_fault_queue },
    { "counters", t_counters },
    { "user_data", t_user_data },
    { "web_helpers", t_web_helpers },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
