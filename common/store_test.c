//  store_test: the LMDB token store in one process: every operation's
//  semantics, expiry, the refresh lease and hold, reopening, threads, batches.
//  (Corrupt records and a full map: store_hostile_test.c; several processes
//  at once: store_proc_test.c.)
//
//  Every case works in its own directory under test_tmpdir().
#include "common/log.h"
#include "common/store.h"
#include "tests/support/store_testutil.h"
#include "tests/testlib.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void t_session_roundtrip(void)
{
    store_t *store = store_open(s_dir("session_roundtrip/a/b"), 0);
    CHECK(store != NULL);
    store_session_t in, out;
    //  Every field at its longest.
    memset(&in, 0, sizeof in);
    s_fill(in.env, sizeof in.env, 'e');
    s_fill(in.access_token, sizeof in.access_token, 'a');
    s_fill(in.refresh_token, sizeof in.refresh_token, 'r');
    s_fill(in.owner_id, sizeof in.owner_id, 'o');
    s_fill(in.scope, sizeof in.scope, 's');
    s_fill(in.prev_sid, sizeof in.prev_sid, 'p');
    in.expires_at = -5;
    in.refresh_expires_at = INT64_MAX;
    in.version = UINT64_MAX;
    in.refreshing_until = INT64_MIN;
    in.rate_limited_until = INT64_MAX;
    in.refreshing_pid = INT64_MAX;
    char sid[STORE_KEY_MAX];
    s_fill(sid, sizeof sid, 'k');
    CHECK(store_session_put(store, sid, &in) == 0);
    CHECK(store_session_get_at(store, sid, NOW, &out) == 0);
    CHECK(s_session_eq(&in, &out));
    CHECK(out.rate_limited_until == INT64_MAX);
    CHECK(strlen(out.access_token) == STORE_TOKEN_MAX - 1);
    //  The store holds the longest session id, env and owner_id the protocol lets through (proto.h limits).
    CHECK(strlen(sid) == PROTO_SID_MAX && strlen(out.prev_sid) == PROTO_SID_MAX);
    CHECK(strlen(out.env) == PROTO_ENV_MAX && strlen(out.owner_id) == PROTO_OWNER_MAX);

    //  Ordinary values, replaced in place.
    s_session(&in, 7, NOW + HOUR);
    CHECK(store_session_put(store, sid, &in) == 0);
    CHECK(store_session_get_at(store, sid, NOW, &out) == 0);
    CHECK(s_session_eq(&in, &out));
    CHECK(out.rate_limited_until == 0);
    CHECK(strcmp(out.env, "sandbox") == 0 && strcmp(out.owner_id, "owner-7") == 0);
    CHECK(store_session_count(store) == 1);
    CHECK(store_session_get_at(store, "missing", NOW, &out) == STORE_ENOTFOUND);
    store_close(&store);
    CHECK(store == NULL);
    store_close(&store);  //  safe twice
    //  The directory was created private.
    struct stat st;
    CHECK(stat(s_dir("session_roundtrip/a/b"), &st) == 0 && (st.st_mode & 0777) == 0700);
}

static void t_pending_roundtrip(void)
{
    store_t *store = store_open(s_dir("pending_roundtrip"), 0);
    CHECK(store != NULL);
    store_pending_t in, out;
    memset(&in, 0, sizeof in);
    s_fill(in.sid, sizeof in.sid, 'i');
    s_fill(in.env, sizeof in.env, 'e');
    s_fill(in.code_verifier, sizeof in.code_verifier, 'v');
    in.created_at = NOW;
    char state[STORE_KEY_MAX];
    s_fill(state, sizeof state, 's');
    CHECK(store_pending_put(store, state, &in) == 0);
    CHECK(store_pending_take(store, state, NOW + 1, &out) == 0);
    CHECK(memcmp(&in, &out, sizeof in) == 0);
    CHECK(store_pending_take(store, "nope", NOW, &out) == STORE_ENOTFOUND);
    store_close(&store);
}

static void t_bad_arguments(void)
{
    store_t *store = store_open(s_dir("bad_arguments"), 0);
    CHECK(store != NULL);
    store_session_t rec, out;
    s_session(&rec, 1, NOW + HOUR);
    char longkey[STORE_KEY_MAX + 1];
    s_fill(longkey, sizeof longkey, 'x');  //  STORE_KEY_MAX characters: one too many
    CHECK(store_session_put(store, longkey, &rec) == STORE_EINVAL);
    CHECK(store_session_put(store, "", &rec) == STORE_EINVAL);
    CHECK(store_session_put(store, NULL, &rec) == STORE_EINVAL);
    CHECK(store_session_get_at(store, longkey, NOW, &out) == STORE_EINVAL);
    CHECK(store_session_get(store, "", &out) == STORE_EINVAL);
    CHECK(store_session_delete(store, longkey) == STORE_EINVAL);
    CHECK(store_session_rotate(store, longkey, "ok", &rec) == STORE_EINVAL);
    CHECK(store_session_rotate(store, "ok", "", &rec) == STORE_EINVAL);
    CHECK(store_refresh_claim(store, "", 1, NOW, 1000, &out) == STORE_EINVAL);
    CHECK(store_refresh_claim(store, "x", 1, NOW, 0, &out) == STORE_EINVAL);
    CHECK(store_refresh_complete(store, longkey, &rec) == STORE_EINVAL);
    CHECK(store_refresh_release(store, "") == STORE_EINVAL);
    //  A string field without its NUL does not fit.
    memset(rec.access_token, 'a', sizeof rec.access_token);
    CHECK(store_session_put(store, "ok", &rec) == STORE_EINVAL);
    store_pending_t p;
    s_pending(&p, "sid", NOW);
    CHECK(store_pending_put(store, longkey, &p) == STORE_EINVAL);
    CHECK(store_pending_take(store, "", NOW, &p) == STORE_EINVAL);
    memset(p.code_verifier, 'v', sizeof p.code_verifier);
    CHECK(store_pending_put(store, "state", &p) == STORE_EINVAL);
    CHECK(store_session_count(store) == 0);
    //  Failing calls on a missing store do not crash.
    CHECK(store_session_get(NULL, "x", &out) == STORE_EINVAL);
    CHECK(store_sweep(NULL, NOW, NULL, NULL) == STORE_EINVAL);
    CHECK(store_session_count(NULL) == STORE_EINVAL && store_pending_count(NULL) == STORE_EINVAL);
    CHECK(strcmp(store_strerror(STORE_EFULL), "store map full") == 0);
    CHECK(store_open("", 0) == NULL);
    CHECK(store_open("/proc/no/such/dir", 0) == NULL);
    store_close(&store);
}

static void t_missing(void)
{
    store_t *store = store_open(s_dir("missing"), 0);
    CHECK(store != NULL);
    store_session_t rec;
    s_session(&rec, 1, NOW + HOUR);
    CHECK(store_session_get_at(store, "nobody", NOW, &rec) == STORE_ENOTFOUND);
    CHECK(store_session_delete(store, "nobody") == STORE_ENOTFOUND);
    CHECK(store_refresh_claim(store, "nobody", 1, NOW, 1000, &rec) == STORE_ENOTFOUND);
    s_session(&rec, 1, NOW + HOUR);
    CHECK(store_refresh_complete(store, "nobody", &rec) == STORE_ENOTFOUND);
    CHECK(store_refresh_release(store, "nobody") == STORE_ENOTFOUND);
    store_close(&store);
}

static void t_rotate_delete(void)
{
    store_t *store = store_open(s_dir("rotate"), 0);
    CHECK(store != NULL);
    store_session_t rec, out;
    s_session(&rec, 1, NOW + HOUR);
    CHECK(store_session_put(store, "pre-login", &rec) == 0);
    s_session(&rec, 2, NOW + HOUR);
    CHECK(store_session_rotate(store, "pre-login", "post-login", &rec) == 0);
    CHECK(store_session_get_at(store, "pre-login", NOW, &out) == STORE_ENOTFOUND);
    CHECK(store_session_get_at(store, "post-login", NOW, &out) == 0);
    CHECK(s_session_eq(&rec, &out));
    //  A missing old id is fine; the same id on both sides just writes.
    CHECK(store_session_rotate(store, "never-existed", "second", &rec) == 0);
    CHECK(store_session_rotate(store, "second", "second", &rec) == 0);
    CHECK(store_session_get_at(store, "second", NOW, &out) == 0);
    CHECK(store_session_count(store) == 2);
    CHECK(store_session_delete(store, "post-login") == 0);
    CHECK(store_session_delete(store, "post-login") == STORE_ENOTFOUND);
    CHECK(store_session_get_at(store, "post-login", NOW, &out) == STORE_ENOTFOUND);
    CHECK(store_session_count(store) == 1);
    store_close(&store);
}

static void t_pending_single_use(void)
{
    store_t *store = store_open(s_dir("pending_single_use"), 0);
    CHECK(store != NULL);
    store_pending_t in, out;
    //  Two logins in flight for one session (two tabs) keep their own record.
    s_pending(&in, "sid-1", NOW);
    CHECK(store_pending_put(store, "state-a", &in) == 0);
    CHECK(store_pending_put(store, "state-b", &in) == 0);
    CHECK(store_pending_take(store, "state-a", NOW + 1000, &out) == 0);
    CHECK(strcmp(out.sid, "sid-1") == 0 && strcmp(out.code_verifier, "verifier-for-sid-1") == 0);
    CHECK(store_pending_take(store, "state-a", NOW + 1000, &out) == STORE_ENOTFOUND);
    CHECK(out.sid[0] == '\0');
    CHECK(store_pending_take(store, "state-b", NOW + 2000, &out) == 0);
    CHECK(store_pending_take(store, "state-b", NOW + 2000, &out) == STORE_ENOTFOUND);
    store_close(&store);
}

static void t_pending_expiry(void)
{
    store_t *store = store_open(s_dir("pending_expiry"), 0);
    CHECK(store != NULL);
    store_pending_t in, out;
    s_pending(&in, "sid", NOW);
    CHECK(store_pending_put(store, "state", &in) == 0);
    //  At exactly created_at + TTL it is gone, and the take deleted it:
    //  an earlier clock no longer finds it either.
    CHECK(store_pending_take(store, "state", NOW + STORE_PENDING_TTL_MS, &out) == STORE_ENOTFOUND);
    CHECK(store_pending_take(store, "state", NOW, &out) == STORE_ENOTFOUND);
    CHECK(store_pending_put(store, "state", &in) == 0);
    CHECK(store_pending_take(store, "state", NOW + STORE_PENDING_TTL_MS - 1, &out) == 0);
    store_close(&store);
}

static void t_session_expiry_get(void)
{
    store_t *store = store_open(s_dir("session_expiry_get"), 0);
    CHECK(store != NULL);
    store_session_t rec, out;
    s_session(&rec, 1, NOW);
    CHECK(store_session_put(store, "sid", &rec) == 0);
    CHECK(store_session_get_at(store, "sid", NOW - 1, &out) == 0);
    CHECK(store_session_get_at(store, "sid", NOW, &out) == STORE_ENOTFOUND);
    CHECK(store_refresh_claim(store, "sid", 1, NOW, 1000, &out) == STORE_ENOTFOUND);
    //  store_session_get reads the clock.
    int64_t now = clock_now_ms();
    s_session(&rec, 2, now - 1000);
    CHECK(store_session_put(store, "past", &rec) == 0);
    s_session(&rec, 3, now + HOUR);
    CHECK(store_session_put(store, "future", &rec) == 0);
    CHECK(store_session_get(store, "past", &out) == STORE_ENOTFOUND);
    CHECK(store_session_get(store, "future", &out) == 0 && strcmp(out.owner_id, "owner-3") == 0);
    //  Expired records stay until swept.
    CHECK(store_session_count(store) == 3);
    store_close(&store);
}

static void t_sweep_counts(void)
{
    store_t *store = store_open(s_dir("sweep_counts"), 0);
    CHECK(store != NULL);
    store_session_t rec;
    char key[32];
    for (int i = 0; i < 8; i++) {
        s_session(&rec, i, i < 3 ? NOW - i : NOW + HOUR);  //  0, 1, 2 expired (<= now)
        snprintf(key, sizeof key, "sid-%d", i);
        CHECK(store_session_put(store, key, &rec) == 0);
    }
    store_pending_t p;
    for (int i = 0; i < 6; i++) {
        char psid[24];
        snprintf(psid, sizeof psid, "psid-%d", i);  //  one each: a session keeps at most STORE_PENDING_PER_SID
        s_pending(&p, psid, i < 4 ? NOW - STORE_PENDING_TTL_MS - i : NOW - 1000);
        snprintf(key, sizeof key, "state-%d", i);
        CHECK(store_pending_put(store, key, &p) == 0);
    }
    size_t ns = 99, np = 99;
    CHECK(store_sweep(store, NOW, &ns, &np) == 0);
    CHECK(ns == 3 && np == 4);
    CHECK(store_session_count(store) == 5);
    CHECK(store_session_get_at(store, "sid-7", NOW, &rec) == 0);
    CHECK(store_pending_take(store, "state-5", NOW, &p) == 0);
    CHECK(store_pending_take(store, "state-0", NOW - STORE_PENDING_TTL_MS, &p) == STORE_ENOTFOUND);
    CHECK(store_sweep(store, NOW, &ns, &np) == 0);
    CHECK(ns == 0 && np == 0);
    CHECK(store_sweep(store, NOW + 2 * HOUR, NULL, NULL) == 0);
    CHECK(store_session_count(store) == 0);
    store_close(&store);
}

static void t_sweep_batches(void)
{
    //  More records than one sweep transaction visits (256): the walk resumes correctly.
    store_t *store = store_open(s_dir("sweep_batches"), 0);
    CHECK(store != NULL);
    enum { N = 700 };
    store_session_t rec;
    char key[32];
    for (int i = 0; i < N; i++) {
        s_session(&rec, i, i % 2 ? NOW + HOUR : NOW - HOUR);
        snprintf(key, sizeof key, "sid-%04d", i);
        CHECK(store_session_put(store, key, &rec) == 0);
    }
    size_t ns = 0, np = 0;
    CHECK(store_sweep(store, NOW, &ns, &np) == 0);
    CHECK(ns == N / 2 && np == 0);
    CHECK(store_session_count(store) == N / 2);
    int found = 0;
    for (int i = 1; i < N; i += 2) {
        snprintf(key, sizeof key, "sid-%04d", i);
        found += store_session_get_at(store, key, NOW, &rec) == 0;
    }
    CHECK(found == N / 2);
    store_close(&store);
}

static void t_lease(void)
{
    store_t *store = store_open(s_dir("lease"), 0);
    CHECK(store != NULL);
    store_session_t rec, got, other;
    s_session(&rec, 1, NOW + HOUR);
    CHECK(store_session_put(store, "sid", &rec) == 0);

    //  Claim: the record comes back with the lease set, and it is stored.
    CHECK(store_refresh_claim(store, "sid", 1, NOW, 5000, &got) == 0);
    CHECK(got.refreshing_until == NOW + 5000 && got.version == 1);
    CHECK(strcmp(got.refresh_token, "refresh-1") == 0);
    CHECK(store_session_get_at(store, "sid", NOW, &other) == 0 && other.refreshing_until == NOW + 5000);
    //  A second claim while the lease lives: busy, and it sees the record.
    CHECK(store_refresh_claim(store, "sid", 1, NOW + 4999, 5000, &other) == STORE_EBUSY);
    CHECK(other.version == 1 && other.refreshing_until == NOW + 5000);
    //  A caller with an older version learns it is stale, whatever the lease.
    CHECK(store_refresh_claim(store, "sid", 0, NOW, 5000, &other) == STORE_ESTALE);
    CHECK(other.version == 1);
    //  The lease runs out (refreshing_until == now is over): another may claim.
    CHECK(store_refresh_claim(store, "sid", 1, NOW + 5000, 5000, &other) == 0);
    CHECK(other.refreshing_until == NOW + 10000);

    //  Complete: new tokens, version + 1, lease cleared.
    snprintf(got.access_token, sizeof got.access_token, "access-new");
    snprintf(got.refresh_token, sizeof got.refresh_token, "refresh-new");
    CHECK(store_refresh_complete(store, "sid", &got) == 0);
    CHECK(got.version == 2 && got.refreshing_until == 0);
    CHECK(store_session_get_at(store, "sid", NOW, &other) == 0);
    CHECK(other.version == 2 && other.refreshing_until == 0);
    CHECK(strcmp(other.access_token, "access-new") == 0 && strcmp(other.refresh_token, "refresh-new") == 0);
    //  A second completion from the old version (a lost race) is refused and changes nothing.
    store_session_t late = rec;  //  version 1
    snprintf(late.refresh_token, sizeof late.refresh_token, "refresh-late");
    CHECK(store_refresh_complete(store, "sid", &late) == STORE_ESTALE);
    CHECK(late.version == 1);
    CHECK(store_session_get_at(store, "sid", NOW, &other) == 0 && strcmp(other.refresh_token, "refresh-new") == 0);
    //  The old version can no longer claim; the new one can.
    CHECK(store_refresh_claim(store, "sid", 1, NOW, 5000, &other) == STORE_ESTALE && other.version == 2);
    CHECK(store_refresh_claim(store, "sid", 2, NOW, 5000, &other) == 0);

    //  Release: lease gone, tokens and version unchanged, a new claim works at once.
    CHECK(store_refresh_release(store, "sid") == 0);
    CHECK(store_session_get_at(store, "sid", NOW, &other) == 0);
    CHECK(other.refreshing_until == 0 && other.version == 2 && strcmp(other.refresh_token, "refresh-new") == 0);
    CHECK(store_refresh_release(store, "sid") == 0);  //  nothing to release
    CHECK(store_refresh_claim(store, "sid", 2, NOW, 5000, &other) == 0);
    CHECK(other.refreshing_pid == getpid());
    CHECK(store_refresh_release(store, "sid") == 0);
    CHECK(store_session_get_at(store, "sid", NOW, &other) == 0 && other.refreshing_pid == 0);

    //  A live lease of a process that is gone (killed mid-refresh) is void: claimed at once, not after it runs out.
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    CHECK(child > 0 && waitpid(child, NULL, 0) == child);
    CHECK(store_session_get_at(store, "sid", NOW, &other) == 0);
    other.refreshing_until = NOW + 30000;
    other.refreshing_pid = child;
    CHECK(store_session_put(store, "sid", &other) == 0);
    CHECK(!store_lease_live(&other, NOW));
    CHECK(store_refresh_claim(store, "sid", 2, NOW, 5000, &got) == 0);
    CHECK(got.refreshing_pid == getpid() && got.refreshing_until == NOW + 5000);
    //  ... but one of a process that exists (pid 1), or of an unknown process (0, older records), holds.
    for (int64_t pid = 0; pid <= 1; pid++) {
        other.refreshing_until = NOW + 30000;
        other.refreshing_pid = pid;
        CHECK(store_session_put(store, "sid", &other) == 0);
        CHECK(store_lease_live(&other, NOW) && !store_lease_live(&other, NOW + 30000));
        CHECK(store_refresh_claim(store, "sid", 2, NOW, 5000, &got) == STORE_EBUSY);
    }
    store_close(&store);
}

static void t_hold(void)
{
    store_t *store = store_open(s_dir("hold"), 0);
    CHECK(store != NULL);
    store_session_t rec, out;
    s_session(&rec, 3, NOW + HOUR);
    CHECK(store_session_put(store, "sid", &rec) == 0);
    CHECK(store_session_get_at(store, "sid", NOW, &out) == 0 && out.rate_limited_until == 0);

    //  Set: only the hold changes.
    CHECK(store_session_hold(store, "sid", NOW, NOW + 30000) == 0);
    CHECK(store_session_get_at(store, "sid", NOW, &out) == 0);
    rec.rate_limited_until = NOW + 30000;
    CHECK(out.rate_limited_until == NOW + 30000 && s_session_eq(&rec, &out));
    //  Never lowered (a shorter or equal hold leaves it); raised by a longer one.
    CHECK(store_session_hold(store, "sid", NOW + 1000, NOW + 10000) == 0);
    CHECK(store_session_hold(store, "sid", NOW, NOW + 30000) == 0);
    CHECK(store_session_get_at(store, "sid", NOW, &out) == 0 && out.rate_limited_until == NOW + 30000);
    CHECK(store_session_hold(store, "sid", NOW + 1000, NOW + 60000) == 0);
    CHECK(store_session_get_at(store, "sid", NOW, &out) == 0 && out.rate_limited_until == NOW + 60000);

    //  Bounds: in the future, at most STORE_HOLD_MAX_MS ahead; a well-formed key.
    CHECK(store_session_hold(store, "sid", NOW, NOW) == STORE_EINVAL);
    CHECK(store_session_hold(store, "sid", NOW, NOW - 1) == STORE_EINVAL);
    CHECK(store_session_hold(store, "sid", NOW, 0) == STORE_EINVAL);
    CHECK(store_session_hold(store, "sid", NOW, -5) == STORE_EINVAL);
    CHECK(store_session_hold(store, "sid", NOW, NOW + STORE_HOLD_MAX_MS + 1) == STORE_EINVAL);
    CHECK(store_session_hold(store, "sid", INT64_MIN, INT64_MAX) == STORE_EINVAL);  //  no overflow
    CHECK(store_session_hold(store, "", NOW, NOW + 1000) == STORE_EINVAL);
    CHECK(store_session_hold(store, NULL, NOW, NOW + 1000) == STORE_EINVAL);
    char longkey[STORE_KEY_MAX + 1];
    s_fill(longkey, sizeof longkey, 'k');
    CHECK(store_session_hold(store, longkey, NOW, NOW + 1000) == STORE_EINVAL);
    CHECK(store_session_get_at(store, "sid", NOW, &out) == 0 && out.rate_limited_until == NOW + 60000);
    CHECK(store_session_hold(store, "sid", NOW, NOW + STORE_HOLD_MAX_MS) == 0);
    CHECK(store_session_get_at(store, "sid", NOW, &out) == 0 && out.rate_limited_until == NOW + STORE_HOLD_MAX_MS);

    //  A missing or expired session is not created or revived.
    CHECK(store_session_hold(store, "gone", NOW, NOW + 1000) == STORE_ENOTFOUND);
    CHECK(store_session_get_at(store, "gone", NOW, &out) == STORE_ENOTFOUND);
    CHECK(store_session_count(store) == 1);
    s_session(&rec, 4, NOW - 1);
    CHECK(store_session_put(store, "old", &rec) == 0);
    CHECK(store_session_hold(store, "old", NOW, NOW + 1000) == STORE_ENOTFOUND);
    CHECK(store_session_get_at(store, "old", NOW - 2, &out) == 0 && out.rate_limited_until == 0);

    //  A refresh completed from a record read before a hold keeps the hold (never lowered);
    //  one that carries a later hold keeps its own.
    s_session(&rec, 5, NOW + HOUR);
    CHECK(store_session_put(store, "ref", &rec) == 0);
    store_session_t got;
    CHECK(store_refresh_claim(store, "ref", 1, NOW, 5000, &got) == 0 && got.rate_limited_until == 0);
    CHECK(store_session_hold(store, "ref", NOW, NOW + 20000) == 0);
    snprintf(got.access_token, sizeof got.access_token, "access-new");
    CHECK(store_refresh_complete(store, "ref", &got) == 0);
    CHECK(got.version == 2 && got.rate_limited_until == NOW + 20000);
    CHECK(store_session_get_at(store, "ref", NOW, &out) == 0);
    CHECK(out.version == 2 && out.rate_limited_until == NOW + 20000 && strcmp(out.access_token, "access-new") == 0);
    CHECK(store_refresh_claim(store, "ref", 2, NOW, 5000, &got) == 0 && got.rate_limited_until == NOW + 20000);
    got.rate_limited_until = NOW + 40000;
    CHECK(store_refresh_complete(store, "ref", &got) == 0 && got.rate_limited_until == NOW + 40000);
    CHECK(store_session_get_at(store, "ref", NOW, &out) == 0 && out.rate_limited_until == NOW + 40000);
    //  The lease's claim and release leave the hold alone.
    CHECK(store_refresh_claim(store, "ref", 3, NOW, 5000, &got) == 0);
    CHECK(store_refresh_release(store, "ref") == 0);
    CHECK(store_session_get_at(store, "ref", NOW, &out) == 0 && out.rate_limited_until == NOW + 40000);

    //  Durable: still there after a reopen.
    store_close(&store);
    store = store_open(s_dir("hold"), 0);
    CHECK(store && store_session_get_at(store, "sid", NOW, &out) == 0
          && out.rate_limited_until == NOW + STORE_HOLD_MAX_MS);
    store_close(&store);
}

static void t_reopen(void)
{
    const char *dir = s_dir("reopen");
    store_t *store = store_open(dir, 0);
    CHECK(store != NULL);
    store_session_t rec, out;
    s_session(&rec, 5, NOW + HOUR);
    CHECK(store_session_put(store, "kept", &rec) == 0);
    store_pending_t p, pout;
    s_pending(&p, "kept", NOW);
    CHECK(store_pending_put(store, "state", &p) == 0);
    store_close(&store);
    store = store_open(dir, 0);
    CHECK(store != NULL);
    CHECK(store_session_get_at(store, "kept", NOW, &out) == 0 && s_session_eq(&rec, &out));
    CHECK(store_pending_take(store, "state", NOW, &pout) == 0 && strcmp(pout.sid, "kept") == 0);
    CHECK(store_test_stale_at_open(store) == 0);
    CHECK(store_reader_check(store) == 0);
    //  A second open of the same directory in this process is refused (it would break LMDB's locks).
    store_t *twice = store_open(dir, 0);
    CHECK(twice == NULL);
    store_close(&store);
    twice = store_open(dir, 0);
    CHECK(twice != NULL);
    store_close(&twice);
}

typedef struct {
    store_t *store;
    int id;
    int failures;
} s_thread_t;

static void *s_thread_main(void *arg)
{
    s_thread_t *t = arg;
    store_session_t rec, out;
    char key[32];
    for (int i = 0; i < 50; i++) {
        s_session(&rec, t->id * 1000 + i, NOW + HOUR);
        snprintf(key, sizeof key, "t%d-%d", t->id, i);
        if (store_session_put(t->store, key, &rec) != 0)
            t->failures++;
        if (store_session_get_at(t->store, key, NOW, &out) != 0 || !s_session_eq(&rec, &out))
            t->failures++;
        if (store_session_count(t->store) < i + 1)
            t->failures++;
    }
    return NULL;
}

static void t_threads(void)
{
    //  One store shared by many threads (MDB_NOTLS).
    store_t *store = store_open(s_dir("threads"), 0);
    CHECK(store != NULL);
    enum { T = 4 };
    pthread_t tid[T];
    s_thread_t args[T];
    for (int i = 0; i < T; i++) {
        args[i] = (s_thread_t){ store, i, 0 };
        CHECK(pthread_create(&tid[i], NULL, s_thread_main, &args[i]) == 0);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(tid[i], NULL);
        CHECK(args[i].failures == 0);
    }
    CHECK(store_session_count(store) == T * 50);
    store_close(&store);
}

//  Group commit: the writes of a batch are visible inside it at once, to other threads only after
//  the one commit; a failing operation inside is undone alone.
typedef struct {
    store_t *store;
    int rc;
} s_peek_t;

static void *s_peek(void *arg)
{
    s_peek_t *p = arg;
    store_session_t rec;
    p->rc = store_session_get_at(p->store, "b1", NOW, &rec);
    return NULL;
}

static void t_batch(void)
{
    store_t *store = store_open(s_dir("batch"), 0);
    CHECK(store != NULL);
    store_session_t rec, out;
    store_pending_t pend, pout;
    s_session(&rec, 1, NOW + HOUR);
    s_pending(&pend, "b1", NOW);
    CHECK(store_batch_begin(store) == 0);
    CHECK(store_batch_begin(store) == STORE_EINVAL);  //  one at a time
    CHECK(store_session_put(store, "b1", &rec) == 0);
    CHECK(store_session_put(store, "", &rec) == STORE_EINVAL);  //  fails alone
    CHECK(store_pending_put(store, "st1", &pend) == 0);
    CHECK(store_session_get_at(store, "b1", NOW, &out) == 0 && s_session_eq(&rec, &out));
    CHECK(store_pending_take(store, "st1", NOW, &pout) == 0);
    CHECK(store_pending_take(store, "st1", NOW, &pout) == STORE_ENOTFOUND);  //  single use inside too
    s_peek_t peek = { store, 99 };
    pthread_t th;
    CHECK(pthread_create(&th, NULL, s_peek, &peek) == 0);
    pthread_join(th, NULL);
    CHECK(peek.rc == STORE_ENOTFOUND);  //  not committed yet: another thread does not see it
    CHECK(store_batch_commit(store) == 0);
    CHECK(store_batch_commit(store) == STORE_EINVAL);  //  none open
    CHECK(pthread_create(&th, NULL, s_peek, &peek) == 0);
    pthread_join(th, NULL);
    CHECK(peek.rc == 0);
    CHECK(store_pending_take(store, "st1", NOW, &pout) == STORE_ENOTFOUND);
    //  An empty batch commits (and costs nothing); a batch left open is dropped at close.
    CHECK(store_batch_begin(store) == 0 && store_batch_commit(store) == 0);
    CHECK(store_batch_begin(store) == 0);
    CHECK(store_session_delete(store, "b1") == 0);
    store_close(&store);
    store = store_open(s_dir("batch"), 0);
    CHECK(store && store_session_get_at(store, "b1", NOW, &out) == 0);
    store_close(&store);
}

//  store_open_existing never makes a store; store_check sees the data directory deleted or replaced under an
//  open store, which then refuses every call (STORE_ELOST) until the same data file is back.
static void t_check_lost(void)
{
    char dir[512], old[600], fake[600];
    snprintf(dir, sizeof dir, "%s", s_dir("check_lost"));
    snprintf(old, sizeof old, "%s.old", dir);
    snprintf(fake, sizeof fake, "%s/data.mdb", dir);
    struct stat st;
    CHECK(store_open_existing(dir, 0) == NULL);
    CHECK(stat(dir, &st) != 0);  //  nothing made
    store_t *store = store_open(dir, 0);
    CHECK(store != NULL);
    store_close(&store);
    store = store_open_existing(dir, 0);
    CHECK(store != NULL);
    store_session_t in, out;
    s_session(&in, 1, NOW + HOUR);
    CHECK(store_session_put(store, "s1", &in) == 0);
    char why[160];
    CHECK(store_check(store, why, sizeof why) == 0 && strcmp(why, "ok") == 0);

    CHECK(rename(dir, old) == 0);  //  deleted (as far as the path goes)
    CHECK(store_check(store, why, sizeof why) == -1 && strstr(why, "deleted"));
    CHECK(!strstr(why, "check_lost"));  //  no path in the reason (/readyz shows it)
    CHECK(store_session_get_at(store, "s1", NOW, &out) == STORE_ELOST);
    CHECK(store_session_put(store, "s2", &in) == STORE_ELOST);
    CHECK(store_batch_begin(store) == STORE_ELOST);

    CHECK(mkdir(dir, 0700) == 0);  //  replaced: another data file at the path
    FILE *f = fopen(fake, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    CHECK(store_check(store, why, sizeof why) == -1 && strstr(why, "replaced"));
    CHECK(store_session_get_at(store, "s1", NOW, &out) == STORE_ELOST);

    CHECK(unlink(fake) == 0 && rmdir(dir) == 0 && rename(old, dir) == 0);  //  the original back
    CHECK(store_check(store, why, sizeof why) == 0);
    CHECK(store_session_get_at(store, "s1", NOW, &out) == 0 && s_session_eq(&in, &out));
    CHECK(store_session_get_at(store, "s2", NOW, &out) == STORE_ENOTFOUND);  //  nothing was written meanwhile
    store_close(&store);
}

//  store_check: a read transaction answers (the /readyz store check); store_stats: the map's use and readers.
static void t_check_and_stats(void)
{
    store_t *store = store_open(s_dir("check"), 0);
    char why[128] = "x";
    CHECK(store_check(store, why, sizeof why) == 0 && strcmp(why, "ok") == 0);
    store_stats_t st;
    CHECK(store_stats(store, &st) == 0 && st.map_used_ratio > 0 && st.map_used_ratio < 0.01 && st.readers <= 256);
    CHECK(store_check(NULL, why, sizeof why) == -1 && strstr(why, "not open"));
    CHECK(store_stats(NULL, &st) == STORE_EIO);
    store_close(&store);
}

//  store_access_get (apisvc's read): the fields an API call needs, never the refresh token; expired, missing,
//  bad ids and a lost store as store_session_get.
static void t_access_get(void)
{
    store_t *store = store_open(s_dir("access_get"), 0);
    CHECK(store != NULL);
    store_session_t in;
    s_session(&in, 3, NOW + HOUR);
    in.rate_limited_until = NOW + 5000;
    CHECK(store_session_put(store, "sid-3", &in) == 0);
    store_access_t out;
    CHECK(store_access_get(store, "sid-3", NOW, &out) == 0);
    CHECK(strcmp(out.env, in.env) == 0 && strcmp(out.access_token, in.access_token) == 0);
    CHECK(strcmp(out.owner_id, in.owner_id) == 0);
    CHECK(out.expires_at == in.expires_at && out.version == in.version && out.rate_limited_until == NOW + 5000);
    //  no byte of the refresh token anywhere in what the caller gets
    CHECK(memmem(&out, sizeof out, in.refresh_token, strlen(in.refresh_token)) == NULL);
    CHECK(store_access_get(store, "sid-3", in.refresh_expires_at, &out) == STORE_ENOTFOUND);
    CHECK(out.access_token[0] == '\0');  //  zeroed on failure
    CHECK(store_access_get(store, "missing", NOW, &out) == STORE_ENOTFOUND);
    CHECK(store_access_get(store, "", NOW, &out) == STORE_EINVAL);
    CHECK(store_access_get(store, "sid-3", NOW, NULL) == STORE_EINVAL);
    store_close(&store);
}

static const test_case_t cases[] = {
    { "access_get", t_access_get },
    { "check_lost", t_check_lost },
    { "batch", t_batch },
    { "check_and_stats", t_check_and_stats },
    { "session_roundtrip", t_session_roundtrip },
    { "pending_roundtrip", t_pending_roundtrip },
    { "bad_arguments", t_bad_arguments },
    { "missing", t_missing },
    { "rotate_delete", t_rotate_delete },
    { "pending_single_use", t_pending_single_use },
    { "pending_expiry", t_pending_expiry },
    { "session_expiry_get", t_session_expiry_get },
    { "sweep_counts", t_sweep_counts },
    { "sweep_batches", t_sweep_batches },
    { "lease", t_lease },
    { "hold", t_hold },
    { "reopen", t_reopen },
    { "threads", t_threads },
};

int main(int argc, char **argv)
{
    //  Store logs at warn and above only (full maps, stale readers, corrupt records).
    log_init("store_test", getenv("STORE_TEST_LOG") ? LOGL_DEBUG : LOGL_WARN);
    return TEST_MAIN(argc, argv, cases);
}
