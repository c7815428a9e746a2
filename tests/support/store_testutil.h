//  store_testutil: record helpers and the store's test-only entry points, shared by the store's tests
//  (test code only: tests/support/ is built into the tests' library, never into a service).
#ifndef STORE_TESTUTIL_H_INCLUDED
#define STORE_TESTUTIL_H_INCLUDED

#include "common/store.h"
#include "common/clock.h"
#include "tests/testlib.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

//  Test-only entry points into the store (tests/support/store_hooks.c, in the tests' library only).
//  Begin a write (or read) transaction, write one byte to ready_fd, block reading
//  wait_fd (until a byte or EOF), then abort. Lets a test kill a process inside a
//  transaction. Returns 0 or a STORE_* code.
int store_test_hold_write(store_t *self, int ready_fd, int wait_fd);
int store_test_hold_read(store_t *self, int ready_fd, int wait_fd);
//  Store raw bytes as the value of key in db "sessions" or "pending". Returns 0, STORE_EINVAL or STORE_EIO.
int store_test_put_raw(store_t *self, const char *db, const char *key, const void *data, size_t len);
//  The number of stale reader slots store_open cleared.
int store_test_stale_at_open(const store_t *self);
//  The current size of this process's map (grows on MDB_MAP_RESIZED and for deletes in a full map).
size_t store_test_map_size(store_t *self);

#define NOW ((int64_t) 1800000000000)  //  a fixed "now" for the cases that pass time in
#define HOUR ((int64_t) 3600 * 1000)

static inline const char *s_dir(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    return path;
}

static inline void s_fill(char *dst, size_t size, char c)
{
    memset(dst, c, size - 1);
    dst[size - 1] = '\0';
}

//  A logged-in session (tokens, owner, scope, version 1; no lease, hold or previous id); expires (refresh token) at expires.
static inline void s_session(store_session_t *rec, int seed, int64_t expires)
{
    memset(rec, 0, sizeof *rec);
    snprintf(rec->env, sizeof rec->env, "%s", seed % 2 ? "sandbox" : "production");
    snprintf(rec->access_token, sizeof rec->access_token, "access-%d", seed);
    snprintf(rec->refresh_token, sizeof rec->refresh_token, "refresh-%d", seed);
    rec->expires_at = expires - 2 * HOUR;
    rec->refresh_expires_at = expires;
    snprintf(rec->owner_id, sizeof rec->owner_id, "owner-%d", seed);
    snprintf(rec->scope, sizeof rec->scope, "ReadAccounts ReadCallLog");
    rec->version = 1;
}

static inline bool s_session_eq(const store_session_t *a, const store_session_t *b)
{
    return strcmp(a->env, b->env) == 0 && strcmp(a->access_token, b->access_token) == 0
        && strcmp(a->refresh_token, b->refresh_token) == 0 && a->expires_at == b->expires_at
        && a->refresh_expires_at == b->refresh_expires_at && strcmp(a->owner_id, b->owner_id) == 0
        && strcmp(a->scope, b->scope) == 0 && a->version == b->version && a->refreshing_until == b->refreshing_until
        && strcmp(a->prev_sid, b->prev_sid) == 0 && a->rate_limited_until == b->rate_limited_until
        && a->refreshing_pid == b->refreshing_pid;
}

static inline void s_pending(store_pending_t *rec, const char *sid, int64_t created_at)
{
    memset(rec, 0, sizeof *rec);
    snprintf(rec->sid, sizeof rec->sid, "%s", sid);
    snprintf(rec->env, sizeof rec->env, "sandbox");
    snprintf(rec->code_verifier, sizeof rec->code_verifier, "verifier-for-%s", sid);
    rec->created_at = created_at;
}

#endif
