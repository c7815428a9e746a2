//  store_codec: see store_codec.h.
#include "common/store_codec.h"
#include "proto/proto_scan.h"

#include <msgpack.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef enum { S_STR, S_I64, S_U64 } s_type_t;

typedef struct {
    const char *name;
    s_type_t type;
    size_t offset;
    size_t size;      //  of the char array (S_STR), with its NUL
    bool optional;    //  added after records were first written: absent reads as empty / 0
    unsigned secret;  //  a sealed field: its STORE_CODEC_OPEN_* bit, else 0
} s_field_t;

#define S_FIELD(rec, type, member)                                                  \
    {                                                                               \
#member, type, offsetof(rec, member), sizeof(((rec *) 0)->member), false, 0 \
    }
#define S_OPTIONAL(rec, type, member)                                              \
    {                                                                              \
#member, type, offsetof(rec, member), sizeof(((rec *) 0)->member), true, 0 \
    }
#define S_SECRET(rec, member, bit)                                                     \
    {                                                                                  \
#member, S_STR, offsetof(rec, member), sizeof(((rec *) 0)->member), false, bit \
    }

static const s_field_t s_session_fields[] = {
    S_FIELD(store_session_t, S_STR, env),
    S_SECRET(store_session_t, access_token, STORE_CODEC_OPEN_ACCESS),
    S_SECRET(store_session_t, refresh_token, STORE_CODEC_OPEN_REFRESH),
    S_FIELD(store_session_t, S_I64, expires_at),
    S_FIELD(store_session_t, S_I64, refresh_expires_at),
    S_FIELD(store_session_t, S_STR, owner_id),
    S_FIELD(store_session_t, S_STR, scope),
    S_FIELD(store_session_t, S_U64, version),
    S_FIELD(store_session_t, S_I64, refreshing_until),
    S_OPTIONAL(store_session_t, S_STR, prev_sid),
    S_OPTIONAL(store_session_t, S_I64, rate_limited_until),
    S_OPTIONAL(store_session_t, S_I64, refreshing_pid),
};

static const s_field_t s_pending_fields[] = {
    S_FIELD(store_pending_t, S_STR, sid),
    S_FIELD(store_pending_t, S_STR, env),
    S_SECRET(store_pending_t, code_verifier, STORE_CODEC_OPEN_VERIFIER),
    S_FIELD(store_pending_t, S_I64, created_at),
};

#define S_COUNT(a) (sizeof(a) / sizeof((a)[0]))
//  The record's key is part of what a secret field is bound to: seal takes keys of at most 128 bytes (seal.h).
_Static_assert(STORE_KEY_MAX - 1 <= 128, "a store key is too long for seal's associated data");
//  Unknown keys are skipped (a newer writer may add fields), but only so many.
#define S_MAP_MAX 32

//  The pre-scan's limits (proto_scan.h), before msgpack-c sees a record: one map of at most S_MAP_MAX entries,
//  whose values are scalars and strings (room for a newer writer's small containers).
static const proto_scan_limits_t s_record_limits = {
    .depth_max = 4,
    .items_max = S_MAP_MAX,
    .values_max = 256,
};

//  ---------------------------------------------------------------------------
//  Encoding into a caller's fixed buffer: no allocation, overflow is an error.

typedef struct {
    char *buf;
    size_t cap;
    size_t len;
} s_out_t;

static int s_out_write(void *data, const char *buf, size_t len)
{
    s_out_t *out = data;
    if (len > out->cap - out->len)
        return -1;
    memcpy(out->buf + out->len, buf, len);
    out->len += len;
    return 0;
}

static int s_encode(const store_codec_ctx_t *ctx, const char *kind, const s_field_t *fields, size_t count,
                    const void *rec, char *buf, size_t cap, size_t *len_p)
{
    unsigned char sealed[STORE_TOKEN_MAX + SEAL_OVERHEAD];
    size_t sealed_len;
    s_out_t out = { buf, cap, 0 };
    msgpack_packer pk;
    msgpack_packer_init(&pk, &out, s_out_write);
    int rc = msgpack_pack_map(&pk, count);
    for (size_t i = 0; i < count && rc == 0; i++) {
        const s_field_t *f = &fields[i];
        const char *at = (const char *) rec + f->offset;
        rc = msgpack_pack_str_with_body(&pk, f->name, strlen(f->name));
        if (rc != 0)
            break;
        if (f->type == S_STR) {
            const char *nul = memchr(at, '\0', f->size);
            if (!nul)
                return STORE_EINVAL;
            if (f->secret && ctx->ring) {
                if (!ctx->key
                    || seal_seal(ctx->ring, kind, f->name, ctx->key, at, (size_t) (nul - at), sealed, sizeof sealed,
                                 &sealed_len)
                        != 0)
                    return STORE_EINVAL;
                rc = msgpack_pack_bin_with_body(&pk, sealed, sealed_len);
            }
            else
                rc = msgpack_pack_str_with_body(&pk, at, (size_t) (nul - at));
        }
        else if (f->type == S_I64) {
            int64_t v;
            memcpy(&v, at, sizeof v);
            rc = msgpack_pack_int64(&pk, v);
        }
        else {
            uint64_t v;
            memcpy(&v, at, sizeof v);
            rc = msgpack_pack_uint64(&pk, v);
        }
    }
    if (rc != 0)
        return STORE_EINVAL;
    *len_p = out.len;
    return 0;
}

//  ---------------------------------------------------------------------------
//  Decoding: one map, every known field once with the right type and length.

//  A sealed field: open it into its array when ctx->open asks for it, else leave it "" (its key id is still read).
//  Returns 0, STORE_ENOTFOUND (does not open, or plaintext where a ring is in use: ctx->seal_rc says why) or STORE_EINVAL.
static int s_set_secret(store_codec_ctx_t *ctx, const char *kind, const s_field_t *f, const msgpack_object *v, char *at)
{
    bool want = (ctx->open & f->secret) != 0;
    if (v->type == MSGPACK_OBJECT_STR) {
        if (!want)
            return 0;
        ctx->seal_rc = SEAL_EFORMAT;  //  plaintext: written before sealing, or planted
        return STORE_ENOTFOUND;
    }
    if (v->type != MSGPACK_OBJECT_BIN)
        return STORE_EINVAL;
    const unsigned char *in = (const unsigned char *) v->via.bin.ptr;
    uint32_t id;
    if (seal_key_id(in, v->via.bin.size, &id) != 0) {
        ctx->seal_rc = SEAL_EFORMAT;
        return STORE_ENOTFOUND;
    }
    if (ctx->key_id && ctx->key_id != id)
        return STORE_EINVAL;  //  one record, one key: the encoder seals all its fields with one
    ctx->key_id = id;
    if (!want)
        return 0;
    if (!ctx->ring)
        return STORE_EINVAL;  //  a sealed record where no ring is in use
    size_t n = 0;
    int rc = seal_open(ctx->ring, kind, f->name, ctx->key ? ctx->key : "", in, v->via.bin.size, at, f->size - 1, &n);
    if (rc != 0) {
        ctx->seal_rc = rc;
        return STORE_ENOTFOUND;
    }
    if (memchr(at, '\0', n)) {
        sodium_memzero(at, f->size);
        return STORE_EINVAL;
    }
    at[n] = '\0';
    return 0;
}

static int s_set(store_codec_ctx_t *ctx, const char *kind, const s_field_t *f, const msgpack_object *v, void *rec)
{
    char *at = (char *) rec + f->offset;
    if (f->secret && (ctx->ring || v->type != MSGPACK_OBJECT_STR))
        return s_set_secret(ctx, kind, f, v, at);
    if (f->type == S_STR) {
        if (v->type != MSGPACK_OBJECT_STR || v->via.str.size >= f->size)
            return STORE_EINVAL;
        if (v->via.str.size && memchr(v->via.str.ptr, '\0', v->via.str.size))
            return STORE_EINVAL;
        memcpy(at, v->via.str.ptr, v->via.str.size);
        at[v->via.str.size] = '\0';
        return 0;
    }
    if (f->type == S_U64) {
        if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return STORE_EINVAL;
        uint64_t u = v->via.u64;
        memcpy(at, &u, sizeof u);
        return 0;
    }
    int64_t i;
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= (uint64_t) INT64_MAX)
        i = (int64_t) v->via.u64;
    else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        i = v->via.i64;
    else
        return STORE_EINVAL;
    memcpy(at, &i, sizeof i);
    return 0;
}

static int s_fill(store_codec_ctx_t *ctx, const char *kind, const s_field_t *fields, size_t count,
                  const msgpack_object *obj, void *rec)
{
    if (obj->type != MSGPACK_OBJECT_MAP || obj->via.map.size > S_MAP_MAX)
        return STORE_EINVAL;
    uint32_t seen = 0;
    for (uint32_t k = 0; k < obj->via.map.size; k++) {
        const msgpack_object_kv *kv = &obj->via.map.ptr[k];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            return STORE_EINVAL;
        for (size_t i = 0; i < count; i++) {
            size_t n = strlen(fields[i].name);
            if (kv->key.via.str.size != n || memcmp(kv->key.via.str.ptr, fields[i].name, n) != 0)
                continue;
            if (seen & (1u << i))
                return STORE_EINVAL;  //  the same field twice
            int rc = s_set(ctx, kind, &fields[i], &kv->val, rec);
            if (rc != 0)
                return rc;
            seen |= 1u << i;
            break;
        }
    }
    for (size_t i = 0; i < count; i++)
        if (!fields[i].optional && !(seen & (1u << i)))
            return STORE_EINVAL;
    return 0;
}

static int s_decode(store_codec_ctx_t *ctx, const char *kind, const s_field_t *fields, size_t count, const void *data,
                    size_t len, void *rec, size_t rec_size)
{
    ctx->key_id = 0;
    ctx->seal_rc = 0;
    if (!data || len == 0 || len > STORE_CODEC_MAX || proto_scan(data, len, &s_record_limits) != NULL)
        return STORE_EINVAL;
    memset(rec, 0, rec_size);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int rc = STORE_EINVAL;
    if (msgpack_unpack_next(&up, data, len, &off) == MSGPACK_UNPACK_SUCCESS && off == len)
        rc = s_fill(ctx, kind, fields, count, &up.data, rec);
    msgpack_unpacked_destroy(&up);
    if (rc != 0)
        sodium_memzero(rec, rec_size);  //  no half-opened secret left behind
    return rc;
}

int store_codec_session_encode(const store_codec_ctx_t *ctx, const store_session_t *rec, char *buf, size_t cap,
                               size_t *len_p)
{
    return s_encode(ctx, "session", s_session_fields, S_COUNT(s_session_fields), rec, buf, cap, len_p);
}

int store_codec_session_decode(store_codec_ctx_t *ctx, const void *data, size_t len, store_session_t *rec)
{
    return s_decode(ctx, "session", s_session_fields, S_COUNT(s_session_fields), data, len, rec, sizeof *rec);
}

int store_codec_pending_encode(const store_codec_ctx_t *ctx, const store_pending_t *rec, char *buf, size_t cap,
                               size_t *len_p)
{
    return s_encode(ctx, "pending", s_pending_fields, S_COUNT(s_pending_fields), rec, buf, cap, len_p);
}

int store_codec_pending_decode(store_codec_ctx_t *ctx, const void *data, size_t len, store_pending_t *rec)
{
    return s_decode(ctx, "pending", s_pending_fields, S_COUNT(s_pending_fields), data, len, rec, sizeof *rec);
}

bool store_codec_session_expired(const store_session_t *rec, int64_t now)
{
    return rec->refresh_expires_at <= now;
}

bool store_codec_pending_expired(const store_pending_t *rec, int64_t now)
{
    int64_t end;
    if (__builtin_add_overflow(rec->created_at, (int64_t) STORE_PENDING_TTL_MS, &end))
        return false;  //  created in the far future: not expired
    return end <= now;
}
