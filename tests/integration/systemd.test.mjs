// Issue 11: the systemd units of deploy/systemd/ (one per process, nginx front included): their
// restart policy, hardening and ordering; systemd-analyze verify passes on them (the binaries they
// name, under the install prefix /opt/rcauth, are put in a temporary tree); the nginx unit runs the
// command deploy/nginx-conf prints for its settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, symlinkSync, rmSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BUILD = process.env.BUILD || 'build';
const DIR = 'deploy/systemd';
const PREFIX = '/opt/rcauth';
const UNITS = ['authsvc', 'apisvc', 'gateway', 'nginx'].map(n => `rcauth-${n}.service`);
const ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find(p => existsSync(p));

// The [Service]/[Unit] settings of a unit: name -> [values] (a key may repeat).
function settings(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    const m = line.match(/^([A-Za-z]+)=(.*)$/);
    if (m) out.set(m[1], [...(out.get(m[1]) || []), m[2]]);
  }
  return out;
}
const unit = name => settings(readFileSync(join(DIR, name), 'utf8'));

// The units with PREFIX replaced by a temporary tree holding the built binaries and deploy/.
function installTree() {
  const dir = mkdtempSync(join(tmpdir(), 'rcsystemd-'));
  const prefix = join(dir, 'opt');
  mkdirSync(join(prefix, 'bin'), { recursive: true });
  mkdirSync(join(prefix, 'deploy'));
  for (const n of ['authsvc', 'apisvc', 'gateway']) symlinkSync(resolve(BUILD, 'bin', n), join(prefix, 'bin', n));
  symlinkSync(resolve('deploy/nginx-conf'), join(prefix, 'deploy', 'nginx-conf'));
  const units = join(dir, 'units');
  mkdirSync(units);
  for (const f of readdirSync(DIR).filter(f => /\.(service|target)$/.test(f)))
    writeFileSync(join(units, f), readFileSync(join(DIR, f), 'utf8').replaceAll(PREFIX, prefix));
  return { dir, units };
}

test('one unit per process, restarted on failure, hardened, unprivileged, configured by one env file, in order', () => {
  const files = readdirSync(DIR);
  for (const u of UNITS) assert.ok(files.includes(u), `${u} exists`);
  assert.ok(files.includes('rcauth.target'));
  assert.ok(files.includes('rcauth.env.example'));
  for (const u of UNITS) {
    const s = unit(u);
    const one = k => (s.get(k) || []).join(' ');
    assert.equal(one('Restart'), 'on-failure', u);
    assert.equal(one('NoNewPrivileges'), 'yes', u);
    assert.equal(one('ProtectSystem'), 'strict', u);
    assert.equal(one('PrivateTmp'), 'yes', u);
    assert.equal(one('ReadWritePaths'), '/var/lib/rcauth /run/rcauth', u);
    assert.equal(one('User'), 'rcauth', u);
    assert.equal(one('EnvironmentFile'), '/etc/rcauth/rcauth.env', u);
    assert.equal(one('WantedBy'), 'rcauth.target', u);
    for (const cmd of [...(s.get('ExecStart') || []), ...(s.get('ExecStartPre') || [])])
      assert.match(cmd, /^\//, `${u}: ${cmd} by absolute path`);
  }
  const after = u => (unit(u).get('After') || []).join(' ');
  assert.match(after('rcauth-apisvc.service'), /rcauth-authsvc\.service/);
  assert.match(after('rcauth-gateway.service'), /rcauth-authsvc\.service.*rcauth-apisvc\.service/);
  assert.match(after('rcauth-nginx.service'), /rcauth-gateway\.service/);
  // The env file names the directories the units make writable.
  const env = readFileSync(join(DIR, 'rcauth.env.example'), 'utf8');
  assert.match(env, /^DATA_DIR=\/var\/lib\/rcauth$/m);
  assert.match(env, /^RUN_DIR=\/run\/rcauth$/m);
  assert.match(env, /^DEMO_MODE=0$/m);
});

test('the nginx unit runs what deploy/nginx-conf renders for its settings', () => {
  const s = unit('rcauth-nginx.service');
  assert.deepEqual(s.get('Environment'), ['NGINX_ERROR_LOG=stderr']);
  assert.ok(s.get('ExecStartPre').includes(`${PREFIX}/deploy/nginx-conf`));
  const dir = mkdtempSync(join(tmpdir(), 'rcnginxunit-'));
  try {
    const printed = execFileSync('deploy/nginx-conf', [], {
      env: { ...process.env, BUILD, RUN_DIR: dir, NGINX_ERROR_LOG: 'stderr', GATEWAY_INTERNAL_PORT: '5080' },
      encoding: 'utf8',
    }).trim();
    const unitCmd = s.get('ExecStart')[0].replaceAll('/run/rcauth', dir);
    assert.equal(printed.replace(/^\S+/, '/usr/sbin/nginx'), unitCmd);
    assert.match(readFileSync(join(dir, 'nginx.conf'), 'utf8'), /^error_log stderr warn;$/m);
    // nginx accepts it, as the unit's ExecStartPre checks it.
    const check = spawnSync('/usr/sbin/nginx', ['-t', '-q', ...unitCmd.split(' ').slice(1)], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('systemd-analyze verify passes on the units', { skip: !ANALYZE && 'no systemd-analyze here' }, () => {
  const { dir, units } = installTree();
  try {
    const files = readdirSync(units).map(f => join(units, f));
    const r = spawnSync(ANALYZE, ['verify', '--man=no', ...files], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal((r.stdout + r.stderr).trim(), '', 'no warning');
    // The sandbox as systemd rates it (0 = locked down, 10 = exposed): "OK" is below 4.5.
    for (const u of UNITS) {
      const sec = spawnSync(ANALYZE, ['security', '--offline=yes', join(units, u)], { encoding: 'utf8' });
      const m = (sec.stdout + sec.stderr).match(/Overall exposure level for \S+: ([0-9.]+)/);
      assert.ok(m, sec.stdout + sec.stderr);
      assert.ok(Number(m[1]) < 4.5, `${u}: exposure ${m[1]}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
