// Issue 4: refresh exactly once with several apisvc (and authsvc) processes on one store.
// Three "lines" (see startStack): line 0 = authsvc + apisvc + gateway; line 1 = authsvc1 + apisvc1
// + gateway1; line 2 = apisvc2 + gateway2 sharing authsvc1. So lines 1 and 2 are two apisvc
// processes behind one authsvc (in-process single-flight), and lines 0 and 1 are two apisvc
// behind two authsvc (the LMDB lease decides across processes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMockedStack, get } from './lib/stack.mjs';
import { Browser } from './lib/browser.mjs';
import { slack } from './lib/timing.mjs';

const APIS = ['extension', 'extension-call-log', 'account-call-log'];
const JSON_ACCEPT = { headers: { accept: 'application/json' } };

let mock, stack;

before(async () => {
  ({ mock, stack } = await startMockedStack({ apisvcCount: 3, authsvcCount: 2, env: { RC_TIMEOUT_MS: String(slack(1500)) } }));
});

after(async () => {
  await stack?.stop();
  await mock?.stop();
});

const counters = () => mock.counters();
const apiCalls = c => APIS.reduce((n, a) => n + (c[`api.${a}.ok`] || 0), 0)
  + (c['api.unauthorized'] || 0) + (c['fault.injected'] || 0);
// How many upstream calls an apisvc has logged so far.
const logged = name => (stack.log(name).match(/ ev=api\.call /g) || []).length;

// A browser logged in through gateway 0, and one view of its cookie jar per gateway.
async function loggedIn(env = 'sandbox') {
  const b = new Browser(stack.url);
  await b.login(env);
  const views = stack.urls.map(u => {
    const v = new Browser(u);
    v.cookies = b.cookies;
    return v;
  });
  return views;
}

// n requests at once on one session, spread over the given lines (half as pages, half as JSON).
async function burst(views, lines, n = 30) {
  const c0 = await counters();
  const l0 = lines.map(i => logged(stack.numbered('apisvc', i)));
  const rs = await Promise.all(Array.from({ length: n }, (_, k) =>
    views[lines[k % lines.length]].get(`/test?api=${APIS[k % 3]}`, k % 4 < 2 ? JSON_ACCEPT : {})));
  const c1 = await counters();
  const statuses = rs.map(r => r.status);
  assert.deepEqual(statuses, rs.map(() => 200), rs.find(r => r.status !== 200)?.text.slice(0, 300));
  lines.forEach((i, k) => assert.ok(logged(stack.numbered('apisvc', i)) > l0[k], `apisvc of line ${i} took part`));
  return k => (c1[k] || 0) - (c0[k] || 0);
}

test('each line has its own apisvc (and lines 0 and 1 their own authsvc); one session works on all', async () => {
  // Which services each line's gateway reaches: with one of them stopped, exactly the lines using it are not ready.
  for (const [name, lines] of [['authsvc', [0]], ['authsvc1', [1, 2]], ['apisvc', [0]], ['apisvc1', [1]], ['apisvc2', [2]]]) {
    const pid = stack.procs.get(name).pid;
    process.kill(pid, 'SIGSTOP');
    try {
      const st = await Promise.all(stack.urls.map(async u => (await get(`${u}/readyz`)).status));
      assert.deepEqual(st, stack.urls.map((_, i) => (lines.includes(i) ? 503 : 200)), `${name} stopped`);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  }
  await stack.ready();
  const views = await loggedIn('production');
  for (const [i, v] of views.entries()) {
    const before = logged(stack.numbered('apisvc', i));
    const r = await v.get('/test?api=extension', JSON_ACCEPT);
    assert.equal(r.status, 200, `line ${i}: ${r.text.slice(0, 200)}`);
    assert.equal(logged(stack.numbered('apisvc', i)), before + 1, `line ${i}'s apisvc made the call`);
  }
});

for (const [what, lines] of [['two apisvc, one authsvc', [1, 2]], ['two apisvc, two authsvc', [0, 1]],
                             ['three apisvc, two authsvc', [0, 1, 2]]]) {
  test(`30 concurrent requests on an expired token over ${what}: all 200, one refresh grant`, async () => {
    for (let round = 0; round < 3; round++) {
      const views = await loggedIn(round % 2 ? 'sandbox' : 'production');
      await mock.expireAll();
      // Rounds 1 and 2: the refresh takes 300 ms, so every process surely asks while it is under way.
      if (round) await mock.fault({ target: 'refresh', kind: 'slow', delay_ms: 300, count: 1 });
      const d = await burst(views, lines);
      assert.equal(d('token.refresh.ok'), 1, `round ${round}`);
      assert.equal(d('token.refresh.rotated_reuse'), 0, `round ${round}`);
      assert.equal(d('token.refresh.rejected'), 0, `round ${round}`);
    }
  });

  test(`30 concurrent requests on a token within 60 s of expiry over ${what}: one refresh, no 401`, async () => {
    for (let round = 0; round < 3; round++) {
      await mock.config({ access_ttl: 30 });
      let views;
      try {
        views = await loggedIn(round % 2 ? 'sandbox' : 'production');
      } finally {
        await mock.config({ access_ttl: 3600 });
      }
      const d = await burst(views, lines);
      assert.equal(d('token.refresh.ok'), 1, `round ${round}`);
      assert.equal(d('token.refresh.rotated_reuse'), 0, `round ${round}`);
      assert.equal(d('api.unauthorized'), 0, `round ${round}`);
    }
  });
}

test('a 429 with Retry-After 30 holds the session back in every apisvc process', async () => {
  const views = await loggedIn('sandbox');
  await mock.fault({ target: 'api', kind: '429', count: 1, retry_after: 30 });
  const r = await views[1].get('/test?api=extension', JSON_ACCEPT);
  assert.equal(r.status, 429);
  assert.equal(r.headers.get('retry-after'), '30');
  const c0 = apiCalls(await counters());
  const again = await views[1].get('/test?api=extension', JSON_ACCEPT);
  assert.equal(again.status, 429, 'the same apisvc holds back');
  assert.equal(apiCalls(await counters()), c0);
  const other = await views[2].get('/test?api=extension', JSON_ACCEPT);
  assert.equal(other.status, 429, `another apisvc process: ${other.status}`);
  assert.equal(apiCalls(await counters()), c0, 'another apisvc process did not call RingCentral either');
  assert.ok(Number(other.headers.get('retry-after')) > 25 && Number(other.headers.get('retry-after')) <= 30,
            `Retry-After from the shared hold: ${other.headers.get('retry-after')}`);
  // Line 0 has its own authsvc: the hold is in the session record, not in one authsvc's memory.
  const third = await views[0].get('/test?api=account-call-log', JSON_ACCEPT);
  assert.equal(third.status, 429, `line 0: ${third.status}`);
  assert.equal(apiCalls(await counters()), c0, 'no apisvc process called RingCentral');
  // Another session is not held back.
  const free = await loggedIn('sandbox');
  const ok = await free[2].get('/test?api=extension', JSON_ACCEPT);
  assert.equal(ok.status, 200, ok.text.slice(0, 200));
});

test('the 429 hold survives an apisvc restart', async () => {
  const views = await loggedIn('production');
  await mock.fault({ target: 'api', kind: '429', count: 1, retry_after: 30 });
  const r = await views[1].get('/test?api=extension-call-log', JSON_ACCEPT);
  assert.equal(r.status, 429);
  assert.equal(r.headers.get('retry-after'), '30');
  await stack.restart('apisvc1');
  const c0 = apiCalls(await counters());
  const l0 = logged('apisvc1');
  const again = await views[1].get('/test?api=extension', JSON_ACCEPT);
  assert.equal(again.status, 429, `after the restart: ${again.status} ${again.text.slice(0, 200)}`);
  const ra = Number(again.headers.get('retry-after'));
  assert.ok(ra > 0 && ra <= 30, `Retry-After ${ra}`);
  assert.equal(apiCalls(await counters()), c0, 'the restarted apisvc did not call RingCentral');
  assert.equal(logged('apisvc1'), l0);
});
