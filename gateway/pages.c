//  pages: see pages.h. Templates use html_put: %t text, %a attribute, %r trusted markup, %d int.
#include "gateway/pages.h"
#include "gateway/apis.h"

#include <stdio.h>
#include <string.h>

static bool s_set(const char *s)
{
    return s && *s;
}

//  <!doctype> to the end of the header bar. refresh_url: a meta refresh after 3 s, or NULL.
static void s_head(html_t *h, const pages_state_t *st, const char *title, const char *refresh_url)
{
    html_put(h,
             "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             "<title>%t \xc2\xb7 RingCentral OAuth demo</title>\n"
             "<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n"
             "<link rel=\"stylesheet\" href=\"/static/app.css\">\n"
             "<script src=\"/static/app.js\" defer></script>\n",
             title);
    if (refresh_url)
        html_put(h, "<meta http-equiv=\"refresh\" content=\"3;url=%a\">\n", refresh_url);
    html_put(h,
             "</head>\n<body>\n<header class=\"bar\">\n<a class=\"brand\" href=\"/\">RingCentral OAuth demo</a>\n"
             "<ul class=\"state\" aria-label=\"Session state\">\n");
    if (st->logged_in) {
        html_put(h, "<li class=\"chip on\">Environment: <b>%t</b></li>\n", s_set(st->env) ? st->env : "unknown");
        html_put(h, "<li class=\"chip on\">User: <b>%t</b></li>\n", s_set(st->user) ? st->user : "unknown");
    }
    else if (st->known)
        html_put(h, "<li class=\"chip\">Not logged in</li>\n");
    if (st->demo_mode)
        html_put(h,
                 "<li class=\"chip demo\" title=\"Both environments use the bundled mock RingCentral\">"
                 "Demo mode</li>\n");
    html_put(h, "</ul>\n</header>\n");
}

static void s_foot(html_t *h)
{
    html_put(h,
             "</main>\n<footer>The tokens stay on the server: this browser holds only an opaque "
             "session cookie.</footer>\n</body>\n</html>\n");
}

static void s_demo_banner(html_t *h, const pages_state_t *st)
{
    if (st->demo_mode)
        html_put(h,
                 "<p class=\"notice warn\" role=\"note\"><b>DEMO MODE</b>: both environments use the "
                 "bundled mock RingCentral, not the real one. Any login works and the data is made up.</p>\n");
}

//  Environment, user and token lifetime as a definition list.
static void s_facts(html_t *h, const pages_state_t *st)
{
    html_put(h, "<dl class=\"facts\">\n<dt>Environment</dt><dd>%t</dd>\n<dt>User (owner id)</dt><dd>%t</dd>\n",
             s_set(st->env) ? st->env : "unknown", s_set(st->user) ? st->user : "unknown");
    if (st->expires_in >= 0) {
        char left[96];
        long long secs = (long long) st->expires_in;
        if (secs >= 120)
            snprintf(left, sizeof left, "%lld more minutes (renewed on the server when needed)", secs / 60);
        else
            snprintf(left, sizeof left, "%lld more seconds (renewed on the server when needed)", secs);
        html_put(h, "<dt>Access token</dt><dd>valid for %t</dd>\n", left);
    }
    html_put(h, "</dl>\n");
}

static void s_logout_form(html_t *h, const char *csrf, const char *label)
{
    html_put(h,
             "<form method=\"post\" action=\"/logout\">"
             "<input type=\"hidden\" name=\"csrf\" value=\"%a\">"
             "<button type=\"submit\">%t</button></form>\n",
             csrf, label);
}

//  The three API links; current (may be NULL) is marked.
static void s_api_links(html_t *h, const char *current)
{
    html_put(h, "<ul class=\"apis\">\n");
    for (size_t i = 0; apis_at(i); i++) {
        const apis_t *api = apis_at(i);
        bool on = current && strcmp(current, api->name) == 0;
        html_put(h, "<li><a class=\"button secondary%r\" href=\"/test?api=%a\"%r>%t</a></li>\n", on ? " current" : "",
                 api->name, on ? " aria-current=\"page\"" : "", api->label);
    }
    html_put(h, "</ul>\n");
}

//  THE notices: the word in "/?notice=", its class and what it says.
static const struct {
    const char *word, *href, *kind, *text;
} s_notices[PAGES_NOTICE_COUNT] = {
    [PAGES_NOTICE_NONE] = { "", "/", NULL, NULL },
    [PAGES_NOTICE_LOGGED_OUT] = { "logged-out", "/?notice=logged-out", "ok",
                                  "You are logged out: RingCentral revoked the tokens of this login." },
    [PAGES_NOTICE_LOGGED_OUT_UNREVOKED] = { "logged-out-unrevoked", "/?notice=logged-out-unrevoked", "warn",
                                            "You are logged out here, but RingCentral did not confirm that it revoked "
                                            "the tokens: the access token "
                                            "it issued may stay valid until it expires (at most an hour)." },
    [PAGES_NOTICE_LOGIN_FIRST] = { "login-first", "/?notice=login-first", "warn",
                                   "Log in first: the test page needs a RingCentral login." },
    [PAGES_NOTICE_SESSION_ENDED] = { "session-ended", "/?notice=session-ended", "warn",
                                     "RingCentral ended your login: it refused to renew it (the refresh token expired, "
                                     "or the app's access "
                                     "was revoked). Log in again below." },
};

pages_notice_t pages_notice_parse(const char *word)
{
    for (int i = 1; word && i < PAGES_NOTICE_COUNT; i++)
        if (strcmp(word, s_notices[i].word) == 0)
            return (pages_notice_t) i;
    return PAGES_NOTICE_NONE;
}

const char *pages_notice_href(pages_notice_t notice)
{
    return notice > PAGES_NOTICE_NONE && notice < PAGES_NOTICE_COUNT ? s_notices[notice].href : "/";
}

void pages_home(html_t *h, const pages_state_t *st, const config_t *cfg, pages_notice_t notice)
{
    s_head(h, st, "Log in", NULL);
    html_put(h, "<main data-page=\"home\">\n");
    if (notice > PAGES_NOTICE_NONE && notice < PAGES_NOTICE_COUNT)
        html_put(h, "<p class=\"notice %a\" role=\"status\" data-notice=\"%a\">%t</p>\n", s_notices[notice].kind,
                 s_notices[notice].word, s_notices[notice].text);
    s_demo_banner(h, st);
    html_put(h,
             "<h1>Log in with RingCentral</h1>\n<p class=\"lead\">This demo runs the OAuth "
             "authorization-code flow (with PKCE): you log in at RingCentral in a popup window, the "
             "server keeps the tokens, and the test page calls RingCentral APIs for you.</p>\n");
    if (st->logged_in)
        html_put(h,
                 "<p class=\"notice ok\">You are logged in to <b>%t</b> as user <b>%t</b>. "
                 "<a href=\"/test\">Go to the test page</a></p>\n",
                 s_set(st->env) ? st->env : "unknown", s_set(st->user) ? st->user : "unknown");
    html_put(h, "<div class=\"grid\">\n");
    for (int i = 0; i < CONFIG_ENV_COUNT; i++) {
        const char *name = config_env_name((config_env_t) i);
        const config_rc_t *rc = &cfg->rc[i];
        html_put(h, "<section class=\"card\">\n<h2>%t</h2>\n", i == CONFIG_PRODUCTION ? "Production" : "Sandbox");
        if (rc->configured)
            html_put(h, "<p class=\"detail\">Server: %t</p>\n", rc->server_url);
        if (!rc->configured && !cfg->demo_mode)  //  nothing to log in to: say how to configure it
            html_put(h,
                     "<p class=\"detail\">Not configured on this server: put your RingCentral app's "
                     "RC_CLIENT_ID, RC_CLIENT_SECRET, RC_SERVER_URL and RC_REDIRECT_URL in <code>%t/.env-%t</code>, "
                     "then run <code>make restart</code>.</p>\n"
                     "<span class=\"button disabled\" role=\"link\" aria-disabled=\"true\">Log in to %t</span>\n"
                     "</section>\n",
                     cfg->rc_env_dir, name, name);
        else
            html_put(h, "<a class=\"button\" href=\"/login?env=%a\">Log in to %t</a>\n</section>\n", name, name);
    }
    html_put(h, "</div>\n");
    s_foot(h);
}

void pages_login(html_t *h, const pages_state_t *st, const char *env, const char *authorize_url)
{
    s_head(h, st, "Logging in", NULL);
    html_put(h,
             "<main data-page=\"login\" data-authorize-url=\"%a\">\n<h1>Log in to %t</h1>\n"
             "<p id=\"login-status\" class=\"notice\" role=\"status\" aria-live=\"polite\">Opening the "
             "RingCentral login window. If nothing opens, use the link below.</p>\n"
             "<section class=\"card\">\n<p>You log in at RingCentral in a separate window; this page "
             "moves on to the test page when you are done. Popup blocked? Log in in this tab "
             "instead.</p>\n<div class=\"actions\">\n"
             "<button type=\"button\" id=\"open-login\">Open the login window</button>\n"
             "<a class=\"button secondary fallback\" id=\"authorize-link\" href=\"%a\">"
             "Log in in this tab</a>\n</div>\n</section>\n<p><a href=\"/\">Back to the start</a></p>\n",
             authorize_url, env, authorize_url);
    s_foot(h);
}

void pages_callback_ok(html_t *h, const pages_state_t *st)
{
    s_head(h, st, "Login success", "/test");
    html_put(h,
             "<main data-page=\"callback\" data-result=\"ok\">\n<h1>Login success</h1>\n"
             "<p class=\"notice ok\" role=\"status\">You are logged in");
    if (s_set(st->env))
        html_put(h, " to <b>%t</b>", st->env);
    html_put(h,
             ". This window closes by itself.</p>\n<p><a class=\"button\" href=\"/test\">Continue to the "
             "test page</a></p>\n");
    s_foot(h);
}

void pages_callback_declined(html_t *h, const pages_state_t *st, const char *error, const char *description)
{
    bool denied = strcmp(error, "access_denied") == 0;
    s_head(h, st, denied ? "Login declined" : "Login failed", NULL);
    html_put(h, "<main data-page=\"callback\" data-result=\"declined\" data-error=\"%a\" data-description=\"%a\">\n",
             error, description ? description : "");
    if (denied)
        html_put(h, "<h1>You declined the login</h1>\n<p>Nothing was shared with this demo.</p>\n");
    else
        html_put(h, "<h1>The login did not complete</h1>\n<p>RingCentral sent the error <code>%t</code>.</p>\n", error);
    if (s_set(description))
        html_put(h, "<p class=\"notice error\">RingCentral said: %t</p>\n", description);
    html_put(h,
             "<div class=\"actions\"><a class=\"button\" href=\"/\">Back to the start</a>"
             "<button type=\"button\" class=\"secondary\" id=\"close-window\" hidden>Close this window"
             "</button></div>\n");
    s_foot(h);
}

void pages_callback_unknown(html_t *h, const pages_state_t *st)
{
    s_head(h, st, "Login failed", NULL);
    //  data-error is ours, never the answer's: the opener shows "The login did not complete (state_mismatch)".
    html_put(h,
             "<main data-page=\"callback\" data-result=\"declined\" data-error=\"state_mismatch\" "
             "data-description=\"\">\n<h1>The login did not complete</h1>\n"
             "<p>This answer does not belong to a login started in this browser, or that login expired or "
             "was already used, so nothing it says is shown here.</p>\n"
             "<p>Start the login again from the start page, in this browser.</p>\n");
    html_put(h,
             "<div class=\"actions\"><a class=\"button\" href=\"/\">Back to the start</a>"
             "<button type=\"button\" class=\"secondary\" id=\"close-window\" hidden>Close this window"
             "</button></div>\n");
    s_foot(h);
}

void pages_test(html_t *h, const pages_state_t *st, const char *csrf)
{
    s_head(h, st, "Test page", NULL);
    html_put(h, "<main data-page=\"test\" data-env=\"%a\" data-owner=\"%a\">\n<h1>You are logged in</h1>\n", st->env,
             st->user);
    s_facts(h, st);
    html_put(h, "<section class=\"card\">\n<h2>Call a RingCentral API</h2>\n");
    s_api_links(h, NULL);
    html_put(h,
             "<p class=\"detail\">The server calls RingCentral with your token and shows the JSON "
             "here.</p>\n</section>\n<div class=\"actions\">\n");
    s_logout_form(h, csrf, "Log out");
    html_put(h, "</div>\n");
    s_foot(h);
}

void pages_api(html_t *h, const pages_state_t *st, const char *csrf, const char *api, int upstream_status,
               const char *content_type, const char *view, const char *pretty, const char *body, size_t body_len)
{
    const apis_t *def = apis_find(api);
    s_head(h, st, def ? def->label : "API", NULL);
    html_put(h, "<main data-page=\"api\" data-env=\"%a\" data-owner=\"%a\" data-api=\"%a\">\n<h1>%t</h1>\n", st->env,
             st->user, api, def ? def->label : api);
    s_facts(h, st);
    s_api_links(h, api);
    html_put(h, "<section class=\"card\">\n<p class=\"detail\">GET <code>%t</code> \xc2\xb7 HTTP %d \xc2\xb7 %t</p>\n",
             def ? def->upstream : "", upstream_status, content_type);
    if (view)  //  the readable view, then the JSON collapsed
        html_put(h, "%r<details class=\"raw\">\n<summary>The answer as JSON</summary>\n", view);
    else if (!pretty)
        html_put(h,
                 "<p class=\"notice warn\">This answer is not JSON (or too large to re-indent); it is shown "
                 "as it came.</p>\n");
    html_put(h, "<pre class=\"json\">");
    if (pretty)
        html_text(h, pretty, strlen(pretty));
    else
        html_text(h, body, body_len);
    html_put(h, "</pre>\n%r</section>\n", view ? "</details>\n" : "");
    html_put(h,
             "<div class=\"actions\">\n<a class=\"button secondary\" href=\"/test\">Back "
             "to the test page</a>\n");
    s_logout_form(h, csrf, "Log out");
    html_put(h, "</div>\n");
    s_foot(h);
}

void pages_logout(html_t *h, const pages_state_t *st, const char *csrf)
{
    s_head(h, st, "Log out", NULL);
    html_put(h,
             "<main data-page=\"logout\">\n<h1>Log out?</h1>\n<p>Logging out revokes the tokens at "
             "RingCentral and ends this session.</p>\n");
    s_facts(h, st);
    html_put(h, "<div class=\"actions\">\n");
    s_logout_form(h, csrf, "Log out");
    html_put(h, "<a href=\"/test\">Cancel</a>\n</div>\n");
    s_foot(h);
}

void pages_error(html_t *h, const pages_state_t *st, const pages_error_t *e)
{
    s_head(h, st, e->title, NULL);
    html_put(h, "<main data-page=\"error\">\n<p class=\"status\">Error %d</p>\n<h1>%t</h1>\n<p>%t</p>\n", e->status,
             e->title, e->explain);
    if (s_set(e->detail))
        html_put(h, "<p class=\"detail\">Details: %t</p>\n", e->detail);
    if (s_set(st->ref))
        html_put(h,
                 "<p class=\"detail ref\">Reference <code data-ref>%t</code>: the server's log lines of this "
                 "request carry it (<code>ref=</code>, <code>rid=</code>).</p>\n",
                 st->ref);
    const char *href = s_set(e->back_href) ? e->back_href : "/";
    html_put(h, "<div class=\"actions\"><a class=\"button\" href=\"%a\">%t</a>", href,
             s_set(e->back_label) ? e->back_label : "Back to the start");
    if (strcmp(href, "/") != 0)
        html_put(h, "<a href=\"/\">Start page</a>");
    html_put(h, "</div>\n");
    s_foot(h);
}
