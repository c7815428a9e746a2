//  fuzz_replay_test: the fuzz target's checks (proto_fuzz.c: every frame is refused with a
//  reason, or decodes, re-encodes and decodes again to the same message) over the kept corpus
//  (proto/fuzz/corpus/: a minimised corpus of fuzzing runs and every past finding) and over one
//  frame per schema row, without clang or libFuzzer. make test runs it; under SAN=1 ASan and
//  UBSan watch it as they watch the fuzzer. A failed property aborts: the last "replay" line
//  in the log names the input.
#include "tests/testlib.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CORPUS_DIR "proto/fuzz/corpus"
#define MAX_FRAME (1 << 20)  //  the fuzzer runs with -max_len=70000; a kept input is smaller

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

//  Every regular file of dir through the fuzz target. Returns how many, -1 when dir cannot be read.
static int s_replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    static uint8_t buf[MAX_FRAME];
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!CHECK(f != NULL))
            continue;
        size_t n = fread(buf, 1, sizeof buf, f);
        CHECK(!ferror(f) && feof(f));
        fclose(f);
        fprintf(stderr, "# replay %s (%zu bytes)\n", path, n);
        LLVMFuzzerTestOneInput(buf, n);
        count++;
    }
    closedir(d);
    return count;
}

static void t_corpus(void)
{
    int n = s_replay_dir(CORPUS_DIR);
    printf("# %d inputs of %s replayed\n", n, CORPUS_DIR);
    CHECK(n >= 100);  //  the kept corpus is there (a few hundred inputs), not an empty folder
}

//  The target's seed mode writes one frame per schema row (all fields; required ones only) and
//  exits: run it in a child, then replay what it wrote.
static void t_seeds(void)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/seeds", test_tmpdir());
    pid_t pid = fork();
    if (pid == 0) {
        if (mkdir(dir, 0700) != 0 || setenv("PROTO_FUZZ_SEED_DIR", dir, 1) != 0)
            _exit(3);
        unsetenv("PROTO_FUZZ_DICT");
        LLVMFuzzerInitialize(NULL, NULL);
        _exit(4);  //  seed mode exits by itself
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    int n = s_replay_dir(dir);
    printf("# %d seed frames replayed\n", n);
    CHECK(n >= 20);  //  two per message type
}

static const test_case_t cases[] = {
    { "corpus", t_corpus },
    { "seeds", t_seeds },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
