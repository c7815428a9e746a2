//  startup_test: the mains' start-up, each case in a child process (it sets the umask, the log file, the hardening).
#include "common/startup.h"
#include "tests/testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

//  The child's exit when startup_run let the service start: the umask and the hardening held, or not.
#define STARTED 100
#define STARTED_UNHARDENED 101

static const char *s_secret = "s3cret-never-logged";

//  Run startup_run(how) in a child whose log goes to log_path; LOG_LEVEL is log_level (NULL: unset). Returns the
//  child's exit code: startup_run's, or STARTED / STARTED_UNHARDENED when it returned -1.
static int s_run(const startup_t *how, const char *log_level, char *log_path, size_t log_size)
{
    static int n;
    char envs[600];
    snprintf(log_path, log_size, "%s/startup-%d.log", test_tmpdir(), ++n);
    snprintf(envs, sizeof envs, "%s/envs", test_tmpdir());
    mkdir(envs, 0700);
    char file[700], text[400];
    snprintf(file, sizeof file, "%s/.env-sandbox", envs);
    snprintf(text, sizeof text,
             "RC_SERVER_URL=http://127.0.0.1:9\nRC_CLIENT_ID=id\nRC_CLIENT_SECRET=%s\n"
             "RC_REDIRECT_URL=http://localhost:5000/oauth2callback\n",
             s_secret);
    test_write_file(file, text);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("RC_ENV_DIR", envs, 1);
        setenv("LOG_FILE", log_path, 1);
        if (log_level)
            setenv("LOG_LEVEL", log_level, 1);
        else
            unsetenv("LOG_LEVEL");
        umask(022);
        char *argv[] = { "startup_test", "--mode", NULL };
        config_t cfg;
        int rc = startup_run(how, 2, argv, &cfg);
        if (rc >= 0)
            _exit(rc);
        mode_t mask = umask(077);
        _exit(mask == 077 && prctl(PR_GET_DUMPABLE) == 0 ? STARTED : STARTED_UNHARDENED);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

//  A mode: exit 3 when it runs under umask 077 and gets the arguments, else 4.
static int s_mode(int argc, char **argv)
{
    mode_t mask = umask(077);
    return mask == 077 && argc == 2 && strcmp(argv[1], "--mode") == 0 ? 3 : 4;
}

static int s_no_mode(int argc, char **argv)
{
    (void) argc, (void) argv;
    return -1;
}

static int s_check_fails(void *arg, char *err, size_t err_size)
{
    snprintf(err, err_size, "THREADS must be %s", (const char *) arg);
    return -1;
}

static void t_mode_before_anything(void)
{
    //  A mode ends the process with its code before any log line or configuration (a bad one is not read).
    const startup_t how = { .name = "modesvc", .modes = s_mode, .config_exit = 2, .ev = "startup", .why_key = "error" };
    char log[600];
    CHECK(s_run(&how, "nonsense", log, sizeof log) == 3);
    CHECK(access(log, F_OK) != 0);
}

static void t_config_invalid(void)
{
    //  The configuration's failure: logged as config.invalid with the service's key, its own exit code.
    const startup_t how = { .name = "badsvc", .config_exit = 7, .ev = "start", .why_key = "reason" };
    char log[600], buf[4096];
    CHECK(s_run(&how, "nonsense", log, sizeof log) == 7);
    test_read_file(log, buf, sizeof buf);
    CHECK(strstr(buf, "svc=badsvc ev=config.invalid reason=\"LOG_LEVEL must be") != NULL);
    CHECK(strstr(buf, "ev=config ") == NULL);
    const startup_t other = { .name = "badsvc", .config_exit = 2, .ev = "startup", .why_key = "error" };
    CHECK(s_run(&other, "nonsense", log, sizeof log) == 2);
    CHECK(strstr(test_read_file(log, buf, sizeof buf), "ev=config.invalid error=\"LOG_LEVEL must be") != NULL);
}

static void t_check_fails(void)
{
    //  The main's own part of the configuration fails like the rest of it, with its argument handed over.
    const startup_t how = { .name = "chksvc",
                            .modes = s_no_mode,
                            .check = s_check_fails,
                            .check_arg = "1 to 9",
                            .config_exit = 1,
                            .ev = "start",
                            .why_key = "reason" };
    char log[600], buf[4096];
    CHECK(s_run(&how, NULL, log, sizeof log) == 1);
    CHECK(strstr(test_read_file(log, buf, sizeof buf), "svc=chksvc ev=config.invalid reason=\"THREADS must be 1 to 9\"")
          != NULL);
}

static void t_started(void)
{
    //  Started: umask 077, not dumpable, the configuration logged; the secrets loaded only when asked, never logged.
    const startup_t with = {
        .name = "secretsvc", .secrets = true, .modes = s_no_mode, .config_exit = 2, .ev = "startup", .why_key = "error"
    };
    char log[600], buf[8192];
    CHECK(s_run(&with, "info", log, sizeof log) == STARTED);
    test_read_file(log, buf, sizeof buf);
    CHECK(strstr(buf, "svc=secretsvc ev=config ") != NULL);
    CHECK(strstr(buf, "ev=config.env env=sandbox") != NULL && strstr(buf, "client_secret=<set>") != NULL);
    CHECK(strstr(buf, s_secret) == NULL);
    CHECK(strstr(buf, "lvl=error") == NULL);
    const startup_t without = { .name = "plainsvc", .config_exit = 2, .ev = "startup", .why_key = "error" };
    CHECK(s_run(&without, NULL, log, sizeof log) == STARTED);
    test_read_file(log, buf, sizeof buf);
    CHECK(strstr(buf, "svc=plainsvc ev=config.env env=sandbox") != NULL
          && strstr(buf, "client_secret=<not loaded>") != NULL);
    //  The configured level applies from the configuration on.
    CHECK(s_run(&without, "warn", log, sizeof log) == STARTED);
    test_read_file(log, buf, sizeof buf);
    CHECK(strstr(buf, "ev=config ") == NULL && strstr(buf, "lvl=info") == NULL);
}

static const test_case_t cases[] = {
    { "mode_before_anything", t_mode_before_anything },
    { "config_invalid", t_config_invalid },
    { "check_fails", t_check_fails },
    { "started", t_started },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
