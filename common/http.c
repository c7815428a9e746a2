//  http: see http.h.
#include "common/http.h"
#include "common/clock.h"
#include "common/log.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

//  Easy handles kept for reuse: creating one per request is most of a transfer's CPU.
#define HTTP_IDLE_MAX 64

typedef struct _s_transfer_t s_transfer_t;
struct _s_transfer_t {
    s_transfer_t *prev, *next;  //  the client's list of running transfers
    http_t *owner;
    CURL *easy;
    struct curl_slist *headers;
    http_done_fn *done;
    void *arg;
    char *body;
    size_t len, cap;
    int too_big;
    char *bearer_header;
};

struct _http_t {
    CURLM *multi;
    long connect_timeout_ms, timeout_ms;
    size_t max_body;
    s_transfer_t *running;
    CURL *idle[HTTP_IDLE_MAX];  //  finished easy handles kept for reuse (curl_easy_reset)
    size_t idle_count;
    //  curl says which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to call back
    //  (CURLMOPT_TIMERFUNCTION): only ready sockets are handled, never a scan of all transfers
    //  (which made each turn of the loop cost O(transfers in flight)).
    int epfd;
    int64_t timer_due_ms;  //  monotonic; -1 when curl wants no call back
};

static int s_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void) easy;
    (void) socketp;
    http_t *self = userp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(self->epfd, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    struct epoll_event ev = { .events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u),
                              .data.fd = fd };
    if (epoll_ctl(self->epfd, EPOLL_CTL_MOD, fd, &ev) != 0
        && (errno != ENOENT || epoll_ctl(self->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)) {
        log_error("http.epoll", "error=\"%s\"", strerror(errno));
        return -1;
    }
    return 0;
}

static int s_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void) multi;
    http_t *self = userp;
    self->timer_due_ms = timeout_ms < 0 ? -1 : clock_mono_ms() + timeout_ms;
    return 0;
}

static int s_global_init;

http_t *http_new(long connect_timeout_ms, long timeout_ms, size_t max_body)
{
    if (!s_global_init) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        s_global_init = 1;
    }
    http_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->timer_due_ms = -1;
    self->epfd = epoll_create1(EPOLL_CLOEXEC);
    self->multi = self->epfd >= 0 ? curl_multi_init() : NULL;
    if (!self->multi) {
        if (self->epfd >= 0)
            close(self->epfd);
        free(self);
        return NULL;
    }
    curl_multi_setopt(self->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb);
    curl_multi_setopt(self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt(self->multi, CURLMOPT_TIMERFUNCTION, s_timer_cb);
    curl_multi_setopt(self->multi, CURLMOPT_TIMERDATA, self);
    //  Keep as many idle connections as transfers can be in flight (the gateway's requests, at most
    //  its threads), so a finished transfer's connection is reused, not closed: at 512 with 1,000 in
    //  flight apisvc reconnected all the time (bench (c1000): 259 -> 135 us a request in apisvc at 2048).
    curl_multi_setopt(self->multi, CURLMOPT_MAXCONNECTS, 2048L);
    self->connect_timeout_ms = connect_timeout_ms;
    self->timeout_ms = timeout_ms;
    self->max_body = max_body;
    return self;
}

static void s_transfer_free(s_transfer_t *t)
{
    curl_slist_free_all(t->headers);
    if (t->bearer_header) {
        memset(t->bearer_header, 0, strlen(t->bearer_header));
        free(t->bearer_header);
    }
    free(t->body);
    free(t);
}

static void s_finish(s_transfer_t *t, CURLcode code)
{
    http_response_t resp = { .error = HTTP_OK, .retry_after = -1 };
    static char empty[1];
    resp.body = t->body ? t->body : empty;
    resp.body_len = t->len;
    if (code == CURLE_OK) {
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &resp.status);
        char *ct = NULL;
        if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
            snprintf(resp.content_type, sizeof resp.content_type, "%s", ct);
        curl_off_t ra = -1;
        if (curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
            resp.retry_after = (long) ra;
    }
    else if (t->too_big)
        resp.error = HTTP_ETOOBIG;
    else if (code == CURLE_OPERATION_TIMEDOUT)
        resp.error = HTTP_ETIMEOUT;
    else if (code == CURLE_ABORTED_BY_CALLBACK)
        resp.error = HTTP_ECANCELLED;
    else
        resp.error = HTTP_ENETWORK;
    double secs = 0;
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME, &secs);
    resp.elapsed_ms = (long) (secs * 1000);
    if (t->prev)
        t->prev->next = t->next;
    else
        t->owner->running = t->next;
    if (t->next)
        t->next->prev = t->prev;
    http_t *owner = t->owner;
    curl_multi_remove_handle(owner->multi, t->easy);
    if (owner->idle_count < HTTP_IDLE_MAX) {
        curl_easy_reset(t->easy);
        owner->idle[owner->idle_count++] = t->easy;
    }
    else
        curl_easy_cleanup(t->easy);
    t->easy = NULL;
    t->done(&resp, t->arg);
    s_transfer_free(t);
}

void http_destroy(http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    http_t *self = *self_p;
    while (self->running)
        s_finish(self->running, CURLE_ABORTED_BY_CALLBACK);
    while (self->idle_count)
        curl_easy_cleanup(self->idle[--self->idle_count]);
    curl_multi_cleanup(self->multi);
    close(self->epfd);
    free(self);
    *self_p = NULL;
}

static size_t s_write(char *data, size_t size, size_t nmemb, void *userp)
{
    s_transfer_t *t = userp;
    size_t n = size * nmemb;
    if (t->len + n > t->owner->max_body) {
        t->too_big = 1;
        return 0;
    }
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n + 1)
            cap *= 2;
        if (cap > t->owner->max_body + 1)
            cap = t->owner->max_body + 1;
        char *body = realloc(t->body, cap);
        if (!body)
            return 0;
        t->body = body;
        t->cap = cap;
    }
    memcpy(t->body + t->len, data, n);
    t->len += n;
    t->body[t->len] = '\0';
    return n;
}

int http_start(http_t *self, const http_request_t *req, http_done_fn *done, void *arg)
{
    s_transfer_t *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->owner = self;
    t->done = done;
    t->arg = arg;
    t->easy = self->idle_count ? self->idle[--self->idle_count] : curl_easy_init();
    if (!t->easy) {
        free(t);
        return -1;
    }
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, self->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : self->timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "rc-oauth-demo/1.0");
    t->headers = curl_slist_append(t->headers, "Accept: application/json");
    //  Without this curl sends "Expect: 100-continue" on larger POSTs and waits.
    t->headers = curl_slist_append(t->headers, "Expect:");
    if (req->bearer) {
        size_t n = strlen(req->bearer) + sizeof "Authorization: Bearer ";
        t->bearer_header = malloc(n);
        if (t->bearer_header) {
            snprintf(t->bearer_header, n, "Authorization: Bearer %s", req->bearer);
            t->headers = curl_slist_append(t->headers, t->bearer_header);
        }
    }
    if (req->basic_user) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, req->basic_user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, req->basic_pass ? req->basic_pass : "");
    }
    if (req->form) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long) strlen(req->form));
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->form);
    }
    else if (req->method && strcmp(req->method, "POST") == 0)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    if (!t->headers || (req->bearer && !t->bearer_header) || curl_multi_add_handle(self->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        s_transfer_free(t);
        return -1;
    }
    t->next = self->running;
    if (t->next)
        t->next->prev = t;
    self->running = t;
    return 0;
}

void http_perform(http_t *self)
{
    int running = 0;  //  curl's count of transfers; not needed here
    struct epoll_event evs[64];
    int n = epoll_wait(self->epfd, evs, 64, 0);
    for (int i = 0; i < n; i++) {
        int flags = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) | (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0)
            | (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(self->multi, evs[i].data.fd, flags, &running);
    }
    if (self->timer_due_ms >= 0 && clock_mono_ms() >= self->timer_due_ms) {
        self->timer_due_ms = -1;
        curl_multi_socket_action(self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(self->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        s_transfer_t *t = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &t);
        CURLcode code = msg->data.result;
        if (t)
            s_finish(t, code);
    }
}

int http_fd(const http_t *self)
{
    return self->epfd;
}

long http_wait_ms(const http_t *self)
{
    if (self->timer_due_ms < 0)
        return -1;
    int64_t left = self->timer_due_ms - clock_mono_ms();
    return left > 0 ? (long) left : 0;
}

int http_form_add(char *buf, size_t size, const char *key, const char *value)
{
    char *k = curl_easy_escape(NULL, key, 0);
    char *v = curl_easy_escape(NULL, value ? value : "", 0);
    int rc = -1;
    if (k && v) {
        size_t used = strlen(buf);
        int n = snprintf(buf + used, size - used, "%s%s=%s", used ? "&" : "", k, v);
        rc = n > 0 && (size_t) n < size - used ? 0 : -1;
        if (rc)
            buf[used] = '\0';
    }
    curl_free(k);
    curl_free(v);
    return rc;
}

const char *http_strerror(http_error_t error)
{
    switch (error) {
        case HTTP_OK: return "ok";
        case HTTP_ETIMEOUT: return "timeout";
        case HTTP_ENETWORK: return "network";
        case HTTP_ETOOBIG: return "too_big";
        case HTTP_ECANCELLED: return "cancelled";
    }
    return "unknown";
}
