// Issue 11 items 1-3: /healthz and /readyz, the metrics port (parsed by the Prometheus project's own
// parser) and its counters moving by exactly what was done, the access line's request id, and
// /readyz failing within its bound, naming apisvc, once apisvc is killed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startMockedStack, get, waitFor } from './lib/stack.mjs';
import { Browser } from './lib/browser.mjs';
import { slack } from './lib/timing.mjs';

let mock, stack;

before(async () => {
  ({ mock, stack } = await startMockedStack({ env: { LOG_LEVEL: 'debug' } }));
});

after(async () => {
  await stack?.stop();
  await mock?.stop();
});

// Scrape the metrics port and parse it with prometheus_client (Debian's python3-prometheus-client):
// { samples: [[name, labels, value]], families }, and value(name, labels) summing the samples that match.
async function scrape() {
  const r = await get(stack.metricsUrls[0]);
  assert.equal(r.status, 200, r.text.slice(0, 300));
  assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const parsed = JSON.parse(execFileSync('/usr/bin/python3', ['tests/integration/lib/parse_metrics.py'],
    { input: r.text, encoding: 'utf8' }));
  parsed.value = (name, labels = {}) => parsed.samples
    .filter(([n, l]) => n === name && Object.entries(labels).every(([k, v]) => l[k] === v))
    .reduce((sum, [, , v]) => sum + v, 0);
  parsed.text = r.text;
  return parsed;
}

// What moved between two scrapes, for one series.
const moved = (a, b, name, labels) => b.value(name, labels) - a.value(name, labels);

test('/healthz is 200 with a status and nothing else, on the gateway and through the front', async () => {
  for (const u of [stack.internalUrls[0], stack.url]) {
    const r = await get(`${u}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text), { status: 'ok' });
  }
});

test('/readyz is 200 with every check ok (no pid, no path), on the gateway and through the front', async () => {
  for (const u of [stack.internalUrls[0], stack.url]) {
    const { status, body } = await stack.readyz(u);
    assert.equal(status, 200);
    assert.deepEqual(body, { status: 'ok', checks: {
      authsvc: { status: 'ok' }, apisvc: { status: 'ok' }, store: { status: 'ok' }, config: { status: 'ok' } } });
  }
  // Probes are logged at debug, never at info.
  await waitFor(() => /lvl=debug svc=gateway ev=http method=GET route=\/readyz status=200 /.test(stack.log('gateway')),
    { what: 'the /readyz access line at debug' });
  assert.doesNotMatch(stack.log('gateway'), /lvl=info svc=gateway ev=http method=GET route=\/(readyz|healthz) /);
});

test('after one login, three API calls, one forced refresh, one 429 and one logout the counters moved by exactly those', async () => {
  const b = new Browser(stack.url);
  const m0 = await scrape();
  await b.login('sandbox');
  const m1 = await scrape();
  assert.equal(moved(m0, m1, 'rcauth_oauth_token_requests_total', { grant: 'authorization_code', result: 'ok' }), 1);
  assert.equal(moved(m0, m1, 'rcauth_oauth_token_requests_total', {}), 1, 'no other token call');
  assert.equal(moved(m0, m1, 'rcauth_http_requests_total', { route: '/oauth2callback', code: '200' }), 1);
  assert.equal(moved(m0, m1, 'rcauth_http_requests_total', { route: '/login', code: '200' }), 1);
  assert.equal(moved(m0, m1, 'rcauth_sessions', { service: 'authsvc' }), 1);

  for (const api of ['extension', 'extension-call-log', 'account-call-log'])
    assert.equal((await b.get(`/test?api=${api}`)).status, 200);
  const m2 = await scrape();
  assert.equal(moved(m1, m2, 'rcauth_http_requests_total', { route: '/test', code: '200' }), 3);
  assert.equal(moved(m1, m2, 'rcauth_http_request_duration_seconds_count', { route: '/test' }), 3);
  for (const api of ['extension', 'extension-call-log', 'account-call-log']) {
    assert.equal(moved(m1, m2, 'rcauth_ringcentral_requests_total', { api, code: '200' }), 1, api);
    assert.equal(moved(m1, m2, 'rcauth_ringcentral_request_duration_seconds_count', { api }), 1, api);
  }
  assert.equal(moved(m1, m2, 'rcauth_ringcentral_requests_total', {}), 3);
  assert.equal(moved(m1, m2, 'rcauth_rpc_requests_total', { service: 'apisvc', result: 'ok' }), 3);
  assert.equal(moved(m1, m2, 'rcauth_oauth_token_requests_total', {}), 0);

  await mock.expireAll();     // RingCentral forgets the access token: the next call is refused, refreshed, made again
  assert.equal((await b.get('/test?api=extension')).status, 200);
  const m3 = await scrape();
  assert.equal(moved(m2, m3, 'rcauth_oauth_token_requests_total', { grant: 'refresh_token', result: 'ok' }), 1);
  assert.equal(moved(m2, m3, 'rcauth_oauth_token_requests_total', {}), 1);
  assert.equal(moved(m2, m3, 'rcauth_ringcentral_requests_total', { api: 'extension', code: '401' }), 1);
  assert.equal(moved(m2, m3, 'rcauth_ringcentral_requests_total', { api: 'extension', code: '200' }), 1);
  assert.equal(moved(m2, m3, 'rcauth_upstream_retries_total', { reason: 'token_rejected' }), 1);
  assert.ok(m3.value('rcauth_refresh_last_success_timestamp_seconds') * 1000 > Date.now() - 60000);

  await mock.fault({ target: 'api', kind: '429', count: 1, retry_after: 30 });
  const limited = await b.get('/test?api=extension-call-log');
  assert.equal(limited.status, 429);
  // apisvc's HOLD to authsvc carries the request's id too: the page's reference finds authsvc's line.
  const ref = (limited.text.match(/<code data-ref>([0-9a-f]+)<\/code>/) || [])[1];
  assert.ok(ref, 'the 429 page shows a reference');
  await waitFor(() => new RegExp(`svc=authsvc ev=hold\\.ok rid=${ref} `).test(stack.log('authsvc')), { what: 'hold.ok rid=' });
  const m4 = await scrape();
  assert.equal(moved(m3, m4, 'rcauth_http_requests_total', { route: '/test', code: '429' }), 1);
  assert.equal(moved(m3, m4, 'rcauth_ringcentral_requests_total', { api: 'extension-call-log', code: '429' }), 1);
  assert.equal(moved(m3, m4, 'rcauth_rate_limit_holds_total', {}), 1);
  assert.equal(moved(m3, m4, 'rcauth_upstream_retries_total', {}), 0);
  assert.equal(moved(m3, m4, 'rcauth_rpc_requests_total', { service: 'apisvc', result: 'error' }), 1);

  const csrf = Browser.csrf((await b.get('/test')).text);
  const out = await b.post('/logout', { csrf });
  assert.equal(out.status, 303);
  const m5 = await scrape();
  assert.equal(moved(m4, m5, 'rcauth_oauth_token_requests_total', { grant: 'revoke', result: 'ok' }), 1);
  assert.equal(moved(m4, m5, 'rcauth_oauth_token_requests_total', {}), 1);
  assert.equal(moved(m4, m5, 'rcauth_http_requests_total', { route: '/logout', code: '303' }), 1);
  assert.equal(moved(m4, m5, 'rcauth_sessions', { service: 'authsvc' }), -1);
  // Scrapes and probes are not calls of the services: nothing moved while only they ran.
  const m6 = await scrape();
  await stack.readyz();
  const m7 = await scrape();
  assert.equal(moved(m6, m7, 'rcauth_rpc_requests_total', {}), 0);
});

test('the metrics parse with Prometheus\' parser: every process, its service label, the listed names', async () => {
  const m = await scrape();
  for (const svc of ['gateway', 'authsvc', 'apisvc']) {
    for (const name of ['rcauth_process_resident_memory_bytes', 'rcauth_process_cpu_seconds_total',
                        'rcauth_process_start_time_seconds'])
      assert.ok(m.samples.some(([n, l, v]) => n === name && l.service === svc && v > 0), `${name} of ${svc}`);
    assert.ok(m.samples.some(([n, l, v]) => n === 'rcauth_build_info' && l.service === svc && l.version && v === 1));
    if (svc !== 'gateway') assert.equal(m.value('rcauth_service_up', { service: svc }), 1);
  }
  for (const [name, type] of [['rcauth_http_requests', 'counter'], ['rcauth_http_request_duration_seconds', 'histogram'],
    ['rcauth_http_in_flight', 'gauge'], ['rcauth_http_busy_workers', 'gauge'], ['rcauth_rpc_requests', 'counter'],
    ['rcauth_rpc_duration_seconds', 'histogram'], ['rcauth_oauth_token_requests', 'counter'],
    ['rcauth_oauth_token_duration_seconds', 'histogram'], ['rcauth_refresh_coalesced', 'counter'],
    ['rcauth_refresh_last_success_timestamp_seconds', 'gauge'], ['rcauth_refresh_last_failure_timestamp_seconds', 'gauge'],
    ['rcauth_sessions', 'gauge'], ['rcauth_pending_logins', 'gauge'], ['rcauth_store_map_used_ratio', 'gauge'],
    ['rcauth_store_readers', 'gauge'], ['rcauth_store_commit_duration_seconds', 'histogram'],
    ['rcauth_ringcentral_requests', 'counter'], ['rcauth_ringcentral_request_duration_seconds', 'histogram'],
    ['rcauth_rate_limit_holds', 'counter'], ['rcauth_upstream_retries', 'counter']])
    assert.equal(m.families[name]?.type, type, `${name} is a ${type}`);
  assert.ok(m.value('rcauth_http_in_flight', { service: 'gateway' }) >= 0);
  assert.ok(m.value('rcauth_store_map_used_ratio', { service: 'authsvc' }) > 0);
  assert.doesNotMatch(m.text, /pid|\/tmp\//, 'no pids or paths');
});

test('an error page\'s reference is the request id on the gateway\'s access line and on apisvc\'s line', async () => {
  const b = new Browser(stack.url);
  await b.login('production');
  await mock.fault({ target: 'extension', kind: '500', count: 1 });
  const r = await b.get('/test?api=extension');
  assert.equal(r.status, 502);
  const ref = (r.text.match(/<code data-ref>([0-9a-f]+)<\/code>/) || [])[1];
  assert.ok(ref, 'the page shows a reference');
  const line = re => stack.log('gateway').split('\n').concat(stack.log('apisvc').split('\n')).find(l => re.test(l));
  await waitFor(() => line(new RegExp(`ev=http .* rid=${ref}$`)), { what: 'the access line' });
  const access = line(new RegExp(`ev=http .* rid=${ref}$`));
  assert.match(access, /lvl=info svc=gateway ev=http method=GET route=\/test status=502 ms=\d+ bytes=\d+ client=127\.0\.0\.1 rid=/);
  assert.ok(Number(access.match(/bytes=(\d+)/)[1]) > 500, 'bytes counts the page sent');
  assert.match(line(new RegExp(`svc=apisvc ev=api\\.call rid=${ref} `)), /api=extension status=500/);
  assert.match(line(new RegExp(`svc=apisvc ev=api\\.fail rid=${ref} `)), /code=UPSTREAM_ERROR/);
  // The same id went in the SESSION call to authsvc (logged at debug there when it is a plain read).
  assert.doesNotMatch(stack.allLogs(), new RegExp(`ref=${ref}`), 'one name for it: rid');
});

test('the metrics are on their own loopback port only: not through the front, not on the gateway\'s port', async () => {
  for (const u of [stack.url, stack.internalUrls[0]]) {
    const r = await get(`${u}/metrics`);
    assert.equal(r.status, 404, u);
    assert.doesNotMatch(r.text, /rcauth_/);
  }
  const other = await get(stack.metricsUrls[0].replace(/\/metrics$/, '/'));
  assert.equal(other.status, 404, 'the metrics port answers /metrics only');
  assert.match(stack.log('gateway'), new RegExp(`ev=server.start .*metrics=127\\.0\\.0\\.1:${stack.metricsUrls[0].match(/:(\d+)\//)[1]}`));
});

test('apisvc killed: /readyz is 503 within 1 s, naming apisvc, the others still ok; back once it is', async () => {
  await stack.kill('apisvc', 'SIGKILL');
  const t0 = Date.now();
  const { status, body } = await stack.readyz();
  const ms = Date.now() - t0;
  assert.equal(status, 503);
  assert.ok(ms < 1000 + slack(500), `answered in ${ms} ms`);
  assert.equal(body.status, 'fail');
  assert.equal(body.checks.apisvc.status, 'fail');
  assert.match(body.checks.apisvc.reason, /apisvc/);
  for (const c of ['authsvc', 'store', 'config']) assert.equal(body.checks[c].status, 'ok', c);
  assert.match(stack.log('gateway'), /lvl=warn svc=gateway ev=readyz.fail rid=[0-9a-f]+ failed=apisvc/);
  // The metrics still answer, saying whose figures are missing.
  const m = await scrape();
  assert.equal(m.value('rcauth_service_up', { service: 'apisvc' }), 0);
  assert.equal(m.value('rcauth_service_up', { service: 'authsvc' }), 1);
  stack.start('apisvc');      // (restarting it by itself is the supervisor's job)
  await stack.ready();
});

test('authsvc killed: /readyz is 503 within 1 s, naming authsvc and the checks it makes; back once it is', async () => {
  await stack.kill('authsvc', 'SIGKILL');
  const t0 = Date.now();
  const { status, body } = await stack.readyz();
  assert.ok(Date.now() - t0 < 1500, `answered in ${Date.now() - t0} ms`);
  assert.equal(status, 503);
  assert.match(body.checks.authsvc.reason, /authsvc/);
  for (const c of ['store', 'config']) assert.deepEqual(body.checks[c], { status: 'fail', reason: 'authsvc did not answer' });
  assert.deepEqual(body.checks.apisvc, { status: 'ok' });
  stack.start('authsvc');
  await stack.ready();
  assert.match(stack.log('gateway'), /lvl=info svc=gateway ev=readyz\.ok /);
});
