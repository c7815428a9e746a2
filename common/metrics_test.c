//  metrics_test: the text format (HELP/TYPE, labels, escaping), histogram buckets, merging, threads.
#include "common/metrics.h"
#include "tests/testlib.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char s_out[1 << 16];

static bool s_has(const char *line)
{
    return strstr(s_out, line) != NULL;
}

static void t_counter_and_gauge(void)
{
    metrics_t *m = metrics_new("gateway");
    metrics_family_t *reqs = metrics_counter(m, "rcauth_http_requests_total", "HTTP requests.", "route,code");
    metrics_family_t *busy = metrics_gauge(m, "rcauth_http_in_flight", "Requests in progress.", NULL);
    CHECK(reqs && busy);
    CHECK(metrics_counter(m, "rcauth_http_requests_total", "again", "route,code") == reqs);  //  same family
    CHECK(metrics_gauge(m, "rcauth_http_requests_total", "other type", NULL) == NULL);
    metrics_inc(reqs, (const char *[]){ "/test", "200" });
    metrics_inc(reqs, (const char *[]){ "/test", "200" });
    metrics_add(reqs, (const char *[]){ "/", "302" }, 3);
    metrics_add(reqs, (const char *[]){ "/", "302" }, -1);  //  a counter never goes down
    metrics_add(busy, NULL, 2);
    metrics_add(busy, NULL, -1);
    metrics_set(busy, NULL, 0.25);
    metrics_inc(NULL, NULL);  //  no registry (metrics_init not called): nothing
    CHECK(metrics_value(reqs, (const char *[]){ "/test", "200" }) == 2);
    size_t len = metrics_render(m, s_out, sizeof s_out);
    CHECK(len == strlen(s_out));
    CHECK(s_has("# HELP rcauth_http_requests_total HTTP requests.\n# TYPE rcauth_http_requests_total counter\n"));
    CHECK(s_has("rcauth_http_requests_total{service=\"gateway\",route=\"/test\",code=\"200\"} 2\n"));
    CHECK(s_has("rcauth_http_requests_total{service=\"gateway\",route=\"/\",code=\"302\"} 3\n"));
    CHECK(s_has("# TYPE rcauth_http_in_flight gauge\nrcauth_http_in_flight{service=\"gateway\"} 0.25\n"));
    metrics_destroy(&m);
    CHECK(m == NULL);
}

static void t_label_escaping(void)
{
    metrics_t *m = metrics_new(NULL);
    metrics_family_t *f = metrics_counter(m, "x_total", "X.", "v");
    metrics_inc(f, (const char *[]){ "a\"b\\c\nd" });
    metrics_render(m, s_out, sizeof s_out);
    CHECK(s_has("x_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
    //  No constant label and no labels: no braces.
    metrics_family_t *g = metrics_gauge(m, "y", "Y.", NULL);
    metrics_set(g, NULL, 7);
    metrics_render(m, s_out, sizeof s_out);
    CHECK(s_has("\ny 7\n"));
    //  A family with its own "service" label does not get the registry's.
    metrics_t *gw = metrics_new("gateway");
    metrics_family_t *rpc = metrics_counter(gw, "rcauth_rpc_requests_total", "Calls.", "service,result");
    metrics_inc(rpc, (const char *[]){ "apisvc", "ok" });
    metrics_render(gw, s_out, sizeof s_out);
    CHECK(s_has("rcauth_rpc_requests_total{service=\"apisvc\",result=\"ok\"} 1\n"));
    metrics_destroy(&gw);
    metrics_destroy(&m);
}

static void t_histogram_buckets(void)
{
    metrics_t *m = metrics_new("apisvc");
    const double bounds[] = { 0.1, 0.5, 1 };
    metrics_family_t *h = metrics_histogram(m, "d_seconds", "D.", "api", bounds, 3);
    CHECK(h);
    const double bad[] = { 1, 0.5 };
    CHECK(metrics_histogram(m, "bad_seconds", "B.", NULL, bad, 2) == NULL);  //  bounds must ascend
    const char *ext[] = { "extension" };
    metrics_observe(h, ext, 0.05);
    metrics_observe(h, ext, 0.1);  //  le is inclusive
    metrics_observe(h, ext, 0.7);
    metrics_observe(h, ext, 3);
    metrics_render(m, s_out, sizeof s_out);
    CHECK(s_has("# TYPE d_seconds histogram\n"));
    CHECK(s_has("d_seconds_bucket{service=\"apisvc\",api=\"extension\",le=\"0.1\"} 2\n"));
    CHECK(s_has("d_seconds_bucket{service=\"apisvc\",api=\"extension\",le=\"0.5\"} 2\n"));
    CHECK(s_has("d_seconds_bucket{service=\"apisvc\",api=\"extension\",le=\"1\"} 3\n"));
    CHECK(s_has("d_seconds_bucket{service=\"apisvc\",api=\"extension\",le=\"+Inf\"} 4\n"));
    CHECK(s_has("d_seconds_sum{service=\"apisvc\",api=\"extension\"} 3.8500000000000001\n"));
    CHECK(s_has("d_seconds_count{service=\"apisvc\",api=\"extension\"} 4\n"));
    CHECK(metrics_value(h, ext) == 4);
    metrics_destroy(&m);
}

static void t_series_cap(void)
{
    metrics_t *m = metrics_new(NULL);
    metrics_family_t *f = metrics_counter(m, "c_total", "C.", "k");
    char v[16];
    for (int i = 0; i < METRICS_SERIES_MAX + 5; i++) {
        snprintf(v, sizeof v, "v%d", i);
        metrics_inc(f, (const char *[]){ v });
    }
    metrics_render(m, s_out, sizeof s_out);
    CHECK(s_has("rcauth_metrics_series_dropped_total 5\n"));
    //  A buffer too small for a family leaves it out whole.
    char small[120];
    size_t len = metrics_render(m, small, sizeof small);
    CHECK(len == strlen(small) && len < sizeof small && !strstr(small, "c_total{"));
    metrics_destroy(&m);
}

static void t_merge(void)
{
    const char *a = "# HELP p_bytes P.\n# TYPE p_bytes gauge\np_bytes{service=\"gateway\"} 1\n"
                    "# HELP g_total G.\n# TYPE g_total counter\ng_total{service=\"gateway\"} 2\n";
    const char *b = "junk before\n# HELP p_bytes P.\n# TYPE p_bytes gauge\np_bytes{service=\"authsvc\"} 3\n"
                    "# HELP a_total A.\n# TYPE a_total counter\na_total{service=\"authsvc\"} 4";
    const char *texts[] = { a, NULL, b };
    size_t len = metrics_merge(texts, 3, s_out, sizeof s_out);
    CHECK(len == strlen(s_out));
    CHECK(strcmp(s_out,
                 "# HELP p_bytes P.\n# TYPE p_bytes gauge\np_bytes{service=\"gateway\"} 1\n"
                 "p_bytes{service=\"authsvc\"} 3\n"
                 "# HELP g_total G.\n# TYPE g_total counter\ng_total{service=\"gateway\"} 2\n"
                 "# HELP a_total A.\n# TYPE a_total counter\na_total{service=\"authsvc\"} 4\n")
          == 0);
}

static void t_default_process(void)
{
    CHECK(metrics_default() == NULL);
    CHECK(metrics_init("authsvc") == 0);
    CHECK(metrics_default() != NULL);
    metrics_render(metrics_default(), s_out, sizeof s_out);
    CHECK(s_has("# TYPE rcauth_process_resident_memory_bytes "
                "gauge\nrcauth_process_resident_memory_bytes{service=\"authsvc\"} "));
    CHECK(s_has("rcauth_process_cpu_seconds_total{service=\"authsvc\"} "));
    CHECK(s_has("rcauth_process_start_time_seconds{service=\"authsvc\"} 1"));
    CHECK(s_has("rcauth_build_info{service=\"authsvc\",version=\""));
    CHECK(!s_has("rcauth_process_resident_memory_bytes{service=\"authsvc\"} 0\n"));
    metrics_shutdown();
    CHECK(metrics_default() == NULL);
}

static metrics_family_t *s_shared;

static void *s_counter_thread(void *arg)
{
    (void) arg;
    char code[16];
    for (int i = 0; i < 20000; i++) {
        snprintf(code, sizeof code, "%d", 200 + i % 8);
        metrics_inc(s_shared, (const char *[]){ "/test", code });
    }
    return NULL;
}

static void t_threads(void)
{
    metrics_t *m = metrics_new(NULL);
    s_shared = metrics_counter(m, "t_total", "T.", "route,code");
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, s_counter_thread, NULL);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    double sum = 0;
    for (int c = 200; c < 208; c++) {
        char code[16];
        snprintf(code, sizeof code, "%d", c);
        sum += metrics_value(s_shared, (const char *[]){ "/test", code });
    }
    CHECK(sum == 8 * 20000);
    metrics_render(m, s_out, sizeof s_out);
    CHECK(s_has("t_total{route=\"/test\",code=\"200\"} 20000\n"));
    metrics_destroy(&m);
}

static const test_case_t cases[] = {
    { "counter_and_gauge", t_counter_and_gauge },
    { "label_escaping", t_label_escaping },
    { "histogram_buckets", t_histogram_buckets },
    { "series_cap", t_series_cap },
    { "merge", t_merge },
    { "default_process", t_default_process },
    { "threads", t_threads },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
