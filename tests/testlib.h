//  testlib: a tiny test harness shared by every *_test.c.
//
//  A test file lists its cases in a table and hands it to test_main:
//      static void t_roundtrip(void) { CHECK(proto_x() == 0); }
//      static const test_case_t cases[] = { {"roundtrip", t_roundtrip} };
//      int main(int argc, char **argv) { return TEST_MAIN(argc, argv, cases); }
//  Output is TAP-like ("ok 1 - name", "not ok 2 - name") and ends with
//  "# pass N" / "# fail N", which tests/run adds up. Arguments select cases by name; -NAME leaves one out.
#ifndef TESTLIB_H_INCLUDED
#define TESTLIB_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *name;
    void (*fn)(void);
} test_case_t;

//  Record a failed check in the current case (prints file, line and text). Returns cond.
bool test_check(bool cond, const char *expr, const char *file, int line);
//  Run the cases named in argv (all when none). Returns 0 when every case passed, 1 otherwise.
int test_main(int argc, char **argv, const test_case_t *cases, size_t count);
//  A fresh temporary directory for this test process (removed at exit). Never NULL.
const char *test_tmpdir(void);
//  Write text to path, replacing it; a file that cannot be written fails the current case.
void test_write_file(const char *path, const char *text);
//  The whole file at path (up to size - 1 bytes) into buf, NUL-terminated; empty when absent. Returns buf.
const char *test_read_file(const char *path, char *buf, size_t size);

//  ms times TEST_TIME_SCALE (at least 1; tests/run sets it): the slack an upper time bound allows a
//  loaded or sanitizer-slowed machine. What a bound proves (not one after the other, not the full
//  timeout) must still hold at the scale tests/run uses.
long test_slack_ms(long ms);

#define CHECK(cond) test_check((cond), #cond, __FILE__, __LINE__)
#define TEST_MAIN(argc, argv, cases) test_main((argc), (argv), (cases), sizeof(cases) / sizeof((cases)[0]))

#endif
