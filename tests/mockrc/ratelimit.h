//  ratelimit: RingCentral's per-user-and-app request limit with a penalty box.
//
//  At most `limit` requests per window; the next one starts a penalty of one
//  window, and every request made during the penalty restarts it. Not
//  thread-safe: the owner locks.
#ifndef MOCKRC_RATELIMIT_H_INCLUDED
#define MOCKRC_RATELIMIT_H_INCLUDED

#include <stdint.h>

typedef struct _ratelimit_t ratelimit_t;

//  Create an empty limiter. Returns NULL when out of memory.
ratelimit_t *ratelimit_new(void);
//  Destroy the limiter and set *self_p to NULL. Safe with NULL.
void ratelimit_destroy(ratelimit_t **self_p);
//  Forget every key.
void ratelimit_clear(ratelimit_t *self);
//  Count one request of key at now_ms. Returns 0 when allowed (*remaining = requests left
//  in the window), 1 when limited (*remaining = 0). Out of memory: allowed.
int ratelimit_hit(ratelimit_t *self, const char *key, int64_t now_ms, int limit, int64_t window_ms, int *remaining);

#endif
