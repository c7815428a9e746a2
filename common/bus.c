//  bus: see bus.h.
#include "common/bus.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "common/metrics.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

//  Client keys a server accepts at most (the roles' certificates: a handful).
#define BUS_KEYS_MAX 32
//  How often the accepted keys are looked at again (a certificate removed stops its live connection within this).
#define BUS_RECHECK_MS 1000

//  A message type as a bit of a role's allowed set.
#define T(type) (1u << (type))

//  What each role may send to each server: the requests the gateway and apisvc make today, and nothing else.
static const struct {
    const char *server, *role;
    unsigned types;
} s_policy[] = {
    { "authsvc", "gateway",
      T(PROTO_AUTH_URL) | T(PROTO_EXCHANGE) | T(PROTO_DECLINED) | T(PROTO_SESSION) | T(PROTO_LOGOUT) | T(PROTO_PING)
          | T(PROTO_READY) | T(PROTO_STATS) },
    { "authsvc", "apisvc", T(PROTO_REFRESH) | T(PROTO_HOLD) | T(PROTO_PING) },
    { "apisvc", "gateway", T(PROTO_API) | T(PROTO_PING) | T(PROTO_STATS) },
};

//  The certificates bus_make_certs makes: the servers', then the client roles' (with their role).
static const struct {
    const char *file, *role;
} s_certs[] = {
    { "authsvc", NULL },
    { "apisvc", NULL },
    { "gateway-client", "gateway" },
    { "apisvc-client", "apisvc" },
};

struct _bus_server_t {
    char name[32];
    void *router;
    zactor_t *auth;                      //  zauth: accepts the client certificates of <name>.clients
    void *monitor;                       //  PAIR receiving the ROUTER's handshake failures
    metrics_family_t *failures;          //  rcauth_bus_auth_failures_total{reason}
    metrics_family_t *refused;           //  rcauth_bus_refused_total{role,type}
    char clients[CONFIG_PATH_MAX + 64];  //  <dir>/<name>.clients
    char keys[BUS_KEYS_MAX][41];         //  the public keys (Z85) in clients, as last read
    size_t key_count;
    struct timespec clients_mtime;  //  of the clients directory when last read
    int64_t checked_ms;             //  when the directory was last looked at
    //  A client retrying a failed handshake does so every 100 ms or faster: the same failure is logged once a second.
    uint16_t last_event;
    uint32_t last_value;
    int64_t last_logged_ms;
    unsigned suppressed;  //  repeats not logged since the last line
};

static bool s_is_tcp(const char *endpoint)
{
    return strncmp(endpoint, "tcp://", 6) == 0;
}

static bool s_insecure(void)
{
    const char *v = getenv("INSECURE_BUS");
    return v && strcmp(v, "1") == 0;
}

void *bus_ctx_new(void)
{
    zsys_handler_set(NULL);  //  svc handles SIGINT/SIGTERM (its drain)
    return zsys_init();
}

void bus_ctx_term(void **ctx_p)
{
    if (!ctx_p || !*ctx_p)
        return;
    zsys_shutdown();
    *ctx_p = NULL;
}

const char *bus_cert_dir(char *buf, size_t size)
{
    const char *dir = getenv("BUS_CERT_DIR"), *data = getenv("DATA_DIR");
    if (dir && *dir)
        snprintf(buf, size, "%s", dir);
    else
        snprintf(buf, size, "%s/bus", data && *data ? data : "var/data");
    return buf;
}

//  Make dir (0700) unless it exists. Returns 0, or -1 with the reason in err.
static int s_mkdir(const char *dir, char *err, size_t err_size)
{
    if (mkdir(dir, 0700) == 0 || errno == EEXIST)
        return 0;
    snprintf(err, err_size, "cannot create %s: %s", dir, strerror(errno));
    return -1;
}

//  A server's public key for its clients, <dir>/<server>.pub: loading <server>.cert would read its secret too.
static int s_save_pub(const char *dir, const char *file, const char *role, char *err, size_t err_size)
{
    char path[600], pub[600];
    snprintf(pub, sizeof pub, "%s/%s.pub", dir, file);
    if (role || access(pub, F_OK) == 0)
        return 0;
    snprintf(path, sizeof path, "%s/%s.cert", dir, file);
    zcert_t *cert = zcert_load(path);
    int rc = cert ? zcert_save_public(cert, pub) : -1;
    if (rc != 0)
        snprintf(err, err_size, "cannot write %s", pub);
    zcert_destroy(&cert);
    return rc;
}

int bus_make_certs(const char *dir, char *err, size_t err_size)
{
    mode_t old = umask(077);
    int rc = s_mkdir(dir, err, err_size);
    char path[600], secret[620];
    for (size_t i = 0; rc == 0 && i < sizeof s_certs / sizeof s_certs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.cert", dir, s_certs[i].file);
        snprintf(secret, sizeof secret, "%s_secret", path);
        if (access(secret, F_OK) == 0) {
            rc = s_save_pub(dir, s_certs[i].file, s_certs[i].role, err, err_size);
            continue;
        }
        zcert_t *cert = zcert_new();
        if (cert && s_certs[i].role)
            zcert_set_meta(cert, "role", "%s", s_certs[i].role);
        //  czmq saves a secret certificate 0640 at best: 0600 here, before any key is in it.
        if (!cert || zcert_save(cert, path) != 0 || chmod(secret, 0600) != 0) {
            snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
            rc = -1;
        }
        zcert_destroy(&cert);
        if (rc == 0)
            rc = s_save_pub(dir, s_certs[i].file, s_certs[i].role, err, err_size);
    }
    //  Each server's accepted clients: copies of the public certificates of the roles that may talk to it
    //  (made once: a copy removed by hand stays removed until the next rekey of the bus).
    for (size_t i = 0; rc == 0 && i < sizeof s_policy / sizeof s_policy[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.clients", dir, s_policy[i].server);
        if (s_mkdir(path, err, err_size) != 0) {
            rc = -1;
            break;
        }
        char dest[700];
        snprintf(dest, sizeof dest, "%s/%s-client.cert", path, s_policy[i].role);
        if (access(dest, F_OK) == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s-client.cert", dir, s_policy[i].role);
        zcert_t *cert = zcert_load(path);
        if (!cert || zcert_save_public(cert, dest) != 0) {
            snprintf(err, err_size, "cannot write %s", dest);
            rc = -1;
        }
        zcert_destroy(&cert);
    }
    umask(old);
    return rc;
}

//  Load the certificate <dir>/<file>.<suffix> (with its secret key when <path>_secret exists). NULL (logged) when absent.
static zcert_t *s_load(const char *file, const char *suffix, const char *what)
{
    char dir[CONFIG_PATH_MAX], path[CONFIG_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s.%s", bus_cert_dir(dir, sizeof dir), file, suffix);
    zcert_t *cert = zcert_load(path);
    if (!cert)
        log_error("bus.keys",
                  "cert=%s what=\"%s\" msg=\"a tcp endpoint needs CURVE keys: run deploy/bus-keys "
                  "(or set INSECURE_BUS=1 to run without, on a trusted host only)\"",
                  path, what);
    return cert;
}

//  Read the accepted keys again when the clients directory changed (at most every BUS_RECHECK_MS): zauth reads
//  it for each handshake, this for the connections already made.
static void s_reload_keys(bus_server_t *self)
{
    int64_t now = clock_mono_ms();
    if (self->checked_ms && now - self->checked_ms < BUS_RECHECK_MS)
        return;
    self->checked_ms = now;
    struct stat st;
    if (stat(self->clients, &st) != 0) {
        self->key_count = 0;  //  gone: nobody is accepted any more
        return;
    }
    if (self->key_count && st.st_mtim.tv_sec == self->clients_mtime.tv_sec
        && st.st_mtim.tv_nsec == self->clients_mtime.tv_nsec)
        return;
    self->clients_mtime = st.st_mtim;
    self->key_count = 0;
    DIR *d = opendir(self->clients);
    struct dirent *e;
    while (d && (e = readdir(d)) && self->key_count < BUS_KEYS_MAX) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || (len > 7 && strcmp(e->d_name + len - 7, "_secret") == 0))
            continue;
        char path[sizeof self->clients + 260];
        snprintf(path, sizeof path, "%s/%s", self->clients, e->d_name);
        zcert_t *cert = zcert_load(path);
        if (cert)
            snprintf(self->keys[self->key_count++], sizeof self->keys[0], "%s", zcert_public_txt(cert));
        zcert_destroy(&cert);
    }
    if (d)
        closedir(d);
}

//  Whether the client key (Z85, zauth's User-Id) is still among the accepted ones.
static bool s_key_accepted(bus_server_t *self, const char *key)
{
    s_reload_keys(self);
    for (size_t i = 0; key && i < self->key_count; i++)
        if (strcmp(self->keys[i], key) == 0)
            return true;
    return false;
}

bus_server_t *bus_server_new(void *ctx, void *router, const char *name, const char *endpoint)
{
    bus_server_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    snprintf(self->name, sizeof self->name, "%s", name);
    if (!s_is_tcp(endpoint))
        return self;  //  ipc: RUN_DIR's mode is the check
    if (s_insecure()) {
        log_warn("bus.insecure", "service=%s endpoint=%s msg=\"INSECURE_BUS=1: any local user can talk to %s\"", name,
                 endpoint, name);
        return self;
    }
    char dir[CONFIG_PATH_MAX], addr[64];
    const char *clients = self->clients;
    zcert_t *cert = s_load(name, "cert", "the server's certificate");
    snprintf(self->clients, sizeof self->clients, "%s/%s.clients", bus_cert_dir(dir, sizeof dir), name);
    self->router = router;
    int one = 1;
    if (!cert || access(clients, R_OK | X_OK) != 0) {
        if (cert)
            log_error("bus.keys", "dir=%s msg=\"no accepted clients: run deploy/bus-keys\"", clients);
        zcert_destroy(&cert);
        bus_server_destroy(&self);
        return NULL;
    }
    //  zauth first: a CURVE server without a ZAP handler would accept any client key.
    self->auth = zactor_new(zauth, NULL);
    if (self->auth) {
        zstr_sendx(self->auth, "CURVE", clients, NULL);
        zsock_wait(self->auth);
    }
    snprintf(addr, sizeof addr, "inproc://bus-monitor-%p", (void *) self);
    int zero = 0;
    if (!self->auth || !ctx || zmq_setsockopt(router, ZMQ_CURVE_SERVER, &one, sizeof one)
        || zmq_setsockopt(router, ZMQ_CURVE_SECRETKEY, zcert_secret_key(cert), 32)
        || zmq_socket_monitor(router, addr,
                              ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                                  | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            != 0
        || !(self->monitor = zmq_socket(ctx, ZMQ_PAIR)) || zmq_setsockopt(self->monitor, ZMQ_LINGER, &zero, sizeof zero)
        || zmq_connect(self->monitor, addr) != 0) {
        log_error("bus.setup", "service=%s error=\"%s\"", name, zmq_strerror(zmq_errno()));
        zcert_destroy(&cert);
        bus_server_destroy(&self);
        return NULL;
    }
    zcert_destroy(&cert);
    self->failures = metrics_counter(metrics_default(), "rcauth_bus_auth_failures_total",
                                     "Failed CURVE handshakes on the service's bus socket (unknown key, wrong "
                                     "server key, no CURVE).",
                                     "reason");
    self->refused = metrics_counter(metrics_default(), "rcauth_bus_refused_total",
                                    "Bus messages refused because the sender's role may not send them.", "role,type");
    log_info("bus.curve", "service=%s clients=%s", name, clients);
    return self;
}

void bus_server_destroy(bus_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bus_server_t *self = *self_p;
    if (self->monitor) {
        zmq_socket_monitor(self->router, NULL, 0);
        zmq_close(self->monitor);
    }
    zactor_destroy(&self->auth);
    free(self);
    *self_p = NULL;
}

void *bus_server_monitor(bus_server_t *self)
{
    return self ? self->monitor : NULL;
}

void bus_server_on_monitor(bus_server_t *self)
{
    zmq_msg_t head, where;
    zmq_msg_init(&head);
    zmq_msg_init(&where);
    if (zmq_msg_recv(&head, self->monitor, ZMQ_DONTWAIT) < 0 || !zmq_msg_more(&head)
        || zmq_msg_recv(&where, self->monitor, ZMQ_DONTWAIT) < 0 || zmq_msg_size(&head) < 6) {
        zmq_msg_close(&head);
        zmq_msg_close(&where);
        return;
    }
    const unsigned char *h = zmq_msg_data(&head);
    uint16_t event;
    uint32_t value;
    memcpy(&event, h, sizeof event);
    memcpy(&value, h + 2, sizeof value);
    const char *reason = event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? "refused_key"
        : event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL            ? "protocol"
                                                                  : "other";
    metrics_inc(self->failures, (const char *[]){ reason });
    int64_t now = clock_mono_ms();
    if (event == self->last_event && value == self->last_value && now - self->last_logged_ms < 1000)
        self->suppressed++;
    else {
        //  The key itself is not logged: zauth's verdict is enough; the metric counts every attempt.
        log_warn("bus.auth_failed", "service=%s reason=%s code=0x%x endpoint=%.*s repeats_not_logged=%u", self->name,
                 reason, value, (int) zmq_msg_size(&where), (const char *) zmq_msg_data(&where), self->suppressed);
        self->last_event = event;
        self->last_value = value;
        self->last_logged_ms = now;
        self->suppressed = 0;
    }
    zmq_msg_close(&head);
    zmq_msg_close(&where);
}

bool bus_server_allows(bus_server_t *self, zmq_msg_t *frame, proto_type_t type)
{
    if (!self || !self->monitor)
        return true;  //  no CURVE: nothing to check against
    const char *role = zmq_msg_gets(frame, "role");
    if (!s_key_accepted(self, zmq_msg_gets(frame, "User-Id"))) {
        //  The certificate was removed from the accepted ones after this connection was made.
        log_warn("bus.refused", "service=%s role=%s type=%s msg=\"the sender's certificate is no longer accepted\"",
                 self->name, role ? role : "none", proto_type_name(type));
        metrics_inc(self->refused, (const char *[]){ role ? role : "none", proto_type_name(type) });
        return false;
    }
    for (size_t i = 0; role && i < sizeof s_policy / sizeof s_policy[0]; i++)
        if (strcmp(s_policy[i].server, self->name) == 0 && strcmp(s_policy[i].role, role) == 0)
            if ((unsigned) type < 32 && (s_policy[i].types & T(type)))
                return true;
    log_warn("bus.refused", "service=%s role=%s type=%s msg=\"this role may not send this message\"", self->name,
             role ? role : "none", proto_type_name(type));
    metrics_inc(self->refused, (const char *[]){ role ? role : "none", proto_type_name(type) });
    return false;
}

int bus_client_setup(void *socket, const char *role, const char *server, const char *endpoint)
{
    if (!s_is_tcp(endpoint) || s_insecure())
        return 0;
    char file[64];
    snprintf(file, sizeof file, "%s-client", role);
    zcert_t *mine = s_load(file, "cert", "the client's certificate"),
            *theirs = mine ? s_load(server, "pub", "the server's public key") : NULL;
    int rc = -1;
    if (mine && theirs && zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, zcert_public_key(theirs), 32) == 0
        && zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, zcert_public_key(mine), 32) == 0
        && zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, zcert_secret_key(mine), 32) == 0)
        rc = 0;
    else if (mine && theirs)
        log_error("bus.setup", "role=%s server=%s error=\"%s\"", role, server, zmq_strerror(zmq_errno()));
    zcert_destroy(&mine);
    zcert_destroy(&theirs);
    return rc;
}
