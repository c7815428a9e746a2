// app.js: the only script of the RingCentral OAuth demo (CSP script-src 'self').
// Pages hand their data over in data-* attributes; no value is ever written into script.
(function () {
  'use strict';
  var MSG = 'rc-login';
  var WIN = 'rc-login', FEATURES = 'popup=yes,width=520,height=720';

  function byId(id) { return document.getElementById(id); }

  function say(el, kind, text) {
    if (!el) return;
    el.textContent = text;
    el.className = 'notice ' + kind;
    el.hidden = false;
  }

  function declinedText(d) {
    var text = d.error === 'access_denied' ? 'You declined the login at RingCentral.'
      : 'The login did not complete (' + (d.error || 'unknown error') + ').';
    if (d.description) text += ' RingCentral said: \u201c' + d.description + '\u201d.';
    return text;
  }

  // /login: open the authorize URL in a popup and move on when it reports back.
  function loginPage(main) {
    var url = main.getAttribute('data-authorize-url') || '';
    var status = byId('login-status');
    var popup = null, done = false, timer = 0, checks = 0;
    var answered = false;  // RingCentral answered (declined): the login of this page is used up
    var again = byId('open-login');
    if (!/^https?:\/\//i.test(url)) {
      say(status, 'error', 'The login address is not valid. Go back and start again.');
      return;
    }

    function stopTimer() { if (timer) { clearInterval(timer); timer = 0; } }
    function finish() { done = true; stopTimer(); }

    // Ask the server whether the session is logged in (the popup may have been cut off from us).
    function checkSession() {
      return fetch('/test', { credentials: 'same-origin', redirect: 'manual', cache: 'no-store' })
        .then(function (r) { return r.status === 200; })
        .catch(function () { return false; });
    }

    function slowCheck() {
      if (done) return;
      if (++checks > 60) { stopTimer(); return; }
      checkSession().then(function (ok) {
        if (ok && !done) { finish(); location.assign('/test'); }
      });
    }

    function watchPopup() {
      if (done || !popup || !popup.closed) return;
      stopTimer();
      checkSession().then(function (ok) {
        if (done) return;
        if (ok) { finish(); location.assign('/test'); return; }
        say(status, 'warn', 'The login window was closed before the login finished. ' +
          'Open it again, or use the link below to log in in this tab.');
        checks = 0;
        timer = setInterval(slowCheck, 2000);
      });
    }

    function open() {
      done = false;
      stopTimer();
      popup = window.open(url, WIN, FEATURES);
      if (!popup) {
        say(status, 'warn', 'Your browser blocked the login window. Use the link below to log in in this tab.');
        return;
      }
      try { popup.focus(); } catch (e) { /* focus is only a courtesy */ }
      say(status, 'info', 'Log in with RingCentral in the window that opened. This page moves on by itself.');
      timer = setInterval(watchPopup, 400);
    }

    window.addEventListener('message', function (ev) {
      if (ev.origin !== window.location.origin || done) return;
      var d = ev.data;
      if (!d || d.type !== MSG) return;
      finish();
      if (d.ok) {
        say(status, 'ok', 'Logged in. Opening the test page\u2026');
        location.assign('/test');
      } else {
        answered = true;
        say(status, 'error', (d.failure ? d.failure : declinedText(d)) + ' Try again, or go back to the start.');
        if (again) again.textContent = 'Try again';
      }
    });
    // Again after an answer needs a new login (state): open the window now, while the click counts as a
    // user gesture, and reload; the new /login page sends that window to RingCentral by name.
    function retry() {
      try { window.open('', WIN, FEATURES); } catch (e) { /* blocked: the page offers a button and a link */ }
      location.reload();
    }
    if (again) again.addEventListener('click', function (ev) { ev.preventDefault(); if (answered) retry(); else open(); });
    open();
  }

  // A log-in link: open the login window now, while the click counts as a user gesture (a window the
  // /login page opened by itself would be blocked); /login then sends that window to RingCentral by name.
  function onLoginLink(ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest('a[href^="/login?"]') : null;
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;
    try { window.open('', WIN, FEATURES); } catch (e) { /* blocked: /login offers a button and a link */ }
  }

  // /oauth2callback: tell the window that opened the popup, then close (or go on alone).
  function callbackPage(main) {
    var ok = main.getAttribute('data-result') === 'ok';
    var msg = {
      type: MSG, ok: ok,
      error: main.getAttribute('data-error') || '',
      description: main.getAttribute('data-description') || ''
    };
    var opener = null;
    try { opener = window.opener && !window.opener.closed ? window.opener : null; } catch (e) { opener = null; }
    if (opener) {
      try { opener.postMessage(msg, window.location.origin); } catch (e) { opener = null; }
    }
    if (!ok) {
      // The opener shows what happened; this window is no longer needed.
      if (opener) window.close();
      var close = byId('close-window');
      if (close && opener) {
        close.hidden = false;
        close.addEventListener('click', function () { window.close(); });
      }
      return;
    }
    if (opener) {
      window.close();
      // Still here: the browser kept the window open, so carry on in it.
      setTimeout(function () { location.replace('/test'); }, 1500);
    } else {
      location.replace('/test');
    }
  }

  // An error page in the login window (the callback failed: a wrong client secret, RingCentral not
  // reached...): tell the window that opened it what the page says, so it shows that instead of waiting.
  function callbackErrorPage(main) {
    var opener = null;
    try { opener = window.opener && !window.opener.closed ? window.opener : null; } catch (e) { opener = null; }
    if (!opener) return;
    var h1 = main.querySelector('h1');
    var title = h1 ? h1.textContent.trim() : 'The login did not complete';
    var parts = [];
    var nodes = main.querySelectorAll('p:not(.status)');
    function sentence(t) { return /[.!?]$/.test(t) ? t : t + '.'; }
    for (var i = 0; i < nodes.length; i++) parts.push(sentence(nodes[i].textContent.trim()));
    var text = sentence(title) + ' ' + parts.join(' ');
    try { opener.postMessage({ type: MSG, ok: false, failure: text }, window.location.origin); } catch (e) { return; }
  }

  // Call-log start times: the page writes UTC; shown in this browser's time zone (UTC kept as the title).
  function localTimes() {
    var times = document.querySelectorAll('time[data-local]');
    for (var i = 0; i < times.length; i++) {
      var d = new Date(times[i].getAttribute('datetime'));
      if (isNaN(d.getTime())) continue;
      times[i].title = times[i].textContent;
      times[i].textContent = d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    }
    var tz = document.querySelectorAll('[data-tz]');
    var zone = (window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone) || 'local time';
    for (var k = 0; k < tz.length && times.length; k++) tz[k].textContent = '(' + zone + ')';
  }

  function init() {
    localTimes();
    var main = document.querySelector('main[data-page]');
    if (!main) return;
    document.addEventListener('click', onLoginLink);
    var page = main.getAttribute('data-page');
    if (page === 'login') loginPage(main);
    else if (page === 'callback') callbackPage(main);
    else if (page === 'error' && location.pathname === '/oauth2callback') callbackErrorPage(main);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
