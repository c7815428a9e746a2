//  store: see store.h. The only module that calls mdb_*.
//
//  Every operation is one LMDB transaction run by s_run(): begin, a callback
//  that does the work, then commit (write, when the callback asks for it) or
//  abort. Each process has one MDB_env opened with MDB_NOTLS, so read
//  transactions may be used from any thread and do not take a reader slot per
//  thread. map_lock is held shared by every transaction of this process and
//  exclusively only to adopt a map grown by another process (MDB_MAP_RESIZED):
//  mdb_env_set_mapsize() remaps, which must not happen under a live transaction.
#include "common/store.h"

#include "common/log.h"
#include "common/store_codec.h"

#include <errno.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define S_MAX_DBS 4
#define S_MAX_READERS 256
//  Records visited per write transaction by store_sweep, so that a large sweep
//  lets other writers in between batches.
#define S_SWEEP_BATCH 256
//  LMDB's largest key (mdb_env_get_maxkeysize with the default build).
#define S_LMDB_KEY_MAX 511

struct _store_t {
    MDB_env *env;
    MDB_dbi sessions;
    MDB_dbi pending;
    pthread_rwlock_t map_lock;
    int stale_at_open;          //  stale reader slots cleared by store_open
};

//  A transaction's work. Returns a STORE_* code; sets *commit to have a write
//  transaction committed (the code is returned only if the commit succeeds).
typedef int(s_txn_fn)(store_t *self, MDB_txn *txn, void *arg, bool *commit);

//  ---------------------------------------------------------------------------
//  Helpers

//  Log an LMDB failure once and map it to a STORE_* code.
static int s_fail(const char *op, int rc)
{
    if (rc == MDB_MAP_FULL) {
        log_error("store.full", "op=%s reason=\"%s\" hint=\"the LMDB map is full: raise the store map size\"",
                  op, mdb_strerror(rc));
        return STORE_EFULL;
    }
    log_error("store.fail", "op=%s rc=%d reason=\"%s\"", op, rc, mdb_strerror(rc));
    return STORE_EIO;
}

//  Check a session id or state and point val at it. Returns 0 or STORE_EINVAL.
static int s_key(const char *key, MDB_val *val)
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

static void s_log_corrupt(const char *db, const char *key)
{
    char tag[8];
    log_warn("store.corrupt", "db=%s key=%s reason=\"record does not decode\"", db, log_redact(key, tag));
}

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool s_session_expired(const store_session_t *rec, int64_t now)
{
    return rec->refresh_expires_at <= now;
}

static bool s_pending_expired(const store_pending_t *rec, int64_t now)
{
    int64_t end;
    if (__builtin_add_overflow(rec->created_at, (int64_t) STORE_PENDING_TTL_MS, &end))
        return false;
    return end <= now;
}

//  mkdir -p with mode 0700 for the directories it creates. Returns 0 or -1 (errno set).
static int s_mkdir_p(const char *dir)
{
    char path[PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        path[i] = c;
    }
    struct stat st;
    if (stat(dir, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

//  Begin a transaction; the caller holds map_lock shared. When another process
//  has grown the map, adopt its size (exclusively, no transaction of ours live)
//  and try once more.
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
            return s_fail(op, src);
        MDB_envinfo info;
        if (mdb_env_info(self->env, &info) == 0)
            log_info("store.resized", "op=%s map_size=%zu", op, info.me_mapsize);
        rc = mdb_txn_begin(self->env, NULL, flags, txn_p);
    }
    if (rc != 0) {
        *txn_p = NULL;
        return s_fail(op, rc);
    }
    return 0;
}

static int s_run(store_t *self, bool write, const char *op, s_txn_fn *fn, void *arg)
{
    if (!self)
        return STORE_EINVAL;
    pthread_rwlock_rdlock(&self->map_lock);
    MDB_txn *txn;
    int rc = s_begin(self, write ? 0 : MDB_RDONLY, &txn, op);
    if (rc == 0) {
        bool commit = false;
        rc = fn(self, txn, arg, &commit);
        if (write && commit) {
            int crc = mdb_txn_commit(txn);
            if (crc != 0)
                rc = s_fail(op, crc);
        }
        else
            mdb_txn_abort(txn);
    }
    pthread_rwlock_unlock(&self->map_lock);
    return rc;
}

//  Read and decode the session of key in txn. Returns 0, STORE_ENOTFOUND, STORE_EINVAL or STORE_EIO.
static int s_session_read(store_t *self, MDB_txn *txn, const char *key, store_session_t *rec, const char *op)
{
    MDB_val k, v;
    s_key(key, &k);
    int rc = mdb_get(txn, self->sessions, &k, &v);
    if (rc == MDB_NOTFOUND)
        return STORE_ENOTFOUND;
    if (rc != 0)
        return s_fail(op, rc);
    if (store_codec_session_decode(v.mv_data, v.mv_size, rec) != 0) {
        s_log_corrupt("sessions", key);
        return STORE_EINVAL;
    }
    return 0;
}

//  Encode and write the session of key in txn. Returns 0, STORE_EINVAL, STORE_EFULL or STORE_EIO.
static int s_session_write(store_t *self, MDB_txn *txn, const char *key, const store_session_t *rec, const char *op)
{
    char buf[STORE_CODEC_MAX];
    size_t len;
    if (store_codec_session_encode(rec, buf, sizeof buf, &len) != 0)
        return STORE_EINVAL;
    MDB_val k, v = { len, buf };
    s_key(key, &k);
    int rc = mdb_put(txn, self->sessions, &k, &v, 0);
    return rc == 0 ? 0 : s_fail(op, rc);
}

//  ---------------------------------------------------------------------------
//  Open and close

store_t *store_open(const char *dir, size_t map_size)
{
    if (!dir || !*dir) {
        log_error("store.open.fail", "reason=\"no data directory\"");
        return NULL;
    }
    if (s_mkdir_p(dir) != 0) {
        log_error("store.open.fail", "dir=%s reason=\"mkdir: %s\"", dir, strerror(errno));
        return NULL;
    }
    store_t *self = calloc(1, sizeof *self);
    if (!self || pthread_rwlock_init(&self->map_lock, NULL) != 0) {
        free(self);
        log_error("store.open.fail", "dir=%s reason=\"out of memory\"", dir);
        return NULL;
    }
    const char *step = "env_create";
    int rc = mdb_env_create(&self->env);
    if (rc == 0 && (step = "set_maxdbs", rc = mdb_env_set_maxdbs(self->env, S_MAX_DBS)) == 0
        && (step = "set_mapsize", rc = mdb_env_set_mapsize(self->env, map_size ? map_size : STORE_DEFAULT_MAP_SIZE)) == 0
        && (step = "set_maxreaders", rc = mdb_env_set_maxreaders(self->env, S_MAX_READERS)) == 0)
        step = "env_open", rc = mdb_env_open(self->env, dir, MDB_NOTLS, 0600);
    if (rc != 0) {
        log_error("store.open.fail", "dir=%s step=%s reason=\"%s\"", dir, step, mdb_strerror(rc));
        store_close(&self);
        return NULL;
    }
    //  Reader slots of processes that died inside a read transaction pin old
    //  pages forever (the file only grows) until someone clears them.
    int dead = 0;
    rc = mdb_reader_check(self->env, &dead);
    if (rc != 0)
        log_warn("store.reader_check.fail", "reason=\"%s\"", mdb_strerror(rc));
    self->stale_at_open = dead;
    if (dead > 0)
        log_warn("store.stale_readers", "cleared=%d", dead);

    pthread_rwlock_rdlock(&self->map_lock);
    MDB_txn *txn;
    rc = s_begin(self, 0, &txn, "open");
    if (rc == 0) {
        int mrc = mdb_dbi_open(txn, "sessions", MDB_CREATE, &self->sessions);
        if (mrc == 0)
            mrc = mdb_dbi_open(txn, "pending", MDB_CREATE, &self->pending);
        if (mrc == 0)
            mrc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
        if (mrc != 0)
            rc = s_fail("open", mrc);
    }
    pthread_rwlock_unlock(&self->map_lock);
    if (rc != 0) {
        log_error("store.open.fail", "dir=%s step=create_dbs", dir);
        store_close(&self);
        return NULL;
    }
    MDB_envinfo info;
    mdb_env_info(self->env, &info);
    log_info("store.open", "dir=%s map_size=%zu max_readers=%u stale_readers=%d", dir, info.me_mapsize,
             info.me_maxreaders, dead);
    return self;
}

void store_close(store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    store_t *self = *self_p;
    if (self->env)
        mdb_env_close(self->env);
    pthread_rwlock_destroy(&self->map_lock);
    free(self);
    *self_p = NULL;
}

const char *store_strerror(int rc)
{
    switch (rc) {
    case STORE_OK: return "ok";
    case STORE_ENOTFOUND: return "not found";
    case STORE_EIO: return "store i/o error";
    case STORE_EFULL: return "store map full";
    case STORE_EBUSY: return "refresh in progress";
    case STORE_ESTALE: return "record version moved on";
    case STORE_EINVAL: return "invalid argument or record";
    default: return "unknown store error";
    }
}

int store_reader_check(store_t *self)
{
    if (!self)
        return STORE_EINVAL;
    int dead = 0;
    int rc = mdb_reader_check(self->env, &dead);
    if (rc != 0)
        return s_fail("reader_check", rc);
    if (dead > 0)
        log_warn("store.stale_readers", "cleared=%d", dead);
    return dead;
}

//  ---------------------------------------------------------------------------
//  Sessions

typedef struct {
    const char *sid;
    const char *old_sid;
    int64_t now;
    store_session_t *rec;
    const store_session_t *in;
    uint64_t seen_version;
    int64_t lease_ms;
    const char *buf;            //  an encoded record
    size_t len;
} s_sess_arg_t;

static int s_get_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    (void) commit;
    s_sess_arg_t *a = arg;
    int rc = s_session_read(self, txn, a->sid, a->rec, "session_get");
    if (rc == 0 && s_session_expired(a->rec, a->now)) {
        memset(a->rec, 0, sizeof *a->rec);
        rc = STORE_ENOTFOUND;
    }
    return rc;
}

int store_session_get_at(store_t *self, const char *sid, int64_t now, store_session_t *rec)
{
    MDB_val k;
    if (!rec || s_key(sid, &k) != 0)
        return STORE_EINVAL;
    s_sess_arg_t a = { .sid = sid, .now = now, .rec = rec };
    return s_run(self, false, "session_get", s_get_fn, &a);
}

int store_session_get(store_t *self, const char *sid, store_session_t *rec)
{
    return store_session_get_at(self, sid, s_now_ms(), rec);
}

static int s_put_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_sess_arg_t *a = arg;
    MDB_val k, v = { a->len, (void *) a->buf };
    s_key(a->sid, &k);
    int rc = mdb_put(txn, self->sessions, &k, &v, 0);
    if (rc != 0)
        return s_fail(a->old_sid ? "session_rotate" : "session_put", rc);
    if (a->old_sid && strcmp(a->old_sid, a->sid) != 0) {
        s_key(a->old_sid, &k);
        rc = mdb_del(txn, self->sessions, &k, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return s_fail("session_rotate", rc);
    }
    *commit = true;
    return 0;
}

int store_session_put(store_t *self, const char *sid, const store_session_t *rec)
{
    return store_session_rotate(self, NULL, sid, rec);
}

int store_session_rotate(store_t *self, const char *old_sid, const char *new_sid, const store_session_t *rec)
{
    MDB_val k;
    if (!rec || s_key(new_sid, &k) != 0 || (old_sid && s_key(old_sid, &k) != 0))
        return STORE_EINVAL;
    //  Encoded before the transaction: the single writer lock is held for the put only.
    char buf[STORE_CODEC_MAX];
    size_t len;
    if (store_codec_session_encode(rec, buf, sizeof buf, &len) != 0)
        return STORE_EINVAL;
    s_sess_arg_t a = { .sid = new_sid, .old_sid = old_sid, .buf = buf, .len = len };
    return s_run(self, true, old_sid ? "session_rotate" : "session_put", s_put_fn, &a);
}

static int s_del_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    MDB_val k;
    s_key(arg, &k);
    int rc = mdb_del(txn, self->sessions, &k, NULL);
    if (rc == MDB_NOTFOUND)
        return STORE_ENOTFOUND;
    if (rc != 0)
        return s_fail("session_delete", rc);
    *commit = true;
    return 0;
}

int store_session_delete(store_t *self, const char *sid)
{
    MDB_val k;
    if (s_key(sid, &k) != 0)
        return STORE_EINVAL;
    return s_run(self, true, "session_delete", s_del_fn, (void *) sid);
}

static int s_count_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    (void) commit;
    MDB_stat st;
    int rc = mdb_stat(txn, self->sessions, &st);
    if (rc != 0)
        return s_fail("session_count", rc);
    *(int64_t *) arg = (int64_t) st.ms_entries;
    return 0;
}

int64_t store_session_count(store_t *self)
{
    int64_t count = 0;
    int rc = s_run(self, false, "session_count", s_count_fn, &count);
    return rc == 0 ? count : rc;
}

//  ---------------------------------------------------------------------------
//  The refresh lease

static int s_claim_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_sess_arg_t *a = arg;
    int rc = s_session_read(self, txn, a->sid, a->rec, "refresh_claim");
    if (rc != 0)
        return rc;
    if (s_session_expired(a->rec, a->now))
        return STORE_ENOTFOUND;
    if (a->rec->version != a->seen_version)
        return STORE_ESTALE;
    if (a->rec->refreshing_until > a->now)
        return STORE_EBUSY;
    int64_t until;
    if (__builtin_add_overflow(a->now, a->lease_ms, &until))
        return STORE_EINVAL;
    a->rec->refreshing_until = until;
    rc = s_session_write(self, txn, a->sid, a->rec, "refresh_claim");
    *commit = rc == 0;
    return rc;
}

int store_refresh_claim(store_t *self, const char *sid, uint64_t seen_version, int64_t now, int64_t lease_ms,
                        store_session_t *rec)
{
    MDB_val k;
    if (!rec || lease_ms <= 0 || s_key(sid, &k) != 0)
        return STORE_EINVAL;
    s_sess_arg_t a = { .sid = sid, .now = now, .rec = rec, .seen_version = seen_version, .lease_ms = lease_ms };
    int rc = s_run(self, true, "refresh_claim", s_claim_fn, &a);
    if (rc == 0)
        return 0;
    if (rc != STORE_ESTALE && rc != STORE_EBUSY) {
        store_session_t zero = { 0 };
        *rec = zero;
    }
    return rc;
}

static int s_complete_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_sess_arg_t *a = arg;
    int rc = s_session_read(self, txn, a->sid, a->rec, "refresh_complete");
    if (rc != 0)
        return rc;
    if (a->rec->version != a->in->version)
        return STORE_ESTALE;
    *a->rec = *a->in;
    a->rec->version = a->in->version + 1;
    a->rec->refreshing_until = 0;
    rc = s_session_write(self, txn, a->sid, a->rec, "refresh_complete");
    *commit = rc == 0;
    return rc;
}

int store_refresh_complete(store_t *self, const char *sid, store_session_t *rec)
{
    MDB_val k;
    if (!rec || s_key(sid, &k) != 0)
        return STORE_EINVAL;
    store_session_t next;
    s_sess_arg_t a = { .sid = sid, .rec = &next, .in = rec };
    int rc = s_run(self, true, "refresh_complete", s_complete_fn, &a);
    if (rc == 0) {
        rec->version = next.version;
        rec->refreshing_until = 0;
    }
    return rc;
}

static int s_release_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_sess_arg_t *a = arg;
    int rc = s_session_read(self, txn, a->sid, a->rec, "refresh_release");
    if (rc != 0 || a->rec->refreshing_until == 0)
        return rc;
    a->rec->refreshing_until = 0;
    rc = s_session_write(self, txn, a->sid, a->rec, "refresh_release");
    *commit = rc == 0;
    return rc;
}

int store_refresh_release(store_t *self, const char *sid)
{
    MDB_val k;
    if (s_key(sid, &k) != 0)
        return STORE_EINVAL;
    store_session_t cur;
    s_sess_arg_t a = { .sid = sid, .rec = &cur };
    return s_run(self, true, "refresh_release", s_release_fn, &a);
}

//  ---------------------------------------------------------------------------
//  Pending logins

typedef struct {
    const char *state;
    int64_t now;
    const char *buf;
    size_t len;
    store_pending_t *rec;
} s_pend_arg_t;

static int s_pending_put_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_pend_arg_t *a = arg;
    MDB_val k, v = { a->len, (void *) a->buf };
    s_key(a->state, &k);
    int rc = mdb_put(txn, self->pending, &k, &v, 0);
    if (rc != 0)
        return s_fail("pending_put", rc);
    *commit = true;
    return 0;
}

int store_pending_put(store_t *self, const char *state, const store_pending_t *rec)
{
    MDB_val k;
    if (!rec || s_key(state, &k) != 0)
        return STORE_EINVAL;
    char buf[STORE_CODEC_MAX];
    size_t len;
    if (store_codec_pending_encode(rec, buf, sizeof buf, &len) != 0)
        return STORE_EINVAL;
    s_pend_arg_t a = { .state = state, .buf = buf, .len = len };
    return s_run(self, true, "pending_put", s_pending_put_fn, &a);
}

static int s_pending_take_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_pend_arg_t *a = arg;
    MDB_val k, v;
    s_key(a->state, &k);
    int rc = mdb_get(txn, self->pending, &k, &v);
    if (rc == MDB_NOTFOUND)
        return STORE_ENOTFOUND;
    if (rc != 0)
        return s_fail("pending_take", rc);
    //  Decode before deleting: v points into the map, which the delete may reuse.
    int result = store_codec_pending_decode(v.mv_data, v.mv_size, a->rec);
    if (result != 0)
        s_log_corrupt("pending", a->state);
    else if (s_pending_expired(a->rec, a->now))
        result = STORE_ENOTFOUND;
    //  The state is consumed whatever the outcome: single use.
    rc = mdb_del(txn, self->pending, &k, NULL);
    if (rc != 0)
        return s_fail("pending_take", rc);
    *commit = true;
    return result;
}

int store_pending_take(store_t *self, const char *state, int64_t now, store_pending_t *rec)
{
    MDB_val k;
    if (!rec || s_key(state, &k) != 0)
        return STORE_EINVAL;
    s_pend_arg_t a = { .state = state, .now = now, .rec = rec };
    int rc = s_run(self, true, "pending_take", s_pending_take_fn, &a);
    if (rc != 0) {
        store_pending_t zero = { 0 };
        *rec = zero;
    }
    return rc;
}

//  ---------------------------------------------------------------------------
//  Sweep: one cursor walk per database, S_SWEEP_BATCH records per write
//  transaction; the next batch resumes at the first key not yet visited.

typedef struct {
    bool sessions;              //  which database
    int64_t now;
    char resume[S_LMDB_KEY_MAX + 1];
    size_t resume_len;          //  0: start at the first key
    bool done;
    size_t deleted;             //  in this batch
    size_t corrupt;             //  in this batch
    union {
        store_session_t session;
        store_pending_t pending;
    } u;
} s_sweep_t;

//  1 when the record is expired, 0 when live, -1 when it does not decode.
static int s_sweep_expired(s_sweep_t *sw, const MDB_val *v)
{
    if (sw->sessions) {
        if (store_codec_session_decode(v->mv_data, v->mv_size, &sw->u.session) != 0)
            return -1;
        return s_session_expired(&sw->u.session, sw->now);
    }
    if (store_codec_pending_decode(v->mv_data, v->mv_size, &sw->u.pending) != 0)
        return -1;
    return s_pending_expired(&sw->u.pending, sw->now);
}

static int s_sweep_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_sweep_t *sw = arg;
    sw->deleted = sw->corrupt = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, sw->sessions ? self->sessions : self->pending, &cur);
    if (rc != 0)
        return s_fail("sweep", rc);
    MDB_val k = { sw->resume_len, sw->resume }, v;
    rc = mdb_cursor_get(cur, &k, &v, sw->resume_len ? MDB_SET_RANGE : MDB_FIRST);
    for (size_t visited = 0; rc == 0 && visited < S_SWEEP_BATCH; visited++) {
        int expired = s_sweep_expired(sw, &v);
        if (expired < 0)
            sw->corrupt++;      //  left in place: never delete what we cannot read
        else if (expired) {
            rc = mdb_cursor_del(cur, 0);
            if (rc != 0)
                break;
            sw->deleted++;
            *commit = true;
        }
        //  After a delete the cursor already sits on the next record and
        //  MDB_NEXT returns that one.
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    int result = 0;
    if (rc == MDB_NOTFOUND)
        sw->done = true;
    else if (rc != 0)
        result = s_fail("sweep", rc);
    else if (k.mv_size == 0 || k.mv_size > S_LMDB_KEY_MAX)
        sw->done = true;        //  cannot happen with LMDB's key limit
    else {
        memcpy(sw->resume, k.mv_data, k.mv_size);
        sw->resume_len = k.mv_size;
    }
    mdb_cursor_close(cur);
    if (result != 0)
        *commit = false;
    return result;
}

static int s_sweep_db(store_t *self, bool sessions, int64_t now, size_t *count_p)
{
    s_sweep_t *sw = calloc(1, sizeof *sw);
    if (!sw)
        return STORE_EIO;
    sw->sessions = sessions;
    sw->now = now;
    size_t deleted = 0, corrupt = 0;
    int rc = 0;
    while (!sw->done && rc == 0) {
        rc = s_run(self, true, "sweep", s_sweep_fn, sw);
        if (rc == 0) {
            deleted += sw->deleted;
            corrupt += sw->corrupt;
        }
    }
    free(sw);
    if (corrupt > 0)
        log_warn("store.sweep.corrupt", "db=%s records=%zu", sessions ? "sessions" : "pending", corrupt);
    *count_p = deleted;
    return rc;
}

int store_sweep(store_t *self, int64_t now, size_t *sessions_p, size_t *pending_p)
{
    if (!self)
        return STORE_EINVAL;
    size_t ns = 0, np = 0;
    int rc = s_sweep_db(self, true, now, &ns);
    if (rc == 0)
        rc = s_sweep_db(self, false, now, &np);
    if (sessions_p)
        *sessions_p = ns;
    if (pending_p)
        *pending_p = np;
    if (ns || np)
        log_info("store.sweep", "sessions=%zu pending=%zu", ns, np);
    return rc;
}

//  ---------------------------------------------------------------------------
//  Test support (see store.h)

typedef struct {
    bool write;
    int ready_fd;
    int wait_fd;
} s_hold_t;

static int s_hold_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    (void) commit;          //  never committed
    s_hold_t *h = arg;
    if (h->write) {
        //  Dirty the transaction so a crash has something to lose.
        store_session_t rec = { .env = "sandbox", .refresh_expires_at = INT64_MAX };
        int rc = s_session_write(self, txn, "store-test-hold", &rec, "test_hold");
        if (rc != 0)
            return rc;
    }
    else {
        MDB_stat st;
        if (mdb_stat(txn, self->sessions, &st) != 0)
            return STORE_EIO;
    }
    char c = h->write ? 'w' : 'r';
    ssize_t n;
    do
        n = write(h->ready_fd, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        return STORE_EIO;
    do
        n = read(h->wait_fd, &c, 1);
    while (n < 0 && errno == EINTR);
    return 0;
}

int store_test_hold_write(store_t *self, int ready_fd, int wait_fd)
{
    s_hold_t h = { true, ready_fd, wait_fd };
    return s_run(self, true, "test_hold_write", s_hold_fn, &h);
}

int store_test_hold_read(store_t *self, int ready_fd, int wait_fd)
{
    s_hold_t h = { false, ready_fd, wait_fd };
    return s_run(self, false, "test_hold_read", s_hold_fn, &h);
}

typedef struct {
    bool sessions;
    const char *key;
    MDB_val val;
} s_raw_t;

static int s_raw_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_raw_t *r = arg;
    MDB_val k;
    s_key(r->key, &k);
    int rc = mdb_put(txn, r->sessions ? self->sessions : self->pending, &k, &r->val, 0);
    if (rc != 0)
        return s_fail("test_put_raw", rc);
    *commit = true;
    return 0;
}

int store_test_put_raw(store_t *self, const char *db, const char *key, const void *data, size_t len)
{
    MDB_val k;
    if (!db || s_key(key, &k) != 0 || (!data && len))
        return STORE_EINVAL;
    bool sessions = strcmp(db, "sessions") == 0;
    if (!sessions && strcmp(db, "pending") != 0)
        return STORE_EINVAL;
    s_raw_t r = { sessions, key, { len, (void *) data } };
    return s_run(self, true, "test_put_raw", s_raw_fn, &r);
}

int store_test_stale_at_open(const store_t *self)
{
    return self ? self->stale_at_open : STORE_EINVAL;
}
