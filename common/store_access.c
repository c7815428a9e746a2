//  store_access: apisvc's narrow read of a session (see store.h, store_access_get).
//
//  The record is decoded into a scratch store_session_t on this stack with only the access token opened (the
//  refresh token stays sealed), the fields an API call needs are copied out, and the scratch is wiped before
//  returning: the caller never holds the refresh token.
#include "common/store.h"

#include "common/store_codec.h"
#include "common/store_txn.h"

#include <string.h>

typedef struct {
    const char *sid;
    int64_t now;
    store_access_t *out;
} s_access_arg_t;

static int s_access_fn(store_t *self, MDB_txn *txn, void *arg, bool *commit)
{
    (void) commit;
    s_access_arg_t *a = arg;
    MDB_val k, v;
    store_txn_key(a->sid, &k);
    int rc = mdb_get(txn, self->sessions, &k, &v);
    if (rc == MDB_NOTFOUND)
        return STORE_ENOTFOUND;
    if (rc != 0)
        return store_txn_fail("access_get", rc);
    //  Only the access token is opened: the refresh token stays sealed, never in this process's memory.
    store_session_t rec;
    store_codec_ctx_t ctx = store_txn_codec(self, a->sid, STORE_CODEC_OPEN_ACCESS);
    rc = store_codec_session_decode(&ctx, v.mv_data, v.mv_size, &rec);
    if (rc == STORE_ENOTFOUND)
        store_txn_unsealed("session", a->sid, &ctx);
    else if (rc != 0) {
        store_txn_corrupt("sessions", a->sid);
        rc = STORE_EINVAL;
    }
    else if (store_codec_session_expired(&rec, a->now))
        rc = STORE_ENOTFOUND;
    else {
        store_access_t *o = a->out;
        memcpy(o->env, rec.env, sizeof o->env);
        memcpy(o->access_token, rec.access_token, sizeof o->access_token);
        memcpy(o->owner_id, rec.owner_id, sizeof o->owner_id);
        o->expires_at = rec.expires_at;
        o->version = rec.version;
        o->rate_limited_until = rec.rate_limited_until;
    }
    explicit_bzero(&rec, sizeof rec);
    return rc;
}

int store_access_get(store_t *self, const char *sid, int64_t now, store_access_t *rec)
{
    MDB_val k;
    if (!rec || store_txn_key(sid, &k) != 0)
        return STORE_EINVAL;
    memset(rec, 0, sizeof *rec);
    s_access_arg_t a = { .sid = sid, .now = now, .out = rec };
    int rc = store_txn_run(self, STORE_TXN_READ, "access_get", s_access_fn, &a);
    if (rc != 0)
        explicit_bzero(rec, sizeof *rec);
    return rc;
}
