//  store_txn: the transaction runner and helpers shared by common/store*.c
//  (internal: nothing outside common/store* includes this).
//
//  Every store operation is one LMDB transaction run by store_txn_run():
//  begin, a callback that does the work, then commit (a write transaction whose
//  callback asked for it) or abort. Each process has one MDB_env opened with
//  MDB_NOTLS, so read transactions may be used from any thread. map_lock is
//  held shared by every transaction of the process and exclusively only to
//  adopt a map grown by another process (MDB_MAP_RESIZED): mdb_env_set_mapsize()
//  remaps, which must not happen under a live transaction.
#ifndef STORE_TXN_H_INCLUDED
#define STORE_TXN_H_INCLUDED

#include "common/store.h"
#include "common/store_codec.h"

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

//  LMDB's largest key (mdb_env_get_maxkeysize with the default build).
#define STORE_TXN_LMDB_KEY_MAX 511

struct _store_t {
    MDB_env *env;
    MDB_dbi sessions;
    MDB_dbi pending;       //  state -> pending login
    MDB_dbi pending_sid;   //  the per-session index: sid -> (created_at, state), MDB_DUPSORT (oldest first)
    MDB_dbi pending_time;  //  the age index: (created_at, state) -> sid (oldest first)
    size_t pending_max;    //  cap on pending logins (store_pending_set_max)
    pthread_rwlock_t map_lock;
    size_t map_size;        //  as configured at open
    int stale_at_open;      //  stale reader slots cleared by store_open
    MDB_txn *batch;         //  the open group-commit transaction, or NULL
    pthread_t batch_owner;  //  the thread whose store calls join it
    char data_path[4096];   //  DIR/data.mdb as opened, and its device and inode then (store_check)
    dev_t data_dev;
    ino_t data_ino;
    _Atomic bool lost;  //  store_check found the data file deleted or replaced: every call refused
    bool batch_dirty;   //  a write of the open batch was committed into it (its commit is timed)
    seal_ring_t *ring;  //  seals the secret fields (store_set_ring; borrowed), NULL: plaintext (tests)
    char reseal_at[STORE_TXN_LMDB_KEY_MAX + 1];  //  store_reseal's resume point: db, then key
    size_t reseal_len;
    int reseal_db;       //  0: sessions, 1: pending
    size_t reseal_pass;  //  records re-sealed or dropped in the pass under way
};

//  Transaction modes: a read, or a write, with
//  - STORE_TXN_QUIET_FULL: the caller handles a full map itself (a commit's
//    MDB_MAP_FULL is not logged);
//  - STORE_TXN_FREES: the write frees space (a delete), or rewrites a record in
//    place and must not be lost (a refresh result, the lease). In a full map even a
//    delete needs a few free pages (copy-on-write, the freelist), so when it
//    fails with STORE_EFULL the map grows by one step (at most
//    STORE_TXN_GROW_STEPS steps of max(map_size / 16, 256 KiB) beyond the
//    configured size, per process) and the write runs once more. A full store
//    can then still log users out, sweep expired records and store refreshed tokens.
//  - STORE_TXN_ALONE: the write must be its own transaction, never part of a
//    batch (a refresh result: nothing else may fail its commit); inside a batch
//    of the calling thread it is refused with STORE_EINVAL.
enum { STORE_TXN_READ = 0, STORE_TXN_WRITE = 1, STORE_TXN_QUIET_FULL = 2, STORE_TXN_FREES = 4, STORE_TXN_ALONE = 8 };
#define STORE_TXN_GROW_STEPS 4

//  A transaction's work. Returns a STORE_* code; sets *commit to have a write
//  transaction committed (the code is returned only if the commit succeeds).
typedef int(store_txn_fn)(store_t *self, MDB_txn *txn, void *arg, bool *commit);

//  Run fn in one transaction of the given mode. Returns fn's code, or STORE_EINVAL (no store), STORE_EFULL or STORE_EIO from begin or commit.
int store_txn_run(store_t *self, int mode, const char *op, store_txn_fn *fn, void *arg);
//  The number of records in the database whose handle is the store_t field at dbi_field (offsetof: read
//  only once the transaction runs, so a NULL or lost store gets its code), in one read transaction; op names it in
//  a failure's log line. Returns the count, or a negative STORE_* code.
int64_t store_txn_count(store_t *self, size_t dbi_field, const char *op);
//  Log an LMDB failure of op once (never a key) and map it. Returns STORE_EFULL for MDB_MAP_FULL, else STORE_EIO.
int store_txn_fail(const char *op, int mdb_rc);
//  Check a session id or state (1 .. STORE_KEY_MAX-1 bytes) and point val at it. Returns 0 or STORE_EINVAL.
int store_txn_key(const char *key, MDB_val *val);
//  Log that the record of key in db does not decode (the key redacted).
void store_txn_corrupt(const char *db, const char *key);
//  A codec context for the record key of this store, opening the fields `open` (STORE_CODEC_OPEN_*).
store_codec_ctx_t store_txn_codec(store_t *self, const char *key, unsigned open);
//  Log that a sealed field of the record of key in db (kind "session" or "pending") did not open:
//  a lost record (tampered, moved, or its key retired). The key redacted, never a secret.
void store_txn_unsealed(const char *kind, const char *key, const store_codec_ctx_t *ctx);

//  Pending logins (store_pending.c), for store_open and store_sweep:
//  Open the pending databases in txn and rebuild the indexes when they do not match the records
//  (a store written before they existed). Returns 0, STORE_EFULL or STORE_EIO.
int store_pending_open(store_t *self, MDB_txn *txn);
//  Delete the pending logins created at or before now - STORE_PENDING_TTL_MS, oldest first through
//  the age index, in bounded write transactions. *count_p gets the number deleted. Returns 0, STORE_EFULL or STORE_EIO.
int store_pending_sweep(store_t *self, int64_t now, size_t *count_p);

#endif
