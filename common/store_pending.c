//  store_pending: pending logins (state -> {sid, env, code_verifier, created_at}), see store.h.
//
//  Three databases, written together in every transaction that touches one:
//    pending       state -> record
//    pending_sid   sid -> T(created_at) + state      (MDB_DUPSORT: a sid's logins, oldest first)
//    pending_time  T(created_at) + state -> sid      (every login, oldest first)
//  where T() is 8 bytes big-endian with the sign bit flipped, so that byte order is time order.
//  So the per-session limit is a count of one key's duplicates, the global cap and the
//  sweep start at the first key of pending_time, and nothing walks the whole table.
//  A record that does not decode has no index entries the store can find; its index
//  entries (if any) are dropped by the sweep or the eviction that meets them.
//
//  Space: a pending login is refused (STORE_EFULL) once the pages in use by every
//  database would leave less than store_reserve(map_size) of the configured map. The
//  reserve is what logged-in sessions keep for themselves when anonymous requests fill
//  the rest: max(1/8 of the map, min(1 MiB, 1/2 of the map)). 1/8 of the default
//  256 MiB is 32 MiB, room for some 20,000 more session records (about 1.5 KiB each
//  with their share of pages) plus the pages a write needs while readers pin old ones
//  (copy-on-write); at least 1 MiB (256 pages) so a small map still keeps hundreds of
//  session writes, but never more than half of a map, so that a 1 MiB map still takes logins.
//  The count cap, STORE_PENDING_MAX (50,000: 83 logins a second for the whole TTL), is the
//  first limit at the default map: measured, 50,000 pending logins with random 43-byte states
//  and session ids grow data.mdb to 68 MiB (half-full pages of random inserts; live pages are
//  fewer) of the 224 MiB they may have (store_pending_test case space), so a flood there evicts
//  the oldest and never meets the space limit, while a map of a few MiB meets the space limit first.
#include "common/store.h"

#include "common/log.h"
#include "common/store_codec.h"
#include "common/store_txn.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

//  An index key: 8 bytes of time, then the state.
#define S_TKEY_MAX (8 + STORE_KEY_MAX)
//  Evictions one put makes at most for the global cap (more happen only after the cap was lowered).
#define S_EVICT_MAX 16
//  Records the sweep deletes per write transaction at most.
#define S_SWEEP_BATCH 256

size_t store_reserve(size_t map_size)
{
    size_t floor = (size_t) 1 << 20;
    if (floor > map_size / 2)
        floor = map_size / 2;
    return map_size / 8 > floor ? map_size / 8 : floor;
}

//  T(created_at) + state into buf (S_TKEY_MAX). Returns the length.
static size_t s_tkey(char *buf, int64_t created_at, const char *state, size_t state_len)
{
    uint64_t t = (uint64_t) created_at ^ ((uint64_t) 1 << 63);
    for (int i = 7; i >= 0; i--) {
        buf[i] = (char) (t & 0xff);
        t >>= 8;
    }
    memcpy(buf + 8, state, state_len);
    return 8 + state_len;
}

//  The time of an index key. Returns false when the key is too short to be one.
static bool s_tkey_time(const MDB_val *k, int64_t *t_p)
{
    if (k->mv_size <= 8 || k->mv_size > S_TKEY_MAX)
        return false;
    const unsigned char *p = k->mv_data;
    uint64_t t = 0;
    for (int i = 0; i < 8; i++)
        t = (t << 8) | p[i];
    *t_p = (int64_t) (t ^ ((uint64_t) 1 << 63));
    return true;
}

static bool s_ok(int rc)
{
    return rc == 0 || rc == MDB_NOTFOUND;
}

//  Delete one login and its index entries: the record (state = tkey + 8), the age entry tkey (unless
//  the caller's cursor deleted it already) and the sid entry. Missing entries are fine. Returns 0 or an MDB_* code.
static int s_unlink(store_t *self, MDB_txn *txn, const MDB_val *tkey, const MDB_val *sid, bool age_too)
{
    MDB_val state = { tkey->mv_size - 8, (char *) tkey->mv_data + 8 };
    MDB_val t = *tkey, s = *sid, d = *tkey;
    int rc = mdb_del(txn, self->pending, &state, NULL);
    if (s_ok(rc) && age_too)
        rc = mdb_del(txn, self->pending_time, &t, NULL);
    if (s_ok(rc))
        rc = mdb_del(txn, self->pending_sid, &s, &d);
    return s_ok(rc) ? 0 : rc;
}

//  Add the index entries of a login. Returns 0 or an MDB_* code.
static int s_link(store_t *self, MDB_txn *txn, const MDB_val *tkey, const MDB_val *sid)
{
    MDB_val t = *tkey, s = *sid, d = *tkey, v = *sid;
    int rc = mdb_put(txn, self->pending_time, &t, &v, 0);
    if (rc == 0)
        rc = mdb_put(txn, self->pending_sid, &s, &d, 0);
    return rc;
}

//  Delete the login stored under state with its index entries (read from its record).
//  *rec gets the record, its code_verifier opened when key (state as a string) is given, else "";
//  returns 0, STORE_ENOTFOUND, STORE_EINVAL (it did not decode or open: deleted alone), or an MDB_* code (> 0).
static int s_remove(store_t *self, MDB_txn *txn, const MDB_val *state, const char *key, store_pending_t *rec)
{
    MDB_val k = *state, v;
    int rc = mdb_get(txn, self->pending, &k, &v);
    if (rc == MDB_NOTFOUND)
        return STORE_ENOTFOUND;
    if (rc != 0)
        return rc;
    //  Decode before deleting: v points into the map, which the delete may reuse.
    store_codec_ctx_t ctx = store_txn_codec(self, key, key ? STORE_CODEC_OPEN_VERIFIER : 0);
    int drc = store_codec_pending_decode(&ctx, v.mv_data, v.mv_size, rec);
    if (drc == STORE_ENOTFOUND)
        store_txn_unsealed("pending", key, &ctx);
    if (drc != 0) {
        k = *state;
        rc = mdb_del(txn, self->pending, &k, NULL);
        return rc == 0 ? STORE_EINVAL : rc;
    }
    char tbuf[S_TKEY_MAX];
    MDB_val tkey = { s_tkey(tbuf, rec->created_at, state->mv_data, state->mv_size), tbuf };
    MDB_val sid = { strnlen(rec->sid, sizeof rec->sid), rec->sid };
    return s_unlink(self, txn, &tkey, &sid, true);
}

//  The pages every database of txn uses (the free list included). Returns 0 or an MDB_* code.
static int s_live_pages(store_t *self, MDB_txn *txn, size_t *pages_p, unsigned *psize_p)
{
    MDB_dbi dbs[] = { 0, 1, self->sessions, self->pending, self->pending_sid, self->pending_time };
    size_t pages = 0;
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
        MDB_stat st;
        int rc = mdb_stat(txn, dbs[i], &st);
        if (rc == EINVAL && dbs[i] == 0)
            continue;  //  a build that does not let the free list be counted
        if (rc != 0)
            return rc;
        pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
        *psize_p = st.ms_psize;
    }
    *pages_p = pages;
    return 0;
}

//  ---------------------------------------------------------------------------
//  Put and take

typedef struct {
    const char *state;
    int64_t now;
    const char *buf;
    size_t len;
    store_pending_t *rec;   //  take: the result; put: the record (sid, created_at)
    const char *owner;      //  take_owned: the sid that may take it (NULL: anyone)
    const char *alt_owner;  //  take_owned: another sid that may ("" or NULL: none)
    size_t evicted;         //  put: logins evicted (the session's oldest, the oldest of all)
} s_pend_arg_t;

//  Evict sid's oldest logins until fewer than STORE_PENDING_PER_SID are left. Returns 0 or an MDB_* code.
static int s_evict_sid(store_t *self, MDB_txn *txn, const MDB_val *sid, size_t *evicted_p)
{
    for (;;) {
        MDB_cursor *cur;
        int rc = mdb_cursor_open(txn, self->pending_sid, &cur);
        if (rc != 0)
            return rc;
        MDB_val k = *sid, d;
        size_t n = 0;
        rc = mdb_cursor_get(cur, &k, &d, MDB_SET_KEY);
        if (rc == 0)
            rc = mdb_cursor_count(cur, &n);
        char tbuf[S_TKEY_MAX];
        MDB_val tkey = { 0, tbuf };
        if (rc == 0 && n >= STORE_PENDING_PER_SID && d.mv_size > 8 && d.mv_size <= S_TKEY_MAX) {
            memcpy(tbuf, d.mv_data, d.mv_size);  //  MDB_SET_KEY gives the first duplicate: the oldest
            tkey.mv_size = d.mv_size;
        }
        mdb_cursor_close(cur);
        if (!s_ok(rc))
            return rc;
        if (tkey.mv_size == 0)
            return 0;
        rc = s_unlink(self, txn, &tkey, sid, true);
        if (rc != 0)
            return rc;
        (*evicted_p)++;
    }
}

//  Evict the oldest logins of all until fewer than the cap are left. Returns 0 or an MDB_* code.
static int s_evict_oldest(store_t *self, MDB_txn *txn, size_t *evicted_p)
{
    for (int i = 0; i < S_EVICT_MAX; i++) {
        MDB_stat st;
        int rc = mdb_stat(txn, self->pending, &st);
        if (rc != 0)
            return rc;
        if (st.ms_entries < self->pending_max)
            return 0;
        MDB_cursor *cur;
        if ((rc = mdb_cursor_open(txn, self->pending_time, &cur)) != 0)
            return rc;
        MDB_val k, v;
        char tbuf[S_TKEY_MAX], sbuf[STORE_KEY_MAX];
        MDB_val tkey = { 0, tbuf }, sid = { 0, sbuf };
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        if (rc == 0 && k.mv_size > 8 && k.mv_size <= S_TKEY_MAX && v.mv_size < STORE_KEY_MAX) {
            memcpy(tbuf, k.mv_data, tkey.mv_size = k.mv_size);
            memcpy(sbuf, v.mv_data, sid.mv_size = v.mv_size);
        }
        else if (rc == 0)
            rc = mdb_cursor_del(cur, 0);  //  not an index entry of ours: drop it
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND)
            return 0;  //  records without index entries: nothing more to evict
        if (rc != 0)
            return rc;
        if (tkey.mv_size && (rc = s_unlink(self, txn, &tkey, &sid, true)) != 0)
            return rc;
        (*evicted_p)++;
    }
    return 0;
}

static int s_pending_put_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_pend_arg_t *a = arg;
    MDB_val state;
    store_txn_key(a->state, &state);
    MDB_val sid = { strnlen(a->rec->sid, sizeof a->rec->sid), a->rec->sid };
    store_pending_t *old = calloc(1, sizeof *old);
    if (!old)
        return STORE_EIO;
    //  The same state again (never, with random states): the old record goes with its index entries.
    int rc = s_remove(self, txn, &state, NULL, old);
    memset(old, 0, sizeof *old);
    free(old);
    if (rc == STORE_ENOTFOUND || rc == STORE_EINVAL)
        rc = 0;
    if (rc == 0)
        rc = s_evict_sid(self, txn, &sid, &a->evicted);
    if (rc == 0)
        rc = s_evict_oldest(self, txn, &a->evicted);
    size_t pages = 0;
    unsigned psize = 4096;
    if (rc == 0)
        rc = s_live_pages(self, txn, &pages, &psize);
    if (rc != 0)
        return store_txn_fail("pending_put", rc);
    if (pages > (self->map_size - store_reserve(self->map_size)) / psize)
        return STORE_EFULL;  //  the rest is kept for logged-in sessions (the caller logs it)
    char tbuf[S_TKEY_MAX];
    MDB_val tkey = { s_tkey(tbuf, a->rec->created_at, state.mv_data, state.mv_size), tbuf };
    MDB_val v = { a->len, (void *) a->buf };
    rc = mdb_put(txn, self->pending, &state, &v, 0);
    if (rc == 0)
        rc = s_link(self, txn, &tkey, &sid);
    if (rc == MDB_MAP_FULL)
        return STORE_EFULL;  //  the same answer as the reserve: the caller logs it
    if (rc != 0)
        return store_txn_fail("pending_put", rc);
    *commit = true;
    return 0;
}

int store_pending_put(store_t *self, const char *state, const store_pending_t *rec)
{
    MDB_val k;
    if (!self || !rec || store_txn_key(state, &k) != 0 || store_txn_key(rec->sid, &k) != 0)
        return STORE_EINVAL;
    char buf[STORE_CODEC_MAX];
    size_t len;
    store_codec_ctx_t ctx = store_txn_codec(self, state, 0);
    if (store_codec_pending_encode(&ctx, rec, buf, sizeof buf, &len) != 0)
        return STORE_EINVAL;
    s_pend_arg_t a = { .state = state, .buf = buf, .len = len, .rec = (store_pending_t *) rec };
    int rc = store_txn_run(self, STORE_TXN_WRITE | STORE_TXN_QUIET_FULL, "pending_put", s_pending_put_fn, &a);
    if (rc == 0 && a.evicted > 0)
        log_debug("store.pending_evict", "count=%zu", a.evicted);
    return rc;
}

static int s_pending_take_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_pend_arg_t *a = arg;
    MDB_val state;
    store_txn_key(a->state, &state);
    if (a->owner) {
        //  Someone else's login stays as it was, for its owner to complete.
        MDB_val k = state, v;
        int grc = mdb_get(txn, self->pending, &k, &v);
        if (grc == MDB_NOTFOUND)
            return STORE_ENOTFOUND;
        if (grc != 0)
            return store_txn_fail("pending_take", grc);
        store_codec_ctx_t ctx = store_txn_codec(self, a->state, 0);
        if (store_codec_pending_decode(&ctx, v.mv_data, v.mv_size, a->rec) == 0 && strcmp(a->rec->sid, a->owner) != 0
            && !(a->alt_owner && a->alt_owner[0] && strcmp(a->rec->sid, a->alt_owner) == 0))
            return STORE_EPERM;
        //  A record that does not decode is removed below, as take does.
    }
    //  The state is consumed whatever the outcome: single use.
    int rc = s_remove(self, txn, &state, a->state, a->rec);
    if (rc == STORE_ENOTFOUND)
        return rc;
    if (rc > 0)
        return store_txn_fail("pending_take", rc);
    *commit = true;
    if (rc == STORE_EINVAL)
        store_txn_corrupt("pending", a->state);
    else if (store_codec_pending_expired(a->rec, a->now))
        rc = STORE_ENOTFOUND;
    return rc;
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

int store_pending_take_owned(store_t *self, const char *state, const char *sid, const char *prev_sid, int64_t now,
                             store_pending_t *rec)
{
    MDB_val k;
    if (!rec || store_txn_key(state, &k) != 0 || store_txn_key(sid, &k) != 0)
        return STORE_EINVAL;
    s_pend_arg_t a = { .state = state, .now = now, .rec = rec, .owner = sid, .alt_owner = prev_sid };
    int rc = store_txn_run(self, STORE_TXN_WRITE | STORE_TXN_FREES, "pending_take", s_pending_take_fn, &a);
    if (rc != 0) {
        store_pending_t zero = { 0 };
        *rec = zero;
    }
    return rc;
}

void store_pending_set_max(store_t *self, size_t max)
{
    if (self)
        self->pending_max = max ? max : STORE_PENDING_MAX;
}

int64_t store_pending_count(store_t *self)
{
    return store_txn_count(self, offsetof(store_t, pending), "pending_count");
}

//  ---------------------------------------------------------------------------
//  Open: the indexes, rebuilt when they do not match the records

static int s_reindex(store_t *self, MDB_txn *txn)
{
    int rc = mdb_drop(txn, self->pending_sid, 0);
    if (rc == 0)
        rc = mdb_drop(txn, self->pending_time, 0);
    MDB_cursor *cur = NULL;
    if (rc == 0)
        rc = mdb_cursor_open(txn, self->pending, &cur);
    size_t indexed = 0, corrupt = 0;
    store_pending_t *rec = calloc(1, sizeof *rec);
    MDB_val k, v;
    if (rc == 0 && !rec)
        rc = ENOMEM;
    if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        store_codec_ctx_t ctx = store_txn_codec(self, NULL, 0);  //  the index needs no secret
        if (k.mv_size == 0 || k.mv_size >= STORE_KEY_MAX
            || store_codec_pending_decode(&ctx, v.mv_data, v.mv_size, rec) != 0 || !rec->sid[0]) {
            //  Single use and short-lived: a login that cannot be read can never complete.
            rc = mdb_cursor_del(cur, 0);
            corrupt++;
            if (rc == 0)
                rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);  //  the entry after the deleted one
            continue;
        }
        char tbuf[S_TKEY_MAX];
        MDB_val tkey = { s_tkey(tbuf, rec->created_at, k.mv_data, k.mv_size), tbuf };
        MDB_val sid = { strnlen(rec->sid, sizeof rec->sid), rec->sid };
        rc = s_link(self, txn, &tkey, &sid);
        indexed++;
        if (rc == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (cur)
        mdb_cursor_close(cur);
    if (rec) {
        explicit_bzero(rec, sizeof *rec);  //  a verifier may be in it: a wipe the compiler cannot drop before free
        free(rec);
    }
    if (rc != MDB_NOTFOUND)
        return store_txn_fail("pending_reindex", rc);
    log_warn("store.pending_reindex", "indexed=%zu dropped_corrupt=%zu", indexed, corrupt);
    return 0;
}

int store_pending_open(store_t *self, MDB_txn *txn)
{
    int rc = mdb_dbi_open(txn, "pending", MDB_CREATE, &self->pending);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "pending_sid", MDB_CREATE | MDB_DUPSORT, &self->pending_sid);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "pending_time", MDB_CREATE, &self->pending_time);
    MDB_stat p, s, t;
    if (rc == 0 && (rc = mdb_stat(txn, self->pending, &p)) == 0 && (rc = mdb_stat(txn, self->pending_sid, &s)) == 0)
        rc = mdb_stat(txn, self->pending_time, &t);
    if (rc != 0)
        return store_txn_fail("open", rc);
    if (p.ms_entries == s.ms_entries && p.ms_entries == t.ms_entries)
        return 0;
    return s_reindex(self, txn);
}

//  ---------------------------------------------------------------------------
//  The sweep: the age index from its oldest entry

typedef struct {
    int64_t now;
    size_t batch;
    size_t deleted;
    bool more;  //  stopped at the batch limit with expired entries maybe left
} s_sweep_t;

static int s_sweep_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    s_sweep_t *sw = arg;
    sw->deleted = 0;
    sw->more = false;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->pending_time, &cur);
    if (rc != 0)
        return store_txn_fail("sweep", rc);
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        if (sw->deleted == sw->batch) {
            sw->more = true;
            break;
        }
        int64_t t;
        bool ours = s_tkey_time(&k, &t) && v.mv_size < STORE_KEY_MAX;
        if (ours && t > sw->now - STORE_PENDING_TTL_MS)
            break;  //  the oldest left is live: done
        char tbuf[S_TKEY_MAX], sbuf[STORE_KEY_MAX];
        MDB_val tkey = { k.mv_size, tbuf }, sid = { v.mv_size, sbuf };
        if (ours) {
            memcpy(tbuf, k.mv_data, k.mv_size);
            memcpy(sbuf, v.mv_data, v.mv_size);
        }
        //  After a delete the cursor already sits on the next entry and MDB_NEXT returns that one.
        rc = mdb_cursor_del(cur, 0);
        if (rc == 0 && ours)
            rc = s_unlink(self, txn, &tkey, &sid, false);
        if (rc != 0)
            break;
        sw->deleted++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    int result = 0;
    if (rc == MDB_MAP_FULL)
        result = sw->batch > 1 ? STORE_EFULL : store_txn_fail("sweep", rc);  //  a smaller batch may fit
    else if (rc != 0 && rc != MDB_NOTFOUND)
        result = store_txn_fail("sweep", rc);
    *commit = result == 0 && sw->deleted > 0;
    return result;
}

int store_pending_sweep(store_t *self, int64_t now, size_t *count_p)
{
    s_sweep_t sw = { .now = now, .batch = S_SWEEP_BATCH };
    size_t deleted = 0;
    int rc;
    for (;;) {
        //  Halve the batch first; only a single record that does not fit may grow the map.
        int mode = STORE_TXN_WRITE | (sw.batch > 1 ? STORE_TXN_QUIET_FULL : STORE_TXN_FREES);
        rc = store_txn_run(self, mode, "sweep", s_sweep_fn, &sw);
        if (rc == STORE_EFULL && sw.batch > 1) {
            sw.batch /= 2;
            continue;
        }
        if (rc != 0)
            break;
        deleted += sw.deleted;
        if (!sw.more)
            break;
        if (sw.batch < S_SWEEP_BATCH)
            sw.batch *= 2;
    }
    *count_p = deleted;
    return rc;
}
