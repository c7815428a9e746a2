//  seal_testutil: a key ring file for the seal and store tests (test code only).
#ifndef SEAL_TESTUTIL_H_INCLUDED
#define SEAL_TESTUTIL_H_INCLUDED

#include "common/seal.h"
#include "tests/testlib.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

//  Write a key ring file at path with the ids given (the first seals), key bytes derived from each id, a comment
//  and a blank line first (the format allows them); mode 0600, renamed into place.
static inline void test_write_ring(const char *path, const uint32_t *ids, size_t n)
{
    char tmp[600];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp) {
        CHECK(!"the ring's path fits");
        return;
    }
    FILE *f = fopen(tmp, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fprintf(f, "# a comment\n\n");
    for (size_t i = 0; i < n; i++) {
        unsigned char key[SEAL_KEY_BYTES];
        memset(key, (int) ids[i] * 3, sizeof key);
        char b64[sodium_base64_ENCODED_LEN(SEAL_KEY_BYTES, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof b64, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
        fprintf(f, "%u %s\n", ids[i], b64);
    }
    fclose(f);
    CHECK(chmod(tmp, 0600) == 0);
    CHECK(rename(tmp, path) == 0);
}

#endif
