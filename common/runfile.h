//  runfile: what a process tells scripts through RUN_DIR once it listens (the port or endpoint it got).
//
//  A process may be told to listen on "any port" (GATEWAY_INTERNAL_PORT=0, METRICS_PORT=any,
//  tcp://127.0.0.1:* endpoints): the OS picks one, and the process writes what it got into
//  RUN_DIR/<name>.<what> (one line), atomically (a temporary file renamed), so a reader sees the
//  whole value or no file. <name> is INSTANCE_NAME (letters, digits, '-', '_'; test stacks number
//  their processes: gateway1, authsvc2) or, unset, the program's own name.
#ifndef RUNFILE_H_INCLUDED
#define RUNFILE_H_INCLUDED

#include <stddef.h>

//  The instance name into buf: INSTANCE_NAME, or dflt when unset. Returns 0, or -1 with a reason in err
//  when INSTANCE_NAME is empty, too long or holds another character than letters, digits, '-' and '_'.
int runfile_name(char *buf, size_t size, const char *dflt, char *err, size_t err_size);
//  Write value and a newline to dir/name.what through dir/name.what.tmp and a rename. Returns 0, or -1
//  (errno set) when a path is too long or the file cannot be written.
int runfile_write(const char *dir, const char *name, const char *what, const char *value);
//  Write value and a newline to path through path.tmp and a rename. Returns 0, or -1 (errno set).
int runfile_write_path(const char *path, const char *value);

#endif
