//  metrics: counters, gauges and histograms of one process, rendered in Prometheus' text format 0.0.4.
//
//  A registry holds families (one metric name each, with a fixed list of label names);
//  a family holds at most METRICS_SERIES_MAX series (one per set of label values), made
//  on first use. Updating a series is lock-free (C11 atomics: a probe of a small hash
//  table, then an atomic add), so civetweb's worker threads can count on the hot path;
//  only making a family takes a lock (at start). A series beyond the cap is dropped
//  and counted (rendered as rcauth_metrics_series_dropped_total). Label values are
//  escaped as the format wants (\\, \", \n); names are the caller's constants.
//
//  Every process has one default registry (metrics_init), whose samples all carry the
//  constant label service="<process>" unless the family has a "service" label of its own
//  (the gateway's rpc_* families: the service called). Its process_* gauges and
//  build_info are filled at each render. The services send their rendering in STATS_OK;
//  the gateway puts its own and theirs together with metrics_merge.
//
//      metrics_family_t *reqs = metrics_counter(metrics_default(), "rcauth_http_requests_total", "HTTP requests.", "route,code");
//      metrics_inc(reqs, (const char *[]) { "/test", "200" });
#ifndef METRICS_H_INCLUDED
#define METRICS_H_INCLUDED

#include <stddef.h>

#define METRICS_FAMILIES_MAX 64  //  families in one registry
#define METRICS_SERIES_MAX 64    //  series (label value sets) in one family
#define METRICS_LABELS_MAX 3     //  label names of one family
#define METRICS_BUCKETS_MAX 16   //  upper bounds of one histogram (+Inf is implicit)
#define METRICS_LABEL_TEXT 160
#define METRICS_COLLECT_MAX \
    4  //  collect hooks of one registry      //  a series' rendered labels ('route="/test",code="200"'), escaped
//  Bounds (seconds) of the duration histograms: 1 ms .. 30 s.
#define METRICS_DURATION_BUCKETS                                                   \
    {                                                                              \
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 \
    }
//  The content type of the rendering.
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct _metrics_t metrics_t;
typedef struct _metrics_family_t metrics_family_t;

//  Called at the start of each render, to set gauges that are read rather than counted (store size ...).
typedef void(metrics_collect_fn)(metrics_t *self, void *arg);

//  A new empty registry; service (may be NULL) becomes the constant label service="...". Returns NULL out of memory.
metrics_t *metrics_new(const char *service);
//  Free the registry and its families, set *self_p to NULL. Safe with NULL. No update may run meanwhile.
void metrics_destroy(metrics_t **self_p);
//  Make the process's default registry for service, with the process_* and build_info families. Call once in
//  main before any thread starts. Returns 0, or -1 out of memory (updates then do nothing).
int metrics_init(const char *service);
//  The default registry, or NULL before metrics_init (every update and family call takes NULL and does nothing).
metrics_t *metrics_default(void);
//  Free the default registry (at exit).
void metrics_shutdown(void);
//  Call fn(self, arg) at the start of every render (after those added before). Returns 0, or -1 when
//  METRICS_COLLECT_MAX are already set. Not while a render may run (at start).
int metrics_add_collect(metrics_t *self, metrics_collect_fn *fn, void *arg);

//  The family called name (made when new; the same one when it exists with the same type). labels: comma-separated
//  label names ("" or NULL for none). Returns NULL when self is NULL, the registry is full, or the name exists
//  with another type.
metrics_family_t *metrics_counter(metrics_t *self, const char *name, const char *help, const char *labels);
//  As metrics_counter, for a gauge.
metrics_family_t *metrics_gauge(metrics_t *self, const char *name, const char *help, const char *labels);
//  As metrics_counter, for a histogram with count ascending upper bounds (at most METRICS_BUCKETS_MAX).
metrics_family_t *metrics_histogram(metrics_t *self, const char *name, const char *help, const char *labels,
                                    const double *bounds, size_t count);

//  Add 1 to the series of values (one value per label name; NULL for a family without labels). NULL family: nothing.
void metrics_inc(metrics_family_t *f, const char *const *values);
//  Add v to a counter or gauge series (a counter ignores v < 0).
void metrics_add(metrics_family_t *f, const char *const *values, double v);
//  Set a gauge (or a counter read from elsewhere, such as CPU time) to v.
void metrics_set(metrics_family_t *f, const char *const *values, double v);
//  Record one observation v in a histogram series.
void metrics_observe(metrics_family_t *f, const char *const *values, double v);
//  The value of a counter or gauge series, or the count of a histogram series (0 when it does not exist).
double metrics_value(metrics_family_t *f, const char *const *values);

//  Render every family, in the order they were made, into out (NUL-terminated). Families that do not fit are
//  left out whole. Returns the length written.
size_t metrics_render(metrics_t *self, char *out, size_t size);
//  Put renderings together: the samples of a family found in several texts go under one HELP/TYPE (the first
//  text's), families in order of first appearance. Anything before a text's first "# HELP" line is ignored.
//  Returns the length written into out (NUL-terminated; families that do not fit are left out whole).
size_t metrics_merge(const char *const *texts, size_t count, char *out, size_t size);

#endif
