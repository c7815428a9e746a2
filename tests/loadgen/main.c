//  loadgen: complete OAuth logins through the gateway and the mock, as fast as
//  N concurrent clients can, on one libcurl multi handle (keep-alive).
//      loadgen --url http://127.0.0.1:5000 [--env sandbox] [--clients 20] [--seconds 10]
//              [--sessions N --out FILE]
//  Each login: GET /login?env= (session cookie + authorize URL), GET the mock's
//  authorize URL (auto-approve: 302 to the callback), GET /oauth2callback (200,
//  rotated cookie). With --sessions, makes N logins and writes their cookies to
//  FILE (one "rcsid=..." per line) for wrk; otherwise runs for --seconds and
//  prints logins/s, latency p50/p99 and errors as key=value.
#include "common/log.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BODY_MAX (64u << 10)
#define URL_MAX 4096
#define MAX_CLIENTS 512
#define MAX_SAMPLES (1u << 20)

typedef enum { STEP_LOGIN, STEP_AUTHORIZE, STEP_CALLBACK } step_t;

typedef struct {
    CURL *easy;
    step_t step;
    char body[BODY_MAX + 1];
    size_t len;
    char location[URL_MAX];
    char cookie[256];
    double started;
} client_t;

static const char *s_base = "http://127.0.0.1:5000";
static const char *s_env = "sandbox";
static double *s_samples;
static size_t s_nsamples;
static long s_errors;
static FILE *s_out;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t s_on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    client_t *c = arg;
    size_t n = size * nmemb;
    if (c->len + n > BODY_MAX)
        return 0;
    memcpy(c->body + c->len, data, n);
    c->len += n;
    c->body[c->len] = '\0';
    return n;
}

//  Keep the rcsid cookie and the Location header; curl gives one header line per call.
static size_t s_on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    client_t *c = arg;
    size_t n = size * nmemb;
    char line[URL_MAX];
    if (n >= sizeof line)
        return n;
    memcpy(line, data, n);
    line[n] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strncasecmp(line, "location: ", 10) == 0)
        snprintf(c->location, sizeof c->location, "%s", line + 10);
    else if (strncasecmp(line, "set-cookie: rcsid=", 18) == 0) {
        size_t v = strcspn(line + 12, ";");
        if (v < sizeof c->cookie)
            snprintf(c->cookie, sizeof c->cookie, "%.*s", (int) v, line + 12);
    }
    return n;
}

//  The authorize URL from the login page's fallback link, with &amp; undone.
static int s_authorize_url(const char *page, char *out, size_t size)
{
    const char *p = strstr(page, "id=\"authorize-link\" href=\"");
    if (!p)
        return -1;
    p = strchr(p, 'h') ? strstr(p, "href=\"") + 6 : NULL;
    const char *end = p ? strchr(p, '"') : NULL;
    if (!end)
        return -1;
    size_t j = 0;
    for (const char *s = p; s < end && j + 1 < size; j++) {
        if (strncmp(s, "&amp;", 5) == 0) {
            out[j] = '&';
            s += 5;
        }
        else
            out[j] = *s++;
    }
    out[j] = '\0';
    return 0;
}

static void s_request(CURLM *multi, client_t *c, const char *url, int with_cookie)
{
    curl_multi_remove_handle(multi, c->easy);
    c->len = 0;
    c->location[0] = '\0';
    curl_easy_setopt(c->easy, CURLOPT_URL, url);
    curl_easy_setopt(c->easy, CURLOPT_COOKIE, with_cookie && c->cookie[0] ? c->cookie : NULL);
    curl_multi_add_handle(multi, c->easy);
}

static void s_start_login(CURLM *multi, client_t *c)
{
    char url[URL_MAX];
    c->step = STEP_LOGIN;
    c->cookie[0] = '\0';
    c->started = s_now();
    snprintf(url, sizeof url, "%s/login?env=%s", s_base, s_env);
    s_request(multi, c, url, 0);
}

//  Move a client on after a finished transfer. Returns 0 (next request sent), 1 (login done) or -1 (failed).
static int s_advance(CURLM *multi, client_t *c, CURLcode rc)
{
    long status = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    char url[URL_MAX];
    if (rc != CURLE_OK)
        goto fail;
    if (c->step == STEP_LOGIN) {
        if (status != 200 || s_authorize_url(c->body, url, sizeof url) != 0)
            goto fail;
        c->step = STEP_AUTHORIZE;
        s_request(multi, c, url, 0);
        return 0;
    }
    if (c->step == STEP_AUTHORIZE) {
        const char *q = strstr(c->location, "/oauth2callback?");
        if (status != 302 || !q)
            goto fail;
        snprintf(url, sizeof url, "%s%s", s_base, q);
        c->step = STEP_CALLBACK;
        s_request(multi, c, url, 1);
        return 0;
    }
    if (status != 200 || !strstr(c->body, "success"))
        goto fail;
    if (s_nsamples < MAX_SAMPLES)
        s_samples[s_nsamples++] = s_now() - c->started;
    if (s_out)
        fprintf(s_out, "%s\n", c->cookie);
    return 1;
fail:
    s_errors++;
    if (s_errors <= 5)
        fprintf(stderr, "loadgen: step %d failed: curl=%d status=%ld\n", c->step, rc, status);
    return -1;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static long s_arg_long(const char *v, long lo, long hi, const char *name)
{
    char *end;
    errno = 0;
    long n = strtol(v ? v : "", &end, 10);
    if (errno || *end || !v || !*v || n < lo || n > hi) {
        fprintf(stderr, "loadgen: %s must be %ld..%ld\n", name, lo, hi);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    long clients = 20, seconds = 10, sessions = 0;
    const char *out_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--url") == 0 && v)
            s_base = argv[++i];
        else if (strcmp(argv[i], "--env") == 0 && v)
            s_env = argv[++i];
        else if (strcmp(argv[i], "--clients") == 0) {
            clients = s_arg_long(v, 1, MAX_CLIENTS, "--clients");
            i++;
        }
        else if (strcmp(argv[i], "--seconds") == 0) {
            seconds = s_arg_long(v, 1, 3600, "--seconds");
            i++;
        }
        else if (strcmp(argv[i], "--sessions") == 0) {
            sessions = s_arg_long(v, 1, 1000000, "--sessions");
            i++;
        }
        else if (strcmp(argv[i], "--out") == 0 && v)
            out_path = argv[++i];
        else {
            fprintf(stderr,
                    "usage: loadgen --url URL [--env E] [--clients N] [--seconds S] [--sessions N --out FILE]\n");
            return 2;
        }
    }
    if (out_path && !(s_out = fopen(out_path, "w"))) {
        perror(out_path);
        return 2;
    }
    s_samples = calloc(MAX_SAMPLES, sizeof *s_samples);
    client_t *cs = calloc((size_t) clients, sizeof *cs);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    if (!s_samples || !cs || !multi)
        return 1;
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long) clients * 2 + 8);
    for (long i = 0; i < clients; i++) {
        client_t *c = &cs[i];
        c->easy = curl_easy_init();
        curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
        curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, s_on_body);
        curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
        curl_easy_setopt(c->easy, CURLOPT_HEADERFUNCTION, s_on_header);
        curl_easy_setopt(c->easy, CURLOPT_HEADERDATA, c);
        curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    }
    long started = 0, done = 0, active = 0;
    double t0 = s_now(), deadline = t0 + (double) seconds;
    for (long i = 0; i < clients && (!sessions || started < sessions); i++, started++, active++)
        s_start_login(multi, &cs[i]);
    while (active > 0) {
        int still;
        curl_multi_perform(multi, &still);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            client_t *c = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &c);
            int res = s_advance(multi, c, msg->data.result);
            if (res == 0)
                continue;
            done += res > 0;
            curl_multi_remove_handle(multi, c->easy);
            if (sessions ? started < sessions : s_now() < deadline) {
                started++;
                s_start_login(multi, c);
            }
            else
                active--;
        }
        if (active > 0)
            curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    double elapsed = s_now() - t0;
    qsort(s_samples, s_nsamples, sizeof *s_samples, s_cmp);
    double p50 = s_nsamples ? s_samples[s_nsamples / 2] : 0;
    double p99 = s_nsamples ? s_samples[(size_t) ((double) s_nsamples * 0.99)] : 0;
    printf("logins=%ld errors=%ld seconds=%.2f logins_per_s=%.0f p50_ms=%.1f p99_ms=%.1f clients=%ld\n", done, s_errors,
           elapsed, (double) done / elapsed, p50 * 1000, p99 * 1000, clients);
    for (long i = 0; i < clients; i++) {
        curl_multi_remove_handle(multi, cs[i].easy);
        curl_easy_cleanup(cs[i].easy);
    }
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    if (s_out)
        fclose(s_out);
    free(cs);
    free(s_samples);
    return s_errors ? 1 : 0;
}
