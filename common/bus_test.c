//  bus_test: a service loop (svc, named authsvc) on a tcp endpoint with CURVE, and raw clients: the
//  gateway's and apisvc's certificates are served, each role only the messages it may send (apisvc's
//  EXCHANGE is refused); an unknown key, the NULL mechanism and a wrong server key get nothing and are
//  counted; a 64 MiB frame (sent by a child process, so only the service's memory is measured) is
//  dropped with the connection, the process's peak RSS does not grow, and the service keeps serving.
//  A certificate removed from the accepted ones stops its live connection. bus_make_certs: secret files 0600, a second run changes nothing. An endpoint without keys refuses
//  to start unless INSECURE_BUS=1.
#include "common/bus.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/svc.h"
#include "tests/testlib.h"

#include <limits.h>
#include <czmq.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG_FRAME (64u << 20)

extern char **environ;

static char s_dir[600], s_endpoint[64], s_self[PATH_MAX];
static void *s_ctx;
static svc_t *s_svc;
static pthread_t s_thread;

//  Every request that reaches the handler is answered NOT_LOGGED_IN: "it got through".
static void s_handler(svc_t *svc, const svc_peer_t *peer, proto_msg_t *req, void *arg)
{
    (void) arg;
    svc_reply_error(svc, peer, proto_msg_rid(req), PROTO_NOT_LOGGED_IN, "reached", -1);
    proto_msg_destroy(&req);
}

static void *s_run(void *arg)
{
    (void) arg;
    svc_run(s_svc);
    return NULL;
}

//  Load <dir>/<name> (with its secret when there is one).
static zcert_t *s_cert(const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    return zcert_load(path);
}

//  A DEALER in its own context: CURVE with client (NULL: the NULL mechanism) and the server key of server_cert.
static void *s_client(void *ctx, zcert_t *client, const char *server_cert)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    if (client) {
        zcert_t *server = s_cert(server_cert);
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, zcert_public_key(server), 32);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, zcert_public_key(client), 32);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, zcert_secret_key(client), 32);
        zcert_destroy(&server);
    }
    zmq_connect(s, s_endpoint);
    return s;
}

//  Send a message of type on s and wait up to wait_ms for the reply. Returns the reply (NULL: none).
static proto_msg_t *s_call(void *s, proto_type_t type, int wait_ms)
{
    proto_msg_t *req = proto_msg_new(type, 42);
    if (proto_schema_field(type, "sid"))
        proto_msg_set_str(req, "sid", "s");
    if (type == PROTO_HOLD)
        proto_msg_set_int(req, "until", 1);
    if (type == PROTO_EXCHANGE) {
        proto_msg_set_str(req, "code", "c");
        proto_msg_set_str(req, "state", "s");
    }
    char *data = NULL;
    size_t size = 0;
    proto_msg_t *reply = NULL;
    CHECK(proto_encode(req, &data, &size) == 0);
    if (data && zmq_send(s, data, size, ZMQ_DONTWAIT) == (int) size) {
        zmq_pollitem_t item = { s, 0, ZMQ_POLLIN, 0 };
        char buf[4096];
        if (zmq_poll(&item, 1, wait_ms) == 1) {
            int n = zmq_recv(s, buf, sizeof buf, 0);
            const char *why = NULL;
            uint64_t rid = 0;
            reply = n > 0 ? proto_decode(buf, (size_t) n, &why, &rid) : NULL;
        }
    }
    free(data);
    proto_msg_destroy(&req);
    return reply;
}

static double s_failures(void)
{
    metrics_family_t *f = metrics_counter(metrics_default(), "rcauth_bus_auth_failures_total", "", "reason");
    double n = 0;
    for (const char *const *r = (const char *const[]){ "refused_key", "protocol", "other", NULL }; *r; r++)
        n += metrics_value(f, (const char *[]){ *r });
    return n;
}

//  Wait up to 3 s for the failure count to pass before.
static bool s_failure_counted(double before)
{
    for (int64_t end = clock_mono_ms() + 3000; clock_mono_ms() < end; zmq_poll(NULL, 0, 20))
        if (s_failures() > before)
            return true;
    return false;
}

//  The process's peak resident memory (VmHWM): a frame being read in shows even when freed since.
static long s_peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static void t_make_certs(void)
{
    char err[256] = "", path[700];
    CHECK(bus_make_certs(s_dir, err, sizeof err) == 0);
    struct stat st;
    snprintf(path, sizeof path, "%s/authsvc.cert_secret", s_dir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    snprintf(path, sizeof path, "%s/gateway-client.cert_secret", s_dir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(stat(s_dir, &st) == 0 && (st.st_mode & 0777) == 0700);
    zcert_t *before = s_cert("authsvc.cert");
    CHECK(bus_make_certs(s_dir, err, sizeof err) == 0);  //  again: nothing replaced
    zcert_t *after = s_cert("authsvc.cert");
    CHECK(before && after && zcert_eq(before, after));
    zcert_destroy(&before);
    zcert_destroy(&after);
    snprintf(path, sizeof path, "%s/authsvc.clients/apisvc-client.cert", s_dir);
    CHECK(access(path, R_OK) == 0);
    snprintf(path, sizeof path, "%s/apisvc.clients/apisvc-client.cert", s_dir);
    CHECK(access(path, F_OK) != 0);  //  apisvc is no client of itself
}

static void t_no_keys_refused(void)
{
    void *ctx = zmq_ctx_new();
    void *r = zmq_socket(ctx, ZMQ_ROUTER);
    setenv("BUS_CERT_DIR", "/nonexistent-bus-certs", 1);
    CHECK(bus_server_new(ctx, r, "authsvc", "tcp://127.0.0.1:1") == NULL);
    CHECK(bus_client_setup(r, "gateway", "authsvc", "tcp://127.0.0.1:1") == -1);
    CHECK(bus_client_setup(r, "gateway", "authsvc", "ipc:///tmp/x.sock") == 0);  //  ipc: RUN_DIR is the check
    setenv("INSECURE_BUS", "1", 1);
    bus_server_t *b = bus_server_new(ctx, r, "authsvc", "tcp://127.0.0.1:1");
    CHECK(b != NULL && bus_server_monitor(b) == NULL);
    CHECK(bus_client_setup(r, "gateway", "authsvc", "tcp://127.0.0.1:1") == 0);
    bus_server_destroy(&b);
    unsetenv("INSECURE_BUS");
    setenv("BUS_CERT_DIR", s_dir, 1);
    zmq_close(r);
    zmq_ctx_term(ctx);
}

static void t_roles(void)
{
    void *ctx = zmq_ctx_new();
    zcert_t *gw = s_cert("gateway-client.cert"), *api = s_cert("apisvc-client.cert");
    void *g = s_client(ctx, gw, "authsvc.pub"), *a = s_client(ctx, api, "authsvc.pub");
    proto_msg_t *r = s_call(g, PROTO_EXCHANGE, 3000);
    CHECK(r && proto_error_code(r) == PROTO_NOT_LOGGED_IN);  //  the gateway may: the handler got it
    proto_msg_destroy(&r);
    r = s_call(a, PROTO_HOLD, 3000);
    CHECK(r && proto_error_code(r) == PROTO_NOT_LOGGED_IN);
    proto_msg_destroy(&r);
    metrics_family_t *refused = metrics_counter(metrics_default(), "rcauth_bus_refused_total", "", "role,type");
    double n = metrics_value(refused, (const char *[]){ "apisvc", "EXCHANGE" });
    r = s_call(a, PROTO_EXCHANGE, 3000);
    CHECK(r && proto_error_code(r) == PROTO_BAD_REQUEST);  //  apisvc may not: refused before the handler
    proto_msg_destroy(&r);
    CHECK(metrics_value(refused, (const char *[]){ "apisvc", "EXCHANGE" }) == n + 1);
    r = s_call(a, PROTO_LOGOUT, 3000);
    CHECK(r && proto_error_code(r) == PROTO_BAD_REQUEST);
    proto_msg_destroy(&r);
    zmq_close(g);
    zmq_close(a);
    zcert_destroy(&gw);
    zcert_destroy(&api);
    zmq_ctx_term(ctx);
}

//  A certificate removed from authsvc.clients: its live connection is refused from the next message on (within
//  about a second), a new one cannot be made; put back, it is served again.
static void t_removed_cert(void)
{
    char path[700], moved[720];
    snprintf(path, sizeof path, "%s/authsvc.clients/apisvc-client.cert", s_dir);
    snprintf(moved, sizeof moved, "%s/apisvc-client.cert.removed", s_dir);
    void *ctx = zmq_ctx_new();
    zcert_t *api = s_cert("apisvc-client.cert");
    void *a = s_client(ctx, api, "authsvc.pub");
    proto_msg_t *r = s_call(a, PROTO_HOLD, 3000);
    CHECK(r && proto_error_code(r) == PROTO_NOT_LOGGED_IN);
    proto_msg_destroy(&r);
    CHECK(rename(path, moved) == 0);
    zmq_poll(NULL, 0, 1200);
    r = s_call(a, PROTO_HOLD, 3000);
    CHECK(r && proto_error_code(r) == PROTO_BAD_REQUEST);  //  the same connection, refused now
    proto_msg_destroy(&r);
    void *b = s_client(ctx, api, "authsvc.pub");
    r = s_call(b, PROTO_HOLD, 700);
    CHECK(r == NULL);  //  and no new one
    proto_msg_destroy(&r);
    CHECK(rename(moved, path) == 0);
    zmq_poll(NULL, 0, 1200);
    r = s_call(a, PROTO_HOLD, 3000);
    CHECK(r && proto_error_code(r) == PROTO_NOT_LOGGED_IN);
    proto_msg_destroy(&r);
    zmq_close(a);
    zmq_close(b);
    zcert_destroy(&api);
    zmq_ctx_term(ctx);
}

//  A client that must get nothing, and whose attempt is counted.
static void s_shut_out(zcert_t *client, const char *server_cert)
{
    void *ctx = zmq_ctx_new();
    double before = s_failures();
    void *s = s_client(ctx, client, server_cert);
    proto_msg_t *r = s_call(s, PROTO_PING, 700);
    CHECK(r == NULL);
    proto_msg_destroy(&r);
    CHECK(s_failure_counted(before));
    zmq_close(s);
    zmq_ctx_term(ctx);
}

static void t_unknown_key(void)
{
    zcert_t *stranger = zcert_new();
    zcert_set_meta(stranger, "role", "gateway");  //  claiming a role is not enough: the key is not accepted
    s_shut_out(stranger, "authsvc.pub");
    zcert_destroy(&stranger);
}

static void t_null_mechanism(void)
{
    s_shut_out(NULL, NULL);
}

static void t_wrong_server_key(void)
{
    zcert_t *gw = s_cert("gateway-client.cert");
    s_shut_out(gw, "apisvc.pub");
    zcert_destroy(&gw);
}

//  bus_test --client WHAT: one raw client against BUS_TEST_ENDPOINT, whose certificate is BUS_TEST_SERVER's
//  (authsvc by default), with the certificates of BUS_CERT_DIR; tests/integration/bus.test.mjs runs it against a
//  real stack. WHAT: big (the gateway's certificate, one BIG_FRAME frame, then a moment for it to go out), big-null
//  (the same without CURVE, for an ipc endpoint),
//  gateway-ping, apisvc-exchange, unknown-ping (a key of no role), null-ping (no CURVE), wrong-key-ping (the
//  gateway's certificate, the other server's key), null-ready (a READY without CURVE: a type apisvc does not handle,
//  without the fields of API). Prints "reply TYPE CODE" or "none" (nothing within 1 s).
static int s_client_mode(const char *what)
{
    const char *server = getenv("BUS_TEST_SERVER");
    server = server && *server ? server : "authsvc";
    char pub[64];
    snprintf(pub, sizeof pub, "%s.pub",
             strcmp(what, "wrong-key-ping") != 0  ? server
                 : strcmp(server, "authsvc") == 0 ? "apisvc"
                                                  : "authsvc");
    zcert_t *cert = strncmp(what, "apisvc", 6) == 0                      ? s_cert("apisvc-client.cert")
        : strncmp(what, "unknown", 7) == 0                               ? zcert_new()
        : strncmp(what, "null", 4) == 0 || strcmp(what, "big-null") == 0 ? NULL
                                                                         : s_cert("gateway-client.cert");
    void *ctx = zmq_ctx_new();
    void *s = s_client(ctx, cert, pub);
    int rc = 0;
    if (strncmp(what, "big", 3) == 0) {
        char *big = calloc(1, BIG_FRAME);
        rc = big && zmq_send(s, big, BIG_FRAME, 0) == (int) BIG_FRAME ? 0 : 1;
        zmq_poll(NULL, 0, 1500);  //  time to write it out (LINGER is 0)
        free(big);
    }
    else {
        proto_type_t type = strstr(what, "exchange") ? PROTO_EXCHANGE
            : strstr(what, "ready")                  ? PROTO_READY
                                                     : PROTO_PING;
        proto_msg_t *r = s_call(s, type, 1000);
        if (r)
            printf("reply %s %s\n", proto_type_name(proto_msg_type(r)),
                   proto_msg_type(r) == PROTO_ERROR ? proto_code_name(proto_error_code(r)) : "-");
        else
            printf("none\n");
        proto_msg_destroy(&r);
    }
    zcert_destroy(&cert);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return rc;
}

static void t_oversized_frame(void)
{
    long before = s_peak_rss_kb();
    pid_t pid;
    char *argv[] = { s_self, "--client", "big", NULL };
    CHECK(posix_spawn(&pid, s_self, NULL, NULL, argv, environ) == 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    zmq_poll(NULL, 0, 300);
    long after = s_peak_rss_kb();
    printf("# peak rss before %ld kB, after a %u MiB frame %ld kB\n", before, BIG_FRAME >> 20, after);
    CHECK(before > 0 && after - before < 8 * 1024);  //  the frame was never read into memory
    void *ctx = zmq_ctx_new();
    zcert_t *gw = s_cert("gateway-client.cert");
    void *s = s_client(ctx, gw, "authsvc.pub");
    proto_msg_t *r = s_call(s, PROTO_PING, 3000);
    CHECK(r && proto_msg_type(r) == PROTO_PING_OK);  //  and it still serves
    proto_msg_destroy(&r);
    zcert_destroy(&gw);
    zmq_close(s);
    zmq_ctx_term(ctx);
}

static const test_case_t cases[] = {
    { "make_certs", t_make_certs },
    { "no_keys_refused", t_no_keys_refused },
    { "roles", t_roles },
    { "removed_cert", t_removed_cert },
    { "unknown_key", t_unknown_key },
    { "null_mechanism", t_null_mechanism },
    { "wrong_server_key", t_wrong_server_key },
    { "oversized_frame", t_oversized_frame },
};

int main(int argc, char **argv)
{
    log_init("bus_test", getenv("BUS_TEST_LOG") ? LOGL_DEBUG : LOGL_ERROR);
    if (argc == 3 && strcmp(argv[1], "--client") == 0) {
        snprintf(s_dir, sizeof s_dir, "%s", getenv("BUS_CERT_DIR") ? getenv("BUS_CERT_DIR") : "");
        snprintf(s_endpoint, sizeof s_endpoint, "%s", getenv("BUS_TEST_ENDPOINT") ? getenv("BUS_TEST_ENDPOINT") : "");
        return s_client_mode(argv[2]);
    }
    if (!realpath("/proc/self/exe", s_self))
        return 2;
    metrics_init("bus_test");
    snprintf(s_dir, sizeof s_dir, "%s/bus", test_tmpdir());
    setenv("BUS_CERT_DIR", s_dir, 1);
    char err[256];
    if (bus_make_certs(s_dir, err, sizeof err) != 0) {
        fprintf(stderr, "bus_make_certs: %s\n", err);
        return 2;
    }
    s_ctx = bus_ctx_new();
    s_svc = svc_new("authsvc", s_ctx, "tcp://127.0.0.1:*", NULL, s_handler, NULL);  //  a port the OS picks
    if (!s_svc)
        return 2;
    snprintf(s_endpoint, sizeof s_endpoint, "%s", svc_endpoint(s_svc));
    setenv("BUS_TEST_ENDPOINT", s_endpoint, 1);
    if (pthread_create(&s_thread, NULL, s_run, NULL) != 0)
        return 2;
    int rc = TEST_MAIN(argc, argv, cases);
    svc_stop(s_svc);
    pthread_join(s_thread, NULL);
    svc_destroy(&s_svc);
    bus_ctx_term(&s_ctx);
    metrics_shutdown();
    return rc;
}
