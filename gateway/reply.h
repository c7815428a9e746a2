//  reply: writing HTTP responses, and THE table from service ERROR codes to status pages.
//
//  Every dynamic response carries Cache-Control: no-store, Referrer-Policy:
//  no-referrer (the callback URL carries the code), X-Content-Type-Options:
//  nosniff, X-Frame-Options: DENY and the Content-Security-Policy below.
#ifndef REPLY_H_INCLUDED
#define REPLY_H_INCLUDED

#include "common/config.h"
#include "gateway/assets.h"
#include "gateway/html.h"
#include "gateway/pages.h"
#include "proto/proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mg_connection;

#define REPLY_CSP                                                               \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " \
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

//  One extra response header (Set-Cookie, Location, Retry-After, Allow ...).
typedef struct {
    const char *name;
    const char *value;
} reply_header_t;

//  Up to this many extra headers per response.
#define REPLY_EXTRA_MAX 4

//  How one service error code is shown.
typedef struct {
    proto_code_t code;
    int status;
    const char *title;
    const char *explain;
} reply_error_t;

//  What the page of one ERROR says: the table's row refined with RingCentral's words (ERROR's env and
//  upstream_* fields) and the configuration (the env file, the server).
typedef struct {
    int status;
    const char *title;
    char explain[1024];
    char detail[1024];  //  "" for none: RingCentral's status, code and message, else the service's message
} reply_text_t;

//  Fill out with what the page of error says; st says whether the user is still logged in (and the
//  session's env, when the ERROR names none); cfg may be NULL (then no file or server is named).
void reply_error_text(const proto_msg_t *error, const pages_state_t *st, const config_t *cfg, reply_text_t *out);
//  The row of code in the error table. Returns the INTERNAL row for an unknown code; never NULL.
const reply_error_t *reply_error_info(proto_code_t code);
//  True when an Accept header prefers application/json to text/html (higher q, or the same q with JSON
//  named and HTML only under */*). False for NULL.
bool reply_wants_json(const char *accept);

//  Send a complete response with the security headers. Returns status, or -1 when the connection failed.
int reply_send(struct mg_connection *conn, int status, const char *content_type, const void *body, size_t len,
               const reply_header_t *extra, size_t extra_count);
//  Send the page in h (a 500 page instead when h overflowed). Returns the status sent.
int reply_page(struct mg_connection *conn, int status, const html_t *h, const reply_header_t *extra,
               size_t extra_count);
//  Send a redirect (302, 303) to location with a short body. Returns status.
int reply_redirect(struct mg_connection *conn, int status, const char *location, const reply_header_t *extra,
                   size_t extra_count);
//  Render and send an error page (status from e->status). Returns the status sent.
int reply_error_page(struct mg_connection *conn, const pages_state_t *st, const pages_error_t *e,
                     const reply_header_t *extra, size_t extra_count);
//  Render and send the page of a service ERROR message (reply_error_text; a Retry-After header from
//  retry_after), with back_href/back_label as the way back (NULL for the start page). Returns the status sent.
int reply_service_error(struct mg_connection *conn, const pages_state_t *st, const config_t *cfg,
                        const proto_msg_t *error, const char *back_href, const char *back_label);
//  Send a service ERROR message as JSON {"error","message","retry_after"?,"upstream_status"?,"upstream_code"?,
//  "upstream_message"?} with its status. Returns the status sent.
int reply_service_error_json(struct mg_connection *conn, const proto_msg_t *error);
//  Send a compiled-in asset (304 when if_none_match matches its ETag). Returns the status sent.
int reply_asset(struct mg_connection *conn, const assets_file_t *file, const char *if_none_match);

#endif
