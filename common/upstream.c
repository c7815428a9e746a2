//  upstream: see upstream.h.
#include "common/upstream.h"

proto_code_t upstream_code(const http_response_t *resp)
{
    switch (resp->error) {
        case HTTP_OK: break;
        case HTTP_ETIMEOUT: return PROTO_UPSTREAM_TIMEOUT;
        case HTTP_ENETWORK:
        case HTTP_ETOOBIG:
        case HTTP_ECANCELLED: return PROTO_UPSTREAM_ERROR;
    }
    long s = resp->status;
    if (s >= 200 && s < 300)
        return PROTO_OK;
    if (s == 429 || (s == 503 && resp->retry_after > 0))
        return PROTO_RATE_LIMITED;
    if (s >= 400 && s < 500)
        return PROTO_UPSTREAM_REJECTED;
    return PROTO_UPSTREAM_ERROR;
}

const char *upstream_message(proto_code_t code, const http_response_t *resp)
{
    switch (code) {
        case PROTO_UPSTREAM_TIMEOUT: return "RingCentral did not answer in time";
        case PROTO_RATE_LIMITED: return "RingCentral asks us to slow down (rate limit)";
        case PROTO_UPSTREAM_REJECTED: return "RingCentral refused the request";
        case PROTO_UPSTREAM_ERROR:
            if (resp->error == HTTP_ENETWORK)
                return "RingCentral could not be reached";
            if (resp->error == HTTP_ETOOBIG)
                return "RingCentral sent an answer that is too large";
            return "RingCentral answered with an error";
        default: return "unexpected answer from RingCentral";
    }
}

long upstream_retry_after(const http_response_t *resp)
{
    if (resp->retry_after > 0)
        return resp->retry_after;
    return resp->status == 429 ? 60 : -1;
}
