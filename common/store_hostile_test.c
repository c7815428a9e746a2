//  store_hostile_test: the LMDB token store against what it must survive: records
//  that are not what it wrote (corrupt or foreign bytes, wrong types, missing or
//  extra fields) and a map that is full. (Normal operation: store_test.c.)
//
//  Every case works in its own directory under test_tmpdir().
#include "common/log.h"
#include "common/store.h"
#include "tests/support/store_testutil.h"
#include "tests/testlib.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  msgpack of a map with the given (key, value-writer) pairs, for corrupt records.
typedef struct {
    char buf[16384];
    size_t len;
} s_raw_t;

static int s_raw_write(void *data, const char *buf, size_t len)
{
    s_raw_t *r = data;
    if (len > sizeof r->buf - r->len)
        return -1;
    memcpy(r->buf + r->len, buf, len);
    r->len += len;
    return 0;
}

static void s_pack_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

//  A session map with field `skip` left out and field `odd` written as `kind`:
//  'b' a bool, 'l' a string one byte too long, 'z' a string with a NUL, 'n' -1.
static void s_raw_session(s_raw_t *r, const char *skip, const char *odd, char kind, bool extra)
{
    static const char *names[] = { "env",      "access_token", "refresh_token", "expires_at",      "refresh_expires_at",
                                   "owner_id", "scope",        "version",       "refreshing_until" };
    static char toolong[STORE_TOKEN_MAX + 1];
    s_fill(toolong, sizeof toolong, 't');  //  STORE_TOKEN_MAX characters: no room for the NUL
    r->len = 0;
    msgpack_packer pk;
    msgpack_packer_init(&pk, r, s_raw_write);
    size_t n = 9 - (skip ? 1 : 0) + (extra ? 1 : 0);
    msgpack_pack_map(&pk, n);
    for (int i = 0; i < 9; i++) {
        if (skip && strcmp(names[i], skip) == 0)
            continue;
        s_pack_str(&pk, names[i]);
        if (odd && strcmp(names[i], odd) == 0) {
            if (kind == 'b')
                msgpack_pack_true(&pk);
            else if (kind == 'l')
                s_pack_str(&pk, toolong);
            else if (kind == 'z')
                msgpack_pack_str_with_body(&pk, "a\0b", 3);
            else
                msgpack_pack_int64(&pk, -1);
        }
        else if (i < 3 || i == 5 || i == 6)
            s_pack_str(&pk, "x");
        else
            msgpack_pack_int64(&pk, NOW + HOUR);
    }
    if (extra) {
        s_pack_str(&pk, "added_later");
        msgpack_pack_array(&pk, 1);
        msgpack_pack_nil(&pk);
    }
}

static void t_corrupt_records(void)
{
    store_t *store = store_open(s_dir("corrupt"), 0);
    CHECK(store != NULL);
    store_session_t out;
    s_raw_t *r = calloc(1, sizeof *r);
    //  The well-formed map decodes; an unknown extra field is skipped.
    s_raw_session(r, NULL, NULL, 0, false);
    CHECK(store_test_put_raw(store, "sessions", "good", r->buf, r->len) == 0);
    CHECK(store_session_get_at(store, "good", NOW, &out) == 0 && strcmp(out.scope, "x") == 0);
    //  ... a record from before rate_limited_until existed: no hold; one can be set (the field is added).
    CHECK(out.rate_limited_until == 0 && out.prev_sid[0] == '\0');
    CHECK(store_session_hold(store, "good", NOW, NOW + 5000) == 0);
    CHECK(store_session_get_at(store, "good", NOW, &out) == 0 && out.rate_limited_until == NOW + 5000);
    CHECK(strcmp(out.scope, "x") == 0 && out.version == (uint64_t) (NOW + HOUR));
    s_raw_session(r, NULL, NULL, 0, true);
    CHECK(store_test_put_raw(store, "sessions", "extra", r->buf, r->len) == 0);
    CHECK(store_session_get_at(store, "extra", NOW, &out) == 0);

    const char *bad[] = { "missing",  "wrongtype",  "wrongint",   "garbage",          "empty",   "huge_array",
                          "trailing", "long_token", "nul_in_str", "negative_version", "deep",    "not_a_map",
                          "dup",      "truncated",  "huge_str",   "hold_wrongtype",   "hold_dup" };
    s_raw_session(r, "refresh_token", NULL, 0, false);
    CHECK(store_test_put_raw(store, "sessions", bad[0], r->buf, r->len) == 0);
    s_raw_session(r, NULL, "access_token", 'b', false);
    CHECK(store_test_put_raw(store, "sessions", bad[1], r->buf, r->len) == 0);
    s_raw_session(r, NULL, "version", 'b', false);
    CHECK(store_test_put_raw(store, "sessions", bad[2], r->buf, r->len) == 0);
    CHECK(store_test_put_raw(store, "sessions", bad[3], "\xc1\xff\x00junk", 7) == 0);
    CHECK(store_test_put_raw(store, "sessions", bad[4], "", 0) == 0);
    //  An array claiming 4 billion elements in 5 bytes: refused before any allocation.
    CHECK(store_test_put_raw(store, "sessions", bad[5], "\xdd\xff\xff\xff\xff", 5) == 0);
    s_raw_session(r, NULL, NULL, 0, false);
    r->buf[r->len++] = '\x01';
    CHECK(store_test_put_raw(store, "sessions", bad[6], r->buf, r->len) == 0);
    s_raw_session(r, NULL, "refresh_token", 'l', false);
    CHECK(store_test_put_raw(store, "sessions", bad[7], r->buf, r->len) == 0);
    s_raw_session(r, NULL, "env", 'z', false);
    CHECK(store_test_put_raw(store, "sessions", bad[8], r->buf, r->len) == 0);
    s_raw_session(r, NULL, "version", 'n', false);
    CHECK(store_test_put_raw(store, "sessions", bad[9], r->buf, r->len) == 0);
    msgpack_packer pk;
    msgpack_packer_init(&pk, r, s_raw_write);
    r->len = 0;
    for (int i = 0; i < 200; i++)
        msgpack_pack_array(&pk, 1);
    msgpack_pack_nil(&pk);
    CHECK(store_test_put_raw(store, "sessions", bad[10], r->buf, r->len) == 0);
    r->len = 0;
    s_pack_str(&pk, "just a string");
    CHECK(store_test_put_raw(store, "sessions", bad[11], r->buf, r->len) == 0);
    s_raw_session(r, NULL, NULL, 0, false);
    r->buf[0] = (char) 0x8a;  //  fixmap of 10: a second "env" follows
    s_pack_str(&pk, "env");
    s_pack_str(&pk, "again");
    CHECK(store_test_put_raw(store, "sessions", bad[12], r->buf, r->len) == 0);
    s_raw_session(r, NULL, NULL, 0, false);
    CHECK(store_test_put_raw(store, "sessions", bad[13], r->buf, r->len - 3) == 0);
    //  A str32 header claiming 4 GiB.
    CHECK(store_test_put_raw(store, "sessions", bad[14],
                             "\x81\xa3"
                             "env"
                             "\xdb\xff\xff\xff\xf0"
                             "xx",
                             12)
          == 0);
    //  The optional rate_limited_until must still be an int, and only once.
    s_raw_session(r, NULL, NULL, 0, false);
    r->buf[0] = (char) 0x8a;  //  fixmap of 10
    s_pack_str(&pk, "rate_limited_until");
    s_pack_str(&pk, "soon");
    CHECK(store_test_put_raw(store, "sessions", bad[15], r->buf, r->len) == 0);
    s_raw_session(r, NULL, NULL, 0, false);
    r->buf[0] = (char) 0x8b;  //  fixmap of 11
    s_pack_str(&pk, "rate_limited_until");
    msgpack_pack_int64(&pk, NOW);
    s_pack_str(&pk, "rate_limited_until");
    msgpack_pack_int64(&pk, NOW + 1);
    CHECK(store_test_put_raw(store, "sessions", bad[16], r->buf, r->len) == 0);

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = store_session_get_at(store, bad[i], NOW, &out);
        if (!CHECK(rc == STORE_EINVAL))
            printf("#   record %s gave %d\n", bad[i], rc);
        CHECK(store_refresh_claim(store, bad[i], 1, NOW, 1000, &out) == STORE_EINVAL);
        CHECK(store_session_hold(store, bad[i], NOW, NOW + 1000) == STORE_EINVAL);
    }
    //  The sweep leaves what it cannot read and still does its work.
    store_session_t rec;
    s_session(&rec, 1, NOW - 1);
    CHECK(store_session_put(store, "expired", &rec) == 0);
    size_t ns = 0;
    CHECK(store_sweep(store, NOW, &ns, NULL) == 0);
    CHECK(ns == 1);
    CHECK(store_session_count(store) == 2 + (int64_t) (sizeof bad / sizeof bad[0]));

    //  A corrupt pending login is refused and consumed.
    store_pending_t p;
    CHECK(store_test_put_raw(store, "pending", "state", "\x80", 1) == 0);
    CHECK(store_pending_take(store, "state", NOW, &p) == STORE_EINVAL);
    CHECK(store_pending_take(store, "state", NOW, &p) == STORE_ENOTFOUND);
    CHECK(store_test_put_raw(store, "nosuchdb", "k", "\x80", 1) == STORE_EINVAL);
    free(r);
    store_close(&store);
}

static void t_map_full(void)
{
    //  LMDB has no minimum map size of its own (it only raises a map smaller
    //  than the pages already in use); 64 KiB is 16 pages of 4 KiB.
    store_t *store = store_open(s_dir("map_full"), 64 << 10);
    CHECK(store != NULL);
    store_session_t rec, out;
    s_session(&rec, 1, NOW + HOUR);
    s_fill(rec.access_token, sizeof rec.access_token, 'a');
    s_fill(rec.refresh_token, sizeof rec.refresh_token, 'r');
    char key[32];
    int rc = 0, n = 0;
    for (; n < 1000; n++) {
        snprintf(key, sizeof key, "sid-%04d", n);
        rc = store_session_put(store, key, &rec);
        if (rc != 0)
            break;
    }
    CHECK(rc == STORE_EFULL);
    CHECK(n >= 1);
    //  Every other write is refused too, reads go on.
    store_pending_t p;
    s_pending(&p, "sid", NOW);
    CHECK(store_pending_put(store, "state", &p) == STORE_EFULL);
    CHECK(store_session_get_at(store, "sid-0000", NOW, &out) == 0 && s_session_eq(&rec, &out));
    CHECK(store_session_count(store) == n);
    //  Deletes go through (growing the map a little if they must), and free room.
    CHECK(store_test_map_size(store) == 64 << 10);
    CHECK(store_session_delete(store, "sid-0000") == 0);
    CHECK(store_session_get_at(store, "sid-0000", NOW, &out) == STORE_ENOTFOUND);
    size_t grown = store_test_map_size(store);
    CHECK(grown > (64 << 10) && grown <= (64 << 10) + 4 * (256 << 10));
    s_session(&rec, 2, NOW + HOUR);
    CHECK(store_session_put(store, "after", &rec) == 0);
    CHECK(store_session_get_at(store, "after", NOW, &out) == 0 && s_session_eq(&rec, &out));
    //  Fill again; the sweep still removes every expired record.
    s_fill(rec.access_token, sizeof rec.access_token, 'a');
    for (rc = 0; rc == 0 && n < 2000; n++) {
        snprintf(key, sizeof key, "sid-%04d", n);
        rc = store_session_put(store, key, &rec);
    }
    CHECK(rc == STORE_EFULL);
    int64_t left = store_session_count(store);
    size_t ns = 0;
    CHECK(store_sweep(store, NOW + 2 * HOUR, &ns, NULL) == 0);
    CHECK((int64_t) ns == left);
    CHECK(store_session_count(store) == 0);
    store_close(&store);
}

static void t_map_full_sweep(void)
{
    //  A bigger map full of small expired records: one sweep batch would not
    //  fit, smaller ones do.
    store_t *store = store_open(s_dir("map_full_sweep"), 1 << 20);
    CHECK(store != NULL);
    store_session_t rec;
    char key[32];
    int rc = 0, n = 0;
    for (; rc == 0 && n < 100000; n++) {
        s_session(&rec, n, NOW);
        snprintf(key, sizeof key, "sid-%06d", n);
        rc = store_session_put(store, key, &rec);
    }
    CHECK(rc == STORE_EFULL);
    size_t ns = 0;
    CHECK(store_sweep(store, NOW, &ns, NULL) == 0);
    CHECK((int64_t) ns == n - 1);
    CHECK(store_session_count(store) == 0);
    CHECK(store_session_put(store, "after", &rec) == 0);
    store_close(&store);
}

static const test_case_t cases[] = {
    { "corrupt_records", t_corrupt_records },
    { "map_full", t_map_full },
    { "map_full_sweep", t_map_full_sweep },
};

int main(int argc, char **argv)
{
    //  Store logs at warn and above only (full maps, corrupt records).
    log_init("store_hostile_test", getenv("STORE_TEST_LOG") ? LOGL_DEBUG : LOGL_WARN);
    return TEST_MAIN(argc, argv, cases);
}
