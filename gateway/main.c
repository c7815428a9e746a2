//  gateway: the HTTP front of the demo (civetweb), talking to authsvc and apisvc over ZeroMQ.
//  Load config, start, wait for SIGINT/SIGTERM (SIGHUP: reopen the log file), stop; destroy in reverse order.
//  With arguments, a mode for deploy/ (gateway/front.h) that prints and exits, before any config.
#include "common/config.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/runfile.h"
#include "common/startup.h"
#include "gateway/front.h"
#include "gateway/server.h"
#include "gateway/session.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

static int s_modes(int argc, char **argv)
{
    return front_main(argc, argv, stdout, stderr);
}

typedef struct {
    int threads;    //  GATEWAY_THREADS
    char name[40];  //  INSTANCE_NAME, else "gateway": the name of its files in RUN_DIR
} s_opts_t;

//  GATEWAY_THREADS and INSTANCE_NAME, checked with the configuration (startup_t.check).
static int s_check(void *opts, char *err, size_t err_size)
{
    s_opts_t *o = opts;
    if (server_threads_from_env(&o->threads, err, err_size) < 0)
        return -1;
    return runfile_name(o->name, sizeof o->name, "gateway", err, err_size);
}

//  Tell scripts the ports it got (GATEWAY_INTERNAL_PORT=0, METRICS_PORT=any: the OS picks): RUN_DIR/<name>.metrics.port
//  first (when there is a metrics port), then RUN_DIR/<name>.port, so the latter's presence means both are there.
static void s_report_ports(const server_t *server, const config_t *cfg, const char *name)
{
    char port[16], metrics[16];
    snprintf(port, sizeof port, "%d", server_port(server));
    snprintf(metrics, sizeof metrics, "%d", server_metrics_port(server));
    if ((server_metrics_port(server) && runfile_write(cfg->run_dir, name, "metrics.port", metrics) != 0)
        || runfile_write(cfg->run_dir, name, "port", port) != 0)
        log_error("start.report", "run_dir=%s name=%s error=\"%s\" msg=\"scripts cannot read the ports\"", cfg->run_dir,
                  name, strerror(errno));
}

int main(int argc, char **argv)
{
    s_opts_t opts = { 0 };
    const startup_t how = { .name = "gateway",
                            .modes = s_modes,
                            .check = s_check,
                            .check_arg = &opts,
                            .config_exit = 1,
                            .ev = "start",
                            .why_key = "reason" };
    config_t cfg;
    int started = startup_run(&how, argc, argv, &cfg);
    if (started >= 0)
        return started;
    //  The gateway's own key (cookie tags, CSRF tokens), kept in DATA_DIR so that cookies and open logout forms
    //  survive a restart and every gateway of the stack shares it; never the store, never a client secret.
    char key_path[CONFIG_PATH_MAX + 16], err[512];
    snprintf(key_path, sizeof key_path, "%s/gateway.key", cfg.data_dir);
    if (session_key_load(key_path, err, sizeof err) < 0) {
        log_error("start", "reason=\"%s\"", err);
        return 1;
    }

    //  Every thread started from here on inherits the blocked signals; main waits for them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);

    //  The rpc hub holds the only sockets (one DEALER per service, replaced one at a time):
    //  ZeroMQ's default ZMQ_MAX_SOCKETS (1023) has room, whatever the thread count.
    void *zctx = zmq_ctx_new();
    if (!zctx) {
        log_error("start", "reason=\"no ZeroMQ context\"");
        return 1;
    }
    server_t *server = server_start(&cfg, zctx, opts.threads);
    if (!server) {
        zmq_ctx_term(zctx);
        return 1;
    }
    s_report_ports(server, &cfg, opts.name);
    //  SIGHUP (logrotate moved the log file): reopen it and go on serving.
    int sig = 0;
    while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
        if (log_file_reopen() == 0)
            log_info("log.reopen", "ok=1");
        else
            log_error("log.reopen", "error=\"%s\"", strerror(errno));
    }
    log_info("stop", "signal=%d", sig);
    server_stop(&server);
    zmq_ctx_term(zctx);
    metrics_shutdown();
    session_key_unload();
    return 0;
}
