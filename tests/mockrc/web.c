//  web: see web.h.
#include "tests/mockrc/web.h"
#include "common/webout.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

//  The whole reply goes out in one write when it fits (common/webout).
int web_send(struct mg_connection *c, int status, const char *content_type, const char *body, size_t len,
             const char *const *headers)
{
    //  The mock's replies are never cached, like RingCentral's API answers.
    const char *all[2 * 8 + 3] = { "Cache-Control", "no-store" };
    size_t n = 2;
    for (size_t i = 0; headers && headers[i] && headers[i + 1] && n + 2 < sizeof all / sizeof all[0]; i += 2) {
        all[n++] = headers[i];
        all[n++] = headers[i + 1];
    }
    all[n] = NULL;
    return webout_send(c, status, content_type, all, body, len) == 0 ? status : 500;
}

int web_json(struct mg_connection *c, int status, json_t *body, const char *const *headers)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        static const char oom[] = "{\"errorCode\":\"CMN-500\",\"message\":\"out of memory\"}";
        return web_send(c, 500, "application/json", oom, sizeof oom - 1, NULL);
    }
    int rc = web_send(c, status, "application/json", text, strlen(text), headers);
    free(text);
    return rc;
}

int web_html(struct mg_connection *c, int status, const char *html)
{
    return web_send(c, status, "text/html; charset=utf-8", html, strlen(html), NULL);
}

int web_redirect(struct mg_connection *c, const char *location)
{
    const char *headers[] = { "Location", location, NULL };
    return web_send(c, 302, "text/plain; charset=utf-8", "", 0, headers);
}

//  The port of a socket address, or -1 for a family other than IPv4/IPv6.
static int s_port(const struct sockaddr_storage *sa, char *addr, size_t addr_size)
{
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
        inet_ntop(AF_INET, &in->sin_addr, addr, (socklen_t) addr_size);
        return ntohs(in->sin_port);
    }
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, addr, (socklen_t) addr_size);
        return ntohs(in6->sin6_port);
    }
    return -1;
}

//  Shut down (how: SHUT_RD or SHUT_RDWR) this process's connected TCP sockets whose
//  local port is local_port and, when peer_addr is not NULL, whose peer is
//  peer_addr:peer_port. Returns how many were shut down.
static int s_shutdown_sockets(int local_port, const char *peer_addr, int peer_port, int how)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return 0;
    int count = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        if (end == de->d_name || *end || fd < 0 || fd == dirfd(dir))
            continue;
        struct sockaddr_storage local, peer;
        socklen_t llen = sizeof local, plen = sizeof peer;
        char laddr[INET6_ADDRSTRLEN] = "", paddr[INET6_ADDRSTRLEN] = "";
        if (getsockname((int) fd, (struct sockaddr *) &local, &llen) != 0
            || getpeername((int) fd, (struct sockaddr *) &peer, &plen) != 0)
            continue;  //  not a socket, or a listening one
        if (s_port(&local, laddr, sizeof laddr) != local_port)
            continue;
        int peer_port_now = s_port(&peer, paddr, sizeof paddr);
        if (peer_addr && (peer_port_now != peer_port || strcmp(paddr, peer_addr) != 0))
            continue;
        if (shutdown((int) fd, how) == 0)
            count++;
        if (peer_addr)
            break;
    }
    closedir(dir);
    return count;
}

//  civetweb has no call to close a server connection without a reply, so find
//  the connection's socket by its two ends and shut it down; civetweb then
//  sees the end of the stream and closes the socket itself.
int web_drop(struct mg_connection *c)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    if (!ri)
        return -1;
    return s_shutdown_sockets(ri->server_port, ri->remote_addr, ri->remote_port, SHUT_RDWR) == 1 ? 0 : -1;
}

int web_end_reads(int port)
{
    return s_shutdown_sockets(port, NULL, 0, SHUT_RD);
}

int web_read_body(struct mg_connection *c, char *buf, size_t cap, size_t *len)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    *len = 0;
    buf[0] = '\0';
    if (!ri || cap < 2 || ri->content_length > (long long) (cap - 1))
        return -1;
    size_t n = 0;
    for (;;) {
        if (n == cap - 1) {
            char extra;
            if (mg_read(c, &extra, 1) > 0)
                return -1;
            break;
        }
        int r = mg_read(c, buf + n, cap - 1 - n);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        n += (size_t) r;
    }
    buf[n] = '\0';
    *len = n;
    return 0;
}

int web_form_get(const char *data, size_t len, const char *name, char *dst, size_t dst_size)
{
    if (!data) {
        if (dst_size)
            dst[0] = '\0';
        return -1;
    }
    int rc = mg_get_var(data, len, name, dst, dst_size);
    if (rc < 0)
        return rc == -1 ? -1 : -2;
    char second[8];
    if (mg_get_var2(data, len, name, second, sizeof second, 1) != -1) {
        dst[0] = '\0';
        return -2;
    }
    return rc;
}

int web_is_form(const struct mg_connection *c)
{
    static const char form[] = "application/x-www-form-urlencoded";
    const char *ct = mg_get_header(c, "Content-Type");
    if (!ct || strncasecmp(ct, form, sizeof form - 1) != 0)
        return 0;
    char next = ct[sizeof form - 1];
    return next == '\0' || next == ';' || next == ' ';
}

//  The credentials after "Authorization: <scheme> ", or NULL.
static const char *s_auth_param(const struct mg_connection *c, const char *scheme)
{
    const char *h = mg_get_header(c, "Authorization");
    size_t n = strlen(scheme);
    if (!h || strncasecmp(h, scheme, n) != 0 || h[n] != ' ')
        return NULL;
    h += n;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

int web_basic_auth(const struct mg_connection *c, char *id, size_t id_size, char *secret, size_t secret_size)
{
    const char *b64 = s_auth_param(c, "Basic");
    if (!b64)
        return -1;
    unsigned char bin[512];
    size_t bin_len = 0;
    const char *end = NULL;
    size_t b64_len = strlen(b64);
    while (b64_len && b64[b64_len - 1] == ' ')
        b64_len--;
    if (sodium_base642bin(bin, sizeof bin - 1, b64, b64_len, NULL, &bin_len, &end, sodium_base64_VARIANT_ORIGINAL) != 0
        || end != b64 + b64_len)
        return -1;
    bin[bin_len] = '\0';
    if (memchr(bin, '\0', bin_len))
        return -1;
    char *colon = strchr((char *) bin, ':');
    if (!colon)
        return -1;
    *colon = '\0';
    int rc = -1;
    if (strlen((char *) bin) < id_size && strlen(colon + 1) < secret_size) {
        snprintf(id, id_size, "%s", (char *) bin);
        snprintf(secret, secret_size, "%s", colon + 1);
        rc = 0;
    }
    sodium_memzero(bin, sizeof bin);
    return rc;
}

int web_bearer(const struct mg_connection *c, char *out, size_t out_size)
{
    const char *token = s_auth_param(c, "Bearer");
    if (!token)
        return -1;
    size_t len = strcspn(token, " ");
    if (len == 0 || len >= out_size || token[len + strspn(token + len, " ")] != '\0')
        return -1;
    memcpy(out, token, len);
    out[len] = '\0';
    return 0;
}

int web_html_escape(const char *text, char *out, size_t out_size)
{
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        const char *rep;
        char one[2] = { *p, '\0' };
        switch (*p) {
            case '&': rep = "&amp;"; break;
            case '<': rep = "&lt;"; break;
            case '>': rep = "&gt;"; break;
            case '"': rep = "&quot;"; break;
            case '\'': rep = "&#39;"; break;
            default: rep = one; break;
        }
        size_t len = strlen(rep);
        if (n + len >= out_size) {
            if (out_size)
                out[0] = '\0';
            return -1;
        }
        memcpy(out + n, rep, len);
        n += len;
    }
    if (!out_size)
        return -1;
    out[n] = '\0';
    return 0;
}

int web_url_build(char *out, size_t out_size, const char *base, const char *const (*params)[2], size_t count)
{
    int n = snprintf(out, out_size, "%s", base);
    if (n < 0 || (size_t) n >= out_size)
        return -1;
    char sep = strchr(base, '?') ? '&' : '?';
    for (size_t i = 0; i < count; i++) {
        if (!params[i][1])
            continue;
        int m = snprintf(out + n, out_size - (size_t) n, "%c%s=", sep, params[i][0]);
        if (m < 0 || (size_t) (n + m) >= out_size)
            return -1;
        n += m;
        m = mg_url_encode(params[i][1], out + n, out_size - (size_t) n);
        if (m < 0 || (size_t) (n + m) >= out_size - 1)
            return -1;
        n += m;
        sep = '&';
    }
    return 0;
}
