//  pages_test: what the start page offers for each environment, configured or not.
#include "gateway/pages.h"
#include "tests/testlib.h"

#include <stdio.h>
#include <string.h>

//  The start page for cfg with notice, as a string in buf.
static void s_home(const config_t *cfg, pages_notice_t notice, char *buf, size_t size)
{
    pages_state_t st = { .demo_mode = cfg->demo_mode, .expires_in = -1 };
    html_t *h = html_new(1 << 20);
    CHECK(h != NULL);
    if (!h)
        return;
    pages_home(h, &st, cfg, notice);
    snprintf(buf, size, "%.*s", (int) html_len(h), html_data(h));
    html_destroy(&h);
}

static void t_unconfigured_environment(void)
{
    static config_t cfg;
    static char page[1 << 16];
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.rc_env_dir, sizeof cfg.rc_env_dir, "environment");
    cfg.rc[CONFIG_PRODUCTION].configured = true;
    snprintf(cfg.rc[CONFIG_PRODUCTION].server_url, CONFIG_VALUE_MAX, "https://platform.ringcentral.com");
    s_home(&cfg, PAGES_NOTICE_NONE, page, sizeof page);
    //  production: a working link; sandbox: a disabled button and how to configure it
    CHECK(strstr(page, "href=\"/login?env=production\"") != NULL);
    CHECK(strstr(page, "href=\"/login?env=sandbox\"") == NULL);
    CHECK(strstr(page, "aria-disabled=\"true\">Log in to sandbox</span>") != NULL);
    CHECK(strstr(page, "<code>environment/.env-sandbox</code>") != NULL);
    CHECK(strstr(page, "make restart") != NULL);
    //  demo mode: both environments are the mock's, both links work
    cfg.demo_mode = true;
    s_home(&cfg, PAGES_NOTICE_NONE, page, sizeof page);
    CHECK(strstr(page, "href=\"/login?env=sandbox\"") != NULL && strstr(page, "aria-disabled") == NULL);
}

static void t_notices(void)
{
    static config_t cfg;
    static char page[1 << 16];
    memset(&cfg, 0, sizeof cfg);
    CHECK(pages_notice_parse("logged-out") == PAGES_NOTICE_LOGGED_OUT);
    CHECK(pages_notice_parse("login-first") == PAGES_NOTICE_LOGIN_FIRST);
    CHECK(pages_notice_parse("Logged-out") == PAGES_NOTICE_NONE);
    CHECK(pages_notice_parse("") == PAGES_NOTICE_NONE && pages_notice_parse(NULL) == PAGES_NOTICE_NONE);
    for (int i = 0; i < PAGES_NOTICE_COUNT; i++) {
        const char *href = pages_notice_href((pages_notice_t) i);
        const char *q = strstr(href, "notice=");
        //  every notice's address names it, and its word reads back as it
        CHECK(i == 0 ? strcmp(href, "/") == 0 : q && pages_notice_parse(q + 7) == (pages_notice_t) i);
    }
    s_home(&cfg, PAGES_NOTICE_LOGGED_OUT_UNREVOKED, page, sizeof page);
    CHECK(strstr(page, "data-notice=\"logged-out-unrevoked\"") != NULL);
}

static void t_error_reference(void)
{
    static char page[1 << 16];
    html_t *h = html_new(1 << 20);
    CHECK(h != NULL);
    if (!h)
        return;
    pages_state_t st = { .expires_in = -1, .ref = "7f3a00c1" };
    pages_error_t e = { 502, "Could not reach RingCentral", "No answer came back.", NULL, NULL, NULL };
    pages_error(h, &st, &e);
    snprintf(page, sizeof page, "%.*s", (int) html_len(h), html_data(h));
    CHECK(strstr(page, "Reference <code data-ref>7f3a00c1</code>") != NULL);
    html_destroy(&h);
    //  no reference, no line about one
    h = html_new(1 << 20);
    st.ref = NULL;
    pages_error(h, &st, &e);
    CHECK(h && strstr(html_data(h), "data-ref") == NULL);
    html_destroy(&h);
}

static const test_case_t cases[] = {
    { "error_reference", t_error_reference },
    { "unconfigured_environment", t_unconfigured_environment },
    { "notices", t_notices },
};

int main(int argc, char **argv)
{
    return TEST_MAIN(argc, argv, cases);
}
