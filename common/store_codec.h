//  store_codec: the msgpack form of the store's records (internal to common/store*).
//
//  A session is the map {env, access_token, refresh_token, expires_at,
//  refresh_expires_at, owner_id, scope, version, refreshing_until} plus the
//  optional prev_sid, rate_limited_until and refreshing_pid (absent in older records); a pending
//  login is {sid, env, code_verifier, created_at}. Both are described by one
//  field table each (store_codec.c) that the encoder and decoder walk.
//  The secret fields (access_token, refresh_token, code_verifier) are sealed (common/seal.h) when the
//  store has a key ring: stored as msgpack bin, bound to the record kind, the field and the record's key.
//  Each is opened only when the caller asks for it (store_codec_ctx_t.open), so a read that needs the
//  access token never touches the refresh token. A store with a ring refuses plaintext secret fields
//  (records written before sealing, or planted): they decode as lost. Without a ring (unit tests and
//  tools only: the services refuse to start without one) the fields are plain strings.
//  Decoding treats the bytes as untrusted (a corrupt or foreign file): size,
//  container counts and every field's type and length are checked before use.
#ifndef STORE_CODEC_H_INCLUDED
#define STORE_CODEC_H_INCLUDED

#include "common/seal.h"
#include "common/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Largest encoded record, with headroom: two tokens, three short fields, keys and ints.
#define STORE_CODEC_MAX (2 * STORE_TOKEN_MAX + 4 * STORE_FIELD_MAX + 1024 + 3 * SEAL_OVERHEAD)

//  The secret fields a decode opens (the others are left "").
enum {
    STORE_CODEC_OPEN_ACCESS = 1,
    STORE_CODEC_OPEN_REFRESH = 2,
    STORE_CODEC_OPEN_VERIFIER = 4,
    STORE_CODEC_OPEN_ALL = 7
};

//  How a record is sealed and opened. kind and key are the associated data; key_id and seal_rc are outputs.
typedef struct {
    seal_ring_t *ring;  //  NULL: secret fields in plaintext (tests and tools only)
    const char *key;    //  the record's key: session id or state
    unsigned open;      //  STORE_CODEC_OPEN_* fields to open (decode)
    uint32_t key_id;    //  out (decode): the key id the record's sealed fields name, 0 when none
    int seal_rc;        //  out (decode): the SEAL_* code when a field did not open, else 0
} store_codec_ctx_t;

//  Encode rec into buf (cap bytes); *len_p gets the size. Returns 0, or STORE_EINVAL when a string field is not NUL-terminated in its array or buf is too small.
//  The secret fields are sealed with ctx->ring's first key for ctx->key.
int store_codec_session_encode(const store_codec_ctx_t *ctx, const store_session_t *rec, char *buf, size_t cap,
                               size_t *len_p);
//  Decode a stored session record into rec, opening the fields ctx->open names. Returns 0, STORE_ENOTFOUND when a field
//  does not open or is not sealed as it should be (a lost record: ctx->seal_rc says why), or STORE_EINVAL for anything
//  but a well-formed record (rec is then undefined).
int store_codec_session_decode(store_codec_ctx_t *ctx, const void *data, size_t len, store_session_t *rec);
//  Encode a pending login into buf. Returns as store_codec_session_encode.
int store_codec_pending_encode(const store_codec_ctx_t *ctx, const store_pending_t *rec, char *buf, size_t cap,
                               size_t *len_p);
//  Decode a stored pending login into rec. Returns as store_codec_session_decode.
int store_codec_pending_decode(store_codec_ctx_t *ctx, const void *data, size_t len, store_pending_t *rec);

//  True when a session has expired at now (refresh_expires_at <= now: the record expires with its refresh token).
bool store_codec_session_expired(const store_session_t *rec, int64_t now);
//  True when a pending login has expired at now (created_at + STORE_PENDING_TTL_MS <= now).
bool store_codec_pending_expired(const store_pending_t *rec, int64_t now);

#endif
