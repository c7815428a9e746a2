//  runfile_test: the instance name is checked; a run file holds the whole value, and no temporary file is left.
#include "common/runfile.h"
#include "tests/testlib.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void t_name(void)
{
    char name[40], err[120];
    unsetenv("INSTANCE_NAME");
    CHECK(runfile_name(name, sizeof name, "gateway", err, sizeof err) == 0);
    CHECK(strcmp(name, "gateway") == 0);
    setenv("INSTANCE_NAME", "gateway_2-b", 1);
    CHECK(runfile_name(name, sizeof name, "gateway", err, sizeof err) == 0);
    CHECK(strcmp(name, "gateway_2-b") == 0);
    const char *bad[] = { "", "../gateway", "a/b", "gw 1", "gw.1", "a23456789012345678901234567890123" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("INSTANCE_NAME", bad[i], 1);
        err[0] = '\0';
        CHECK(runfile_name(name, sizeof name, "gateway", err, sizeof err) == -1);
        CHECK(strstr(err, "INSTANCE_NAME") != NULL);
    }
    unsetenv("INSTANCE_NAME");
}

static void t_write(void)
{
    char dir[] = "/tmp/runfile_test.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK(runfile_write(dir, "gateway1", "port", "40123") == 0);
    CHECK(runfile_write(dir, "gateway1", "port", "40124") == 0);  //  replaced whole
    char path[256], text[32] = "";
    snprintf(path, sizeof path, "%s/gateway1.port", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (f) {
        CHECK(fgets(text, sizeof text, f) != NULL);
        fclose(f);
    }
    CHECK(strcmp(text, "40124\n") == 0);
    //  Only the file itself is left (the temporary one was renamed).
    int entries = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        entries += e->d_name[0] != '.';
    if (d)
        closedir(d);
    CHECK(entries == 1);
    unlink(path);
    //  A folder that is not there: -1 and errno, nothing written.
    char missing[300];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    errno = 0;
    CHECK(runfile_write(missing, "gateway", "port", "1") == -1);
    CHECK(errno == ENOENT);
    CHECK(rmdir(dir) == 0);
}

static const test_case_t cases[] = {
    { "name", t_name },
    { "write", t_write },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
