//  webout: see webout.h.
#include "common/webout.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <stdlib.h>

//  What this thread's webout_send calls wrote since the last webout_take_sent (the access line's bytes=).
static _Thread_local long long s_sent;

//  The status line and headers are built on the stack (civetweb's workers have 100 KiB stacks,
//  so keep it small); the body joins them in one heap buffer up to WEBOUT_JOIN_MAX.
#define WEBOUT_HEAD_MAX 4096
#define WEBOUT_JOIN_MAX ((size_t) 256 << 10)

int webout_keep_alive(const struct mg_connection *conn)
{
    const char *h = mg_get_header(conn, "Connection");
    if (h)
        return strcasestr(h, "keep-alive") != NULL;
    const char *version = mg_get_request_info(conn)->http_version;
    return version && strcmp(version, "1.1") == 0;
}

//  Append "name: value\r\n" (or the status line when name is "HTTP/1.1").
static int s_append(char *buf, size_t *n, const char *name, const char *value)
{
    int m =
        snprintf(buf + *n, WEBOUT_HEAD_MAX - *n, strcmp(name, "HTTP/1.1") ? "%s: %s\r\n" : "%s %s\r\n", name, value);
    if (m < 0 || (size_t) m >= WEBOUT_HEAD_MAX - *n)
        return -1;
    *n += (size_t) m;
    return 0;
}

//  True when the caller's headers hold name (then webout does not add its own).
static int s_has(const char *const *headers, const char *name)
{
    for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
        if (strcasecmp(headers[i], name) == 0)
            return 1;
    return 0;
}

int webout_send(struct mg_connection *conn, int status, const char *content_type, const char *const *headers,
                const void *body, size_t len)
{
    char head[WEBOUT_HEAD_MAX];
    char date[64], length[24], code[8];
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
    snprintf(length, sizeof length, "%zu", len);
    snprintf(code, sizeof code, "%d", status);
    size_t n = 0;
    char status_line[96];
    snprintf(status_line, sizeof status_line, "%s %s", code, mg_get_response_code_text(conn, status));
    int bad = s_append(head, &n, "HTTP/1.1", status_line) || s_append(head, &n, "Content-Length", length)
        || s_append(head, &n, "Date", date)
        || (!s_has(headers, "Connection")
            && s_append(head, &n, "Connection", webout_keep_alive(conn) ? "keep-alive" : "close"))
        || (content_type && s_append(head, &n, "Content-Type", content_type));
    for (size_t i = 0; !bad && headers && headers[i] && headers[i + 1]; i += 2)
        bad = strcmp(headers[i], "HTTP/1.1") == 0 || s_append(head, &n, headers[i], headers[i + 1]);
    if (bad || n + 2 > sizeof head)
        return -1;
    memcpy(head + n, "\r\n", 2);
    n += 2;
    //  One write when the body is small enough to join the headers (each write is a send()).
    char *joined = len <= WEBOUT_JOIN_MAX ? malloc(n + len) : NULL;
    if (joined) {
        memcpy(joined, head, n);
        if (len)
            memcpy(joined + n, body, len);
        int rc = mg_write(conn, joined, n + len) == (int) (n + len) ? 0 : -1;
        free(joined);
        if (rc == 0)
            s_sent += (long long) (n + len);
        return rc;
    }
    if (mg_write(conn, head, n) != (int) n || (len && mg_write(conn, body, len) != (int) len))
        return -1;
    s_sent += (long long) (n + len);
    return 0;
}

long long webout_take_sent(void)
{
    long long n = s_sent;
    s_sent = 0;
    return n;
}
