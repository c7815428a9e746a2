//  metrics: see metrics.h.
#include "common/metrics.h"
#include "common/clock.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef RCAUTH_VERSION
#define RCAUTH_VERSION "unknown"
#endif

typedef enum { S_COUNTER, S_GAUGE, S_HISTOGRAM } s_type_t;
static const char *const s_type_names[] = { "counter", "gauge", "histogram" };

//  A series' state: its slot is free, being claimed (labels being written), or in use.
enum { S_FREE = 0, S_CLAIMED = 1, S_READY = 2 };

typedef struct {
    atomic_int state;
    char labels[METRICS_LABEL_TEXT];
    atomic_uint_least64_t value;  //  a double's bits: counter or gauge value, histogram sum
} s_series_t;

struct _metrics_family_t {
    metrics_t *owner;
    s_type_t type;
    char name[96];
    char help[160];
    char label_names[METRICS_LABELS_MAX][32];
    size_t label_count;
    bool own_service;  //  has a "service" label: the registry's constant one is not added
    double bounds[METRICS_BUCKETS_MAX];
    size_t bound_count;
    s_series_t series[METRICS_SERIES_MAX];
    atomic_uint_least64_t *counts;  //  histogram: per series, bound_count + 1 buckets (not cumulative)
};

struct _metrics_t {
    char service[32];      //  "" for none
    pthread_mutex_t lock;  //  making families
    metrics_family_t *families[METRICS_FAMILIES_MAX];
    atomic_size_t count;
    metrics_family_t *dropped;
    metrics_collect_fn *collect[METRICS_COLLECT_MAX];
    void *collect_arg[METRICS_COLLECT_MAX];
    size_t collect_count;
    //  The default registry's process figures.
    metrics_family_t *rss, *cpu, *start, *build;
    double started_s;
};

static metrics_t *s_default;

static double s_load(atomic_uint_least64_t *v)
{
    uint64_t bits = atomic_load_explicit(v, memory_order_relaxed);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static void s_store(atomic_uint_least64_t *v, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    atomic_store_explicit(v, bits, memory_order_relaxed);
}

static void s_add(atomic_uint_least64_t *v, double d)
{
    uint64_t old = atomic_load_explicit(v, memory_order_relaxed), new;
    do {
        double cur;
        memcpy(&cur, &old, sizeof cur);
        cur += d;
        memcpy(&new, &cur, sizeof new);
    } while (!atomic_compare_exchange_weak_explicit(v, &old, new, memory_order_relaxed, memory_order_relaxed));
}

metrics_t *metrics_new(const char *service)
{
    metrics_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    snprintf(self->service, sizeof self->service, "%s", service ? service : "");
    pthread_mutex_init(&self->lock, NULL);
    atomic_init(&self->count, 0);
    self->dropped = metrics_counter(self, "rcauth_metrics_series_dropped_total",
                                    "Updates dropped because their family had no room for another label set.", NULL);
    metrics_add(self->dropped, NULL, 0);
    return self;
}

void metrics_destroy(metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    metrics_t *self = *self_p;
    size_t n = atomic_load(&self->count);
    for (size_t i = 0; i < n; i++) {
        free(self->families[i]->counts);
        free(self->families[i]);
    }
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

int metrics_add_collect(metrics_t *self, metrics_collect_fn *fn, void *arg)
{
    if (!self || self->collect_count == METRICS_COLLECT_MAX)
        return -1;
    self->collect[self->collect_count] = fn;
    self->collect_arg[self->collect_count++] = arg;
    return 0;
}

//  Split "a,b" into f->label_names. Returns 0, or -1 when there are too many or one is too long.
static int s_label_names(metrics_family_t *f, const char *labels)
{
    for (const char *p = labels; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t) (end - p) : strlen(p);
        if (f->label_count == METRICS_LABELS_MAX || len == 0 || len >= sizeof f->label_names[0])
            return -1;
        memcpy(f->label_names[f->label_count], p, len);
        f->label_names[f->label_count][len] = '\0';
        f->own_service |= strcmp(f->label_names[f->label_count], "service") == 0;
        f->label_count++;
        p = end ? end + 1 : p + len;
    }
    return 0;
}

static metrics_family_t *s_family(metrics_t *self, s_type_t type, const char *name, const char *help,
                                  const char *labels, const double *bounds, size_t bound_count)
{
    if (!self || !name || bound_count > METRICS_BUCKETS_MAX)
        return NULL;
    pthread_mutex_lock(&self->lock);
    size_t n = atomic_load(&self->count);
    metrics_family_t *f = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(self->families[i]->name, name) == 0) {
            f = self->families[i]->type == type ? self->families[i] : NULL;
            pthread_mutex_unlock(&self->lock);
            return f;
        }
    if (n < METRICS_FAMILIES_MAX && strlen(name) < sizeof f->name)
        f = calloc(1, sizeof *f);
    if (f) {
        f->owner = self;
        f->type = type;
        snprintf(f->name, sizeof f->name, "%s", name);
        snprintf(f->help, sizeof f->help, "%s", help ? help : "");
        for (size_t i = 0; i < bound_count; i++)
            f->bounds[i] = bounds[i];
        f->bound_count = bound_count;
        if (type == S_HISTOGRAM)
            f->counts = calloc(METRICS_SERIES_MAX * (bound_count + 1), sizeof *f->counts);
        if (s_label_names(f, labels) != 0 || (type == S_HISTOGRAM && !f->counts)) {
            free(f->counts);
            free(f);
            f = NULL;
        }
    }
    if (f) {
        self->families[n] = f;
        atomic_store(&self->count, n + 1);  //  published after it is whole: render reads without the lock
    }
    pthread_mutex_unlock(&self->lock);
    return f;
}

metrics_family_t *metrics_counter(metrics_t *self, const char *name, const char *help, const char *labels)
{
    return s_family(self, S_COUNTER, name, help, labels, NULL, 0);
}

metrics_family_t *metrics_gauge(metrics_t *self, const char *name, const char *help, const char *labels)
{
    return s_family(self, S_GAUGE, name, help, labels, NULL, 0);
}

metrics_family_t *metrics_histogram(metrics_t *self, const char *name, const char *help, const char *labels,
                                    const double *bounds, size_t count)
{
    for (size_t i = 1; i < count; i++)
        if (!(bounds[i] > bounds[i - 1]))
            return NULL;
    return s_family(self, S_HISTOGRAM, name, help, labels, bounds, count);
}

//  Append s to out at *len, escaped for a label value. Returns 0, or -1 when it does not fit.
static int s_escape(char *out, size_t size, size_t *len, const char *s)
{
    for (; *s; s++) {
        const char *rep = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
        size_t n = rep ? 2 : 1;
        if (*len + n >= size)
            return -1;
        if (rep)
            memcpy(out + *len, rep, n);
        else
            out[*len] = *s;
        *len += n;
    }
    out[*len] = '\0';
    return 0;
}

//  The labels of values as rendered: name="value",... Returns 0, or -1 when too long.
static int s_label_text(const metrics_family_t *f, const char *const *values, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < f->label_count; i++) {
        int n = snprintf(out + len, size - len, "%s%s=\"", i ? "," : "", f->label_names[i]);
        if (n < 0 || (size_t) n >= size - len)
            return -1;
        len += (size_t) n;
        if (s_escape(out, size, &len, values && values[i] ? values[i] : "") != 0 || len + 1 >= size)
            return -1;
        out[len++] = '"';
        out[len] = '\0';
    }
    return 0;
}

//  The series of values, made when new. Returns NULL (the update is dropped, and counted) when the family is full.
static s_series_t *s_series(metrics_family_t *f, const char *const *values)
{
    char key[METRICS_LABEL_TEXT];
    if (s_label_text(f, values, key, sizeof key) != 0) {
        metrics_inc(f->owner->dropped, NULL);
        return NULL;
    }
    uint64_t h = 14695981039346656037u;  //  FNV-1a
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char) *p) * 1099511628211u;
    for (size_t k = 0; k < METRICS_SERIES_MAX; k++) {
        s_series_t *s = &f->series[(h + k) % METRICS_SERIES_MAX];
        int state = atomic_load_explicit(&s->state, memory_order_acquire);
        if (state == S_FREE) {
            int expected = S_FREE;
            if (atomic_compare_exchange_strong(&s->state, &expected, S_CLAIMED)) {
                memcpy(s->labels, key, strlen(key) + 1);
                atomic_store_explicit(&s->state, S_READY, memory_order_release);
                return s;
            }
            state = expected;
        }
        //  Another thread is writing this slot's labels (a few bytes): wait for them.
        while (state == S_CLAIMED) {
            sched_yield();
            state = atomic_load_explicit(&s->state, memory_order_acquire);
        }
        if (strcmp(s->labels, key) == 0)
            return s;
    }
    if (f != f->owner->dropped)
        metrics_inc(f->owner->dropped, NULL);
    return NULL;
}

void metrics_add(metrics_family_t *f, const char *const *values, double v)
{
    if (!f || f->type == S_HISTOGRAM || (f->type == S_COUNTER && !(v >= 0)))
        return;
    s_series_t *s = s_series(f, values);
    if (s)
        s_add(&s->value, v);
}

void metrics_inc(metrics_family_t *f, const char *const *values)
{
    metrics_add(f, values, 1);
}

void metrics_set(metrics_family_t *f, const char *const *values, double v)
{
    if (!f || f->type == S_HISTOGRAM)
        return;
    s_series_t *s = s_series(f, values);
    if (s)
        s_store(&s->value, v);
}

void metrics_observe(metrics_family_t *f, const char *const *values, double v)
{
    if (!f || f->type != S_HISTOGRAM || isnan(v))
        return;
    s_series_t *s = s_series(f, values);
    if (!s)
        return;
    size_t b = 0;
    while (b < f->bound_count && v > f->bounds[b])
        b++;
    atomic_fetch_add_explicit(&f->counts[(size_t) (s - f->series) * (f->bound_count + 1) + b], 1, memory_order_relaxed);
    s_add(&s->value, v);
}

double metrics_value(metrics_family_t *f, const char *const *values)
{
    if (!f)
        return 0;
    s_series_t *s = s_series(f, values);
    if (!s)
        return 0;
    if (f->type != S_HISTOGRAM)
        return s_load(&s->value);
    uint64_t n = 0;
    for (size_t b = 0; b <= f->bound_count; b++)
        n += atomic_load(&f->counts[(size_t) (s - f->series) * (f->bound_count + 1) + b]);
    return (double) n;
}

// ---------------------------------------------------------------------------
//  Rendering

typedef struct {
    char *out;
    size_t size, len;
    bool full;
} s_buf_t;

static void s_put(s_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_put(s_buf_t *b, const char *fmt, ...)
{
    if (b->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->out + b->len, b->size - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= b->size - b->len)
        b->full = true;
    else
        b->len += (size_t) n;
}

//  A sample value: whole numbers without a fraction, others with enough digits to read back.
static void s_put_value(s_buf_t *b, double v)
{
    if (isnan(v))
        s_put(b, " NaN\n");
    else if (isinf(v))
        s_put(b, v > 0 ? " +Inf\n" : " -Inf\n");
    else if (v == floor(v) && fabs(v) < 9007199254740992.0)
        s_put(b, " %.0f\n", v);
    else
        s_put(b, " %.17g\n", v);
}

//  name<suffix>{service,labels,extra} (the braces only when there is a label).
static void s_put_name(s_buf_t *b, const metrics_family_t *f, const char *suffix, const char *labels, const char *extra)
{
    const char *svc = f->own_service ? "" : f->owner->service;
    const char *parts[3] = { svc[0] ? "service=\"" : "", labels, extra };
    s_put(b, "%s%s", f->name, suffix);
    bool any = svc[0] || labels[0] || extra[0];
    if (!any)
        return;
    s_put(b, "{");
    bool sep = false;
    if (svc[0]) {
        s_put(b, "%s%s\"", parts[0], svc);
        sep = true;
    }
    if (labels[0]) {
        s_put(b, "%s%s", sep ? "," : "", labels);
        sep = true;
    }
    if (extra[0])
        s_put(b, "%s%s", sep ? "," : "", extra);
    s_put(b, "}");
}

static void s_render_family(s_buf_t *b, metrics_family_t *f)
{
    s_put(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, s_type_names[f->type]);
    for (size_t i = 0; i < METRICS_SERIES_MAX; i++) {
        s_series_t *s = &f->series[i];
        if (atomic_load_explicit(&s->state, memory_order_acquire) != S_READY)
            continue;
        if (f->type != S_HISTOGRAM) {
            s_put_name(b, f, "", s->labels, "");
            s_put_value(b, s_load(&s->value));
            continue;
        }
        uint64_t cum = 0;
        for (size_t k = 0; k <= f->bound_count; k++) {
            cum += atomic_load_explicit(&f->counts[i * (f->bound_count + 1) + k], memory_order_relaxed);
            char le[40];
            if (k < f->bound_count)
                snprintf(le, sizeof le, "le=\"%g\"", f->bounds[k]);
            else
                snprintf(le, sizeof le, "le=\"+Inf\"");
            s_put_name(b, f, "_bucket", s->labels, le);
            s_put_value(b, (double) cum);
        }
        s_put_name(b, f, "_sum", s->labels, "");
        s_put_value(b, s_load(&s->value));
        s_put_name(b, f, "_count", s->labels, "");
        s_put_value(b, (double) cum);
    }
}

size_t metrics_render(metrics_t *self, char *out, size_t size)
{
    if (!size)
        return 0;
    out[0] = '\0';
    if (!self)
        return 0;
    for (size_t i = 0; i < self->collect_count; i++)
        self->collect[i](self, self->collect_arg[i]);
    s_buf_t b = { out, size, 0, false };
    size_t n = atomic_load(&self->count);
    for (size_t i = 0; i < n; i++) {
        //  A family that does not fit is left out whole.
        size_t mark = b.len;
        s_render_family(&b, self->families[i]);
        if (b.full) {
            b.len = mark;
            b.full = false;
        }
    }
    out[b.len] = '\0';
    return b.len;
}

// ---------------------------------------------------------------------------
//  Merging renderings

#define S_BLOCKS_MAX (4 * METRICS_FAMILIES_MAX)

typedef struct {
    const char *name;
    size_t name_len;
    const char *head, *body, *end;  //  head: the # lines; body: the samples
    bool done;
} s_block_t;

//  Cut text into family blocks. Returns how many were added to blocks (from *n).
static void s_blocks(const char *text, s_block_t *blocks, size_t *n)
{
    const char *p = strncmp(text, "# HELP ", 7) == 0 ? text : strstr(text, "\n# HELP ");
    if (p && *p == '\n')
        p++;
    while (p && *n < S_BLOCKS_MAX) {
        s_block_t *bl = &blocks[(*n)++];
        bl->head = p;
        bl->name = p + 7;
        bl->name_len = strcspn(bl->name, " \n");
        const char *next = strstr(p, "\n# HELP ");
        bl->end = next ? next + 1 : p + strlen(p);
        //  The head: this line and the comment lines right after it.
        const char *q = p;
        while (q < bl->end && *q == '#') {
            const char *nl = memchr(q, '\n', (size_t) (bl->end - q));
            q = nl ? nl + 1 : bl->end;
        }
        bl->body = q;
        bl->done = false;
        p = next ? next + 1 : NULL;
    }
}

static bool s_append(s_buf_t *b, const char *from, const char *to)
{
    size_t n = (size_t) (to - from);
    if (b->len + n >= b->size)
        return false;
    memcpy(b->out + b->len, from, n);
    b->len += n;
    //  Each part ends its last line.
    if (n && to[-1] != '\n') {
        if (b->len + 1 >= b->size)
            return false;
        b->out[b->len++] = '\n';
    }
    return true;
}

size_t metrics_merge(const char *const *texts, size_t count, char *out, size_t size)
{
    if (!size)
        return 0;
    out[0] = '\0';
    s_block_t *blocks = calloc(S_BLOCKS_MAX, sizeof *blocks);
    if (!blocks)
        return 0;
    size_t n = 0;
    for (size_t t = 0; t < count; t++)
        if (texts[t])
            s_blocks(texts[t], blocks, &n);
    s_buf_t b = { out, size, 0, false };
    for (size_t i = 0; i < n; i++) {
        if (blocks[i].done)
            continue;
        size_t mark = b.len;
        bool ok = s_append(&b, blocks[i].head, blocks[i].end);
        for (size_t j = i + 1; j < n; j++) {
            if (blocks[j].done || blocks[j].name_len != blocks[i].name_len
                || memcmp(blocks[j].name, blocks[i].name, blocks[i].name_len) != 0)
                continue;
            blocks[j].done = true;
            ok = ok && s_append(&b, blocks[j].body, blocks[j].end);
        }
        if (!ok)
            b.len = mark;
    }
    out[b.len] = '\0';
    free(blocks);
    return b.len;
}

// ---------------------------------------------------------------------------
//  The default registry and the process figures

static void s_collect_process(metrics_t *self, void *arg)
{
    (void) arg;
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) == 2)
            metrics_set(self->rss, NULL, (double) resident * (double) sysconf(_SC_PAGESIZE));
        fclose(f);
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        metrics_set(self->cpu, NULL,
                    (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double) ru.ru_stime.tv_sec
                        + ru.ru_stime.tv_usec / 1e6);
    metrics_set(self->start, NULL, self->started_s);
}

int metrics_init(const char *service)
{
    if (s_default)
        return 0;
    metrics_t *self = metrics_new(service);
    if (!self)
        return -1;
    self->rss = metrics_gauge(self, "rcauth_process_resident_memory_bytes", "Resident memory of the process.", NULL);
    self->cpu =
        metrics_counter(self, "rcauth_process_cpu_seconds_total", "User and system CPU time of the process.", NULL);
    self->start = metrics_gauge(self, "rcauth_process_start_time_seconds",
                                "When the process started, in seconds since the Unix epoch.", NULL);
    self->build =
        metrics_gauge(self, "rcauth_build_info", "The version this process was built from (always 1).", "version");
    self->started_s = (double) clock_now_ms() / 1000.0;
    metrics_set(self->build, (const char *[]){ RCAUTH_VERSION }, 1);
    metrics_add_collect(self, s_collect_process, NULL);
    s_default = self;
    return 0;
}

metrics_t *metrics_default(void)
{
    return s_default;
}

void metrics_shutdown(void)
{
    metrics_destroy(&s_default);
}
