//  proto_scan_test: the one msgpack pre-scan (proto_scan.h) that proto_decode and the store's codec run before
//  msgpack-c: what passes, and each limit and lie in a header that must not. (The decoders' own hostile-input
//  tests are proto_hostile_test.c and common/store_hostile_test.c.)
#include "proto/proto_scan.h"
#include "tests/testlib.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

static const proto_scan_limits_t s_limits = { .depth_max = 3, .items_max = 4, .values_max = 12 };

//  The reason proto_scan gives for n bytes of s under s_limits ("" when it passes).
static const char *s_scan(const char *s, size_t n)
{
    const char *why = proto_scan(s, n, &s_limits);
    return why ? why : "";
}

#define SCAN(lit) s_scan(lit, sizeof(lit) - 1)

static void t_passes(void)
{
    //  Every scalar kind: fixint, nil, false, true, ints and floats of each width, str, bin, ext, fixext.
    const struct {
        const char *b;
        size_t n;
    } ok[] = {
        { "\x00", 1 },
        { "\x7f", 1 },
        { "\xe0", 1 },
        { "\xc0", 1 },
        { "\xc2", 1 },
        { "\xc3", 1 },
        { "\xcc\x01", 2 },
        { "\xd1\x01\x02", 3 },
        { "\xca\x00\x00\x00\x00", 5 },
        { "\xcf\x00\x00\x00\x00\x00\x00\x00\x01", 9 },
        { "\xa3"
          "abc",
          4 },
        { "\xd9\x02"
          "ab",
          4 },
        { "\xc4\x01"
          "x",
          3 },
        { "\xc7\x01\x05"
          "x",
          4 },
        { "\xd4\x05"
          "x",
          3 },
        { "\xa0", 1 },
        //  Containers at the limits: 4 entries of a map, depth 3, 12 values in all.
        { "\x84\x01\x02\x03\x04\x05\x06\x07\x08", 9 },
        { "\x91\x91\x91\xc0", 4 },
        { "\x90", 1 },
        { "\x80", 1 },
        { "\x94\x01\x02\x93\x01\x02\x92\x01\x02\x01", 10 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK(strcmp(s_scan(ok[i].b, ok[i].n), "") == 0);
    //  What msgpack-c packs passes: [1, "two", {"k": true}, nil].
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_str_with_body(&pk, "two", 3);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "k", 1);
    msgpack_pack_true(&pk);
    msgpack_pack_nil(&pk);
    CHECK(proto_scan(sb.data, sb.size, &s_limits) == NULL);
    msgpack_sbuffer_destroy(&sb);
}

static void t_limits(void)
{
    CHECK(strcmp(SCAN("\x91\x91\x91\x91\xc0"), "nesting too deep") == 0);
    CHECK(strcmp(SCAN("\x95\x01\x02\x03\x04\x05"), "container too large") == 0);
    CHECK(strcmp(SCAN("\x85\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a"), "container too large") == 0);
    //  13 values: an array of 4 arrays of 2 (1 + 4 + 8).
    CHECK(strcmp(SCAN("\x94\x92\x01\x02\x92\x01\x02\x92\x01\x02\x92\x01\x02"), "too many values in frame") == 0);
    //  The same bytes pass with a larger allowance: the limits are the caller's.
    const proto_scan_limits_t wide = { .depth_max = 2, .items_max = 4, .values_max = 13 };
    CHECK(proto_scan("\x94\x92\x01\x02\x92\x01\x02\x92\x01\x02\x92\x01\x02", 13, &wide) == NULL);
    //  Limits out of range are refused, never trusted.
    const proto_scan_limits_t zero = { 0 }, deep = { PROTO_SCAN_DEPTH_MAX + 1, 4, 12 };
    CHECK(strcmp(proto_scan("\xc0", 1, &zero), "invalid scan limits") == 0);
    CHECK(strcmp(proto_scan("\xc0", 1, &deep), "invalid scan limits") == 0);
    CHECK(strcmp(proto_scan("\xc0", 1, NULL), "invalid scan limits") == 0);
}

//  Headers that claim more than the input holds are refused before anything is allocated for them.
static void t_lies(void)
{
    CHECK(strcmp(SCAN(""), "truncated frame") == 0);
    CHECK(strcmp(proto_scan(NULL, 4, &s_limits), "truncated frame") == 0);
    CHECK(strcmp(SCAN("\xdd\xff\xff\xff\xff"), "container too large") == 0);  //  array32 of 4 billion
    CHECK(strcmp(SCAN("\xdf\xff\xff\xff\xff"), "container too large") == 0);  //  map32
    CHECK(strcmp(SCAN("\xdb\xff\xff\xff\xf0"
                      "ab"),
                 "truncated frame")
          == 0);  //  str32 of 4 GiB
    CHECK(strcmp(SCAN("\xc6\x00\x00\x01\x00"
                      "ab"),
                 "truncated frame")
          == 0);  //  bin32
    CHECK(strcmp(SCAN("\xc9\x00\x00\x00\x05\x01"
                      "ab"),
                 "truncated frame")
          == 0);                                                  //  ext32
    CHECK(strcmp(SCAN("\xdc\x00"), "truncated frame") == 0);      //  a cut length
    CHECK(strcmp(SCAN("\xcf\x00\x00"), "truncated frame") == 0);  //  a cut uint64
    CHECK(strcmp(SCAN("\x93\x01\x02"), "truncated frame") == 0);  //  an element short
    //  Each open container's elements fit on their own, but not all of them together: refused at once.
    CHECK(strcmp(SCAN("\x92\x94\x01\x02\x03\x04"), "truncated frame") == 0);
    CHECK(strcmp(SCAN("\xc1"), "invalid msgpack byte") == 0);
    CHECK(strcmp(SCAN("\x01\x02"), "trailing bytes after the message") == 0);
    CHECK(strcmp(SCAN("\x91\x01\x01"), "trailing bytes after the message") == 0);
}

//  Random bytes never crash it and never pass with a container header claiming more than the input.
static void t_random(void)
{
    srand(7);
    unsigned char buf[64];
    size_t passed = 0;
    for (int round = 0; round < 200000; round++) {
        size_t n = (size_t) (rand() % (int) sizeof buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char) rand();
        if (proto_scan(buf, n, &s_limits) != NULL)
            continue;
        passed++;
        //  What passes, msgpack-c reads as exactly one value of all n bytes.
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        size_t off = 0;
        CHECK(msgpack_unpack_next(&up, (const char *) buf, n, &off) == MSGPACK_UNPACK_SUCCESS && off == n);
        msgpack_unpacked_destroy(&up);
    }
    CHECK(passed > 0);
}

static const test_case_t cases[] = {
    { "passes", t_passes },
    { "limits", t_limits },
    { "lies", t_lies },
    { "random", t_random },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
