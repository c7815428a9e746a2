// Start a whole stack (authsvc, apisvc, gateway, and nginx in front: the same front
// deploy/start runs, configured by deploy/nginx-conf) against a mock RingCentral, on
// loopback, free ports, temporary RUN_DIR / DATA_DIR / RC_ENV_DIR. Everything it
// starts is stopped by PID (stop(), and on process exit).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMock } from './mock.mjs';

const BUILD = process.env.BUILD || 'build';
const live = new Set();
// nginx runs in a process group of its own (master and workers): the group is signalled.
const signal = (p, sig) => { try { if (p.group) process.kill(-p.pid, sig); else p.kill(sig); } catch {} };
process.on('exit', () => { for (const p of live) signal(p, 'SIGKILL'); });

// GET url with node's http(s) client (ca: a PEM the client trusts); resolves { status, headers, text }.
export function get(url, { ca, headers = {}, timeoutMs = 5000, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { headers, ca, localAddress, agent: false },
      res => {
        const chunks = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from ${url} in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// A self-signed certificate for localhost and 127.0.0.1 in dir (openssl): { cert, key } PEM paths.
export function makeCertificate(dir) {
  const cert = join(dir, 'cert.pem'), key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

export async function waitFor(check, { timeoutMs = 10000, intervalMs = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try { const v = await check(); if (v) return v; } catch (e) { last = e; }
    await new Promise(r => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ': ' + last.message : ''}`);
}

// The clients registered at the mock for each environment.
// A mock RingCentral whose clients redirect to a gateway port picked here, then a stack whose
// gateway listens there (stackOptions as for startStack). The redirect URI and the pages share
// the host 127.0.0.1, so the session cookie the callback sets is the one the pages get.
export async function startMockedStack({ autoApprove = true, ...stackOptions } = {}) {
  const port = await freePort();
  const clients = clientsFor(`${stackOptions.tls ? 'https' : 'http'}://127.0.0.1:${port}/oauth2callback`);
  const mock = await startMock({ clients, autoApprove });
  mock.clients = clients;
  try {
    return { mock, stack: await startStack({ mock, gatewayPort: port, ...stackOptions }) };
  } catch (e) {
    await mock.stop();
    throw e;
  }
}

export function clientsFor(redirectUri) {
  return ['production', 'sandbox'].map(env => ({
    env, id: `test-client-${env}`, secret: `test-secret-${env}-x7`, redirectUri,
  }));
}

// Each gateway listens on a loopback port of its own (stack.internalUrls[i]) behind its nginx
// (stack.urls[i], the public side every test uses). tls: { cert, key } (PEM files) serves HTTPS
// there (stack.url is then https://; stack.ca is the PEM to trust).
// apisvcCount > 1: ZeroMQ lets one process bind an endpoint (a second ipc bind silently steals
// the socket file) and a gateway talks to one APISVC_ENDPOINT. So the stack runs apisvcCount
// "lines": apisvc<i> binds ipc://RUN_DIR/apisvc<i>.sock and has its own gateway<i> and nginx<i>
// (stack.urls[i]; line 0 keeps the plain names, stack.url and gatewayPort). All lines share
// DATA_DIR, so a session cookie works on every gateway, and by default one authsvc. authsvcCount
// (<= apisvcCount) > 1 gives line i its own authsvc<i> (ipc://RUN_DIR/authsvc<i>.sock; lines past
// the last authsvc use the last one): refreshes then race across processes (the LMDB lease).
// bus: 'tcp' puts authsvc and apisvc on tcp://127.0.0.1 ports (one line only) with the CURVE
// certificates deploy/bus-keys makes in DATA_DIR/bus (stack.busDir).
export async function startStack({ mock, envs = ['production', 'sandbox'], env: extraEnv = {},
                                   apisvcCount = 1, authsvcCount = 1, gatewayPort, tls, bus } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rcstack-'));
  const runDir = join(dir, 'run'), dataDir = join(dir, 'data'), envDir = join(dir, 'environment');
  for (const d of [runDir, dataDir, envDir]) mkdirSync(d, { recursive: true });
  const port = gatewayPort || await freePort();
  const scheme = tls ? 'https' : 'http';
  const publicUrl = `${scheme}://127.0.0.1:${port}`;
  const ports = [port], internalPorts = [], metricsPorts = [];
  for (let i = 1; i < apisvcCount; i++) ports.push(await freePort());
  for (let i = 0; i < apisvcCount; i++) internalPorts.push(await freePort());
  // Each gateway's metrics port (METRICS_PORT; extraEnv may set it, '0' for none).
  for (let i = 0; i < apisvcCount; i++) metricsPorts.push(extraEnv.METRICS_PORT ?? String(await freePort()));
  const urls = ports.map(p => `${scheme}://127.0.0.1:${p}`);
  const internalUrls = internalPorts.map(p => `http://127.0.0.1:${p}`);
  const ca = tls ? readFileSync(tls.cert) : undefined;
  for (const c of mock.clients) {
    if (!envs.includes(c.env)) continue;
    writeFileSync(join(envDir, `.env-${c.env}`),
      `RC_SERVER_URL=${mock.url}\nRC_CLIENT_ID=${c.id}\nRC_CLIENT_SECRET=${c.secret}\nRC_REDIRECT_URL=${c.redirectUri}\n`);
  }
  const env = {
    ...process.env, RUN_DIR: runDir, DATA_DIR: dataDir, RC_ENV_DIR: envDir,
    GATEWAY_PORT: String(port), GATEWAY_BIND: '127.0.0.1', PUBLIC_URL: publicUrl, LOG_LEVEL: 'info',
    SERVICE_TIMEOUT_MS: '3000', BUILD,
    ...(tls ? { TLS_CERT: tls.cert, TLS_KEY: tls.key } : {}),
    ...(bus === 'tcp' ? { AUTHSVC_ENDPOINT: `tcp://127.0.0.1:${await freePort()}`,
                          APISVC_ENDPOINT: `tcp://127.0.0.1:${await freePort()}` } : {}), ...extraEnv,
  };
  const procs = new Map();
  // The environment of one process of line i: its apisvc's and authsvc's endpoints, its gateway's port.
  const numbered = (base, i) => (i === 0 ? base : `${base}${i}`);
  const envFor = name => {
    const m = name.match(/^(authsvc|apisvc|gateway|nginx)([0-9]*)$/);
    if (!m) return env;
    const i = Number(m[2] || 0), a = Math.min(i, authsvcCount - 1);
    const own = { ...env };
    if (i > 0) own.APISVC_ENDPOINT = `ipc://${join(runDir, `apisvc${i}.sock`)}`;
    if (m[1] === 'authsvc' ? i > 0 : a > 0) own.AUTHSVC_ENDPOINT = `ipc://${join(runDir, `authsvc${m[1] === 'authsvc' ? i : a}.sock`)}`;
    if (m[1] === 'gateway' || m[1] === 'nginx') {
      own.GATEWAY_PORT = String(ports[i]);
      own.GATEWAY_INTERNAL_PORT = String(internalPorts[i]);
      own.PUBLIC_URL = urls[i];
      own.NGINX_NAME = name;
      own.METRICS_PORT = metricsPorts[i];
    }
    return own;
  };
  // How each process is run: our binaries from BUILD; nginx<i> as deploy/nginx-conf renders it.
  const command = name => {
    if (!name.startsWith('nginx')) return [join(BUILD, 'bin', name.replace(/[0-9]+$/, '')), []];
    const [bin, ...args] = execFileSync('deploy/nginx-conf', [], { env: envFor(name), encoding: 'utf8' }).trim().split(' ');
    return [bin, args];
  };
  const stack = {
    url: publicUrl, urls, port, ports, busDir: join(dataDir, 'bus'), internalUrls, internalPorts, ca, numbered, dir, runDir, dataDir, envDir, env, procs,
    metricsUrls: metricsPorts.map(p => `http://127.0.0.1:${p}/metrics`),
    logPath: name => join(runDir, `${name}.log`),
    log: name => { try { return readFileSync(join(runDir, `${name}.log`), 'utf8'); } catch { return ''; } },
    allLogs() { return [...procs.keys()].map(n => stack.log(n)).join('\n'); },
    start(name) {
      const [bin, args] = command(name);
      const group = name.startsWith('nginx');
      const fd = openSync(join(runDir, `${name}.${group ? 'out' : 'log'}`), 'a');
      const child = spawn(bin, args, { env: envFor(name), stdio: ['ignore', fd, fd], detached: group });
      child.group = group;
      closeSync(fd);
      child.exited = new Promise(r => child.on('exit', (code, sig) => { live.delete(child); r({ code, sig }); }));
      live.add(child);
      procs.set(name, child);
      return child;
    },
    async kill(name, sig = 'SIGKILL') {
      const p = procs.get(name);
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      signal(p, sig);
      await p.exited;
    },
    async restart(name) { await stack.kill(name, 'SIGTERM'); stack.start(name); await stack.ready(); },
    // GET url/readyz: { status, body } (body: the parsed JSON, null when it is not JSON).
    async readyz(url = publicUrl) {
      const r = await get(`${url}/readyz`, { ca });
      let body = null;
      try { body = JSON.parse(r.text); } catch {}
      return { status: r.status, body };
    },
    // Every gateway is ready (/readyz 200: its authsvc, apisvc, store ...), directly and through its front.
    async ready(timeoutMs = 10000) {
      await waitFor(async () => {
        for (const u of [...internalUrls, ...urls])
          if ((await stack.readyz(u)).status !== 200) return false;
        return true;
      }, { timeoutMs, what: 'stack readiness' });
    },
    async stop() {
      await Promise.all([...procs.keys()].map(async n => {
        const p = procs.get(n);
        if (p.exitCode !== null || p.signalCode !== null) return;
        signal(p, 'SIGTERM');
        const t = setTimeout(() => signal(p, 'SIGKILL'), 5000);
        await p.exited;
        clearTimeout(t);
      }));
      if (!process.env.TEST_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
    },
  };
  // The token store is made before any service starts, as deploy/start does: the services never make one.
  execFileSync(join(BUILD, 'bin', 'authsvc'), ['--init-store'], { env, stdio: 'ignore' });
  if (bus === 'tcp') execFileSync('deploy/bus-keys', [], { env, stdio: 'ignore' });
  for (let i = 0; i < Math.min(authsvcCount, apisvcCount); i++) stack.start(numbered('authsvc', i));
  for (let i = 0; i < apisvcCount; i++) stack.start(numbered('apisvc', i));
  for (let i = 0; i < apisvcCount; i++) stack.start(numbered('gateway', i));
  try {
    for (let i = 0; i < apisvcCount; i++) stack.start(numbered('nginx', i));
    await stack.ready();
  } catch (e) {
    const logs = stack.allLogs();
    await stack.stop();
    throw new Error(`${e.message}\n--- logs:\n${logs.slice(-4000)}`);
  }
  return stack;
}
