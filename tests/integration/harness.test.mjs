// The test harness itself (lib/stack.mjs, lib/mock.mjs): every port of a stack is the OS's pick, told
// through RUN_DIR (common/runfile.h) or held by the harness (the public sockets nginx inherits), so stacks
// start side by side; a sanitizer report in a log fails the stop() of whoever started the process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startMockedStack, get } from './lib/stack.mjs';
import { startMock, sanitizerReport } from './lib/mock.mjs';

const BUILD = process.env.BUILD || 'build';
let a, c;       // a: the default stack; c: bus 'tcp' without a metrics port. Started at once.

before(async () => {
  [a, c] = await Promise.all([startMockedStack(), startMockedStack({ bus: 'tcp', env: { METRICS_PORT: '0' } })]);
});
after(async () => {
  for (const s of [a, c]) {
    await s?.stack.stop().catch(() => {});     // a's stop is the last test's
    await s?.mock.stop();
  }
});

const file = (stack, name) => readFileSync(join(stack.runDir, name), 'utf8');

test('two stacks started at once: distinct ports, each reported in RUN_DIR, each serving', async () => {
  for (const { stack } of [a, c]) {
    assert.deepEqual(stack.ports, stack.front.ports);
    assert.equal(file(stack, 'gateway.port'), `${stack.internalPorts[0]}\n`);
    assert.match(stack.log('gateway'), new RegExp(`ev=server.start listen=127\\.0\\.0\\.1:${stack.internalPorts[0]} `));
    assert.equal((await get(`${stack.url}/healthz`)).status, 200);
    // nginx took the harness's socket (NGINX="3;"), it did not bind one of its own.
    assert.match(stack.log('nginx'), /using inherited sockets from "3;"/);
  }
  const all = [a, c].flatMap(({ stack }) => [stack.port, stack.internalPorts[0]]);
  assert.equal(new Set(all).size, all.length, `ports ${all}`);
});

test('METRICS_PORT unset: any port, written to RUN_DIR/gateway.metrics.port; METRICS_PORT=0: none, no file', async () => {
  const port = Number(file(a.stack, 'gateway.metrics.port'));
  assert.deepEqual(a.stack.metricsUrls, [`http://127.0.0.1:${port}/metrics`]);
  assert.match((await get(a.stack.metricsUrls[0])).text, /rcauth_/);
  assert.deepEqual(c.stack.metricsUrls, []);
  assert.ok(!existsSync(join(c.stack.runDir, 'gateway.metrics.port')));
  assert.match(c.stack.log('gateway'), /ev=server.start .*metrics=off/);
});

test('bus tcp://127.0.0.1:*: each service binds a port of its own and reports it; the clients got those', async () => {
  for (const [name, variable] of [['authsvc', 'AUTHSVC_ENDPOINT'], ['apisvc', 'APISVC_ENDPOINT']]) {
    const endpoint = file(c.stack, `${name}.endpoint`).trim();
    assert.match(endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(c.stack.env[variable], endpoint);
    assert.match(c.stack.log(name), new RegExp(`ev=svc.listen endpoint=${endpoint.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'));
  }
  assert.equal((await c.stack.readyz()).status, 200);   // the gateway reaches both on those endpoints
  // ipc endpoints are reported the same way.
  assert.equal(file(a.stack, 'authsvc.endpoint'), `ipc://${join(a.stack.runDir, 'authsvc.sock')}\n`);
});

test('nginx down and started again: the held port never closes, a connection made meanwhile is answered', async () => {
  const { stack } = a;
  const p = stack.procs.get('nginx');
  process.kill(-p.pid, 'SIGTERM');
  await p.exited;
  const pending = get(`${stack.url}/healthz`, { timeoutMs: 8000 });     // waits in the held socket's backlog
  stack.start('nginx');
  assert.equal((await pending).status, 200);
  await stack.ready();
});

test('a gateway started again keeps the ports its nginx and the metrics URL name', async () => {
  const { stack } = a;
  const before = [stack.internalPorts[0], stack.metricsUrls[0]];
  await stack.restart('gateway');
  assert.deepEqual([stack.internalPorts[0], stack.metricsUrls[0]], before);
  assert.equal(file(stack, 'gateway.port'), `${before[0]}\n`);
  assert.equal((await get(stack.metricsUrls[0])).status, 200);
});

test('sanitizerReport: finds ASan, LSan, TSan and UBSan reports, quotes from the first line on, ignores the rest', () => {
  const reports = [
    '==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010',
    '==4242==ERROR: LeakSanitizer: detected memory leaks',
    'WARNING: ThreadSanitizer: data race (pid=77)',
    'gateway/pages.c:12:5: runtime error: signed integer overflow: 2147483647 + 1 cannot be represented in type \'int\'',
    'SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior gateway/pages.c:12:5',
  ];
  for (const line of reports) {
    const text = `ts=1 lvl=info svc=gateway ev=start\n${line}\n    #0 0x55d in s_fn gateway/pages.c:12\n`;
    const r = sanitizerReport(text, 'gateway.log');
    assert.ok(r.startsWith('--- gateway.log:\n' + line), r);
    assert.match(r, /#0 0x55d in s_fn/);
    assert.doesNotMatch(r, /ev=start/);
  }
  assert.equal(sanitizerReport('ts=1 lvl=error svc=authsvc ev=exchange.fail reason=timeout\n', 'x'), '');
});

test('a mock whose log holds a sanitizer report: its stop() rejects, quoting it', async () => {
  // A mockrc that prints a report first, then is the real one.
  const dir = mkdtempSync(join(tmpdir(), 'harness-'));
  try {
    const bin = join(dir, 'bin', 'mockrc');
    mkdirSync(join(dir, 'bin'));
    writeFileSync(bin, `#!/bin/sh\necho '==99==ERROR: LeakSanitizer: detected memory leaks' >&2\n` +
                       `exec ${resolve(BUILD, 'bin', 'mockrc')} "$@"\n`);
    chmodSync(bin, 0o755);
    const mock = await startMock({ build: dir });
    await assert.rejects(mock.stop(), /sanitizer report in the mock's log:\n--- mockrc:\n==99==ERROR: LeakSanitizer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a sanitizer line in a service\'s log: the stack\'s stop() rejects, quoting it, and keeps the folder', async () => {
  const { stack } = a;
  appendFileSync(stack.logPath('apisvc'),
    '==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010\n    #0 0x55d in api_handle apisvc/api.c:10\n');
  await assert.rejects(stack.stop(), e => {
    assert.match(e.message, /sanitizer report in the stack's logs/);
    assert.match(e.message, /apisvc\.log:\n==4242==ERROR: AddressSanitizer: heap-use-after-free/);
    assert.match(e.message, /#0 0x55d in api_handle/);
    return true;
  });
  // Every process was stopped all the same; the logs are kept for reading.
  for (const p of stack.procs.values()) assert.ok(p.exitCode !== null || p.signalCode !== null);
  assert.ok(existsSync(stack.logPath('apisvc')));
  rmSync(stack.dir, { recursive: true, force: true });
});
