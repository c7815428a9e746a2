//  testlib: see testlib.h.
#include "tests/testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int s_failures_in_case;
static char s_tmpdir[256];
static pid_t s_tmpdir_owner;  //  the process that made it: a forked child's exit() leaves it

bool test_check(bool cond, const char *expr, const char *file, int line)
{
    if (!cond) {
        s_failures_in_case++;
        fprintf(stdout, "#   check failed: %s (%s:%d)\n", expr, file, line);
        fflush(stdout);
    }
    return cond;
}

static void s_remove_tmpdir(void)
{
    if (s_tmpdir[0] && getpid() == s_tmpdir_owner && !getenv("TEST_KEEP_TMP")) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "# could not remove %s\n", s_tmpdir);
    }
}

long test_slack_ms(long ms)
{
    const char *v = getenv("TEST_TIME_SCALE");
    double scale = v && *v ? strtod(v, NULL) : 1.0;
    return (long) (ms * (scale >= 1.0 && scale <= 100.0 ? scale : 1.0));
}

const char *test_tmpdir(void)
{
    if (!s_tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(s_tmpdir, sizeof s_tmpdir, "%s/rctest.XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(s_tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
        s_tmpdir_owner = getpid();
        atexit(s_remove_tmpdir);
    }
    return s_tmpdir;
}

void test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        CHECK(fclose(f) == 0);
    }
}

const char *test_read_file(const char *path, char *buf, size_t size)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return buf;
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

//  Arguments NAME run those cases; -NAME leaves that case out of the others (of all, when no NAME is given).
static bool s_selected(int argc, char **argv, const char *name)
{
    bool named = false;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && strcmp(argv[i] + 1, name) == 0)
            return false;
        named |= argv[i][0] != '-';
    }
    if (!named)
        return true;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return true;
    return false;
}

int test_main(int argc, char **argv, const test_case_t *cases, size_t count)
{
    int pass = 0, fail = 0, n = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t i = 0; i < count; i++) {
        if (!s_selected(argc, argv, cases[i].name))
            continue;
        s_failures_in_case = 0;
        cases[i].fn();
        n++;
        if (s_failures_in_case == 0) {
            pass++;
            printf("ok %d - %s\n", n, cases[i].name);
        }
        else {
            fail++;
            printf("not ok %d - %s\n", n, cases[i].name);
        }
    }
    printf("# pass %d\n# fail %d\n", pass, fail);
    return fail ? 1 : 0;
}
