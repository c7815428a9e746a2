//  store_txn: see store_txn.h.
#include "common/store_txn.h"

#include "common/log.h"
#include "common/metrics.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

//  rcauth_store_commit_duration_seconds: durable commits (a top-level write, or a batch that wrote something),
//  made at the first one, so that only a process that writes (authsvc) shows it.
static void s_observe_commit(const struct timespec *t0)
{
    static _Atomic(metrics_family_t *) family;
    metrics_family_t *f = atomic_load(&family);
    if (!f && metrics_default()) {
        static const double bounds[] = METRICS_DURATION_BUCKETS;
        f = metrics_histogram(metrics_default(), "rcauth_store_commit_duration_seconds",
                              "Durable commits of the token store (LMDB), including the sync.", NULL, bounds,
                              sizeof bounds / sizeof bounds[0]);
        atomic_store(&family, f);
    }
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics_observe(f, NULL, (double) (t1.tv_sec - t0->tv_sec) + (double) (t1.tv_nsec - t0->tv_nsec) / 1e9);
}

//  A full map fails every write until room is made: one line a second, the others counted.
static pthread_mutex_t s_full_lock = PTHREAD_MUTEX_INITIALIZER;
static struct timespec s_full_last;
static unsigned long s_full_suppressed;

int store_txn_fail(const char *op, int mdb_rc)
{
    if (mdb_rc == MDB_MAP_FULL) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        pthread_mutex_lock(&s_full_lock);
        bool quiet = s_full_last.tv_sec != 0 && now.tv_sec - s_full_last.tv_sec < 1;
        unsigned long suppressed = s_full_suppressed;
        if (quiet)
            s_full_suppressed++;
        else {
            s_full_last = now;
            s_full_suppressed = 0;
        }
        pthread_mutex_unlock(&s_full_lock);
        if (!quiet)
            log_error("store.full",
                      "op=%s suppressed=%lu reason=\"%s\" hint=\"the LMDB map is full: raise DATA_MAP_MB\"", op,
                      suppressed, mdb_strerror(mdb_rc));
        return STORE_EFULL;
    }
    log_error("store.fail", "op=%s rc=%d reason=\"%s\"", op, mdb_rc, mdb_strerror(mdb_rc));
    return STORE_EIO;
}

int store_txn_key(const char *key, MDB_val *val)
{
    if (!key)
        return STORE_EINVAL;
    size_t n = strnlen(key, STORE_KEY_MAX);
    if (n == 0 || n >= STORE_KEY_MAX)
        return STORE_EINVAL;
    val->mv_size = n;
    val->mv_data = (void *) key;
    return 0;
}

void store_txn_corrupt(const char *db, const char *key)
{
    char tag[8];
    log_warn("store.corrupt", "db=%s key=%s reason=\"record does not decode\"", db, log_redact(key, tag));
}

store_codec_ctx_t store_txn_codec(store_t *self, const char *key, unsigned open)
{
    return (store_codec_ctx_t){ .ring = self->ring, .key = key, .open = open };
}

void store_txn_unsealed(const char *kind, const char *key, const store_codec_ctx_t *ctx)
{
    char tag[8];
    log_warn("store.unseal_fail",
             "kind=%s key=%s key_id=%u reason=%s msg=\"a lost session or login: the user logs in "
             "again\"",
             kind, log_redact(key ? key : "", tag), ctx->key_id, seal_strerror(ctx->seal_rc));
}

//  Begin a transaction; the caller holds map_lock shared. When another process
//  has grown the map, adopt its size (exclusively, no transaction of ours live)
//  and try once more.
typedef struct {
    size_t dbi_field;
    const char *op;
    int64_t count;
} s_count_t;

static int s_count_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    (void) commit;
    s_count_t *c = arg;
    MDB_dbi dbi;
    memcpy(&dbi, (const char *) self + c->dbi_field, sizeof dbi);
    MDB_stat st;
    int rc = mdb_stat(txn, dbi, &st);
    if (rc != 0)
        return store_txn_fail(c->op, rc);
    c->count = (int64_t) st.ms_entries;
    return 0;
}

int64_t store_txn_count(store_t *self, size_t dbi_field, const char *op)
{
    s_count_t c = { dbi_field, op, 0 };
    int rc = store_txn_run(self, STORE_TXN_READ, op, s_count_fn, &c);
    return rc == 0 ? c.count : rc;
}

static int s_begin(store_t *self, unsigned flags, MDB_txn **txn_p, const char *op)
{
    int rc = mdb_txn_begin(self->env, NULL, flags, txn_p);
    if (rc == MDB_MAP_RESIZED) {
        pthread_rwlock_unlock(&self->map_lock);
        pthread_rwlock_wrlock(&self->map_lock);
        int src = mdb_env_set_mapsize(self->env, 0);
        pthread_rwlock_unlock(&self->map_lock);
        pthread_rwlock_rdlock(&self->map_lock);
        if (src != 0)
            return store_txn_fail(op, src);
        MDB_envinfo info;
        if (mdb_env_info(self->env, &info) == 0)
            log_info("store.resized", "op=%s map_size=%zu", op, info.me_mapsize);
        rc = mdb_txn_begin(self->env, NULL, flags, txn_p);
    }
    if (rc != 0) {
        *txn_p = NULL;
        return store_txn_fail(op, rc);
    }
    return 0;
}

//  Grow the map by one step for a write that frees space, within the cap.
//  Returns true when it grew.
static bool s_grow(store_t *self, const char *op)
{
    size_t step = self->map_size / 16;
    if (step < ((size_t) 256 << 10))
        step = (size_t) 256 << 10;
    size_t cap = self->map_size + STORE_TXN_GROW_STEPS * step;
    bool grown = false;
    pthread_rwlock_wrlock(&self->map_lock);
    MDB_envinfo info;
    if (mdb_env_info(self->env, &info) == 0 && info.me_mapsize < cap) {
        size_t want = info.me_mapsize + step < cap ? info.me_mapsize + step : cap;
        int rc = mdb_env_set_mapsize(self->env, want);
        if (rc == 0) {
            grown = true;
            log_warn("store.grow", "op=%s map_size=%zu configured=%zu reason=\"map full: room to delete\"", op, want,
                     self->map_size);
        }
        else
            store_txn_fail(op, rc);
    }
    pthread_rwlock_unlock(&self->map_lock);
    return grown;
}

//  Do fn's work in txn, then commit it (a write that asked for it) or abort it. Returns fn's code or the commit's.
static int s_work(store_t *self, MDB_txn *txn, int mode, const char *op, store_txn_fn *fn, void *arg)
{
    bool commit = false;
    int rc = fn(self, txn, arg, &commit);
    if ((mode & STORE_TXN_WRITE) && commit) {
        bool nested = self->batch && pthread_equal(self->batch_owner, pthread_self());  //  s_run_nested
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int crc = mdb_txn_commit(txn);
        if (nested)
            self->batch_dirty = true;
        else if (crc == 0)
            s_observe_commit(&t0);
        if (crc == MDB_MAP_FULL && (mode & STORE_TXN_QUIET_FULL))
            rc = STORE_EFULL;
        else if (crc != 0)
            rc = store_txn_fail(op, crc);
    }
    else
        mdb_txn_abort(txn);
    return rc;
}

static int s_run_once(store_t *self, int mode, const char *op, store_txn_fn *fn, void *arg)
{
    bool write = mode & STORE_TXN_WRITE;
    pthread_rwlock_rdlock(&self->map_lock);
    MDB_txn *txn;
    int rc = s_begin(self, write ? 0 : MDB_RDONLY, &txn, op);
    if (rc == 0)
        rc = s_work(self, txn, mode, op, fn, arg);
    pthread_rwlock_unlock(&self->map_lock);
    return rc;
}

//  Inside a batch: the operation is a nested transaction of the batch, so a
//  failed operation is undone alone and the batch goes on. No map growth here
//  (remapping needs no live transaction).
static int s_run_nested(store_t *self, int mode, const char *op, store_txn_fn *fn, void *arg)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(self->env, self->batch, 0, &txn);
    if (rc != 0)
        return store_txn_fail(op, rc);
    return s_work(self, txn, mode, op, fn, arg);
}

int store_txn_run(store_t *self, int mode, const char *op, store_txn_fn *fn, void *arg)
{
    if (!self)
        return STORE_EINVAL;
    if (self->lost)
        return STORE_ELOST;  //  never write into (or read from) an orphaned data file
    if (self->batch && pthread_equal(self->batch_owner, pthread_self())) {
        if (mode & STORE_TXN_ALONE) {
            log_error("store.misuse", "op=%s reason=\"must not join a batch\"", op);
            return STORE_EINVAL;
        }
        return s_run_nested(self, mode, op, fn, arg);
    }
    int rc = s_run_once(self, mode, op, fn, arg);
    if (rc == STORE_EFULL && (mode & STORE_TXN_FREES) && s_grow(self, op))
        rc = s_run_once(self, mode, op, fn, arg);
    return rc;
}

int store_batch_begin(store_t *self)
{
    if (!self || self->batch)
        return STORE_EINVAL;
    if (self->lost)
        return STORE_ELOST;
    pthread_rwlock_rdlock(&self->map_lock);
    MDB_txn *txn;
    int rc = s_begin(self, 0, &txn, "batch_begin");
    if (rc != 0) {
        pthread_rwlock_unlock(&self->map_lock);
        return rc;
    }
    self->batch = txn;
    self->batch_owner = pthread_self();
    return 0;
}

int store_batch_commit(store_t *self)
{
    if (!self || !self->batch || !pthread_equal(self->batch_owner, pthread_self()))
        return STORE_EINVAL;
    //  LMDB skips the write and the sync of a transaction that changed nothing.
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = mdb_txn_commit(self->batch);
    if (rc == 0 && self->batch_dirty)
        s_observe_commit(&t0);
    self->batch = NULL;
    self->batch_dirty = false;
    pthread_rwlock_unlock(&self->map_lock);
    return rc == 0 ? 0 : store_txn_fail("batch_commit", rc);
}
