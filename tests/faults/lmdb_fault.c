//  lmdb_fault: an LD_PRELOAD shim for integration tests (built into $(BUILD)/lib/lmdb_fault.so,
//  never linked into a service): makes LMDB commits fail with MDB_MAP_FULL on request, so a test
//  can show what a service does when a commit fails without test hooks in the service itself.
//
//  LMDB_FAULT_FILE=path turns it on. While that file exists, the write commits of the process
//  that changed something (a top-level transaction in which, or in whose nested transactions,
//  mdb_put, mdb_del, mdb_cursor_put, mdb_cursor_del or mdb_drop was called) are counted, and every
//  one after the first N fails: the transaction is aborted and MDB_MAP_FULL returned, as LMDB does
//  for a full map. N is the number in the file (0 when empty). Commits that change nothing (the
//  service loop's empty group commits) and read transactions are never counted or failed. When
//  the file is gone the count starts again. One line on stderr per injected failure.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_TXN_MAX 256

typedef struct {
    MDB_txn *txn;  //  NULL: free slot
    MDB_txn *parent;
    bool dirty;
} s_txn_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static s_txn_t s_txns[S_TXN_MAX];
static unsigned long s_counted;  //  dirty commits seen while the file exists

static void *s_real(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);
    if (!fn) {
        fprintf(stderr, "lmdb_fault: %s not found\n", name);
        abort();
    }
    return fn;
}

//  The slot of txn, or NULL. Call with s_lock held.
static s_txn_t *s_find(MDB_txn *txn)
{
    for (int i = 0; txn && i < S_TXN_MAX; i++)
        if (s_txns[i].txn == txn)
            return &s_txns[i];
    return NULL;
}

static void s_mark(MDB_txn *txn)
{
    pthread_mutex_lock(&s_lock);
    s_txn_t *t = s_find(txn);
    if (t)
        t->dirty = true;
    pthread_mutex_unlock(&s_lock);
}

//  Forget txn; returns whether it was a dirty top-level transaction (a child's dirt goes to its parent).
static bool s_forget(MDB_txn *txn, bool committed)
{
    bool top_dirty = false;
    pthread_mutex_lock(&s_lock);
    s_txn_t *t = s_find(txn);
    if (t) {
        if (t->parent) {
            s_txn_t *p = s_find(t->parent);
            if (p && committed && t->dirty)
                p->dirty = true;
        }
        else
            top_dirty = t->dirty;
        t->txn = NULL;
    }
    pthread_mutex_unlock(&s_lock);
    return top_dirty;
}

//  Whether this dirty commit is to fail.
static bool s_should_fail(void)
{
    const char *path = getenv("LMDB_FAULT_FILE");
    if (!path || !*path)
        return false;
    FILE *f = fopen(path, "r");
    if (!f) {
        pthread_mutex_lock(&s_lock);
        s_counted = 0;
        pthread_mutex_unlock(&s_lock);
        return false;
    }
    char buf[32] = { 0 };
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *end;
    unsigned long skip = strtoul(buf, &end, 10);
    if (end == buf)
        skip = 0;
    pthread_mutex_lock(&s_lock);
    bool fail = ++s_counted > skip;
    pthread_mutex_unlock(&s_lock);
    return fail;
}

//  mdb_cursor_txn, looked up when first used: the shim is preloaded into processes without LMDB too.
static MDB_txn *s_cursor_txn(MDB_cursor *cursor)
{
    static MDB_txn *(*real)(MDB_cursor *);
    if (!real)
        real = s_real("mdb_cursor_txn");
    return real(cursor);
}

int mdb_txn_begin(MDB_env *env, MDB_txn *parent, unsigned int flags, MDB_txn **txn)
{
    static int (*real)(MDB_env *, MDB_txn *, unsigned int, MDB_txn **);
    if (!real)
        real = s_real("mdb_txn_begin");
    int rc = real(env, parent, flags, txn);
    if (rc == 0 && !(flags & MDB_RDONLY)) {
        pthread_mutex_lock(&s_lock);
        for (int i = 0; i < S_TXN_MAX; i++)
            if (!s_txns[i].txn) {
                s_txns[i] = (s_txn_t){ *txn, parent, false };
                break;
            }
        pthread_mutex_unlock(&s_lock);
    }
    return rc;
}

int mdb_txn_commit(MDB_txn *txn)
{
    static int (*real)(MDB_txn *);
    static void (*real_abort)(MDB_txn *);
    if (!real) {
        real = s_real("mdb_txn_commit");
        real_abort = s_real("mdb_txn_abort");
    }
    pthread_mutex_lock(&s_lock);
    s_txn_t *t = s_find(txn);
    bool top_dirty = t && !t->parent && t->dirty;
    pthread_mutex_unlock(&s_lock);
    if (top_dirty && s_should_fail()) {
        s_forget(txn, false);
        real_abort(txn);
        fprintf(stderr, "lmdb_fault: commit failed (injected MDB_MAP_FULL)\n");
        return MDB_MAP_FULL;
    }
    s_forget(txn, true);
    return real(txn);
}

void mdb_txn_abort(MDB_txn *txn)
{
    static void (*real)(MDB_txn *);
    if (!real)
        real = s_real("mdb_txn_abort");
    s_forget(txn, false);
    real(txn);
}

int mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned int flags)
{
    static int (*real)(MDB_txn *, MDB_dbi, MDB_val *, MDB_val *, unsigned int);
    if (!real)
        real = s_real("mdb_put");
    s_mark(txn);
    return real(txn, dbi, key, data, flags);
}

int mdb_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data)
{
    static int (*real)(MDB_txn *, MDB_dbi, MDB_val *, MDB_val *);
    if (!real)
        real = s_real("mdb_del");
    s_mark(txn);
    return real(txn, dbi, key, data);
}

int mdb_drop(MDB_txn *txn, MDB_dbi dbi, int del)
{
    static int (*real)(MDB_txn *, MDB_dbi, int);
    if (!real)
        real = s_real("mdb_drop");
    s_mark(txn);
    return real(txn, dbi, del);
}

int mdb_cursor_put(MDB_cursor *cursor, MDB_val *key, MDB_val *data, unsigned int flags)
{
    static int (*real)(MDB_cursor *, MDB_val *, MDB_val *, unsigned int);
    if (!real)
        real = s_real("mdb_cursor_put");
    s_mark(s_cursor_txn(cursor));
    return real(cursor, key, data, flags);
}

int mdb_cursor_del(MDB_cursor *cursor, unsigned int flags)
{
    static int (*real)(MDB_cursor *, unsigned int);
    if (!real)
        real = s_real("mdb_cursor_del");
    s_mark(s_cursor_txn(cursor));
    return real(cursor, flags);
}
