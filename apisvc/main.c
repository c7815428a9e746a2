//  apisvc: calls the RingCentral APIs with a session's token. See docs/ARCHITECTURE.md.
#include "apisvc/api.h"
#include "apisvc/authc.h"
#include "common/bus.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/seal.h"
#include "common/startup.h"

#include <zmq.h>

#define TICK_MS 50
#define STORE_CHECK_MS 1000

static void s_tick(svc_t *svc, void *arg)
{
    void **parts = arg;
    authc_tick(svc, parts[0]);
    api_tick(svc, parts[1]);
}

//  A DATA_DIR deleted or replaced under the running process: logged, and the store refuses every call (store_check).
//  A key ring changed by deploy/rekey is read again (records it seals then open at once; a key id met before this
//  second also makes the ring read its file: seal_open).
static void s_store_check(svc_t *svc, void *arg)
{
    (void) svc;
    void **parts = arg;
    char why[160];
    store_check(parts[0], why, sizeof why);
    seal_ring_refresh(parts[1]);
}

int main(int argc, char **argv)
{
    const startup_t how = { .name = "apisvc", .config_exit = 2, .ev = "startup", .why_key = "error" };
    config_t cfg;
    int started = startup_run(&how, argc, argv, &cfg);
    if (started >= 0)
        return started;
    void *ctx = bus_ctx_new();  //  czmq's: the zauth actor of a tcp endpoint serves its sockets only
    //  No key ring, no start (authsvc --init-store makes it with the store).
    store_t *store = store_open_existing(cfg.data_dir, (size_t) cfg.data_map_mb << 20);
    seal_ring_t *ring = store ? seal_ring_load(cfg.key_file) : NULL;
    store_set_ring(store, ring);
    void *checked[2] = { store, ring };
    http_t *http = http_new(cfg.connect_timeout_ms, cfg.timeout_ms, PROTO_BODY_MAX);
    api_t *api = NULL;
    authc_t *authc = NULL;
    svc_t *svc = NULL;
    //  The handler's argument (api) exists only once authc does, which needs svc: set it after.
    void *parts[2] = { NULL, NULL };
    if (ctx && store && ring && http)
        svc = svc_new("apisvc", ctx, cfg.apisvc_endpoint, http, api_handle, NULL);
    //  A REFRESH may take authsvc one RingCentral call. The gateway waits service_timeout +
    //  3 x timeout for apisvc (gateway/rpc.c): room for the API call that found the token stale,
    //  this refresh and the API call again, so a hung authsvc is reported as such before the
    //  gateway gives up on apisvc.
    if (svc)
        authc = authc_new(ctx, cfg.authsvc_endpoint, svc, cfg.timeout_ms + cfg.service_timeout_ms);
    if (authc)
        api = api_new(&cfg, store, http, authc);
    int rc = 1;
    if (api) {
        parts[0] = authc;
        parts[1] = api;
        svc_set_handler_arg(svc, api);
        if (svc_every(svc, TICK_MS, s_tick, parts) == 0
            && svc_every(svc, STORE_CHECK_MS, s_store_check, checked) == 0) {
            svc_report(svc, cfg.run_dir);
            log_info("startup", "msg=ready");
            rc = svc_run(svc);
        }
    }
    else
        log_error("startup", "error=\"could not start; see the lines above\"");
    http_destroy(&http);  //  running calls end (their callers get an ERROR)
    authc_destroy(&authc);
    api_destroy(&api);
    svc_destroy(&svc);
    store_close(&store);
    seal_ring_destroy(&ring);
    bus_ctx_term(&ctx);
    log_info("shutdown", "rc=%d", rc);
    metrics_shutdown();
    return rc;
}
