// Issue 10, item 2: the callback, strictly. A callback (code+state or error+state) is acted on only for a
// pending login of the browser session that presents it; another session's state is refused and its
// pending login left for its owner; error= answers are 4xx, with RingCentral's text shown only for this
// session's login (and that login consumed), a generic page otherwise.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMockedStack } from './lib/stack.mjs';
import { Browser } from './lib/browser.mjs';

let mock, stack;

before(async () => {
  // The mock shows its login form, so that a test can press Deny as a user would.
  ({ mock, stack } = await startMockedStack({ autoApprove: false }));
});

after(async () => {
  await stack?.stop();
  await mock?.stop();
});

const tokenCalls = async () => {
  const c = await mock.counters();
  return (c['token.code.ok'] || 0) + (c['token.code.rejected'] || 0);
};
const stateOf = authUrl => new URL(authUrl).searchParams.get('state');
const errorPath = (error, description, state) => {
  const q = new URLSearchParams({ error });
  if (description !== undefined) q.set('error_description', description);
  if (state !== undefined) q.set('state', state);
  return `/oauth2callback?${q}`;
};

// The generic page: says the login did not complete, shows nothing of the answer as RingCentral's.
function assertGeneric(r, attackerText) {
  assert.equal(r.status, 400);
  assert.match(r.text, /The login did not complete/);
  assert.match(r.text, /data-result="declined"/, 'the popup still tells the opener');
  assert.doesNotMatch(r.text, /RingCentral said/);
  assert.doesNotMatch(r.text, /You declined/);
  assert.ok(!r.text.includes(attackerText), 'the attacker-chosen text is not on the page');
  assert.ok(!r.text.includes(attackerText.replace(/</g, '&lt;').replace(/>/g, '&gt;')), 'not even escaped');
}

test('another session presenting a state is refused; its owner then completes the login', async () => {
  const owner = new Browser(stack.url), other = new Browser(stack.url);
  const authUrl = await owner.startLogin('sandbox');
  const state = stateOf(authUrl);
  const cb = await Browser.approve(authUrl);
  await other.startLogin('sandbox');       // the other browser has a session (and a login) of its own
  const calls = await tokenCalls();

  const stolen = await other.get(cb);
  assert.equal(stolen.status, 400);
  assert.match(stolen.text, /not valid for this browser|start again|not started/i);
  assert.equal((await other.get('/test')).status, 302, 'the other session is not logged in');
  // An error= answer with the owner's state, from the other session: generic, and refused likewise.
  assertGeneric(await other.get(errorPath('access_denied', 'Go to evil.example', state)), 'Go to evil.example');
  // A browser with no session at all.
  assert.equal((await new Browser(stack.url).get(cb)).status, 400);
  assert.equal(await tokenCalls(), calls, 'RingCentral was never asked to exchange the code');

  const done = await owner.get(cb);
  assert.equal(done.status, 200, done.text.slice(0, 300));
  assert.match(done.text, /login success/i);
  assert.equal((await owner.get('/test')).status, 200);

  const logs = stack.allLogs();
  assert.ok(!logs.includes(state), 'no log line carries the state');
  assert.match(logs, /ev=exchange\.state_mismatch[^\n]*why=other_session/);
  assert.match(logs, /ev=declined\.state_mismatch[^\n]*why=other_session/);
});

test("Deny at RingCentral with this session's state: 403 and RingCentral's description", async () => {
  const b = new Browser(stack.url);
  const authUrl = await b.startLogin('production');
  const cb = await Browser.approve(authUrl, 'deny');
  const u = new URL(cb, stack.url);
  assert.equal(u.searchParams.get('error'), 'access_denied');
  const description = u.searchParams.get('error_description');
  assert.ok(description, 'the mock sends a description');
  const r = await b.get(cb);
  assert.equal(r.status, 403);
  assert.match(r.text, /You declined the login/);
  assert.ok(r.text.includes(`RingCentral said: ${description}`), r.text.slice(0, 600));
  assert.match(r.text, /data-result="declined"/);
  assert.match(r.text, /data-error="access_denied"/);
  assert.equal((await b.get('/test')).status, 302);
  // Another error of this session's login (RingCentral refused the request): 400, its text shown, escaped.
  const authUrl2 = await b.startLogin('sandbox');
  const r2 = await b.get(errorPath('invalid_request', 'Bad <i>scope</i>', stateOf(authUrl2)));
  assert.equal(r2.status, 400);
  assert.match(r2.text, /RingCentral sent the error <code>invalid_request<\/code>/);
  assert.ok(r2.text.includes('RingCentral said: Bad &lt;i&gt;scope&lt;/i&gt;'));
});

test('error= with a script description and an unknown or foreign state: generic 4xx page', async () => {
  const script = '<script>alert(1)</script>';
  const victim = new Browser(stack.url), attacker = new Browser(stack.url);
  const authUrl = await attacker.startLogin('sandbox');
  await victim.startLogin('sandbox');
  const unknown = 'A'.repeat(43);
  assertGeneric(await victim.get(errorPath('x', script, unknown)), script);
  assertGeneric(await victim.get(errorPath('access_denied', script, unknown)), script);
  assertGeneric(await victim.get(errorPath('x', script, stateOf(authUrl))), script);
  assertGeneric(await victim.get(errorPath('x', script)), script);
  assertGeneric(await victim.get(errorPath('x', script, 'not a state!')), script);
  assertGeneric(await new Browser(stack.url).get(errorPath('x', script, stateOf(authUrl))), script);
  // The attacker's own login was not consumed by the victim's request: it still completes.
  const cb = await Browser.approve(authUrl);
  assert.equal((await attacker.get(cb)).status, 200);
});

test('a declined login is consumed: its state cannot then be exchanged', async () => {
  const b = new Browser(stack.url);
  const authUrl = await b.startLogin('sandbox');
  const state = stateOf(authUrl);
  const cb = await Browser.approve(authUrl);       // a code for this state exists at RingCentral
  const declined = await b.get(errorPath('access_denied', 'The user denied access', state));
  assert.equal(declined.status, 403);
  const calls = await tokenCalls();
  const r = await b.get(cb);
  assert.equal(r.status, 400);
  assert.doesNotMatch(r.text, /login success/i);
  assert.equal(await tokenCalls(), calls, 'no exchange was attempted');
  assert.equal((await b.get('/test')).status, 302);
  // The same error answer again: no longer this session's login, so the generic page.
  assertGeneric(await b.get(errorPath('access_denied', 'The user denied access', state)), 'The user denied access');
});
