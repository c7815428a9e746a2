// Issue 11: supervision (deploy/supervise under deploy/start), logs reopened on SIGHUP, deploy/status
// and make stop, and a failing deploy/start that leaves the serving processes alone. The stack is
// deploy/start's own, with its own RUN_DIR, DATA_DIR and ports (as in deploy.test.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, renameSync, existsSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitFor, runCommand } from './lib/stack.mjs';
import { Browser } from './lib/browser.mjs';
import { slack } from './lib/timing.mjs';

const BUILD = process.env.BUILD || 'build';
const PROCESSES = ['authsvc', 'apisvc', 'gateway', 'nginx', 'mockrc'];
const REQUEST_BOUND_MS = 15000;   // no request may take longer (client side); the stack's own bounds are shorter
const BACK_WITHIN_MS = 3000;
let s;
let cookies = [];   // the sessions of the load test

const run = runCommand;
const deploy = (script, env = s.env) => run(`deploy/${script}`, [], env);

const pidOf = name => { try { return Number(readFileSync(join(s.env.RUN_DIR, `${name}.pid`), 'utf8')) || 0; } catch { return 0; } };
const supervisorOf = name => { try { return Number(readFileSync(join(s.env.RUN_DIR, `${name}.supervise.pid`), 'utf8')) || 0; } catch { return 0; } };
// Alive and not a zombie.
const alive = pid => { try { return pid > 0 && readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z'; } catch { return false; } };
const logOf = (name, suffix = '') => { try { return readFileSync(join(s.env.RUN_DIR, `${name}.log${suffix}`), 'utf8'); } catch { return ''; } };

// One logged-in API call through the public port, bounded on the client side: { status, ms, timedOut, error }.
async function apiCall(cookie, boundMs = REQUEST_BOUND_MS) {
  const t0 = Date.now();
  try {
    const r = await fetch(`${s.url}/test?api=extension`, {
      headers: { cookie, accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(boundMs),
    });
    await r.text();
    return { status: r.status, ms: Date.now() - t0 };
  } catch (e) {
    const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
    return { status: 0, ms: Date.now() - t0, timedOut, error: e.message };
  }
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rcsupervise-'));
  const port = await freePort(), mockPort = await freePort(), metricsPort = await freePort();
  const env = {
    RUN_DIR: join(dir, 'run'), DATA_DIR: join(dir, 'data'), RC_ENV_DIR: join(dir, 'environment'),
    GATEWAY_PORT: String(port), MOCK_PORT: String(mockPort), METRICS_PORT: String(metricsPort),
    PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'info',
  };
  s = { dir, env, url: `http://127.0.0.1:${port}`, mockUrl: `http://127.0.0.1:${mockPort}` };
  const r = await deploy('start');
  assert.equal(r.code, 0, r.out);
});

after(async () => {
  if (!s) return;
  await deploy('stop');
  if (!process.env.TEST_KEEP_TMP) rmSync(s.dir, { recursive: true, force: true });
});

test('kill -9 of each process under steady load: back by itself within 3 s, no session lost, no request hangs', async () => {
  const browsers = [];
  for (let i = 0; i < 4; i++) {
    const b = new Browser(s.url);
    await b.login('sandbox');
    browsers.push(b);
  }
  cookies = browsers.map(b => b.cookieHeader());
  for (const c of cookies) assert.equal((await apiCall(c)).status, 200, 'logged in');

  // Four clients calling the API in a loop until told to stop.
  const results = [];
  let loading = true;
  const clients = cookies.map(async c => {
    while (loading) results.push(await apiCall(c));
  });

  const back = {};
  try {
    for (const name of PROCESSES) {
      const old = pidOf(name), supervisor = supervisorOf(name);
      assert.ok(alive(old), `${name} runs (pid ${old})`);
      const t0 = Date.now();
      process.kill(old, 'SIGKILL');
      // Back: a new process in the pid file, and the stack answers through it.
      const pid = await waitFor(() => { const p = pidOf(name); return p !== old && alive(p) && p; },
        { timeoutMs: BACK_WITHIN_MS, what: `${name} restarted` });
      if (name === 'mockrc') {
        await waitFor(async () => (await fetch(`${s.mockUrl}/_mock/health`, { signal: AbortSignal.timeout(1000) })).ok,
          { timeoutMs: BACK_WITHIN_MS - (Date.now() - t0), what: 'the mock answers' });
      } else {
        await waitFor(async () => (await apiCall(cookies[0], 2000)).status === 200,
          { timeoutMs: BACK_WITHIN_MS - (Date.now() - t0), what: `an API call through the new ${name}` });
      }
      back[name] = Date.now() - t0;
      assert.ok(back[name] <= BACK_WITHIN_MS, `${name} back in ${back[name]} ms`);
      assert.equal(supervisorOf(name), supervisor, `${name}'s supervisor is the same process`);
      assert.match(logOf(name), new RegExp(`svc=supervise ev=exited name=${name} pid=${old} signal=9 `));
      // (The supervisor writes the pid file, then the line.)
      await waitFor(() => new RegExp(`svc=supervise ev=restart name=${name} pid=${pid} restarts=1`).test(logOf(name)),
        { timeoutMs: 2000, what: `${name}'s restart line` });
      // The mock keeps its tokens only in memory (unless it keeps its state in RUN_DIR): the
      // sessions are checked before it is killed.
      if (name === 'nginx') {
        for (const [i, c] of cookies.entries()) {
          const r = await apiCall(c);
          assert.equal(r.status, 200, `client ${i}'s session works after the kills (${r.status} ${r.error || ''})`);
        }
      }
    }
  } finally {
    loading = false;
    await Promise.all(clients);
  }
  const hung = results.filter(r => r.timedOut);
  assert.deepEqual(hung, [], `no request reached the ${REQUEST_BOUND_MS} ms bound`);
  const ok = results.filter(r => r.status === 200).length;
  assert.ok(ok >= 20, `the load ran (${ok} answered 200 of ${results.length})`);
  const slowest = Math.max(...results.map(r => r.ms));
  console.log(`# back after kill -9 (ms): ${JSON.stringify(back)}; ${results.length} requests, ${ok} x 200, slowest ${slowest} ms`);

  const st = await deploy('status');
  assert.equal(st.code, 0, st.out);
  for (const name of PROCESSES) assert.match(st.out, new RegExp(`^${name}\\s+running .*restarted 1 time.* after signal=9$`, 'm'), st.out);
});

// The demo's mock keeps the tokens it issued in RUN_DIR/mockrc.state (saved within a second of a change):
// after its kill -9 and restart by its supervisor, the sessions made before still work.
test('the sessions survive a kill -9 of the mock RingCentral (its state in RUN_DIR)', async () => {
  assert.ok(cookies.length > 0);
  for (const c of cookies) assert.equal((await apiCall(c)).status, 200);
});

// Readiness follows a dead service and its return with no manual step. The supervisor restarts a process in
// 0.2 s and the gateway's queued PING then reaches the new one, so the outage may never show: the test holds
// the supervisor (SIGSTOP) for the window, then lets it go on (SIGCONT) and does nothing else.
test('/readyz turns 503 within 1 s of a service killed, naming it, and 200 again once its supervisor brought it back', async () => {
  const readyz = async () => {
    const r = await fetch(`${s.url}/readyz`, { signal: AbortSignal.timeout(5000) });
    return { status: r.status, body: await r.json().catch(() => null) };
  };
  await waitFor(async () => (await readyz()).status === 200, { timeoutMs: 5000, what: 'ready' });
  for (const name of ['apisvc', 'authsvc']) {
    const old = pidOf(name), supervisor = supervisorOf(name);
    process.kill(supervisor, 'SIGSTOP');
    try {
      const t0 = Date.now();
      process.kill(old, 'SIGKILL');
      const down = await waitFor(async () => { const r = await readyz(); return r.status === 503 && r; },
        { timeoutMs: 3000, what: `/readyz 503 after ${name} was killed` });
      const ms = Date.now() - t0;
      assert.ok(ms <= 1000 + slack(500), `503 within 1 s (+ the probe's own round trip): ${ms} ms`);
      assert.equal(down.body.checks[name].status, 'fail', JSON.stringify(down.body));
      assert.ok(down.body.checks[name].reason, 'a reason');
      const text = JSON.stringify(down.body);
      assert.ok(!text.includes(s.dir) && !/\bpid\b/.test(text), `no pid or path in the body: ${text}`);
    } finally {
      process.kill(supervisor, 'SIGCONT');
    }
    const t1 = Date.now();
    await waitFor(async () => (await readyz()).status === 200, { timeoutMs: 5000, what: `/readyz 200 after ${name} came back` });
    assert.notEqual(pidOf(name), old, `${name} was started again by its supervisor`);
    console.log(`# ${name}: /readyz 200 again ${Date.now() - t1} ms after its supervisor went on`);
  }
});

test('SIGHUP makes each process open its log file again (logrotate); nginx does on SIGUSR1', async () => {
  const pids = Object.fromEntries(PROCESSES.map(n => [n, pidOf(n)]));
  for (const name of PROCESSES) {
    renameSync(join(s.env.RUN_DIR, `${name}.log`), join(s.env.RUN_DIR, `${name}.log.1`));
    process.kill(pids[name], name === 'nginx' ? 'SIGUSR1' : 'SIGHUP');
  }
  // New lines: the gateway and the mock say they reopened; a login start logs in the gateway and
  // authsvc, an API call in apisvc.
  await waitFor(() => /ev=log\.reopen ok=1/.test(logOf('gateway')) && /ev=log\.reopen ok=1/.test(logOf('mockrc')),
    { what: 'log.reopen lines in the new files' });
  const b = new Browser(s.url);
  await b.login('sandbox');
  assert.equal((await apiCall(b.cookieHeader())).status, 200);
  await waitFor(() => /ev=http .*route=\/login/.test(logOf('gateway')) && /ev=auth_url\.ok/.test(logOf('authsvc')) &&
    /ev=api\.call /.test(logOf('apisvc')), { what: 'the request lines in the new files' });
  for (const name of ['gateway', 'mockrc']) assert.doesNotMatch(logOf(name, '.1'), /ev=log\.reopen/, `${name}: the moved file has no new line`);
  assert.ok(logOf('authsvc', '.1').length > 0 && logOf('apisvc', '.1').length > 0, 'the moved files keep the old lines');
  assert.ok(existsSync(join(s.env.RUN_DIR, 'nginx.log')), 'nginx opened a new error log');
  // nginx logs the requests it refuses beyond the login rate (a burst of 20): there, in the new file.
  const refused = await Promise.all(Array.from({ length: 30 }, () =>
    fetch(`${s.url}/login?env=sandbox`, { signal: AbortSignal.timeout(5000) }).then(r => r.text().then(() => r.status))));
  assert.ok(refused.includes(429), 'some were refused');
  await waitFor(() => /limiting requests/.test(logOf('nginx')), { what: 'nginx\'s line in the new nginx.log' });
  assert.doesNotMatch(logOf('nginx', '.1'), /limiting requests/);
  // A signal that only reopens: the same processes, nothing restarted.
  for (const name of PROCESSES) assert.equal(pidOf(name), pids[name], `${name} still the same process`);
  // The supervisor's own lines go to the new file too (it opens the file for each line).
  process.kill(pidOf('apisvc'), 'SIGKILL');
  await waitFor(() => /svc=supervise ev=restart name=apisvc/.test(logOf('apisvc')), { what: 'the supervisor line in the new file' });
  await waitFor(async () => (await apiCall(b.cookieHeader(), 2000)).status === 200, { what: 'apisvc back' });
});

test('deploy/logrotate, run by logrotate: each log moved aside, the processes write to new files, nothing restarted', async () => {
  const pids = Object.fromEntries(PROCESSES.map(n => [n, pidOf(n)]));
  // The example with this checkout and this stack's RUN_DIR; run as this user (no su, no chown).
  const conf = readFileSync('deploy/logrotate', 'utf8')
    .replaceAll('/srv/rcauth/var/run', s.env.RUN_DIR).replaceAll('/srv/rcauth', process.cwd())
    .replace(/^\s*su .*$/m, '').replace(/^(\s*create 0600).*$/m, '$1');
  const confFile = join(s.dir, 'logrotate.conf');
  writeFileSync(confFile, conf);
  const b = new Browser(s.url);
  await b.login('sandbox');
  const SERVICES = ['gateway', 'authsvc', 'apisvc', 'mockrc'];
  const before = Object.fromEntries(SERVICES.map(n => [n, logOf(n)]));
  for (const n of SERVICES) assert.ok(before[n].length > 0, `${n}.log has lines to rotate`);
  const r = await run('/usr/sbin/logrotate', ['-f', '-s', join(s.dir, 'logrotate.state'), confFile], {});
  assert.equal(r.code, 0, r.out);
  for (const n of SERVICES) assert.ok(logOf(n, '.1').startsWith(before[n]), `${n}.log moved to ${n}.log.1`);
  // New lines go to the new files.
  assert.equal((await apiCall(b.cookieHeader())).status, 200);
  await waitFor(() => /ev=http .*route=\/test/.test(logOf('gateway')) && /ev=api\.call /.test(logOf('apisvc')),
    { what: 'new lines in the new gateway.log and apisvc.log' });
  await waitFor(() => /ev=log\.reopen/.test(logOf('mockrc')), { what: 'the mock reopened' });
  for (const name of PROCESSES) assert.equal(pidOf(name), pids[name], `${name} still the same process`);
});

test('deploy/status names what is down and exits 1; a failing deploy/start leaves the serving processes running', async () => {
  // apisvc and its supervisor killed: nothing brings it back.
  const sup = supervisorOf('apisvc'), pid = pidOf('apisvc');
  process.kill(sup, 'SIGKILL');
  process.kill(pid, 'SIGKILL');
  await waitFor(() => !alive(pid) && !alive(sup), { what: 'apisvc gone' });
  let st = await deploy('status');
  assert.equal(st.code, 1, st.out);
  assert.match(st.out, /^apisvc\s+stopped$/m);
  assert.match(st.out, /^status: down: apisvc$/m);
  assert.match(st.out, /^gateway\s+running/m);

  // deploy/start to bring it back, but apisvc cannot start (a build whose apisvc exits at once).
  const serving = Object.fromEntries(['authsvc', 'gateway', 'nginx', 'mockrc'].map(n => [n, pidOf(n)]));
  const broken = join(s.dir, 'broken-build');
  mkdirSync(join(broken, 'bin'), { recursive: true });
  for (const n of ['authsvc', 'gateway', 'mockrc']) symlinkSync(resolve(BUILD, 'bin', n), join(broken, 'bin', n));
  writeFileSync(join(broken, 'bin', 'apisvc'), '#!/bin/sh\necho "apisvc: cannot start (test)" >&2\nexit 1\n');
  chmodSync(join(broken, 'bin', 'apisvc'), 0o755);
  const r = await run('deploy/start', [], { ...s.env, BUILD: broken });
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.out, /apisvc exited during start \(exit=1\)/);
  assert.match(r.out, /cannot start \(test\)/, 'the log tail is shown');
  assert.match(r.out, /stopped what this run started \(apisvc\)/);
  for (const [n, p] of Object.entries(serving)) assert.ok(alive(p) && pidOf(n) === p, `${n} (pid ${p}) still runs`);
  assert.ok(!alive(supervisorOf('apisvc')), 'the supervisor it started is gone');
  const home = await fetch(s.url + '/', { signal: AbortSignal.timeout(5000) });
  assert.equal(home.status, 200, 'the stack still serves');

  // The mock down too: status names both.
  process.kill(supervisorOf('mockrc'), 'SIGKILL');
  process.kill(pidOf('mockrc'), 'SIGKILL');
  await waitFor(() => !alive(pidOf('mockrc')), { what: 'mockrc gone' });
  st = await deploy('status');
  assert.equal(st.code, 1, st.out);
  assert.match(st.out, /^status: down: mockrc apisvc$/m);

  // A good deploy/start brings back what is missing and leaves the rest.
  const again = await deploy('start');
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, /gateway already running/);
  for (const n of ['authsvc', 'gateway', 'nginx']) assert.equal(pidOf(n), serving[n], `${n} untouched`);
  st = await deploy('status');
  assert.equal(st.code, 0, st.out);
});

test('make stop says what it stopped, then that nothing was running', async () => {
  const pids = PROCESSES.map(pidOf), sups = PROCESSES.map(supervisorOf);
  const r = await run('make', ['-s', 'stop'], s.env);
  assert.equal(r.code, 0, r.out);
  for (const [i, name] of PROCESSES.entries()) assert.match(r.out, new RegExp(`^stop: ${name} \\(pid ${pids[i]}\\) stopped$`, 'm'));
  for (const p of [...pids, ...sups]) {
    let cmd = '';
    try { cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' '); } catch {}
    assert.ok(!alive(p), `process ${p} is gone (${cmd}; out: ${r.out})`);
  }
  const none = await run('make', ['-s', 'stop'], s.env);
  assert.equal(none.code, 0, none.out);
  assert.match(none.out, /^stop: nothing was running/m);
  const st = await deploy('status');
  assert.equal(st.code, 1);
  assert.match(st.out, /^status: down: mockrc authsvc apisvc gateway nginx$/m);
});

// deploy/supervise on its own: back-off, the log lines, SIGTERM passed on and bounded.
test('deploy/supervise: a process that keeps dying is restarted with a growing delay; SIGTERM stops it, SIGKILL after STOP_TIMEOUT', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rcsup-'));
  const env = { ...process.env, RUN_DIR: dir, STOP_TIMEOUT: '1' };
  try {
    const flappy = spawn('deploy/supervise', ['flappy', 'sh', '-c', 'exit 3'], { env, stdio: 'ignore' });
    const exited = new Promise(r => flappy.on('exit', (code, sig) => r({ code, sig })));
    const log = () => { try { return readFileSync(join(dir, 'flappy.log'), 'utf8'); } catch { return ''; } };
    await waitFor(() => /restarts=3\n/.test(log()), { timeoutMs: 5000, what: 'three restarts' });
    const delays = [...log().matchAll(/ev=exited name=flappy pid=\d+ exit=3 ran_ms=\d+ restart_in_ms=(\d+)/g)].map(m => Number(m[1]));
    assert.deepEqual(delays.slice(0, 3), [200, 400, 800]);
    assert.equal(readFileSync(join(dir, 'flappy.restarts'), 'utf8').trim(), `${delays.length} exit=3`);
    const t0 = Date.now();
    flappy.kill('SIGTERM');
    assert.deepEqual(await exited, { code: 0, sig: null });
    assert.ok(Date.now() - t0 < 1000, 'a SIGTERM during the delay ends it at once');
    assert.ok(!existsSync(join(dir, 'flappy.supervise.pid')));

    // A process that ignores SIGTERM: killed after STOP_TIMEOUT, and not restarted.
    const stubborn = spawn('deploy/supervise',
      ['stubborn', 'sh', '-c', 'trap "" TERM; touch "$RUN_DIR/stubborn.ready"; while :; do sleep 0.1; done'], { env, stdio: 'ignore' });
    const gone = new Promise(r => stubborn.on('exit', (code, sig) => r({ code, sig })));
    const child = await waitFor(() => { try { return Number(readFileSync(join(dir, 'stubborn.pid'), 'utf8')); } catch { return 0; } },
      { what: 'stubborn started' });
    await waitFor(() => alive(child) && existsSync(join(dir, 'stubborn.ready')), { what: 'stubborn ignores SIGTERM' });
    const t1 = Date.now();
    stubborn.kill('SIGTERM');
    assert.deepEqual(await gone, { code: 0, sig: null });
    const took = Date.now() - t1;
    assert.ok(took >= 900 && took < 3000, `killed after STOP_TIMEOUT (${took} ms)`);
    assert.ok(!alive(child), 'the process is gone');
    const text = readFileSync(join(dir, 'stubborn.log'), 'utf8');
    assert.match(text, new RegExp(`ev=stop.kill name=stubborn pid=${child} `));
    assert.doesNotMatch(text, /ev=restart /);

    // SIGTERM at once, while the supervisor is still between commands (bash runs a trap only then):
    // the process still gets it, and the supervisor ends at once, each time.
    for (let i = 0; i < 10; i++) {
      rmSync(join(dir, 'quick.pid'), { force: true });
      const quick = spawn('deploy/supervise', ['quick', 'sleep', '30'], { env, stdio: 'ignore' });
      const ended = new Promise(r => quick.on('exit', (code, sig) => r({ code, sig })));
      await waitFor(() => existsSync(join(dir, 'quick.pid')), { intervalMs: 2, what: 'quick started' });
      const t2 = Date.now();
      quick.kill('SIGTERM');
      const timer = setTimeout(() => quick.kill('SIGKILL'), 5000);
      assert.deepEqual(await ended, { code: 0, sig: null }, `round ${i}`);
      clearTimeout(timer);
      assert.ok(Date.now() - t2 < 2000, `round ${i}: ended in ${Date.now() - t2} ms`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
