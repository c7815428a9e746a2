//  json_check_test: what apisvc accepts as a JSON body from RingCentral, and what not.
#include "apisvc/json_check.h"
#include "tests/testlib.h"

#include <stdlib.h>
#include <string.h>

static bool s_ok(const char *text)
{
    return json_check_document(text, strlen(text));
}

static void t_documents(void)
{
    CHECK(s_ok("{}"));
    CHECK(s_ok("[]"));
    CHECK(s_ok(" \r\n\t{\"a\": [1, 2.5e3, -0, true, false, null, \"x\\u00e9\\n\"]}\n"));
    CHECK(s_ok("{\"name\":\"J\xc3\xbcrgen\",\"records\":[{\"id\":1},{\"id\":2}],\"paging\":{\"page\":1}}"));
    CHECK(s_ok("[{\"nested\": {\"deeper\": [[[]]]}}]"));
}

static void t_not_documents(void)
{
    const char *bad[] = {
        "",
        "   ",
        "42",
        "\"text\"",
        "null",
        "true",  //  empty, or a bare scalar
        "<html>502 Bad Gateway</html>",
        "OK",  //  not JSON at all
        "{",
        "[1, 2",
        "{\"a\": }",
        "{\"a\" 1}",
        "[1,]",
        "{,}",  //  truncated, malformed
        "{} {}",
        "[] x",
        "{}]",  //  trailing data
        "{/* c */}",
        "{\"a\": 01}",
        "{'a': 1}",
        "[NaN]",
        "[0x10]",  //  not strict JSON
        "[\"\xff\xfe\"]",
        "[\"\xc3\"]",       //  not UTF-8
        "[\"tab\there\"]",  //  raw control character in a string
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (!CHECK(!s_ok(bad[i])))
            break;
    //  A NUL byte inside the length is data, not the end.
    CHECK(!json_check_document("{}\0{}", 5));
    CHECK(!json_check_document("[\"a\0b\"]", 7));
}

//  Nesting depth of large_and_deep: 512 Ki levels, far past what a recursive parser's stack holds.
//  Under AddressSanitizer 128 Ki (its stack frames are larger still): yajl grows its stack of
//  levels 128 at a time, and each of those 4,096 reallocations costs ASan a fresh mapping (40 s).
#if defined(__SANITIZE_ADDRESS__)
enum { DEPTH = 128 * 1024 };
#else
enum { DEPTH = 512 * 1024 };
#endif

static void t_large_and_deep(void)
{
    //  Deep nesting (2 x DEPTH bytes) and a long array: iterative, bounded by the body itself.
    size_t depth = DEPTH;
    char *deep = malloc(2 * depth + 1);
    CHECK(deep != NULL);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    CHECK(json_check_document(deep, 2 * depth));
    CHECK(!json_check_document(deep, 2 * depth - 1));
    free(deep);
    size_t n = 100000;
    char *wide = malloc(4 * n + 2);
    CHECK(wide != NULL);
    size_t used = 0;
    wide[used++] = '[';
    for (size_t i = 0; i < n; i++) {
        memcpy(wide + used, i ? ",\"x\"" : "\"x\"", i ? 4 : 3);
        used += i ? 4 : 3;
    }
    wide[used++] = ']';
    CHECK(json_check_document(wide, used));
    free(wide);
}

static const test_case_t cases[] = {
    { "documents", t_documents },
    { "not_documents", t_not_documents },
    { "large_and_deep", t_large_and_deep },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
