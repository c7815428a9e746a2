//  pages: every HTML page of the gateway, written into an html_t.
//
//  Each page shows the state of things in its header bar (environment, user,
//  demo mode), links /static/app.css and /static/app.js (no inline script or
//  style: the CSP forbids them) and hands data to the script in data-*
//  attributes, escaped. Every value from a request or a service is escaped.
#ifndef PAGES_H_INCLUDED
#define PAGES_H_INCLUDED

#include "common/config.h"
#include "gateway/html.h"

#include <stdbool.h>
#include <stdint.h>

//  What the header bar shows.
typedef struct {
    bool demo_mode;
    bool known;  //  the session was looked up (else the bar says nothing about it)
    bool logged_in;
    const char *env;     //  "sandbox"; NULL or "" when unknown
    const char *user;    //  the owner id; NULL or "" when unknown
    int64_t expires_in;  //  seconds the access token has left; < 0 when unknown
    const char *ref;     //  an error page's reference id (hex; the rid on the log lines); NULL when none
} pages_state_t;

//  What an error page says.
typedef struct {
    int status;  //  the HTTP status, shown as "Error 503"
    const char *title;
    const char *explain;     //  what happened and what to do
    const char *detail;      //  the service's message; NULL for none
    const char *back_href;   //  the way back; NULL for "/"
    const char *back_label;  //  NULL for "Back to the start"
} pages_error_t;

//  What the start page says after a redirect to it: "/?notice=WORD", a fixed word, never text from anyone.
typedef enum {
    PAGES_NOTICE_NONE = 0,
    PAGES_NOTICE_LOGGED_OUT,            //  logged out, RingCentral revoked the tokens
    PAGES_NOTICE_LOGGED_OUT_UNREVOKED,  //  logged out here; RingCentral did not confirm the revoke
    PAGES_NOTICE_LOGIN_FIRST,           //  a page that needs a login was asked for without one
    PAGES_NOTICE_SESSION_ENDED,         //  RingCentral refused to renew the login (invalid_grant)
    PAGES_NOTICE_COUNT
} pages_notice_t;

//  The notice named word. Returns PAGES_NOTICE_NONE for NULL or any other word.
pages_notice_t pages_notice_parse(const char *word);
//  The start page's address that shows notice ("/" for PAGES_NOTICE_NONE).
const char *pages_notice_href(pages_notice_t notice);
//  The main page: the notice, both environments as log-in links (cfg gives which are configured and their servers).
void pages_home(html_t *h, const pages_state_t *st, const config_t *cfg, pages_notice_t notice);
//  The page that opens authorize_url in a popup, with a visible link to it as fallback.
void pages_login(html_t *h, const pages_state_t *st, const char *env, const char *authorize_url);
//  The redirect URI's page after a successful login: tells the opener, closes itself or goes to /test.
void pages_callback_ok(html_t *h, const pages_state_t *st);
//  The redirect URI's page when RingCentral answered error= (the user declined) to a login of this browser
//  session: RingCentral's error and description, told to the opener too.
void pages_callback_declined(html_t *h, const pages_state_t *st, const char *error, const char *description);
//  The redirect URI's page for an error= answer that is not a login of this browser session (unknown, expired,
//  used, or another session's state): "the login did not complete", with none of the answer's text; tells the opener.
void pages_callback_unknown(html_t *h, const pages_state_t *st);
//  The test page: state, the API links and the Logout form carrying csrf.
void pages_test(html_t *h, const pages_state_t *st, const char *csrf);
//  The test page showing one API's answer: view is trusted markup (calllog_render's escaped output) shown
//  first with the JSON collapsed under it, or NULL; pretty is the re-indented JSON, or NULL to show body as it came.
void pages_api(html_t *h, const pages_state_t *st, const char *csrf, const char *api, int upstream_status,
               const char *content_type, const char *view, const char *pretty, const char *body, size_t body_len);
//  The GET /logout page: a button that posts the logout (a GET never logs out by itself).
void pages_logout(html_t *h, const pages_state_t *st, const char *csrf);
//  A clear error page with a title, an explanation and a way back.
void pages_error(html_t *h, const pages_state_t *st, const pages_error_t *e);

#endif
