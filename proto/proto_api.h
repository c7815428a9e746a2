//  proto_api: THE table of RingCentral APIs the demo offers (name, path, title,
//  allowed query parameters), shared by the gateway (links, validation of ?api= and
//  of the parameters) and apisvc (the upstream path, validation again before the call).
//
//  Parameters travel in API{params} as "key=value&key=value": keys from the API's
//  allow-list, values already validated by proto_api_param_ok (so no '&', '=', '%'
//  or spaces); apisvc URL-encodes them when it builds the upstream URL.
#ifndef PROTO_API_H_INCLUDED
#define PROTO_API_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  The query parameters any API may allow (bits of proto_api_t.params).
typedef enum {
    PROTO_P_DATE_FROM = 1 << 0,  //  dateFrom: ISO 8601 date or date-time
    PROTO_P_DATE_TO = 1 << 1,    //  dateTo: the same
    PROTO_P_PAGE = 1 << 2,       //  page: 1..PROTO_API_PAGE_MAX
    PROTO_P_PER_PAGE = 1 << 3,   //  perPage: 1..1000
    PROTO_P_VIEW = 1 << 4,       //  view: Simple | Detailed
    PROTO_P_DIRECTION = 1 << 5,  //  direction: Inbound | Outbound
    PROTO_P_TYPE = 1 << 6,       //  type: Voice | Fax
} proto_param_t;

#define PROTO_API_PARAM_COUNT 7
#define PROTO_API_PAGE_MAX 100000
//  Longest API{params} string: the schema's limit of the field (proto_schema.c states it with this name).
#define PROTO_API_PARAMS_MAX 512

typedef struct {
    const char *name;      //  the value of ?api= and of API{api}
    const char *label;     //  its title (what the link says)
    const char *upstream;  //  the RingCentral path apisvc calls
    unsigned params;       //  the allowed parameters (proto_param_t bits)
    bool call_log;         //  a call log (shown as a table)
} proto_api_t;

//  The API named name. Returns NULL for any other name (so it validates ?api=).
const proto_api_t *proto_api_find(const char *name);
//  The i-th API of the table. Returns NULL past the end.
const proto_api_t *proto_api_at(size_t i);
//  The name of parameter i (0..PROTO_API_PARAM_COUNT-1, bit 1<<i). Returns NULL past the end.
const char *proto_api_param_name(size_t i);
//  The bit of the parameter named key. Returns 0 for any other key.
unsigned proto_api_param_bit(const char *key);
//  True when key is allowed for api and value is valid for it (bounded, allow-listed words, ISO dates).
bool proto_api_param_ok(const proto_api_t *api, const char *key, const char *value);
//  True when s is an ISO 8601 date (YYYY-MM-DD) or date-time (…THH:MM[:SS[.fff]][Z|±HH:MM]).
bool proto_api_is_iso_date(const char *s);

#endif
