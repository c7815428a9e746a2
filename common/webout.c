//  webout: see webout.h.
#include "common/webout.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define WEBOUT_BUF 16384

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
    int m = snprintf(buf + *n, WEBOUT_BUF - *n, strcmp(name, "HTTP/1.1") ? "%s: %s\r\n" : "%s %s\r\n", name, value);
    if (m < 0 || (size_t) m >= WEBOUT_BUF - *n)
        return -1;
    *n += (size_t) m;
    return 0;
}

int webout_send(struct mg_connection *conn, int status, const char *content_type, const char *const *headers,
                const void *body, size_t len)
{
    char buf[WEBOUT_BUF];
    char date[64], length[24], code[8];
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
    snprintf(length, sizeof length, "%zu", len);
    snprintf(code, sizeof code, "%d", status);
    size_t n = 0;
    char status_line[96];
    snprintf(status_line, sizeof status_line, "%s %s", code, mg_get_response_code_text(conn, status));
    int bad = s_append(buf, &n, "HTTP/1.1", status_line) || s_append(buf, &n, "Content-Length", length)
              || s_append(buf, &n, "Date", date)
              || s_append(buf, &n, "Connection", webout_keep_alive(conn) ? "keep-alive" : "close")
              || (content_type && s_append(buf, &n, "Content-Type", content_type));
    for (size_t i = 0; !bad && headers && headers[i] && headers[i + 1]; i += 2)
        bad = strcmp(headers[i], "HTTP/1.1") == 0 || s_append(buf, &n, headers[i], headers[i + 1]);
    if (bad || n + 2 > sizeof buf)
        return -1;
    memcpy(buf + n, "\r\n", 2);
    n += 2;
    if (n + len <= sizeof buf) {
        if (len)
            memcpy(buf + n, body, len);
        return mg_write(conn, buf, n + len) == (int) (n + len) ? 0 : -1;
    }
    if (mg_write(conn, buf, n) != (int) n || mg_write(conn, body, len) != (int) len)
        return -1;
    return 0;
}
