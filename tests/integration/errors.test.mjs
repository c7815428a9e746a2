// Issue 10 item 1: one error model end to end. RingCentral's status, errorCode and message travel from
// apisvc/authsvc through ERROR to a page that gives the right diagnosis, and to the service's log line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMockedStack, startStack, clientsFor, freePort, holdPorts, waitFor } from './lib/stack.mjs';
import { Browser } from './lib/browser.mjs';

const JSON_ACCEPT = { headers: { accept: 'application/json' } };
let mock, stack;

before(async () => {
  ({ mock, stack } = await startMockedStack({ env: { RC_TIMEOUT_MS: '1500', LOGIN_RATE_LIMIT: '0' } }));
});

after(async () => {
  await stack?.stop();
  await mock?.stop();
});

async function loggedIn(env = 'sandbox') {
  const b = new Browser(stack.url);
  await b.login(env);
  assert.equal((await b.get('/test')).status, 200);
  return b;
}

// An error page: status, data-page="error", each pattern, a way back.
function assertErrorPage(r, status, ...patterns) {
  assert.equal(r.status, status, r.text.slice(0, 600));
  assert.match(r.headers.get('content-type'), /text\/html/);
  assert.match(r.text, /data-page="error"/);
  for (const p of patterns) assert.match(r.text, p);
  assert.match(r.text, /href="\/test"|href="\/"/, 'the page offers a way back');
}

// The header bar of a page says logged in (environment and user chips), not "Not logged in".
function assertHeaderLoggedIn(r) {
  const bar = (r.text.match(/<header class="bar">([\s\S]*?)<\/header>/) || [])[1] || '';
  assert.match(bar, /class="chip on">Environment:/, 'the header shows the login');
  assert.doesNotMatch(bar, /Not logged in/);
}

// A log line of svc matching re appears (logs are written as they happen).
async function logLine(svc, re) {
  await waitFor(() => re.test(stack.log(svc)), { timeoutMs: 3000, what: `${svc} log ${re}` });
  return stack.log(svc).split('\n').find(l => re.test(l));
}

// A login up to the callback, whose code exchange gets the fault (count times).
async function callbackWithFault(kind, count = 1) {
  const b = await loggedIn('sandbox');        //  an earlier login, which must survive
  const cb = await Browser.approve(await b.startLogin('sandbox'));
  await mock.fault({ target: 'code', kind, count });
  const r = await b.get(cb);
  await mock.clearFaults();
  return { b, r };
}

test('API 403 InsufficientPermissions: 403 page naming the permission and where to add it; still logged in; logged', async () => {
  const b = await loggedIn('sandbox');
  await mock.fault({ target: 'extension-call-log', kind: '403-permission', count: 1 });
  const r = await b.get('/test?api=extension-call-log');
  assertErrorPage(r, 403, /The app lacks a permission/, /needs the ReadCallLog permission/,
    /developers\.ringcentral\.com/, /Settings/, /log in again/, /still logged in/,
    /RingCentral answered 403 InsufficientPermissions: In order to call this API endpoint/);
  assert.doesNotMatch(r.text, /refused the login/);
  assertHeaderLoggedIn(r);
  assert.equal(r.location ?? null, null, 'no redirect');
  const line = await logLine('apisvc', /ev=api\.fail .*upstream_status=403 upstream_code=InsufficientPermissions/);
  assert.match(line, /api=extension-call-log/);
  // The page's reference is the request id: on apisvc's line and the gateway's access line (rid= both).
  const ref = (r.text.match(/<code data-ref>([0-9a-f]+)<\/code>/) || [])[1];
  assert.ok(ref, 'the error page carries a reference id');
  assert.match(line, new RegExp(`rid=${ref} `));
  await logLine('gateway', new RegExp(`ev=http .*status=403 .*rid=${ref}\\b`));
  assert.match(line, /upstream_message="In order to call this API endpoint, application needs to have \[ReadCallLog\] permission"/);
  // The same as JSON, with RingCentral's words.
  await mock.fault({ target: 'extension', kind: '403-permission', count: 1 });
  const j = await b.get('/test?api=extension', JSON_ACCEPT);
  assert.equal(j.status, 403);
  const body = JSON.parse(j.text);
  assert.equal(body.error, 'UPSTREAM_DENIED');
  assert.equal(body.upstream_status, 403);
  assert.equal(body.upstream_code, 'InsufficientPermissions');
  assert.match(body.upstream_message, /\[ReadCallLog\]/);
  assert.equal((await b.get('/test')).status, 200, 'still logged in');
});

test('API 403 CMN-408 on the account call log: the page says an admin user is needed; still logged in', async () => {
  const b = await loggedIn('production');
  await mock.fault({ target: 'account-call-log', kind: '403-admin', count: 1 });
  const r = await b.get('/test?api=account-call-log');
  assertErrorPage(r, 403, /needs an admin user/, /ReadCompanyCallLog/, /admin/, /CMN-408/);
  assertHeaderLoggedIn(r);
  await logLine('apisvc', /ev=api\.fail .*api=account-call-log .*upstream_status=403 upstream_code=CMN-408/);
  assert.equal((await b.get('/test?api=extension-call-log')).status, 200);
});

test('invalid_client at the code exchange: the client id or secret is wrong, the env file named; logged', async () => {
  const { b, r } = await callbackWithFault('invalid_client');
  const file = `${stack.envDir}/.env-sandbox`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assertErrorPage(r, 502, /The client id or secret is wrong/, new RegExp(file), /RC_CLIENT_SECRET/,
    /RingCentral answered 401 invalid_client: Invalid client: mock-client/);
  assert.doesNotMatch(r.text, /try again in a moment/i);
  await logLine('authsvc', /ev=exchange\.fail .*env=sandbox .*reason=invalid_client upstream_status=401 upstream_code=invalid_client upstream_message="Invalid client: mock-client"/);
  assert.equal((await b.get('/test')).status, 200, 'the earlier login is still there');
});

test('unauthorized_client (OAU-251) at the code exchange: the app\'s auth type is not authorization code', async () => {
  const { r } = await callbackWithFault('unauthorized_client');
  assertErrorPage(r, 502, /auth type is not &quot;authorization code&quot;|auth type is not "authorization code"/,
    /Settings/, /unauthorized_client/);
  await logLine('authsvc', /ev=exchange\.fail .*upstream_status=400 upstream_code=unauthorized_client/);
});

test('RingCentral unreachable (dropped connections): "could not reach" the server, not "answered with an error"', async () => {
  const b = await loggedIn('sandbox');
  await mock.fault({ target: 'extension', kind: 'drop', count: 6 });
  const r = await b.get('/test?api=extension');
  await mock.clearFaults();
  const server = mock.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assertErrorPage(r, 502, /Could not reach RingCentral/, new RegExp(`Could not reach ${server}`), /still logged in/);
  assert.doesNotMatch(r.text, /answered with an error/);
  assertHeaderLoggedIn(r);
  const { r: cb } = await callbackWithFault('drop', 6);
  assertErrorPage(cb, 502, new RegExp(`Could not reach ${server}`));
  assert.doesNotMatch(cb.text, /answered with an error|still logged in/);
});

test('429 on an API: one sentence with the time to wait', async () => {
  const b = await loggedIn('production');
  await mock.fault({ target: 'extension', kind: '429', count: 1, retry_after: 40 });
  const r = await b.get('/test?api=extension');
  assertErrorPage(r, 429, /RingCentral&#39;s rate limit was reached: wait \d+ seconds, then try again\.|RingCentral's rate limit was reached: wait \d+ seconds, then try again\./);
  assert.ok(Number(r.headers.get('retry-after')) > 0);
});

test('RC_SERVER_URL at a closed port: the code exchange says it could not reach that server', async () => {
  const closed = `http://127.0.0.1:${await freePort()}`;
  const front = await holdPorts();
  const clients = clientsFor(`http://127.0.0.1:${front.ports[0]}/oauth2callback`);
  const other = await startStack({ mock: { url: closed, clients }, envs: ['sandbox'], front,
                                   env: { RC_TIMEOUT_MS: '1500', LOGIN_RATE_LIMIT: '0' } });
  try {
    const b = new Browser(other.url);
    const auth = await b.startLogin('sandbox');
    assert.ok(auth.startsWith(closed), auth);
    // Nothing answers there, so no code can be had: any code with this login's state goes to the exchange.
    const state = new URL(auth).searchParams.get('state');
    const r = await b.get(`/oauth2callback?code=any-code&state=${encodeURIComponent(state)}`);
    const server = closed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assertErrorPage(r, 502, new RegExp(`Could not reach ${server}`), /RC_SERVER_URL/, /environment\/\.env-sandbox/);
    assert.doesNotMatch(r.text, /answered with an error/);
    await waitFor(() => /ev=exchange\.fail .*env=sandbox .*reason=/.test(other.log('authsvc')), { what: 'exchange.fail' });
  } finally {
    await other.stop();
  }
});
