//  log_test: the log file follows logrotate's convention (move the file, reopen, new lines in a new file).
#include "common/log.h"
#include "tests/testlib.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void t_reopen_after_move(void)
{
    char path[512], moved[512], buf[4096];
    snprintf(path, sizeof path, "%s/svc.log", test_tmpdir());
    snprintf(moved, sizeof moved, "%s/svc.log.1", test_tmpdir());
    //  The test's own output goes to stdout and stderr: keep them to put back.
    fflush(stdout);
    int out = dup(STDOUT_FILENO), err = dup(STDERR_FILENO);
    log_init("logtest", LOGL_INFO);
    int opened = log_file_open(path);
    log_info("before.move", "n=1");
    int renamed = rename(path, moved);
    log_info("after.move", "n=2");  //  still the old file: nobody said it moved
    int reopened = log_file_reopen();
    log_info("after.reopen", "n=3");
    fflush(stdout);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    close(out);
    close(err);
    CHECK(opened == 0);
    CHECK(renamed == 0);
    CHECK(reopened == 0);
    test_read_file(moved, buf, sizeof buf);
    CHECK(strstr(buf, "svc=logtest ev=before.move n=1") != NULL);
    CHECK(strstr(buf, "ev=after.move n=2") != NULL);
    CHECK(strstr(buf, "after.reopen") == NULL);
    test_read_file(path, buf, sizeof buf);
    CHECK(strstr(buf, "ev=after.reopen n=3") != NULL);
    CHECK(strstr(buf, "before.move") == NULL);
    CHECK(access(path, R_OK | W_OK) == 0);
}

static void t_sighup_with_log_file(void)
{
    //  LOG_FILE: log_init sends the output there, and SIGHUP (logrotate's postrotate) reopens it.
    char path[512], moved[512], buf[4096];
    snprintf(path, sizeof path, "%s/hup.log", test_tmpdir());
    snprintf(moved, sizeof moved, "%s/hup.log.1", test_tmpdir());
    fflush(stdout);
    int out = dup(STDOUT_FILENO), err = dup(STDERR_FILENO);
    setenv("LOG_FILE", path, 1);
    log_init("huptest", LOGL_INFO);
    log_info("first", "n=1");
    int renamed = rename(path, moved);
    int raised = raise(SIGHUP);
    log_info("second", "n=2");
    fflush(stdout);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    close(out);
    close(err);
    unsetenv("LOG_FILE");
    CHECK(renamed == 0);
    CHECK(raised == 0);
    CHECK(strstr(test_read_file(moved, buf, sizeof buf), "svc=huptest ev=first n=1") != NULL);
    CHECK(strstr(buf, "second") == NULL);
    CHECK(strstr(test_read_file(path, buf, sizeof buf), "svc=huptest ev=second n=2") != NULL);
}

static void t_no_file(void)
{
    //  Without a file, reopening changes nothing and succeeds; a path that cannot be opened fails
    //  and leaves stderr alone.
    CHECK(log_file_open(NULL) == 0);
    CHECK(log_file_open("") == 0);
    CHECK(log_file_open("/nonexistent-dir/x.log") == -1);
}

static const test_case_t cases[] = {
    { "reopen_after_move", t_reopen_after_move },
    { "sighup_with_log_file", t_sighup_with_log_file },
    { "no_file", t_no_file },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
