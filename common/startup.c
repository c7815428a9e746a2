//  startup: see startup.h.
#include "common/startup.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/rand.h"
#include "common/seal.h"

#include <sys/stat.h>

int startup_run(const startup_t *how, int argc, char **argv, config_t *cfg)
{
    umask(077);  //  sockets, key and store files, state: this user's alone, whoever started us
    int mode = how->modes ? how->modes(argc, argv) : -1;
    if (mode >= 0)
        return mode;
    char err[512];
    log_init(how->name, LOGL_INFO);
    //  Only authsvc loads the client secrets: the token endpoint needs them (README "Secrets").
    int rc = how->secrets ? config_load_with_secrets(cfg, err, sizeof err) : config_load(cfg, err, sizeof err);
    if (rc != 0 || (how->check && how->check(how->check_arg, err, sizeof err) != 0)) {
        log_error("config.invalid", "%s=\"%s\"", how->why_key, err);
        config_wipe(cfg);
        return how->config_exit;
    }
    log_init(how->name, (log_level_t) cfg->log_level);
    config_log(cfg);
    if (rand_init() != 0) {
        log_error(how->ev, "%s=\"libsodium init failed\"", how->why_key);
        config_wipe(cfg);
        return 1;
    }
    //  Key material, tokens, session ids in memory: no core dumps, no ptrace by the user's other processes.
    if (seal_harden_process() != 0) {
        config_wipe(cfg);
        return 1;
    }
    if (metrics_init(how->name) != 0)
        log_warn(how->ev, "%s=\"no metrics (out of memory)\"", how->why_key);
    return -1;
}
