//  http: asynchronous HTTPS client on one libcurl multi handle, for a service's event loop.
//
//  Many transfers run at once; connections are kept alive in the multi handle's
//  cache and reused. Every transfer is bounded: connect and total timeouts, and a
//  ceiling on the response body. Not thread-safe: one http_t per event loop.
#ifndef HTTP_H_INCLUDED
#define HTTP_H_INCLUDED

#include <stddef.h>

typedef struct _http_t http_t;

typedef enum {
    HTTP_OK = 0,      //  a response arrived (any status)
    HTTP_ETIMEOUT,    //  connect or total timeout
    HTTP_ENETWORK,    //  connection refused, reset, DNS, TLS, dropped without response
    HTTP_ETOOBIG,     //  body over the ceiling
    HTTP_ECANCELLED,  //  the client was destroyed before the transfer ended
} http_error_t;

typedef struct {
    http_error_t error;
    long status;  //  HTTP status when error == HTTP_OK, else 0
    char *body;   //  NUL-terminated, owned by the response; never NULL
    size_t body_len;
    char content_type[128];  //  "" when absent
    long retry_after;        //  seconds from Retry-After, -1 when absent
    long elapsed_ms;
} http_response_t;

typedef struct {
    const char *method;  //  "GET" or "POST"
    const char *url;
    const char *bearer;      //  Authorization: Bearer <bearer>, or NULL
    const char *basic_user;  //  Authorization: Basic, with basic_pass, or NULL
    const char *basic_pass;
    const char *form;  //  application/x-www-form-urlencoded body (copied), or NULL
    long timeout_ms;   //  total timeout of this transfer; 0 = the client's default
} http_request_t;

//  Called once per transfer with its response; the response is freed after the call returns.
typedef void(http_done_fn)(const http_response_t *resp, void *arg);

//  A new client. Returns NULL when libcurl cannot be set up.
http_t *http_new(long connect_timeout_ms, long timeout_ms, size_t max_body);
//  Cancel what is running (callbacks get HTTP_ECANCELLED), free, set *self_p to NULL. Safe with NULL.
void http_destroy(http_t **self_p);
//  Start a transfer; done is called from http_perform. Returns 0, or -1 (done is then never called).
int http_start(http_t *self, const http_request_t *req, http_done_fn *done, void *arg);
//  Move on the transfers whose sockets are ready or whose time has come, and call done for those
//  that ended. Never blocks.
void http_perform(http_t *self);
//  A file descriptor that polls readable when http_perform has socket work (an epoll set).
int http_fd(const http_t *self);
//  Milliseconds until http_perform must run even without socket activity (curl's timers); -1: none.
long http_wait_ms(const http_t *self);
//  Append "key=value" (both URL-encoded by libcurl) to a form in buf. Returns 0, or -1 when buf is too small.
int http_form_add(char *buf, size_t size, const char *key, const char *value);
//  The name of an http_error_t for logs.
const char *http_strerror(http_error_t error);

#endif
