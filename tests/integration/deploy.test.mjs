// Issue 3: deploy/start, status and stop; demo mode; two stacks side by side.
import { test as nodeTest, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runCommand } from './lib/stack.mjs';
import { Browser } from './lib/browser.mjs';

// The cases are independent (each its own folders and ports): they run side by side (see the end).
const cases = [];
const test = (...args) => cases.push(args);

const BUILD = process.env.BUILD || 'build';
const stacks = [];

const run = (script, env) => runCommand(`deploy/${script}`, [], env);

async function newStack() {
  const dir = mkdtempSync(join(tmpdir(), 'rcdeploy-'));
  const port = await freePort(), mockPort = await freePort();
  const env = {
    RUN_DIR: join(dir, 'run'), DATA_DIR: join(dir, 'data'), RC_ENV_DIR: join(dir, 'environment'),
    GATEWAY_PORT: String(port), MOCK_PORT: String(mockPort), PUBLIC_URL: `http://127.0.0.1:${port}`,
    METRICS_PORT: String(await freePort()),
  };
  const s = { dir, env, url: `http://127.0.0.1:${port}` };
  stacks.push(s);
  return s;
}

after(async () => {
  for (const s of stacks) {
    await run('stop', s.env);
    if (!process.env.TEST_KEEP_TMP) rmSync(s.dir, { recursive: true, force: true });
  }
});

test('two demo-mode stacks start side by side, answer, report status, and stop', async () => {
  const a = await newStack(), b = await newStack();
  const [ra, rb] = await Promise.all([run('start', a.env), run('start', b.env)]);
  assert.equal(ra.code, 0, ra.out);
  assert.equal(rb.code, 0, rb.out);
  assert.match(ra.out, /DEMO MODE/);
  for (const s of [a, b]) {
    const home = await (await fetch(s.url + '/')).text();
    assert.match(home, /demo mode/i, 'the main page says demo mode');
    const st = await run('status', s.env);
    assert.equal(st.code, 0, st.out);
    for (const name of ['mockrc', 'authsvc', 'apisvc', 'gateway', 'nginx']) assert.match(st.out, new RegExp(`${name}\\s+running`));
    assert.match(readFileSync(join(s.env.RUN_DIR, 'authsvc.log'), 'utf8'), /DEMO MODE/);
  }
  // A login through stack a works and does not exist in stack b.
  const br = new Browser(a.url);
  await br.login('sandbox');
  assert.equal((await br.get('/test')).status, 200);
  const other = new Browser(b.url);
  other.cookies = new Map(br.cookies);
  assert.equal((await other.get('/test')).status, 302);

  const pids = ['nginx', 'gateway', 'authsvc', 'apisvc', 'mockrc'].map(n => Number(readFileSync(join(a.env.RUN_DIR, `${n}.pid`), 'utf8')));
  // nginx's workers too: the children of its master.
  const workers = execFileSync('pgrep', ['-P', String(pids[0])], { encoding: 'utf8' }).trim().split('\n').map(Number);
  assert.ok(workers.length >= 1, 'nginx has workers');
  const stop = await run('stop', a.env);
  assert.equal(stop.code, 0, stop.out);
  // Gone, or exited and not yet reaped by init (a zombie: deploy/stop need not wait for init).
  const gone = pid => { try { return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] === 'Z'; } catch { return true; } };
  for (const pid of [...pids, ...workers]) assert.ok(gone(pid), `process ${pid} of stack a is gone`);
  assert.ok(!existsSync(join(a.env.RUN_DIR, 'gateway.pid')));
  assert.ok(!existsSync(join(a.env.RUN_DIR, 'nginx.pid')));
  const st = await run('status', a.env);
  assert.notEqual(st.code, 0);
  assert.match(st.out, /gateway\s+stopped/);
  assert.match(st.out, /nginx\s+stopped/);
  // Stack b is untouched.
  assert.equal((await fetch(b.url + '/')).status, 200);
});

test('demo mode: deploy/stop then deploy/start keeps people logged in (store and mock state kept)', async () => {
  const s = await newStack();
  const first = await run('start', s.env);
  assert.equal(first.code, 0, first.out);
  assert.match(first.out, /made an empty token store/);
  const br = new Browser(s.url);
  await br.login('production');
  const api = () => br.get('/test?api=extension', { headers: { accept: 'application/json' } });
  assert.equal((await api()).status, 200);
  const stop = await run('stop', s.env);
  assert.equal(stop.code, 0, stop.out);
  assert.ok(existsSync(join(s.env.RUN_DIR, 'mockrc.state')), 'the mock saved its state');
  const again = await run('start', s.env);
  assert.equal(again.code, 0, again.out);
  assert.doesNotMatch(again.out, /made an empty token store/);
  assert.match(readFileSync(join(s.env.RUN_DIR, 'mockrc.log'), 'utf8'), /ev=mockrc\.state_loaded .*logins=1/);
  const r = await api();
  assert.equal(r.status, 200, r.text.slice(0, 300));
  assert.ok(JSON.parse(r.text).records.length > 0, 'the same login calls the API');
});

test('TLS=1: deploy/start makes a self-signed localhost certificate and serves the demo over HTTPS only', async () => {
  const s = await newStack();
  const env = { ...s.env, TLS: '1' };
  delete env.PUBLIC_URL;   // TLS=1: https://localhost:PORT
  const r = await run('start', env);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /self-signed certificate/);
  assert.match(r.out, new RegExp(`up at https://localhost:${env.GATEWAY_PORT}`));
  const cert = join(env.DATA_DIR, 'tls', 'localhost.crt');
  const port = env.GATEWAY_PORT;
  const home = execFileSync('curl', ['-sS', '-i', '--cacert', cert, `https://localhost:${port}/`], { encoding: 'utf8' });
  assert.match(home, /^HTTP\/1\.1 200/);
  assert.match(home, /strict-transport-security: max-age=/i);
  assert.match(home, /demo mode/i);
  // The demo's RingCentral clients send the browser back to the https address.
  assert.match(readFileSync(join(env.RUN_DIR, 'demo-env', '.env-sandbox'), 'utf8'),
    new RegExp(`RC_REDIRECT_URL=https://localhost:${port}/oauth2callback`));
  const st = await run('status', env);
  assert.equal(st.code, 0, st.out);
  assert.match(st.out, /nginx\s+running.*answers/);
  // A second start keeps the certificate (a browser's exception stays valid).
  const before = readFileSync(cert, 'utf8');
  assert.equal((await run('stop', env)).code, 0);
  assert.equal((await run('start', env)).code, 0);
  assert.equal(readFileSync(cert, 'utf8'), before);
  assert.equal((await run('stop', env)).code, 0);
});

test('start fails loudly, with the log tail, when a service cannot start', async () => {
  const s = await newStack();
  const r = await run('start', { ...s.env, LOG_LEVEL: 'nonsense' });
  assert.notEqual(r.code, 0);
  assert.match(r.out, /LOG_LEVEL/);
});

// deploy/deps on a fresh machine: dpkg-query knows none of the missing
// packages and exits 1; the script must still install them (it once exited
// silently under pipefail). Fake dpkg-query, apt-get and id on PATH.
test('deploy/deps installs what dpkg-query does not know, and is quiet when all is there', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rcdeps-'));
  const { writeFileSync, chmodSync } = await import('node:fs');
  const fake = (name, body) => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  const deps = (known, purpose = 'run', refuse = 'none') => new Promise(resolve => {
    fake('dpkg-query', `for p in ${known}; do echo "$p install ok installed"; done\necho "dpkg-query: no packages found matching x" >&2; exit 1`);
    fake('apt-get', `echo "$@" >> "${join(dir, 'apt.log')}"; case "$*" in *${refuse}*) exit 100;; esac`);
    fake('id', 'echo 0');
    execFile('deploy/deps', [purpose], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, WITH_BROWSER: '' }, timeout: 10000 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, out: stdout + stderr }));
  });
  try {
    const r = await deps('build-essential pkg-config');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /deps: installed .*libzmq3-dev.*liblmdb-dev/);
    const apt = readFileSync(join(dir, 'apt.log'), 'utf8');
    assert.match(apt, /^install -y -q .*libczmq-dev/m);
    assert.doesNotMatch(apt, /build-essential/, 'what is installed is not asked for again');
    // Running needs no test, bench or fuzz tools.
    assert.doesNotMatch(apt, /chromium|wrk|clang|valgrind/, 'make run installs only what running needs');
    rmSync(join(dir, 'apt.log'));
    const all = 'build-essential pkg-config libzmq3-dev libczmq-dev libcivetweb-dev libcurl4-openssl-dev libmsgpack-dev liblmdb-dev libjansson-dev libsodium-dev libyajl-dev nginx openssl curl';
    const q = await deps(all);
    assert.equal(q.code, 0, q.out);
    assert.equal(q.out, '', 'nothing to say when everything is installed');
    assert.equal(existsSync(join(dir, 'apt.log')), false, 'apt-get not run');
    // make test wants Chromium: installed when it can be...
    const t = await deps(all, 'test');
    assert.equal(t.code, 0, t.out);
    assert.match(readFileSync(join(dir, 'apt.log'), 'utf8'), /^install -y -q chromium$/m);
    rmSync(join(dir, 'apt.log'));
    // ...and when it cannot, said loudly, and the tests still run (exit 0).
    const noBrowser = await deps(all, 'test', 'chromium');
    assert.equal(noBrowser.code, 0, noBrowser.out);
    assert.match(noBrowser.out, /COULD NOT INSTALL chromium: the browser test will be skipped/);
    rmSync(join(dir, 'apt.log'));
    // A package running needs that cannot be installed is an error.
    const broken = await deps('build-essential', 'run', 'nginx');
    assert.notEqual(broken.code, 0, broken.out);
    assert.match(broken.out, /apt-get install failed/);
    // bench and fuzz add their tools.
    rmSync(join(dir, 'apt.log'));
    await deps(all, 'bench');
    assert.match(readFileSync(join(dir, 'apt.log'), 'utf8'), /^install -y -q wrk$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('deploy', { concurrency: true }, () => { for (const args of cases) nodeTest(...args); });
