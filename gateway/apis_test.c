//  apis_test: re-indenting API answers on a worker's stack (civetweb's workers have 100 KiB).
#include "gateway/apis.h"
#include "tests/testlib.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  depth arrays nested: "[[[...]]]". Caller frees.
static char *s_nested(size_t depth)
{
    char *b = malloc(2 * depth + 1);
    memset(b, '[', depth);
    memset(b + depth, ']', depth);
    b[2 * depth] = '\0';
    return b;
}

static void t_depth_limit(void)
{
    char *ok = s_nested(APIS_PRETTY_DEPTH), *deep = s_nested(APIS_PRETTY_DEPTH + 1);
    char *pretty = apis_pretty_json(ok, strlen(ok));
    CHECK(pretty != NULL);
    free(pretty);
    CHECK(apis_pretty_json(deep, strlen(deep)) == NULL);  //  shown as it came instead
    free(ok);
    free(deep);
    //  brackets inside strings (escaped quotes too) are text, not nesting
    char body[1024];
    size_t n = (size_t) snprintf(body, sizeof body, "{\"a\":\"%0*d\\\"[[\"}", 200, 0);
    memset(body + 6, '[', 200);
    pretty = apis_pretty_json(body, n);
    CHECK(pretty != NULL);
    free(pretty);
}

typedef struct {
    size_t depth;
    bool refused;
} s_job_t;

static void *s_on_small_stack(void *arg)
{
    s_job_t *job = arg;
    char *body = s_nested(job->depth);
    char *pretty = apis_pretty_json(body, strlen(body));
    job->refused = pretty == NULL;
    free(pretty);
    free(body);
    return NULL;
}

//  A deep body on a worker-sized stack is refused, not a crash (jansson recurses: 400 levels overflowed 100 KiB).
static void t_deep_body_on_worker_stack(void)
{
    size_t depths[] = { APIS_PRETTY_DEPTH, 400, 2048, 1u << 20 };
    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 100 * 1024);
        s_job_t job = { depths[i], false };
        pthread_t t;
        CHECK(pthread_create(&t, &attr, s_on_small_stack, &job) == 0 && pthread_join(t, NULL) == 0);
        pthread_attr_destroy(&attr);
        CHECK(job.refused == (depths[i] > APIS_PRETTY_DEPTH));
    }
}

static const test_case_t cases[] = {
    { "depth_limit", t_depth_limit },
    { "deep_body_on_worker_stack", t_deep_body_on_worker_stack },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
