//  http_script: see http_script.h. Built into the tests' library only (tests/support/*.c); its http_start stands in
//  for common/http.c's only in binaries linked with -Wl,--wrap=http_start, and never in a service.
#include "tests/support/http_script.h"
#include "common/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The linker sends every call of http_start here (-Wl,--wrap=http_start).
int __wrap_http_start(http_t *self, const http_request_t *req, http_done_fn *done, void *arg);

typedef struct {
    http_script_call_t call;
    http_done_fn *done;
    void *arg;
    int64_t started_ms;
} s_transfer_t;

static s_transfer_t s_transfers[HTTP_SCRIPT_MAX];
static size_t s_count;
static int s_refuse;

static void s_copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

int __wrap_http_start(http_t *self, const http_request_t *req, http_done_fn *done, void *arg)
{
    (void) self;
    if (s_refuse > 0) {
        s_refuse--;
        return -1;
    }
    if (s_count == HTTP_SCRIPT_MAX || !req || !done)
        return -1;
    s_transfer_t *t = &s_transfers[s_count];
    memset(t, 0, sizeof *t);
    t->call.form = strdup(req->form ? req->form : "");
    if (!t->call.form)
        return -1;
    s_copy(t->call.method, sizeof t->call.method, req->method);
    s_copy(t->call.url, sizeof t->call.url, req->url);
    s_copy(t->call.basic_user, sizeof t->call.basic_user, req->basic_user);
    s_copy(t->call.basic_pass, sizeof t->call.basic_pass, req->basic_pass);
    t->call.bearer = req->bearer != NULL;
    t->call.timeout_ms = req->timeout_ms;
    t->done = done;
    t->arg = arg;
    t->started_ms = clock_mono_ms();
    s_count++;
    return 0;
}

void http_script_reset(void)
{
    for (size_t i = 0; i < s_count; i++)
        free(s_transfers[i].call.form);
    memset(s_transfers, 0, sizeof s_transfers);
    s_count = 0;
    s_refuse = 0;
}

size_t http_script_count(void)
{
    return s_count;
}

size_t http_script_in_flight(void)
{
    size_t n = 0;
    for (size_t i = 0; i < s_count; i++)
        n += !s_transfers[i].call.ended;
    return n;
}

const http_script_call_t *http_script_call(size_t i)
{
    return i < s_count ? &s_transfers[i].call : NULL;
}

void http_script_refuse(int n)
{
    s_refuse = n;
}

//  End transfer i with resp (its body, status and error set by the caller), as http.c's s_finish does.
static int s_end(size_t i, http_response_t *resp)
{
    if (i >= s_count || s_transfers[i].call.ended)
        return -1;
    s_transfer_t *t = &s_transfers[i];
    t->call.ended = true;  //  before the callback: it may start transfers of its own
    resp->elapsed_ms = (long) (clock_mono_ms() - t->started_ms);
    t->done(resp, t->arg);
    return 0;
}

int http_script_reply(size_t i, long status, long retry_after, const char *body)
{
    size_t len = body ? strlen(body) : 0;
    char *copy = malloc(len + 1);  //  the callback gets a body of its own, NUL-terminated, as from http.c
    if (!copy)
        return -1;
    memcpy(copy, body ? body : "", len + 1);
    http_response_t resp = { .error = HTTP_OK,
                             .status = status,
                             .body = copy,
                             .body_len = len,
                             .retry_after = retry_after > 0 ? retry_after : -1 };
    if (len && body[0] == '{')
        snprintf(resp.content_type, sizeof resp.content_type, "application/json");
    int rc = s_end(i, &resp);
    free(copy);
    return rc;
}

int http_script_fail(size_t i, http_error_t error)
{
    static char empty[1];
    http_response_t resp = { .error = error, .body = empty, .retry_after = -1 };
    return s_end(i, &resp);
}

void http_script_cancel_all(void)
{
    for (size_t i = 0; i < s_count; i++)
        if (!s_transfers[i].call.ended)
            http_script_fail(i, HTTP_ECANCELLED);
}
