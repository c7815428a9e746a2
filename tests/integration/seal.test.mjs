// Issue 12, items 1 and 2: the token store's secrets sealed at rest, a key rotation under load, records that do
// not open. Every file under DATA_DIR and RUN_DIR is read as bytes (LMDB's free pages included).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { openSync, readFileSync, readdirSync, statSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startMockedStack, waitFor, get } from './lib/stack.mjs';
import { Browser } from './lib/browser.mjs';

const run = promisify(execFile);
const BUILD = process.env.BUILD || 'build';
let mock, stack;

before(async () => {
  ({ mock, stack } = await startMockedStack({ env: { LOGIN_RATE_LIMIT: '0' } }));
});

after(async () => {
  await stack?.stop();
  await mock?.stop();
});

// Every regular file under dir, recursively: [path, bytes].
function filesUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory()) out.push(...filesUnder(p));
    else if (st?.isFile()) out.push([p, readFileSync(p)]);
  }
  return out;
}

const allFiles = () => [...filesUnder(stack.dataDir), ...filesUnder(stack.runDir)];
const b64url = buf => buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const sidOf = b => [...b.cookies.values()].find(v => /[A-Za-z0-9_-]{43}/.test(v)).match(/[A-Za-z0-9_-]{43}/)[0];
const keyUsage = async () => (await run(join(BUILD, 'bin', 'authsvc'), ['--key-usage'], { env: stack.env })).stdout;
const rekey = (...args) => run('deploy/rekey', args, { env: { ...stack.env, NO_BUILD: '1' } });

test('after a login, API calls and a refresh, no token or PKCE verifier is in any file (free pages included)', async () => {
  const b = new Browser(stack.url);
  await b.login('sandbox');
  for (const api of ['extension', 'extension-call-log', 'account-call-log'])
    assert.equal((await b.get(`/test?api=${api}`)).status, 200);
  await mock.expireAll();
  const c0 = await mock.counters();
  assert.equal((await b.get('/test?api=extension')).status, 200);
  assert.ok(((await mock.counters())['token.refresh.ok'] || 0) > (c0['token.refresh.ok'] || 0), 'a refresh happened');
  // A login left pending: its verifier is in the store until the callback.
  const pending = new Browser(stack.url);
  const auth = await pending.startLogin('production');
  const challenge = new URL(auth).searchParams.get('code_challenge');
  assert.match(challenge, /^[A-Za-z0-9_-]{43}$/);

  const { access, refresh, codes } = await mock.tokens({ all: true });
  const secrets = [...access, ...refresh, ...codes];
  assert.ok(access.length >= 2 && refresh.length >= 2, 'the mock issued a pair and a refreshed pair');
  const files = allFiles();
  assert.ok(files.some(([p]) => p.endsWith('data.mdb')));
  // The search is not blind: the session id (a key, in the clear) is found in data.mdb.
  assert.ok(files.some(([p, bytes]) => p.endsWith('data.mdb') && bytes.includes(sidOf(b))), 'the session id is found');
  for (const [path, bytes] of files) {
    for (const s of secrets) assert.ok(!bytes.includes(s), `a token the mock issued is in ${path}`);
    // A verifier is 43 base64url characters whose S256 is a challenge this test saw.
    const text = bytes.toString('latin1');
    for (const m of text.matchAll(/[A-Za-z0-9_-]{43}/g))
      assert.notEqual(b64url(createHash('sha256').update(m[0]).digest()), challenge, `the PKCE verifier is in ${path}`);
  }
  // The key ring is private, and the services refuse core dumps.
  assert.equal(statSync(join(stack.dataDir, 'keys')).mode & 0o777, 0o600);
  // (A process that is not dumpable has its /proc/PID files owned by root; RLIMIT_CORE 0 shows in its limits.)
  for (const name of ['authsvc', 'apisvc']) {
    const pid = stack.procs.get(name).pid;
    if (process.getuid() !== 0) assert.equal(statSync(`/proc/${pid}/environ`).uid, 0, `${name} is not dumpable`);
    assert.match(readFileSync(`/proc/${pid}/limits`, 'utf8'), /Max core file size\s+0\s+0/, `${name}: no core file`);
  }
});

test('a sealed field flipped in data.mdb: that session is lost cleanly (log in again), the others work', async () => {
  const a = new Browser(stack.url), b = new Browser(stack.url);
  await a.login('sandbox');
  await b.login('sandbox');
  assert.equal((await a.get('/test?api=extension')).status, 200);
  const sid = sidOf(a);
  const path = join(stack.dataDir, 'data.mdb');
  const bytes = readFileSync(path);
  // Each copy of a's record (the live one, and old ones in free pages): the key, then the msgpack map
  // {env, access_token: bin (version 1, key id, nonce, ciphertext), ...}. Flip a byte of the ciphertext.
  const field = Buffer.from('access_token');
  let flipped = 0;
  for (let at = bytes.indexOf(sid); at >= 0; at = bytes.indexOf(sid, at + 1)) {
    const f = bytes.indexOf(field, at + sid.length);
    if (f < 0 || f - at > 64) continue;
    const bin = f + field.length;
    assert.ok(bytes[bin] === 0xc4 && bytes[bin + 2] === 0x01, 'a sealed field follows');
    const pos = bin + 2 + 5 + 24 + 3;
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from([bytes[pos] ^ 0x01]), 0, 1, pos);
    closeSync(fd);
    flipped++;
  }
  assert.ok(flipped >= 1, 'the record was found in the file');
  const before = mock.counters();
  const r = await a.get('/test?api=extension');
  assert.equal(r.status, 302, r.text.slice(0, 300));
  assert.equal(r.location, '/?notice=login-first', 'the start page asks to log in again');
  assert.match((await a.get(r.location)).text, /Log in first/);
  assert.equal((await mock.counters())['api.extension.ok'], (await before)['api.extension.ok'], 'no call upstream');
  assert.equal((await b.get('/test?api=extension')).status, 200, 'the other session works');
  await waitFor(() => /ev=store\.unseal_fail kind=session .*reason=does_not_authenticate/.test(stack.log('apisvc'))
    || /ev=store\.unseal_fail kind=session .*reason=does_not_authenticate/.test(stack.log('authsvc')),
  { what: 'the unseal_fail log line' });
  for (const name of ['apisvc', 'authsvc']) assert.ok(!stack.log(name).includes(sid), `no session id in ${name}'s log`);
  // a logs in again and works.
  await a.login('sandbox');
  assert.equal((await a.get('/test?api=extension')).status, 200);
});

test('rotation under load: 50 sessions keep working through deploy/rekey, the old key is retired', async () => {
  const browsers = [];
  for (let i = 0; i < 50; i++) {
    const b = new Browser(stack.url);
    await b.login(i % 2 ? 'sandbox' : 'production');
    browsers.push(b);
  }
  const before = await keyUsage();
  const oldId = before.match(/^key_id=(\d+) records=\d+ sealing$/m)[1];
  // A steady stream: 4 requests in flight at all times, round robin over the 50 sessions.
  let stop = false, sent = 0;
  const failures = [];
  const worker = async k => {
    for (let i = k; !stop; i += 4) {
      const b = browsers[i % browsers.length];
      const r = await b.get(`/test?api=${i % 3 ? 'extension' : 'extension-call-log'}`, { headers: { accept: 'application/json' } });
      sent++;
      if (r.status !== 200) failures.push(`${r.status} ${r.text.slice(0, 120)}`);
    }
  };
  const load = Promise.all([0, 1, 2, 3].map(worker));
  await waitFor(() => sent >= 40, { timeoutMs: 20000, what: 'load before the rotation' });
  const out = await rekey();
  const newId = out.stdout.match(/key (\d+) added first/)[1];
  assert.notEqual(newId, oldId);
  // Refreshes during the rotation too.
  await mock.expireAll();
  const atRekey = sent;
  await waitFor(() => sent >= atRekey + 60, { timeoutMs: 30000, what: 'load after the rotation' });
  const retired = await rekey('--retire', oldId);
  assert.match(retired.stdout, new RegExp(`key ${oldId} retired`));
  await waitFor(() => sent >= atRekey + 120, { timeoutMs: 30000, what: 'load after the retirement' });
  stop = true;
  await load;
  assert.deepEqual(failures, [], 'no request failed');
  // Every record now under the new key alone, and the file holds it alone.
  const usage = await keyUsage();
  assert.match(usage, new RegExp(`^key_id=${newId} records=\\d+ sealing$`, 'm'));
  assert.equal(usage.trim().split('\n').length, 1, usage);
  const lines = readFileSync(join(stack.dataDir, 'keys'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 1);
  assert.equal(statSync(join(stack.dataDir, 'keys')).mode & 0o777, 0o600);
  // No session lost: each of the 50 opens with the new key only.
  for (const b of browsers) assert.equal((await b.get('/test?api=extension', { headers: { accept: 'application/json' } })).status, 200);
  assert.match(stack.log('authsvc'), new RegExp(`ev=rekey\\.start sealing=${newId}`));
  const done = stack.log('authsvc').match(new RegExp(`ev=rekey\\.done sealing=${newId} resealed=(\\d+) dropped=0`));
  assert.ok(done && Number(done[1]) >= 50, 'authsvc re-sealed the 50 sessions (and the others)');
  assert.match(stack.log('authsvc'), /ev=rekey\.usage sealing=\d+ records=\d+:\d+/);
  // The metric: records per key id, the retired key at 0.
  const metrics = await waitFor(async () => {
    const text = (await get(stack.metricsUrls[0])).text;
    const m = text.match(new RegExp(`^rcauth_store_records\\{[^}]*key_id="${newId}"[^}]*\\} (\\d+)`, 'm'));
    return m && Number(m[1]) >= 50 ? text : null;
  }, { timeoutMs: 5000, what: 'rcauth_store_records of the new key' });
  assert.match(metrics, new RegExp(`^rcauth_store_records\\{[^}]*key_id="${oldId}"[^}]*\\} 0$`, 'm'));
});

test('retiring a key in use, or the sealing key, is refused and changes nothing', async () => {
  const usage = await keyUsage();
  const sealing = usage.match(/^key_id=(\d+) records=(\d+) sealing$/m);
  assert.ok(Number(sealing[2]) > 0);
  const keys = readFileSync(join(stack.dataDir, 'keys'));
  await assert.rejects(rekey('--retire', sealing[1]), e => /seals new records/.test(e.stderr));
  await assert.rejects(rekey('--retire', '12345'), e => /no key 12345/.test(e.stderr));
  assert.deepEqual(readFileSync(join(stack.dataDir, 'keys')), keys);
});
