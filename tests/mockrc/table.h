//  table: a string-keyed hash table of pointers (chained, grows by doubling).
//
//  Not thread-safe: the owner locks. table_get never writes to the table, so
//  any number of threads may call it at once under a shared (read) lock.
#ifndef MOCKRC_TABLE_H_INCLUDED
#define MOCKRC_TABLE_H_INCLUDED

#include <stddef.h>

typedef struct _table_t table_t;

//  Called for each entry by table_sweep; return nonzero to remove the entry
//  (the callback then owns, and usually frees, value).
typedef int(table_fn)(const char *key, void *value, void *arg);

//  Create an empty table. Returns NULL when out of memory.
table_t *table_new(void);
//  Destroy the table, calling free_value (when not NULL) on every value; sets *self_p to NULL.
void table_destroy(table_t **self_p, void (*free_value)(void *value));
//  The value stored under key. Returns NULL when absent.
void *table_get(const table_t *self, const char *key);
//  Store value under a copy of key. Returns 0, or -1 when key exists or memory runs out.
int table_put(table_t *self, const char *key, void *value);
//  Remove key and return its value (now the caller's). Returns NULL when absent.
void *table_take(table_t *self, const char *key);
//  Number of entries.
size_t table_size(const table_t *self);
//  Call fn on every entry (any order); entries for which fn returns nonzero are removed.
//  With an fn that always returns 0 the table is only read (a shared lock is enough).
void table_sweep(table_t *self, table_fn *fn, void *arg);

#endif
