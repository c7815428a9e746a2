//  front: see front.h.
#include "gateway/front.h"
#include "gateway/pages.h"
#include "gateway/reply.h"
#include "gateway/server.h"

#include <string.h>

typedef struct {
    const char *name;
    int status;
    const char *title;
    const char *explain;
} s_page_t;

//  THE pages of the front (deploy/nginx-conf renders each into the front's folder).
static const s_page_t s_pages[] = {
    { "rate-limited", 429, "Too many requests", "Too many requests from your address; wait a moment and try again." },
    { "unavailable", 503, "Service unavailable", "The service is not answering; try again in a moment." },
    { "too-large", 413, "Request too large",
      "This request was larger than this site accepts (its form, or its headers and cookies). Go back to the "
      "start and try again." },
};
#define PAGE_COUNT (sizeof s_pages / sizeof s_pages[0])

//  The same as reply.c sends with every dynamic response (server_test checks that they agree).
static const char *const s_headers[] = {
    "X-Content-Type-Options",
    "nosniff",
    "Referrer-Policy",
    "no-referrer",
    "X-Frame-Options",
    "DENY",
    "Content-Security-Policy",
    REPLY_CSP,
    "Cache-Control",
    "no-store",
    NULL,
};

int front_page(html_t *h, const char *name)
{
    for (size_t i = 0; name && i < PAGE_COUNT; i++) {
        if (strcmp(s_pages[i].name, name) != 0)
            continue;
        pages_state_t st = { .expires_in = -1 };
        pages_error_t e = { s_pages[i].status, s_pages[i].title, s_pages[i].explain, NULL, NULL, NULL };
        pages_error(h, &st, &e);
        return s_pages[i].status;
    }
    return -1;
}

const char *front_page_name(size_t i)
{
    return i < PAGE_COUNT ? s_pages[i].name : NULL;
}

const char *const *front_headers(void)
{
    return s_headers;
}

static int s_usage(FILE *err)
{
    fprintf(err,
            "usage: gateway                        serve (configured by the environment)\n"
            "       gateway --static-page NAME     print the front's page NAME:");
    for (size_t i = 0; i < PAGE_COUNT; i++)
        fprintf(err, " %s", s_pages[i].name);
    fprintf(err,
            "\n       gateway --static-headers       print the headers of every page\n"
            "       gateway --threads              print the worker thread count (GATEWAY_THREADS)\n");
    return 2;
}

int front_main(int argc, char **argv, FILE *out, FILE *err)
{
    if (argc < 2)
        return -1;
    if (argc == 3 && strcmp(argv[1], "--static-page") == 0) {
        html_t *h = html_new(64u << 10);
        int status = h ? front_page(h, argv[2]) : -1;
        bool ok = status > 0 && html_ok(h) && fwrite(html_data(h), 1, html_len(h), out) == html_len(h);
        html_destroy(&h);
        if (status < 0) {
            fprintf(err, "gateway: no page named \"%.40s\"\n", argv[2]);
            return s_usage(err);
        }
        return ok && fflush(out) == 0 ? 0 : 1;
    }
    if (argc == 2 && strcmp(argv[1], "--static-headers") == 0) {
        for (const char *const *hd = s_headers; *hd; hd += 2)
            fprintf(out, "%s: %s\n", hd[0], hd[1]);
        return fflush(out) == 0 ? 0 : 1;
    }
    if (argc == 2 && strcmp(argv[1], "--threads") == 0) {
        char reason[160];
        int threads;
        if (server_threads_from_env(&threads, reason, sizeof reason) < 0) {
            fprintf(err, "gateway: %s\n", reason);
            return 1;
        }
        fprintf(out, "%d\n", threads);
        return fflush(out) == 0 ? 0 : 1;
    }
    return s_usage(err);
}
