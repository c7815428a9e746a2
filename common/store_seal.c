//  store_seal: the store's key ring, the re-seal walk of a key rotation and the count of records per key id
//  (see store.h "Sealing"). The field format is store_codec.c's, the cipher seal.c's.
#include "common/store.h"

#include "common/log.h"
#include "common/seal.h"
#include "common/store_codec.h"
#include "common/store_txn.h"

#include <lmdb.h>
#include <sodium.h>
#include <string.h>

void store_set_ring(store_t *self, seal_ring_t *ring)
{
    if (self)
        self->ring = ring;
}

typedef struct {
    size_t max;
    uint32_t first;
    store_reseal_t *out;
    //  Where the next step starts, applied only once this step's transaction committed.
    char next[STORE_TXN_LMDB_KEY_MAX + 1];
    size_t next_len;
    int next_db;
    bool db_over;  //  the walk reached the end of the current database
    union {
        store_session_t session;
        store_pending_t pending;
    } rec;
    char buf[STORE_CODEC_MAX];
} s_reseal_t;

//  Re-seal the record at the cursor (key, value v) when another key sealed it. Returns 0 or an MDB_* code.
static int s_reseal_one(store_t *self, MDB_cursor *cur, bool sessions, MDB_val *k, const MDB_val *v, s_reseal_t *a,
                        bool *commit)
{
    char key[STORE_KEY_MAX];
    if (k->mv_size == 0 || k->mv_size >= sizeof key)
        return 0;
    memcpy(key, k->mv_data, k->mv_size);
    key[k->mv_size] = '\0';
    store_codec_ctx_t ctx = store_txn_codec(self, key, 0);
    int rc = sessions ? store_codec_session_decode(&ctx, v->mv_data, v->mv_size, &a->rec.session)
                      : store_codec_pending_decode(&ctx, v->mv_data, v->mv_size, &a->rec.pending);
    if (rc == STORE_EINVAL || (rc == 0 && ctx.key_id == a->first))
        return 0;  //  corrupt (left to the sweep's count), or sealed with the first key already
    if (rc == 0) {
        ctx.open = STORE_CODEC_OPEN_ALL;
        rc = sessions ? store_codec_session_decode(&ctx, v->mv_data, v->mv_size, &a->rec.session)
                      : store_codec_pending_decode(&ctx, v->mv_data, v->mv_size, &a->rec.pending);
    }
    int mrc = 0;
    size_t len = 0;
    if (rc == STORE_ENOTFOUND && sessions) {
        //  Lost already (tampered, moved, plaintext from before sealing, a retired key): nobody can read it,
        //  and kept it would hold the rotation back forever.
        store_txn_unsealed("session", key, &ctx);
        mrc = mdb_cursor_del(cur, 0);
        if (mrc == 0) {
            a->out->dropped++;
            *commit = true;
        }
    }
    else if (rc == 0) {
        ctx.open = 0;
        rc = sessions ? store_codec_session_encode(&ctx, &a->rec.session, a->buf, sizeof a->buf, &len)
                      : store_codec_pending_encode(&ctx, &a->rec.pending, a->buf, sizeof a->buf, &len);
        if (rc == 0) {
            MDB_val nv = { len, a->buf };
            mrc = mdb_cursor_put(cur, k, &nv, MDB_CURRENT);
            if (mrc == 0) {
                a->out->resealed++;
                *commit = true;
            }
        }
    }
    //  A pending login that does not open is left to expire (10 minutes): its indexes go with it (store_pending.c).
    sodium_memzero(&a->rec, sizeof a->rec);
    sodium_memzero(a->buf, len);
    return mrc;
}

static int s_reseal_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_reseal_t *a = arg;
    bool sessions = self->reseal_db == 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, sessions ? self->sessions : self->pending, &cur);
    if (rc != 0)
        return store_txn_fail("reseal", rc);
    MDB_val k = { self->reseal_len, self->reseal_at }, v;
    rc = mdb_cursor_get(cur, &k, &v, self->reseal_len ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0 && a->out->visited < a->max) {
        a->out->visited++;
        rc = s_reseal_one(self, cur, sessions, &k, &v, a, commit);
        if (rc == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);  //  after a delete: the record that followed it
    }
    int result = 0;
    a->db_over = rc == MDB_NOTFOUND;
    if (rc == 0 && k.mv_size > 0 && k.mv_size <= STORE_TXN_LMDB_KEY_MAX) {
        memcpy(a->next, k.mv_data, k.mv_size);
        a->next_len = k.mv_size;
    }
    else if (rc != 0 && rc != MDB_NOTFOUND)
        result = store_txn_fail("reseal", rc);
    mdb_cursor_close(cur);
    if (result != 0)
        *commit = false;
    return result;
}

int store_reseal_step(store_t *self, size_t max, store_reseal_t *out)
{
    if (!self || !self->ring || !out || max == 0)
        return STORE_EINVAL;
    memset(out, 0, sizeof *out);
    s_reseal_t *a = sodium_malloc(sizeof *a);  //  holds opened secrets: guarded, wiped on free
    if (!a)
        return STORE_EIO;
    memset(a, 0, sizeof *a);
    a->max = max;
    a->first = seal_ring_first_id(self->ring);
    a->out = out;
    int rc = 0;
    //  Both databases in one step when the first ends early; each is its own transaction.
    while (rc == 0 && out->visited < max && !out->pass_done) {
        a->db_over = false;
        a->next_len = 0;
        rc = store_txn_run(self, STORE_TXN_WRITE | STORE_TXN_FREES, "reseal", s_reseal_fn, a);
        if (rc != 0)
            break;
        if (!a->db_over) {
            memcpy(self->reseal_at, a->next, a->next_len);
            self->reseal_len = a->next_len;
            continue;
        }
        self->reseal_len = 0;
        if (self->reseal_db == 0)
            self->reseal_db = 1;
        else {
            self->reseal_db = 0;
            out->pass_done = true;
        }
    }
    self->reseal_pass += out->resealed + out->dropped;
    if (out->pass_done) {
        out->clean = self->reseal_pass == 0;
        self->reseal_pass = 0;
    }
    sodium_free(a);
    return rc;
}

typedef struct {
    uint32_t *ids;
    size_t *counts;
    size_t cap;
    size_t n;
    union {
        store_session_t session;
        store_pending_t pending;
    } rec;
} s_usage_t;

static void s_tally(s_usage_t *u, uint32_t id)
{
    for (size_t i = 0; i < u->n; i++)
        if (u->ids[i] == id) {
            u->counts[i]++;
            return;
        }
    if (u->n < u->cap) {
        u->ids[u->n] = id;
        u->counts[u->n++] = 1;
    }
}

static int s_usage_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    (void) commit;
    s_usage_t *u = arg;
    for (int db = 0; db < 2; db++) {
        MDB_cursor *cur;
        int rc = mdb_cursor_open(txn, db == 0 ? self->sessions : self->pending, &cur);
        if (rc != 0)
            return store_txn_fail("key_usage", rc);
        MDB_val k, v;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            store_codec_ctx_t ctx = store_txn_codec(self, NULL, 0);  //  opens nothing: the ids are in the clear
            int drc = db == 0 ? store_codec_session_decode(&ctx, v.mv_data, v.mv_size, &u->rec.session)
                              : store_codec_pending_decode(&ctx, v.mv_data, v.mv_size, &u->rec.pending);
            if (drc == 0 || drc == STORE_ENOTFOUND)
                s_tally(u, ctx.key_id);
        }
        mdb_cursor_close(cur);
        if (rc != MDB_NOTFOUND)
            return store_txn_fail("key_usage", rc);
    }
    return 0;
}

int store_key_usage(store_t *self, uint32_t *ids, size_t *counts, size_t cap, size_t *n_p)
{
    if (!self || !self->ring || !ids || !counts || !n_p)
        return STORE_EINVAL;
    s_usage_t *u = sodium_malloc(sizeof *u);
    if (!u)
        return STORE_EIO;
    memset(u, 0, sizeof *u);
    u->ids = ids;
    u->counts = counts;
    u->cap = cap;
    int rc = store_txn_run(self, STORE_TXN_READ, "key_usage", s_usage_fn, u);
    *n_p = u->n;
    sodium_free(u);
    return rc;
}
