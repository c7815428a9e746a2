//  runfile: see runfile.h.
#include "common/runfile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  Longest instance name: room in a path and in a log line, more than any stack numbers.
#define S_NAME_MAX 32

int runfile_name(char *buf, size_t size, const char *dflt, char *err, size_t err_size)
{
    const char *v = getenv("INSTANCE_NAME");
    if (!v) {
        snprintf(buf, size, "%s", dflt);
        return 0;
    }
    size_t n = strlen(v);
    int ok = n > 0 && n <= S_NAME_MAX && n < size;
    for (size_t i = 0; ok && i < n; i++)
        ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-'
            || v[i] == '_';
    if (!ok) {
        snprintf(err, err_size, "INSTANCE_NAME must be 1 to %d letters, digits, '-' or '_'", S_NAME_MAX);
        return -1;
    }
    memcpy(buf, v, n + 1);
    return 0;
}

int runfile_write(const char *dir, const char *name, const char *what, const char *value)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s.%s", dir, name, what);
    if (n < 0 || (size_t) n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return runfile_write_path(path, value);
}

int runfile_write_path(const char *path, const char *value)
{
    char tmp[PATH_MAX];
    int m = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (m < 0 || (size_t) m >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int ok = fprintf(f, "%s\n", value) > 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
        return -1;
    }
    return 0;
}
