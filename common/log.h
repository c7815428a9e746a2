//  log: one line per event, key=value, to stderr. (Levels are LOGL_*: syslog.h, pulled in by czmq.h, owns LOG_*.)
//      ts=2026-12-01T07:30:00.123Z lvl=warn svc=authsvc ev=exchange.fail rid=7f3a reason=invalid_grant
//  Never pass tokens, secrets, cookies, codes, session ids or raw bodies:
//  log_redact() gives a safe stand-in when a line needs to tell values apart.
#ifndef LOG_H_INCLUDED
#define LOG_H_INCLUDED

#include <stddef.h>

typedef enum { LOGL_DEBUG = 0, LOGL_INFO = 1, LOGL_WARN = 2, LOGL_ERROR = 3 } log_level_t;

//  Set the service name and the threshold. Level names: debug, info, warn, error.
//  With LOG_FILE set in the environment, stdout and stderr go to that file (log_file_open). From then on
//  SIGHUP reopens the log file (log_file_reopen) instead of ending the process.
void log_init(const char *svc, log_level_t level);
//  Append stdout and stderr to path (created 0600), now and at each log_file_reopen. NULL or "":
//  nothing changes. Returns 0, or -1 (errno set; the descriptors are unchanged).
int log_file_open(const char *path);
//  Open the file of log_file_open again (logrotate moved it; the convention is SIGHUP). Only
//  async-signal-safe calls: a signal handler may call it. Returns 0 (also without a file), or -1.
int log_file_reopen(void);
//  Parse a level name (NULL or "" gives LOGL_INFO). Returns -1 for an unknown name.
int log_level_parse(const char *name);
//  True when a line at level would be written.
int log_enabled(log_level_t level);
//  Write one line: ts, lvl, svc, ev, then fmt (key=value pairs, printf style).
void log_emit(log_level_t level, const char *ev, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
//  A short non-reversible tag of a secret (first 6 hex of its SHA-256) for correlating lines.
const char *log_redact(const char *secret, char out[8]);

#define log_debug(ev, ...) log_emit(LOGL_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...) log_emit(LOGL_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_emit(LOGL_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_emit(LOGL_ERROR, ev, __VA_ARGS__)

#endif
