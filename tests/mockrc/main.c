//  mockrc: a mock RingCentral server for tests and benchmarks (see README.md).
//
//  mockrc [--bind 127.0.0.1] [--port N] [--port-file PATH] --client ID:SECRET:REDIRECT_URI
//         [--client ...] [--auto-approve] [--latency-ms N] [--threads N] [--keep-alive-ms N] [--uri-base URL]
//         [--state-file PATH]
#include "common/log.h"
#include "common/rand.h"
#include "common/runfile.h"
#include "tests/mockrc/server.h"
#include "tests/mockrc/state.h"

#include <civetweb.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define MAX_CLIENTS 16
//  How often the state file is written when something changed (and once more at exit).
#define SAVE_EVERY_S 1

typedef struct {
    const char *bind;
    long port;
    const char *port_file;
    const char *uri_base;    //  the host the URIs in API bodies name (default: the mock's own URL)
    const char *state_file;  //  logins kept across restarts (state_save), or NULL
    long threads;
    long keep_alive_ms;
    state_client_t clients[MAX_CLIENTS];
    size_t nclients;
    state_config_t config;
} options_t;

static void s_usage(void)
{
    fprintf(stderr,
            "usage: mockrc [--bind ADDR] [--port N] [--port-file PATH] --client ID:SECRET:REDIRECT_URI\n"
            "              [--client ...] [--auto-approve] [--latency-ms N] [--threads N] [--keep-alive-ms N]\n"
            "  --bind ADDR        address to listen on (default 127.0.0.1)\n"
            "  --port N           port, 0 = any free one (default 0)\n"
            "  --port-file PATH   write the actual port there (atomically: temp file + rename)\n"
            "  --client C         a registered app, split on the first two ':' (repeatable, up to %d)\n"
            "  --auto-approve     authorize redirects with a code at once (no login page)\n"
            "  --latency-ms N     added to every RingCentral endpoint (default 0)\n"
            "  --threads N        civetweb worker threads (default 256; one per keep-alive connection)\n"
            "  --keep-alive-ms N  idle keep-alive timeout (default 10000)\n"
            "  --uri-base URL     the scheme and host the URIs in API bodies (navigation, records) name,\n"
            "                     instead of the mock's own (tests: a client must never follow another host)\n"
            "  --state-file PATH  keep the logins (tokens, users) in PATH across restarts: loaded at start (a corrupt\n"
            "                     file is logged and set aside as PATH.bad), saved within a second of a change and at "
            "exit\n"
            "LOG_LEVEL=debug logs one line per request.\n",
            MAX_CLIENTS);
}

static int s_long(const char *text, long min, long max, long *out)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (end == text || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

//  Returns 0, or -1 after printing why.
static int s_parse(int argc, char **argv, options_t *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--auto-approve") == 0) {
            o->config.auto_approve = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage();
            exit(0);
        }
        if (!v) {
            fprintf(stderr, "mockrc: %s needs a value\n", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--bind") == 0)
            o->bind = v;
        else if (strcmp(a, "--port") == 0)
            bad = s_long(v, 0, 65535, &o->port);
        else if (strcmp(a, "--port-file") == 0)
            o->port_file = v;
        else if (strcmp(a, "--uri-base") == 0)
            o->uri_base = v;
        else if (strcmp(a, "--state-file") == 0)
            o->state_file = v;
        else if (strcmp(a, "--latency-ms") == 0)
            bad = s_long(v, 0, 600000, &o->config.latency_ms);
        else if (strcmp(a, "--threads") == 0)
            bad = s_long(v, 1, 4096, &o->threads);
        else if (strcmp(a, "--keep-alive-ms") == 0)
            bad = s_long(v, 0, 3600000, &o->keep_alive_ms);
        else if (strcmp(a, "--client") == 0) {
            bad = o->nclients == MAX_CLIENTS || state_client_parse(v, &o->clients[o->nclients]) != 0;
            if (!bad)
                o->nclients++;
        }
        else {
            fprintf(stderr, "mockrc: unknown option %s\n", a);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "mockrc: bad value for %s\n", a);
            return -1;
        }
    }
    if (o->nclients == 0) {
        fprintf(stderr, "mockrc: at least one --client ID:SECRET:REDIRECT_URI is needed\n");
        return -1;
    }
    return 0;
}

//  Take in the state file when there is one. A corrupt one is set aside (PATH.bad) and the mock starts fresh.
static void s_load_state(state_t *st, const char *path)
{
    char why[160];
    long n = state_load(st, path, why, sizeof why);
    if (n > 0 || (n == 0 && access(path, F_OK) == 0))
        log_info("mockrc.state_loaded", "path=%s logins=%ld", path, n);
    else if (n < 0) {
        char bad[PATH_MAX];
        snprintf(bad, sizeof bad, "%s.bad", path);
        log_warn("mockrc.state_invalid",
                 "path=%s reason=\"%s\" msg=\"starting with no logins; the file is kept as %s\"", path, why, bad);
        rename(path, bad);
    }
}

int main(int argc, char **argv)
{
    umask(077);  //  sockets, key and store files, state: this user's alone, whoever started us
    options_t o = { .bind = "127.0.0.1", .port = 0, .threads = 256, .keep_alive_ms = 10000 };
    state_config_defaults(&o.config);
    if (s_parse(argc, argv, &o) != 0) {
        s_usage();
        return 2;
    }
    int level = log_level_parse(getenv("LOG_LEVEL"));
    log_init("mockrc", level < 0 ? LOGL_INFO : (log_level_t) level);
    if (rand_init() != 0) {
        log_error("mockrc.start_failed", "reason=libsodium");
        return 1;
    }

    //  Workers inherit this mask, so only the main thread's sigwait sees the signals.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    state_t *st = state_new(o.clients, o.nclients, &o.config);
    if (!st) {
        log_error("mockrc.start_failed", "reason=out_of_memory");
        return 1;
    }
    mg_init_library(0);
    server_t *server = server_start(o.bind, o.port, o.threads, o.keep_alive_ms, st);
    if (server) {
        state_set_base_url(st, o.uri_base ? o.uri_base : server_url(server));
        if (o.state_file)
            s_load_state(st, o.state_file);
        char port[16];
        snprintf(port, sizeof port, "%d", server_port(server));
        if (o.port_file && runfile_write_path(o.port_file, port) != 0) {
            log_error("mockrc.start_failed", "reason=port_file path=%s", o.port_file);
            server_stop(&server);
        }
    }
    if (!server) {
        state_destroy(&st);
        mg_exit_library();
        return 1;
    }
    log_info("mockrc.listen", "bind=%s port=%d url=%s clients=%zu threads=%ld auto_approve=%d latency_ms=%ld", o.bind,
             server_port(server), server_url(server), o.nclients, o.threads, o.config.auto_approve,
             o.config.latency_ms);

    //  Save the state when it changed (every SAVE_EVERY_S at most); SIGHUP (logrotate moved the log
    //  file): reopen it and go on; any other signal stops.
    int sig = -1;
    uint64_t saved = state_changes(st);
    while (sig < 0 || sig == SIGHUP) {
        if (sig == SIGHUP)
            log_info("log.reopen", "ok=%d", log_file_reopen() == 0);
        sig = sigtimedwait(&stop_signals, NULL, &(struct timespec){ SAVE_EVERY_S, 0 });
        uint64_t changes = o.state_file ? state_changes(st) : saved;
        if (changes != saved && state_save(st, o.state_file) == 0)
            saved = changes;
    }
    log_info("mockrc.stop", "signal=%d", sig);
    state_stop(st);  //  wakes requests sleeping in latency or slow faults
    server_stop(&server);
    if (o.state_file && state_changes(st) != saved && state_save(st, o.state_file) == 0)
        log_info("mockrc.state_saved", "path=%s", o.state_file);
    state_destroy(&st);
    mg_exit_library();
    if (o.port_file)
        unlink(o.port_file);
    return 0;
}
