// Issue 3: the login flow end to end through gateway + authsvc against the mock RingCentral.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMockedStack, waitFor } from './lib/stack.mjs';
import { Browser } from './lib/browser.mjs';
import { slack } from './lib/timing.mjs';

let mock, stack;

before(async () => {
  ({ mock, stack } = await startMockedStack({ env: { RC_TIMEOUT_MS: '1500' } }));
});

after(async () => {
  await stack?.stop();
  await mock?.stop();
});

const counter = async name => (await mock.counters())[name] || 0;

for (const env of ['production', 'sandbox']) {
  test(`full login through ${env} shows the test page`, async () => {
    const b = new Browser(stack.url);
    const before = await counter('token.code.ok');
    const authUrl = await b.startLogin(env);
    const sidBefore = b.cookies.get('rcsid');
    assert.ok(sidBefore, 'the login page sets a session cookie');
    const u = new URL(authUrl);
    assert.equal(u.searchParams.get('response_type'), 'code');
    assert.equal(u.searchParams.get('client_id'), `test-client-${env}`);
    assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(u.searchParams.get('state').length >= 22, 'state carries >= 128 bits');
    assert.ok(u.searchParams.get('code_challenge').length >= 43);
    const cb = await Browser.approve(authUrl);
    const r = await b.get(cb);
    assert.equal(r.status, 200);
    assert.match(r.text, /login success/i);
    assert.notEqual(b.cookies.get('rcsid'), sidBefore, 'the session id is rotated at login');
    const cookie = r.setCookies.find(c => c.startsWith('rcsid='));
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Lax/i);
    assert.match(cookie, /Path=\//i);
    assert.equal(await counter('token.code.ok'), before + 1);
    const t = await b.get('/test');
    assert.equal(t.status, 200);
    assert.match(t.text, new RegExp(env));
    assert.match(t.text, /api=extension/);
    assert.match(t.text, /api=extension-call-log/);
    assert.match(t.text, /api=account-call-log/);
  });
}

test('an unknown environment is a 400, not a fallback', async () => {
  const b = new Browser(stack.url);
  for (const bad of ['bogus', 'Production', '', 'production%00']) {
    const r = await b.get(`/login?env=${bad}`);
    assert.equal(r.status, 400, `env=${bad}`);
  }
  assert.equal((await b.get('/login')).status, 400);
});

test('a state that was never issued is refused without calling RingCentral', async () => {
  const b = new Browser(stack.url);
  await b.startLogin('sandbox');
  const before = await counter('token.code.ok') + await counter('token.code.rejected');
  const r = await b.get('/oauth2callback?code=whatever&state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
  assert.equal(r.status, 400);
  assert.match(r.text, /start again|not valid|expired/i);
  assert.equal(await counter('token.code.ok') + await counter('token.code.rejected'), before);
});

test('the state of another session is refused (login CSRF)', async () => {
  const victim = new Browser(stack.url), attacker = new Browser(stack.url);
  const authUrl = await attacker.startLogin('sandbox');
  const cb = await Browser.approve(authUrl);
  await victim.get('/');
  await victim.startLogin('sandbox');
  const r = await victim.get(cb);
  assert.equal(r.status, 400);
  assert.equal((await victim.get('/test')).status, 302, 'the victim is not logged in as the attacker');
});

test('a replayed callback is refused and the session stays logged in', async () => {
  const b = new Browser(stack.url);
  const authUrl = await b.startLogin('production');
  const cb = await Browser.approve(authUrl);
  assert.equal((await b.get(cb)).status, 200);
  const replay = await b.get(cb);
  assert.equal(replay.status, 400);
  assert.equal((await b.get('/test')).status, 200);
});

test('a callback without code or state is a 400', async () => {
  const b = new Browser(stack.url);
  await b.startLogin('sandbox');
  assert.equal((await b.get('/oauth2callback')).status, 400);
  assert.equal((await b.get('/oauth2callback?state=abc')).status, 400);
  assert.equal((await b.get('/oauth2callback?code=abc')).status, 400);
});

test('access_denied from RingCentral gives a clear page', async () => {
  const b = new Browser(stack.url);
  const authUrl = await b.startLogin('sandbox');
  const state = new URL(authUrl).searchParams.get('state');
  const r = await b.get(`/oauth2callback?error=access_denied&error_description=${encodeURIComponent('User <b>denied</b>')}&state=${state}`);
  assert.equal(r.status, 403, 'the user refused access: a 4xx, never 200');
  assert.match(r.text, /denied|declined/i);
  assert.ok(!r.text.includes('<b>denied</b>'), 'the description is escaped');
  assert.equal((await b.get('/test')).status, 302);
});

test('two tabs logging in at once both complete', async () => {
  const b = new Browser(stack.url);
  await b.get('/');
  const a1 = await b.startLogin('sandbox');
  const a2 = await b.startLogin('production');
  const [cb1, cb2] = await Promise.all([Browser.approve(a1), Browser.approve(a2)]);
  const r2 = await b.get(cb2);
  assert.equal(r2.status, 200);
  // The session id rotated at the first completion; the second tab's pending login is bound to the
  // id it started with, which the browser no longer holds: it must still complete.
  const r1 = await b.get(cb1);
  assert.equal(r1.status, 200, r1.text.slice(0, 300));
  assert.equal((await b.get('/test')).status, 200);
});

test('logout revokes at RingCentral, clears the cookie, and /test then redirects', async () => {
  const b = new Browser(stack.url);
  await b.login('sandbox');
  const page = await b.get('/test');
  const csrf = Browser.csrf(page.text);
  const before = await counter('revoke.ok');
  const bad = await b.post('/logout', { csrf: 'nope' });
  assert.equal(bad.status, 403);
  assert.equal((await b.get('/test')).status, 200, 'a bad CSRF token does not log out');
  const r = await b.post('/logout', { csrf });
  assert.ok([302, 303].includes(r.status));
  assert.equal(r.location, '/?notice=logged-out');
  assert.ok(r.setCookies.some(c => c.startsWith('rcsid=') && /max-age=0/i.test(c)), 'the cookie is cleared');
  assert.equal(await counter('revoke.ok'), before + 1);
  assert.match((await b.get(r.location)).text, /You are logged out: RingCentral revoked the tokens/);
  const t = await b.get('/test');
  assert.equal(t.status, 302);
  assert.equal(t.location, '/?notice=login-first');
});

test('a logout whose revoke RingCentral refuses still logs out, and the start page says the token may live on', async () => {
  const b = new Browser(stack.url);
  await b.login('sandbox');
  const csrf = Browser.csrf((await b.get('/test')).text);
  await mock.fault({ target: 'revoke', kind: '500', count: 1 });
  const r = await b.post('/logout', { csrf });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/?notice=logged-out-unrevoked');
  assert.ok(r.setCookies.some(c => c.startsWith('rcsid=') && /max-age=0/i.test(c)), 'the cookie is cleared');
  assert.match((await b.get(r.location)).text, /did not confirm that it revoked the tokens/);
  assert.equal((await b.get('/test')).status, 302, 'logged out here all the same');
  assert.match(stack.log('authsvc'), /ev=logout\.revoke_fail/);
});

test('a GET /logout alone does not log out', async () => {
  const b = new Browser(stack.url);
  await b.login('production');
  const before = await counter('revoke.ok');
  const r = await b.get('/logout');
  assert.equal(r.status, 200);
  assert.match(r.text, /<form[^>]+method="post"[^>]+action="\/logout"|<form[^>]+action="\/logout"[^>]+method="post"/i);
  assert.equal((await b.get('/test')).status, 200);
  assert.equal(await counter('revoke.ok'), before);
});

test('two sessions are isolated', async () => {
  const a = new Browser(stack.url), b = new Browser(stack.url);
  await a.login('sandbox');
  await b.login('sandbox');
  const ta = (await a.get('/test')).text, tb = (await b.get('/test')).text;
  const owner = t => (t.match(/data-owner="([^"]+)"/) || [])[1];
  assert.ok(owner(ta) && owner(tb));
  assert.notEqual(owner(ta), owner(tb));
});

test('no token or client secret ever reaches the browser', async () => {
  const b = new Browser(stack.url);
  await b.login('sandbox');
  await b.get('/test');
  await b.get('/');
  await b.get('/logout');
  const tokens = await mock.tokens();
  const secrets = [...tokens.access, ...tokens.refresh, ...mock.clients.map(c => c.secret)];
  assert.ok(secrets.length > 2);
  for (const res of b.seen) {
    const everything = res.text + JSON.stringify([...res.headers]);
    for (const s of secrets) assert.ok(!everything.includes(s), `a secret leaked in ${res.url}`);
  }
  const logs = stack.allLogs();
  for (const s of secrets) assert.ok(!logs.includes(s), 'a secret reached a log');
});

test('restarting the gateway keeps the login', async () => {
  const b = new Browser(stack.url);
  await b.login('sandbox');
  await stack.restart('gateway');
  assert.equal((await b.get('/test')).status, 200);
});

test('authsvc killed: 503 within SERVICE_TIMEOUT_MS; restarted: works without restarting the gateway', async () => {
  const b = new Browser(stack.url);
  await b.login('production');
  await stack.kill('authsvc', 'SIGKILL');
  const t0 = Date.now();
  const r = await b.get('/test');
  const ms = Date.now() - t0;
  assert.equal(r.status, 503);
  assert.ok(ms <= Number(stack.env.SERVICE_TIMEOUT_MS) + slack(300), `took ${ms} ms`);
  assert.match(r.text, /unavailable/i);
  stack.start('authsvc');
  await waitFor(async () => (await b.get('/test')).status === 200, { timeoutMs: 8000, what: '/test after restart' });
});

for (const [kind, status] of [['500', 502], ['garbage', 502], ['slow', 504]]) {
  test(`token endpoint ${kind}: clear ${status} page and the existing session survives`, async () => {
    const b = new Browser(stack.url);
    await b.login('sandbox');
    const authUrl = await b.startLogin('sandbox');
    const cb = await Browser.approve(authUrl);
    await mock.fault({ target: 'code', kind, count: 1, delay_ms: 3000 });
    const t0 = Date.now();
    const r = await b.get(cb);
    assert.equal(r.status, status, r.text.slice(0, 300));
    assert.match(r.text, /RingCentral/);
    assert.match(r.text, /href="\/"/, 'the page offers a way back');
    if (kind === 'slow') assert.ok(Date.now() - t0 < 3000, 'the upstream timeout bounds the wait');
    await mock.clearFaults();
    assert.equal((await b.get('/test')).status, 200, 'the earlier login is still there');
  });
}

// Issue 12, point 4: cookies are per host, not per port, so any server on this host (another user's, on
// another port) can set a cookie the browser then sends to the stack. The gateway takes only an id it tagged.
test('a session cookie planted from another port of the same host is ignored: /login mints its own', async () => {
  const { createServer } = await import('node:http');
  const { randomBytes } = await import('node:crypto');
  const planted = randomBytes(32).toString('base64url');     // a well-formed id, as rand_id makes them
  for (const value of [planted, `${planted}.${randomBytes(16).toString('base64url')}`]) {
    const evil = createServer((req, res) => {
      res.writeHead(200, { 'set-cookie': `rcsid=${value}; Path=/; HttpOnly; SameSite=Lax` });
      res.end('hello');
    });
    await new Promise(r => evil.listen(0, '127.0.0.1', r));
    const b = new Browser(stack.url);
    try {
      // The browser visits the other port and keeps its cookie for the host, as browsers do.
      const res = await fetch(`http://127.0.0.1:${evil.address().port}/`);
      await res.text();
      assert.equal(new URL(stack.url).hostname, '127.0.0.1');
      b.absorb(res);
      assert.equal(b.cookies.get('rcsid'), value, 'the planted cookie is in the jar and is sent to the stack');
    } finally {
      evil.close();
    }
    const login = await b.get('/login?env=sandbox');
    assert.equal(login.status, 200);
    const set = login.setCookies.find(c => c.startsWith('rcsid='));
    assert.ok(set, 'a fresh session cookie is set over the planted one');
    const fresh = b.cookies.get('rcsid');
    assert.ok(!fresh.startsWith(planted), 'the minted id is not the planted one');
    assert.match(fresh, /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}$/, 'id.tag');
    const r = await b.get(await Browser.approve(Browser.authorizeUrl(login.text)));
    assert.equal(r.status, 200);
    assert.equal((await b.get('/test')).status, 200, 'the victim is logged in with its own session');
    // The planter, holding the value it planted, has nothing.
    const planter = new Browser(stack.url);
    planter.cookies.set('rcsid', value);
    const t = await planter.get('/test');
    assert.equal(t.status, 302, 'the planted value is no session');
    planter.cookies.set('rcsid', planted);
    assert.equal((await planter.get('/test')).status, 302);
  }
});
