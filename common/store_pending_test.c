//  store_pending_test: pending logins cannot fill the store. The per-session limit
//  (a 5th login of one session replaces its oldest), the global cap (oldest first), the
//  indexes kept in step by put, take, eviction and sweep, the reserve that keeps room for
//  logged-in sessions, and reopening (including a store written before the indexes).
//
//  Every case works in its own directory under test_tmpdir().
#include "common/log.h"
#include "common/store.h"
#include "common/store_codec.h"
#include "tests/support/store_testutil.h"
#include "tests/testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

//  Put the login state for sid created at t. Returns the store's code.
static int s_put(store_t *store, const char *state, const char *sid, int64_t t)
{
    store_pending_t p;
    s_pending(&p, sid, t);
    return store_pending_put(store, state, &p);
}

//  True when state is still pending (and takes it: single use).
static bool s_take(store_t *store, const char *state, const char *sid)
{
    store_pending_t out;
    return store_pending_take(store, state, NOW, &out) == 0 && strcmp(out.sid, sid) == 0;
}

static void t_per_sid(void)
{
    store_t *store = store_open(s_dir("per_sid"), 0);
    CHECK(store != NULL);
    //  Four tabs of one session: all kept, and another session's logins beside them.
    CHECK(s_put(store, "a1", "sid-a", NOW - 400) == 0);
    CHECK(s_put(store, "b1", "sid-b", NOW - 350) == 0);
    CHECK(s_put(store, "a2", "sid-a", NOW - 300) == 0);
    CHECK(s_put(store, "a3", "sid-a", NOW - 200) == 0);
    CHECK(s_put(store, "a4", "sid-a", NOW - 100) == 0);
    CHECK(s_put(store, "b2", "sid-b", NOW - 50) == 0);
    CHECK(store_pending_count(store) == 6);
    //  The 5th of sid-a replaces its oldest (a1), never sid-b's older one.
    CHECK(s_put(store, "a5", "sid-a", NOW) == 0);
    CHECK(store_pending_count(store) == 6);
    CHECK(!s_take(store, "a1", "sid-a"));
    //  The 6th replaces the next oldest (a2); older logins of other sessions stay.
    CHECK(s_put(store, "a6", "sid-a", NOW + 1) == 0);
    CHECK(!s_take(store, "a2", "sid-a"));
    CHECK(s_take(store, "b1", "sid-b") && s_take(store, "b2", "sid-b"));
    //  A login taken frees its place: a new one evicts nothing.
    CHECK(s_take(store, "a3", "sid-a"));
    CHECK(s_put(store, "a7", "sid-a", NOW + 2) == 0);
    CHECK(store_pending_count(store) == 4);
    CHECK(s_take(store, "a4", "sid-a") && s_take(store, "a5", "sid-a") && s_take(store, "a6", "sid-a")
          && s_take(store, "a7", "sid-a"));
    CHECK(store_pending_count(store) == 0);
    //  Oldest means created first, not put first.
    CHECK(s_put(store, "late", "sid-c", NOW + 10) == 0);
    CHECK(s_put(store, "early", "sid-c", NOW - 10) == 0);
    CHECK(s_put(store, "c3", "sid-c", NOW) == 0 && s_put(store, "c4", "sid-c", NOW) == 0);
    CHECK(s_put(store, "c5", "sid-c", NOW + 20) == 0);
    CHECK(!s_take(store, "early", "sid-c") && s_take(store, "late", "sid-c"));
    //  No session id: refused.
    CHECK(s_put(store, "nosid", "", NOW) == STORE_EINVAL);
    store_close(&store);
}

static void t_global_cap(void)
{
    store_t *store = store_open(s_dir("global_cap"), 0);
    CHECK(store != NULL);
    store_pending_set_max(store, 10);
    char state[32], sid[32];
    //  15 sessions, one login each, created out of order (every odd one a minute earlier).
    for (int i = 0; i < 15; i++) {
        snprintf(state, sizeof state, "state-%02d", i);
        snprintf(sid, sizeof sid, "sid-%02d", i);
        CHECK(s_put(store, state, sid, NOW + i * 1000 - (i % 2 ? 60000 : 0)) == 0);
        CHECK(store_pending_count(store) == (i < 10 ? i + 1 : 10));
    }
    //  The five evicted are the five created first: the odd ones 1, 3, 5, 7, 9.
    int kept = 0;
    for (int i = 0; i < 15; i++) {
        snprintf(state, sizeof state, "state-%02d", i);
        snprintf(sid, sizeof sid, "sid-%02d", i);
        bool was = s_take(store, state, sid);
        kept += was;
        if (!CHECK(was == !(i % 2 && i < 10)))
            printf("#   login %d %s\n", i, was ? "kept" : "evicted");
    }
    CHECK(kept == 10);
    CHECK(store_pending_count(store) == 0);
    //  The cap set back to the default.
    store_pending_set_max(store, 0);
    for (int i = 0; i < 20; i++) {
        snprintf(state, sizeof state, "again-%02d", i);
        snprintf(sid, sizeof sid, "sid-%02d", i);
        CHECK(s_put(store, state, sid, NOW) == 0);
    }
    CHECK(store_pending_count(store) == 20);
    store_close(&store);
}

static void t_sweep_index(void)
{
    store_t *store = store_open(s_dir("sweep_index"), 0);
    CHECK(store != NULL);
    enum { N = 1000 };
    char state[32], sid[32];
    //  Expired and live logins interleaved in key order and in time; 4 per session.
    for (int i = 0; i < N; i++) {
        snprintf(state, sizeof state, "state-%04d", (i * 7919) % N);
        snprintf(sid, sizeof sid, "sid-%03d", i / 4);
        int64_t t = i % 3 == 0 ? NOW - STORE_PENDING_TTL_MS - i : NOW - i;
        CHECK(s_put(store, state, sid, t) == 0);
    }
    CHECK(store_pending_count(store) == N);
    size_t ns = 9, np = 0;
    CHECK(store_sweep(store, NOW, &ns, &np) == 0);
    CHECK(ns == 0 && np == (N + 2) / 3);
    CHECK(store_pending_count(store) == N - (int64_t) np);
    CHECK(store_sweep(store, NOW, &ns, &np) == 0 && np == 0);
    //  The session indexes lost the swept ones too: each session has room again for what was swept.
    //  sid-000 had logins 0..3, of which 0 and 3 expired: two new ones evict nothing.
    CHECK(s_put(store, "new-1", "sid-000", NOW) == 0 && s_put(store, "new-2", "sid-000", NOW) == 0);
    snprintf(state, sizeof state, "state-%04d", (1 * 7919) % N);
    CHECK(s_take(store, state, "sid-000"));
    snprintf(state, sizeof state, "state-%04d", (2 * 7919) % N);
    CHECK(s_take(store, state, "sid-000"));
    //  Everything expires in the end.
    CHECK(store_sweep(store, NOW + STORE_PENDING_TTL_MS, &ns, &np) == 0);
    CHECK(store_pending_count(store) == 0);
    store_close(&store);
}

static void t_reserve(void)
{
    //  A 1 MiB map: pending logins may use what leaves store_reserve() free, then are refused.
    size_t map = (size_t) 1 << 20;
    CHECK(store_reserve(map) == map / 2);
    CHECK(store_reserve((size_t) 4 << 20) == (size_t) 1 << 20);
    CHECK(store_reserve((size_t) 256 << 20) == (size_t) 32 << 20);
    store_t *store = store_open(s_dir("reserve"), map);
    CHECK(store != NULL);
    //  Logged-in sessions from before.
    store_session_t rec, out;
    char sid[32], state[64];
    for (int i = 0; i < 8; i++) {
        s_session(&rec, i, NOW + HOUR);
        snprintf(sid, sizeof sid, "user-%d", i);
        CHECK(store_session_put(store, sid, &rec) == 0);
    }
    int n = 0, rc = 0;
    for (; n < 100000; n++) {
        snprintf(state, sizeof state, "flood-state-%06d-padding-to-43-bytes-like-rand", n);
        snprintf(sid, sizeof sid, "flood-sid-%06d", n);
        if ((rc = s_put(store, state, sid, NOW + n)) != 0)
            break;
    }
    CHECK(rc == STORE_EFULL);
    CHECK(n > 500);
    printf("#   1 MiB map: %d pending logins before the reserve\n", n);
    //  A refused login changes nothing (its session's or the cap's evictions are undone too).
    CHECK(store_pending_count(store) == n);
    CHECK(s_put(store, "refused", "flood-sid-000000", NOW + n) == STORE_EFULL);
    CHECK(store_pending_count(store) == n);
    //  Every write of a logged-in session still fits: new sessions (code exchange), a refresh
    //  (claim, complete), holds, a release, logouts.
    for (int i = 0; i < 20; i++) {
        s_session(&rec, 100 + i, NOW + HOUR);
        snprintf(sid, sizeof sid, "new-user-%d", i);
        CHECK(store_session_rotate(store, "flood-sid-000001", sid, &rec) == 0);
    }
    CHECK(store_refresh_claim(store, "user-1", 1, NOW, 5000, &out) == 0);
    s_fill(out.access_token, 900, 'A');
    s_fill(out.refresh_token, 900, 'R');
    CHECK(store_refresh_complete(store, "user-1", &out) == 0 && out.version == 2);
    CHECK(store_refresh_claim(store, "user-2", 1, NOW, 5000, &out) == 0);
    CHECK(store_refresh_extend(store, "user-2", 1, NOW + 1000, 5000) == 0);
    CHECK(store_refresh_release(store, "user-2") == 0);
    CHECK(store_session_hold(store, "user-3", NOW, NOW + 60000) == 0);
    CHECK(store_session_delete(store, "user-4") == 0);
    CHECK(store_session_get_at(store, "user-1", NOW, &out) == 0 && out.version == 2 && out.access_token[0] == 'A');
    //  Still no new pending login; taking one works (single use) and frees room for one.
    CHECK(s_put(store, "refused", "someone", NOW + n) == STORE_EFULL);
    CHECK(s_take(store, "flood-state-000010-padding-to-43-bytes-like-rand", "flood-sid-000010"));
    //  When the flood has expired the sweep empties the pending databases and logins work again.
    size_t np = 0;
    CHECK(store_sweep(store, NOW + n + STORE_PENDING_TTL_MS, NULL, &np) == 0);
    CHECK((int) np == n - 1);
    CHECK(store_pending_count(store) == 0);
    CHECK(s_put(store, "after", "someone", NOW + n + STORE_PENDING_TTL_MS) == 0);
    CHECK(store_session_get_at(store, "new-user-19", NOW, &out) == 0);
    store_close(&store);
}

//  The state and session id (43 bytes each, 64-byte buffers) of login i, scattered in key order.
static void s_names(char *state, char *sid, int i)
{
    unsigned scattered = (unsigned) i * 2654435761u;  //  odd multiplier: one-to-one
    snprintf(state, 64, "S%042u", scattered);
    snprintf(sid, 64, "I%042u", scattered);
}

//  Under AddressSanitizer each login costs about 3 ms (the nested transaction of each put
//  allocates LMDB's 2 MiB dirty list, which ASan maps, poisons and quarantines afresh: 150 s for
//  the case). There it writes a tenth of the cap and checks that tenth of the space; the plain
//  build (make test) writes the whole cap.
#if defined(__SANITIZE_ADDRESS__)
enum { SPACE_CAP = STORE_PENDING_MAX / 10 };
#else
enum { SPACE_CAP = STORE_PENDING_MAX };
#endif

static void t_space(void)
{
    //  At the default map the count cap comes first: SPACE_CAP logins (written in batches, for
    //  speed) use a fraction of what the reserve leaves them, and one more evicts.
    store_t *store = store_open(s_dir("space"), 0);
    CHECK(store != NULL);
    store_pending_set_max(store, SPACE_CAP);
    char state[64], sid[64];
    int rc = 0;
    for (int i = 0; rc == 0 && i < SPACE_CAP + 100; i++) {
        if (i % 5000 == 0)
            CHECK(store_batch_begin(store) == 0);
        //  43-byte states and ids, as rand_id makes them, in random key order; one login per session, the worst case.
        s_names(state, sid, i);
        rc = s_put(store, state, sid, NOW + i);
        if (i % 5000 == 4999 || i == SPACE_CAP + 99)
            CHECK(store_batch_commit(store) == 0);
    }
    CHECK(rc == 0);
    CHECK(store_pending_count(store) == SPACE_CAP);
    struct stat st;
    char path[600];
    snprintf(path, sizeof path, "%s/data.mdb", s_dir("space"));
    CHECK(stat(path, &st) == 0);
    size_t allowed = STORE_DEFAULT_MAP_SIZE - store_reserve(STORE_DEFAULT_MAP_SIZE);
    size_t share = allowed / STORE_PENDING_MAX * SPACE_CAP;  //  what SPACE_CAP logins may use
    printf("#   %d pending logins: data.mdb %lld KiB of the %zu KiB they may use\n", SPACE_CAP,
           (long long) st.st_size >> 10, share >> 10);
    CHECK((size_t) st.st_size < share / 2);
    //  The oldest went first.
    s_names(state, sid, 99);
    CHECK(!s_take(store, state, sid));
    s_names(state, sid, 100);
    CHECK(s_take(store, state, sid));
    store_close(&store);
}

static void t_reopen_reindex(void)
{
    const char *dir = s_dir("reopen_reindex");
    store_t *store = store_open(dir, 0);
    CHECK(store != NULL);
    for (int i = 0; i < 4; i++) {
        char state[16];
        snprintf(state, sizeof state, "tab-%d", i);
        CHECK(s_put(store, state, "sid-r", NOW + i) == 0);
    }
    //  Two logins written as a store before the indexes would have: records only.
    store_pending_t p;
    char buf[STORE_CODEC_MAX];
    size_t len;
    store_codec_ctx_t ctx = { 0 };
    s_pending(&p, "sid-old", NOW - STORE_PENDING_TTL_MS);
    CHECK(store_codec_pending_encode(&ctx, &p, buf, sizeof buf, &len) == 0);
    CHECK(store_test_put_raw(store, "pending", "old-expired", buf, len) == 0);
    s_pending(&p, "sid-r", NOW - 5);
    CHECK(store_codec_pending_encode(&ctx, &p, buf, sizeof buf, &len) == 0);
    CHECK(store_test_put_raw(store, "pending", "old-live", buf, len) == 0);
    CHECK(store_test_put_raw(store, "pending", "old-corrupt", "\x80", 1) == 0);
    store_close(&store);
    //  Reopened: the indexes are rebuilt (the corrupt one dropped), then everything works through them.
    store = store_open(dir, 0);
    CHECK(store != NULL);
    CHECK(store_pending_count(store) == 6);
    size_t np = 0;
    CHECK(store_sweep(store, NOW, NULL, &np) == 0 && np == 1);
    //  sid-r has 5 now (old-live the oldest): a new one leaves it 4, evicting old-live and tab-0.
    CHECK(s_put(store, "tab-4", "sid-r", NOW + 4) == 0);
    CHECK(!s_take(store, "old-live", "sid-r") && !s_take(store, "tab-0", "sid-r"));
    CHECK(s_take(store, "tab-1", "sid-r"));
    store_close(&store);
    //  Reopened again: nothing to rebuild, the state carries over.
    store = store_open(dir, 0);
    CHECK(store != NULL);
    CHECK(store_pending_count(store) == 3);
    CHECK(s_take(store, "tab-4", "sid-r"));
    CHECK(store_sweep(store, NOW + HOUR, NULL, &np) == 0 && np == 2);
    CHECK(store_pending_count(store) == 0);
    store_close(&store);
}

//  A login taken only by the session that started it (or that session before its rotation): another
//  session's attempt leaves it in place, indexes included, for its owner to complete.
static void t_take_owned(void)
{
    store_t *store = store_open(s_dir("take_owned"), 0);
    CHECK(store != NULL);
    store_pending_t out;
    CHECK(s_put(store, "st-a", "sid-a", NOW) == 0);
    //  Another session: refused, nothing changed, nothing returned.
    CHECK(store_pending_take_owned(store, "st-a", "sid-b", NULL, NOW, &out) == STORE_EPERM);
    CHECK(out.sid[0] == 0 && out.code_verifier[0] == 0);
    CHECK(store_pending_take_owned(store, "st-a", "sid-b", "sid-c", NOW, &out) == STORE_EPERM);
    CHECK(store_pending_take_owned(store, "st-a", "sid-b", "", NOW, &out) == STORE_EPERM);
    CHECK(store_pending_count(store) == 1);
    //  The owner: taken once (single use), with its record.
    CHECK(store_pending_take_owned(store, "st-a", "sid-a", NULL, NOW, &out) == 0);
    CHECK(strcmp(out.sid, "sid-a") == 0 && strcmp(out.code_verifier, "verifier-for-sid-a") == 0);
    CHECK(store_pending_take_owned(store, "st-a", "sid-a", NULL, NOW, &out) == STORE_ENOTFOUND);
    CHECK(store_pending_count(store) == 0);
    //  The owner's session rotated (another tab logged in): the new sid names the old one as prev_sid.
    CHECK(s_put(store, "st-r", "sid-old", NOW) == 0);
    CHECK(store_pending_take_owned(store, "st-r", "sid-new", "sid-old", NOW, &out) == 0);
    CHECK(strcmp(out.sid, "sid-old") == 0);
    //  Expired: deleted and not found, for the owner as for take.
    CHECK(s_put(store, "st-x", "sid-a", NOW - STORE_PENDING_TTL_MS - 1) == 0);
    CHECK(store_pending_take_owned(store, "st-x", "sid-a", NULL, NOW, &out) == STORE_ENOTFOUND);
    CHECK(store_pending_count(store) == 0);
    //  Unknown state, bad arguments.
    CHECK(store_pending_take_owned(store, "st-none", "sid-a", NULL, NOW, &out) == STORE_ENOTFOUND);
    CHECK(store_pending_take_owned(store, "st-a", "", NULL, NOW, &out) == STORE_EINVAL);
    CHECK(store_pending_take_owned(store, "st-a", NULL, NULL, NOW, &out) == STORE_EINVAL);
    CHECK(store_pending_take_owned(store, "", "sid-a", NULL, NOW, &out) == STORE_EINVAL);
    //  A corrupt record is deleted, whoever asks (it can never complete).
    CHECK(store_test_put_raw(store, "pending", "st-bad", "\xc1", 1) == 0);
    CHECK(store_pending_take_owned(store, "st-bad", "sid-b", NULL, NOW, &out) == STORE_EINVAL);
    CHECK(store_pending_take_owned(store, "st-bad", "sid-b", NULL, NOW, &out) == STORE_ENOTFOUND);
    //  The refused attempt left the indexes whole: the per-session limit and the sweep still count it.
    CHECK(s_put(store, "st-k", "sid-k", NOW) == 0);
    CHECK(store_pending_take_owned(store, "st-k", "sid-other", NULL, NOW, &out) == STORE_EPERM);
    size_t np = 0;
    CHECK(store_sweep(store, NOW + STORE_PENDING_TTL_MS + 1, NULL, &np) == 0 && np == 1);
    CHECK(store_pending_count(store) == 0);
    store_close(&store);
}

static const test_case_t cases[] = {
    { "take_owned", t_take_owned },         { "per_sid", t_per_sid }, { "global_cap", t_global_cap },
    { "sweep_index", t_sweep_index },       { "reserve", t_reserve }, { "space", t_space },
    { "reopen_reindex", t_reopen_reindex },
};

int main(int argc, char **argv)
{
    log_init("store_pending_test", getenv("STORE_TEST_LOG") ? LOGL_DEBUG : LOGL_WARN);
    return TEST_MAIN(argc, argv, cases);
}
