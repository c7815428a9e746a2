//  log: see log.h.
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static char s_svc[32] = "-";
static log_level_t s_level = LOGL_INFO;
static const char *s_names[] = { "debug", "info", "warn", "error" };
//  The log file's path (LOG_FILE), read by log_file_reopen in a signal handler: set once before any reopen.
static char s_file[4096];

static void s_on_hup(int sig)
{
    (void) sig;
    int saved = errno;
    log_file_reopen();
    errno = saved;
}

void log_init(const char *svc, log_level_t level)
{
    snprintf(s_svc, sizeof s_svc, "%s", svc ? svc : "-");
    s_level = level;
    //  From now on SIGHUP reopens the log file and never ends the process (a process that waits for it
    //  with sigwait blocks it instead): logrotate may signal a process that has only just started.
    struct sigaction sa = { .sa_handler = s_on_hup, .sa_flags = SA_RESTART };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    const char *file = getenv("LOG_FILE");
    if (file && *file && strcmp(file, s_file) != 0 && log_file_open(file) < 0)
        log_warn("log.file", "path=%s error=\"%s\"", file, strerror(errno));
}

int log_file_open(const char *path)
{
    if (!path || !*path)
        return 0;
    if (strlen(path) >= sizeof s_file) {
        errno = ENAMETOOLONG;
        return -1;
    }
    char saved[sizeof s_file];
    memcpy(saved, s_file, sizeof saved);
    snprintf(s_file, sizeof s_file, "%s", path);
    if (log_file_reopen() < 0) {
        int e = errno;
        memcpy(s_file, saved, sizeof saved);
        errno = e;
        return -1;
    }
    return 0;
}

int log_file_reopen(void)
{
    if (!s_file[0])
        return 0;
    //  open, dup2 and close are async-signal-safe; dup2 swaps each descriptor atomically, so a
    //  line another thread writes meanwhile lands whole in the old file or in the new one.
    int fd = open(s_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0 ? -1 : 0;
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int log_level_parse(const char *name)
{
    if (!name || !*name)
        return LOGL_INFO;
    for (int i = 0; i < 4; i++)
        if (strcasecmp(name, s_names[i]) == 0)
            return i;
    return -1;
}

int log_enabled(log_level_t level)
{
    return level >= s_level;
}

void log_emit(log_level_t level, const char *ev, const char *fmt, ...)
{
    if (level < s_level || level > LOGL_ERROR)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    //  One buffer and one write so lines from several threads never interleave.
    char line[2048];
    int n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ lvl=%s svc=%s ev=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, s_names[level], s_svc, ev);
    if (n > 0 && (size_t) n < sizeof line - 2 && fmt && *fmt) {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t) n - 1, fmt, ap);
        va_end(ap);
        if (m > 0)
            n += m;
    }
    if (n < 0)
        return;
    if ((size_t) n > sizeof line - 2)
        n = (int) sizeof line - 2;
    line[n++] = '\n';
    fwrite(line, 1, (size_t) n, stderr);
}

const char *log_redact(const char *secret, char out[8])
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    const char *s = secret ? secret : "";
    crypto_hash_sha256(hash, (const unsigned char *) s, strlen(s));
    sodium_bin2hex(out, 8, hash, 3);
    return out;
}
