// Issue 12, point 5: deploy/start refuses folders and files another local user planted or can read, says
// why, and writes nothing; a running stack's files are its user's alone (0600 files, 0700 folders).
// The tests run as root here: "another user" is nobody, made owner with chown.
import { test as nodeTest, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, readdirSync, lstatSync, symlinkSync,
         chmodSync, chownSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runCommand } from './lib/stack.mjs';
import { Browser } from './lib/browser.mjs';

// The cases are independent (each its own folders and ports): they run side by side (see the end).
const cases = [];
const test = (...args) => cases.push(args);

const NOBODY = 65534;
const root = mkdtempSync(join(tmpdir(), 'rcsafe-'));
const started = [];

const run = (script, env) => runCommand(`deploy/${script}`, [], env);

after(async () => {
  for (const env of started) await run('stop', env);
  if (!process.env.TEST_KEEP_TMP) rmSync(root, { recursive: true, force: true });
});

// A fresh folder for one case, with the settings of a demo stack whose folders are in it.
let seq = 0;
async function newCase() {
  const dir = join(root, `case${seq++}`);
  mkdirSync(dir, { mode: 0o700 });
  const port = await freePort();
  const env = {
    RUN_DIR: join(dir, 'run'), DATA_DIR: join(dir, 'data'), RC_ENV_DIR: join(dir, 'environment'),
    GATEWAY_PORT: String(port), MOCK_PORT: String(await freePort()), PUBLIC_URL: `http://127.0.0.1:${port}`,
    METRICS_PORT: '0',
  };
  return { dir, env, url: `http://127.0.0.1:${port}` };
}

// Every path under dir (links not followed) with its type, mode, owner, size and mtime: "nothing written".
function snapshot(dir) {
  const out = [];
  const walk = p => {
    const st = lstatSync(p);
    out.push(`${p} ${st.mode.toString(8)} ${st.uid} ${st.size} ${st.mtimeMs}`);
    if (st.isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n));
  };
  walk(dir);
  return out;
}

const canChown = process.getuid() === 0;

async function refused(c, pattern, watch = [c.dir]) {
  const before = watch.map(snapshot);
  const r = await run('start', c.env);
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.out, pattern);
  assert.match(r.out, /refusing to start: nothing was written/);
  assert.deepEqual(watch.map(snapshot), before, 'nothing was written');
  assert.ok(!existsSync(join(c.env.RUN_DIR, 'gateway.pid')) && !existsSync(join(c.env.RUN_DIR, 'authsvc.log')));
  return r.out;
}

test('a RUN_DIR pre-created by another user is refused', { skip: !canChown && 'needs root for chown' }, async () => {
  const c = await newCase();
  mkdirSync(c.env.RUN_DIR, { mode: 0o700 });
  chownSync(c.env.RUN_DIR, NOBODY, NOBODY);
  await refused(c, /RUN_DIR .*\/run belongs to user nobody, not root who runs start/);
});

test('a DATA_DIR inside a folder of another user is refused', { skip: !canChown && 'needs root for chown' }, async () => {
  const c = await newCase();
  const theirs = join(c.dir, 'theirs');
  mkdirSync(theirs, { mode: 0o755 });
  chownSync(theirs, NOBODY, NOBODY);
  c.env.DATA_DIR = join(theirs, 'data');
  await refused(c, /DATA_DIR .*\/theirs\/data is inside .*\/theirs, which belongs to user nobody/);
});

test('a group- or world-writable DATA_DIR is refused', async () => {
  for (const mode of [0o777, 0o770]) {
    const c = await newCase();
    mkdirSync(c.env.DATA_DIR);
    chmodSync(c.env.DATA_DIR, mode);
    await refused(c, /DATA_DIR .*\/data is writable by group or others/);
  }
});

test('a RUN_DIR that is a symbolic link is refused, and nothing is written where it points', async () => {
  const c = await newCase();
  const target = join(c.dir, 'elsewhere');
  mkdirSync(target, { mode: 0o700 });
  writeFileSync(join(target, 'precious'), 'root file\n', { mode: 0o600 });
  symlinkSync(target, c.env.RUN_DIR);
  await refused(c, /RUN_DIR .*\/run is a symbolic link \(to .*elsewhere\), which start did not make/);
  assert.equal(readFileSync(join(target, 'precious'), 'utf8'), 'root file\n');
});

test('a symbolic link planted inside DATA_DIR is refused and its target untouched', async () => {
  const c = await newCase();
  const victim = join(c.dir, 'victim');
  writeFileSync(victim, 'root file\n', { mode: 0o644 });
  mkdirSync(c.env.DATA_DIR, { mode: 0o700 });
  symlinkSync(victim, join(c.env.DATA_DIR, 'data.mdb'));
  await refused(c, /data\/data\.mdb is a symbolic link .* in DATA_DIR, which start did not make/);
  assert.equal(readFileSync(victim, 'utf8'), 'root file\n');
  assert.equal(lstatSync(victim).mode & 0o777, 0o644, 'not chmod-ed');
});

test('a world-readable data.mdb, and a file of another user in RUN_DIR, are refused', async () => {
  const c = await newCase();
  mkdirSync(c.env.DATA_DIR, { mode: 0o700 });
  writeFileSync(join(c.env.DATA_DIR, 'data.mdb'), '', { mode: 0o644 });
  chmodSync(join(c.env.DATA_DIR, 'data.mdb'), 0o644);
  const out = await refused(c, /data\/data\.mdb in DATA_DIR is open to group or others \(-rw-r--r--\)/);
  assert.match(out, /chmod -R go= /, 'says how to fix files of an earlier version');
  if (canChown) {
    const d = await newCase();
    mkdirSync(d.env.RUN_DIR, { mode: 0o700 });
    writeFileSync(join(d.env.RUN_DIR, 'authsvc.pid'), '1\n', { mode: 0o600 });
    chownSync(join(d.env.RUN_DIR, 'authsvc.pid'), NOBODY, NOBODY);
    await refused(d, /run\/authsvc\.pid in RUN_DIR belongs to user nobody/);
  }
});

test('an env file with a client secret readable by others: start says the exact chmod 600 to run', async () => {
  const c = await newCase();
  mkdirSync(c.env.RC_ENV_DIR, { mode: 0o755 });
  const file = join(c.env.RC_ENV_DIR, '.env-production');
  writeFileSync(file, `RC_SERVER_URL=http://127.0.0.1:1\nRC_CLIENT_ID=id\nRC_CLIENT_SECRET=s3cret\n` +
    `RC_REDIRECT_URL=${c.url}/oauth2callback\n`);
  chmodSync(file, 0o644);
  const out = await refused(c, new RegExp(`${file.replace(/[.]/g, '\\.')} holds a client secret and is readable by ` +
    `group or others \\(-rw-r--r--\\): run chmod 600 ${file.replace(/[.]/g, '\\.')}$`, 'm'));
  assert.ok(!out.includes('s3cret'), 'the secret is never printed');
  // Run what it says: the check passes (a template without a secret is never refused).
  chmodSync(file, 0o600);
  const ok = await run('safe-dirs', c.env);
  assert.equal(ok.code, 0, ok.out);
  writeFileSync(join(c.env.RC_ENV_DIR, '.env-sandbox'), 'RC_CLIENT_ID=\nRC_CLIENT_SECRET=\n', { mode: 0o644 });
  chmodSync(join(c.env.RC_ENV_DIR, '.env-sandbox'), 0o644);
  assert.equal((await run('safe-dirs', c.env)).code, 0);
});

test('a running stack: every file under RUN_DIR and DATA_DIR is 0600 (sockets, folders 0700), and a restart passes the checks', async () => {
  const c = await newCase();
  started.push(c.env);
  const r = await run('start', c.env);
  assert.equal(r.code, 0, r.out);
  const b = new Browser(c.url);
  await b.login('sandbox');
  assert.equal((await b.get('/test?api=extension')).status, 200);
  const seen = new Set();
  for (const d of [c.env.RUN_DIR, c.env.DATA_DIR]) {
    for (const line of snapshot(d)) {
      const [p, mode] = line.split(' ');
      const m = parseInt(mode, 8);
      seen.add(p.slice(p.lastIndexOf('/') + 1));
      assert.equal(m & 0o077, 0, `${p} is ${(m & 0o7777).toString(8)}: open to group or others`);
      assert.equal(lstatSync(p).uid, process.getuid(), `${p} is ours`);
    }
  }
  for (const name of ['data.mdb', 'lock.mdb', 'gateway.key', 'gateway.log', 'authsvc.log', 'apisvc.log', 'nginx.log',
                      'gateway.pid', 'authsvc.pid', 'authsvc.sock', 'apisvc.sock', 'nginx.conf'])
    assert.ok(seen.has(name), `${name} was checked`);
  assert.equal((await run('stop', c.env)).code, 0);
  const again = await run('start', c.env);
  assert.equal(again.code, 0, again.out);
  assert.equal((await b.get('/test')).status, 200, 'still logged in: the gateway key survived the restart');
});

describe('safefiles', { concurrency: true }, () => { for (const args of cases) nodeTest(...args); });
