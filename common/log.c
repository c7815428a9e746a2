//  log: see log.h.
#include "common/log.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static char s_svc[32] = "-";
static log_level_t s_level = LOGL_INFO;
static const char *s_names[] = { "debug", "info", "warn", "error" };

void log_init(const char *svc, log_level_t level)
{
    snprintf(s_svc, sizeof s_svc, "%s", svc ? svc : "-");
    s_level = level;
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
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, s_names[level], s_svc, ev);
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
