// Issue 11: a DATA_DIR deleted or replaced under a running stack. Each service notices within a second or
// two (ev=store.lost), /readyz fails on its store check, refuses to use the orphaned store (requests fail with a message that says why, nothing
// is written to the old file), takes it up again when the same data file is back, and a service relaunched
// on a deleted DATA_DIR exits with a clear error instead of making an empty store where one existed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startMockedStack, waitFor } from './lib/stack.mjs';
import { Browser } from './lib/browser.mjs';

const JSON_ACCEPT = { headers: { accept: 'application/json' } };
let mock, stack;

before(async () => {
  ({ mock, stack } = await startMockedStack());
});

after(async () => {
  await stack?.stop();
  await mock?.stop();
});

const count = (name, re) => (stack.log(name).match(re) || []).length;

test('a replaced DATA_DIR is detected and refused; the original put back is taken up again', async () => {
  const b = new Browser(stack.url);
  await b.login('sandbox');
  assert.equal((await b.get('/test?api=extension', JSON_ACCEPT)).status, 200);
  const old = `${stack.dataDir}.old`, other = `${stack.dataDir}.new`;
  // Another, empty store (what a relaunched service used to make), made aside and moved in right after
  // the original moved out: a store check between the two would see a deleted DATA_DIR, not a replaced one.
  execFileSync(join(process.env.BUILD || 'build', 'bin', 'authsvc'), ['--init-store'],
    { env: { ...stack.env, DATA_DIR: other }, stdio: 'ignore' });
  renameSync(stack.dataDir, old);
  renameSync(other, stack.dataDir);
  for (const name of ['authsvc', 'apisvc'])
    await waitFor(() => /ev=store\.lost reason="the data directory was replaced/.test(stack.log(name)),
      { timeoutMs: 5000, what: `${name} to notice` });
  const r = await b.get('/test?api=extension', JSON_ACCEPT);
  assert.ok(r.status >= 500, `refused: ${r.status}`);
  assert.match(JSON.parse(r.text).message, /data directory was deleted or replaced/);
  rmSync(stack.dataDir, { recursive: true, force: true });
  renameSync(old, stack.dataDir);
  for (const name of ['authsvc', 'apisvc'])
    await waitFor(() => count(name, / ev=store\.back /g) === 1, { timeoutMs: 5000, what: `${name} to take it up again` });
  const again = await b.get('/test?api=extension', JSON_ACCEPT);
  assert.equal(again.status, 200, 'the session lived on in the original store');
});

test('a deleted DATA_DIR: detected, refused, and no relaunched service makes a fresh store there', async () => {
  const b = new Browser(stack.url);
  await b.login('production');
  rmSync(stack.dataDir, { recursive: true, force: true });
  for (const name of ['authsvc', 'apisvc'])
    await waitFor(() => /ev=store\.lost reason="the data directory or its data file was deleted"/.test(stack.log(name)),
      { timeoutMs: 5000, what: `${name} to notice` });
  // /readyz fails on its store check, saying why (no path).
  const ready = await stack.readyz();
  assert.equal(ready.status, 503, JSON.stringify(ready.body));
  assert.equal(ready.body.checks.store.status, 'fail');
  assert.match(ready.body.checks.store.reason, /deleted/);
  assert.ok(!JSON.stringify(ready.body).includes(stack.dataDir), 'no path in the body');
  const api = await b.get('/test?api=extension', JSON_ACCEPT);
  assert.ok(api.status >= 500, `API call refused: ${api.status}`);
  assert.match(JSON.parse(api.text).message, /data directory was deleted or replaced/);
  const login = await new Browser(stack.url).get('/login?env=sandbox');
  assert.ok(login.status >= 500, `a new login refused: ${login.status}`);
  for (const name of ['apisvc', 'authsvc']) {
    await stack.kill(name, 'SIGTERM');
    const { code } = await stack.start(name).exited;
    assert.equal(code, 1, `${name} relaunched on a deleted DATA_DIR exits`);
    assert.match(stack.log(name), /ev=store\.open\.fail .*reason="no token store there/);
    assert.ok(!existsSync(join(stack.dataDir, 'data.mdb')), `${name} made no store`);
  }
});
