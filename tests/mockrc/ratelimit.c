//  ratelimit: see ratelimit.h.
#include "tests/mockrc/ratelimit.h"

#include "tests/mockrc/table.h"

#include <stdlib.h>

typedef struct {
    int64_t window_start;
    int64_t penalty_until;
    int count;
} bucket_t;

struct _ratelimit_t {
    table_t *buckets;
};

ratelimit_t *ratelimit_new(void)
{
    ratelimit_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->buckets = table_new();
    if (!self->buckets) {
        free(self);
        return NULL;
    }
    return self;
}

void ratelimit_destroy(ratelimit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    table_destroy(&(*self_p)->buckets, free);
    free(*self_p);
    *self_p = NULL;
}

static int s_remove(const char *key, void *value, void *arg)
{
    (void) key;
    (void) arg;
    free(value);
    return 1;
}

void ratelimit_clear(ratelimit_t *self)
{
    table_sweep(self->buckets, s_remove, NULL);
}

int ratelimit_hit(ratelimit_t *self, const char *key, int64_t now_ms, int limit, int64_t window_ms, int *remaining)
{
    bucket_t *b = table_get(self->buckets, key);
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b || table_put(self->buckets, key, b) != 0) {
            free(b);
            *remaining = limit;
            return 0;
        }
        b->window_start = now_ms;
    }
    if (now_ms < b->penalty_until) {
        b->penalty_until = now_ms + window_ms;  //  a request in the penalty restarts it
        *remaining = 0;
        return 1;
    }
    if (now_ms - b->window_start >= window_ms) {
        b->window_start = now_ms;
        b->count = 0;
    }
    if (b->count >= limit) {
        b->penalty_until = now_ms + window_ms;
        *remaining = 0;
        return 1;
    }
    b->count++;
    *remaining = limit - b->count;
    return 0;
}
