// Issue 12, point 3: each process holds only what it needs. After a login, API calls and a refresh, the
// gateway's and apisvc's own memory (heap, stacks, anonymous maps: read from /proc/PID/mem) holds no client
// secret, apisvc's no refresh token, the gateway's no token at all; authsvc, which needs them, is the control
// that the scan finds what is there. Shared file maps (LMDB's data.mdb) are not the process's own memory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, readSync, closeSync, readFileSync } from 'node:fs';
import { startMockedStack } from './lib/stack.mjs';
import { Browser } from './lib/browser.mjs';

let mock, stack;
before(async () => { ({ mock, stack } = await startMockedStack()); });
after(async () => { await stack?.stop(); await mock?.stop(); });

// The needles found in pid's own memory (heap, stacks, anonymous maps, the data and bss of its binary and
// libraries): what it holds, as opposed to a file it maps (data.mdb, shared and read-only).
function foundIn(pid, needles) {
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').trim().split('\n');
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  const found = new Set();
  const CHUNK = 1 << 20, overlap = Math.max(...needles.map(n => n.length));
  const buf = Buffer.alloc(CHUNK + overlap);
  try {
    for (const line of maps) {
      const [range, perms, , , inode, path = ''] = line.trim().split(/\s+/);
      // Anonymous maps, and the private writable ones of files (a binary's data and bss): never a shared file map.
      const own = inode === '0' || (perms[1] === 'w' && perms[3] === 'p');
      if (perms[0] !== 'r' || !own || /^\[(vvar|vsyscall|vdso)/.test(path)) continue;
      const [lo, hi] = range.split('-').map(h => BigInt('0x' + h));
      // A sanitizer build's shadow memory is terabytes of anonymous map: reading it would take hours. Our
      // processes' own heaps and stacks are far below 1 GiB (the authsvc control below keeps this honest).
      if (hi - lo > 1n << 30n) continue;
      for (let at = lo; at < hi; at += BigInt(CHUNK)) {
        const want = Number(hi - at < BigInt(CHUNK + overlap) ? hi - at : BigInt(CHUNK + overlap));
        let n;
        try { n = readSync(fd, buf, 0, want, at); } catch { break; }
        const view = buf.subarray(0, n);
        for (const s of needles) if (!found.has(s) && view.includes(s)) found.add(s);
      }
    }
  } finally {
    closeSync(fd);
  }
  return found;
}

test('gateway and apisvc hold no client secret, apisvc no refresh token, the gateway no token', async () => {
  const b = new Browser(stack.url);
  await b.login('sandbox');
  for (const api of ['extension', 'extension-call-log', 'account-call-log'])
    assert.equal((await b.get(`/test?api=${api}`)).status, 200);
  await mock.expireAll();                       // the next call refreshes (apisvc asks authsvc)
  assert.equal((await b.get('/test?api=extension')).status, 200);
  const t = await mock.tokens({ all: true });
  assert.ok(t.refresh.length >= 2, 'a refresh happened');
  const secrets = mock.clients.map(c => c.secret);
  const pid = name => stack.procs.get(name).pid;

  const inAuthsvc = foundIn(pid('authsvc'), [...secrets, t.refresh.at(-1)]);
  assert.ok(secrets.some(s => inAuthsvc.has(s)), 'the scan finds the client secret authsvc holds');

  const inApisvc = foundIn(pid('apisvc'), [...secrets, ...t.refresh, t.access.at(-1)]);
  for (const s of secrets) assert.ok(!inApisvc.has(s), 'apisvc holds a client secret');
  for (const r of t.refresh) assert.ok(!inApisvc.has(r), 'apisvc holds a refresh token');

  const inGateway = foundIn(pid('gateway'), [...secrets, ...t.refresh, ...t.access]);
  assert.deepEqual([...inGateway].map(s => s.slice(0, 4) + '…'), [], 'the gateway holds no secret or token');
});
