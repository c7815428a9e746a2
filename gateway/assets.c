//  assets: see assets.h. The files are kept readable here, one source line per
//  string line; edit them in place (the ETag follows the content).
#include "gateway/assets.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

static const char s_app_js[] =
    "// app.js: the only script of the RingCentral OAuth demo (CSP script-src 'self').\n"
    "// Pages hand their data over in data-* attributes; no value is ever written into script.\n"
    "(function () {\n"
    "  'use strict';\n"
    "  var MSG = 'rc-login';\n"
    "  var WIN = 'rc-login', FEATURES = 'popup=yes,width=520,height=720';\n"
    "\n"
    "  function byId(id) { return document.getElementById(id); }\n"
    "\n"
    "  function say(el, kind, text) {\n"
    "    if (!el) return;\n"
    "    el.textContent = text;\n"
    "    el.className = 'notice ' + kind;\n"
    "    el.hidden = false;\n"
    "  }\n"
    "\n"
    "  function declinedText(d) {\n"
    "    var text = d.error === 'access_denied' ? 'You declined the login at RingCentral.'\n"
    "      : 'The login did not complete (' + (d.error || 'unknown error') + ').';\n"
    "    if (d.description) text += ' RingCentral said: \\u201c' + d.description + '\\u201d.';\n"
    "    return text;\n"
    "  }\n"
    "\n"
    "  // /login: open the authorize URL in a popup and move on when it reports back.\n"
    "  function loginPage(main) {\n"
    "    var url = main.getAttribute('data-authorize-url') || '';\n"
    "    var status = byId('login-status');\n"
    "    var popup = null, done = false, timer = 0, checks = 0;\n"
    "    var again = byId('open-login');\n"
    "    if (!/^https?:\\/\\//i.test(url)) {\n"
    "      say(status, 'error', 'The login address is not valid. Go back and start again.');\n"
    "      return;\n"
    "    }\n"
    "\n"
    "    function stopTimer() { if (timer) { clearInterval(timer); timer = 0; } }\n"
    "    function finish() { done = true; stopTimer(); }\n"
    "\n"
    "    // Ask the server whether the session is logged in (the popup may have been cut off from us).\n"
    "    function checkSession() {\n"
    "      return fetch('/test', { credentials: 'same-origin', redirect: 'manual', cache: 'no-store' })\n"
    "        .then(function (r) { return r.status === 200; })\n"
    "        .catch(function () { return false; });\n"
    "    }\n"
    "\n"
    "    function slowCheck() {\n"
    "      if (done) return;\n"
    "      if (++checks > 60) { stopTimer(); return; }\n"
    "      checkSession().then(function (ok) {\n"
    "        if (ok && !done) { finish(); location.assign('/test'); }\n"
    "      });\n"
    "    }\n"
    "\n"
    "    function watchPopup() {\n"
    "      if (done || !popup || !popup.closed) return;\n"
    "      stopTimer();\n"
    "      checkSession().then(function (ok) {\n"
    "        if (done) return;\n"
    "        if (ok) { finish(); location.assign('/test'); return; }\n"
    "        say(status, 'warn', 'The login window was closed before the login finished. ' +\n"
    "          'Open it again, or use the link below to log in in this tab.');\n"
    "        checks = 0;\n"
    "        timer = setInterval(slowCheck, 2000);\n"
    "      });\n"
    "    }\n"
    "\n"
    "    function open() {\n"
    "      done = false;\n"
    "      stopTimer();\n"
    "      popup = window.open(url, WIN, FEATURES);\n"
    "      if (!popup) {\n"
    "        say(status, 'warn', 'Your browser blocked the login window. Use the link below to log in in this tab.');\n"
    "        return;\n"
    "      }\n"
    "      try { popup.focus(); } catch (e) { /* focus is only a courtesy */ }\n"
    "      say(status, 'info', 'Log in with RingCentral in the window that opened. This page moves on by itself.');\n"
    "      timer = setInterval(watchPopup, 400);\n"
    "    }\n"
    "\n"
    "    window.addEventListener('message', function (ev) {\n"
    "      if (ev.origin !== window.location.origin || done) return;\n"
    "      var d = ev.data;\n"
    "      if (!d || d.type !== MSG) return;\n"
    "      finish();\n"
    "      if (d.ok) {\n"
    "        say(status, 'ok', 'Logged in. Opening the test page\\u2026');\n"
    "        location.assign('/test');\n"
    "      } else {\n"
    "        say(status, 'error', declinedText(d) + ' Try again, or go back to the start.');\n"
    "        if (again) again.textContent = 'Try again';\n"
    "      }\n"
    "    });\n"
    "    if (again) again.addEventListener('click', function (ev) { ev.preventDefault(); open(); });\n"
    "    open();\n"
    "  }\n"
    "\n"
    "  // A log-in link: open the login window now, while the click counts as a user gesture (a window the\n"
    "  // /login page opened by itself would be blocked); /login then sends that window to RingCentral by name.\n"
    "  function onLoginLink(ev) {\n"
    "    var a = ev.target && ev.target.closest ? ev.target.closest('a[href^=\"/login?\"]') : null;\n"
    "    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;\n"
    "    try { window.open('', WIN, FEATURES); } catch (e) { /* blocked: /login offers a button and a link */ }\n"
    "  }\n"
    "\n"
    "  // /oauth2callback: tell the window that opened the popup, then close (or go on alone).\n"
    "  function callbackPage(main) {\n"
    "    var ok = main.getAttribute('data-result') === 'ok';\n"
    "    var msg = {\n"
    "      type: MSG, ok: ok,\n"
    "      error: main.getAttribute('data-error') || '',\n"
    "      description: main.getAttribute('data-description') || ''\n"
    "    };\n"
    "    var opener = null;\n"
    "    try { opener = window.opener && !window.opener.closed ? window.opener : null; } catch (e) { opener = null; }\n"
    "    if (opener) {\n"
    "      try { opener.postMessage(msg, window.location.origin); } catch (e) { opener = null; }\n"
    "    }\n"
    "    if (!ok) {\n"
    "      // The opener shows what happened; this window is no longer needed.\n"
    "      if (opener) window.close();\n"
    "      var close = byId('close-window');\n"
    "      if (close && opener) {\n"
    "        close.hidden = false;\n"
    "        close.addEventListener('click', function () { window.close(); });\n"
    "      }\n"
    "      return;\n"
    "    }\n"
    "    if (opener) {\n"
    "      window.close();\n"
    "      // Still here: the browser kept the window open, so carry on in it.\n"
    "      setTimeout(function () { location.replace('/test'); }, 1500);\n"
    "    } else {\n"
    "      location.replace('/test');\n"
    "    }\n"
    "  }\n"
    "\n"
    "  function init() {\n"
    "    var main = document.querySelector('main[data-page]');\n"
    "    if (!main) return;\n"
    "    document.addEventListener('click', onLoginLink);\n"
    "    var page = main.getAttribute('data-page');\n"
    "    if (page === 'login') loginPage(main);\n"
    "    else if (page === 'callback') callbackPage(main);\n"
    "  }\n"
    "  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);\n"
    "  else init();\n"
    "})();\n"
    ;

static const char s_app_css[] =
    "/* app.css: the one stylesheet of the RingCentral OAuth demo. */\n"
    ":root {\n"
    "  --fg: #1d2330; --muted: #5b6475; --bg: #f5f6f8; --card: #fff; --line: #dde1e8;\n"
    "  --accent: #0a62b8; --ok: #146c2e; --ok-bg: #e7f5ea; --warn: #7a5200; --warn-bg: #fff4d6;\n"
    "  --err: #b3261e; --err-bg: #fdecea; --info-bg: #eaf2fb;\n"
    "}\n"
    "* { box-sizing: border-box; }\n"
    "[hidden] { display: none !important; }\n"
    "body {\n"
    "  margin: 0; color: var(--fg); background: var(--bg);\n"
    "  font: 16px/1.5 system-ui, -apple-system, \"Segoe UI\", Roboto, \"Helvetica Neue\", sans-serif;\n"
    "}\n"
    "a { color: var(--accent); }\n"
    "header.bar {\n"
    "  display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem;\n"
    "  padding: .75rem 1.25rem; background: var(--card); border-bottom: 1px solid var(--line);\n"
    "}\n"
    ".brand { margin-right: auto; font-weight: 600; color: var(--fg); text-decoration: none; }\n"
    ".state { display: flex; flex-wrap: wrap; gap: .5rem; margin: 0; padding: 0; list-style: none; font-size: .875rem; }\n"
    ".chip { padding: .1rem .6rem; border: 1px solid var(--line); border-radius: 999px; color: var(--muted); }\n"
    ".chip b { color: var(--fg); font-weight: 600; }\n"
    ".chip.on { border-color: #9cc9a8; background: var(--ok-bg); }\n"
    ".chip.demo { border-color: #f0c96b; background: var(--warn-bg); color: var(--warn); font-weight: 600; }\n"
    ".banner { padding: .6rem 1.25rem; background: var(--warn-bg); border-bottom: 1px solid #f0c96b; color: var(--warn); }\n"
    "main { max-width: 54rem; margin: 2rem auto; padding: 0 1.25rem; }\n"
    "h1 { margin: 0 0 .75rem; font-size: 1.6rem; line-height: 1.25; }\n"
    "h2 { margin: 0 0 .5rem; font-size: 1.15rem; }\n"
    "p { margin: 0 0 .75rem; }\n"
    ".lead { color: var(--muted); }\n"
    ".card { margin-bottom: 1rem; padding: 1.25rem 1.5rem; background: var(--card); border: 1px solid var(--line); border-radius: .5rem; }\n"
    ".grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); gap: 1rem; }\n"
    ".button, button {\n"
    "  display: inline-block; padding: .5rem 1rem; border: 1px solid var(--accent); border-radius: .375rem;\n"
    "  background: var(--accent); color: #fff; font: inherit; text-decoration: none; cursor: pointer;\n"
    "}\n"
    ".button:hover, button:hover { filter: brightness(1.1); }\n"
    ".button.secondary, button.secondary { background: transparent; color: var(--accent); }\n"
    ".actions { display: flex; flex-wrap: wrap; align-items: center; gap: .75rem; margin-top: 1rem; }\n"
    ".actions form { margin: 0; }\n"
    ".notice { margin: 0 0 1rem; padding: .75rem 1rem; border: 1px solid var(--line); border-radius: .375rem; background: var(--info-bg); }\n"
    ".notice.ok { border-color: #9cc9a8; background: var(--ok-bg); color: var(--ok); }\n"
    ".notice.warn { border-color: #f0c96b; background: var(--warn-bg); color: var(--warn); }\n"
    ".notice.error { border-color: #f1aaa4; background: var(--err-bg); color: var(--err); }\n"
    "dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0 0 1rem; }\n"
    "dl.facts dt { color: var(--muted); }\n"
    "dl.facts dd { margin: 0; overflow-wrap: anywhere; }\n"
    "ul.apis { display: flex; flex-wrap: wrap; gap: .5rem; margin: 0 0 1rem; padding: 0; list-style: none; }\n"
    "ul.apis a.current { background: var(--accent); color: #fff; }\n"
    "pre.json {\n"
    "  max-height: 70vh; margin: 0; padding: 1rem; overflow: auto; border-radius: .5rem;\n"
    "  background: #0f1720; color: #e6edf3; font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;\n"
    "}\n"
    ".status { color: var(--muted); font-size: .9rem; font-weight: 600; letter-spacing: .04em; text-transform: uppercase; }\n"
    ".detail { color: var(--muted); font-size: .9rem; }\n"
    ".fallback { overflow-wrap: anywhere; }\n"
    "footer { max-width: 54rem; margin: 2rem auto; padding: 0 1.25rem; color: var(--muted); font-size: .8rem; }\n"
    ;

static const char s_favicon[] =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\"><rect width=\"32\" height=\"32\" rx=\"7\" fill=\"#0a62b8\"/><path d=\"M9 23V9h7.5a4.5 4.5 0 0 1 1.2 8.8L22 23h-3.6l-3.9-5H12.4v5zm3.4-8h3.9a1.9 1.9 0 0 0 0-3.8h-3.9z\" fill=\"#fff\"/></svg>\n"
    ;

#define ETAG_SIZE 24    //  quotes + 16 hex + NUL, with room to spare
#define FILE(path, type, body) { path, type, body, sizeof(body) - 1, NULL }

static assets_file_t s_files[] = {
    FILE("/static/app.js", "text/javascript; charset=utf-8", s_app_js),
    FILE("/static/app.css", "text/css; charset=utf-8", s_app_css),
    FILE("/static/favicon.svg", "image/svg+xml", s_favicon),
};
#define FILE_COUNT (sizeof s_files / sizeof s_files[0])
static char s_etags[FILE_COUNT][ETAG_SIZE];
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

//  Fill each file's ETag from a hash of its body, once per process.
static void s_make_etags(void)
{
    for (size_t i = 0; i < FILE_COUNT; i++) {
        unsigned char hash[8];
        char hex[sizeof hash * 2 + 1];
        crypto_generichash(hash, sizeof hash, (const unsigned char *) s_files[i].body, s_files[i].len, NULL, 0);
        sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
        memcpy(s_etags[i], "\"", 1);
        memcpy(s_etags[i] + 1, hex, sizeof hex - 1);
        memcpy(s_etags[i] + sizeof hex, "\"", 2);
        s_files[i].etag = s_etags[i];
    }
}

const assets_file_t *assets_find(const char *path)
{
    pthread_once(&s_once, s_make_etags);
    for (size_t i = 0; path && i < FILE_COUNT; i++)
        if (strcmp(s_files[i].path, path) == 0)
            return &s_files[i];
    return NULL;
}
