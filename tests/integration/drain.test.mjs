// Issue 11: stopping without losing work. SIGTERM of each process with 20 requests in flight (the mock's
// RingCentral slowed down so they are surely under way): every one gets a complete, right answer; refreshes
// at RingCentral when authsvc is stopped are stored, so the sessions live on in the restarted authsvc; a
// request that comes during a drain gets a clear 503; and apisvc fails the calls a killed authsvc took with
// it at once instead of waiting them out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMockedStack, waitFor } from './lib/stack.mjs';
import { Browser } from './lib/browser.mjs';
import { slack } from './lib/timing.mjs';

const JSON_ACCEPT = { headers: { accept: 'application/json' } };
const N = 20;
const SLOW_MS = 2500;   // long enough that the signal surely comes while they are under way, even on a loaded machine

let mock, stack;

before(async () => {
  ({ mock, stack } = await startMockedStack({ env: { LOGIN_RATE_LIMIT: '0' } }));
});

after(async () => {
  await stack?.stop();
  await mock?.stop();
});

// Faults the mock has applied so far, from its log (its control API would wait behind the slowed requests).
const injected = async () => (mock.log().match(/ ev=fault\.inject /g) || []).length;

// The next n calls matching target take SLOW_MS at the mock; resolves once they have all reached it, to
// { pending } (fire's promise, wrapped: an async function's result is never a pending promise itself).
async function slowed(target, n, fire) {
  const base = await injected();
  await mock.fault({ target, kind: 'slow', delay_ms: SLOW_MS, count: n });
  const pending = fire();
  await waitFor(async () => (await injected()) - base >= n, { timeoutMs: 10000, what: `${n} ${target} calls at the mock` });
  return { pending };
}

// A right answer to /test?api=extension as JSON: 200 and RingCentral's extension list passed on whole.
function assertExtensionAnswers(rs, what) {
  const bad = rs.filter(r => r.status !== 200);
  assert.equal(bad.length, 0, `${what}: ${bad.length} not 200, e.g. ${bad[0]?.status} ${bad[0]?.text?.slice(0, 200)}`);
  for (const r of rs) {
    const j = JSON.parse(r.text);
    assert.ok(Array.isArray(j.records) && j.records.length > 0, `${what}: the extension list: ${r.text.slice(0, 200)}`);
  }
}

// One request that records a closed connection as { status: 0 } instead of throwing.
const call = (b, path) => b.get(path, JSON_ACCEPT).catch(e => ({ status: 0, text: String(e.cause || e) }));

test('nginx SIGQUIT (deploy/stop) with 20 requests in flight: all 20 answered 200 with the right body', async () => {
  const b = new Browser(stack.url);
  await b.login('sandbox');
  const { pending } = await slowed('extension', N,
    () => Promise.all(Array.from({ length: N }, () => call(b, '/test?api=extension'))));
  const p = stack.procs.get('nginx');
  process.kill(-p.pid, 'SIGQUIT');
  assertExtensionAnswers(await pending, 'in flight at SIGQUIT');
  await p.exited;
  stack.start('nginx');
  await stack.ready();
});

test('gateway SIGTERM with 20 requests in flight: all 20 answered 200 with the right body, then it exits', async () => {
  const b = new Browser(stack.url);
  await b.login('sandbox');
  const { pending } = await slowed('extension', N,
    () => Promise.all(Array.from({ length: N }, () => call(b, '/test?api=extension'))));
  const gw = stack.procs.get('gateway');
  gw.kill('SIGTERM');
  // During the drain a new request (straight to the gateway) gets a complete 503 that says to come back.
  await waitFor(() => stack.log('gateway').includes('ev=server.drain '), { what: 'the drain to start' });
  const direct = new Browser(stack.internalUrls[0]);
  direct.cookies = b.cookies;
  const late = await call(direct, '/test?api=extension');
  assertExtensionAnswers(await pending, 'in flight at SIGTERM');
  assert.equal(late.status, 503, late.text.slice(0, 200));
  assert.equal(late.headers.get('retry-after'), '1');
  const { code } = await gw.exited;
  assert.equal(code, 0);
  assert.match(stack.log('gateway'), /ev=server\.drain in_flight=20 /, 'the signal came with all 20 under way');
  assert.match(stack.log('gateway'), /ev=server\.drained /);
  stack.start('gateway');
  await stack.ready();
});

test('apisvc SIGTERM with 20 API calls in flight: all 20 answered 200 with the right body, then it exits', async () => {
  const b = new Browser(stack.url);
  await b.login('production');
  const { pending } = await slowed('extension', N,
    () => Promise.all(Array.from({ length: N }, () => call(b, '/test?api=extension'))));
  const p = stack.procs.get('apisvc');
  p.kill('SIGTERM');
  await waitFor(() => stack.log('apisvc').includes('msg=draining'), { what: 'the drain to start' });
  const late = await call(b, '/test?api=extension');
  assertExtensionAnswers(await pending, 'in flight at SIGTERM');
  assert.equal(late.status, 503, 'a request during the drain is refused clearly');
  const { code } = await p.exited;
  assert.equal(code, 0);
  assert.match(stack.log('apisvc'), /ev=svc\.signal msg=draining pending=20 /, 'the signal came with all 20 under way');
  assert.match(stack.log('apisvc'), /ev=svc\.drained /);
  stack.start('apisvc');
  await stack.ready();
});

test('authsvc SIGTERM with 20 refreshes at RingCentral: all answered, the new pairs kept, sessions valid after restart', async () => {
  const browsers = Array.from({ length: N }, () => new Browser(stack.url));
  for (const b of browsers) await b.login('sandbox');
  const c0 = await mock.counters();
  await mock.expireAll();
  // Each API call finds its token expired, so apisvc asks authsvc to refresh: 20 refreshes at the mock.
  const { pending } = await slowed('refresh', N,
    () => Promise.all(browsers.map(b => call(b, '/test?api=extension'))));
  const p = stack.procs.get('authsvc');
  p.kill('SIGTERM');
  assertExtensionAnswers(await pending, 'in flight at SIGTERM');
  const { code } = await p.exited;
  assert.equal(code, 0);
  assert.match(stack.log('authsvc'), /ev=svc\.signal msg=draining pending=20 busy=1 /, 'with all 20 at RingCentral');
  assert.match(stack.log('authsvc'), /ev=svc\.drained /);
  assert.doesNotMatch(stack.log('authsvc'), /ev=refresh\.lost/);
  stack.start('authsvc');
  await stack.ready();
  // The restarted authsvc refreshes every session with the pair the stopped one stored: no invalid_grant.
  await mock.expireAll();
  assertExtensionAnswers(await Promise.all(browsers.map(b => call(b, '/test?api=extension'))), 'after the restart');
  const c1 = await mock.counters();
  assert.equal((c1['token.refresh.ok'] || 0) - (c0['token.refresh.ok'] || 0), 2 * N, 'two refreshes a session');
  assert.equal((c1['token.refresh.invalid_grant'] || 0) - (c0['token.refresh.invalid_grant'] || 0), 0);
});

test('apisvc fails a refresh that a killed authsvc took with it at once, not after its 13 s', async () => {
  const b = new Browser(stack.url);
  await b.login('production');
  await mock.expireAll();
  const base = await injected();
  await mock.fault({ target: 'refresh', kind: 'slow', delay_ms: 8000, count: 1 });
  const pending = call(b, '/test?api=extension');
  await waitFor(async () => (await injected()) > base, { what: 'the refresh at the mock' });
  const t0 = Date.now();
  await stack.kill('authsvc', 'SIGKILL');
  stack.start('authsvc');
  const r = await pending;
  const ms = Date.now() - t0;
  assert.equal(r.status, 503, r.text.slice(0, 300));
  assert.ok(ms < slack(2000), `answered ${ms} ms after the kill`);
  assert.match(stack.log('apisvc'), /ev=authc\.disconnected calls_failed=1/);
  await stack.ready();
  // The killed process's lease is void (its pid is gone): the next request refreshes and works.
  await waitFor(async () => (await call(b, '/test?api=extension')).status === 200, { timeoutMs: 10000, what: 'a working call' });
});
