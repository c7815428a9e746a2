//  http_script: a scripted HTTP transport in place of libcurl, for unit tests (test code only: tests/support/).
//
//  A test binary linked with -Wl,--wrap=http_start (the Makefile links authsvc/*_test.c so) has every
//  transfer its code starts through common/http.h recorded here instead of sent. The transfer stays in
//  flight until the test ends it with http_script_reply or http_script_fail, which call its done
//  callback as http_perform does in a service's loop: so the test decides what the server answers
//  (status, Retry-After, body, a network error, a timeout) and when (at once, late, or never), and
//  reads what was sent (http_script_call). One script per process; not thread-safe.
#ifndef HTTP_SCRIPT_H_INCLUDED
#define HTTP_SCRIPT_H_INCLUDED

#include "common/http.h"

#include <stdbool.h>
#include <stddef.h>

//  Transfers recorded between two resets; a start beyond fails (http_start returns -1).
#define HTTP_SCRIPT_MAX 64

//  What one transfer sent (copies of the request's fields; "" for those it had not).
typedef struct {
    char method[8];
    char url[1024];
    char *form;  //  the form body, "" when none
    char basic_user[128];
    char basic_pass[128];
    bool bearer;      //  an Authorization: Bearer header was asked for
    long timeout_ms;  //  the request's total timeout (0: the client's)
    bool ended;       //  answered (http_script_reply / _fail)
} http_script_call_t;

//  Forget every recorded transfer (those still in flight are dropped, never answered) and any http_script_refuse.
void http_script_reset(void);
//  Transfers started since the reset (refused ones not counted).
size_t http_script_count(void);
//  Transfers started and not answered yet.
size_t http_script_in_flight(void);
//  Transfer i (0: the first since the reset), or NULL when there is no such transfer.
const http_script_call_t *http_script_call(size_t i);
//  Make the next n starts fail (http_start returns -1, as when libcurl cannot start a transfer).
void http_script_refuse(int n);
//  End transfer i with an HTTP answer: status, retry_after (seconds from Retry-After; -1: no header) and
//  body (NULL: empty). Calls its done callback before returning. Returns 0, or -1 when i is not in flight.
int http_script_reply(size_t i, long status, long retry_after, const char *body);
//  End transfer i without an answer (HTTP_ETIMEOUT, HTTP_ENETWORK, HTTP_ETOOBIG, HTTP_ECANCELLED). Returns as above.
int http_script_fail(size_t i, http_error_t error);
//  End every transfer in flight with HTTP_ECANCELLED, as http_destroy does at shutdown.
void http_script_cancel_all(void);

#endif
