//  store_codec: the msgpack form of the store's records (internal to common/store*).
//
//  A session is the map {env, access_token, refresh_token, expires_at,
//  refresh_expires_at, owner_id, scope, version, refreshing_until} plus the
//  optional prev_sid, rate_limited_until and refreshing_pid (absent in older records); a pending
//  login is {sid, env, code_verifier, created_at}. Both are described by one
//  field table each (store_codec.c) that the encoder and decoder walk.
//  Decoding treats the bytes as untrusted (a corrupt or foreign file): size,
//  container counts and every field's type and length are checked before use.
#ifndef STORE_CODEC_H_INCLUDED
#define STORE_CODEC_H_INCLUDED

#include "common/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Largest encoded record, with headroom: two tokens, three short fields, keys and ints.
#define STORE_CODEC_MAX (2 * STORE_TOKEN_MAX + 4 * STORE_FIELD_MAX + 1024)

//  Encode rec into buf (cap bytes); *len_p gets the size. Returns 0, or STORE_EINVAL when a string field is not NUL-terminated in its array or buf is too small.
int store_codec_session_encode(const store_session_t *rec, char *buf, size_t cap, size_t *len_p);
//  Decode a stored session record into rec. Returns 0, or STORE_EINVAL for anything but a well-formed record (rec is then undefined).
int store_codec_session_decode(const void *data, size_t len, store_session_t *rec);
//  Encode a pending login into buf. Returns as store_codec_session_encode.
int store_codec_pending_encode(const store_pending_t *rec, char *buf, size_t cap, size_t *len_p);
//  Decode a stored pending login into rec. Returns 0 or STORE_EINVAL.
int store_codec_pending_decode(const void *data, size_t len, store_pending_t *rec);

//  True when a session has expired at now (refresh_expires_at <= now: the record expires with its refresh token).
bool store_codec_session_expired(const store_session_t *rec, int64_t now);
//  True when a pending login has expired at now (created_at + STORE_PENDING_TTL_MS <= now).
bool store_codec_pending_expired(const store_pending_t *rec, int64_t now);

#endif
