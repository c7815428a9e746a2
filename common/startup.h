//  startup: what the three mains (gateway, authsvc, apisvc) do before their own work, in this order: umask 077,
//  their command-line modes, the log (LOG_FILE; from then on SIGHUP reopens it: log.h), the configuration and its
//  lines, libsodium, the process hardening (no core dumps, no ptrace: seal_harden_process) and the metrics
//  registry. SIGINT/SIGTERM stay with their owners: svc_new for the services, the gateway's main for the gateway.
#ifndef STARTUP_H_INCLUDED
#define STARTUP_H_INCLUDED

#include "common/config.h"

#include <stdbool.h>
#include <stddef.h>

//  What differs between the mains.
typedef struct {
    const char *name;  //  svc= of the log lines, the metrics' service
    bool secrets;      //  load the client secrets (config_load_with_secrets): authsvc alone
    //  The command-line modes, run after the umask and before any log or configuration (NULL: arguments are
    //  ignored). Returns the process's exit code, or -1 to start the service.
    int (*modes)(int argc, char **argv);
    //  More of the configuration, checked with it (NULL: none). Returns 0, or -1 with why in err.
    int (*check)(void *arg, char *err, size_t err_size);
    void *check_arg;
    int config_exit;      //  the exit code for a configuration that cannot be loaded
    const char *ev;       //  the event of a start-up failure or warning ("startup", the gateway's "start")
    const char *why_key;  //  the key saying why, in those lines and in config.invalid ("error", "reason")
} startup_t;

//  Run the start-up for how, loading cfg (with the secrets, config_wipe it at the end). Returns -1 when the service
//  may start, else the exit code: a mode's, or a failure's (logged; cfg wiped).
int startup_run(const startup_t *how, int argc, char **argv, config_t *cfg);

#endif
