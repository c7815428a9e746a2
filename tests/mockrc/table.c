//  table: see table.h.
#include "tests/mockrc/table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct _entry_t {
    struct _entry_t *next;
    void *value;
    uint64_t hash;
    char key[];
} entry_t;

struct _table_t {
    entry_t **buckets;
    size_t nbuckets;  //  always a power of two
    size_t size;
};

#define INITIAL_BUCKETS 64

//  FNV-1a: keys are random tokens or small ids, so a simple hash spreads well.
static uint64_t s_hash(const char *key)
{
    uint64_t h = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *) key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

table_t *table_new(void)
{
    table_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->buckets = calloc(INITIAL_BUCKETS, sizeof *self->buckets);
    if (!self->buckets) {
        free(self);
        return NULL;
    }
    self->nbuckets = INITIAL_BUCKETS;
    return self;
}

void table_destroy(table_t **self_p, void (*free_value)(void *value))
{
    if (!self_p || !*self_p)
        return;
    table_t *self = *self_p;
    for (size_t i = 0; i < self->nbuckets; i++) {
        entry_t *e = self->buckets[i];
        while (e) {
            entry_t *next = e->next;
            if (free_value)
                free_value(e->value);
            free(e);
            e = next;
        }
    }
    free(self->buckets);
    free(self);
    *self_p = NULL;
}

static entry_t **s_slot(const table_t *self, const char *key, uint64_t hash)
{
    entry_t **slot = &self->buckets[hash & (self->nbuckets - 1)];
    while (*slot && ((*slot)->hash != hash || strcmp((*slot)->key, key) != 0))
        slot = &(*slot)->next;
    return slot;
}

void *table_get(const table_t *self, const char *key)
{
    entry_t *e = *s_slot(self, key, s_hash(key));
    return e ? e->value : NULL;
}

static void s_grow(table_t *self)
{
    size_t n = self->nbuckets * 2;
    entry_t **buckets = calloc(n, sizeof *buckets);
    if (!buckets)
        return;  //  keep the old buckets: slower, still correct
    for (size_t i = 0; i < self->nbuckets; i++) {
        entry_t *e = self->buckets[i];
        while (e) {
            entry_t *next = e->next;
            e->next = buckets[e->hash & (n - 1)];
            buckets[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(self->buckets);
    self->buckets = buckets;
    self->nbuckets = n;
}

int table_put(table_t *self, const char *key, void *value)
{
    uint64_t hash = s_hash(key);
    entry_t **slot = s_slot(self, key, hash);
    if (*slot)
        return -1;
    size_t len = strlen(key);
    entry_t *e = malloc(sizeof *e + len + 1);
    if (!e)
        return -1;
    memcpy(e->key, key, len + 1);
    e->value = value;
    e->hash = hash;
    e->next = NULL;
    *slot = e;
    if (++self->size > self->nbuckets)
        s_grow(self);
    return 0;
}

void *table_take(table_t *self, const char *key)
{
    entry_t **slot = s_slot(self, key, s_hash(key));
    entry_t *e = *slot;
    if (!e)
        return NULL;
    *slot = e->next;
    void *value = e->value;
    free(e);
    self->size--;
    return value;
}

size_t table_size(const table_t *self)
{
    return self->size;
}

void table_sweep(table_t *self, table_fn *fn, void *arg)
{
    for (size_t i = 0; i < self->nbuckets; i++) {
        entry_t **slot = &self->buckets[i];
        while (*slot) {
            entry_t *e = *slot;
            if (fn(e->key, e->value, arg)) {
                *slot = e->next;
                free(e);
                self->size--;
            }
            else
                slot = &e->next;
        }
    }
}
