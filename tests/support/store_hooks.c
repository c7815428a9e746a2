//  store_hooks: test-only entry points into the token store (declared in tests/support/store_testutil.h). Built
//  into the tests' library only (tests/support/*.c), never into a service: `nm build/bin/authsvc` shows none.
#include "tests/support/store_testutil.h"
#include "common/store_txn.h"

#include <errno.h>
#include <lmdb.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    bool write;
    int ready_fd;
    int wait_fd;
} s_hold_t;

static int s_hold_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    (void) commit;  //  never committed
    s_hold_t *h = arg;
    if (h->write) {
        //  Dirty the transaction so a crash has something to lose.
        MDB_val k = { 15, (void *) "store-test-hold" }, v = { 4, (void *) "hold" };
        int rc = mdb_put(txn, self->sessions, &k, &v, 0);
        if (rc != 0)
            return store_txn_fail("test_hold", rc);
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
    return store_txn_run(self, STORE_TXN_WRITE, "test_hold_write", s_hold_fn, &h);
}

int store_test_hold_read(store_t *self, int ready_fd, int wait_fd)
{
    s_hold_t h = { false, ready_fd, wait_fd };
    return store_txn_run(self, STORE_TXN_READ, "test_hold_read", s_hold_fn, &h);
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
    store_txn_key(r->key, &k);
    int rc = mdb_put(txn, r->sessions ? self->sessions : self->pending, &k, &r->val, 0);
    if (rc != 0)
        return store_txn_fail("test_put_raw", rc);
    *commit = true;
    return 0;
}

int store_test_put_raw(store_t *self, const char *db, const char *key, const void *data, size_t len)
{
    MDB_val k;
    if (!db || store_txn_key(key, &k) != 0 || (!data && len))
        return STORE_EINVAL;
    bool sessions = strcmp(db, "sessions") == 0;
    if (!sessions && strcmp(db, "pending") != 0)
        return STORE_EINVAL;
    s_raw_t r = { sessions, key, { len, (void *) data } };
    return store_txn_run(self, STORE_TXN_WRITE, "test_put_raw", s_raw_fn, &r);
}

int store_test_stale_at_open(const store_t *self)
{
    return self ? self->stale_at_open : STORE_EINVAL;
}

size_t store_test_map_size(store_t *self)
{
    MDB_envinfo info;
    if (!self || mdb_env_info(self->env, &info) != 0)
        return 0;
    return info.me_mapsize;
}
