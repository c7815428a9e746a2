//  server_edge_test: what the gateway does on its own at its edge, behind or without the nginx front: a
//  request body has an overall deadline (a dribbled body is cut and its worker freed), only 127.0.0.1 may
//  connect, under an https PUBLIC_URL the session cookie is __Host-rcsid with Secure, and the metrics port
//  (loopback, its own listener) gathers the services' figures within its bound.
#include "common/metrics.h"
#include "tests/support/gwtest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

//  ---------------------------------------------------------------- raw connections

//  A TCP connection to 127.0.0.1:port from the address src. Returns the descriptor, or -1.
static int s_raw_connect(const char *src, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in from = { .sin_family = AF_INET },
                       to = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
    inet_pton(AF_INET, src, &from.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (fd < 0 || bind(fd, (struct sockaddr *) &from, sizeof from) < 0
        || connect(fd, (struct sockaddr *) &to, sizeof to) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

//  Read what arrives within ms into buf (NUL-terminated). *closed: the server closed the connection.
static size_t s_raw_read(int fd, char *buf, size_t size, int ms, bool *closed)
{
    size_t len = 0;
    *closed = false;
    int64_t until = clock_mono_ms() + ms;
    while (len < size - 1 && !*closed && clock_mono_ms() < until) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, (int) (until - clock_mono_ms())) <= 0)
            continue;
        ssize_t n = recv(fd, buf + len, size - 1 - len, 0);
        if (n <= 0)
            *closed = true;
        else
            len += (size_t) n;
    }
    buf[len] = '\0';
    return len;
}

//  Send head, then one byte of body every 200 ms until the server answers (or 5 s). Returns ms until the answer.
static long s_dribble(int fd, const char *head)
{
    CHECK(send(fd, head, strlen(head), MSG_NOSIGNAL) == (ssize_t) strlen(head));
    int64_t t0 = clock_mono_ms();
    while (clock_mono_ms() - t0 < 5000) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 200) > 0)
            break;
        if (send(fd, "c", 1, MSG_NOSIGNAL) != 1)
            break;
    }
    return (long) (clock_mono_ms() - t0);
}

#define BODY_TIMEOUT_MS 800  //  GATEWAY_BODY_TIMEOUT_MS of the dribble cases

//  A body dribbled one byte every 200 ms is cut at the deadline (408, closed), and the server's one
//  worker serves the next request; a body no route reads does not hold it either.
static void t_body_deadline(void)
{
    char ms[16];
    snprintf(ms, sizeof ms, "%d", BODY_TIMEOUT_MS);
    setenv("GATEWAY_BODY_TIMEOUT_MS", ms, 1);
    gwenv_t e;
    gwenv_up_with(&e, true, 1, false);
    unsetenv("GATEWAY_BODY_TIMEOUT_MS");

    char head[512], buf[16384];
    bool closed;
    snprintf(head, sizeof head,
             "POST /logout HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n"
             "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ncsrf=",
             e.port, e.cookie);
    int fd = s_raw_connect("127.0.0.1", e.port);
    CHECK(fd >= 0);
    long cut = s_dribble(fd, head);
    s_raw_read(fd, buf, sizeof buf, 2000, &closed);
    CHECK(strncmp(buf, "HTTP/1.1 408 ", 13) == 0);
    CHECK(strstr(buf, "\r\nConnection: close\r\n") && strstr(buf, "The request took too long"));
    CHECK(closed);
    CHECK(cut >= BODY_TIMEOUT_MS && cut < BODY_TIMEOUT_MS + 700);  //  the deadline, plus at most one byte's wait
    close(fd);
    CHECK(fake_count(&e.auth, PROTO_LOGOUT) == 0);
    //  the only worker is free again
    http_resp_t r = http_get(e.port, "/", NULL);
    CHECK(r.status == 200 && r.ms < test_slack_ms(1000));
    http_free(&r);

    //  A body the route never reads (405 here): answered at once, then the connection is closed
    //  instead of civetweb reading the rest of it (with no deadline) on the only worker.
    snprintf(head, sizeof head, "POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 100\r\n\r\n", e.port);
    fd = s_raw_connect("127.0.0.1", e.port);
    CHECK(fd >= 0);
    long answered = s_dribble(fd, head);
    s_raw_read(fd, buf, sizeof buf, 1000, &closed);
    CHECK(answered < test_slack_ms(500) && strncmp(buf, "HTTP/1.1 405 ", 13) == 0);
    CHECK(closed);
    r = http_get(e.port, "/", NULL);  //  (fd still open: a worker reading its body would not serve this)
    CHECK(r.status == 200 && r.ms < test_slack_ms(1000));
    http_free(&r);
    close(fd);

    //  chunked bodies are not taken (no length to check against the limit up front)
    snprintf(head, sizeof head,
             "POST /logout HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n"
             "Transfer-Encoding: chunked\r\n\r\n",
             e.port, e.cookie);
    fd = s_raw_connect("127.0.0.1", e.port);
    CHECK(fd >= 0 && send(fd, head, strlen(head), MSG_NOSIGNAL) > 0);
    s_raw_read(fd, buf, sizeof buf, 2000, &closed);
    CHECK(strncmp(buf, "HTTP/1.1 411 ", 13) == 0 && closed);
    close(fd);
    r = http_get(e.port, "/", NULL);
    CHECK(r.status == 200 && r.ms < test_slack_ms(1000));
    http_free(&r);
    gwenv_down(&e);
}

//  Only 127.0.0.1 (the front) is admitted: 127.0.0.2 is loopback too, and is closed unanswered.
static void t_admits_front_only(void)
{
    gwenv_t *e = gwenv_shared();
    char head[256], buf[4096];
    bool closed;
    snprintf(head, sizeof head, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", e->port);
    int fd = s_raw_connect("127.0.0.2", e->port);
    CHECK(fd >= 0);  //  the kernel accepts; civetweb closes it at accept
    send(fd, head, strlen(head), MSG_NOSIGNAL);
    size_t n = s_raw_read(fd, buf, sizeof buf, 2000, &closed);
    CHECK(n == 0 && closed);
    close(fd);
    fd = s_raw_connect("127.0.0.1", e->port);
    CHECK(fd >= 0 && send(fd, head, strlen(head), MSG_NOSIGNAL) > 0);
    s_raw_read(fd, buf, sizeof buf, 2000, &closed);
    CHECK(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
    close(fd);
}

//  PUBLIC_URL https: the cookie is __Host-rcsid with Secure, Path=/ and no Domain; only it is read;
//  a logout must come from an https origin.
static void t_secure_cookie(void)
{
    gwenv_t e;
    gwenv_up_with(&e, true, 4, true);
    http_resp_t r = http_get(e.port, "/login?env=sandbox", NULL);
    char v[256];
    CHECK(r.status == 200 && http_header(&r, "Set-Cookie", v, sizeof v));
    CHECK(strncmp(v, "__Host-rcsid=", 13) == 0 && strstr(v, "; Secure") && strstr(v, "; Path=/")
          && strstr(v, "; HttpOnly") && !strstr(v, "Domain"));
    http_free(&r);

    const char *secure[] = { e.cookie, NULL };  //  "Cookie: __Host-rcsid=<logged in>"
    r = http_get(e.port, "/test", secure);
    CHECK(r.status == 200);
    http_free(&r);
    char plain[128], value[SESSION_COOKIE_VALUE_SIZE];
    CHECK(session_cookie_value(e.auth.logged_in_sid, value, sizeof value) == 0);
    snprintf(plain, sizeof plain, "Cookie: rcsid=%s", value);
    const char *plain_headers[] = { plain, NULL };
    r = http_get(e.port, "/test", plain_headers);
    CHECK(r.status == 302);  //  a plain cookie is no session over https
    http_free(&r);

    char csrf[SESSION_CSRF_SIZE], body[128], origin[64];
    session_csrf(e.auth.logged_in_sid, csrf);
    snprintf(body, sizeof body, "csrf=%s", csrf);
    snprintf(origin, sizeof origin, "Origin: http://127.0.0.1:%d", e.port);
    const char *http_origin[] = { e.cookie, origin, NULL };
    r = http_do(e.port, "POST", "/logout", http_origin, body);
    CHECK(r.status == 403);
    http_free(&r);
    snprintf(origin, sizeof origin, "Origin: https://127.0.0.1:%d", e.port);
    const char *https_origin[] = { e.cookie, origin, NULL };
    r = http_do(e.port, "POST", "/logout", https_origin, body);
    CHECK(r.status == 303 && http_header(&r, "Set-Cookie", v, sizeof v));
    CHECK(strncmp(v, "__Host-rcsid=;", 14) == 0 && strstr(v, "Max-Age=0") && strstr(v, "; Secure"));
    http_free(&r);
    CHECK(fake_count(&e.auth, PROTO_LOGOUT) == 1);
    gwenv_down(&e);
}

static void t_metrics_port(void)
{
    CHECK(metrics_init("gateway") == 0);
    gwenv_metrics_port = SERVER_METRICS_ANY;  //  METRICS_PORT=any: the OS picks, server_metrics_port tells
    gwenv_t e;
    gwenv_up(&e, true);
    int port = e.server ? server_metrics_port(e.server) : 0;
    CHECK(port > 0 && port != e.port);
    http_resp_t r = http_get(e.port, "/test", (const char *[]){ e.cookie, NULL });
    CHECK(r.status == 200);
    http_free(&r);
    //  The gateway's own figures and each service's STATS, merged. A scrape gives each service the
    //  probes' 1 s: a fake service starved of the CPU that long (the suite's programs share the cores)
    //  is asked again, a few times at most; what is checked is the merge.
    char v[128];
    r = http_get(port, "/metrics", NULL);
    for (int i = 0; i < 4
         && !(http_has(&r, "rcauth_service_up{service=\"authsvc\"} 1\n")
              && http_has(&r, "rcauth_service_up{service=\"apisvc\"} 1\n"));
         i++) {
        http_free(&r);
        r = http_get(port, "/metrics", NULL);
    }
    CHECK(r.status == 200 && http_header(&r, "Content-Type", v, sizeof v) && strcmp(v, METRICS_CONTENT_TYPE) == 0);
    CHECK(http_has(&r, "rcauth_fake_total{service=\"authsvc\"} 1\n")
          && http_has(&r, "rcauth_fake_total{service=\"apisvc\"} 1\n")
          && http_has(&r, "rcauth_service_up{service=\"authsvc\"} 1\n")
          && http_has(&r, "rcauth_service_up{service=\"apisvc\"} 1\n")
          && http_has(&r, "rcauth_http_requests_total{service=\"gateway\",route=\"/test\",code=\"200\"} 1\n")
          && http_has(&r, "rcauth_rpc_requests_total{service=\"authsvc\",result=\"ok\"} 1\n"));
    //  Merged: one HELP line per family.
    const char *first = r.body ? strstr(r.body, "# HELP rcauth_fake_total ") : NULL;
    CHECK(first && !strstr(first + 1, "# HELP rcauth_fake_total "));
    http_free(&r);
    //  A service that does not answer costs the scrape its bound (1 s), and says so.
    fake_set_mode(&e.api, FAKE_SILENT, 0, false);
    r = http_get(port, "/metrics", NULL);
    CHECK(r.status == 200 && r.ms <= 1000 + test_slack_ms(500)
          && http_has(&r, "rcauth_service_up{service=\"apisvc\"} 0\n")
          && !http_has(&r, "rcauth_fake_total{service=\"apisvc\"}"));
    http_free(&r);
    fake_set_mode(&e.api, FAKE_ANSWER, 0, false);
    //  Nothing else on that port; the metrics nowhere else.
    r = http_get(port, "/", NULL);
    CHECK(r.status == 404 && !http_has(&r, "rcauth_"));
    http_free(&r);
    r = http_do(port, "POST", "/metrics", NULL, "x=1");
    CHECK(r.status == 405);
    http_free(&r);
    r = http_get(e.port, "/metrics", NULL);
    CHECK(r.status == 404 && !http_has(&r, "rcauth_"));
    http_free(&r);
    gwenv_down(&e);
    gwenv_metrics_port = 0;
    metrics_shutdown();
}

static const test_case_t cases[] = {
    { "body_deadline", t_body_deadline },
    { "admits_front_only", t_admits_front_only },
    { "secure_cookie", t_secure_cookie },
    { "metrics_port", t_metrics_port },
};

int main(int argc, char **argv)
{
    return GWENV_MAIN("server_edge_test", argc, argv, cases);
}
