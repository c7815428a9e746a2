//  calllog: API answers as a person reads them. The extension list as cards (name,
//  number, email, status, type); a call log as a table (start time, direction,
//  from -> to, duration h:mm:ss, result, type) with a record count, a form for the
//  date range / perPage / view, and previous/next links that follow RingCentral's
//  navigation URIs (only their allow-listed parameters: never their host).
//  Every value is escaped (%t / %a); the body is parsed with jansson after the
//  nesting check of apis_depth_ok (APIS_PRETTY_DEPTH).
#ifndef CALLLOG_H_INCLUDED
#define CALLLOG_H_INCLUDED

#include "gateway/apis.h"
#include "gateway/html.h"

//  secs as h:mm:ss ("0:00:07", "1:02:03"); "" for a negative value. out needs 24 bytes.
void calllog_duration(long long secs, char *out, size_t size);
//  Check key=value against api's allow-list (proto_api_param_ok) and append it to params ("k=v&k=v",
//  NUL-terminated). A date-only dateFrom becomes THH:MM 00:00:00.000Z, a date-only dateTo 23:59:59.999Z (UTC).
//  Returns 0, -1 when the parameter is not allowed or not valid, -2 when params would pass size.
int calllog_param_add(const apis_t *api, char *params, size_t size, const char *key, const char *value);
//  The value of key in params ("k=v&k=v") into out. Returns its length, or -1 when absent or too long.
int calllog_param_get(const char *params, const char *key, char *out, size_t size);
//  The test page's link for a navigation uri: "/test?api=NAME&…" with only the allow-listed, valid
//  parameters of the uri's query (its scheme, host and path are ignored). Returns 0, or -1 when the uri
//  cannot be parsed or the link does not fit size.
int calllog_nav_href(const apis_t *api, const char *uri, char *out, size_t size);
//  Write the readable view of body (api's answer; params: what was asked, for the form). Returns 0, or -1
//  when body is not the JSON expected (nothing written: the caller shows the raw answer only).
int calllog_render(html_t *h, const apis_t *api, const char *params, const char *body, size_t len);

#endif
