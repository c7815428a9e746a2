//  store_seal_test: the store with a key ring: secrets never in the data file, records that do not open
//  (moved under another id, tampered, plaintext from before sealing, a retired key) are lost cleanly,
//  a read opens only the fields it asks for, and a rotation re-seals every record in small steps.
#include "common/log.h"
#include "common/seal.h"
#include "common/store.h"
#include "common/store_codec.h"
#include "tests/support/store_testutil.h"
#include "tests/support/seal_testutil.h"
#include "tests/testlib.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

//  Whether the bytes of s appear anywhere in the file at path (free pages included).
static bool s_file_has(const char *path, const char *s)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t) size);
    bool found = buf && fread(buf, 1, (size_t) size, f) == (size_t) size && memmem(buf, (size_t) size, s, strlen(s));
    free(buf);
    fclose(f);
    return found;
}

typedef struct {
    char dir[512];
    char keys[600];
    seal_ring_t *ring;
    store_t *store;
} s_env_t;

static void s_env_open(s_env_t *e, const char *name, const uint32_t *ids, size_t n)
{
    snprintf(e->dir, sizeof e->dir, "%s", s_dir(name));
    e->store = store_open(e->dir, 0);
    CHECK(e->store != NULL);
    snprintf(e->keys, sizeof e->keys, "%s/keys", e->dir);
    test_write_ring(e->keys, ids, n);
    e->ring = seal_ring_load(e->keys);
    CHECK(e->ring != NULL);
    store_set_ring(e->store, e->ring);
}

static void s_env_close(s_env_t *e)
{
    store_close(&e->store);
    seal_ring_destroy(&e->ring);
}

static void t_no_secret_in_file(void)
{
    s_env_t e;
    s_env_open(&e, "no_secret", (uint32_t[]){ 1 }, 1);
    store_session_t in, out;
    s_session(&in, 1, NOW + HOUR);
    snprintf(in.access_token, sizeof in.access_token, "ACCESS-TOKEN-SECRET-1");
    snprintf(in.refresh_token, sizeof in.refresh_token, "REFRESH-TOKEN-SECRET-1");
    CHECK(store_session_put(e.store, "sid-1", &in) == 0);
    CHECK(store_session_get_at(e.store, "sid-1", NOW, &out) == 0);
    CHECK(s_session_eq(&in, &out));
    store_pending_t p, q;
    s_pending(&p, "sid-1", NOW);
    snprintf(p.code_verifier, sizeof p.code_verifier, "PKCE-VERIFIER-SECRET-1");
    CHECK(store_pending_put(e.store, "state-1", &p) == 0);
    CHECK(store_pending_take(e.store, "state-1", NOW, &q) == 0);
    CHECK(strcmp(q.code_verifier, p.code_verifier) == 0);
    //  A refresh (claim, complete) and a hold rewrite the record: sealed again each time.
    CHECK(store_refresh_claim(e.store, "sid-1", 1, NOW, 1000, &out) == 0);
    snprintf(out.access_token, sizeof out.access_token, "ACCESS-TOKEN-SECRET-2");
    snprintf(out.refresh_token, sizeof out.refresh_token, "REFRESH-TOKEN-SECRET-2");
    CHECK(store_refresh_complete(e.store, "sid-1", &out) == 0);
    CHECK(store_session_hold(e.store, "sid-1", NOW, NOW + 1000) == 0);
    CHECK(store_session_get_at(e.store, "sid-1", NOW, &out) == 0);
    CHECK(strcmp(out.refresh_token, "REFRESH-TOKEN-SECRET-2") == 0 && out.rate_limited_until == NOW + 1000);
    CHECK(store_session_rotate(e.store, "sid-1", "sid-2", &out) == 0);
    CHECK(store_session_get_at(e.store, "sid-2", NOW, &out) == 0);
    char data[600];
    snprintf(data, sizeof data, "%s/data.mdb", e.dir);
    s_env_close(&e);
    CHECK(!s_file_has(data, "TOKEN-SECRET") && !s_file_has(data, "VERIFIER-SECRET"));
    CHECK(s_file_has(data, "owner-1"));  //  what is not secret stays in the clear (the check is not blind)
}

//  A record moved under another session id, tampered with, or plaintext: lost (not found), the others fine.
static void t_lost_records(void)
{
    s_env_t e;
    s_env_open(&e, "lost", (uint32_t[]){ 1 }, 1);
    store_session_t a, b, out;
    s_session(&a, 1, NOW + HOUR);
    s_session(&b, 2, NOW + HOUR);
    CHECK(store_session_put(e.store, "sid-a", &a) == 0);
    CHECK(store_session_put(e.store, "sid-b", &b) == 0);
    //  A's record, as the store would write it, placed under another id.
    char buf[STORE_CODEC_MAX];
    size_t len;
    store_codec_ctx_t ctx = { .ring = e.ring, .key = "sid-a" };
    CHECK(store_codec_session_encode(&ctx, &a, buf, sizeof buf, &len) == 0);
    CHECK(store_test_put_raw(e.store, "sessions", "sid-moved", buf, len) == 0);
    CHECK(store_session_get_at(e.store, "sid-moved", NOW, &out) == STORE_ENOTFOUND);
    CHECK(out.access_token[0] == '\0' && out.refresh_token[0] == '\0');
    //  One byte flipped in a sealed field: every position of the token's ciphertext.
    char *at = memmem(buf, len, "\x01\x00\x00\x00\x01", 5);  //  a sealed field's header: version 1, key id 1
    CHECK(at != NULL);
    int opened = 0;
    for (size_t i = 0; at && i < SEAL_OVERHEAD + strlen(a.access_token); i++) {
        at[i] ^= 0x20;
        CHECK(store_test_put_raw(e.store, "sessions", "sid-tampered", buf, len) == 0);
        if (store_session_get_at(e.store, "sid-tampered", NOW, &out) != STORE_ENOTFOUND)
            opened++;
        at[i] ^= 0x20;
    }
    CHECK(opened == 0);
    //  Plaintext (written before sealing, or planted): lost too.
    store_codec_ctx_t plain = { 0 };
    CHECK(store_codec_session_encode(&plain, &a, buf, sizeof buf, &len) == 0);
    CHECK(store_test_put_raw(e.store, "sessions", "sid-plain", buf, len) == 0);
    CHECK(store_session_get_at(e.store, "sid-plain", NOW, &out) == STORE_ENOTFOUND);
    CHECK(store_session_hold(e.store, "sid-plain", NOW, NOW + 1000) == STORE_ENOTFOUND);
    //  The others work.
    CHECK(store_session_get_at(e.store, "sid-a", NOW, &out) == 0 && s_session_eq(&a, &out));
    CHECK(store_session_get_at(e.store, "sid-b", NOW, &out) == 0 && s_session_eq(&b, &out));
    //  The sweep reads expiry without opening anything: it still deletes expired records.
    size_t swept = 0;
    CHECK(store_sweep(e.store, NOW + 2 * HOUR, &swept, NULL) == 0 && swept == 5);
    s_env_close(&e);
}

//  A decode opens only what it is asked for: the access token alone leaves the refresh token unopened.
static void t_open_only_asked(void)
{
    s_env_t e;
    s_env_open(&e, "open_only", (uint32_t[]){ 4 }, 1);
    store_session_t a, out;
    s_session(&a, 1, NOW + HOUR);
    char buf[STORE_CODEC_MAX];
    size_t len;
    store_codec_ctx_t ctx = { .ring = e.ring, .key = "sid-a" };
    CHECK(store_codec_session_encode(&ctx, &a, buf, sizeof buf, &len) == 0);
    ctx.open = STORE_CODEC_OPEN_ACCESS;
    CHECK(store_codec_session_decode(&ctx, buf, len, &out) == 0);
    CHECK(strcmp(out.access_token, a.access_token) == 0 && out.refresh_token[0] == '\0' && ctx.key_id == 4);
    CHECK(strcmp(out.owner_id, a.owner_id) == 0);
    ctx.open = 0;
    CHECK(store_codec_session_decode(&ctx, buf, len, &out) == 0 && out.access_token[0] == '\0');
    //  A sealed record where no ring is in use does not open.
    store_codec_ctx_t none = { .key = "sid-a", .open = STORE_CODEC_OPEN_ALL };
    CHECK(store_codec_session_decode(&none, buf, len, &out) == STORE_EINVAL);
    //  Sealed for another record key: lost, with the reason.
    ctx.key = "sid-b";
    ctx.open = STORE_CODEC_OPEN_ALL;
    CHECK(store_codec_session_decode(&ctx, buf, len, &out) == STORE_ENOTFOUND && ctx.seal_rc == SEAL_EAUTH);
    s_env_close(&e);
}

static void s_usage(store_t *store, size_t *id1, size_t *id2, size_t *other)
{
    uint32_t ids[8];
    size_t counts[8], n = 0;
    *id1 = *id2 = *other = 0;
    CHECK(store_key_usage(store, ids, counts, 8, &n) == 0);
    for (size_t i = 0; i < n; i++)
        *(ids[i] == 1 ? id1 : ids[i] == 2 ? id2 : other) += counts[i];
}

//  A rotation: add key 2 first, re-seal in steps of 100 while writes go on, retire key 1: everything opens.
static void t_rotation(void)
{
    s_env_t e;
    s_env_open(&e, "rotation", (uint32_t[]){ 1 }, 1);
    enum { N = 250, P = 20 };
    store_session_t rec, out;
    char sid[32];
    for (int i = 0; i < N; i++) {
        snprintf(sid, sizeof sid, "sid-%03d", i);
        s_session(&rec, i, NOW + HOUR);
        CHECK(store_session_put(e.store, sid, &rec) == 0);
    }
    store_pending_t p, q;
    for (int i = 0; i < P; i++) {
        snprintf(sid, sizeof sid, "state-%02d", i);
        s_pending(&p, sid, NOW);
        CHECK(store_pending_put(e.store, sid, &p) == 0);
    }
    //  Plaintext from before sealing: dropped by the walk (nobody can read it).
    char buf[STORE_CODEC_MAX];
    size_t len, id1, id2, other;
    store_codec_ctx_t plain = { 0 };
    CHECK(store_codec_session_encode(&plain, &rec, buf, sizeof buf, &len) == 0);
    CHECK(store_test_put_raw(e.store, "sessions", "sid-legacy", buf, len) == 0);
    s_usage(e.store, &id1, &id2, &other);
    CHECK(id1 == N + P && id2 == 0 && other == 1);
    store_reseal_t r;
    CHECK(store_reseal_step(e.store, 100, &r) == 0);  //  nothing under another key but the legacy one
    test_write_ring(e.keys, (uint32_t[]){ 2, 1 }, 2);
    CHECK(seal_ring_refresh(e.ring) == 1);
    int steps = 0, clean = 0;
    size_t resealed = 0, dropped = 0;
    while (clean == 0 && steps < 50) {
        CHECK(store_reseal_step(e.store, 100, &r) == 0);
        CHECK(r.visited <= 100);
        resealed += r.resealed;
        dropped += r.dropped;
        steps++;
        clean = r.clean;
        //  Writes meanwhile (sealed with key 2 already) and reads of records under either key.
        snprintf(sid, sizeof sid, "sid-%03d", (steps * 37) % N);
        CHECK(store_session_hold(e.store, sid, NOW, NOW + steps) == 0);
        snprintf(sid, sizeof sid, "sid-%03d", N - 1 - steps);
        CHECK(store_session_get_at(e.store, sid, NOW, &out) == 0);
    }
    CHECK(clean == 1);
    CHECK(resealed <= N + P && resealed + 3 >= N + P - 1 && dropped == 1);
    s_usage(e.store, &id1, &id2, &other);
    CHECK(id1 == 0 && id2 == N + P && other == 0);
    //  Key 1 retired: every record opens with key 2 alone.
    test_write_ring(e.keys, (uint32_t[]){ 2 }, 1);
    CHECK(seal_ring_refresh(e.ring) == 1);
    for (int i = 0; i < N; i++) {
        snprintf(sid, sizeof sid, "sid-%03d", i);
        s_session(&rec, i, NOW + HOUR);
        if (!CHECK(store_session_get_at(e.store, sid, NOW, &out) == 0))
            break;
        CHECK(strcmp(out.access_token, rec.access_token) == 0 && strcmp(out.refresh_token, rec.refresh_token) == 0);
    }
    for (int i = 0; i < P; i++) {
        snprintf(sid, sizeof sid, "state-%02d", i);
        CHECK(store_pending_take(e.store, sid, NOW, &q) == 0);
        snprintf(buf, sizeof buf, "verifier-for-%s", sid);
        CHECK(strcmp(q.code_verifier, buf) == 0);
    }
    s_env_close(&e);
}

static double s_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

//  What sealing costs a record: encode and decode of a session with 100-character tokens, in plaintext and sealed
//  (two fields sealed, both opened), printed for docs/BENCHMARKS.md. The bound is loose
//  (a loaded machine): the point is the figure.
static void t_codec_cost(void)
{
    s_env_t e;
    s_env_open(&e, "cost", (uint32_t[]){ 1 }, 1);
    store_session_t rec, out;
    s_session(&rec, 1, NOW + HOUR);
    s_fill(rec.access_token, 100, 'a');
    s_fill(rec.refresh_token, 100, 'r');
    char buf[STORE_CODEC_MAX];
    size_t len;
    enum { N = 20000 };
    double enc[2], dec[2];
    for (int sealed = 0; sealed < 2; sealed++) {
        store_codec_ctx_t ctx = { .ring = sealed ? e.ring : NULL, .key = "sid-cost", .open = STORE_CODEC_OPEN_ALL };
        double t0 = s_mono_us();
        for (int i = 0; i < N; i++)
            CHECK(store_codec_session_encode(&ctx, &rec, buf, sizeof buf, &len) == 0);
        double t1 = s_mono_us();
        for (int i = 0; i < N; i++)
            CHECK(store_codec_session_decode(&ctx, buf, len, &out) == 0);
        enc[sealed] = (t1 - t0) / N;
        dec[sealed] = (s_mono_us() - t1) / N;
    }
    CHECK(strcmp(out.refresh_token, rec.refresh_token) == 0);
    printf("# codec cost per session record: encode %.2f us plaintext, %.2f us sealed; decode %.2f us plaintext, "
           "%.2f us sealed (both tokens opened)\n",
           enc[0], enc[1], dec[0], dec[1]);
    CHECK(enc[1] < 200 && dec[1] < 200);
    s_env_close(&e);
}

static const test_case_t cases[] = {
    { "codec_cost", t_codec_cost },     { "no_secret_in_file", t_no_secret_in_file },
    { "lost_records", t_lost_records }, { "open_only_asked", t_open_only_asked },
    { "rotation", t_rotation },
};

int main(int argc, char **argv)
{
    log_init("store_seal_test", LOGL_ERROR);
    return TEST_MAIN(argc, argv, cases);
}
