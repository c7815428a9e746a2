// Issue 9: the edge. nginx in front of the gateway holds slow and idle clients, limits
// logins per client address, passes the client address, and serves HTTPS; the gateway
// itself refuses a TLS port. Loopback only (127.0.0.0/8), bounded in time and count.
// tests/run: alone (its p99 bound is about the load it makes itself, not other programs' load)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockedStack, get, waitFor, makeCertificate } from './lib/stack.mjs';
import { Browser } from './lib/browser.mjs';
import { slack } from './lib/timing.mjs';

const BUILD = process.env.BUILD || 'build';
const JSON_ACCEPT = { headers: { accept: 'application/json' } };
const pause = ms => new Promise(r => setTimeout(r, ms));

let mock, stack;
before(async () => { ({ mock, stack } = await startMockedStack({ env: { RC_TIMEOUT_MS: '3000' } })); });
after(async () => { await stack?.stop(); await mock?.stop(); });

const counters = () => mock.counters();
const delta = (c0, c1, k) => (c1[k] || 0) - (c0[k] || 0);

async function loggedIn(env = 'sandbox') {
  const b = new Browser(stack.url);
  await b.login(env);
  const t = await b.get('/test');
  assert.equal(t.status, 200);
  return { b, owner: (t.text.match(/data-owner="([^"]+)"/) || [])[1] };
}

function percentile(sorted, p) { return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]; }

// Attackers: connections held open against the public port from many loopback addresses
// (an attacker with many addresses; per-address limits alone would not save us). Kinds:
// 'header' sends a request header one byte every 2 s; 'body' a POST /logout body one byte
// every 2 s; 'idle' makes one request and then keeps the connection open (idle clients come
// and go: at most 100 of their requests are in progress at once; a burst of thousands of
// requests at once is a flood, which the front sheds with 503s beyond the gateway's threads).
// A connection the server closes is opened again while the attack runs, so the counts hold.
function attack(port, counts) {
  const sockets = new Set();
  const closed = { header: [], body: [], idle: [] };
  let running = true, n = 0, idleWaiting = 0, idleRequests = 0;
  const open = kind => {
    if (kind === 'idle' && idleRequests >= 100) { idleWaiting++; return; }
    if (kind === 'idle') idleRequests++;
    const localAddress = `127.0.0.${10 + (n++ % 50)}`;
    const s = connect({ host: '127.0.0.1', port, localAddress });
    s.kind = kind; s.opened = Date.now();
    s.on('error', () => {});
    s.on('data', () => {
      if (kind !== 'idle' || s.answered) return;
      s.answered = true;
      idleRequests--;
      if (idleWaiting > 0 && running) { idleWaiting--; open('idle'); }
    });
    s.on('close', () => {
      sockets.delete(s);
      if (kind === 'idle' && !s.answered) idleRequests--;
      closed[kind].push(Date.now() - s.opened);
      if (running) open(kind);
    });
    s.on('connect', () => {
      const host = `Host: 127.0.0.1:${port}\r\n`;
      if (kind === 'header') s.write(`GET / HTTP/1.1\r\n${host}`);
      else if (kind === 'body')
        s.write(`POST /logout HTTP/1.1\r\n${host}Content-Type: application/x-www-form-urlencoded\r\n` +
                'Content-Length: 4096\r\n\r\n');
      else s.write(`GET /static/app.css HTTP/1.1\r\n${host}\r\n`);
    });
    sockets.add(s);
  };
  for (const [kind, count] of Object.entries(counts)) for (let i = 0; i < count; i++) open(kind);
  const drip = setInterval(() => {
    for (const s of sockets) if (s.kind !== 'idle' && !s.connecting) s.write('x');
  }, 2000);
  return {
    sockets, closed,
    open: kind => [...sockets].filter(s => s.kind === kind && !s.connecting && !s.destroyed &&
                                      (kind !== 'idle' || s.answered)).length,
    stop() { running = false; clearInterval(drip); for (const s of sockets) s.destroy(); },
  };
}

test('2,000 slow-header, 500 slow-body and 2,000 idle connections: a normal client still gets answers, p99 <= 200 ms', async () => {
  const { b, owner } = await loggedIn('sandbox');
  const a = attack(stack.port, { header: 2000, body: 500, idle: 2000 });
  try {
    await waitFor(() => a.open('header') >= 1900 && a.open('body') >= 450 && a.open('idle') >= 1900,
      { timeoutMs: 15000, what: 'the attack connections to be open' });
    const held = { header: a.open('header'), body: a.open('body'), idle: a.open('idle') };
    const lat = [];
    const wrong = [];
    // A request every 10 ms at most (as a busy person's pages would, not back to back: 800 samples are
    // plenty for a p99, and 6,500 cost 5 s more CPU that only slowed the rest of the suite).
    const start = Date.now(), end = start + 8000;
    for (let i = 0; Date.now() < end; i++) {
      await pause(start + i * 10 - Date.now());
      const t0 = performance.now();
      if (i % 2 === 0) {
        const r = await fetch(stack.url + '/');
        const text = await r.text();
        if (r.status !== 200 || !/production/.test(text)) wrong.push(`/ ${r.status}`);
      } else {
        const r = await b.get('/test?api=extension', JSON_ACCEPT);
        let id;
        try { id = String(JSON.parse(r.text).records[0].id); } catch {}
        if (r.status !== 200 || id !== owner) wrong.push(`/test?api=extension ${r.status}`);
      }
      lat.push(performance.now() - t0);
    }
    lat.sort((x, y) => x - y);
    const p50 = percentile(lat, 0.5), p99 = percentile(lat, 0.99);
    console.log(`# attack held ${JSON.stringify(held)}; normal client: ${lat.length} requests, ` +
                `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${lat[lat.length - 1].toFixed(1)} ms`);
    assert.deepEqual(wrong, [], 'every answer is right');
    assert.ok(lat.length >= 100, `only ${lat.length} requests in 8 s`);
    assert.ok(p99 <= slack(200), `p99 ${p99.toFixed(1)} ms`);
    // The front, not the gateway, ends slow headers: at client_header_timeout (10 s).
    await waitFor(() => a.closed.header.length > 0, { timeoutMs: 8000, what: 'a slow header to be cut' });
    const first = Math.min(...a.closed.header);
    assert.ok(first >= 9000 && first <= 10000 + slack(4000), `the first slow header was cut after ${first} ms`);
  } finally {
    a.stop();
  }
});

test('a /login flood from 127.0.0.2 gets 429s; a browser on 127.0.0.1 logs in; a refresh during it happens once', async () => {
  const { b, owner } = await loggedIn('production');
  await mock.expireAll();
  const c0 = await counters();
  let flooding = true;
  const statuses = {};
  let limited;
  const flooder = async () => {
    while (flooding) {
      const r = await get(`${stack.url}/login?env=sandbox`, { localAddress: '127.0.0.2' });
      statuses[r.status] = (statuses[r.status] || 0) + 1;
      if (r.status === 429) limited = r;
    }
  };
  const t0 = Date.now();
  const flood = Promise.all(Array.from({ length: 8 }, flooder));
  try {
    await waitFor(() => statuses[429] > 0, { timeoutMs: 5000, what: 'the flood to be limited' });
    // Meanwhile: a new login from another address, and the earlier session's refresh.
    const other = new Browser(stack.url);
    await other.login('sandbox');
    assert.equal((await other.get('/test')).status, 200);
    const rs = await Promise.all(Array.from({ length: 10 }, () => b.get('/test?api=extension', JSON_ACCEPT)));
    assert.deepEqual(rs.map(r => r.status), rs.map(() => 200), rs.find(r => r.status !== 200)?.text.slice(0, 200));
    for (const r of rs) assert.equal(String(JSON.parse(r.text).records[0].id), owner);
    await pause(1000);
  } finally {
    flooding = false;
    await flood;
  }
  const seconds = (Date.now() - t0) / 1000;
  const c1 = await counters();
  console.log(`# flood of ${seconds.toFixed(1)} s: ${JSON.stringify(statuses)}`);
  assert.equal(delta(c0, c1, 'token.refresh.ok'), 1, 'exactly one refresh grant');
  assert.equal(delta(c0, c1, 'token.refresh.rotated_reuse'), 0);
  assert.equal(delta(c0, c1, 'token.refresh.rejected'), 0);
  // 10/s with a burst of 20: what got through is bounded by the rate.
  assert.ok(statuses[200] <= 20 + 10 * seconds + 10, `${statuses[200]} logins got through`);
  assert.ok(statuses[429] > statuses[200], 'most of the flood was refused');
  assert.deepEqual(Object.keys(statuses).sort(), ['200', '429']);
  assert.equal(limited.headers['retry-after'], '1');
  assert.match(limited.headers['content-type'], /text\/html/);
  assert.match(limited.text, /Too many requests/i, "the project's own page, not nginx's");
  assert.doesNotMatch(limited.text, /nginx/i);
  // The gateway logs the address nginx passed, for the flood and for the browser.
  const gwlog = stack.log('gateway');
  assert.match(gwlog, /client=127\.0\.0\.2\b/);
  assert.match(gwlog, /client=127\.0\.0\.1\b/);
});

test('a client cannot choose the address the gateway logs (X-Real-IP is set by the front)', async () => {
  const r = await fetch(stack.url + '/?spoof-check', { headers: { 'x-real-ip': '203.0.113.9' } });
  assert.equal(r.status, 200);
  await r.text();
  assert.doesNotMatch(stack.log('gateway'), /203\.0\.113\.9/);
});

test('a page asked for under another host is sent to PUBLIC_URL (where the cookie and the redirect URI are); /healthz and /readyz answer any', async () => {
  const other = `localhost:${stack.port}`;
  for (const path of ['/', '/login?env=sandbox', '/test?api=extension', '/oauth2callback?code=c&state=s']) {
    const r = await get(stack.url + path, { headers: { host: other } });
    assert.equal(r.status, 301, path);
    assert.equal(r.headers.location, stack.url + path);
  }
  assert.equal((await get(stack.url + '/healthz', { headers: { host: other } })).status, 200);
  assert.equal((await get(stack.url + '/readyz', { headers: { host: other } })).status, 200);
  assert.equal((await get(stack.url + '/')).status, 200, 'PUBLIC_URL itself is served');
});

test('the front answers oversized requests with the project page, and the gateway is reachable only on loopback', async () => {
  const big = await fetch(stack.url + '/logout', { method: 'POST', body: 'x'.repeat(64 * 1024),
    headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(big.status, 413);
  assert.match(await big.text(), /too large/i);
  const header = await fetch(stack.url + '/', { headers: { 'x-big': 'y'.repeat(16 * 1024) } });
  assert.equal(header.status, 431);
  assert.match(await header.text(), /too large/i);
});

test('the gateway refuses a TLS port, saying why', () => {
  const r = spawnSync(join(BUILD, 'bin', 'gateway'), [], {
    env: { ...stack.env, GATEWAY_INTERNAL_PORT: '8443s' }, encoding: 'utf8', timeout: 10000,
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /TLS/);
  assert.match(r.stdout + r.stderr, /nginx/);
});

// HTTPS at the front, with a certificate made here and trusted by curl.
function curl(args) {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '-i', ...args], { encoding: 'latin1', maxBuffer: 16 << 20, timeout: 20000 }, (err, out) => {
      if (err) return reject(err);
      const [head, ...rest] = out.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const headers = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        const k = l.slice(0, i).toLowerCase(), v = l.slice(i + 1).trim();
        headers[k] = headers[k] ? `${headers[k]}\n${v}` : v;
      }
      resolve({ status: Number(lines[0].split(' ')[1]), headers, text: rest.join('\r\n\r\n') });
    });
  });
}

test('HTTPS: the whole flow (login, three APIs, logout) with curl trusting the certificate; __Host- Secure cookie', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rctls-'));
  const tls = makeCertificate(dir);
  const jar = join(dir, 'jar');
  const s = await startMockedStack({ tls });
  try {
    const c = (path, ...extra) => curl(['--cacert', tls.cert, '-c', jar, '-b', jar, ...extra, s.stack.url + path]);
    const login = await c('/login?env=sandbox');
    assert.equal(login.status, 200);
    assert.match(login.headers['strict-transport-security'], /max-age=\d+/);
    assert.match(login.headers['set-cookie'], /^__Host-rcsid=[^;]+;.*Secure/);
    const cb = await Browser.approve(Browser.authorizeUrl(login.text));
    const done = await c(cb);
    assert.equal(done.status, 200, done.text.slice(0, 300));
    assert.match(done.text, /login success/i);
    const cookie = done.headers['set-cookie'];
    assert.match(cookie, /^__Host-rcsid=/);
    assert.match(cookie, /; Secure/);
    assert.match(cookie, /Path=\//);
    assert.doesNotMatch(cookie, /Domain=/i);
    for (const api of ['extension', 'extension-call-log', 'account-call-log']) {
      const r = await c(`/test?api=${api}`, '-H', 'Accept: application/json');
      assert.equal(r.status, 200, `${api}: ${r.text.slice(0, 200)}`);
      assert.ok(JSON.parse(r.text).records, api);
    }
    const page = await c('/logout');
    const out = await c('/logout', '--data-urlencode', `csrf=${Browser.csrf(page.text)}`);
    assert.equal(out.status, 303);
    assert.match(out.headers['set-cookie'], /^__Host-rcsid=;.*Max-Age=0/);
    assert.equal((await c('/test')).status, 302);
    // TLS 1.2 and later only; plain HTTP on the HTTPS port is sent to https.
    await assert.rejects(curl(['--cacert', tls.cert, '--tls-max', '1.1', s.stack.url + '/']));
    const plain = await curl([s.stack.url.replace('https:', 'http:') + '/']);
    assert.equal(plain.status, 301);
    assert.match(plain.headers.location, /^https:\/\//);
  } finally {
    await s.stack.stop();
    await s.mock.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
