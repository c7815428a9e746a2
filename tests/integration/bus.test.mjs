// Issue 12, item 6: the stack on tcp endpoints runs CURVE (certificates made by deploy/bus-keys): a login,
// three API calls, a refresh and a logout all work over it; raw clients (build/test/bus_test --client) with an
// unknown key, no CURVE, or the wrong server key get nothing and are logged; apisvc's certificate sending
// EXCHANGE is refused; a 64 MiB frame to apisvc is dropped without apisvc's memory growing, and it keeps
// serving; a tcp endpoint without keys refuses to start unless INSECURE_BUS=1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startMockedStack, startStack, freePort, waitFor, get } from './lib/stack.mjs';
import { Browser } from './lib/browser.mjs';

const BUILD = process.env.BUILD || 'build';
const JSON_ACCEPT = { headers: { accept: 'application/json' } };
let mock, stack;

before(async () => {
  ({ mock, stack } = await startMockedStack({ bus: 'tcp', env: { LOGIN_RATE_LIMIT: '0' } }));
});

after(async () => {
  await stack?.stop();
  await mock?.stop();
});

// Run one raw client against server ('authsvc' | 'apisvc') of st: its output line ("none" or "reply TYPE CODE").
function rawClient(what, server = 'authsvc', st = stack) {
  return execFileSync(join(BUILD, 'test', 'bus_test'), ['--client', what], {
    env: { ...process.env, BUS_CERT_DIR: st.busDir, BUS_TEST_SERVER: server,
           BUS_TEST_ENDPOINT: st.env[server === 'authsvc' ? 'AUTHSVC_ENDPOINT' : 'APISVC_ENDPOINT']
             || `ipc://${join(st.runDir, `${server}.sock`)}` },
    encoding: 'utf8', timeout: 20000,
  }).trim();
}

const count = (name, re) => (stack.log(name).match(re) || []).length;

test('the stack runs on tcp endpoints with CURVE: login, three API calls, a refresh and a logout', async () => {
  assert.match(stack.env.AUTHSVC_ENDPOINT, /^tcp:\/\/127\.0\.0\.1:\d+$/);
  assert.match(stack.log('authsvc'), / ev=bus\.curve service=authsvc /);
  assert.match(stack.log('apisvc'), / ev=bus\.curve service=apisvc /);
  for (const f of ['authsvc.cert_secret', 'gateway-client.cert_secret', 'apisvc-client.cert_secret'])
    assert.equal(statSync(join(stack.busDir, f)).mode & 0o777, 0o600, f);
  const b = new Browser(stack.url);
  await b.login('sandbox');
  assert.equal((await b.get('/test')).status, 200);
  for (const api of ['extension', 'extension-call-log', 'account-call-log'])
    assert.equal((await b.get(`/test?api=${api}`, JSON_ACCEPT)).status, 200, api);
  const refreshed = (await mock.counters())['token.refresh.ok'] || 0;
  await mock.expireAll();
  assert.equal((await b.get('/test?api=extension', JSON_ACCEPT)).status, 200);     // apisvc -> authsvc REFRESH
  assert.equal((await mock.counters())['token.refresh.ok'], refreshed + 1);
  const t = await b.get('/test');
  const csrf = (t.text.match(/name="csrf" value="([^"]+)"/) || [])[1];
  assert.ok(csrf);
  assert.ok([200, 302, 303].includes((await b.post('/logout', { csrf })).status));
  assert.equal(count('authsvc', / ev=bus\.(refused|auth_failed) /g), 0);
  assert.equal(count('apisvc', / ev=bus\.(refused|auth_failed) /g), 0);
});

test('raw clients: the gateway key is served; an unknown key, no CURVE and a wrong server key get nothing, logged and counted', async () => {
  assert.equal(rawClient('gateway-ping'), 'reply PING_OK -');
  // The reason a NULL client's failure is reported with depends on which side notices first (protocol, or the
  // connection closed under the handshake): any failure line counts. Each kind is logged at its first occurrence.
  for (const what of ['unknown-ping', 'null-ping', 'wrong-key-ping']) {
    const before = count('authsvc', / ev=bus\.auth_failed service=authsvc /g);
    assert.equal(rawClient(what), 'none', what);
    assert.ok(count('authsvc', / ev=bus\.auth_failed service=authsvc /g) > before, what);
  }
  assert.match(stack.log('authsvc'), / ev=bus\.auth_failed service=authsvc reason=refused_key code=0x190 /);
  // counted, and the count reaches the gateway's metrics (STATS)
  const m = (await get(stack.metricsUrls[0])).text;
  assert.match(m, /rcauth_bus_auth_failures_total\{[^}]*reason="refused_key"[^}]*\} [1-9]/);
  assert.equal(rawClient('unknown-ping', 'apisvc'), 'none');
});

test("apisvc's certificate sending EXCHANGE to authsvc is refused", () => {
  assert.equal(rawClient('apisvc-exchange'), 'reply ERROR BAD_REQUEST');
  assert.match(stack.log('authsvc'), / ev=bus\.refused service=authsvc role=apisvc type=EXCHANGE /);
  // Each server has its own list: the gateway may send API and PING to apisvc, but not EXCHANGE.
  assert.equal(rawClient('gateway-ping', 'apisvc'), 'reply PING_OK -');
  assert.equal(rawClient('gateway-exchange', 'apisvc'), 'reply ERROR BAD_REQUEST');
  assert.match(stack.log('apisvc'), / ev=bus\.refused service=apisvc role=gateway type=EXCHANGE /);
});

test('a 64 MiB frame to apisvc is dropped: its peak memory does not grow, and it keeps serving', async () => {
  const pid = stack.procs.get('apisvc').pid;
  const peak = () => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)[1]);
  const before = peak();
  rawClient('big', 'apisvc');
  const after = peak();
  console.log(`# apisvc peak RSS ${before} kB before, ${after} kB after a 64 MiB frame`);
  assert.ok(after - before < 8 * 1024, `${before} -> ${after} kB`);
  assert.equal(rawClient('gateway-ping', 'apisvc'), 'reply PING_OK -');
  const b = new Browser(stack.url);
  await b.login('production');
  assert.equal((await b.get('/test?api=extension', JSON_ACCEPT)).status, 200);
});

test('on the default ipc endpoints too, a 64 MiB frame to apisvc is dropped without its memory growing, and a type it does not handle is refused', async () => {
  const plain = await startStack({ mock });
  try {
    const pid = plain.procs.get('apisvc').pid;
    const peak = () => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)[1]);
    assert.equal(rawClient('null-ping', 'apisvc', plain), 'reply PING_OK -');     // ipc: no CURVE, RUN_DIR guards it
    const before = peak();
    rawClient('big-null', 'apisvc', plain);
    const after = peak();
    console.log(`# apisvc (ipc) peak RSS ${before} kB before, ${after} kB after a 64 MiB frame`);
    assert.ok(after - before < 8 * 1024, `${before} -> ${after} kB`);
    assert.equal(rawClient('null-ping', 'apisvc', plain), 'reply PING_OK -');
    // No role is checked on ipc: a type apisvc does not handle (READY, without API's fields) is refused, no crash.
    assert.equal(rawClient('null-ready', 'apisvc', plain), 'reply ERROR BAD_REQUEST');
    assert.equal(rawClient('null-ping', 'apisvc', plain), 'reply PING_OK -');
  } finally {
    await plain.stop();
  }
});

test('a tcp endpoint without keys refuses to start; INSECURE_BUS=1 starts it (with a warning)', async () => {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const env = { ...stack.env, AUTHSVC_ENDPOINT: endpoint, BUS_CERT_DIR: join(stack.dir, 'no-certs') };
  const run = extra => new Promise(resolve => {
    const p = spawn(join(BUILD, 'bin', 'authsvc'), [], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', d => { out += d; });
    p.stderr.on('data', d => { out += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), 10000);
    p.on('exit', code => { clearTimeout(t); resolve({ code, out }); });
    p.out = () => out;
    if (extra.INSECURE_BUS)
      waitFor(() => / ev=svc\.listen /.test(p.out()), { timeoutMs: 8000, what: 'authsvc listening' })
        .then(() => p.kill('SIGTERM'), () => p.kill('SIGKILL'));
  });
  const refused = await run({});
  assert.notEqual(refused.code, 0);
  assert.match(refused.out, / ev=bus\.keys .*run deploy\/bus-keys/);
  assert.match(refused.out, / ev=svc\.bind .*the bus could not be secured/);
  const insecure = await run({ INSECURE_BUS: '1' });
  assert.match(insecure.out, / ev=bus\.insecure service=authsvc /);
  assert.match(insecure.out, / ev=svc\.listen endpoint=tcp:/);
});
