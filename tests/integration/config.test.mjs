// Issue 10, item 3 (env files): deploy/start checks the env files with the services' own parser
// (authsvc --check-config) before deciding demo mode; a mistyped key fails loudly, naming file and line.
import { test as nodeTest, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, readdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runCommand } from './lib/stack.mjs';

// The cases are independent (each its own folders and ports): they run side by side (see the end).
const cases = [];
const test = (...args) => cases.push(args);

const BUILD = process.env.BUILD || 'build';
const dirs = [];

const run = runCommand;

async function newStack() {
  const dir = mkdtempSync(join(tmpdir(), 'rcconfig-'));
  dirs.push(dir);
  const port = await freePort(), mockPort = await freePort();
  const env = {
    RUN_DIR: join(dir, 'run'), DATA_DIR: join(dir, 'data'), RC_ENV_DIR: join(dir, 'environment'),
    GATEWAY_PORT: String(port), MOCK_PORT: String(mockPort), PUBLIC_URL: `http://127.0.0.1:${port}`,
    METRICS_PORT: String(await freePort()),
  };
  mkdirSync(env.RC_ENV_DIR);
  return { dir, env };
}

// Whatever a run left behind is stopped by the pids in its RUN_DIR.
function killByPidFiles(runDir) {
  let names = [];
  try { names = readdirSync(runDir).filter(n => n.endsWith('.pid')); } catch { return []; }
  for (const n of names) {
    const pid = Number(readFileSync(join(runDir, n), 'utf8'));
    if (pid > 0) try { process.kill(pid, 'SIGKILL'); } catch {}
  }
  return names;
}

after(() => {
  for (const dir of dirs) {
    killByPidFiles(join(dir, 'run'));
    if (!process.env.TEST_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  }
});

// Env files holding a client secret are written 0600, as the README's steps make them (deploy/start refuses
// one that others can read: safefiles.test).
test('a mistyped RC_CLIENT_ID fails deploy/start loudly, naming file, line and the key meant; nothing starts', async () => {
  const s = await newStack();
  const file = join(s.env.RC_ENV_DIR, '.env-production');
  writeFileSync(file, '# my app\nRC_CLIENTID=abc\nRC_CLIENT_SECRET=Sup3rS3cret\n', { mode: 0o600 });
  const start = await run('deploy/start', [], s.env);
  assert.notEqual(start.code, 0, start.out);
  assert.ok(start.out.includes(`${file}:2: unknown key RC_CLIENTID: did you mean RC_CLIENT_ID?`), start.out);
  assert.doesNotMatch(start.out, /DEMO MODE/);
  assert.ok(!start.out.includes('Sup3rS3cret'), 'the secret is not printed');
  assert.deepEqual(killByPidFiles(s.env.RUN_DIR), [], 'no process was started');
  const stop = await run('deploy/stop', [], s.env);
  assert.equal(stop.code, 0, stop.out);
});

test('the example files, copied as they are, load as "not configured" (demo mode)', async () => {
  const s = await newStack();
  for (const env of ['production', 'sandbox'])
    copyFileSync(`environment/.env-${env}.example`, join(s.env.RC_ENV_DIR, `.env-${env}`));
  const check = await run(`${BUILD}/bin/authsvc`, ['--check-config'], s.env);
  assert.equal(check.code, 0, check.out);
  assert.equal(check.out.trim(), `config ok: production=unconfigured sandbox=unconfigured public_url=${s.env.PUBLIC_URL}`);
});

test('authsvc --check-config names every problem of both files and says which environments are configured', async () => {
  const s = await newStack();
  writeFileSync(join(s.env.RC_ENV_DIR, '.env-sandbox'),
    'RC_SERVER_URL=https://platform.devtest.ringcentral.com # sandbox\nRC_CLIENT_ID="abc"\n' +
    `RC_CLIENT_SECRET=x\nRC_REDIRECT_URL=${s.env.PUBLIC_URL}/oauth2callback\n`, { mode: 0o600 });
  const ok = await run(`${BUILD}/bin/authsvc`, ['--check-config'], s.env);
  assert.equal(ok.code, 0, ok.out);
  assert.equal(ok.out.trim(), `config ok: production=unconfigured sandbox=configured public_url=${s.env.PUBLIC_URL}`);
  const prod = join(s.env.RC_ENV_DIR, '.env-production');
  writeFileSync(prod, 'RC_CLIENT_ID=abc\nRC_CLIENT_SECERT=x\nnot a line\n', { mode: 0o600 });
  const bad = await run(`${BUILD}/bin/authsvc`, ['--check-config'], s.env);
  assert.equal(bad.code, 1, bad.out);
  for (const want of [`${prod}:2: unknown key RC_CLIENT_SECERT: did you mean RC_CLIENT_SECRET?`,
    `${prod}:3: expected KEY=value`, `${prod}: RC_SERVER_URL is missing`, `${prod}: RC_CLIENT_SECRET is missing`,
    `${prod}: RC_REDIRECT_URL is missing`])
    assert.ok(bad.out.includes(want), `${want} in: ${bad.out}`);
});

test('deploy/start on a running stack whose configuration changed says to run make restart, and changes nothing', async () => {
  const s = await newStack();
  const first = await run('deploy/start', [], s.env);
  assert.equal(first.code, 0, first.out);
  const pids = readdirSync(s.env.RUN_DIR).filter(n => n.endsWith('.pid'))
    .map(n => readFileSync(join(s.env.RUN_DIR, n), 'utf8')).sort();
  // The same configuration again: nothing to do, every process stays.
  const same = await run('deploy/start', [], s.env);
  assert.equal(same.code, 0, same.out);
  assert.match(same.out, /already running/);
  // Credentials added while the demo runs: not ignored, and not a silent "already running".
  writeFileSync(join(s.env.RC_ENV_DIR, '.env-sandbox'), 'RC_SERVER_URL=https://platform.ringcentral.com\n' +
    'RC_CLIENT_ID=abc\nRC_CLIENT_SECRET=xyz\nRC_REDIRECT_URL=' + s.env.PUBLIC_URL + '/oauth2callback\n', { mode: 0o600 });
  const changed = await run('deploy/start', [], s.env);
  assert.notEqual(changed.code, 0, changed.out);
  assert.match(changed.out, /earlier configuration.*make restart/s);
  assert.deepEqual(readdirSync(s.env.RUN_DIR).filter(n => n.endsWith('.pid'))
    .map(n => readFileSync(join(s.env.RUN_DIR, n), 'utf8')).sort(), pids, 'nothing was stopped or started');
  assert.equal((await run('deploy/stop', [], s.env)).code, 0);
});

test('deploy/start refuses an RC_REDIRECT_URL that is not PUBLIC_URL/oauth2callback, naming the file and what to set', async () => {
  const s = await newStack();
  const file = join(s.env.RC_ENV_DIR, '.env-production');
  // The tutorial's hard-coded port 5000 while this stack's PUBLIC_URL is another port.
  writeFileSync(file, 'RC_SERVER_URL=https://platform.ringcentral.com\nRC_CLIENT_ID=abc\nRC_CLIENT_SECRET=xyz\n' +
    'RC_REDIRECT_URL=http://localhost:5000/oauth2callback\n', { mode: 0o600 });
  const start = await run('deploy/start', [], s.env);
  assert.notEqual(start.code, 0, start.out);
  assert.ok(start.out.includes(`${file}: RC_REDIRECT_URL is http://localhost:5000/oauth2callback but PUBLIC_URL is ${s.env.PUBLIC_URL}`), start.out);
  assert.ok(start.out.includes(`set RC_REDIRECT_URL=${s.env.PUBLIC_URL}/oauth2callback`), start.out);
  assert.deepEqual(killByPidFiles(s.env.RUN_DIR), [], 'no process was started');
});

test('without PUBLIC_URL, the example file filled in serves on its own redirect URI; a hard-coded other port is named', async () => {
  const s = await newStack();
  delete s.env.PUBLIC_URL;
  const file = join(s.env.RC_ENV_DIR, '.env-production');
  // The README's steps: copy the example, fill in the two credentials; RC_REDIRECT_URL follows GATEWAY_PORT.
  writeFileSync(file, readFileSync('environment/.env-production.example', 'utf8')
    .replace(/^RC_CLIENT_ID=$/m, 'RC_CLIENT_ID=abc').replace(/^RC_CLIENT_SECRET=$/m, 'RC_CLIENT_SECRET=Sup3rS3cret'),
    { mode: 0o600 });
  const env = { ...s.env, PUBLIC_URL: '' };
  const check = await run(`${BUILD}/bin/authsvc`, ['--check-config'], env);
  const origin = `http://localhost:${s.env.GATEWAY_PORT}`;
  assert.equal(check.out.trim(), `config ok: production=configured sandbox=unconfigured public_url=${origin}`);
  const start = await run('deploy/start', [], env);
  assert.equal(start.code, 0, start.out);
  assert.match(start.out, new RegExp(`up at ${origin} `));
  assert.doesNotMatch(start.out, /DEMO MODE/);
  assert.equal(readFileSync(join(s.env.RUN_DIR, 'public.url'), 'utf8').trim(), origin);
  assert.equal((await run('deploy/stop', [], env)).code, 0);
  // The tutorial's hard-coded port 5000 on another port: refused, saying what to write.
  writeFileSync(file, 'RC_SERVER_URL=https://platform.ringcentral.com\nRC_CLIENT_ID=abc\nRC_CLIENT_SECRET=xyz\n' +
    'RC_REDIRECT_URL=http://localhost:5000/oauth2callback\n', { mode: 0o600 });
  const bad = await run('deploy/start', [], env);
  assert.notEqual(bad.code, 0, bad.out);
  assert.ok(bad.out.includes(`${file}: RC_REDIRECT_URL is http://localhost:5000/oauth2callback but the front serves ` +
    `http on GATEWAY_PORT ${s.env.GATEWAY_PORT}: set RC_REDIRECT_URL=http://localhost:\${GATEWAY_PORT}/oauth2callback`), bad.out);
  assert.deepEqual(killByPidFiles(s.env.RUN_DIR), [], 'no process was started');
});

describe('config', { concurrency: true }, () => { for (const args of cases) nodeTest(...args); });
