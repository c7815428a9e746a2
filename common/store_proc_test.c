//  store_proc_test: the LMDB token store shared by several processes at once:
//  concurrent writers, a racing refresh lease, processes SIGKILLed inside a
//  write or a read transaction, a map grown by another process.
//
//  Processes synchronise through pipes (never sleeps); children leave with
//  _exit() and report through their exit status or a pipe. A store_t is never
//  used across fork(): each process opens its own. Fine under valgrind too
//  (children of fork stay under the tool; --trace-children only concerns exec).
#include "common/log.h"
#include "common/store.h"
#include "tests/support/store_testutil.h"
#include "tests/testlib.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

//  ---------------------------------------------------------------------------
//  Helpers

//  Read one byte from fd within 30 s. Returns the byte, or -1 on EOF, error or timeout.
static int s_read_byte(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int n;
    do
        n = poll(&p, 1, 30000);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        return -1;
    unsigned char c;
    ssize_t r;
    do
        r = read(fd, &c, 1);
    while (r < 0 && errno == EINTR);
    return r == 1 ? c : -1;
}

static bool s_write_byte(int fd, char c)
{
    ssize_t r;
    do
        r = write(fd, &c, 1);
    while (r < 0 && errno == EINTR);
    return r == 1;
}

static pid_t s_fork(void)
{
    fflush(stdout);
    fflush(stderr);
    return fork();
}

//  The child's exit status, or -1 when it did not exit normally.
static int s_wait(pid_t pid)
{
    int status;
    pid_t r;
    do
        r = waitpid(pid, &status, 0);
    while (r < 0 && errno == EINTR);
    if (r != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

//  Kill pid with SIGKILL and reap it. Returns true when it died of SIGKILL.
static bool s_kill(pid_t pid)
{
    if (kill(pid, SIGKILL) != 0)
        return false;
    int status;
    pid_t r;
    do
        r = waitpid(pid, &status, 0);
    while (r < 0 && errno == EINTR);
    return r == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

//  Fork a child joined to this process by two pipes: *up carries bytes from the child to the
//  parent, *down from the parent to the child. Each side gets its own ends (the others are closed)
//  and closes them when done. Returns the pid (0 in the child), or -1 (nothing left open).
static pid_t s_fork_linked(int *up, int *down)
{
    int u[2], d[2];
    if (pipe(u) != 0)
        return -1;
    if (pipe(d) != 0) {
        close(u[0]);
        close(u[1]);
        return -1;
    }
    pid_t pid = s_fork();
    if (pid < 0) {
        for (int i = 0; i < 2; i++) {
            close(u[i]);
            close(d[i]);
        }
        return -1;
    }
    close(pid == 0 ? u[0] : u[1]);
    close(pid == 0 ? d[1] : d[0]);
    *up = pid == 0 ? u[1] : u[0];
    *down = pid == 0 ? d[0] : d[1];
    return pid;
}

//  Child of t_two_writers: opens its own store, waits for go, writes its N, exits 0 when all went well.
static void s_writer_child(const char *dir, int ready_fd, int go_fd, int n)
{
    store_t *store = store_open(dir, 0);
    if (!store || !s_write_byte(ready_fd, 'r') || s_read_byte(go_fd) != 'g')
        _exit(2);
    int bad = 0;
    store_session_t rec, out;
    char key[32];
    for (int i = 0; i < n; i++) {
        s_session(&rec, 10000 + i, NOW + HOUR);
        snprintf(key, sizeof key, "child-%03d", i);
        bad += store_session_put(store, key, &rec) != 0;
        bad += store_session_get_at(store, key, NOW, &out) != 0 || !s_session_eq(&rec, &out);
    }
    store_close(&store);
    _exit(bad ? 1 : 0);
}

static void t_two_writers(void)
{
    const char *dir = s_dir("two_writers");
    enum { N = 100 };
    int ready, go;
    pid_t pid = s_fork_linked(&ready, &go);
    CHECK(pid >= 0);
    if (pid == 0)
        s_writer_child(dir, ready, go, N);
    store_t *store = store_open(dir, 0);
    CHECK(store != NULL);
    CHECK(s_read_byte(ready) == 'r');
    CHECK(s_write_byte(go, 'g'));
    store_session_t rec, out;
    char key[32];
    int bad = 0, seen_child = 0;
    for (int i = 0; i < N; i++) {
        s_session(&rec, i, NOW + HOUR);
        snprintf(key, sizeof key, "parent-%03d", i);
        bad += store_session_put(store, key, &rec) != 0;
        bad += store_session_get_at(store, key, NOW, &out) != 0 || !s_session_eq(&rec, &out);
        snprintf(key, sizeof key, "child-%03d", i);
        seen_child += store_session_get_at(store, key, NOW, &out) == 0;
    }
    CHECK(bad == 0);
    CHECK(s_wait(pid) == 0);
    printf("#   parent saw %d of the child's records while both wrote\n", seen_child);
    CHECK(store_session_count(store) == 2 * N);
    int found = 0;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "child-%03d", i);
        s_session(&rec, 10000 + i, NOW + HOUR);
        found += store_session_get_at(store, key, NOW, &out) == 0 && s_session_eq(&rec, &out);
        snprintf(key, sizeof key, "parent-%03d", i);
        found += store_session_get_at(store, key, NOW, &out) == 0;
    }
    CHECK(found == 2 * N);
    close(ready);
    close(go);
    store_close(&store);
}

//  Claim result as an exit code: 0 claimed, 1 busy, 2 anything else.
static int s_claim_code(int rc)
{
    return rc == 0 ? 0 : rc == STORE_EBUSY ? 1 : 2;
}

static void t_claim_race(void)
{
    //  A child and the parent claim the same lease at the same moment, several rounds.
    const char *dir = s_dir("claim_race");
    store_t *store = store_open(dir, 0);
    CHECK(store != NULL);
    store_session_t rec;
    enum { ROUNDS = 10 };
    char key[32];
    for (int round = 0; round < ROUNDS; round++) {
        s_session(&rec, round, NOW + HOUR);
        snprintf(key, sizeof key, "sid-%d", round);
        CHECK(store_session_put(store, key, &rec) == 0);
    }
    store_close(&store);  //  each process opens its own after the fork

    int wins = 0, busy = 0;
    for (int round = 0; round < ROUNDS; round++) {
        snprintf(key, sizeof key, "sid-%d", round);
        int ready, go;
        pid_t pid = s_fork_linked(&ready, &go);
        CHECK(pid >= 0);
        if (pid == 0) {
            store_t *mine = store_open(dir, 0);
            store_session_t got;
            if (!mine || !s_write_byte(ready, 'r') || s_read_byte(go) != 'g')
                _exit(3);
            int code = s_claim_code(store_refresh_claim(mine, key, 1, NOW, 30000, &got));
            store_close(&mine);
            _exit(code);
        }
        store = store_open(dir, 0);
        CHECK(store != NULL);
        CHECK(s_read_byte(ready) == 'r');
        CHECK(s_write_byte(go, 'g'));
        int mine = s_claim_code(store_refresh_claim(store, key, 1, NOW, 30000, &rec));
        int theirs = s_wait(pid);
        CHECK((mine == 0 && theirs == 1) || (mine == 1 && theirs == 0));
        wins += (mine == 0) + (theirs == 0);
        busy += (mine == 1) + (theirs == 1);
        store_close(&store);
        close(ready);
        close(go);
    }
    CHECK(wins == ROUNDS && busy == ROUNDS);
}

//  Fork a process that opens the store at dir and stays inside a write (write) or read
//  transaction; SIGKILL it once it says it is inside. Returns whether it got in and was killed.
static bool s_kill_inside_txn(const char *dir, bool write)
{
    int ready, hold;
    pid_t pid = s_fork_linked(&ready, &hold);
    if (pid < 0)
        return false;
    if (pid == 0) {
        store_t *mine = store_open(dir, 0);
        if (!mine)
            _exit(2);
        if (write)
            store_test_hold_write(mine, ready, hold);  //  blocks until killed
        else
            store_test_hold_read(mine, ready, hold);
        _exit(3);
    }
    bool inside = s_read_byte(ready) == (write ? 'w' : 'r');
    bool killed = s_kill(pid);
    close(ready);
    close(hold);
    return inside && killed;
}

static void t_kill_in_write(void)
{
    //  A process SIGKILLed while it holds the single writer lock (LMDB's robust
    //  mutex) inside a dirty write transaction: nothing of it is visible and
    //  the others write on.
    const char *dir = s_dir("kill_in_write");
    store_t *store = store_open(dir, 0);  //  keeps the lock file in use across the crash
    CHECK(store != NULL);
    store_session_t rec, out;
    s_session(&rec, 1, NOW + HOUR);
    CHECK(store_session_put(store, "before", &rec) == 0);
    CHECK(s_kill_inside_txn(dir, true));

    //  This process recovers the writer lock and goes on.
    s_session(&rec, 2, NOW + HOUR);
    CHECK(store_session_put(store, "after", &rec) == 0);
    CHECK(store_session_get_at(store, "after", NOW, &out) == 0 && s_session_eq(&rec, &out));
    CHECK(store_session_get_at(store, "before", NOW, &out) == 0);
    CHECK(store_session_get_at(store, "store-test-hold", NOW, &out) == STORE_ENOTFOUND);
    CHECK(store_session_count(store) == 2);
    store_close(&store);
    //  And a fresh open does too.
    store = store_open(dir, 0);
    CHECK(store != NULL);
    CHECK(store_session_put(store, "reopened", &rec) == 0);
    CHECK(store_session_get_at(store, "after", NOW, &out) == 0);
    CHECK(store_session_count(store) == 3);
    store_close(&store);
}

static void t_kill_in_read(void)
{
    //  A process SIGKILLed inside a read transaction leaves its reader slot;
    //  the next store_open (while the environment is still in use, so the lock
    //  file is not reset) clears it and says so.
    const char *dir = s_dir("kill_in_read");
    //  The reporting child is forked first so that it inherits no open store
    //  (a child exiting normally would otherwise leave the parent's env behind).
    int report, go;
    pid_t reporter = s_fork_linked(&report, &go);
    CHECK(reporter >= 0);
    if (reporter == 0) {
        if (s_read_byte(go) != 'g')
            _exit(2);
        store_t *mine = store_open(dir, 0);
        int cleared = mine ? store_test_stale_at_open(mine) : -1;
        s_write_byte(report, (char) ('0' + cleared));
        store_close(&mine);
        _exit(0);
    }

    store_t *store = store_open(dir, 0);
    CHECK(store != NULL);
    store_session_t rec, out;
    s_session(&rec, 1, NOW + HOUR);
    CHECK(store_session_put(store, "sid", &rec) == 0);
    CHECK(s_kill_inside_txn(dir, false));

    //  Now the reporter opens the store and tells how many slots its open cleared.
    CHECK(s_write_byte(go, 'g'));
    CHECK(s_read_byte(report) == '1');
    CHECK(s_wait(reporter) == 0);
    close(go);
    close(report);
    //  Nothing left to clear, and writes and reads go on.
    CHECK(store_reader_check(store) == 0);
    CHECK(store_session_put(store, "sid2", &rec) == 0);
    CHECK(store_session_get_at(store, "sid", NOW, &out) == 0);
    store_close(&store);
}

static void t_reader_check(void)
{
    //  The same stale slot cleared by a running process with store_reader_check.
    const char *dir = s_dir("reader_check");
    store_t *store = store_open(dir, 0);
    CHECK(store != NULL);
    CHECK(s_kill_inside_txn(dir, false));
    CHECK(store_reader_check(store) == 1);
    CHECK(store_reader_check(store) == 0);
    store_close(&store);
}

static void t_map_resized(void)
{
    //  Another process opens the store with a larger map and grows the data
    //  past this process's map: the next transaction here adopts the new size.
    const char *dir = s_dir("map_resized");
    enum { N = 120 };
    int go[2];
    CHECK(pipe(go) == 0);
    pid_t pid = s_fork();  //  before this process opens its store
    if (pid == 0) {
        close(go[1]);
        if (s_read_byte(go[0]) != 'g')
            _exit(2);
        store_t *mine = store_open(dir, 16 << 20);
        if (!mine)
            _exit(2);
        store_session_t rec;
        char key[32];
        int bad = 0;
        for (int i = 0; i < N; i++) {
            s_session(&rec, i, NOW + HOUR);
            s_fill(rec.access_token, sizeof rec.access_token, 'a');
            s_fill(rec.refresh_token, sizeof rec.refresh_token, 'r');
            snprintf(key, sizeof key, "big-%03d", i);
            bad += store_session_put(mine, key, &rec) != 0;
        }
        store_close(&mine);
        _exit(bad ? 1 : 0);
    }
    close(go[0]);
    store_t *store = store_open(dir, 1 << 20);
    CHECK(store != NULL);
    CHECK(store_test_map_size(store) == 1 << 20);
    CHECK(s_write_byte(go[1], 'g'));
    CHECK(s_wait(pid) == 0);  //  ~1.4 MB written: past this process's 1 MiB map
    close(go[1]);
    store_session_t out;
    CHECK(store_session_get_at(store, "big-119", NOW, &out) == 0);
    CHECK(strlen(out.refresh_token) == STORE_TOKEN_MAX - 1);
    CHECK(store_test_map_size(store) == 16 << 20);  //  adopted the other process's size
    store_session_t rec;
    s_session(&rec, 1, NOW + HOUR);
    CHECK(store_session_put(store, "after-resize", &rec) == 0);
    CHECK(store_session_count(store) == N + 1);
    store_close(&store);
}

static const test_case_t cases[] = {
    { "two_writers", t_two_writers },   { "claim_race", t_claim_race },     { "kill_in_write", t_kill_in_write },
    { "kill_in_read", t_kill_in_read }, { "reader_check", t_reader_check }, { "map_resized", t_map_resized },
};

int main(int argc, char **argv)
{
    //  Store logs at warn and above only (full maps, stale readers, corrupt records).
    log_init("store_proc_test", getenv("STORE_TEST_LOG") ? LOGL_DEBUG : LOGL_WARN);
    return TEST_MAIN(argc, argv, cases);
}
