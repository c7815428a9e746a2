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

#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>

//  LMDB's largest key (mdb_env_get_maxkeysize with the default build).
#define STORE_TXN_LMDB_KEY_MAX 511

struct _store_t {
    MDB_env *env;
    MDB_dbi sessions;
    MDB_dbi pending;
    pthread_rwlock_t map_lock;
    size_t map_size;            //  as configured at open
    int stale_at_open;          //  stale reader slots cleared by store_open
    MDB_txn *batch;             //  the open group-commit transaction, or NULL
    pthread_t batch_owner;      //  the thread whose store calls join it
};

//  Transaction modes: a read, or a write, with
//  - STORE_TXN_QUIET_FULL: the caller handles a full map itself (a commit's
//    MDB_MAP_FULL is not logged);
//  - STORE_TXN_FREES: the write frees space (a delete). In a full map even a
//    delete needs a few free pages (copy-on-write, the freelist), so when it
//    fails with STORE_EFULL the map grows by one step (at most
//    STORE_TXN_GROW_STEPS steps of max(map_size / 16, 256 KiB) beyond the
//    configured size, per process) and the write runs once more. A full store
//    can then still log users out and sweep expired records.
enum { STORE_TXN_READ = 0, STORE_TXN_WRITE = 1, STORE_TXN_QUIET_FULL = 2, STORE_TXN_FREES = 4 };
#define STORE_TXN_GROW_STEPS 4

//  A transaction's work. Returns a STORE_* code; sets *commit to have a write
//  transaction committed (the code is returned only if the commit succeeds).
typedef int(store_txn_fn)(store_t *self, MDB_txn *txn, void *arg, bool *commit);

//  Run fn in one transaction of the given mode. Returns fn's code, or STORE_EINVAL (no store), STORE_EFULL or STORE_EIO from begin or commit.
int store_txn_run(store_t *self, int mode, const char *op, store_txn_fn *fn, void *arg);
//  Log an LMDB failure of op once (never a key) and map it. Returns STORE_EFULL for MDB_MAP_FULL, else STORE_EIO.
int store_txn_fail(const char *op, int mdb_rc);
//  Check a session id or state (1 .. STORE_KEY_MAX-1 bytes) and point val at it. Returns 0 or STORE_EINVAL.
int store_txn_key(const char *key, MDB_val *val);
//  Log that the record of key in db does not decode (the key redacted).
void store_txn_corrupt(const char *db, const char *key);

#endif
