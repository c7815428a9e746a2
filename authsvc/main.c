//  authsvc: authorize URL, code exchange, refresh (once), logout. See docs/ARCHITECTURE.md.
#include "authsvc/authsvc.h"
#include "common/bus.h"
#include "common/clock.h"
#include "authsvc/refresh.h"
#include "authsvc/rekey.h"
#include "authsvc/stats.h"
#include "common/metrics.h"
#include "common/log.h"
#include "common/seal.h"
#include "common/startup.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#define SWEEP_INTERVAL_MS 60000
#define REFRESH_TICK_MS 50
#define STORE_CHECK_MS 1000
#define UPSTREAM_BODY_MAX (64u << 10)

//  A timer: runs outside the loop's group commit (svc), where deletes may grow a full map.
static void s_sweep(svc_t *svc, void *arg)
{
    (void) svc;
    authsvc_t *self = arg;
    size_t sessions = 0, pending = 0;
    if (store_sweep(self->store, clock_now_ms(), &sessions, &pending) == STORE_OK && (sessions || pending))
        log_info("sweep", "sessions=%zu pending=%zu", sessions, pending);
}

//  The drain at SIGTERM (svc) waits for refreshes under way: their new pairs are stored before the exit.
static bool s_busy(void *arg)
{
    authsvc_t *self = arg;
    return refresh_busy(self->refresh);
}

//  A DATA_DIR deleted or replaced under the running process: logged, and the store refuses every call (store_check).
static void s_store_check(svc_t *svc, void *arg)
{
    (void) svc;
    authsvc_t *self = arg;
    char why[160];
    store_check(self->store, why, sizeof why);
}

//  The configuration for a command-line run (--init-store, --key-usage), with only warnings logged. Returns 0, or 1
//  after printing why it cannot be loaded.
static int s_tool_config(config_t *cfg)
{
    char err[256];
    log_init("authsvc", LOGL_WARN);
    if (config_load(cfg, err, sizeof err) != 0) {
        printf("config: %s\n", err);
        return 1;
    }
    return 0;
}

//  --init-store: make the token store in DATA_DIR when there is none (deploy/start, when the stack starts from
//  nothing: the services themselves never make one). Prints what it did; exit 0, or 1 when it cannot.
static int s_init_store(void)
{
    config_t cfg;
    if (s_tool_config(&cfg) != 0)
        return 1;
    char path[4096];
    struct stat st;
    bool exists = snprintf(path, sizeof path, "%s/data.mdb", cfg.data_dir) < (int) sizeof path && stat(path, &st) == 0;
    store_t *store = store_open(cfg.data_dir, (size_t) cfg.data_map_mb << 20);
    const char *what = exists ? "exists" : "created (empty)";
    if (!store) {
        printf("store: cannot be made in %s (see the line above)\n", cfg.data_dir);
        return 1;
    }
    store_close(&store);
    printf("store: %s in %s\n", what, cfg.data_dir);
    //  The key ring: made once, never replaced (the records it sealed would all be lost with it).
    int made = seal_ring_create(cfg.key_file);
    if (made < 0) {
        printf("keys: cannot be made at %s (see the line above)\n", cfg.key_file);
        return 1;
    }
    printf("keys: %s at %s\n", made ? "created" : "exist", cfg.key_file);
    return 0;
}

//  --key-usage: print the records per key id ("key_id=ID records=N", a ring key used by nothing with 0; id 0: not
//  sealed), opening the store and ring of the configuration next to the running services (deploy/rekey --retire
//  uses it). Exit 0, or 1 when the store or the ring cannot be opened.
static int s_key_usage(void)
{
    config_t cfg;
    if (s_tool_config(&cfg) != 0)
        return 1;
    seal_ring_t *ring = seal_ring_load(cfg.key_file);
    store_t *store = ring ? store_open_existing(cfg.data_dir, (size_t) cfg.data_map_mb << 20) : NULL;
    uint32_t ids[SEAL_KEYS_MAX + 1], ring_ids[SEAL_KEYS_MAX];
    size_t counts[SEAL_KEYS_MAX + 1], n = 0;
    store_set_ring(store, ring);
    int rc = store ? store_key_usage(store, ids, counts, SEAL_KEYS_MAX + 1, &n) : -1;
    if (rc == 0) {
        size_t nring = seal_ring_ids(ring, ring_ids, SEAL_KEYS_MAX);
        for (size_t i = 0; i < nring; i++) {
            size_t count = 0;
            for (size_t j = 0; j < n; j++)
                if (ids[j] == ring_ids[i])
                    count = counts[j];
            printf("key_id=%u records=%zu%s\n", ring_ids[i], count, i == 0 ? " sealing" : "");
        }
        for (size_t j = 0; j < n; j++) {
            bool in_ring = false;
            for (size_t i = 0; i < nring; i++)
                in_ring |= ids[j] == ring_ids[i];
            if (!in_ring)
                printf("key_id=%u records=%zu unknown\n", ids[j], counts[j]);
        }
    }
    else
        printf("key usage: cannot be read (see the line above)\n");
    store_close(&store);
    seal_ring_destroy(&ring);
    return rc == 0 ? 0 : 1;
}

static int s_batch_begin(void *arg)
{
    return store_batch_begin(arg);
}

static int s_batch_commit(void *arg)
{
    int rc = store_batch_commit(arg);
    return rc == 0 ? 0 : rc == STORE_EFULL ? PROTO_STORE_FULL : -1;
}

//  The command-line modes (startup_t.modes): -1 without arguments (start the service), else the exit code.
static int s_modes(int argc, char **argv)
{
    if (argc <= 1)
        return -1;
    if (argc == 2 && strcmp(argv[1], "--init-store") == 0)
        return s_init_store();
    //  --bus-certs: create the bus's missing CURVE certificates (common/bus.h; deploy/bus-keys uses it).
    if (argc == 2 && strcmp(argv[1], "--bus-certs") == 0) {
        char dir[CONFIG_PATH_MAX], err[256];
        if (bus_make_certs(bus_cert_dir(dir, sizeof dir), err, sizeof err) != 0) {
            fprintf(stderr, "bus-certs: %s\n", err);
            return 1;
        }
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--key-usage") == 0)
        return s_key_usage();
    if (argc != 2 || strcmp(argv[1], "--check-config") != 0) {
        fprintf(stderr, "usage: %s [--check-config | --init-store | --key-usage | --bus-certs]\n", argv[0]);
        return 2;
    }
    //  --check-config: load the configuration as at start and check each RC_REDIRECT_URL against PUBLIC_URL,
    //  print "config ok: production=configured|unconfigured sandbox=... public_url=URL" (exit 0) or the problems on one line
    //  (exit 1); starts nothing (deploy/start uses it).
    config_t cfg;
    char problems[4096];
    if (config_load(&cfg, problems, sizeof problems) != 0
        || config_check_redirects(&cfg, problems, sizeof problems) != 0) {
        printf("config: %s\n", problems);
        return 1;
    }
    printf("config ok:");
    for (int i = 0; i < CONFIG_ENV_COUNT; i++)
        printf(" %s=%s", config_env_name((config_env_t) i), cfg.rc[i].configured ? "configured" : "unconfigured");
    printf(" public_url=%s\n", cfg.public_url);
    return 0;
}

int main(int argc, char **argv)
{
    //  The only process that loads the client secrets: the token endpoint needs them (README "Secrets").
    const startup_t how = {
        .name = "authsvc", .secrets = true, .modes = s_modes, .config_exit = 2, .ev = "startup", .why_key = "error"
    };
    config_t cfg;
    int started = startup_run(&how, argc, argv, &cfg);
    if (started >= 0)
        return started;
    authsvc_t self = { .cfg = &cfg };
    void *ctx = bus_ctx_new();  //  czmq's: the zauth actor of a tcp endpoint serves its sockets only
    //  No key ring, no start: a new one made here would leave every record sealed with the lost one unreadable.
    self.store = store_open_existing(cfg.data_dir, (size_t) cfg.data_map_mb << 20);
    self.ring = self.store ? seal_ring_load(cfg.key_file) : NULL;
    store_set_ring(self.store, self.ring);
    self.http = http_new(cfg.connect_timeout_ms, cfg.timeout_ms, UPSTREAM_BODY_MAX);
    self.refresh = refresh_new();
    if (ctx && self.store && self.ring && self.http && self.refresh)
        self.svc = svc_new("authsvc", ctx, cfg.authsvc_endpoint, self.http, authsvc_handle, &self);
    int rc = 1;
    if (self.svc && svc_every(self.svc, SWEEP_INTERVAL_MS, s_sweep, &self) == 0
        && svc_every(self.svc, REFRESH_TICK_MS, refresh_tick, &self) == 0
        && svc_every(self.svc, STORE_CHECK_MS, s_store_check, &self) == 0
        && svc_every(self.svc, REKEY_TICK_MS, rekey_tick, &self) == 0) {
        //  Group commit: the writes of one turn of the loop share one durable commit; what must not depend on
        //  it (refresh results, the lease, logout deletes) runs after it (authsvc_later), timers too (the sweep).
        svc_set_batch(self.svc, s_batch_begin, s_batch_commit, self.store);
        svc_set_after(self.svc, authsvc_after, &self);
        svc_set_busy(self.svc, s_busy, &self);
        stats_init(&self);
        rekey_init(&self);
        s_sweep(self.svc, &self);
        svc_report(self.svc, cfg.run_dir);
        log_info("startup", "msg=ready");
        rc = svc_run(self.svc);
        //  Transfers in flight end with HTTP_ECANCELLED; their callers get an ERROR.
        http_destroy(&self.http);
        authsvc_after(self.svc, &self);  //  what the cancelled transfers queued (releases of their leases)
        refresh_abort_all(&self);
    }
    else
        log_error("startup", "error=\"could not start; see the lines above\"");
    http_destroy(&self.http);
    refresh_destroy(&self.refresh);
    svc_destroy(&self.svc);
    store_close(&self.store);
    seal_ring_destroy(&self.ring);
    bus_ctx_term(&ctx);
    log_info("shutdown", "rc=%d", rc);
    metrics_shutdown();
    config_wipe(&cfg);
    return rc;
}
