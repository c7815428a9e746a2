// The mock RingCentral itself: every rejection it makes and every happy path,
// the control API, faults and latency. Run: BUILD=build node --test tests/integration/mockrc.test.mjs
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  startMock, pkcePair, basicAuth, form, authorizeUrl, tokenRequest, login,
} from './lib/mock.mjs';
import { slack } from './lib/timing.mjs';

const BUILD = process.env.BUILD || 'build';
const APP = { id: 'app-one', secret: 's3cret-one', redirectUri: 'http://127.0.0.1:5000/oauth2callback' };
const APP2 = { id: 'app-two', secret: 's3cret-two', redirectUri: 'http://localhost:6000/cb?x=1' };
const API = {
  extension: '/restapi/v1.0/account/~/extension',
  'extension-call-log': '/restapi/v1.0/account/~/extension/~/call-log',
  'account-call-log': '/restapi/v1.0/account/~/call-log',
};

let mock;
before(async () => { mock = await startMock({ clients: [APP, APP2], autoApprove: true }); });
after(async () => {
  const r = await mock?.stop();
  assert.deepEqual(r, { code: 0, signal: null }, 'SIGTERM ends the mock cleanly:\n' + mock.log());
  assert.doesNotMatch(mock.log(), /Sanitizer|runtime error/, 'no ASan/UBSan report');
});
beforeEach(async () => { await mock.reset(); });

const pause = ms => new Promise(r => setTimeout(r, ms));
const counters = () => mock.counters();
async function counterDelta(fn) {
  const a = await counters();
  await fn();
  const b = await counters();
  const d = {};
  for (const k of Object.keys(b)) if (b[k] !== a[k]) d[k] = b[k] - a[k];
  return d;
}
const authorize = (client, params, init = {}) => fetch(authorizeUrl(mock, client, params), { redirect: 'manual', ...init });
async function api(name, token, headers = {}) {
  const res = await fetch(mock.url + API[name], {
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
  });
  const text = await res.text();
  let body = text;
  try { body = JSON.parse(text); } catch {}
  return { status: res.status, headers: res.headers, body, text };
}
const refresh = (client, refreshToken, opts) => tokenRequest(mock, client, { grant_type: 'refresh_token', refresh_token: refreshToken }, opts);
async function revoke(client, token, { auth } = {}) {
  const res = await fetch(`${mock.url}/restapi/oauth/revoke`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(auth !== null ? { Authorization: auth ?? basicAuth(client.id, client.secret) } : {}) },
    body: form({ token }),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}
// A fresh code (auto-approve) for client, with its verifier.
async function getCode(client = APP, extra = {}) {
  const { verifier, challenge } = pkcePair();
  const res = await authorize(client, { code_challenge: challenge, ...extra });
  assert.equal(res.status, 302);
  return { code: new URL(res.headers.get('location')).searchParams.get('code'), verifier };
}
const exchange = (client, code, verifier, redirectUri = client.redirectUri, opts) =>
  tokenRequest(mock, client, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, opts);
function assertOAuthError(r, status, error) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error, error);
  assert.equal(typeof r.body.error_description, 'string');
  assert.match(r.body.errors[0].errorCode, /^OAU-\d+$/);
  assert.equal(typeof r.body.errors[0].message, 'string');
}
function assertApiError(r, errorCode, subCode) {
  assert.equal(r.status, 401);
  assert.equal(r.body.errorCode, errorCode);
  assert.equal(r.body.errors[0].errorCode, subCode);
  assert.equal(typeof r.body.message, 'string');
}

// ---------------------------------------------------------------------------
// Start-up and command line

test('health answers {"ok":true}; the port came from --port 0 and the port file', async () => {
  const r = await fetch(mock.url + '/_mock/health');
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { ok: true });
  assert.ok(mock.port > 0);
  assert.match(mock.log(), new RegExp(`ev=mockrc.listen .*port=${mock.port}`));
});

test('the command line is checked: no --client, bad --port, bad --client', async () => {
  const bin = resolve(BUILD, 'bin', 'mockrc');
  const run = args => new Promise(r => execFile(bin, args, (err, out, errOut) => r({ code: err ? err.code : 0, errOut })));
  for (const args of [[], ['--client', 'a:b:c', '--port', 'x'], ['--client', 'nocolons'], ['--client', 'a:b:c', '--bogus']]) {
    const r = await run(args);
    assert.equal(r.code, 2, `mockrc ${args.join(' ')}`);
    assert.match(r.errOut, /usage: mockrc/);
  }
});

test('a second mock: --latency-ms delays every RingCentral endpoint, not the control API; SIGTERM removes the port file', async () => {
  const m = await startMock({ clients: [APP], latencyMs: 1000 });
  try {
    let t0 = Date.now();
    await fetch(m.url + '/_mock/counters');
    assert.ok(Date.now() - t0 < slack(250), 'control endpoints have no latency');    // a loaded machine's slack stays below 1 s
    t0 = Date.now();
    const r = await fetch(m.url + API.extension);
    assert.equal(r.status, 401);
    assert.ok(Date.now() - t0 >= 1000, `took ${Date.now() - t0} ms`);
    assert.equal((await m.config()).latency_ms, 1000);
  } finally {
    assert.deepEqual(await m.stop(), { code: 0, signal: null }, m.log());
    assert.doesNotMatch(m.log(), /Sanitizer|runtime error/);
  }
});

test('the port file is written by rename and removed at exit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mockrc-pf-'));
  const file = join(dir, 'port');
  const { spawn } = await import('node:child_process');
  const child = spawn(resolve(BUILD, 'bin', 'mockrc'), ['--port-file', file, '--client', 'a:b:http://x/cb'], { stdio: 'ignore' });
  try {
    const deadline = Date.now() + 5000;
    while (!existsSync(file) && Date.now() < deadline) await pause(20);
    assert.ok(existsSync(file));
    const { readFileSync, readdirSync } = await import('node:fs');
    assert.match(readFileSync(file, 'utf8'), /^\d+\n$/);
    assert.deepEqual(readdirSync(dir), ['port'], 'no temporary file left behind');
  } finally {
    const exited = new Promise(r => child.on('exit', (code, signal) => r({ code, signal })));
    child.kill('SIGTERM');
    assert.deepEqual(await exited, { code: 0, signal: null });
    assert.ok(!existsSync(file));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--state-file: logins survive a restart; a corrupt file is set aside and the mock starts fresh', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mockrc-state-'));
  const file = join(dir, 'mockrc.state');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(file, '{"format":"mockrc-state","version":1,"users":3,"grants":[{"client":');
  const first = await startMock({ clients: [APP], extraArgs: ['--state-file', file] });
  try {
    assert.match(first.log(), /ev=mockrc\.state_invalid /);
    assert.ok(existsSync(`${file}.bad`), 'the corrupt file is kept aside');
    const t = await login(first, APP);
    assert.equal(t.owner_id, '100001', 'fresh: user 1');
    assert.equal((await first.stop()).code, 0);
    const second = await startMock({ clients: [APP], extraArgs: ['--state-file', file] });
    try {
      assert.match(second.log(), /ev=mockrc\.state_loaded .*logins=1/);
      const r = await fetch(second.url + API.extension, { headers: { Authorization: `Bearer ${t.access_token}` } });
      assert.equal(r.status, 200, 'the access token still works');
      const rt = await tokenRequest(second, APP, { grant_type: 'refresh_token', refresh_token: t.refresh_token });
      assert.equal(rt.status, 200, 'the refresh token still works');
      assert.equal(rt.body.owner_id, '100001');
    } finally {
      await second.stop();
    }
  } finally {
    await first.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------
// Authorize

test('authorize with auto-approve: 302 to the redirect URI with code and the URL-encoded state', async () => {
  const state = 'a b&c=d/é';
  const d = await counterDelta(async () => {
    const res = await authorize(APP, { state });
    assert.equal(res.status, 302);
    const loc = new URL(res.headers.get('location'));
    assert.equal(loc.origin + loc.pathname, APP.redirectUri);
    assert.equal(loc.searchParams.get('state'), state);
    assert.ok(loc.searchParams.get('code').length >= 43);
    assert.ok(!res.headers.get('location').includes(' '), 'state is URL-encoded');
  });
  assert.deepEqual(d, { 'authorize.approve': 1 });
});

test('authorize without state: the redirect has no state parameter', async () => {
  const res = await authorize(APP, { state: null });
  assert.equal(res.status, 302);
  const loc = new URL(res.headers.get('location'));
  assert.ok(loc.searchParams.get('code'));
  assert.equal(loc.searchParams.has('state'), false);
});

test('authorize keeps a redirect URI that already has a query', async () => {
  const res = await authorize(APP2, { state: 's1' });
  assert.equal(res.status, 302);
  const loc = new URL(res.headers.get('location'));
  assert.equal(loc.searchParams.get('x'), '1');
  assert.equal(loc.searchParams.get('state'), 's1');
  assert.ok(loc.searchParams.get('code'));
});

const badAuthorize = [
  ['unknown client_id', { client_id: 'nobody' }, /Unknown client_id/],
  ['missing client_id', { client_id: null }, /client_id/],
  ['redirect_uri of another app', { redirect_uri: APP2.redirectUri }, /redirect_uri/],
  ['redirect_uri with a trailing slash', { redirect_uri: APP.redirectUri + '/' }, /redirect_uri/],
  ['redirect_uri with another port', { redirect_uri: 'http://127.0.0.1:5001/oauth2callback' }, /redirect_uri/],
  ['missing redirect_uri', { redirect_uri: null }, /redirect_uri/],
  ['response_type=token', { response_type: 'token' }, /response_type/],
  ['missing response_type', { response_type: null }, /response_type/],
  ['missing code_challenge', { code_challenge: null }, /code_challenge/],
  ['short code_challenge', { code_challenge: 'abc' }, /code_challenge/],
  ['code_challenge with bad characters', { code_challenge: '!'.repeat(43) }, /code_challenge/],
  ['code_challenge_method=plain', { code_challenge_method: 'plain' }, /S256/],
  ['missing code_challenge_method (plain by default)', { code_challenge_method: null }, /S256/],
  ['state too long', { state: 'x'.repeat(600) }, /state/],
];
for (const [name, params, why] of badAuthorize) {
  test(`authorize rejects ${name}: 400 HTML page, no redirect`, async () => {
    const d = await counterDelta(async () => {
      const res = await authorize(APP, params);
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      assert.match(res.headers.get('content-type'), /text\/html/);
      assert.match(await res.text(), why);
    });
    assert.deepEqual(d, { 'authorize.rejected': 1 });
  });
}

test('authorize rejects a parameter given twice', async () => {
  const url = authorizeUrl(mock, APP) + '&client_id=' + APP.id;
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 400);
});

async function loginPage(client = APP, params = {}) {
  await mock.config({ auto_approve: false });
  const { verifier, challenge } = pkcePair();
  const res = await authorize(client, { code_challenge: challenge, ...params });
  assert.equal(res.status, 200);
  const html = await res.text();
  const request = (html.match(/name="request" value="([^"]+)"/) || [])[1];
  return { html, request, verifier, res };
}
const submit = (fields, headers = {}) => fetch(`${mock.url}/restapi/oauth/authorize`, {
  method: 'POST', redirect: 'manual',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body: form(fields),
});

test('without auto-approve authorize shows the login page: title, form, hidden request, Authorize and Deny', async () => {
  const d = await counterDelta(async () => {
    const { html, request, res } = await loginPage();
    assert.match(res.headers.get('content-type'), /^text\/html/);
    assert.match(html, /<title>RingCentral \(mock\) — Sign in<\/title>/);
    assert.match(html, /<form[^>]*method="post"[^>]*action="\/restapi\/oauth\/authorize"/);
    assert.match(html, /<button[^>]*name="decision" value="approve">Authorize<\/button>/);
    assert.match(html, /<button[^>]*name="decision" value="deny">Deny<\/button>/);
    assert.ok(request && request.length >= 43);
    assert.match(html, new RegExp(APP.id));
  });
  assert.deepEqual(d, { 'authorize.page': 1 });
});

test('login page: Authorize redirects with a code that exchanges for tokens', async () => {
  const { request, verifier } = await loginPage(APP, { state: 'xyz' });
  const res = await submit({ request, decision: 'approve' });
  assert.equal(res.status, 302);
  const loc = new URL(res.headers.get('location'));
  assert.equal(loc.searchParams.get('state'), 'xyz');
  const t = await exchange(APP, loc.searchParams.get('code'), verifier);
  assert.equal(t.status, 200);
  assert.equal((await counters())['authorize.approve'], 1);
});

test('login page: Deny redirects with error=access_denied, a description and the state', async () => {
  const { request } = await loginPage(APP, { state: 'deny-me' });
  const d = await counterDelta(async () => {
    const res = await submit({ decision: 'deny', request });
    assert.equal(res.status, 302);
    const loc = new URL(res.headers.get('location'));
    assert.equal(loc.origin + loc.pathname, APP.redirectUri);
    assert.equal(loc.searchParams.get('error'), 'access_denied');
    assert.ok(loc.searchParams.get('error_description').length > 0);
    assert.equal(loc.searchParams.get('state'), 'deny-me');
    assert.equal(loc.searchParams.has('code'), false);
  });
  assert.deepEqual(d, { 'authorize.deny': 1 });
});

test('login page: a request id works once; unknown ids and bad decisions are 400', async () => {
  const { request } = await loginPage();
  assert.equal((await submit({ request, decision: 'maybe' })).status, 400, 'bad decision');
  assert.equal((await submit({ request, decision: 'approve' })).status, 302, 'a bad decision did not use it up');
  assert.equal((await submit({ request, decision: 'approve' })).status, 400, 'used');
  assert.equal((await submit({ request: 'A'.repeat(43), decision: 'approve' })).status, 400, 'unknown');
  assert.equal((await submit({ decision: 'approve' })).status, 400, 'missing');
  const other = await loginPage();
  assert.equal((await submit({ request: other.request, decision: 'approve' }, { 'Content-Type': 'text/plain' })).status, 400, 'not a form');
  assert.equal((await counters())['authorize.rejected'], 5);
});

test('every approval is a new user with its own owner_id', async () => {
  const a = await login(mock, APP), b = await login(mock, APP), c = await login(mock, APP2);
  assert.equal(a.owner_id, '100001');
  assert.equal(new Set([a.owner_id, b.owner_id, c.owner_id]).size, 3);
  assert.notEqual(a.endpoint_id, b.endpoint_id);
});

// ---------------------------------------------------------------------------
// Token: client authentication and request checks

test('token without Basic auth: 401 invalid_client with WWW-Authenticate', async () => {
  const { code, verifier } = await getCode();
  const d = await counterDelta(async () => {
    const r = await exchange(APP, code, verifier, APP.redirectUri, { auth: null });
    assertOAuthError(r, 401, 'invalid_client');
    assert.match(r.headers.get('www-authenticate'), /^Basic/);
  });
  assert.deepEqual(d, { 'token.bad_client': 1 });
});

for (const [name, auth] of [
  ['a wrong secret', basicAuth(APP.id, 'wrong')],
  ['an unknown client', basicAuth('nobody', APP.secret)],
  ['another app\'s secret', basicAuth(APP.id, APP2.secret)],
  ['a Bearer header', 'Bearer abc'],
  ['broken base64', 'Basic %%%'],
  ['no colon', 'Basic ' + Buffer.from('justanid').toString('base64')],
]) {
  test(`token with ${name}: 401 invalid_client, and the code still works afterwards`, async () => {
    const { code, verifier } = await getCode();
    assertOAuthError(await exchange(APP, code, verifier, APP.redirectUri, { auth }), 401, 'invalid_client');
    assert.equal((await exchange(APP, code, verifier)).status, 200);
  });
}

test('token with a JSON body: 400 invalid_request', async () => {
  const res = await fetch(`${mock.url}/restapi/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: basicAuth(APP.id, APP.secret) },
    body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: 'x' }),
  });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error, 'invalid_request');
  assert.equal((await counters())['token.bad_request'], 1);
});

test('token with a body over 8 KiB: 400 invalid_request', async () => {
  const r = await tokenRequest(mock, APP, { grant_type: 'refresh_token', refresh_token: 'x'.repeat(9000) });
  assertOAuthError(r, 400, 'invalid_request');
});

for (const grant of ['password', 'client_credentials', undefined]) {
  test(`token with grant_type=${grant}: 400 unsupported_grant_type`, async () => {
    const r = await tokenRequest(mock, APP, { grant_type: grant, code: 'x' });
    assertOAuthError(r, 400, 'unsupported_grant_type');
  });
}

// ---------------------------------------------------------------------------
// Token: authorization_code grant

test('code exchange: 200 with RingCentral\'s fields, lifetimes from the config, no-store', async () => {
  const { code, verifier } = await getCode();
  const d = await counterDelta(async () => {
    const r = await exchange(APP, code, verifier);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const b = r.body;
    assert.deepEqual(Object.keys(b).sort(), ['access_token', 'endpoint_id', 'expires_in', 'owner_id', 'refresh_token',
      'refresh_token_expires_in', 'scope', 'token_type']);
    assert.equal(b.token_type, 'bearer');
    assert.equal(b.expires_in, 3600);
    assert.equal(b.refresh_token_expires_in, 604800);
    assert.equal(b.scope, 'ReadAccounts ReadCallLog');
    assert.equal(typeof b.owner_id, 'string');
    assert.notEqual(b.access_token, b.refresh_token);
  });
  assert.deepEqual(d, { 'token.code.ok': 1 });
  await mock.config({ access_ttl: 120, refresh_ttl: 900 });
  const t = await login(mock);
  assert.equal(t.expires_in, 120);
  assert.equal(t.refresh_token_expires_in, 900);
});

const badCodes = [
  ['an unknown code', async () => { const { verifier } = await getCode(); return exchange(APP, 'no-such-code', verifier); }],
  ['a missing code', async () => tokenRequest(mock, APP, { grant_type: 'authorization_code', redirect_uri: APP.redirectUri, code_verifier: pkcePair().verifier })],
  ['a code issued to another client', async () => { const { code, verifier } = await getCode(APP2); return exchange(APP, code, verifier, APP2.redirectUri); }],
  ['another redirect_uri', async () => { const { code, verifier } = await getCode(); return exchange(APP, code, verifier, APP.redirectUri + '/'); }],
  ['no redirect_uri', async () => { const { code, verifier } = await getCode(); return tokenRequest(mock, APP, { grant_type: 'authorization_code', code, code_verifier: verifier }); }],
  ['a wrong code_verifier', async () => { const { code } = await getCode(); return exchange(APP, code, pkcePair().verifier); }],
  ['no code_verifier', async () => { const { code } = await getCode(); return tokenRequest(mock, APP, { grant_type: 'authorization_code', code, redirect_uri: APP.redirectUri }); }],
  ['the challenge sent as verifier', async () => {
    const { verifier, challenge } = pkcePair();
    const res = await authorize(APP, { code_challenge: challenge });
    const code = new URL(res.headers.get('location')).searchParams.get('code');
    void verifier;
    return exchange(APP, code, challenge);
  }],
  ['a short code_verifier', async () => { const { code } = await getCode(); return exchange(APP, code, 'short'); }],
];
for (const [name, attempt] of badCodes) {
  test(`code exchange with ${name}: 400 invalid_grant`, async () => {
    const d = await counterDelta(async () => assertOAuthError(await attempt(), 400, 'invalid_grant'));
    assert.equal(d['token.code.rejected'], 1);
    assert.equal(d['token.code.ok'], undefined);
  });
}

test('code exchange with an expired code (code_ttl 0): 400 invalid_grant', async () => {
  await mock.config({ code_ttl: 0 });
  const { code, verifier } = await getCode();
  const r = await exchange(APP, code, verifier);
  assertOAuthError(r, 400, 'invalid_grant');
  assert.match(r.body.error_description, /expired/i);
});

test('a failed exchange does not use the code up (the right request still works)', async () => {
  const { code, verifier } = await getCode();
  assert.equal((await exchange(APP, code, pkcePair().verifier)).status, 400);
  assert.equal((await exchange(APP, code, verifier)).status, 200);
});

test('a replayed code: 400, and the tokens it issued are revoked (RFC 6749 10.5)', async () => {
  const { code, verifier } = await getCode();
  const first = await exchange(APP, code, verifier);
  assert.equal(first.status, 200);
  assert.equal((await api('extension', first.body.access_token)).status, 200);
  const d = await counterDelta(async () => {
    const again = await exchange(APP, code, verifier);
    assertOAuthError(again, 400, 'invalid_grant');
  });
  assert.deepEqual(d, { 'token.code.rejected': 1, 'token.code.replayed': 1 });
  assertApiError(await api('extension', first.body.access_token), 'TokenInvalid', 'OAU-149');
  assertOAuthError(await refresh(APP, first.body.refresh_token), 400, 'invalid_grant');
});

// ---------------------------------------------------------------------------
// Token: refresh_token grant

test('refresh rotates: new pair, old access token dead at once, old refresh token refused as rotated reuse', async () => {
  const t1 = await login(mock);
  const d1 = await counterDelta(async () => {
    const r = await refresh(APP, t1.refresh_token);
    assert.equal(r.status, 200);
    assert.notEqual(r.body.access_token, t1.access_token);
    assert.notEqual(r.body.refresh_token, t1.refresh_token);
    assert.equal(r.body.owner_id, t1.owner_id);
    assert.equal(r.body.endpoint_id, t1.endpoint_id);
    assertApiError(await api('extension', t1.access_token), 'TokenInvalid', 'OAU-149');
    assert.equal((await api('extension', r.body.access_token)).status, 200);
    t1.next = r.body;
  });
  assert.equal(d1['token.refresh.ok'], 1);
  const d2 = await counterDelta(async () => assertOAuthError(await refresh(APP, t1.refresh_token), 400, 'invalid_grant'));
  assert.deepEqual(d2, { 'token.refresh.rejected': 1, 'token.refresh.rotated_reuse': 1 });
  assert.equal((await refresh(APP, t1.next.refresh_token)).status, 200, 'the new refresh token works');
});

test('an unknown refresh token: 400 invalid_grant, not counted as rotated reuse', async () => {
  const d = await counterDelta(async () => assertOAuthError(await refresh(APP, 'never-issued'), 400, 'invalid_grant'));
  assert.deepEqual(d, { 'token.refresh.rejected': 1 });
});

test('an access token used as a refresh token: 400 invalid_grant', async () => {
  const t = await login(mock);
  assertOAuthError(await refresh(APP, t.access_token), 400, 'invalid_grant');
});

test('a refresh token of another client: 400 invalid_grant', async () => {
  const t = await login(mock, APP2);
  assertOAuthError(await refresh(APP, t.refresh_token), 400, 'invalid_grant');
  assert.equal((await refresh(APP2, t.refresh_token)).status, 200);
});

test('an expired refresh token (refresh_ttl 0): 400 invalid_grant', async () => {
  await mock.config({ refresh_ttl: 0 });
  const t = await login(mock);
  const r = await refresh(APP, t.refresh_token);
  assertOAuthError(r, 400, 'invalid_grant');
  assert.match(r.body.error_description, /expired/i);
});

test('refresh_grace_ms: the old refresh token works within the grace window, then is rotated reuse', async () => {
  await mock.config({ refresh_grace_ms: 400 });
  const t = await login(mock);
  const rotatedAt = Date.now();
  assert.equal((await refresh(APP, t.refresh_token)).status, 200);
  const d = await counterDelta(async () => assert.equal((await refresh(APP, t.refresh_token)).status, 200));
  assert.deepEqual(d, { 'token.refresh.ok': 1, 'token.refresh.grace': 1 });
  await pause(Math.max(0, rotatedAt + 500 - Date.now()));   // the window is a time span: wait it out
  const d2 = await counterDelta(async () => assertOAuthError(await refresh(APP, t.refresh_token), 400, 'invalid_grant'));
  assert.equal(d2['token.refresh.rotated_reuse'], 1);
});

// ---------------------------------------------------------------------------
// Auth-group rate limit

test('auth_limit: 5 token requests per user, the 6th is 429 CMN-301 with Retry-After and X-Rate-Limit headers', async () => {
  await mock.config({ auth_limit: true });
  const { code } = await getCode();
  const remaining = [];
  for (let i = 0; i < 5; i++) {
    const r = await exchange(APP, code, pkcePair().verifier);   // wrong verifier: counted, code kept
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('x-rate-limit-group'), 'Auth');
    remaining.push(Number(r.headers.get('x-rate-limit-remaining')));
  }
  assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
  const d = await counterDelta(async () => {
    const res = await fetch(`${mock.url}/restapi/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basicAuth(APP.id, APP.secret) },
      body: form({ grant_type: 'authorization_code', code, redirect_uri: APP.redirectUri, code_verifier: 'x'.repeat(43) }),
    });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '60');
    assert.equal(res.headers.get('x-rate-limit-group'), 'Auth');
    assert.equal(res.headers.get('x-rate-limit-limit'), '5');
    assert.equal(res.headers.get('x-rate-limit-remaining'), '0');
    assert.equal(res.headers.get('x-rate-limit-window'), '60');
    const body = await res.json();
    assert.equal(body.errorCode, 'CMN-301');
    assert.equal(body.message, 'Request rate exceeded');
  });
  assert.deepEqual(d, { 'token.rate_limited': 1 });
  // Per user: another user is not limited.
  assert.equal((await login(mock)).token_type, 'bearer');
});

test('auth_limit covers refresh and revoke too', async () => {
  await mock.config({ auth_limit: true });
  let t = await login(mock);                         // 1
  for (let i = 0; i < 3; i++) t = (await refresh(APP, t.refresh_token)).body;   // 2..4
  assert.equal((await revoke(APP, 'unknown-token')).status, 200, 'an unknown token has no user: not counted');
  assert.equal((await refresh(APP, t.refresh_token)).status, 200);           // 5
  assert.equal((await refresh(APP, t.refresh_token)).status, 429);           // 6
  assert.equal((await revoke(APP, t.access_token)).status, 429);
});

test('auth_limit penalty: every request during it restarts it', async () => {
  await mock.config({ auth_limit: true, auth_window_ms: 1500 });
  const { code, verifier } = await getCode();
  for (let i = 0; i < 5; i++) assert.equal((await exchange(APP, code, 'v'.repeat(43))).status, 400);
  const r6 = await exchange(APP, code, verifier);
  assert.equal(r6.status, 429);
  assert.equal(r6.headers.get('retry-after'), '2');
  await pause(1000);
  assert.equal((await exchange(APP, code, verifier)).status, 429, 'still in the penalty (restarted now)');
  await pause(800);   // 1.8 s after the first 429: past the original penalty, inside the restarted one
  assert.equal((await exchange(APP, code, verifier)).status, 429, 'the penalty was restarted');
  await pause(1600);  // a full window without requests
  const ok = await exchange(APP, code, verifier);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
});

// ---------------------------------------------------------------------------
// Revoke

test('revoke with the access token ends the whole login (both tokens)', async () => {
  const t = await login(mock);
  const d = await counterDelta(async () => {
    const r = await revoke(APP, t.access_token);
    assert.equal(r.status, 200);
    assert.equal(r.text, '');
  });
  assert.deepEqual(d, { 'revoke.ok': 1 });
  assertApiError(await api('extension', t.access_token), 'TokenInvalid', 'OAU-149');
  assertOAuthError(await refresh(APP, t.refresh_token), 400, 'invalid_grant');
});

test('revoke with the refresh token ends the whole login (both tokens)', async () => {
  const t = await login(mock);
  assert.equal((await revoke(APP, t.refresh_token)).status, 200);
  assertApiError(await api('account-call-log', t.access_token), 'TokenInvalid', 'OAU-149');
  assertOAuthError(await refresh(APP, t.refresh_token), 400, 'invalid_grant');
  assert.deepEqual(await mock.tokens(), { access: [], refresh: [], codes: [] });
});

test('revoke of an unknown or already revoked token: 200, counted as revoke.unknown', async () => {
  const t = await login(mock);
  await revoke(APP, t.access_token);
  const d = await counterDelta(async () => {
    assert.equal((await revoke(APP, 'no-such-token')).status, 200);
    assert.equal((await revoke(APP, t.refresh_token)).status, 200);
  });
  assert.deepEqual(d, { 'revoke.unknown': 2 });
});

test('revoke needs Basic auth (401), a token field (400), and the token\'s own client (400)', async () => {
  const t = await login(mock);
  const d = await counterDelta(async () => {
    assert.equal((await revoke(APP, t.access_token, { auth: null })).status, 401);
    assert.equal((await revoke(APP, t.access_token, { auth: basicAuth(APP.id, 'bad') })).status, 401);
    const noToken = await fetch(`${mock.url}/restapi/oauth/revoke`, {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basicAuth(APP.id, APP.secret) }, body: '',
    });
    assert.equal(noToken.status, 400);
    const other = await revoke(APP2, t.access_token);
    assert.equal(other.status, 400);
    assert.equal(JSON.parse(other.text).error, 'unauthorized_client');
  });
  assert.deepEqual(d, { 'revoke.bad_client': 2, 'revoke.rejected': 2 });
  assert.equal((await api('extension', t.access_token)).status, 200, 'the login survived');
});

// ---------------------------------------------------------------------------
// The three APIs

function assertList(b, uriPart) {
  assert.match(b.uri, new RegExp(uriPart));
  assert.ok(Array.isArray(b.records) && b.records.length > 0);
  assert.equal(b.paging.page, 1);
  assert.equal(typeof b.paging.perPage, 'number');
  assert.equal(typeof b.navigation, 'object');
}

test('extension list: RingCentral\'s shape, the user\'s own extension first', async () => {
  const t = await login(mock);
  const d = await counterDelta(async () => {
    const r = await api('extension', t.access_token);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assertList(r.body, '/restapi/v1.0/account/\\d+/extension');
    assert.equal(r.body.paging.totalElements, r.body.records.length);
    const me = r.body.records[0];
    for (const k of ['uri', 'id', 'extensionNumber', 'name', 'type', 'status']) assert.ok(k in me, k);
    assert.equal(String(me.id), t.owner_id);
    assert.equal(me.name, 'Mock User 1');
    assert.ok(me.uri.startsWith(mock.url + '/restapi/v1.0/account/'));
  });
  assert.deepEqual(d, { 'api.extension.ok': 1 });
});

function assertCalls(records) {
  for (const c of records) {
    for (const k of ['uri', 'id', 'sessionId', 'startTime', 'duration', 'type', 'direction', 'action', 'result', 'from', 'to']) assert.ok(k in c, k);
    assert.ok(['Voice', 'Fax'].includes(c.type), c.type);
    assert.ok(['Inbound', 'Outbound'].includes(c.direction));
    assert.ok(!Number.isNaN(Date.parse(c.startTime)));
    assert.equal(typeof c.duration, 'number');
    assert.match(c.from.phoneNumber, /^\+\d+$/);
    assert.match(c.to.phoneNumber, /^\+\d+$/);
  }
}

test('extension call log: RingCentral\'s shape, the user\'s calls', async () => {
  const t = await login(mock);
  const r = await api('extension-call-log', t.access_token);
  assert.equal(r.status, 200);
  assertList(r.body, '/extension/\\d+/call-log');
  assertCalls(r.body.records);
  for (const c of r.body.records) assert.ok([c.from.name, c.to.name].includes('Mock User 1'));
  assert.equal((await counters())['api.extension-call-log.ok'], 1);
});

test('account call log: RingCentral\'s shape, the user\'s calls and the account\'s others', async () => {
  const t = await login(mock);
  const mine = (await api('extension-call-log', t.access_token)).body.records;
  const r = await api('account-call-log', t.access_token);
  assert.equal(r.status, 200);
  assertList(r.body, '/account/\\d+/call-log');
  assertCalls(r.body.records);
  assert.ok(r.body.records.length > mine.length);
  for (const c of mine) assert.ok(r.body.records.some(a => a.id === c.id));
  assert.equal((await counters())['api.account-call-log.ok'], 1);
});

test('two users get different data from every API; one user always gets the same', async () => {
  const a = await login(mock), b = await login(mock);
  for (const name of Object.keys(API)) {
    const ra = await api(name, a.access_token), rb = await api(name, b.access_token);
    assert.equal(ra.status, 200);
    assert.notEqual(ra.text, rb.text, name);
    assert.equal((await api(name, a.access_token)).text, ra.text, `${name} is deterministic`);
  }
  assert.equal((await api('extension', b.access_token)).body.records[0].name, 'Mock User 2');
});

for (const [name, header] of [
  ['no Authorization header', undefined],
  ['an unknown token', 'Bearer nope'],
  ['a Basic header', basicAuth(APP.id, APP.secret)],
  ['an empty Bearer', 'Bearer '],
]) {
  test(`API with ${name}: 401 TokenInvalid / OAU-149`, async () => {
    const d = await counterDelta(async () => {
      const r = await api('extension', null, header ? { Authorization: header } : {});
      assertApiError(r, 'TokenInvalid', 'OAU-149');
    });
    assert.deepEqual(d, { 'api.unauthorized': 1 });
  });
}

test('API with a refresh token as bearer: 401 TokenInvalid', async () => {
  const t = await login(mock);
  assertApiError(await api('extension', t.refresh_token), 'TokenInvalid', 'OAU-149');
});

test('expire-all: 401 TokenExpired / OAU-128 on every API; a refresh then works', async () => {
  const t = await login(mock);
  await mock.expireAll();
  const d = await counterDelta(async () => {
    for (const name of Object.keys(API)) assertApiError(await api(name, t.access_token), 'TokenExpired', 'OAU-128');
  });
  assert.deepEqual(d, { 'api.unauthorized': 3, 'api.expired': 3 });
  const r = await refresh(APP, t.refresh_token);
  assert.equal(r.status, 200);
  assert.equal((await api('extension', r.body.access_token)).status, 200);
});

test('access_ttl 0: a token is expired as soon as it is issued', async () => {
  await mock.config({ access_ttl: 0 });
  const t = await login(mock);
  assertApiError(await api('extension', t.access_token), 'TokenExpired', 'OAU-128');
});

test('revoke-all: 401 TokenInvalid and the refresh token is refused', async () => {
  const a = await login(mock), b = await login(mock, APP2);
  await mock.revokeAll();
  for (const t of [a, b]) assertApiError(await api('extension', t.access_token), 'TokenInvalid', 'OAU-149');
  assertOAuthError(await refresh(APP, a.refresh_token), 400, 'invalid_grant');
  assert.equal((await api('extension', (await login(mock)).access_token)).status, 200, 'new logins work');
});

test('other paths: 404 JSON; a known path with another method: 405', async () => {
  const r = await fetch(mock.url + '/restapi/v1.0/account/~/nothing');
  assert.equal(r.status, 404);
  assert.equal((await r.json()).errorCode, 'CMN-102');
  assert.equal((await fetch(mock.url + API.extension, { method: 'POST' })).status, 405);
  assert.equal((await fetch(mock.url + '/restapi/oauth/token')).status, 405);
  assert.equal((await counters())['http.not_found'], 1);
});

test('keep-alive: many requests reuse one connection', async () => {
  const t = await login(mock);
  const res = await fetch(mock.url + API.extension, { headers: { Authorization: `Bearer ${t.access_token}` } });
  assert.equal(res.headers.get('connection'), 'keep-alive');
  await res.arrayBuffer();
  const all = await Promise.all(Array.from({ length: 200 }, () => api('extension', t.access_token)));
  assert.ok(all.every(r => r.status === 200));
});

// ---------------------------------------------------------------------------
// Faults

async function withLogin() { return login(mock); }

test('fault 500 on the API, count 2: two 500s, then normal', async () => {
  const t = await withLogin();
  await mock.fault({ target: 'api', kind: '500', count: 2 });
  const d = await counterDelta(async () => {
    assert.equal((await api('extension', t.access_token)).status, 500);
    assert.equal((await api('account-call-log', t.access_token)).status, 500);
    assert.equal((await api('extension', t.access_token)).status, 200);
  });
  assert.equal(d['fault.injected'], 2);
});

test('fault 503 carries Retry-After', async () => {
  const t = await withLogin();
  await mock.fault({ target: 'extension', kind: '503', retry_after: 7 });
  const r = await api('extension', t.access_token);
  assert.equal(r.status, 503);
  assert.equal(r.headers.get('retry-after'), '7');
});

test('fault 429 carries Retry-After and CMN-301', async () => {
  await mock.fault({ target: 'refresh', kind: '429', retry_after: 3 });
  const t = await withLogin();
  const r = await refresh(APP, t.refresh_token);
  assert.equal(r.status, 429);
  assert.equal(r.headers.get('retry-after'), '3');
  assert.equal(r.body.errorCode, 'CMN-301');
  assert.equal((await refresh(APP, t.refresh_token)).status, 200, 'the faulted refresh did not rotate');
});

test('fault slow: waits delay_ms, then answers normally', async () => {
  const t = await withLogin();
  await mock.fault({ target: 'account-call-log', kind: 'slow', delay_ms: 400 });
  const t0 = Date.now();
  const r = await api('account-call-log', t.access_token);
  const ms = Date.now() - t0;
  assert.equal(r.status, 200);
  assert.ok(ms >= 400, `took ${ms} ms`);
  const t1 = Date.now();
  await api('account-call-log', t.access_token);
  assert.ok(Date.now() - t1 < 300, 'only the next request was slow');
});

test('fault garbage: 200 whose body is not JSON', async () => {
  const t = await withLogin();
  await mock.fault({ target: 'extension-call-log', kind: 'garbage' });
  const res = await fetch(mock.url + API['extension-call-log'], { headers: { Authorization: `Bearer ${t.access_token}` } });
  assert.equal(res.status, 200);
  await assert.rejects(res.json());
});

test('fault drop: the connection closes without a reply (fetch rejects)', async () => {
  const t = await withLogin();
  await mock.fault({ target: 'extension', kind: 'drop' });
  await assert.rejects(fetch(mock.url + API.extension, { headers: { Authorization: `Bearer ${t.access_token}` } }));
  assert.equal((await api('extension', t.access_token)).status, 200);
});

test('fault hang: waits delay_ms, then closes without a reply; a hung refresh does not rotate', async () => {
  const t = await withLogin();
  await mock.fault({ target: 'refresh', kind: 'hang', delay_ms: 300 });
  const t0 = Date.now();
  await assert.rejects(refresh(APP, t.refresh_token));
  assert.ok(Date.now() - t0 >= 290, `closed after ${Date.now() - t0} ms`);
  assert.equal((await refresh(APP, t.refresh_token)).status, 200, 'the refresh token was not used up');
});

test('fault targets: "code" spares refresh, "token" hits both grants, "any" hits authorize', async () => {
  const t = await withLogin();
  await mock.fault({ target: 'code', kind: '500' });
  assert.equal((await refresh(APP, t.refresh_token)).status, 200 /* refresh is not "code" */);
  const { code, verifier } = await getCode();
  assert.equal((await exchange(APP, code, verifier)).status, 500);
  await mock.fault({ target: 'token', kind: '503', count: 2 });
  assert.equal((await exchange(APP, code, verifier)).status, 503);
  assert.equal((await refresh(APP, 'whatever')).status, 503);
  await mock.fault({ target: 'revoke', kind: '500' });
  assert.equal((await revoke(APP, 'x')).status, 500);
  await mock.fault({ target: 'any', kind: '500' });
  assert.equal((await authorize(APP)).status, 500);
  await mock.fault({ target: 'authorize', kind: '503' });
  assert.equal((await authorize(APP)).status, 503);
  assert.equal((await exchange(APP, code, verifier)).status, 200, 'the code survived the faulted attempts');
});

test('faults queue in order and DELETE clears them; GET lists them', async () => {
  const t = await withLogin();
  await mock.fault([{ target: 'api', kind: '500' }, { target: 'api', kind: '503' }]);
  await mock.fault({ target: 'api', kind: '429', count: 5 });
  const listed = await (await fetch(mock.url + '/_mock/fault')).json();
  assert.deepEqual(listed.faults.map(f => [f.kind, f.count]), [['500', 1], ['503', 1], ['429', 5]]);
  assert.equal((await api('extension', t.access_token)).status, 500);
  assert.equal((await api('extension', t.access_token)).status, 503);
  assert.equal((await api('extension', t.access_token)).status, 429);
  await mock.clearFaults();
  assert.equal((await api('extension', t.access_token)).status, 200);
});

for (const [name, spec] of [
  ['unknown target', { target: 'nope', kind: '500' }],
  ['unknown kind', { target: 'api', kind: '418' }],
  ['count 0', { target: 'api', kind: '500', count: 0 }],
  ['unknown key', { target: 'api', kind: '500', bogus: 1 }],
  ['not an object', 'api'],
]) {
  test(`fault with ${name}: 400, nothing queued`, async () => {
    const res = await fetch(mock.url + '/_mock/fault', { method: 'POST', body: JSON.stringify(spec) });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).ok, false);
    assert.deepEqual((await (await fetch(mock.url + '/_mock/fault')).json()).faults, []);
  });
}

test('control endpoints are never faulted', async () => {
  await mock.fault({ target: 'any', kind: 'drop' });
  assert.equal((await fetch(mock.url + '/_mock/health')).status, 200);
  await mock.clearFaults();
});

// ---------------------------------------------------------------------------
// Control API

test('counters: every documented name, all integers, zero after reset', async () => {
  const c = await counters();
  const names = ['authorize.page', 'authorize.approve', 'authorize.deny', 'authorize.rejected', 'token.code.ok',
    'token.code.rejected', 'token.code.replayed', 'token.refresh.ok', 'token.refresh.rejected',
    'token.refresh.rotated_reuse', 'token.bad_client', 'token.rate_limited', 'revoke.ok', 'revoke.unknown',
    'api.extension.ok', 'api.extension-call-log.ok', 'api.account-call-log.ok', 'api.unauthorized', 'fault.injected'];
  for (const n of names) assert.equal(c[n], 0, n);
  for (const v of Object.values(c)) assert.ok(Number.isInteger(v));
});

test('reset: forgets users, tokens, counters, faults and config', async () => {
  const t = await login(mock);
  await mock.config({ latency_ms: 5, auth_limit: true });
  await mock.fault({ target: 'api', kind: '500', count: 3 });
  await mock.reset();
  const c = await counters();
  assert.ok(Object.values(c).every(v => v === 0));
  assert.deepEqual(await mock.tokens({ all: true }), { access: [], refresh: [], codes: [] });
  assertApiError(await api('extension', t.access_token), 'TokenInvalid', 'OAU-149');
  const cfg = await mock.config();
  assert.equal(cfg.latency_ms, 0);
  assert.equal(cfg.auth_limit, false);
  assert.equal(cfg.auto_approve, true, 'the start configuration (--auto-approve) comes back');
  assert.equal((await login(mock)).owner_id, '100001', 'user numbering starts again');
});

test('config: GET the defaults, POST merges given keys, bad keys and values are 400', async () => {
  assert.deepEqual(await mock.config(), {
    auto_approve: true, latency_ms: 0, auth_limit: false, auth_window_ms: 60000, refresh_grace_ms: 0,
    access_ttl: 3600, refresh_ttl: 604800, code_ttl: 60,
  });
  const merged = await mock.config({ code_ttl: 5, refresh_grace_ms: 100 });
  assert.equal(merged.code_ttl, 5);
  assert.equal(merged.refresh_grace_ms, 100);
  assert.equal(merged.access_ttl, 3600);
  for (const bad of [{ nope: 1 }, { latency_ms: -1 }, { auto_approve: 'yes' }, { access_ttl: 1.5 }, [1]]) {
    const res = await fetch(mock.url + '/_mock/config', { method: 'POST', body: JSON.stringify(bad) });
    assert.equal(res.status, 400, JSON.stringify(bad));
  }
  const res = await fetch(mock.url + '/_mock/config', { method: 'POST', body: '{not json' });
  assert.equal(res.status, 400);
  assert.equal((await mock.config()).code_ttl, 5, 'a refused POST changes nothing');
});

test('tokens: the live access/refresh tokens and unused codes; ?all=1 also lists dead ones', async () => {
  const t = await login(mock);
  const { code } = await getCode();
  let live = await mock.tokens();
  assert.deepEqual(live.access, [t.access_token]);
  assert.deepEqual(live.refresh, [t.refresh_token]);
  assert.deepEqual(live.codes, [code]);
  const r = await refresh(APP, t.refresh_token);
  live = await mock.tokens();
  assert.deepEqual(live.access, [r.body.access_token]);
  assert.deepEqual(live.refresh, [r.body.refresh_token]);
  const all = await mock.tokens({ all: true });
  assert.deepEqual(all.access.sort(), [t.access_token, r.body.access_token].sort());
  assert.deepEqual(all.refresh.sort(), [t.refresh_token, r.body.refresh_token].sort());
  assert.deepEqual(all.codes.sort(), [t.code, code].sort());
});

test('latency_ms from the config: a RingCentral request takes at least that long', async () => {
  await mock.config({ latency_ms: 300 });
  const t0 = Date.now();
  const res = await authorize(APP);
  assert.equal(res.status, 302);
  assert.ok(Date.now() - t0 >= 300, `took ${Date.now() - t0} ms`);
});

test('the log never carries a token, a code or a secret', async () => {
  const t = await login(mock);
  await refresh(APP, t.refresh_token);
  const all = await mock.tokens({ all: true });
  const log = mock.log();
  for (const s of [...all.access, ...all.refresh, ...all.codes, APP.secret, APP2.secret]) assert.ok(!log.includes(s));
});

test('fault 403-permission / 403-admin: RingCentral\'s InsufficientPermissions and CMN-408 bodies, then normal', async () => {
  const t = await withLogin();
  await mock.fault({ target: 'extension-call-log', kind: '403-permission' });
  const r = await api('extension-call-log', t.access_token);
  assert.equal(r.status, 403);
  assert.equal(r.body.errorCode, 'InsufficientPermissions');
  assert.match(r.body.message, /application needs to have \[ReadCallLog\] permission/);
  assert.equal(r.body.errors[0].errorCode, 'CMN-401');
  assert.equal(r.body.errors[0].permissionName, 'ReadCallLog');
  await mock.fault({ target: 'account-call-log', kind: '403-admin' });
  const a = await api('account-call-log', t.access_token);
  assert.equal(a.status, 403);
  assert.equal(a.body.errorCode, 'CMN-408');
  assert.match(a.body.message, /user needs to have \[ReadCompanyCallLog\]/);
  assert.equal((await api('extension-call-log', t.access_token)).status, 200);
});

test('fault invalid_client / unauthorized_client at the token endpoint: OAuth error bodies; the code survives', async () => {
  const { code, verifier } = await getCode();
  await mock.fault({ target: 'code', kind: 'invalid_client' });
  const bad = await exchange(APP, code, verifier);
  assert.equal(bad.status, 401);
  assert.equal(bad.body.error, 'invalid_client');
  assert.match(bad.body.error_description, /Invalid client/);
  await mock.fault({ target: 'code', kind: 'unauthorized_client' });
  const un = await exchange(APP, code, verifier);
  assert.equal(un.status, 400);
  assert.equal(un.body.error, 'unauthorized_client');
  assert.equal(un.body.errors[0].errorCode, 'OAU-251');
  assert.equal((await exchange(APP, code, verifier)).status, 200);
});
