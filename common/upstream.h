//  upstream: what a RingCentral answer means for our callers (architecture.md "Failures of RingCentral").
#ifndef UPSTREAM_H_INCLUDED
#define UPSTREAM_H_INCLUDED

#include "common/http.h"
#include "proto/proto.h"

//  The ERROR code for a response that is not a success: timeout -> UPSTREAM_TIMEOUT,
//  429 (and 503 with Retry-After) -> RATE_LIMITED, 5xx / network / oversize / other -> UPSTREAM_ERROR.
//  Returns PROTO_OK for a 2xx. 4xx other than 429 give UPSTREAM_REJECTED; callers refine 400/401.
proto_code_t upstream_code(const http_response_t *resp);
//  A short human message for code and resp (no body content, no secrets), for ERROR replies.
const char *upstream_message(proto_code_t code, const http_response_t *resp);
//  The Retry-After to pass on: the header when present, else 60 for a 429, else -1.
long upstream_retry_after(const http_response_t *resp);

#endif
