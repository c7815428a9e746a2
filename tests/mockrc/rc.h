//  rc: what every RingCentral endpoint of the mock shares: the start of each
//  request (added latency, then an injected fault) and RingCentral-shaped
//  error replies.
#ifndef MOCKRC_RC_H_INCLUDED
#define MOCKRC_RC_H_INCLUDED

#include "tests/mockrc/state.h"

#include <civetweb.h>

//  Wait the configured latency, then apply the first queued fault matching leaf (a fault_leaf_t).
//  Returns 1 when the fault answered (or dropped) the request and the handler must stop, else 0.
int rc_begin(state_t *st, struct mg_connection *c, unsigned leaf);
//  Send 429 CMN-301 with Retry-After and the X-Rate-Limit-* headers of group. Returns 429.
int rc_rate_limited(struct mg_connection *c, const char *group, int limit, long window_s, long retry_after);
//  Send an OAuth error {"error","error_description","errors":[{"errorCode","message"}]}. Returns status.
int rc_oauth_error(struct mg_connection *c, int status, const char *error, const char *error_code,
                   const char *description, const char *const *headers);
//  Send an API error {"errorCode","message","errors":[{"errorCode","message"}]} (headers as in
//  web_send). Returns status.
int rc_api_error(struct mg_connection *c, int status, const char *error_code, const char *sub_code, const char *message,
                 const char *const *headers);

#endif
