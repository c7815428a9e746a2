//  store_sweep: delete expired records (see store.h).
//
//  Pending logins are swept through their age index (store_pending.c), oldest
//  first, stopping at the first live one. Sessions: one cursor walk, at most `batch` records per write transaction
//  so that a large sweep lets other writers in between; the next batch resumes
//  at the first key not yet visited. Deleting needs free pages too
//  (copy-on-write, the freelist itself), so in a full map a big batch can fail
//  where a small one fits: the batch halves on MDB_MAP_FULL down to one record,
//  and grows back after a success.
#include "common/store.h"

#include "common/log.h"
#include "common/store_codec.h"
#include "common/store_txn.h"

#include <stdlib.h>
#include <string.h>

//  Records visited per write transaction at most.
#define S_SWEEP_BATCH 256

typedef struct {
    int64_t now;
    size_t batch;  //  records to visit in this transaction
    char resume[STORE_TXN_LMDB_KEY_MAX + 1];
    size_t resume_len;  //  0: start at the first key
    //  Results of one transaction, taken by s_sweep_db once it committed.
    char next[STORE_TXN_LMDB_KEY_MAX + 1];
    size_t next_len;  //  0: the walk is over
    size_t deleted;
    size_t corrupt;
    store_session_t session;
    seal_ring_t *ring;
} s_sweep_t;

//  1 when the record is expired, 0 when live, -1 when it does not decode.
static int s_sweep_expired(s_sweep_t *sw, const MDB_val *v)
{
    store_codec_ctx_t ctx = { .ring = sw->ring };  //  opens nothing: the expiry is in the clear
    if (store_codec_session_decode(&ctx, v->mv_data, v->mv_size, &sw->session) != 0)
        return -1;
    return store_codec_session_expired(&sw->session, sw->now);
}

static int s_sweep_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_sweep_t *sw = arg;
    sw->deleted = sw->corrupt = sw->next_len = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->sessions, &cur);
    if (rc != 0)
        return store_txn_fail("sweep", rc);
    MDB_val k = { sw->resume_len, sw->resume }, v;
    rc = mdb_cursor_get(cur, &k, &v, sw->resume_len ? MDB_SET_RANGE : MDB_FIRST);
    for (size_t visited = 0; rc == 0 && visited < sw->batch; visited++) {
        int expired = s_sweep_expired(sw, &v);
        if (expired < 0)
            sw->corrupt++;  //  left in place: never delete what we cannot read
        else if (expired) {
            rc = mdb_cursor_del(cur, 0);
            if (rc != 0)
                break;
            sw->deleted++;
        }
        //  After a delete the cursor already sits on the next record and
        //  MDB_NEXT returns that one.
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    int result = 0;
    if (rc == 0 && k.mv_size > 0 && k.mv_size <= STORE_TXN_LMDB_KEY_MAX) {
        memcpy(sw->next, k.mv_data, k.mv_size);
        sw->next_len = k.mv_size;
    }
    else if (rc == MDB_MAP_FULL)
        result = sw->batch > 1 ? STORE_EFULL : store_txn_fail("sweep", rc);  //  a smaller batch may fit
    else if (rc != 0 && rc != MDB_NOTFOUND)
        result = store_txn_fail("sweep", rc);
    mdb_cursor_close(cur);
    *commit = result == 0 && sw->deleted > 0;
    return result;
}

static int s_sweep_sessions(store_t *self, int64_t now, size_t *count_p)
{
    s_sweep_t *sw = calloc(1, sizeof *sw);
    if (!sw)
        return STORE_EIO;
    sw->now = now;
    sw->batch = S_SWEEP_BATCH;
    sw->ring = self->ring;
    size_t deleted = 0, corrupt = 0;
    int rc;
    for (;;) {
        //  Halve the batch first; only a single record that does not fit may grow the map.
        int mode = STORE_TXN_WRITE | (sw->batch > 1 ? STORE_TXN_QUIET_FULL : STORE_TXN_FREES);
        rc = store_txn_run(self, mode, "sweep", s_sweep_fn, sw);
        if (rc == STORE_EFULL && sw->batch > 1) {
            sw->batch /= 2;
            continue;
        }
        if (rc != 0)
            break;
        deleted += sw->deleted;
        corrupt += sw->corrupt;
        if (sw->next_len == 0)
            break;
        memcpy(sw->resume, sw->next, sw->next_len);
        sw->resume_len = sw->next_len;
        if (sw->batch < S_SWEEP_BATCH)
            sw->batch *= 2;
    }
    memset(sw, 0, sizeof *sw);
    free(sw);
    if (corrupt > 0)
        log_warn("store.sweep.corrupt", "db=sessions records=%zu", corrupt);
    *count_p = deleted;
    return rc;
}

int store_sweep(store_t *self, int64_t now, size_t *sessions_p, size_t *pending_p)
{
    if (!self)
        return STORE_EINVAL;
    size_t ns = 0, np = 0;
    int rc = s_sweep_sessions(self, now, &ns);
    if (rc == 0)
        rc = store_pending_sweep(self, now, &np);
    if (sessions_p)
        *sessions_p = ns;
    if (pending_p)
        *pending_p = np;
    if (ns || np)
        log_info("store.sweep", "sessions=%zu pending=%zu", ns, np);
    return rc;
}
