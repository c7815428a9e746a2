//  proto_hostile_test: the decoder against hostile input: truncated frames, wrong types,
//  oversize fields and frames, unknown types and versions, deep nesting, random frames.
//
//  Environment: PROTO_TEST_FRAMES (random frames to try, default 200000; use a
//  few thousand under valgrind), PROTO_TEST_SEED (seed of the random frames).
#include "proto/proto.h"
#include "tests/support/proto_testutil.h"
#include "tests/testlib.h"

#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  --------------------------------------------------------------------------
//  A frame builder on msgpack-c, to write frames the encoder never would.

typedef enum {
    W_NIL,
    W_TRUE,
    W_NEG,
    W_POS,
    W_BIG,
    W_FLOAT,
    W_STR,
    W_BIN,
    W_ARRAY,
    W_MAP,
    W_EXT,
    W_NULSTR,
    W_LONGSTR,
    W_COUNT
} wval_t;

typedef struct {
    int top;    //  0..3: replace that slot of [version, type, rid, body] with `with`
    int field;  //  index of the field whose value is replaced with `with`
    wval_t with;
    size_t long_len;    //  W_LONGSTR: its length
    int drop;           //  index of a field left out
    int dup;            //  index of a field written twice
    const char *extra;  //  an extra key (value 1)
    size_t extra_len;
} mut_t;
#define MUT_NONE                                      \
    (mut_t)                                           \
    {                                                 \
        .top = -1, .field = -1, .drop = -1, .dup = -1 \
    }

static void s_pack_w(msgpack_packer *pk, wval_t w, size_t long_len)
{
    switch (w) {
        case W_NIL: msgpack_pack_nil(pk); break;
        case W_TRUE: msgpack_pack_true(pk); break;
        case W_NEG: msgpack_pack_int64(pk, -5); break;
        case W_POS: msgpack_pack_uint64(pk, 7); break;
        case W_BIG: msgpack_pack_uint64(pk, UINT64_MAX); break;
        case W_FLOAT: msgpack_pack_double(pk, 1.5); break;
        case W_STR: msgpack_pack_str_with_body(pk, "x", 1); break;
        case W_BIN: msgpack_pack_bin_with_body(pk, "xy", 2); break;
        case W_ARRAY:
            msgpack_pack_array(pk, 1);
            msgpack_pack_int(pk, 1);
            break;
        case W_MAP: msgpack_pack_map(pk, 0); break;
        case W_EXT: msgpack_pack_ext_with_body(pk, "z", 1, 3); break;
        case W_NULSTR: msgpack_pack_str_with_body(pk, "ab\0cd", 5); break;
        case W_LONGSTR: {
            char *s = malloc(long_len + 1);
            memset(s, 'x', long_len);
            msgpack_pack_str_with_body(pk, s, long_len);
            free(s);
            break;
        }
        case W_COUNT: break;
    }
}

static void s_pack_field(msgpack_packer *pk, const proto_msg_t *msg, const proto_field_t *f)
{
    msgpack_pack_str_with_body(pk, f->name, strlen(f->name));
    if (f->type == PROTO_F_STR)
        msgpack_pack_str_with_body(pk, proto_msg_str(msg, f->name), proto_msg_strlen(msg, f->name));
    else if (f->type == PROTO_F_INT)
        msgpack_pack_int64(pk, proto_msg_int(msg, f->name, 0));
    else if (proto_msg_bool(msg, f->name, false))
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

//  The frame of msg (all fields set) changed by mut. Returns a malloc'd buffer.
static char *s_frame(const proto_msg_t *msg, mut_t mut, size_t *size)
{
    const proto_msgdef_t *def = proto_schema(proto_msg_type(msg));
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 4);
    if (mut.top == 0)
        s_pack_w(&pk, mut.with, mut.long_len);
    else
        msgpack_pack_int(&pk, PROTO_VERSION);
    if (mut.top == 1)
        s_pack_w(&pk, mut.with, mut.long_len);
    else
        msgpack_pack_str_with_body(&pk, def->name, strlen(def->name));
    if (mut.top == 2)
        s_pack_w(&pk, mut.with, mut.long_len);
    else
        msgpack_pack_uint64(&pk, proto_msg_rid(msg));
    if (mut.top == 3)
        s_pack_w(&pk, mut.with, mut.long_len);
    else {
        size_t n = def->field_count - (mut.drop >= 0) + (mut.dup >= 0) + (mut.extra != NULL);
        msgpack_pack_map(&pk, n);
        for (size_t i = 0; i < def->field_count; i++) {
            if ((int) i == mut.drop)
                continue;
            if ((int) i == mut.field) {
                msgpack_pack_str_with_body(&pk, def->fields[i].name, strlen(def->fields[i].name));
                s_pack_w(&pk, mut.with, mut.long_len);
            }
            else
                s_pack_field(&pk, msg, &def->fields[i]);
            if ((int) i == mut.dup)
                s_pack_field(&pk, msg, &def->fields[i]);
        }
        if (mut.extra) {
            msgpack_pack_str_with_body(&pk, mut.extra, mut.extra_len);
            msgpack_pack_int(&pk, 1);
        }
    }
    *size = sbuf.size;
    return msgpack_sbuffer_release(&sbuf);
}

//  --------------------------------------------------------------------------
//  Decoding hostile frames.

static void t_decode_truncated(void)
{
    int prefixes = 0;
    for (int t = 1; t < PROTO_TYPE_COUNT; t++)
        for (int f = 0; f < 3; f++) {
            proto_msg_t *msg = s_fill((proto_type_t) t, 0x1234, (fill_t) f);
            size_t size = 0;
            char *data = s_encode(msg, &size);
            //  Every prefix of small frames; the ends of the big ones.
            for (size_t n = 0; n < size; n++) {
                if (size > 20000 && n > 256 && n < size - 256 && n % 4093)
                    continue;
                uint64_t rid = 1;
                const char *why = s_reject(data, n, &rid);
                prefixes++;
                CHECK(rid == 0 && strcmp(why, n ? "truncated frame" : "empty frame") == 0);
            }
            free(data);
            proto_msg_destroy(&msg);
        }
    printf("# truncated prefixes tried: %d\n", prefixes);
    CHECK(proto_decode(NULL, 5, NULL, NULL) == NULL);
}

static void t_decode_wrong_types(void)
{
    int frames = 0;
    for (int t = 1; t < PROTO_TYPE_COUNT; t++) {
        const proto_msgdef_t *def = proto_schema((proto_type_t) t);
        proto_msg_t *msg = s_fill((proto_type_t) t, 0xabc, FILL_MID);
        for (int w = 0; w < W_COUNT; w++) {
            mut_t mut = MUT_NONE;
            mut.with = (wval_t) w;
            mut.long_len = 3;
            //  The four slots of the array.
            for (int top = 0; top < 4; top++) {
                if ((top == 2 && (w == W_POS || w == W_BIG)) || (top == 3 && w == W_MAP))
                    continue;
                mut.top = top;
                size_t size;
                char *data = s_frame(msg, mut, &size);
                uint64_t rid;
                s_reject(data, size, &rid);
                CHECK(rid == (top == 2 ? 0 : 0xabc));
                frames++;
                free(data);
            }
            mut.top = -1;
            //  Every field.
            for (size_t i = 0; i < def->field_count; i++) {
                proto_ftype_t ft = def->fields[i].type;
                if ((ft == PROTO_F_STR && (w == W_STR || w == W_LONGSTR))
                    || (ft == PROTO_F_INT && (w == W_POS || w == W_NEG)) || (ft == PROTO_F_BOOL && w == W_TRUE))
                    continue;
                mut.field = (int) i;
                size_t size;
                char *data = s_frame(msg, mut, &size);
                uint64_t rid;
                const char *why = s_reject(data, size, &rid);
                CHECK(rid == 0xabc);
                if (w == W_NULSTR && ft == PROTO_F_STR)
                    CHECK(strcmp(why, "NUL in string field") == 0);
                if (w == W_BIG && ft == PROTO_F_INT)
                    CHECK(strcmp(why, "int field out of range") == 0);
                frames++;
                free(data);
            }
        }
        proto_msg_destroy(&msg);
    }
    printf("# wrong-typed frames tried: %d\n", frames);
}

static void t_decode_fields(void)
{
    for (int t = 1; t < PROTO_TYPE_COUNT; t++) {
        const proto_msgdef_t *def = proto_schema((proto_type_t) t);
        proto_msg_t *msg = s_fill((proto_type_t) t, 99, FILL_MID);
        size_t size;
        char *data;
        uint64_t rid;
        const char *why;
        //  The unchanged frame decodes: the builder matches the encoder.
        data = s_frame(msg, MUT_NONE, &size);
        proto_msg_t *back = proto_decode(data, size, NULL, NULL);
        CHECK(proto_msg_equal(msg, back));
        proto_msg_destroy(&back);
        free(data);
        //  Unknown fields: other names, prefixes, NUL inside, empty.
        const char *extras[] = { "nope", "si", "sidx", "sid\0", "", "SID" };
        for (size_t e = 0; e < 6; e++) {
            mut_t mut = MUT_NONE;
            mut.extra = extras[e];
            mut.extra_len = e == 3 ? 4 : strlen(extras[e]);
            data = s_frame(msg, mut, &size);
            why = s_reject(data, size, &rid);
            CHECK(rid == 99 && strcmp(why, "unknown field") == 0);
            free(data);
        }
        for (size_t i = 0; i < def->field_count; i++) {
            const proto_field_t *f = &def->fields[i];
            mut_t mut = MUT_NONE;
            //  Duplicate.
            mut.dup = (int) i;
            data = s_frame(msg, mut, &size);
            why = s_reject(data, size, &rid);
            CHECK(rid == 99 && strcmp(why, "duplicate field") == 0);
            free(data);
            //  Missing: an error only when required.
            mut = MUT_NONE;
            mut.drop = (int) i;
            data = s_frame(msg, mut, &size);
            back = proto_decode(data, size, &why, &rid);
            if (f->required)
                CHECK(back == NULL && rid == 99 && strcmp(why, "missing required field") == 0);
            else
                CHECK(back != NULL && !proto_msg_has(back, f->name));
            proto_msg_destroy(&back);
            free(data);
            if (f->type != PROTO_F_STR)
                continue;
            //  Oversize strings: max + 1, over 64 KiB, over PROTO_BODY_MAX.
            const size_t lens[] = { f->max, f->max + 1, PROTO_FIELD_MAX + 1, PROTO_BODY_MAX + 1 };
            for (size_t l = 0; l < 4; l++) {
                mut = MUT_NONE;
                mut.field = (int) i;
                mut.with = W_LONGSTR;
                mut.long_len = lens[l];
                data = s_frame(msg, mut, &size);
                back = proto_decode(data, size, &why, &rid);
                if (lens[l] <= f->max)
                    CHECK(back != NULL && proto_msg_strlen(back, f->name) == lens[l]);
                else
                    CHECK(back == NULL && rid == 99 && strcmp(why, "string field too long") == 0);
                proto_msg_destroy(&back);
                free(data);
            }
        }
        proto_msg_destroy(&msg);
    }
}

static void t_decode_types_versions(void)
{
    //  Frames written with msgpack-c: [version, type, rid, {}].
    struct {
        uint64_t version;
        const char *type;
        size_t len;
        const char *why;
    } cases[] = {
        { 1, "PING", 4, NULL },
        { 0, "PING", 4, "unsupported version" },
        { 2, "PING", 4, "unsupported version" },
        { 255, "PING", 4, "unsupported version" },
        { UINT64_MAX, "PING", 4, "unsupported version" },
        { 1, "PONG", 4, "unknown message type" },
        { 1, "ping", 4, "unknown message type" },
        { 1, "PING\0", 5, "unknown message type" },
        { 1, "", 0, "unknown message type" },
        { 1, "INVALID", 7, "unknown message type" },
        { 1, "PING_OK_OK", 10, "unknown message type" },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        msgpack_sbuffer sbuf;
        msgpack_sbuffer_init(&sbuf);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
        msgpack_pack_array(&pk, 4);
        msgpack_pack_uint64(&pk, cases[c].version);
        msgpack_pack_str_with_body(&pk, cases[c].type, cases[c].len);
        msgpack_pack_uint64(&pk, 31);
        msgpack_pack_map(&pk, 0);
        const char *why = NULL;
        uint64_t rid = 0;
        proto_msg_t *msg = proto_decode(sbuf.data, sbuf.size, &why, &rid);
        CHECK(rid == 31);
        if (cases[c].why)
            CHECK(msg == NULL && why && strcmp(why, cases[c].why) == 0);
        else
            CHECK(msg != NULL && proto_msg_type(msg) == PROTO_PING && why == NULL);
        proto_msg_destroy(&msg);
        msgpack_sbuffer_destroy(&sbuf);
    }
}

//  Raw bytes: what msgpack-c must never be handed.
static void t_decode_raw(void)
{
    //  A valid PING: [1, "PING", 7, {}].
    const unsigned char ping[] = { 0x94, 0x01, 0xa4, 'P', 'I', 'N', 'G', 0x07, 0x80 };
    uint64_t rid = 0;
    proto_msg_t *msg = proto_decode(ping, sizeof ping, NULL, &rid);
    CHECK(msg != NULL && rid == 7);
    proto_msg_destroy(&msg);
    //  Not [version, type, rid, body].
    const unsigned char roots[][10] = {
        { 0x93, 0x01, 0xa4, 'P', 'I', 'N', 'G', 0x07 },
        { 0x95, 0x01, 0xa4, 'P', 'I', 'N', 'G', 0x07, 0x80, 0xc0 },
        { 0x81, 0xa1, 'a', 0x01 },
        { 0xc0 },
    };
    const size_t root_sizes[] = { 8, 10, 4, 1 };
    for (size_t r = 0; r < 4; r++)
        CHECK(strcmp(s_reject(roots[r], root_sizes[r], NULL), "frame is not an array [version, type, request_id, body]")
              == 0);
    //  Trailing bytes: a byte, a second frame.
    unsigned char two[2 * sizeof ping];
    memcpy(two, ping, sizeof ping);
    memcpy(two + sizeof ping, ping, sizeof ping);
    CHECK(strcmp(s_reject(two, sizeof ping + 1, NULL), "trailing bytes after the message") == 0);
    CHECK(strcmp(s_reject(two, sizeof two, NULL), "trailing bytes after the message") == 0);
    //  A body key that is not a string.
    const unsigned char intkey[] = { 0x94, 0x01, 0xa4, 'P', 'I', 'N', 'G', 0x07, 0x81, 0x01, 0x01 };
    CHECK(strcmp(s_reject(intkey, sizeof intkey, &rid), "field name is not a string") == 0 && rid == 7);
    //  0xc1 is never used.
    const unsigned char c1[] = { 0x94, 0x01, 0xc1, 0x07, 0x80 };
    CHECK(strcmp(s_reject(c1, sizeof c1, NULL), "invalid msgpack byte") == 0);

    //  Headers claiming 2^32-1 elements or bytes in a tiny buffer, alone and inside a frame.
    const unsigned char heads[] = { 0xdd, 0xdf, 0xdb, 0xc6, 0xc9, 0xdc, 0xde, 0xda, 0xc5 };
    for (size_t h = 0; h < sizeof heads; h++) {
        //  Containers over the cap say so first, payloads say they do not fit.
        const char *want = h < 2 || (h >= 5 && h <= 6) ? "container too large" : "truncated frame";
        unsigned char buf[16] = { heads[h], 0xff, 0xff, 0xff, 0xff, 0x01, 0x02 };
        CHECK(strcmp(s_reject(buf, 7, NULL), want) == 0);
        unsigned char in[16] = { 0x94, 0x01, 0xa4, 'P', 'I', 'N', 'G', 0x07, heads[h], 0xff, 0xff, 0xff, 0xff, 0x00 };
        CHECK(strcmp(s_reject(in, 14, NULL), want) == 0);
    }
    //  65 map entries with the bytes to back them: over the container cap.
    unsigned char wide[3 + 65 * 2] = { 0xde, 0x00, 65 };
    memset(wide + 3, 0x00, 65 * 2);
    CHECK(strcmp(s_reject(wide, sizeof wide, NULL), "container too large") == 0);
    //  64 arrays of 15: every container under the cap, the values over theirs.
    unsigned char many[3 + 64 * 16] = { 0xdc, 0x00, 64 };
    for (size_t i = 0; i < 64; i++) {
        many[3 + i * 16] = 0x9f;
        memset(many + 4 + i * 16, 0x00, 15);
    }
    CHECK(strcmp(s_reject(many, sizeof many, NULL), "too many values in frame") == 0);

    //  10,000 nested arrays, then nested maps, then nesting inside a body.
    size_t deep = 10000;
    unsigned char *nest = malloc(2 * deep + 16);
    memset(nest, 0x91, deep);
    nest[deep] = 0x00;
    CHECK(strcmp(s_reject(nest, deep + 1, NULL), "nesting too deep") == 0);
    for (size_t i = 0; i < deep; i++)
        nest[2 * i] = 0x81, nest[2 * i + 1] = 0x00;
    nest[2 * deep] = 0x00;
    CHECK(strcmp(s_reject(nest, 2 * deep + 1, NULL), "nesting too deep") == 0);
    const unsigned char body[] = { 0x94, 0x01, 0xa4, 'P', 'I', 'N', 'G', 0x07, 0x81, 0xa1, 'x' };
    memcpy(nest, body, sizeof body);
    memset(nest + sizeof body, 0x91, deep);
    nest[sizeof body + deep] = 0x00;
    CHECK(strcmp(s_reject(nest, sizeof body + deep + 1, NULL), "nesting too deep") == 0);
    //  Depth 4 is still parsed (and refused by the schema), depth 5 is not.
    memcpy(nest + sizeof body, (const unsigned char[]){ 0x91, 0x91, 0x00 }, 3);
    const char *why = NULL;
    CHECK(proto_decode(nest, sizeof body + 3, &why, &rid) == NULL && rid == 7);
    CHECK(why && strcmp(why, "unknown field") == 0);
    memcpy(nest + sizeof body, (const unsigned char[]){ 0x91, 0x91, 0x91, 0x00 }, 4);
    CHECK(strcmp(s_reject(nest, sizeof body + 4, NULL), "nesting too deep") == 0);
    free(nest);

    //  Over PROTO_FRAME_MAX: a frame with a big body, and plain filler.
    size_t big = PROTO_FRAME_MAX + 1;
    unsigned char *huge = calloc(1, big);
    CHECK(strcmp(s_reject(huge, big, NULL), "frame too large") == 0);
    proto_msg_t *api = s_fill(PROTO_API_OK, 3, FILL_MID);
    mut_t mut = MUT_NONE;
    mut.field = 2;
    mut.with = W_LONGSTR;
    mut.long_len = PROTO_FRAME_MAX;
    size_t size;
    char *data = s_frame(api, mut, &size);
    CHECK(size > PROTO_FRAME_MAX && strcmp(s_reject(data, size, NULL), "frame too large") == 0);
    free(data);
    free(huge);
    proto_msg_destroy(&api);
    CHECK(strcmp(s_reject("", 0, NULL), "empty frame") == 0);
}

//  --------------------------------------------------------------------------
//  Random frames: pure noise and mutations of valid frames.

static uint64_t s_rng;
static uint64_t s_rand(void)
{
    s_rng ^= s_rng >> 12, s_rng ^= s_rng << 25, s_rng ^= s_rng >> 27;
    return s_rng * 0x2545F4914F6CDD1DULL;
}

static size_t s_env_size(const char *name, size_t dflt)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 0);
    return end && *end == 0 ? (size_t) v : dflt;
}

//  Decode data: a clean error, or a message that re-encodes and decodes the same. Returns true when it decoded.
static bool s_try(const unsigned char *data, size_t size)
{
    const char *why = NULL;
    proto_msg_t *msg = proto_decode(data, size, &why, NULL);
    if (!msg) {
        CHECK(why != NULL && *why);
        return false;
    }
    CHECK(why == NULL);
    char *again = NULL;
    size_t again_size = 0;
    if (CHECK(proto_encode(msg, &again, &again_size) == 0)) {
        proto_msg_t *back = proto_decode(again, again_size, NULL, NULL);
        CHECK(proto_msg_equal(msg, back));
        proto_msg_destroy(&back);
        free(again);
    }
    char text[256];
    proto_msg_describe(msg, text, sizeof text);
    proto_msg_destroy(&msg);
    return true;
}

static void t_random_frames(void)
{
    size_t total = s_env_size("PROTO_TEST_FRAMES", 200000);
    uint64_t seed = s_env_size("PROTO_TEST_SEED", 0x5eed1234abcdULL);
    printf("# random frames: PROTO_TEST_SEED=%" PRIu64 "\n", seed);
    s_rng = seed ^ 0x9e3779b97f4a7c15ULL;  //  xorshift needs a non-zero state
    s_rng = s_rng ? s_rng : 1;
    //  Seeds: every type, MID and MIN, as encoded.
    enum { SEEDS = 2 * (PROTO_TYPE_COUNT - 1) };
    char *seeds[SEEDS];
    size_t seed_sizes[SEEDS];
    for (int i = 0; i < SEEDS; i++) {
        proto_msg_t *msg = s_fill((proto_type_t) (1 + i / 2), s_rand(), i % 2 ? FILL_MIN : FILL_MID);
        seeds[i] = s_encode(msg, &seed_sizes[i]);
        proto_msg_destroy(&msg);
    }
    size_t cap = 1024, decoded = 0;
    unsigned char *buf = malloc(cap + 64);
    const unsigned char hot[] = { 0x00, 0xff, 0xc1, 0xdd, 0xdf, 0xdb, 0xc0, 0x91, 0x80, 0xa0, 0xd9, 0xcf, 0xd3 };
    for (size_t n = 0; n < total; n++) {
        size_t size;
        if (n % 4 == 0) {
            //  Noise, sometimes starting like a frame.
            size = s_rand() % (n % 8 ? 48 : 600);
            for (size_t i = 0; i < size; i++)
                buf[i] = (unsigned char) s_rand();
            if (size > 2 && n % 3 == 0)
                buf[0] = 0x94, buf[1] = 0x01;
        }
        else {
            size_t s = s_rand() % SEEDS;
            size = seed_sizes[s];
            memcpy(buf, seeds[s], size);
            int edits = 1 + (int) (s_rand() % 4);
            for (int e = 0; e < edits; e++) {
                size_t at = size ? s_rand() % size : 0;
                switch (s_rand() % 6) {
                    case 0:
                        if (size)
                            buf[at] ^= (unsigned char) (1u << (s_rand() % 8));
                        break;
                    case 1:
                        if (size < cap) {
                            memmove(buf + at + 1, buf + at, size - at);
                            buf[at] = (unsigned char) s_rand();
                            size++;
                        }
                        break;
                    case 2:
                        if (size) {
                            memmove(buf + at, buf + at + 1, size - at - 1);
                            size--;
                        }
                        break;
                    case 3: size = at; break;
                    case 4:
                        if (size)
                            buf[at] = hot[s_rand() % sizeof hot];
                        break;
                    default:
                        if (size)
                            buf[at] = (unsigned char) s_rand();
                        break;
                }
            }
        }
        if (s_try(buf, size))
            decoded++;
    }
    printf("# random frames tried: %zu (decoded as valid: %zu)\n", total, decoded);
    CHECK(decoded > 0 || total < 1000);
    for (int i = 0; i < SEEDS; i++)
        free(seeds[i]);
    free(buf);
}

static const test_case_t cases[] = {
    { "decode_truncated", t_decode_truncated },
    { "decode_wrong_types", t_decode_wrong_types },
    { "decode_fields", t_decode_fields },
    { "decode_types_versions", t_decode_types_versions },
    { "decode_raw", t_decode_raw },
    { "random_frames", t_random_frames },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
