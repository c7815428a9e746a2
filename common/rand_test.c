//  rand_test: ids are well formed and distinct; PKCE matches RFC 7636's example.
#include "common/rand.h"
#include "tests/testlib.h"

#include <string.h>

static void t_id_shape(void)
{
    char a[RAND_ID_SIZE], b[RAND_ID_SIZE];
    CHECK(rand_init() == 0);
    CHECK(rand_id(a, sizeof a) == 0);
    CHECK(rand_id(b, sizeof b) == 0);
    CHECK(strlen(a) == RAND_ID_SIZE - 1);
    CHECK(rand_id_is_valid(a));
    CHECK(strcmp(a, b) != 0);
    char small[10];
    CHECK(rand_id(small, sizeof small) == -1);
}

static void t_id_validation(void)
{
    CHECK(!rand_id_is_valid(NULL));
    CHECK(!rand_id_is_valid(""));
    CHECK(!rand_id_is_valid("short"));
    CHECK(!rand_id_is_valid("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP/"));  // '/' not base64url
    CHECK(rand_id_is_valid("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP_"));
}

static void t_pkce_rfc7636(void)
{
    //  RFC 7636 appendix B.
    char out[64];
    CHECK(rand_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", out, sizeof out) == 0);
    CHECK(strcmp(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM") == 0);
}

static const test_case_t cases[] = {
    { "id_shape", t_id_shape },
    { "id_validation", t_id_validation },
    { "pkce_rfc7636", t_pkce_rfc7636 },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
