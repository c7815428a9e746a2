//  store: the LMDB token store shared by authsvc (writes) and apisvc (reads).
//  The only module that calls mdb_* (common/store*.c: store.c, store_txn.c, store_pending.c, store_sweep.c,
//  store_access.c, store_seal.c; the record format is store_codec.c). make check proves it.
//
//  One store_t (one MDB_env) per process, safe to use from many threads
//  (MDB_NOTLS: read transactions are not tied to threads). Named databases:
//  "sessions" (session id -> session record), "pending" (state -> pending
//  login) and its two indexes "pending_sid" (sid -> created_at + state) and
//  "pending_time" (created_at + state -> sid), kept in step with "pending" in the
//  same transactions so that the per-session limit, the global cap and the sweep
//  are O(log n) and never scans. Values are msgpack maps.
//  Pending logins never fill the map: STORE_PENDING_PER_SID per session, STORE_PENDING_MAX
//  in all (oldest evicted), and none once the live data would leave less than
//  store_reserve(map_size) free, so that writes of logged-in sessions always have room. Commits are durable (no MDB_NOSYNC):
//  when a put returns 0 the record survives a crash of the process or machine.
//  Stale reader slots left by killed processes are cleared at open.
//  LMDB rules that hold here too: open a directory at most once per process
//  (a second open of the same environment in one process breaks its locks),
//  and never use a store_t in a child after fork(): the child opens its own.
//  In a full map, deletes (session delete, pending take, the sweep) may grow
//  the map a little beyond map_size so that space can still be freed.
//  All times are milliseconds since the Unix epoch, passed in by the caller
//  (store_session_get alone reads the clock; store_session_get_at takes it).
//  Keys (session ids, states) are 1 .. STORE_KEY_MAX-1 bytes; other keys give STORE_EINVAL.
//  Keys and records are secrets: the store never logs them (log_redact tags only).
#ifndef STORE_H_INCLUDED
#define STORE_H_INCLUDED

#include "proto/proto.h"

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _store_t store_t;

enum {
    STORE_OK = 0,
    STORE_ENOTFOUND = -1,  //  no such record (or it has expired)
    STORE_EIO = -2,        //  LMDB failed (logged once, with mdb_strerror)
    STORE_EFULL = -3,      //  the map is full (MDB_MAP_FULL): raise STORE map size
    STORE_EBUSY = -4,      //  another caller holds the refresh lease
    STORE_ESTALE = -5,     //  the record's version moved on (someone else refreshed)
    STORE_EINVAL = -6,     //  bad argument: key too long, field too long, corrupt record
    STORE_EPERM = -7,      //  the record belongs to someone else (store_pending_take_owned): left as it was
    STORE_ELOST = -8,      //  the data directory was deleted or replaced under the running process (store_check)
};

//  The arrays of the fields a message carries too hold any value the schema lets through (proto.h limits).
#define STORE_KEY_MAX (PROTO_SID_MAX + 1)      //  a session id or state, with NUL
#define STORE_ENV_MAX (PROTO_ENV_MAX + 1)      //  "production" / "sandbox", with NUL
#define STORE_OWNER_MAX (PROTO_OWNER_MAX + 1)  //  owner_id, with NUL
#define STORE_TOKEN_MAX 4096                   //  longest access or refresh token, with NUL
#define STORE_FIELD_MAX 256                    //  scope, code_verifier, with NUL
#define STORE_PENDING_TTL_MS (10 * 60 * 1000)
#define STORE_PENDING_PER_SID 4  //  pending logins one pre-login session keeps (tabs); a 5th replaces its oldest
#define STORE_PENDING_MAX 50000  //  pending logins in all; a new one beyond evicts the oldest (see store_pending.c)
#define STORE_HOLD_MAX_MS (60 * 60 * 1000)  //  longest rate-limit hold a session takes (store_session_hold)
#define STORE_DEFAULT_MAP_SIZE ((size_t) 256 << 20)

typedef struct {
    char env[STORE_ENV_MAX];
    char access_token[STORE_TOKEN_MAX];
    char refresh_token[STORE_TOKEN_MAX];
    int64_t expires_at;          //  access token expiry (ms)
    int64_t refresh_expires_at;  //  refresh token expiry (ms); the record expires with it
    char owner_id[STORE_OWNER_MAX];
    char scope[STORE_FIELD_MAX];
    uint64_t version;              //  +1 on every refresh
    int64_t refreshing_until;      //  refresh lease expiry (ms), 0 when none
    char prev_sid[STORE_KEY_MAX];  //  the id this session had before its last rotation ("" if none), so a
                                   //  login started in another tab before the rotation can still complete
    int64_t rate_limited_until;    //  no upstream call for this session before then (ms; a 429's Retry-After),
                                   //  0 when none (also in records written before the field existed)
    int64_t refreshing_pid;        //  the process holding the refresh lease (0 when none or unknown): a lease
                                   //  whose process is gone is void, as LMDB treats its reader slots
} store_session_t;

typedef struct {
    char sid[STORE_KEY_MAX];
    char env[STORE_ENV_MAX];
    char code_verifier[STORE_FIELD_MAX];
    int64_t created_at;  //  ms; the record expires STORE_PENDING_TTL_MS later
} store_pending_t;

//  What an API call needs of a session (store_access_get): the access token, never the refresh token.
typedef struct {
    char env[STORE_ENV_MAX];
    char access_token[STORE_TOKEN_MAX];
    int64_t expires_at;  //  access token expiry (ms)
    char owner_id[STORE_OWNER_MAX];
    uint64_t version;            //  the record's version (REFRESH's seen_version)
    int64_t rate_limited_until;  //  no upstream call before then (ms), 0 when none
} store_access_t;

//  Open (creating dir and the databases if needed) the store. map_size 0 means STORE_DEFAULT_MAP_SIZE. Returns NULL and logs why on failure.
store_t *store_open(const char *dir, size_t map_size);
//  Open the store in dir only when one is there (dir/data.mdb): never creates a store (the services use this,
//  so a deleted DATA_DIR is never silently replaced by an empty one). Returns NULL and logs why on failure.
store_t *store_open_existing(const char *dir, size_t map_size);
//  Close the store and set *self_p to NULL. Safe with *self_p == NULL.
void store_close(store_t **self_p);
//  Whether the store can still be used: its data file is still the one at its path (not deleted, not replaced
//  by another DATA_DIR) and a read transaction begins. Returns 0, or -1 with a reason in why (no path in it)
//  ("ok" on success) and the store refusing every call with STORE_ELOST until a check passes again (one log line each way:
//  ev=store.lost, ev=store.back). Cheap (two stat calls and a read transaction): call it every second or so.
int store_check(store_t *store, char *why, size_t why_size);
//  A short text for a STORE_* code.
const char *store_strerror(int rc);

//  What the metrics show of a store (store_stats).
typedef struct {
    double map_used_ratio;  //  pages in use (up to the last one written) / the map's pages
    unsigned readers;       //  reader slots taken (live and stale)
} store_stats_t;

//  Fill st from the environment's info. Returns 0, or STORE_EIO.
int store_stats(store_t *self, store_stats_t *st);

//  A new zeroed session record on the heap (records hold tokens: end it with store_session_destroy). Returns NULL
//  when out of memory.
store_session_t *store_session_new(void);
//  Wipe the record (tokens included, a wipe the compiler cannot drop) and free it; set *rec_p to NULL. Safe with NULL.
void store_session_destroy(store_session_t **rec_p);

//  Read the session record of sid into rec; a record with refresh_expires_at <= now (the clock) is not found.
//  Returns 0, STORE_ENOTFOUND, STORE_EINVAL (bad sid or corrupt record) or STORE_EIO.
int store_session_get(store_t *self, const char *sid, store_session_t *rec);
//  store_session_get with the time passed in. Returns as store_session_get.
int store_session_get_at(store_t *self, const char *sid, int64_t now, store_session_t *rec);
//  apisvc's read of sid's session: store_session_get's answer without the refresh token and the lease (the
//  decoded record is wiped before returning; common/store_access.c). Returns as store_session_get_at (rec is
//  zeroed on failure).
int store_access_get(store_t *self, const char *sid, int64_t now, store_access_t *rec);
//  Write (insert or replace) the session record of sid, durably. Returns 0, STORE_EFULL, STORE_EINVAL or STORE_EIO.
int store_session_put(store_t *self, const char *sid, const store_session_t *rec);
//  Write rec under new_sid and delete old_sid (if present) in one transaction (session id rotation at login). Returns as store_session_put.
int store_session_rotate(store_t *self, const char *old_sid, const char *new_sid, const store_session_t *rec);
//  Delete the session record of sid. Returns 0, STORE_ENOTFOUND, STORE_EINVAL, STORE_EFULL (map full even after growing) or STORE_EIO.
int store_session_delete(store_t *self, const char *sid);

//  Whether rec's refresh lease is held at now: not run out, and its process (refreshing_pid) still exists.
//  The services sharing a store share a PID namespace (LMDB's stale-reader check assumes the same).
bool store_lease_live(const store_session_t *rec, int64_t now);
//  Claim the refresh lease of sid until now + lease_ms for this process, in one write transaction. rec gets
//  the current record. Returns 0 (claimed), STORE_ESTALE (rec->version != seen_version: already refreshed,
//  nothing claimed), STORE_EBUSY (another lease is live: store_lease_live), STORE_ENOTFOUND (also when expired at now), STORE_EFULL,
//  STORE_EINVAL (bad sid, lease_ms <= 0, corrupt record) or STORE_EIO. rec is filled on 0, ESTALE and EBUSY.
int store_refresh_claim(store_t *self, const char *sid, uint64_t seen_version, int64_t now, int64_t lease_ms,
                        store_session_t *rec);
//  Commit the refreshed tokens of rec for sid: only when the stored version is still rec->version; writes version + 1 and clears the lease.
//  Its own transaction (never joins a batch: store_batch_begin), and the map may grow a little for it, as for deletes.
//  The stored rate_limited_until is kept when later than rec's (a hold set meanwhile is not lost).
//  rec->version is updated to the new version. Returns 0, STORE_ESTALE, STORE_ENOTFOUND, STORE_EFULL, STORE_EINVAL or STORE_EIO.
int store_refresh_complete(store_t *self, const char *sid, store_session_t *rec);
//  Hold (or take back) the refresh lease of sid until now + lease_ms for this process while the stored version is
//  still `version` (a refreshed pair kept in memory whose commit failed: no other process may refresh meanwhile).
//  May grow the map a little, as deletes do. Returns 0, STORE_ESTALE, STORE_EBUSY (another process's lease is live),
//  STORE_ENOTFOUND, STORE_EFULL, STORE_EINVAL or STORE_EIO.
int store_refresh_extend(store_t *self, const char *sid, uint64_t version, int64_t now, int64_t lease_ms);
//  Drop the refresh lease of sid without changing the tokens (the refresh failed but the tokens stay).
//  Returns 0, STORE_ENOTFOUND, STORE_EFULL, STORE_EINVAL or STORE_EIO.
int store_refresh_release(store_t *self, const char *sid);

//  Hold sid back from upstream calls until `until` (ms, now < until <= now + STORE_HOLD_MAX_MS): raises
//  rate_limited_until to until, never lowers it (an equal or later hold stays, nothing written). One write
//  transaction; other fields are left alone. Returns 0, STORE_ENOTFOUND (no record, or expired at now:
//  nothing written), STORE_EFULL, STORE_EINVAL (bad sid, until out of range, corrupt record) or STORE_EIO.
int store_session_hold(store_t *self, const char *sid, int64_t now, int64_t until);

//  Store a pending login under state, durably, first evicting rec->sid's oldest beyond STORE_PENDING_PER_SID - 1
//  and the oldest of all beyond the cap (store_pending_set_max). Refused with STORE_EFULL, nothing written and
//  nothing logged, when the live data would leave less than store_reserve(map size) free (or the map is full).
//  Returns 0, STORE_EFULL, STORE_EINVAL or STORE_EIO.
int store_pending_put(store_t *self, const char *state, const store_pending_t *rec);
//  Read and delete the pending login of state in one transaction (single use). An expired one is deleted and gives STORE_ENOTFOUND.
//  Returns 0, STORE_ENOTFOUND, STORE_EINVAL (bad state; or a corrupt record, which is deleted too), STORE_EFULL or STORE_EIO.
int store_pending_take(store_t *self, const char *state, int64_t now, store_pending_t *rec);
//  store_pending_take, but only for its owner: when the pending login of state was started by neither sid nor
//  prev_sid (NULL or "" for none: the id sid had before its last rotation), it is left untouched for its owner
//  and STORE_EPERM is returned. Returns 0, STORE_ENOTFOUND, STORE_EPERM, STORE_EINVAL, STORE_EFULL or STORE_EIO.
int store_pending_take_owned(store_t *self, const char *state, const char *sid, const char *prev_sid, int64_t now,
                             store_pending_t *rec);

//  Set the cap on the number of pending logins (0: STORE_PENDING_MAX) for this store_t.
void store_pending_set_max(store_t *self, size_t max);
//  Number of pending logins, expired ones not yet swept included. Returns the count, or a negative STORE_* code.
int64_t store_pending_count(store_t *self);
//  The room (bytes) kept free of pending logins in a map of map_size bytes: max(map_size / 8, min(1 MiB, map_size / 2)).
size_t store_reserve(size_t map_size);

//  Delete expired sessions (refresh_expires_at <= now) and pending logins (created_at + TTL <= now), in bounded
//  write transactions so other writers get in between. Records that do not decode are logged and left alone.
//  Counts go to *sessions_p and *pending_p when not NULL. Returns 0, STORE_EFULL or STORE_EIO.
int store_sweep(store_t *self, int64_t now, size_t *sessions_p, size_t *pending_p);
//  Group commit. Begin a write transaction that every store call made by THIS thread joins (each as a
//  nested transaction, undone alone when it fails) until store_batch_commit: many writes, one durable
//  commit. Other threads' writes wait for the commit. Returns 0, STORE_EINVAL (a batch is open), STORE_EFULL or STORE_EIO.
int store_batch_begin(store_t *self);
//  Commit the open batch durably (one sync for all its writes; nothing when it changed nothing).
//  Returns 0, or STORE_EINVAL / STORE_EFULL / STORE_EIO (then nothing of the batch is stored).
int store_batch_commit(store_t *self);
//  Number of session records, expired ones not yet swept included (for status and tests). Returns the count, or a negative STORE_* code.
int64_t store_session_count(store_t *self);
//  Clear the reader slots of processes that died inside a read transaction (store_open does it once).
//  Returns the number cleared, or STORE_EIO.
int store_reader_check(store_t *self);

//  Sealing (common/store_seal.c; the field format in store_codec.h, the cipher in seal.h).
typedef struct _seal_ring_t seal_ring_t;
//  Seal the secret fields of every record written from now on with ring's first key, and open them with its keys
//  (borrowed: it must outlive the store). Without a ring (tests and tools only) secrets are stored in plaintext.
void store_set_ring(store_t *self, seal_ring_t *ring);

//  What one store_reseal_step did.
typedef struct {
    size_t visited;   //  records looked at
    size_t resealed;  //  re-sealed under the first key
    size_t dropped;   //  sessions whose fields did not open (lost anyway): deleted, logged
    bool pass_done;   //  this step reached the end of the pending logins: a pass over both is over
    bool clean;       //  ... and that whole pass found nothing to re-seal or drop (the rotation is complete)
} store_reseal_t;
//  Re-seal under the ring's first key up to max records sealed with another key (sessions, then pending logins),
//  in one write transaction, resuming where the last step stopped (wrapping around). Needs a ring. Returns 0,
//  STORE_EINVAL (no ring), STORE_EFULL or STORE_EIO.
int store_reseal_step(store_t *self, size_t max, store_reseal_t *out);
//  Count the records per key id in one read transaction: ids[i] has counts[i] records (sessions and pending logins);
//  id 0 counts records with no sealed field (plaintext). *n_p gets the number of ids (at most cap).
//  Returns 0, STORE_EINVAL or STORE_EIO.
int store_key_usage(store_t *self, uint32_t *ids, size_t *counts, size_t cap, size_t *n_p);

#endif
