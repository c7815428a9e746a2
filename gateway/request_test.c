//  request_test: the client address (X-Real-IP believed from the front on loopback only, validated).
#include "gateway/request.h"
#include "tests/testlib.h"

#include <string.h>

//  The address request_client_addr gives for peer and real_ip, compared with want.
static bool s_client_is(const char *peer, const char *real_ip, const char *want)
{
    char out[REQUEST_CLIENT_SIZE];
    memset(out, 'x', sizeof out);
    request_client_addr(peer, real_ip, out, sizeof out);
    return strcmp(out, want) == 0;
}

static void t_real_ip_from_loopback(void)
{
    CHECK(s_client_is("127.0.0.1", "203.0.113.7", "203.0.113.7"));
    CHECK(s_client_is("127.0.0.1", "2001:db8::1", "2001:db8::1"));
    //  any loopback peer is the front (127.0.0.0/8, ::1, v4-mapped)
    CHECK(s_client_is("127.0.0.2", "203.0.113.7", "203.0.113.7"));
    CHECK(s_client_is("127.255.255.254", "203.0.113.7", "203.0.113.7"));
    CHECK(s_client_is("::1", "203.0.113.7", "203.0.113.7"));
    CHECK(s_client_is("::ffff:127.0.0.1", "203.0.113.7", "203.0.113.7"));
    //  written in its canonical form
    CHECK(s_client_is("127.0.0.1", "2001:DB8:0:0:0:0:0:1", "2001:db8::1"));
    CHECK(s_client_is("127.0.0.1", "::ffff:198.51.100.2", "::ffff:198.51.100.2"));
    //  no header: the peer
    CHECK(s_client_is("127.0.0.1", NULL, "127.0.0.1"));
}

static void t_real_ip_ignored_from_others(void)
{
    //  a client that talks to the gateway directly cannot choose its logged address
    CHECK(s_client_is("198.51.100.9", "203.0.113.7", "198.51.100.9"));
    CHECK(s_client_is("10.0.0.1", "127.0.0.1", "10.0.0.1"));
    CHECK(s_client_is("2001:db8::9", "203.0.113.7", "2001:db8::9"));
    CHECK(s_client_is("128.0.0.1", "203.0.113.7", "128.0.0.1"));
    CHECK(s_client_is("::2", "203.0.113.7", "::2"));
    CHECK(s_client_is("::ffff:10.0.0.1", "203.0.113.7", "::ffff:10.0.0.1"));
}

static void t_real_ip_validated(void)
{
    const char *garbage[] = {
        "",
        " ",
        "203.0.113.7 ",
        " 203.0.113.7",
        "203.0.113.7, 10.0.0.1",
        "203.0.113",
        "203.0.113.256",
        "0203.0.113.7",
        "0x7f.0.0.1",
        "localhost",
        "fe80::1%eth0",
        "[2001:db8::1]",
        "203.0.113.7:80",
        "1.2.3.4\r\nX-Evil: 1",
        "a=b ev=forged",
        "\"",
        "2001:db8::1::2",
        "1111:2222:3333:4444:5555:6666:7777:8888:9999",
        "0000:0000:0000:0000:0000:ffff:203.000.113.007",
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
        CHECK(s_client_is("127.0.0.1", garbage[i], "127.0.0.1"));
    char longer[300];
    memset(longer, '1', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    CHECK(s_client_is("127.0.0.1", longer, "127.0.0.1"));
}

static void t_no_peer(void)
{
    CHECK(s_client_is(NULL, "203.0.113.7", "-"));
    CHECK(s_client_is("", "203.0.113.7", "-"));
    CHECK(s_client_is("garbage", "203.0.113.7", "garbage"));  //  civetweb's own text; never a header's
    //  bounded by the buffer
    char small[8];
    request_client_addr("127.0.0.1", "2001:db8::1", small, sizeof small);
    CHECK(strlen(small) < sizeof small);
}

static const test_case_t cases[] = {
    { "real_ip_from_loopback", t_real_ip_from_loopback },
    { "real_ip_ignored_from_others", t_real_ip_ignored_from_others },
    { "real_ip_validated", t_real_ip_validated },
    { "no_peer", t_no_peer },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
