// Issue 9, item 3: pending logins cannot fill the store, and no refresh is ever lost.
// - A 1 MiB store (DATA_MAP_MB=1) flooded with pending logins: new logins get the clear 503
//   "The token store is full" page (not "Something went wrong"), authsvc logs lvl=error
//   ev=store.full, and sessions logged in before still refresh, call the APIs and log out
//   (the reserve keeps room for them).
// - A refresh whose commit fails (injected with the LD_PRELOAD shim tests/faults/lmdb_fault.c:
//   no test hook in the services) keeps the session: the pair stays in authsvc's memory, the
//   next API call works with exactly one refresh grant and no reuse of a rotated refresh token,
//   and once commits work again the pair is stored (a restarted authsvc still refreshes it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startMockedStack, waitFor } from './lib/stack.mjs';
import { Browser } from './lib/browser.mjs';
import { slack } from './lib/timing.mjs';

const BUILD = process.env.BUILD || 'build';
const SHIM = resolve(BUILD, 'lib', 'lmdb_fault.so');
const JSON_ACCEPT = { headers: { accept: 'application/json' } };
const stops = [];
after(async () => { for (const s of stops.reverse()) await s(); });

async function start(env) {
  const { mock, stack } = await startMockedStack({ env: { LOGIN_RATE_LIMIT: '0', ...env } });
  stops.push(() => mock.stop(), () => stack.stop());
  return { mock, stack };
}

// A logged-in browser.
async function loggedIn(stack, env = 'sandbox') {
  const b = new Browser(stack.url);
  await b.login(env);
  assert.equal((await b.get('/test')).status, 200);
  return b;
}

function assertStoreFullPage(r) {
  assert.equal(r.status, 503, r.text.slice(0, 300));
  assert.match(r.headers.get('content-type'), /text\/html/);
  assert.match(r.text, /The token store is full/);
  assert.match(r.text, /Try again later/);
  assert.doesNotMatch(r.text, /Something went wrong/);
}

const delta = (c0, c1, name) => (c1[name] || 0) - (c0[name] || 0);

test('a store full of pending logins: new logins get a clear 503; sessions from before refresh, call APIs, log out',
  { timeout: slack(45000) }, async () => {
    const { mock, stack } = await start({ DATA_MAP_MB: '1' });
    const users = [await loggedIn(stack, 'sandbox'), await loggedIn(stack, 'production')];

    // The flood: anonymous /login requests (a new pre-login session each), 32 at a time, until refused
    // (about 800 fit in 1 MiB: 1-2 s on an idle machine; each turn of authsvc's loop is one durable commit;
    // 3.5 s under ASan, 45 s and more under ASan beside the rest of the suite: it is CPU-bound).
    const started = Date.now();
    let ok = 0, refused = null;
    const one = async () => {
      const r = await fetch(`${stack.url}/login?env=sandbox`, { redirect: 'manual' });
      const text = await r.text();
      if (r.status === 200) ok++;
      else if (!refused) refused = { status: r.status, headers: r.headers, text };
    };
    while (!refused && ok < 20000 && Date.now() - started < slack(30000))
      await Promise.all(Array.from({ length: 32 }, one));
    assert.ok(refused, `a 1 MiB store took ${ok} pending logins without refusing one`);
    assert.ok(ok > 200, `only ${ok} logins before a refusal: ${refused.status} ${refused.text.slice(0, 300)}`);
    assertStoreFullPage(refused);
    console.log(`# 1 MiB store: ${ok} pending logins before the first 503, ${Date.now() - started} ms`);
    // Still refused (nothing expires for 10 minutes), as JSON too.
    assertStoreFullPage(await new Browser(stack.url).get('/login?env=production'));
    const j = await fetch(`${stack.url}/login?env=sandbox`, JSON_ACCEPT);
    assert.equal(j.status, 503);
    // Operators are told, once per event (rate-limited), without secrets.
    const full = stack.log('authsvc').split('\n').filter(l => / ev=store\.full /.test(l));
    assert.ok(full.length >= 1 && full.every(l => / lvl=error /.test(l)), full.join('\n'));
    assert.ok(full.length < 20, `${full.length} store.full lines: not rate-limited`);

    // The sessions from before: a forced refresh each (exactly one grant each), the three APIs, logout.
    await mock.expireAll();
    const c0 = await mock.counters();
    for (const b of users)
      for (const api of ['extension', 'extension-call-log', 'account-call-log']) {
        const r = await b.get(`/test?api=${api}`, JSON_ACCEPT);
        assert.equal(r.status, 200, `${api}: ${r.text.slice(0, 300)}`);
      }
    const c1 = await mock.counters();
    assert.equal(delta(c0, c1, 'token.refresh.ok'), users.length, 'one refresh grant per session');
    assert.equal(delta(c0, c1, 'token.refresh.rejected'), 0);
    assert.equal(delta(c0, c1, 'token.refresh.rotated_reuse'), 0);
    assert.doesNotMatch(stack.log('authsvc'), /ev=refresh\.store_fail/);
    for (const b of users) {
      const csrf = Browser.csrf((await b.get('/test')).text);
      const r = await b.post('/logout', { csrf });
      assert.ok([302, 303].includes(r.status), r.text.slice(0, 300));
      assert.equal((await b.get('/test')).status, 302, 'logged out');
    }
    assert.equal(delta(c1, await mock.counters(), 'revoke.ok'), users.length);
  });

test('a refresh whose commit fails keeps the session (injected MDB_MAP_FULL); stored once the store works again',
  { timeout: 60000 }, async () => {
    assert.ok(existsSync(SHIM), `${SHIM} is missing: make builds it`);
    const dir = mkdtempSync(join(tmpdir(), 'lmdbfault-'));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    const faultFile = join(dir, 'fail');
    // The environment applies to every process of the stack; only authsvc writes to LMDB.
    const { mock, stack } = await start({
      RC_TIMEOUT_MS: '1500', LD_PRELOAD: SHIM, LMDB_FAULT_FILE: faultFile,
      ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'verify_asan_link_order=0'].filter(Boolean).join(':'),
    });
    const b = await loggedIn(stack, 'sandbox');
    assert.equal((await b.get('/test?api=extension', JSON_ACCEPT)).status, 200);

    await mock.expireAll();
    const c0 = await mock.counters();
    // The lease's claim (the first commit that writes) goes through; from the next one on, commits fail.
    writeFileSync(faultFile, '1');
    const first = b.get('/test?api=extension');
    await waitFor(() => /ev=refresh\.store_fail .*kept=memory/.test(stack.log('authsvc')),
      { timeoutMs: 5000, what: 'authsvc: refresh.store_fail kept=memory' });
    assert.doesNotMatch(stack.log('authsvc'), /ev=refresh\.ok/, 'not logged as ok before its commit');
    // Still failing at the request's deadline: a clear 503, the session stays.
    assertStoreFullPage(await first);
    assert.equal((await b.get('/test')).status, 200, 'still logged in');

    // The store works again: the next API call gets the pair kept in memory, now stored; no second grant.
    rmSync(faultFile);
    const t0 = Date.now();
    const next = await b.get('/test?api=extension', JSON_ACCEPT);
    assert.equal(next.status, 200, next.text.slice(0, 300));
    assert.ok(Date.now() - t0 < 3000, 'the lease does not hold the session back');
    await waitFor(() => /ev=refresh\.stored /.test(stack.log('authsvc')), { timeoutMs: 5000, what: 'refresh.stored' });
    const c1 = await mock.counters();
    assert.equal(delta(c0, c1, 'token.refresh.ok'), 1, 'exactly one refresh grant');
    assert.equal(delta(c0, c1, 'token.refresh.rejected'), 0, 'no invalid_grant');
    assert.equal(delta(c0, c1, 'token.refresh.rotated_reuse'), 0, 'the rotated-out refresh token is never sent');

    // A restarted authsvc has only the store: it holds the new pair (fresh token: no refresh; then a
    // forced one with the stored refresh token is accepted).
    await stack.restart('authsvc');
    assert.equal((await b.get('/test?api=extension', JSON_ACCEPT)).status, 200);
    assert.equal(delta(c1, await mock.counters(), 'token.refresh.ok'), 0);
    await mock.expireAll();
    assert.equal((await b.get('/test?api=account-call-log', JSON_ACCEPT)).status, 200);
    const c2 = await mock.counters();
    assert.equal(delta(c1, c2, 'token.refresh.ok'), 1);
    assert.equal(delta(c0, c2, 'token.refresh.rejected'), 0);
    assert.equal(delta(c0, c2, 'token.refresh.rotated_reuse'), 0);
  });
