// Start the mock RingCentral (build/bin/mockrc) for a test, and small helpers
// every test that talks to it reuses. See tests/mockrc/README.md for the
// endpoints, the control API and the counter names.
//
//   const mock = await startMock({ clients: [{ id, secret, redirectUri }], autoApprove: true });
//   await mock.fault({ target: 'api', kind: '503', count: 1, retry_after: 2 });
//   const c = await mock.counters();   // { 'token.code.ok': 1, ... }
//   await mock.stop();
//
// The mock listens on 127.0.0.1 on a free port (--port 0 + --port-file), and
// is stopped by PID: stop() (SIGTERM, then SIGKILL after 3 s; it fails when the
// mock's log holds a sanitizer report) or at process exit.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const DEFAULT_CLIENTS = [
  { id: 'test-client', secret: 'test-secret-x7', redirectUri: 'http://127.0.0.1:5000/oauth2callback' },
];

const live = new Set();
process.on('exit', () => { for (const child of live) { try { child.kill('SIGKILL'); } catch {} } });

const pause = ms => new Promise(r => setTimeout(r, ms));

// What a sanitizer prints when it finds something: ASan, LSan, TSan, MSan reports, UBSan's "runtime error:".
const SANITIZER = /(AddressSanitizer|LeakSanitizer|ThreadSanitizer|MemorySanitizer|UndefinedBehaviorSanitizer)\b|\bruntime error: /;

// The first lines of a sanitizer report in text (a process's log), from the first line that names one, headed
// by where (the log's name); '' when there is none. stop() of a mock or a stack throws it.
export function sanitizerReport(text, where, lines = 20) {
  const all = text.split('\n');
  const at = all.findIndex(l => SANITIZER.test(l));
  if (at < 0) return '';
  return [`--- ${where}:`, ...all.slice(at, at + lines)].join('\n');
}

// base64url without padding (RFC 7636 appendix A).
const b64url = buf => buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

// A PKCE pair: a 43-character verifier and its S256 challenge.
export function pkcePair() {
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

// The Authorization header value of HTTP Basic client authentication.
export function basicAuth(id, secret) {
  return 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');
}

// An application/x-www-form-urlencoded body; undefined and null values are left out.
export function form(obj) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) if (v !== undefined && v !== null) p.append(k, String(v));
  return p.toString();
}

// The mock's authorize URL for client; override any query parameter (null leaves it out).
export function authorizeUrl(mock, client, params = {}) {
  const q = {
    response_type: 'code', client_id: client.id, redirect_uri: client.redirectUri,
    state: 'st-' + b64url(randomBytes(9)), code_challenge: pkcePair().challenge, code_challenge_method: 'S256',
    ...params,
  };
  return `${mock.url}/restapi/oauth/authorize?${form(q)}`;
}

// POST /restapi/oauth/token as client with the form fields; returns { status, headers, body (parsed JSON or text) }.
export async function tokenRequest(mock, client, fields, { auth } = {}) {
  const res = await fetch(`${mock.url}/restapi/oauth/token`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      ...(auth !== null ? { Authorization: auth ?? basicAuth(client.id, client.secret) } : {}),
    },
    body: form(fields),
  });
  const text = await res.text();
  let body = text;
  try { body = JSON.parse(text); } catch {}
  return { status: res.status, headers: res.headers, body };
}

// A whole login without a browser (the mock must auto-approve): authorize, then exchange
// the code. Returns the token response plus { code, verifier, state }.
export async function login(mock, client = mock.clients[0]) {
  const { verifier, challenge } = pkcePair();
  const state = 'st-' + b64url(randomBytes(9));
  const res = await fetch(authorizeUrl(mock, client, { code_challenge: challenge, state }), { redirect: 'manual' });
  const loc = res.headers.get('location');
  if (res.status !== 302 || !loc) throw new Error(`authorize answered ${res.status} (is auto-approve on?)`);
  const code = new URL(loc).searchParams.get('code');
  if (!code) throw new Error(`authorize redirected without a code: ${loc}`);
  const t = await tokenRequest(mock, client, {
    grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: verifier,
  });
  if (t.status !== 200) throw new Error(`code exchange answered ${t.status}: ${JSON.stringify(t.body)}`);
  return { ...t.body, code, verifier, state };
}

export async function startMock({
  clients = DEFAULT_CLIENTS, autoApprove = true, latencyMs = 0, build = process.env.BUILD || 'build',
  threads, extraArgs = [], timeoutMs = 10000,
} = {}) {
  const bin = resolve(build, 'bin', 'mockrc');
  const dir = mkdtempSync(join(tmpdir(), 'mockrc-'));
  const portFile = join(dir, 'port');
  const args = ['--bind', '127.0.0.1', '--port', '0', '--port-file', portFile];
  for (const c of clients) args.push('--client', `${c.id}:${c.secret}:${c.redirectUri}`);
  if (autoApprove) args.push('--auto-approve');
  if (latencyMs) args.push('--latency-ms', String(latencyMs));
  if (threads) args.push('--threads', String(threads));
  args.push(...extraArgs);

  const child = spawn(bin, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LOG_LEVEL: process.env.MOCK_LOG_LEVEL || 'info' },
  });
  live.add(child);
  let log = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', d => { log = (log + d).slice(-65536); });
  let exited = null;
  const exitPromise = new Promise(r => child.on('exit', (code, signal) => {
    exited = { code, signal };
    live.delete(child);
    r(exited);
  }));
  child.on('error', e => { exited = { code: -1, signal: null, error: e }; live.delete(child); });

  // Wait for the port file, then for /_mock/health (poll with a deadline).
  const deadline = Date.now() + timeoutMs;
  let port = 0;
  for (;;) {
    if (exited) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mockrc exited (${JSON.stringify(exited)}) before it was ready:\n${log}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mockrc not ready after ${timeoutMs} ms:\n${log}`);
    }
    if (!port) {
      try { port = parseInt(readFileSync(portFile, 'utf8'), 10) || 0; } catch {}
    }
    if (port) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/_mock/health`);
        if (r.ok) break;
      } catch {}
    }
    await pause(20);
  }

  const url = `http://127.0.0.1:${port}`;
  async function call(method, path, body) {
    const res = await fetch(url + path, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return JSON.parse(text);
  }

  return {
    url, port, pid: child.pid, clients,
    // GET /_mock/counters: { name: int }.
    counters: () => call('GET', '/_mock/counters'),
    // Queue a fault (or an array of faults) for the next matching requests.
    fault: spec => call('POST', '/_mock/fault', spec),
    clearFaults: () => call('DELETE', '/_mock/fault'),
    // With obj: merge it into the config; always returns the resulting config.
    config: obj => (obj === undefined ? call('GET', '/_mock/config') : call('POST', '/_mock/config', obj)),
    expireAll: () => call('POST', '/_mock/expire-all'),
    revokeAll: () => call('POST', '/_mock/revoke-all'),
    reset: () => call('POST', '/_mock/reset'),
    // { access, refresh, codes }: the live ones, or every one the mock still remembers with { all: true }.
    tokens: ({ all = false } = {}) => call('GET', `/_mock/tokens${all ? '?all=1' : ''}`),
    // The mock's stderr so far (the last 64 KiB).
    log: () => log,
    // SIGTERM by PID, SIGKILL after 3 s; resolves to { code, signal }, or rejects quoting a sanitizer report
    // in the mock's log (sanitizerReport).
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 3000);
        await exitPromise;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
      const report = sanitizerReport(log, 'mockrc');
      if (report) throw new Error(`sanitizer report in the mock's log:\n${report}`);
      return exited;
    },
  };
}
