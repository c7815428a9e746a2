//  store_pending: pending logins (state -> {sid, env, code_verifier, created_at}), see store.h.
#include "common/store.h"

#include "common/store_codec.h"
#include "common/store_txn.h"

#include <stdbool.h>

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
    store_txn_key(a->state, &k);
    int rc = mdb_put(txn, self->pending, &k, &v, 0);
    if (rc != 0)
        return store_txn_fail("pending_put", rc);
    *commit = true;
    return 0;
}

int store_pending_put(store_t *self, const char *state, const store_pending_t *rec)
{
    MDB_val k;
    if (!rec || store_txn_key(state, &k) != 0)
        return STORE_EINVAL;
    char buf[STORE_CODEC_MAX];
    size_t len;
    if (store_codec_pending_encode(rec, buf, sizeof buf, &len) != 0)
        return STORE_EINVAL;
    s_pend_arg_t a = { .state = state, .buf = buf, .len = len };
    return store_txn_run(self, STORE_TXN_WRITE, "pending_put", s_pending_put_fn, &a);
}

static int s_pending_take_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_pend_arg_t *a = arg;
    MDB_val k, v;
    store_txn_key(a->state, &k);
    int rc = mdb_get(txn, self->pending, &k, &v);
    if (rc == MDB_NOTFOUND)
        return STORE_ENOTFOUND;
    if (rc != 0)
        return store_txn_fail("pending_take", rc);
    //  Decode before deleting: v points into the map, which the delete may reuse.
    int result = store_codec_pending_decode(v.mv_data, v.mv_size, a->rec);
    if (result != 0)
        store_txn_corrupt("pending", a->state);
    else if (store_codec_pending_expired(a->rec, a->now))
        result = STORE_ENOTFOUND;
    //  The state is consumed whatever the outcome: single use.
    rc = mdb_del(txn, self->pending, &k, NULL);
    if (rc != 0)
        return store_txn_fail("pending_take", rc);
    *commit = true;
    return result;
}

int store_pending_take(store_t *self, const char *state, int64_t now, store_pending_t *rec)
{
    MDB_val k;
    if (!rec || store_txn_key(state, &k) != 0)
        return STORE_EINVAL;
    s_pend_arg_t a = { .state = state, .now = now, .rec = rec };
    int rc = store_txn_run(self, STORE_TXN_WRITE | STORE_TXN_FREES, "pending_take", s_pending_take_fn, &a);
    if (rc != 0) {
        store_pending_t zero = { 0 };
        *rec = zero;
    }
    return rc;
}
