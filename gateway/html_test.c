//  html_test: escaping for text and attributes, the page template, the ceiling.
#include "gateway/html.h"
#include "tests/testlib.h"

#include <string.h>

//  The page written by one html_put call with a single string argument.
static bool s_put_is(const char *tpl, const char *arg, const char *want)
{
    html_t *h = html_new(1024);
    html_put(h, tpl, arg);
    bool same = html_ok(h) && strcmp(html_data(h), want) == 0;
    html_destroy(&h);
    return same;
}

static void t_text_escapes_markup(void)
{
    CHECK(s_put_is("<p>%t</p>", "<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"));
    CHECK(s_put_is("%t", "a & b", "a &amp; b"));
    CHECK(s_put_is("%t", "&amp;", "&amp;amp;"));
    //  quotes are harmless in text and stay readable (JSON in <pre>)
    CHECK(s_put_is("%t", "{\"a\": 'b'}", "{\"a\": 'b'}"));
}

static void t_attr_escapes_quotes(void)
{
    CHECK(s_put_is("<a href=\"%a\">", "x\" onclick=\"alert(1)", "<a href=\"x&quot; onclick=&quot;alert(1)\">"));
    CHECK(s_put_is("%a", "it's", "it&#39;s"));
    CHECK(s_put_is("%a", "https://rc/authorize?a=1&b=<2>", "https://rc/authorize?a=1&amp;b=&lt;2&gt;"));
}

static void t_non_ascii_passes(void)
{
    //  UTF-8 (names in call logs) is copied byte for byte.
    CHECK(s_put_is("%t", "J\xc3\xbcrgen \xe2\x80\x94 \xf0\x9f\x93\x9e", "J\xc3\xbcrgen \xe2\x80\x94 \xf0\x9f\x93\x9e"));
    CHECK(s_put_is("%a", "caf\xc3\xa9", "caf\xc3\xa9"));
}

static void t_raw_int_percent_null(void)
{
    html_t *h = html_new(1024);
    html_put(h, "%r|%d|%%|%t|%a", "<b>trusted</b>", -42, (const char *) NULL, (const char *) NULL);
    CHECK(html_ok(h));
    CHECK(strcmp(html_data(h), "<b>trusted</b>|-42|%||") == 0);
    html_destroy(&h);
    CHECK(h == NULL);
}

static void t_bad_template_fails(void)
{
    html_t *h = html_new(1024);
    html_put(h, "50%s off", "x");
    CHECK(!html_ok(h));
    html_reset(h);
    CHECK(html_ok(h) && html_len(h) == 0);
    html_destroy(&h);
}

static void t_ceiling(void)
{
    html_t *h = html_new(10);
    html_text(h, "abc", 3);
    CHECK(html_ok(h) && html_len(h) == 3);
    html_text(h, "<<", 2);  //  8 more bytes: 11 > 10
    CHECK(!html_ok(h));
    CHECK(html_len(h) <= 10);
    html_raw(h, "x", 1);  //  stays failed, stops growing
    CHECK(!html_ok(h));
    html_destroy(&h);

    //  growing past the initial allocation keeps every byte
    h = html_new(1u << 20);
    for (int i = 0; i < 5000; i++)
        html_text(h, "<&>", 3);
    CHECK(html_ok(h));
    CHECK(html_len(h) == 5000 * strlen("&lt;&amp;&gt;"));
    CHECK(strncmp(html_data(h) + html_len(h) - 13, "&lt;&amp;&gt;", 13) == 0);
    html_destroy(&h);
}

static void t_destroy_null(void)
{
    html_t *h = NULL;
    html_destroy(&h);
    html_destroy(NULL);
    CHECK(h == NULL);
}

static const test_case_t cases[] = {
    { "text_escapes_markup", t_text_escapes_markup },
    { "attr_escapes_quotes", t_attr_escapes_quotes },
    { "non_ascii_passes", t_non_ascii_passes },
    { "raw_int_percent_null", t_raw_int_percent_null },
    { "bad_template_fails", t_bad_template_fails },
    { "ceiling", t_ceiling },
    { "destroy_null", t_destroy_null },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
