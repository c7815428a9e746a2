//  counters: how many calls of each kind and outcome the mock has seen.
//  Lock-free (atomic) so the hot API path pays one atomic add.
#ifndef MOCKRC_COUNTERS_H_INCLUDED
#define MOCKRC_COUNTERS_H_INCLUDED

#include <jansson.h>

//  One id per counter; counters_name() gives the name used by GET /_mock/counters.
typedef enum {
    CTR_AUTHORIZE_PAGE,
    CTR_AUTHORIZE_APPROVE,
    CTR_AUTHORIZE_DENY,
    CTR_AUTHORIZE_REJECTED,
    CTR_TOKEN_CODE_OK,
    CTR_TOKEN_CODE_REJECTED,
    CTR_TOKEN_CODE_REPLAYED,
    CTR_TOKEN_REFRESH_OK,
    CTR_TOKEN_REFRESH_REJECTED,
    CTR_TOKEN_REFRESH_ROTATED_REUSE,
    CTR_TOKEN_REFRESH_GRACE,
    CTR_TOKEN_BAD_CLIENT,
    CTR_TOKEN_BAD_REQUEST,
    CTR_TOKEN_RATE_LIMITED,
    CTR_REVOKE_OK,
    CTR_REVOKE_UNKNOWN,
    CTR_REVOKE_REJECTED,
    CTR_REVOKE_BAD_CLIENT,
    CTR_API_EXTENSION_OK,
    CTR_API_EXTENSION_CALL_LOG_OK,
    CTR_API_ACCOUNT_CALL_LOG_OK,
    CTR_API_UNAUTHORIZED,
    CTR_API_EXPIRED,
    CTR_FAULT_INJECTED,
    CTR_HTTP_NOT_FOUND,
    CTR_COUNT
} counter_id_t;

typedef struct _counters_t counters_t;

//  Create a set of counters, all zero. Returns NULL when out of memory.
counters_t *counters_new(void);
//  Destroy the counters and set *self_p to NULL. Safe with NULL.
void counters_destroy(counters_t **self_p);
//  Add one to counter id.
void counters_add(counters_t *self, counter_id_t id);
//  Current value of counter id.
long counters_get(counters_t *self, counter_id_t id);
//  Set every counter to zero.
void counters_reset(counters_t *self);
//  The name of counter id ("token.code.ok"); "?" for an unknown id.
const char *counters_name(counter_id_t id);
//  A new JSON object name -> value of every counter. Returns NULL when out of memory.
json_t *counters_json(counters_t *self);

#endif
