//  upstream: what a RingCentral answer means for our callers (docs/ARCHITECTURE.md "Failures of RingCentral").
#ifndef UPSTREAM_H_INCLUDED
#define UPSTREAM_H_INCLUDED

#include "common/http.h"
#include "proto/proto.h"

//  The ERROR code for a response that is not a success: timeout -> UPSTREAM_TIMEOUT, network (no answer)
//  -> UPSTREAM_UNREACHABLE, 429 (and 503 with Retry-After) -> RATE_LIMITED, 5xx / oversize / other ->
//  UPSTREAM_ERROR. Returns PROTO_OK for a 2xx. 4xx other than 429 give UPSTREAM_DENIED (an API refused the
//  call); the token endpoint's callers refine them (oauth_classify).
proto_code_t upstream_code(const http_response_t *resp);
//  A short human message for code and resp (no body content, no secrets), for ERROR replies.
const char *upstream_message(proto_code_t code, const http_response_t *resp);
//  Seconds to wait after a 429 that says nothing (no Retry-After header).
#define UPSTREAM_RETRY_AFTER_DEFAULT 60
//  THE Retry-After rule: the header when present, else UPSTREAM_RETRY_AFTER_DEFAULT for a 429, else -1. So it is
//  > 0 for every answer upstream_code calls RATE_LIMITED (a 429, or a 503 with the header).
long upstream_retry_after(const http_response_t *resp);

//  Longest upstream_code and upstream_message carried: the ERROR schema's limits.
#define UPSTREAM_CODE_MAX PROTO_UPSTREAM_CODE_MAX
#define UPSTREAM_MESSAGE_MAX PROTO_UPSTREAM_MESSAGE_MAX

//  RingCentral's own words about a failed answer (its errorCode / OAuth error and message): not secret, never a token.
typedef struct {
    long status;                             //  the HTTP status; 0 when no answer arrived
    char code[UPSTREAM_CODE_MAX + 1];        //  errorCode (top-level, else errors[].errorCode) or OAuth error; ""
    char message[UPSTREAM_MESSAGE_MAX + 1];  //  message, error_description or errors[0].message; ""
} upstream_detail_t;

//  Read d from resp: its status, and from a JSON body of at most 64 KiB its code and message (a code
//  keeps only [A-Za-z0-9_.-], a message has control characters made spaces, cut at a character
//  boundary). Never fails: what is missing or unreadable stays "".
void upstream_detail_read(const http_response_t *resp, upstream_detail_t *d);
//  Set env (when not NULL) and the upstream_* fields that d has on an ERROR message. Returns 0, or -1.
int upstream_detail_set(proto_msg_t *error, const char *env, const upstream_detail_t *d);
//  Write " upstream_status=403 upstream_code=X upstream_message=\"...\"" (the parts d has; the message
//  with quotes and backslashes made ', at most 200 bytes) into buf, for a log line. Returns buf ("" when none).
const char *upstream_detail_log(const upstream_detail_t *d, char *buf, size_t size);
//  A new ERROR for request rid with code, message, retry_after (<0: none), env and d's fields. Returns NULL
//  when out of memory.
proto_msg_t *upstream_error_new(uint64_t rid, proto_code_t code, const char *message, int64_t retry_after,
                                const char *env, const upstream_detail_t *d);

#endif
