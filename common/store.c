//  store: see store.h. The only module that calls mdb_*.
//
//  Open and close, sessions, the refresh lease and the test hooks; pending
//  logins are in store_pending.c, the sweep in store_sweep.c, the record format
//  in store_codec.c, the transaction runner in store_txn.c.
#include "common/store.h"
#include "common/clock.h"

#include "common/log.h"
#include "common/store_codec.h"
#include "common/store_txn.h"

#include <errno.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define S_MAX_DBS 8
#define S_MAX_READERS 256

//  ---------------------------------------------------------------------------
//  Helpers

//  mkdir -p with mode 0700 for the directories it creates; *st gets the directory's. Returns 0 or -1 (errno set).
static int s_mkdir_p(const char *dir, struct stat *st)
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
    if (stat(dir, st) != 0)
        return -1;
    if (!S_ISDIR(st->st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

//  The directories open in this process. LMDB's locks break when one process
//  opens the same environment twice, so store_open refuses that. Entries of
//  another pid were inherited through fork() and do not count.
#define S_OPEN_MAX 16
static struct {
    const store_t *owner;  //  NULL: free
    pid_t pid;
    dev_t dev;
    ino_t ino;
} s_open_dirs[S_OPEN_MAX];
static pthread_mutex_t s_open_lock = PTHREAD_MUTEX_INITIALIZER;

//  Record that self opens the directory st. Returns false when this process has it open already.
static bool s_register(const store_t *self, const struct stat *st)
{
    pid_t pid = getpid();
    int slot = -1;
    bool ok = true;
    pthread_mutex_lock(&s_open_lock);
    for (int i = 0; i < S_OPEN_MAX; i++) {
        if (!s_open_dirs[i].owner || s_open_dirs[i].pid != pid)
            slot = i;
        else if (s_open_dirs[i].dev == st->st_dev && s_open_dirs[i].ino == st->st_ino)
            ok = false;
    }
    if (ok && slot >= 0) {  //  more than S_OPEN_MAX stores at once go unchecked
        s_open_dirs[slot].owner = self;
        s_open_dirs[slot].pid = pid;
        s_open_dirs[slot].dev = st->st_dev;
        s_open_dirs[slot].ino = st->st_ino;
    }
    pthread_mutex_unlock(&s_open_lock);
    return ok;
}

static void s_unregister(const store_t *self)
{
    pid_t pid = getpid();
    pthread_mutex_lock(&s_open_lock);
    for (int i = 0; i < S_OPEN_MAX; i++)
        if (s_open_dirs[i].owner == self && s_open_dirs[i].pid == pid)
            s_open_dirs[i].owner = NULL;
    pthread_mutex_unlock(&s_open_lock);
}

//  Read and decode the session of key in txn. Returns 0, STORE_ENOTFOUND, STORE_EINVAL or STORE_EIO.
static int s_session_read(store_t *self, MDB_txn *txn, const char *key, store_session_t *rec, const char *op)
{
    MDB_val k, v;
    store_txn_key(key, &k);
    int rc = mdb_get(txn, self->sessions, &k, &v);
    if (rc == MDB_NOTFOUND)
        return STORE_ENOTFOUND;
    if (rc != 0)
        return store_txn_fail(op, rc);
    store_codec_ctx_t ctx = store_txn_codec(self, key, STORE_CODEC_OPEN_ALL);
    rc = store_codec_session_decode(&ctx, v.mv_data, v.mv_size, rec);
    if (rc == STORE_ENOTFOUND)
        store_txn_unsealed("session", key, &ctx);
    else if (rc != 0)
        store_txn_corrupt("sessions", key);
    return rc;
}

//  Encode and write the session of key in txn. Returns 0, STORE_EINVAL, STORE_EFULL or STORE_EIO.
static int s_session_write(store_t *self, MDB_txn *txn, const char *key, const store_session_t *rec, const char *op)
{
    char buf[STORE_CODEC_MAX];
    size_t len;
    store_codec_ctx_t ctx = store_txn_codec(self, key, 0);
    if (store_codec_session_encode(&ctx, rec, buf, sizeof buf, &len) != 0)
        return STORE_EINVAL;
    MDB_val k, v = { len, buf };
    store_txn_key(key, &k);
    int rc = mdb_put(txn, self->sessions, &k, &v, 0);
    return rc == 0 ? 0 : store_txn_fail(op, rc);
}

//  ---------------------------------------------------------------------------
//  Open and close

static int s_open_dbs_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    (void) arg;
    int rc = mdb_dbi_open(txn, "sessions", MDB_CREATE, &self->sessions);
    if (rc != 0)
        return store_txn_fail("open", rc);
    rc = store_pending_open(self, txn);
    *commit = rc == 0;
    return rc;
}

static store_t *s_open(const char *dir, size_t map_size, bool create)
{
    if (!dir || !*dir) {
        log_error("store.open.fail", "reason=\"no data directory\"");
        return NULL;
    }
    struct stat st, data_st;
    char data_path[sizeof((store_t *) 0)->data_path];
    if (snprintf(data_path, sizeof data_path, "%s/data.mdb", dir) >= (int) sizeof data_path) {
        log_error("store.open.fail", "reason=\"data directory path too long\"");
        return NULL;
    }
    if (!create
        && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || stat(data_path, &data_st) != 0
            || !S_ISREG(data_st.st_mode))) {
        log_error("store.open.fail",
                  "dir=%s reason=\"no token store there (deleted or never made): a service "
                  "never makes an empty one; deploy/start makes it when the stack starts from nothing\"",
                  dir);
        return NULL;
    }
    if (create && s_mkdir_p(dir, &st) != 0) {
        log_error("store.open.fail", "dir=%s reason=\"mkdir: %s\"", dir, strerror(errno));
        return NULL;
    }
    store_t *self = calloc(1, sizeof *self);
    if (!self || pthread_rwlock_init(&self->map_lock, NULL) != 0) {
        free(self);
        log_error("store.open.fail", "dir=%s reason=\"out of memory\"", dir);
        return NULL;
    }
    if (!s_register(self, &st)) {
        log_error("store.open.fail", "dir=%s reason=\"already open in this process (one store per process)\"", dir);
        pthread_rwlock_destroy(&self->map_lock);
        free(self);
        return NULL;
    }
    self->map_size = map_size ? map_size : STORE_DEFAULT_MAP_SIZE;
    self->pending_max = STORE_PENDING_MAX;
    const char *step = "env_create";
    int rc = mdb_env_create(&self->env);
    if (rc == 0 && (step = "set_maxdbs", rc = mdb_env_set_maxdbs(self->env, S_MAX_DBS)) == 0
        && (step = "set_mapsize", rc = mdb_env_set_mapsize(self->env, self->map_size)) == 0
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

    rc = store_txn_run(self, STORE_TXN_WRITE, "open", s_open_dbs_fn, NULL);
    if (rc != 0) {
        log_error("store.open.fail", "dir=%s step=create_dbs", dir);
        store_close(&self);
        return NULL;
    }
    //  What store_check compares with: the data file this environment has open.
    int fd = -1;
    if (mdb_env_get_fd(self->env, &fd) != 0 || fstat(fd, &data_st) != 0) {
        log_error("store.open.fail", "dir=%s reason=\"cannot stat the open data file\"", dir);
        store_close(&self);
        return NULL;
    }
    snprintf(self->data_path, sizeof self->data_path, "%s", data_path);
    self->data_dev = data_st.st_dev;
    self->data_ino = data_st.st_ino;
    MDB_envinfo info;
    mdb_env_info(self->env, &info);
    log_info("store.open", "dir=%s map_size=%zu reserve=%zu max_readers=%u stale_readers=%d", dir, info.me_mapsize,
             store_reserve(self->map_size), info.me_maxreaders, dead);
    return self;
}

store_t *store_open(const char *dir, size_t map_size)
{
    return s_open(dir, map_size, true);
}

store_t *store_open_existing(const char *dir, size_t map_size)
{
    return s_open(dir, map_size, false);
}

//  What is wrong with the store's data file, into why. Returns 0 when nothing is.
static int s_check(store_t *self, char *why, size_t why_size)
{
    struct stat now, open_st;
    int fd = -1;
    if (stat(self->data_path, &now) != 0) {
        snprintf(why, why_size, "%s",
                 errno == ENOENT ? "the data directory or its data file was deleted"
                                 : "the data file cannot be looked up");
        return -1;
    }
    if (now.st_dev != self->data_dev || now.st_ino != self->data_ino) {
        snprintf(why, why_size, "the data directory was replaced: its data file is not the one this process opened");
        return -1;
    }
    if (mdb_env_get_fd(self->env, &fd) == 0 && fstat(fd, &open_st) == 0 && open_st.st_nlink == 0) {
        snprintf(why, why_size, "the data file this process opened was deleted");
        return -1;
    }
    MDB_txn *txn;
    int rc = mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn);
    if (rc != 0) {
        snprintf(why, why_size, "a read transaction cannot begin: %s", mdb_strerror(rc));
        return -1;
    }
    mdb_txn_abort(txn);
    return 0;
}

int store_check(store_t *store, char *why, size_t why_size)
{
    char reason[160] = "";
    if (!store) {
        snprintf(why, why_size, "the token store is not open");
        return -1;
    }
    int rc = s_check(store, reason, sizeof reason);
    bool was_lost = store->lost;
    store->lost = rc != 0;
    if (rc != 0 && !was_lost)
        log_error("store.lost",
                  "reason=\"%s\" msg=\"every request that needs the token store fails until the data "
                  "directory is restored or the stack is restarted (deploy/stop, deploy/start)\"",
                  reason);
    else if (rc == 0 && was_lost)
        log_info("store.back", "msg=\"the data file is the one this process opened again\"");
    if (why && why_size)
        snprintf(why, why_size, "%s", rc == 0 ? "ok" : reason);
    return rc;
}

void store_close(store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    store_t *self = *self_p;
    s_unregister(self);
    if (self->batch) {  //  an uncommitted batch is dropped
        mdb_txn_abort(self->batch);
        self->batch = NULL;
        pthread_rwlock_unlock(&self->map_lock);
    }
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
        case STORE_EPERM: return "the record belongs to another session";
        case STORE_ELOST: return "the data directory was deleted or replaced";
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
        return store_txn_fail("reader_check", rc);
    if (dead > 0)
        log_warn("store.stale_readers", "cleared=%d", dead);
    return dead;
}

int store_stats(store_t *self, store_stats_t *st)
{
    MDB_envinfo info;
    MDB_stat env_stat;
    if (!self || mdb_env_info(self->env, &info) != 0 || mdb_env_stat(self->env, &env_stat) != 0)
        return STORE_EIO;
    double used = (double) (info.me_last_pgno + 1) * env_stat.ms_psize;
    st->map_used_ratio = info.me_mapsize ? used / (double) info.me_mapsize : 0;
    st->readers = info.me_numreaders;
    return 0;
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
    bool extend;      //  the lease: extend this process's own (else claim it)
    int64_t until;    //  store_session_hold
    const char *buf;  //  an encoded record
    size_t len;
} s_sess_arg_t;

static int s_get_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    (void) commit;
    s_sess_arg_t *a = arg;
    int rc = s_session_read(self, txn, a->sid, a->rec, "session_get");
    if (rc == 0 && store_codec_session_expired(a->rec, a->now)) {
        memset(a->rec, 0, sizeof *a->rec);
        rc = STORE_ENOTFOUND;
    }
    return rc;
}

store_session_t *store_session_new(void)
{
    return calloc(1, sizeof(store_session_t));
}

void store_session_destroy(store_session_t **rec_p)
{
    if (!rec_p || !*rec_p)
        return;
    explicit_bzero(*rec_p, sizeof **rec_p);
    free(*rec_p);
    *rec_p = NULL;
}

int store_session_get_at(store_t *self, const char *sid, int64_t now, store_session_t *rec)
{
    MDB_val k;
    if (!rec || store_txn_key(sid, &k) != 0)
        return STORE_EINVAL;
    s_sess_arg_t a = { .sid = sid, .now = now, .rec = rec };
    return store_txn_run(self, STORE_TXN_READ, "session_get", s_get_fn, &a);
}

int store_session_get(store_t *self, const char *sid, store_session_t *rec)
{
    return store_session_get_at(self, sid, clock_now_ms(), rec);
}

static int s_put_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_sess_arg_t *a = arg;
    MDB_val k, v = { a->len, (void *) a->buf };
    store_txn_key(a->sid, &k);
    int rc = mdb_put(txn, self->sessions, &k, &v, 0);
    if (rc != 0)
        return store_txn_fail(a->old_sid ? "session_rotate" : "session_put", rc);
    if (a->old_sid && strcmp(a->old_sid, a->sid) != 0) {
        store_txn_key(a->old_sid, &k);
        rc = mdb_del(txn, self->sessions, &k, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return store_txn_fail("session_rotate", rc);
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
    if (!rec || store_txn_key(new_sid, &k) != 0 || (old_sid && store_txn_key(old_sid, &k) != 0))
        return STORE_EINVAL;
    //  Encoded before the transaction: the single writer lock is held for the put only.
    char buf[STORE_CODEC_MAX];
    size_t len;
    store_codec_ctx_t ctx = store_txn_codec(self, new_sid, 0);
    if (store_codec_session_encode(&ctx, rec, buf, sizeof buf, &len) != 0)
        return STORE_EINVAL;
    s_sess_arg_t a = { .sid = new_sid, .old_sid = old_sid, .buf = buf, .len = len };
    return store_txn_run(self, STORE_TXN_WRITE, old_sid ? "session_rotate" : "session_put", s_put_fn, &a);
}

static int s_del_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    MDB_val k;
    store_txn_key(arg, &k);
    int rc = mdb_del(txn, self->sessions, &k, NULL);
    if (rc == MDB_NOTFOUND)
        return STORE_ENOTFOUND;
    if (rc != 0)
        return store_txn_fail("session_delete", rc);
    *commit = true;
    return 0;
}

int store_session_delete(store_t *self, const char *sid)
{
    MDB_val k;
    if (store_txn_key(sid, &k) != 0)
        return STORE_EINVAL;
    return store_txn_run(self, STORE_TXN_WRITE | STORE_TXN_FREES, "session_delete", s_del_fn, (void *) sid);
}

int64_t store_session_count(store_t *self)
{
    return store_txn_count(self, offsetof(store_t, sessions), "session_count");
}

//  ---------------------------------------------------------------------------
//  The refresh lease

bool store_lease_live(const store_session_t *rec, int64_t now)
{
    if (rec->refreshing_until <= now)
        return false;
    pid_t pid = (pid_t) rec->refreshing_pid;
    if (pid <= 0 || pid == getpid() || rec->refreshing_pid != (int64_t) pid)
        return true;  //  unknown, or ours (the caller's own single-flight covers it)
    return !(kill(pid, 0) != 0 && errno == ESRCH);
}

//  Claim (a->extend: extend) the refresh lease of a->sid for this process until now + lease_ms, when the
//  record is still at a->seen_version and no other live process holds the lease.
static int s_lease_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_sess_arg_t *a = arg;
    const char *op = a->extend ? "refresh_extend" : "refresh_claim";
    int rc = s_session_read(self, txn, a->sid, a->rec, op);
    if (rc != 0)
        return rc;
    if (store_codec_session_expired(a->rec, a->now))
        return STORE_ENOTFOUND;
    if (a->rec->version != a->seen_version)
        return STORE_ESTALE;
    bool ours = a->extend && a->rec->refreshing_pid == (int64_t) getpid();
    if (!ours && store_lease_live(a->rec, a->now))
        return STORE_EBUSY;
    int64_t until;
    if (__builtin_add_overflow(a->now, a->lease_ms, &until))
        return STORE_EINVAL;
    if (!a->extend && a->rec->refreshing_until > a->now)
        log_warn("store.lease_orphaned", "pid=%lld msg=\"the lease holder is gone: claimed\"",
                 (long long) a->rec->refreshing_pid);
    a->rec->refreshing_until = until;
    a->rec->refreshing_pid = getpid();
    rc = s_session_write(self, txn, a->sid, a->rec, op);
    *commit = rc == 0;
    return rc;
}

int store_refresh_claim(store_t *self, const char *sid, uint64_t seen_version, int64_t now, int64_t lease_ms,
                        store_session_t *rec)
{
    MDB_val k;
    if (!rec || lease_ms <= 0 || store_txn_key(sid, &k) != 0)
        return STORE_EINVAL;
    s_sess_arg_t a = { .sid = sid, .now = now, .rec = rec, .seen_version = seen_version, .lease_ms = lease_ms };
    int rc = store_txn_run(self, STORE_TXN_WRITE, "refresh_claim", s_lease_fn, &a);
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
    int64_t held = a->rec->rate_limited_until;
    *a->rec = *a->in;
    a->rec->version = a->in->version + 1;
    a->rec->refreshing_until = 0;
    a->rec->refreshing_pid = 0;
    if (held > a->rec->rate_limited_until)
        a->rec->rate_limited_until = held;  //  a hold set since the caller read the record stays
    rc = s_session_write(self, txn, a->sid, a->rec, "refresh_complete");
    *commit = rc == 0;
    return rc;
}

int store_refresh_complete(store_t *self, const char *sid, store_session_t *rec)
{
    MDB_val k;
    if (!rec || store_txn_key(sid, &k) != 0)
        return STORE_EINVAL;
    store_session_t next;
    s_sess_arg_t a = { .sid = sid, .rec = &next, .in = rec };
    int rc =
        store_txn_run(self, STORE_TXN_WRITE | STORE_TXN_FREES | STORE_TXN_ALONE, "refresh_complete", s_complete_fn, &a);
    if (rc == 0) {
        rec->version = next.version;
        rec->refreshing_until = 0;
        rec->refreshing_pid = 0;
        rec->rate_limited_until = next.rate_limited_until;
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
    a->rec->refreshing_pid = 0;
    rc = s_session_write(self, txn, a->sid, a->rec, "refresh_release");
    *commit = rc == 0;
    return rc;
}

int store_refresh_release(store_t *self, const char *sid)
{
    MDB_val k;
    if (store_txn_key(sid, &k) != 0)
        return STORE_EINVAL;
    store_session_t cur;
    s_sess_arg_t a = { .sid = sid, .rec = &cur };
    return store_txn_run(self, STORE_TXN_WRITE | STORE_TXN_FREES, "refresh_release", s_release_fn, &a);
}

int store_refresh_extend(store_t *self, const char *sid, uint64_t version, int64_t now, int64_t lease_ms)
{
    MDB_val k;
    if (lease_ms <= 0 || store_txn_key(sid, &k) != 0)
        return STORE_EINVAL;
    store_session_t cur;
    s_sess_arg_t a = {
        .sid = sid, .now = now, .rec = &cur, .seen_version = version, .lease_ms = lease_ms, .extend = true
    };
    int rc = store_txn_run(self, STORE_TXN_WRITE | STORE_TXN_FREES, "refresh_extend", s_lease_fn, &a);
    memset(&cur, 0, sizeof cur);
    return rc;
}

//  ---------------------------------------------------------------------------
//  The rate-limit hold

static int s_hold_write_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_sess_arg_t *a = arg;
    int rc = s_session_read(self, txn, a->sid, a->rec, "session_hold");
    if (rc != 0)
        return rc;
    if (store_codec_session_expired(a->rec, a->now))
        return STORE_ENOTFOUND;
    if (a->rec->rate_limited_until >= a->until)
        return 0;  //  held as long already: never lowered
    a->rec->rate_limited_until = a->until;
    rc = s_session_write(self, txn, a->sid, a->rec, "session_hold");
    *commit = rc == 0;
    return rc;
}

int store_session_hold(store_t *self, const char *sid, int64_t now, int64_t until)
{
    MDB_val k;
    int64_t ahead;
    if (store_txn_key(sid, &k) != 0 || until <= 0 || __builtin_sub_overflow(until, now, &ahead) || ahead <= 0
        || ahead > STORE_HOLD_MAX_MS)
        return STORE_EINVAL;
    store_session_t cur;
    s_sess_arg_t a = { .sid = sid, .now = now, .rec = &cur, .until = until };
    int rc = store_txn_run(self, STORE_TXN_WRITE, "session_hold", s_hold_write_fn, &a);
    memset(&cur, 0, sizeof cur);
    return rc;
}
