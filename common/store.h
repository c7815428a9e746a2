//  store: the LMDB token store shared by authsvc (writes) and apisvc (reads).
//  The only module that calls mdb_*.
//
//  One store_t (one MDB_env) per process, safe to use from many threads
//  (MDB_NOTLS: read transactions are not tied to threads). Two named databases:
//  "sessions" (session id -> session record) and "pending" (state -> pending
//  login). Values are msgpack maps. Commits are durable (no MDB_NOSYNC):
//  when a put returns 0 the record survives a crash of the process or machine.
//  Stale reader slots left by killed processes are cleared at open.
//  All times are milliseconds since the Unix epoch, passed in by the caller.
#ifndef STORE_H_INCLUDED
#define STORE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

typedef struct _store_t store_t;

enum {
    STORE_OK = 0,
    STORE_ENOTFOUND = -1,   //  no such record (or it has expired)
    STORE_EIO = -2,         //  LMDB failed (logged once, with mdb_strerror)
    STORE_EFULL = -3,       //  the map is full (MDB_MAP_FULL): raise STORE map size
    STORE_EBUSY = -4,       //  another caller holds the refresh lease
    STORE_ESTALE = -5,      //  the record's version moved on (someone else refreshed)
    STORE_EINVAL = -6,      //  bad argument: key too long, field too long, corrupt record
};

#define STORE_KEY_MAX 128           //  longest session id or state
#define STORE_ENV_MAX 16            //  "production" / "sandbox"
#define STORE_TOKEN_MAX 4096        //  longest access or refresh token, with NUL
#define STORE_FIELD_MAX 256         //  owner_id, scope, code_verifier, with NUL
#define STORE_PENDING_TTL_MS (10 * 60 * 1000)
#define STORE_DEFAULT_MAP_SIZE ((size_t) 256 << 20)

typedef struct {
    char env[STORE_ENV_MAX];
    char access_token[STORE_TOKEN_MAX];
    char refresh_token[STORE_TOKEN_MAX];
    int64_t expires_at;             //  access token expiry (ms)
    int64_t refresh_expires_at;     //  refresh token expiry (ms); the record expires with it
    char owner_id[STORE_FIELD_MAX];
    char scope[STORE_FIELD_MAX];
    uint64_t version;               //  +1 on every refresh
    int64_t refreshing_until;       //  refresh lease expiry (ms), 0 when none
} store_session_t;

typedef struct {
    char sid[STORE_KEY_MAX];
    char env[STORE_ENV_MAX];
    char code_verifier[STORE_FIELD_MAX];
    int64_t created_at;             //  ms; the record expires STORE_PENDING_TTL_MS later
} store_pending_t;

//  Open (creating dir and the databases if needed) the store. map_size 0 means STORE_DEFAULT_MAP_SIZE. Returns NULL and logs why on failure.
store_t *store_open(const char *dir, size_t map_size);
//  Close the store and set *self_p to NULL. Safe with *self_p == NULL.
void store_close(store_t **self_p);
//  A short text for a STORE_* code.
const char *store_strerror(int rc);

//  Read the session record of sid into rec. Returns 0, STORE_ENOTFOUND, STORE_EINVAL or STORE_EIO.
int store_session_get(store_t *self, const char *sid, store_session_t *rec);
//  Write (insert or replace) the session record of sid, durably. Returns 0, STORE_EFULL, STORE_EINVAL or STORE_EIO.
int store_session_put(store_t *self, const char *sid, const store_session_t *rec);
//  Write rec under new_sid and delete old_sid (if present) in one transaction (session id rotation at login). Returns as store_session_put.
int store_session_rotate(store_t *self, const char *old_sid, const char *new_sid, const store_session_t *rec);
//  Delete the session record of sid. Returns 0, STORE_ENOTFOUND or STORE_EIO.
int store_session_delete(store_t *self, const char *sid);

//  Claim the refresh lease of sid until now + lease_ms, in one write transaction. rec gets the current record.
//  Returns 0 (claimed), STORE_ESTALE (rec->version != seen_version: already refreshed, nothing claimed),
//  STORE_EBUSY (another lease is live), STORE_ENOTFOUND, or STORE_EIO.
int store_refresh_claim(store_t *self, const char *sid, uint64_t seen_version, int64_t now, int64_t lease_ms, store_session_t *rec);
//  Commit the refreshed tokens of rec for sid: only when the stored version is still rec->version; writes version + 1 and clears the lease.
//  rec->version is updated to the new version. Returns 0, STORE_ESTALE, STORE_ENOTFOUND, STORE_EFULL or STORE_EIO.
int store_refresh_complete(store_t *self, const char *sid, store_session_t *rec);
//  Drop the refresh lease of sid without changing the tokens (the refresh failed but the tokens stay). Returns 0, STORE_ENOTFOUND or STORE_EIO.
int store_refresh_release(store_t *self, const char *sid);

//  Store a pending login under state, durably. Returns 0, STORE_EFULL, STORE_EINVAL or STORE_EIO.
int store_pending_put(store_t *self, const char *state, const store_pending_t *rec);
//  Read and delete the pending login of state in one transaction (single use). An expired one is deleted and gives STORE_ENOTFOUND.
//  Returns 0, STORE_ENOTFOUND or STORE_EIO.
int store_pending_take(store_t *self, const char *state, int64_t now, store_pending_t *rec);

//  Delete expired sessions (refresh_expires_at <= now) and pending logins (older than the TTL). Counts go to *sessions_p and *pending_p when not NULL. Returns 0 or STORE_EIO.
int store_sweep(store_t *self, int64_t now, size_t *sessions_p, size_t *pending_p);
//  Number of session records (for status and tests). Returns the count, or a negative STORE_* code.
int64_t store_session_count(store_t *self);

#endif
