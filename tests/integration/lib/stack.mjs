// Start a whole stack (authsvc, apisvc, gateway, and nginx in front: the same front
// deploy/start runs, configured by deploy/nginx-conf) against a mock RingCentral, on
// loopback, temporary RUN_DIR / DATA_DIR / RC_ENV_DIR. Every port is the OS's pick, never
// a guess: the public ports are sockets held here (holdPorts) and handed to each nginx; the
// gateway and the services bind port 0 / tcp://127.0.0.1:* and write what they got into
// RUN_DIR (common/runfile.h), which the stack reads before it starts what needs it. So
// stacks can start in parallel. Everything it starts is stopped by PID (stop(), and on
// process exit); stop() fails when a process's log holds a sanitizer report.
import { spawn, execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, openSync, closeSync, existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMock, sanitizerReport } from './mock.mjs';
import { slack } from './timing.mjs';

const BUILD = process.env.BUILD || 'build';
const live = new Set();
// nginx runs in a process group of its own (master and workers): the group is signalled.
const signal = (p, sig) => { try { if (p.group) process.kill(-p.pid, sig); else p.kill(sig); } catch {} };
process.on('exit', () => { for (const p of live) signal(p, 'SIGKILL'); });

// The gateway threads of every stack the tests start: 256 civetweb threads, not 1152. A test's stack never has
// more than a few dozen requests in flight (nginx-conf sizes the front's upstream to it), and starting and
// joining 1152 threads costs each gateway start about 0.25 s of CPU, some 15 s over a run. A test of the limits
// sets its own.
const GATEWAY_THREADS = '256';

// Run a command of the project (deploy/start, deploy/stop, …) as the tests of deploy/ do: resolves
// { code, out } (stdout, then stderr). NO_BUILD (the suite built it, in BUILD) and GATEWAY_THREADS, unless
// env says otherwise.
export function runCommand(cmd, args = [], env = {}, timeout = 60000) {
  return new Promise(resolve => {
    execFile(cmd, args, { env: { ...process.env, GATEWAY_THREADS, NO_BUILD: '1', BUILD, ...env }, timeout },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, out: stdout + stderr }));
  });
}

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

// Whether port is free on 127.0.0.1 now (bound and closed again).
function canBind(port) {
  return new Promise(resolve => {
    const srv = createServer();
    srv.unref();
    srv.on('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

// A port for a process that must be told one (deploy/start's nginx and mock; a socket of a test's own). The
// stacks of startStack never use it: holdPorts, and ports reported through RUN_DIR. It is picked at random
// below the kernel's ephemeral range (ip_local_port_range), where neither a port-0 bind nor an outgoing
// connection of the test programs running side by side can take it before its process binds it, and it is
// free when checked. (A port-0 bind, closed and handed on, was taken meanwhile: one run in a few.)
export async function freePort() {
  let low = 32768;
  try { low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]); } catch {}
  const top = Math.min(low, 65536) - 1, bottom = Math.max(1024, top - 12000);
  for (let i = 0; top - bottom >= 1000 && i < 100; i++) {
    const port = bottom + Math.floor(Math.random() * (top - bottom + 1));
    if (await canBind(port)) return port;
  }
  return new Promise((resolve, reject) => {    // no room below the range: the OS's pick
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

// Poll check until it returns something truthy (returned); an error it throws with .final set ends the wait.
export async function waitFor(check, { timeoutMs = 10000, intervalMs = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try { const v = await check(); if (v) return v; } catch (e) { if (e.final) throw e; last = e; }
    await new Promise(r => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ': ' + last.message : ''}`);
}

// Debian's python3 (tests/integration/observe.test.mjs uses it too): a version manager's shim on PATH may
// take seconds to start one.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
// The helper that holds the public sockets (python3, as a script on its command line): it listens on
// 127.0.0.1 port 0 once per port asked for, prints the ports, then hands a socket (by its index, sent on
// the unix socket argv[1]) to whoever asks, as SCM_RIGHTS. It never accepts: while no nginx runs, a
// connection waits in the backlog. It exits when its stdin closes (the test process died).
const HOLDER = `
import os, socket, sys, threading
socks = []
for _ in range(int(sys.argv[2])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4096)
    s.setblocking(False)    # as nginx's own: its workers accept until EAGAIN (multi_accept)
    socks.append(s)
u = socket.socket(socket.AF_UNIX)
u.bind(sys.argv[1])
u.listen(16)
threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
print(" ".join(str(s.getsockname()[1]) for s in socks), flush=True)
while True:
    c, _ = u.accept()
    try:
        socket.send_fds(c, [b"k"], [socks[int(c.recv(8))].fileno()])
    except (OSError, ValueError, IndexError):
        pass                # a launcher that died or asked for no socket: the others go on
    c.close()
`;
// nginx's launcher: fetch socket argv[2] from the holder at argv[1], make it descriptor 3, and become nginx
// (argv[3:]) with NGINX="3;", nginx's inherited sockets (its binary upgrade's way): its listen directive
// for that address takes the socket instead of binding one. The pid stays the launcher's.
const LAUNCH = `
import os, socket, sys
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[1])
c.sendall(sys.argv[2].encode())
_, fds, _, _ = socket.recv_fds(c, 8, 1)
c.close()
if fds[0] != 3:
    os.dup2(fds[0], 3)
    os.close(fds[0])
os.set_inheritable(3, True)
os.environ["NGINX"] = "3;"
os.execvp(sys.argv[3], sys.argv[3:])
`;

// Listening sockets on 127.0.0.1 ports the OS picks, held by a helper process until release(): the ports
// are known before anything starts (a mock's redirect URIs name them) and nobody else can take them, not
// even while their nginx restarts. { ports, command(i, bin, args) → [bin, args] running nginx on socket i,
// release() }. Give it to startStack (front), which then owns it.
export async function holdPorts(count = 1) {
  const dir = mkdtempSync(join(tmpdir(), 'rcfront-'));
  const path = join(dir, 'holder.sock');
  const child = spawn(PYTHON, ['-c', HOLDER, path, String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  live.add(child);
  child.exited = new Promise(r => child.on('exit', () => { live.delete(child); r(); }));
  const release = async () => {
    if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await child.exited; }
    rmSync(dir, { recursive: true, force: true });
  };
  const line = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', d => { out += d; if (out.includes('\n')) resolve(out.trim()); });
    child.on('exit', code => reject(new Error(`the port holder exited (${code}) before it listened`)));
    child.on('error', reject);
  }).catch(async e => { await release(); throw e; });
  const ports = line.split(' ').map(Number);
  return {
    ports,
    command: (i, bin, args) => [PYTHON, ['-c', LAUNCH, path, String(i), bin, ...args]],
    release,
  };
}

// A mock RingCentral whose clients redirect to a public port held here, then a stack whose nginx
// listens there (stackOptions as for startStack). The redirect URI and the pages share the host
// 127.0.0.1, so the session cookie the callback sets is the one the pages get.
export async function startMockedStack({ autoApprove = true, ...stackOptions } = {}) {
  const front = await holdPorts(stackOptions.apisvcCount || 1);
  const clients = clientsFor(`${stackOptions.tls ? 'https' : 'http'}://127.0.0.1:${front.ports[0]}/oauth2callback`);
  let mock;
  try {
    mock = await startMock({ clients, autoApprove });
  } catch (e) {
    await front.release();
    throw e;
  }
  mock.clients = clients;
  try {
    return { mock, stack: await startStack({ mock, front, ...stackOptions }) };
  } catch (e) {
    await mock.stop();
    throw e;
  }
}

// The clients registered at the mock for each environment.
export function clientsFor(redirectUri) {
  return ['production', 'sandbox'].map(env => ({
    env, id: `test-client-${env}`, secret: `test-secret-${env}-x7`, redirectUri,
  }));
}

// Each gateway listens on a loopback port of its own (stack.internalUrls[i]) behind its nginx
// (stack.urls[i], the public side every test uses). tls: { cert, key } (PEM files) serves HTTPS
// there (stack.url is then https://; stack.ca is the PEM to trust).
// front: public sockets from holdPorts (at least one per line; the stack releases them at stop);
// without it the stack holds its own. Its ports are the stack's (stack.port, stack.ports).
// apisvcCount > 1: ZeroMQ lets one process bind an endpoint (a second ipc bind silently steals
// the socket file) and a gateway talks to one APISVC_ENDPOINT. So the stack runs apisvcCount
// "lines": apisvc<i> binds ipc://RUN_DIR/apisvc<i>.sock and has its own gateway<i> and nginx<i>
// (stack.urls[i]; line 0 keeps the plain names, stack.url and stack.port). All lines share
// DATA_DIR, so a session cookie works on every gateway, and by default one authsvc. authsvcCount
// (<= apisvcCount) > 1 gives line i its own authsvc<i> (ipc://RUN_DIR/authsvc<i>.sock; lines past
// the last authsvc use the last one): refreshes then race across processes (the LMDB lease).
// bus: 'tcp' puts authsvc and apisvc on tcp://127.0.0.1 ports the OS picks (one line only; the
// real endpoints are in stack.env once started) with the CURVE certificates deploy/bus-keys makes
// in DATA_DIR/bus (stack.busDir).
// Each process gets INSTANCE_NAME = its name, so its port files in RUN_DIR are its own. A gateway
// started again (stack.start, restart) keeps the ports it reported, which its nginx was told.
export async function startStack({ mock, envs = ['production', 'sandbox'], env: extraEnv = {},
                                   apisvcCount = 1, authsvcCount = 1, front, tls, bus, gatewayPort } = {}) {
  if (gatewayPort) throw new Error('startStack: gatewayPort is gone (a port guessed free may be taken): pass front (holdPorts)');
  if (!front) front = await holdPorts(apisvcCount);
  if (front.ports.length < apisvcCount) throw new Error(`front holds ${front.ports.length} ports for ${apisvcCount} lines`);
  const dir = mkdtempSync(join(tmpdir(), 'rcstack-'));
  const runDir = join(dir, 'run'), dataDir = join(dir, 'data'), envDir = join(dir, 'environment');
  for (const d of [runDir, dataDir, envDir]) mkdirSync(d, { recursive: true });
  const ports = front.ports.slice(0, apisvcCount), port = ports[0];
  const scheme = tls ? 'https' : 'http';
  const publicUrl = `${scheme}://127.0.0.1:${port}`;
  // Filled in as each gateway reports its ports (METRICS_PORT: 'any' unless extraEnv sets it; '0': none).
  const internalPorts = [], metricsPorts = [], internalUrls = [], metricsUrls = [];
  const metricsOn = (extraEnv.METRICS_PORT ?? 'any') !== '0';
  const urls = ports.map(p => `${scheme}://127.0.0.1:${p}`);
  const ca = tls ? readFileSync(tls.cert) : undefined;
  for (const c of mock.clients) {
    if (!envs.includes(c.env)) continue;
    writeFileSync(join(envDir, `.env-${c.env}`),
      `RC_SERVER_URL=${mock.url}\nRC_CLIENT_ID=${c.id}\nRC_CLIENT_SECRET=${c.secret}\nRC_REDIRECT_URL=${c.redirectUri}\n`);
  }
  const env = {
    ...process.env, RUN_DIR: runDir, DATA_DIR: dataDir, RC_ENV_DIR: envDir,
    GATEWAY_PORT: String(port), GATEWAY_BIND: '127.0.0.1', PUBLIC_URL: publicUrl, LOG_LEVEL: 'info',
    // How long the gateway waits for a silent service before its 503: 3 s at the suite's usual scale (2),
    // more where a sanitizer build answers pings slower (tests/run: 3).
    SERVICE_TIMEOUT_MS: String(slack(1500)), BUILD,
    GATEWAY_THREADS,
    ...(tls ? { TLS_CERT: tls.cert, TLS_KEY: tls.key } : {}),
    // Bound where the OS says; the clients are started with the endpoints the services report.
    ...(bus === 'tcp' ? { AUTHSVC_ENDPOINT: 'tcp://127.0.0.1:*', APISVC_ENDPOINT: 'tcp://127.0.0.1:*' } : {}), ...extraEnv,
  };
  const procs = new Map();
  // The environment of one process of line i: its apisvc's and authsvc's endpoints, its gateway's ports.
  const numbered = (base, i) => (i === 0 ? base : `${base}${i}`);
  const envFor = name => {
    const m = name.match(/^(authsvc|apisvc|gateway|nginx)([0-9]*)$/);
    if (!m) return { ...env, INSTANCE_NAME: name };
    const i = Number(m[2] || 0), a = Math.min(i, authsvcCount - 1);
    const own = { ...env, INSTANCE_NAME: name };
    if (i > 0) own.APISVC_ENDPOINT = `ipc://${join(runDir, `apisvc${i}.sock`)}`;
    if (m[1] === 'authsvc' ? i > 0 : a > 0) own.AUTHSVC_ENDPOINT = `ipc://${join(runDir, `authsvc${m[1] === 'authsvc' ? i : a}.sock`)}`;
    if (m[1] === 'gateway' || m[1] === 'nginx') {
      own.GATEWAY_PORT = String(ports[i]);
      own.GATEWAY_INTERNAL_PORT = String(internalPorts[i] ?? 0);
      own.PUBLIC_URL = urls[i];
      own.NGINX_NAME = name;
      own.METRICS_PORT = metricsOn ? String(metricsPorts[i] ?? extraEnv.METRICS_PORT ?? 'any') : '0';
    }
    return own;
  };
  // How each process is run: our binaries from BUILD; nginx<i> as deploy/nginx-conf renders it, on front's socket i.
  const command = name => {
    if (!name.startsWith('nginx')) return [join(BUILD, 'bin', name.replace(/[0-9]+$/, '')), []];
    const [bin, ...args] = execFileSync('deploy/nginx-conf', [], { env: envFor(name), encoding: 'utf8' }).trim().split(' ');
    return front.command(Number(name.slice(5) || 0), bin, args);
  };
  const logFile = name => join(runDir, `${name}.${name.startsWith('nginx') ? 'out' : 'log'}`);
  const stack = {
    url: publicUrl, urls, port, ports, busDir: join(dataDir, 'bus'), internalUrls, internalPorts, ca, numbered, dir, runDir, dataDir, envDir, env, procs,
    metricsUrls, front,
    logPath: name => join(runDir, `${name}.log`),
    log: name => { try { return readFileSync(join(runDir, `${name}.log`), 'utf8'); } catch { return ''; } },
    allLogs() { return [...procs.keys()].map(n => stack.log(n)).join('\n'); },
    start(name) {
      const [bin, args] = command(name);
      const group = name.startsWith('nginx');
      const fd = openSync(logFile(name), 'a');
      const child = spawn(bin, args, { env: envFor(name), stdio: ['ignore', fd, fd], detached: group });
      child.group = group;
      closeSync(fd);
      child.exited = new Promise(r => child.on('exit', (code, sig) => { live.delete(child); r({ code, sig }); }));
      live.add(child);
      procs.set(name, child);
      return child;
    },
    // What process name wrote into RUN_DIR/<name>.<what> once listening (common/runfile.h): waits for it,
    // failing when the process exits first or after timeoutMs.
    async reported(name, what, timeoutMs = 10000) {
      const p = procs.get(name), path = join(runDir, `${name}.${what}`);
      return waitFor(() => {
        if (existsSync(path)) return readFileSync(path, 'utf8').trim();
        if (p && (p.exitCode !== null || p.signalCode !== null))
          throw Object.assign(new Error(`${name} exited (${p.exitCode ?? p.signalCode}) before writing ${path}`), { final: true });
        return null;
      }, { timeoutMs, what: `${name}'s ${what} in RUN_DIR` });
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
    // Stop every process (SIGTERM, SIGKILL after 5 s), release the public sockets, remove the folder. Rejects
    // when a process's log holds a sanitizer report (quoted; the folder is then kept).
    async stop() {
      await Promise.all([...procs.keys()].map(async n => {
        const p = procs.get(n);
        if (p.exitCode !== null || p.signalCode !== null) return;
        signal(p, 'SIGTERM');
        const t = setTimeout(() => signal(p, 'SIGKILL'), 5000);
        await p.exited;
        clearTimeout(t);
      }));
      await front.release();
      const reports = [...procs.keys()].flatMap(n => [logFile(n), join(runDir, `${n}.log`)])
        .filter((f, i, all) => all.indexOf(f) === i)
        .map(f => { let text = ''; try { text = readFileSync(f, 'utf8'); } catch {} return sanitizerReport(text, f); })
        .filter(Boolean);
      if (!process.env.TEST_KEEP_TMP && !reports.length) rmSync(dir, { recursive: true, force: true });
      if (reports.length) throw new Error(`sanitizer report in the stack's logs (kept in ${dir}):\n${reports.join('\n')}`);
    },
  };
  try {
    // The token store is made before any service starts, as deploy/start does: the services never make one.
    execFileSync(join(BUILD, 'bin', 'authsvc'), ['--init-store'], { env, stdio: 'ignore' });
    if (bus === 'tcp') execFileSync('deploy/bus-keys', [], { env, stdio: 'ignore' });
    // Each server first; an endpoint with a "*" is replaced by the one it reports before its clients start.
    const servers = async (base, count, variable) => {
      for (let i = 0; i < count; i++) stack.start(numbered(base, i));
      if ((env[variable] || '').includes('*')) env[variable] = await stack.reported(base, 'endpoint');
    };
    await servers('authsvc', Math.min(authsvcCount, apisvcCount), 'AUTHSVC_ENDPOINT');
    await servers('apisvc', apisvcCount, 'APISVC_ENDPOINT');
    for (let i = 0; i < apisvcCount; i++) stack.start(numbered('gateway', i));
    for (let i = 0; i < apisvcCount; i++) {
      const name = numbered('gateway', i);
      // <name>.port is written after <name>.metrics.port: both are there once it is.
      internalPorts.push(Number(await stack.reported(name, 'port')));
      internalUrls.push(`http://127.0.0.1:${internalPorts[i]}`);
      if (metricsOn) {
        metricsPorts.push(Number(await stack.reported(name, 'metrics.port')));
        metricsUrls.push(`http://127.0.0.1:${metricsPorts[i]}/metrics`);
      }
    }
    for (let i = 0; i < apisvcCount; i++) stack.start(numbered('nginx', i));
    await stack.ready();
  } catch (e) {
    const logs = stack.allLogs();
    let also = '';
    await stack.stop().catch(s => { also = `\n${s.message}`; });
    throw new Error(`${e.message}${also}\n--- logs:\n${logs.slice(-4000)}`);
  }
  return stack;
}
