// Issue 5: the demo used the way a person uses it, in Debian's Chromium driven by
// playwright-core, against the mock RingCentral (its real login page: no
// auto-approve) and a whole stack on free loopback ports. Chromium's popup
// blocker is left ON (Playwright turns it off by default), so clicking a log-in
// link must open the login window the way it would for a person.
//
// Each step leaves a screenshot in tests/browser/screenshots/ (ignored by git);
// docs/screenshots/ holds one committed set of them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { startMockedStack, makeCertificate } from '../integration/lib/stack.mjs';

const SHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const VIEWPORT = { width: 1000, height: 700 };
const WAIT_MS = 10000;          // every wait of a step; a run takes a few seconds in all
const APIS = [
  { name: 'extension', label: 'Extensions' },
  { name: 'extension-call-log', label: 'My call log' },
  { name: 'account-call-log', label: 'Account call log' },
];

// Chromium obeys only the last --disable-features, so this list replaces playwright-core's own: it repeats
// that one (chromiumSwitches of playwright-core 1.65, checked below; less its entries for Windows and Edge)
// and adds three that halve Chromium's CPU in this test (74 s -> 37-43 s, its processes' /proc times over a
// run): the omnibox's two WebUI popups, preloaded in a renderer of their own for every window, and the spare
// renderer the browser keeps ready for the next site (42 renderer processes over the run, 13 without them).
const PLAYWRIGHT_VERSION = '1.65.';
const DISABLED_FEATURES = [
  'AvoidUnnecessaryBeforeUnloadCheckSync', 'DestroyProfileOnBrowserClose', 'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable', 'LensOverlay', 'MediaRouter', 'PaintHolding', 'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect', 'OptimizationHints', 'NetworkTimeServiceQuerying', 'AimEnabled',
  'PreconnectToSearch',
  'WebUIOmniboxPopup', 'WebUIOmniboxAimPopup', 'SpareRendererForSitePerProcess',
];

let mock, stack, browser;
const problems = [];            // console errors and page errors of our own pages, per test

before(async () => {
  const { version } = createRequire(import.meta.url)('playwright-core/package.json');
  assert.ok(version.startsWith(PLAYWRIGHT_VERSION),
    `playwright-core ${version}: bring DISABLED_FEATURES up to date with its chromiumSwitches, then PLAYWRIGHT_VERSION`);
  mkdirSync(SHOTS, { recursive: true });
  for (const f of readdirSync(SHOTS)) if (f.endsWith('.png')) rmSync(join(SHOTS, f));
  ({ mock, stack } = await startMockedStack({ autoApprove: false, env: { DEMO_MODE: '1' } }));
  // launch() starts Chromium with a new, empty user-data-dir of its own; every test gets fresh contexts.
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true, timeout: 30000,
    ignoreDefaultArgs: ['--disable-popup-blocking'],
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run', '--disable-quic',
           `--disable-features=${DISABLED_FEATURES.join(',')}`],
  });
});

after(async () => {
  await browser?.close();
  await stack?.stop();
  await mock?.stop();
});

// A new browser context (its own cookies), watched for script errors and CSP violations on our pages.
async function newContext({ blockPopups = false, ignoreHTTPSErrors = false } = {}) {
  const ctx = await browser.newContext({ viewport: VIEWPORT, ignoreHTTPSErrors });
  ctx.setDefaultTimeout(WAIT_MS);
  ctx.setDefaultNavigationTimeout(WAIT_MS);
  if (blockPopups)  // as a strict popup blocker would: window.open gives nothing
    await ctx.addInitScript(() => { window.open = () => null; });
  ctx.on('page', page => {
    page.on('pageerror', e => problems.push(`page error on ${page.url()}: ${e.message}`));
    page.on('console', m => {
      if (m.type() !== 'error' || !page.url().startsWith(stack.url)) return;
      // An error page's own status (400, 404) is logged as a failed load: that one is expected.
      if (/^Failed to load resource/.test(m.text()) && m.location().url === page.url()) return;
      problems.push(`console on ${page.url()}: ${m.text()}`);
    });
  });
  return ctx;
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

// A test body that, when it fails, leaves screenshots of the pages it had open and the stack's log tail.
function scenario(name, body) {
  test(name, { timeout: 60000 }, async () => {
    problems.length = 0;
    const contexts = [];
    const track = async opts => { const c = await newContext(opts); contexts.push(c); return c; };
    try {
      await body(track);
      assert.deepEqual(problems, [], 'no script error or CSP violation on the demo pages');
    } catch (e) {
      let i = 0;
      for (const c of contexts)
        for (const p of c.pages())
          await p.screenshot({ path: join(SHOTS, `FAILED-${name.replace(/\W+/g, '_')}-${i++}.png`) }).catch(() => {});
      e.message += `\n${diagnose()}`;
      throw e;
    } finally {
      for (const c of contexts) await c.close().catch(() => {});
    }
  });
}

// What a failure report needs to know about the stack: its processes and the tails of their logs.
function diagnose() {
  const lines = [];
  for (const [name, p] of stack.procs)
    lines.push(`${name}: pid ${p.pid} ${p.exitCode === null && p.signalCode === null ? 'running' : `exited (${p.exitCode ?? p.signalCode})`}`);
  lines.push(`run dir ${stack.runDir} ${existsSync(stack.runDir) ? 'exists' : 'IS GONE'}`);
  for (const name of stack.procs.keys()) lines.push(`--- ${name} log (tail):\n${stack.log(name).slice(-1500)}`);
  lines.push(`--- mock log (tail):\n${mock.log().slice(-1000)}`);
  return lines.join('\n');
}

const pathOf = page => { const u = new URL(page.url()); return u.pathname + u.search; };

// The state chips of the header bar, as text.
async function chips(page) {
  return (await page.locator('header .state li').allInnerTexts()).map(t => t.trim());
}

// From /, log in to env through the popup and its Authorize button; returns the owner id shown.
// shots: a screenshot name prefix, or undefined for none.
async function popupLogin(page, env, { shots } = {}) {
  await page.goto(stack.url + '/');
  const popupEvent = page.waitForEvent('popup');
  await page.getByRole('link', { name: `Log in to ${env}` }).click();
  const popup = await popupEvent;
  await popup.waitForURL(u => u.pathname === '/restapi/oauth/authorize');
  const authUrl = new URL(popup.url());
  assert.equal(authUrl.origin, mock.url, 'the popup is at the (mock) RingCentral');
  assert.equal(authUrl.searchParams.get('client_id'), `test-client-${env}`);
  await popup.getByRole('button', { name: 'Authorize' }).waitFor();
  assert.match(await popup.title(), /Sign in/);
  await page.waitForURL(u => u.pathname === '/login');
  assert.match(await page.locator('#login-status').innerText(), /window that opened/);
  if (shots !== undefined) {
    await shot(page, `${shots}02-login-waiting`);
    await shot(popup, `${shots}03-popup-login`);
  }
  const closed = popup.waitForEvent('close');
  // The popup may close itself before the click has finished waiting on its navigation.
  await popup.getByRole('button', { name: 'Authorize' }).click().catch(e => { if (!popup.isClosed()) throw e; });
  await closed;
  await page.bringToFront();
  await page.waitForURL(`${stack.url}/test`);
  return checkTestPage(page, env);
}

// On /test: the environment, the user and demo mode are shown; returns the owner id.
async function checkTestPage(page, env) {
  const main = page.locator('main[data-page="test"]');
  await main.waitFor();
  const owner = await main.getAttribute('data-owner');
  assert.match(owner, /^\d+$/, 'the test page knows the user');
  assert.equal(await main.getAttribute('data-env'), env);
  const bar = await chips(page);
  assert.ok(bar.includes(`Environment: ${env}`), `the bar shows the environment: ${bar}`);
  assert.ok(bar.includes(`User: ${owner}`), `the bar shows the user: ${bar}`);
  assert.ok(bar.includes('Demo mode'), `the bar shows demo mode: ${bar}`);
  assert.match(await page.locator('dl.facts').innerText(), new RegExp(`Environment\\s+${env}[\\s\\S]*${owner}`));
  return owner;
}

// Click one API link on the page and check what it shows belongs to owner: the extension as cards, a call
// log as a table (a row per record, start times in this browser's time zone, durations h:mm:ss), and the JSON,
// re-indented, collapsed under a <details>.
async function checkApi(page, api, owner) {
  await page.getByRole('link', { name: api.label, exact: true }).click();
  await page.waitForURL(u => u.pathname === '/test' && u.searchParams.get('api') === api.name);
  await page.locator(`main[data-page="api"][data-api="${api.name}"]`).waitFor();
  const details = page.locator('details.raw');
  assert.equal(await details.getAttribute('open'), null, 'the JSON is collapsed');
  assert.ok(!(await page.locator('pre.json').isVisible()), 'the JSON is hidden until asked for');
  const text = await page.locator('pre.json').textContent();
  assert.match(text, /^\{\n {2}"/, 'the JSON is pretty-printed (two-space indent)');
  const body = JSON.parse(text);
  const n = Number(owner) - 100000;
  assert.ok(Array.isArray(body.records) && body.records.length > 0, `${api.name} has records`);
  const count = Number(await page.locator('p.count').getAttribute('data-count'));
  assert.equal(count, body.records.length, 'the count is the number of records');
  if (api.name === 'extension') {
    assert.equal(String(body.records[0].id), owner, 'the first extension is the user\'s own');
    assert.equal(body.records[0].name, `Mock User ${n}`);
    const card = page.locator('article.ext.card').first();
    assert.equal(await card.locator('h3').innerText(), `Mock User ${n}`);
    assert.equal(await card.locator('.ext-number').innerText(), '101');
    assert.equal(await card.locator('.ext-email').innerText(), `mock.user.${n}@example.com`);
  } else {
    assert.ok(body.uri.includes(`/account/${400000000 + n}/`), `${api.name} is the user's account: ${body.uri}`);
    const rows = page.locator('table.calls tbody tr');
    assert.equal(await rows.count(), body.records.length, 'a row per record');
    const time = rows.first().locator('time');
    assert.match(await time.getAttribute('title'), / UTC$/, 'the UTC time stays as the title');
    assert.doesNotMatch(await time.innerText(), /UTC/, 'shown in the browser\'s time zone');
    for (const d of await page.locator('td.duration').allInnerTexts()) assert.match(d, /^\d+:\d\d:\d\d$/);
    assert.match(await page.locator('p.range').innerText(), /last 24 hours/);
  }
  assert.match(await page.locator('main .card .detail').first().innerText(), /HTTP 200/);
  assert.equal(await page.locator('ul.apis a[aria-current="page"]').innerText(), api.label);
  await details.locator('summary').click();
  assert.ok(await page.locator('pre.json').isVisible(), 'the JSON opens');
  return body;
}

// On a call-log page: ask for 20 days, 10 a page, with the form; then the next page and back.
async function checkCallLogPaging(page, prefix) {
  const from = new Date(Date.now() - 20 * 86400e3).toISOString().slice(0, 10);
  await page.locator('input[name="dateFrom"]').fill(from);
  await page.locator('input[name="perPage"]').fill('10');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(u => u.searchParams.get('perPage') === '10' && u.searchParams.get('dateFrom') === from);
  assert.equal(await page.locator('table.calls tbody tr').count(), 10);
  assert.match(await page.locator('p.count').innerText(), /10 records on this page \(\d+ in all\)/);
  await shot(page, `${prefix}07b-call-log-range`);
  await page.getByRole('link', { name: /Next page/ }).click();
  await page.waitForURL(u => u.searchParams.get('page') === '2');
  assert.match(await page.locator('nav.paging').innerText(), /Page 2/);
  assert.ok(await page.getByRole('link', { name: /Previous page/ }).isVisible());
  await page.getByRole('link', { name: /Previous page/ }).click();
  await page.waitForURL(u => u.searchParams.get('page') === '1');
}

// Log out with the button; back on / saying so, and /test now sends this browser to /, saying to log in first.
async function logout(page, ctx) {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(`${stack.url}/?notice=logged-out`);
  await page.locator('main[data-page="home"]').waitFor();
  assert.match(await page.locator('[data-notice="logged-out"]').innerText(), /logged out: RingCentral revoked/);
  assert.ok((await chips(page)).includes('Not logged in'));
  assert.ok(!(await ctx.cookies(stack.url)).some(c => c.name === 'rcsid'), 'the session cookie is gone');
  const res = await page.goto(`${stack.url}/test`);
  assert.equal(pathOf(page), '/?notice=login-first', '/test redirects to / after logout');
  assert.equal(res.request().redirectedFrom()?.url(), `${stack.url}/test`);
  assert.match(await page.locator('[data-notice="login-first"]').innerText(), /Log in first/);
}

scenario('/ shows both environment links and demo mode', async track => {
  const page = await (await track()).newPage();
  await page.goto(stack.url + '/');
  for (const env of ['production', 'sandbox']) {
    const link = page.getByRole('link', { name: `Log in to ${env}` });
    assert.equal(await link.getAttribute('href'), `/login?env=${env}`);
    assert.ok(await link.isVisible());
  }
  assert.ok((await chips(page)).includes('Demo mode'));
  assert.match(await page.locator('.notice.warn').innerText(), /DEMO MODE/);
  await shot(page, '01-home');
});

for (const [i, env] of ['sandbox', 'production'].entries()) {
  scenario(`${env}: popup login, the three APIs, logout`, async track => {
    const ctx = await track();
    const page = await ctx.newPage();
    const prefix = i === 0 ? '' : 'production-';
    const owner = await popupLogin(page, env, { shots: prefix });
    await shot(page, `${prefix}04-test-page`);
    for (const [k, api] of APIS.entries()) {
      await checkApi(page, api, owner);
      await shot(page, `${prefix}0${5 + k}-api-${api.name}`);
    }
    await checkCallLogPaging(page, prefix);
    await page.goto(`${stack.url}/test`);
    await logout(page, ctx);
    await shot(page, `${prefix}08-logged-out`);
  });
}

scenario('Deny in the popup: a clear message in the main window and a way to try again', async track => {
  const ctx = await track();
  const page = await ctx.newPage();
  await page.goto(stack.url + '/');
  const popupEvent = page.waitForEvent('popup');
  await page.getByRole('link', { name: 'Log in to sandbox' }).click();
  const popup = await popupEvent;
  await popup.waitForURL(u => u.pathname === '/restapi/oauth/authorize');
  const closed = popup.waitForEvent('close');
  await popup.getByRole('button', { name: 'Deny' }).click().catch(e => { if (!popup.isClosed()) throw e; });
  await closed;   // the main window explains; the popup is not left behind
  await page.bringToFront();
  const status = page.locator('#login-status.error');
  await status.waitFor();
  assert.match(await status.innerText(), /You declined the login/);
  assert.equal(pathOf(page), '/login?env=sandbox');
  const retry = page.getByRole('button', { name: 'Try again' });
  assert.ok(await retry.isVisible(), 'a way to try again');
  assert.ok(await page.getByRole('link', { name: 'Back to the start' }).isVisible(), 'a way back');
  assert.ok(!(await chips(page)).some(c => c.startsWith('User:')), 'not logged in');
  await shot(page, '09-declined');
  // Try again (a click: the popup blocker lets it through) and this time authorize.
  const again = page.waitForEvent('popup');
  await retry.click();
  const popup2 = await again;
  await popup2.waitForURL(u => u.pathname === '/restapi/oauth/authorize');
  const closed2 = popup2.waitForEvent('close');
  await popup2.getByRole('button', { name: 'Authorize' }).click().catch(e => { if (!popup2.isClosed()) throw e; });
  await closed2;
  await page.bringToFront();
  await page.waitForURL(`${stack.url}/test`);
  await checkTestPage(page, 'sandbox');
});

scenario('an error page in the login window tells the main window, which shows it instead of waiting', async track => {
  const ctx = await track();
  const page = await ctx.newPage();
  await page.goto(stack.url + '/');
  await mock.fault({ target: 'code', kind: 'invalid_client', count: 1 });
  const popupEvent = page.waitForEvent('popup');
  await page.getByRole('link', { name: 'Log in to sandbox' }).click();
  const popup = await popupEvent;
  await popup.waitForURL(u => u.pathname === '/restapi/oauth/authorize');
  await popup.getByRole('button', { name: 'Authorize' }).click();
  await popup.waitForURL(u => u.pathname === '/oauth2callback');
  assert.match(await popup.locator('main h1').innerText(), /client id or secret is wrong/i);
  await page.bringToFront();
  const status = page.locator('#login-status.error');
  await status.waitFor();
  const said = await status.innerText();
  assert.match(said, /client id or secret is wrong/i, said);
  assert.match(said, /\.env-sandbox/, 'the main window names the file to fix');
  assert.ok(await page.getByRole('button', { name: 'Try again' }).isVisible(), 'a way to try again');
  await shot(page, '15-login-error-in-main-window');
  await popup.close().catch(() => {});
});

scenario('popups blocked: the visible fallback link completes the login', async track => {
  const ctx = await track({ blockPopups: true });
  const page = await ctx.newPage();
  let popups = 0;
  page.on('popup', () => popups++);
  await page.goto(stack.url + '/');
  await page.getByRole('link', { name: 'Log in to production' }).click();
  await page.waitForURL(u => u.pathname === '/login');
  const status = page.locator('#login-status.warn');
  await status.waitFor();
  assert.match(await status.innerText(), /blocked the login window/);
  const fallback = page.getByRole('link', { name: 'Log in in this tab' });
  assert.ok(await fallback.isVisible(), 'the fallback link is visible');
  await shot(page, '10-popup-blocked');
  await fallback.click();
  await page.waitForURL(u => u.pathname === '/restapi/oauth/authorize');
  await page.getByRole('button', { name: 'Authorize' }).click();
  await page.waitForURL(`${stack.url}/test`);   // through /oauth2callback, which moves on by itself
  const owner = await checkTestPage(page, 'production');
  await checkApi(page, APIS[0], owner);
  assert.equal(popups, 0, 'no window was opened');
});

// Issue 12: cookies are per host, not per port. A page of another server on this host (another port) sets a
// well-formed session cookie; Chromium then sends it to the stack, which ignores it: the login mints its own.
scenario('a session cookie planted by a server on another port of the same host is ignored', async track => {
  const { createServer } = await import('node:http');
  const { randomBytes } = await import('node:crypto');
  const planted = randomBytes(32).toString('base64url');
  const evil = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': `rcsid=${planted}; Path=/; SameSite=Lax` });
    res.end('<p>another site on this host</p>');
  });
  await new Promise(r => evil.listen(0, '127.0.0.1', r));
  try {
    const ctx = await track();
    const page = await ctx.newPage();
    const host = new URL(stack.url).hostname;
    await page.goto(`http://${host}:${evil.address().port}/`);
    const jar = await ctx.cookies(stack.url);
    assert.equal(jar.find(c => c.name === 'rcsid')?.value, planted, 'the browser sends the planted cookie to the stack');
    // /login does not take it up: it sets an id of its own at once (before, it started the login under the planted id).
    const login = await page.goto(`${stack.url}/login?env=sandbox`);
    assert.equal(login.status(), 200, `/login answered ${login.status()}`);
    // The answer itself sets a session of the gateway's own (a tagged id), not the planted one.
    const setCookie = (await login.headerValue('set-cookie')) || '';
    assert.match(setCookie, /^rcsid=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22};/, `/login set its own session: "${setCookie}"`);
    assert.ok(!setCookie.includes(planted), 'not the planted id');
    await popupLogin(page, 'sandbox');
    const mine = (await ctx.cookies(stack.url)).find(c => c.name === 'rcsid');
    assert.ok(mine && !mine.value.startsWith(planted), 'the session is the gateway\'s own, not the planted id');
    assert.match(mine.value, /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}$/);
  } finally {
    evil.close();
  }
});

scenario('two browsers logged in at the same time each see only their own data', async track => {
  const [ctxA, ctxB] = [await track(), await track()];
  const [pageA, pageB] = [await ctxA.newPage(), await ctxB.newPage()];
  const [ownerA, ownerB] = await Promise.all([popupLogin(pageA, 'sandbox'), popupLogin(pageB, 'sandbox')]);
  assert.notEqual(ownerA, ownerB, 'two different users');
  // Each one's pages, interleaved, show only its own user.
  for (const api of APIS) {
    const [a, b] = await Promise.all([checkApi(pageA, api, ownerA), checkApi(pageB, api, ownerB)]);
    assert.notDeepEqual(a, b);
    assert.ok(!JSON.stringify(a).includes(`/extension/${ownerB}`), 'A never sees B\'s extension');
    assert.ok(!JSON.stringify(b).includes(`/extension/${ownerA}`), 'B never sees A\'s extension');
  }
  await checkApi(pageA, APIS[0], ownerA);
  await checkApi(pageB, APIS[0], ownerB);
  await shot(pageA, '11-user-a-extension');
  await shot(pageB, '12-user-b-extension');
  // One logging out leaves the other logged in.
  await pageA.goto(`${stack.url}/test`);
  await logout(pageA, ctxA);
  await pageB.goto(`${stack.url}/test`);
  assert.equal(await checkTestPage(pageB, 'sandbox'), ownerB);
});

scenario('every error page explains what happened and leads back', async track => {
  const plain = await (await track()).newPage();
  // Another browser with a login under way, for RingCentral's error= answer to be that session's own.
  const own = await (await track()).newPage();
  await own.goto(`${stack.url}/login?env=sandbox`);
  const state = new URL(await own.locator('#authorize-link').getAttribute('href')).searchParams.get('state');
  const cases = [
    { path: '/login?env=bogus', status: 400, title: /Unknown environment/ },
    { path: '/oauth2callback?code=abc&state=never-issued', status: 400, title: /login link is not valid/ },
    { path: `/oauth2callback?error=access_denied&error_description=The%20user%20denied%20access&state=${state}`,
      status: 403, title: /You declined the login/, shot: '13-declined-in-tab', page: own },
    // Not a login of this session (here no state at all): nothing of the answer is shown as RingCentral's.
    { path: '/oauth2callback?error=access_denied&error_description=Call%20us%20at%20evil.example', status: 400,
      title: /The login did not complete/, absent: /evil\.example/ },
    { path: '/nowhere', status: 404, title: /not found/i },
  ];
  for (const c of cases) {
    const page = c.page || plain;
    const res = await page.goto(stack.url + c.path);
    assert.equal(res.status(), c.status, c.path);
    assert.match(await page.locator('main h1').innerText(), c.title, c.path);
    assert.ok((await page.locator('main p').allInnerTexts()).join(' ').length > 20, `${c.path} explains`);
    if (c.absent) assert.doesNotMatch(await page.locator('main').innerText(), c.absent, c.path);
    if (c.shot) await shot(page, c.shot);
    await page.getByRole('link', { name: 'Back to the start' }).click();
    await page.waitForURL(`${stack.url}/`);
  }
  // An API the test page does not offer, while logged out: back to the start.
  await plain.goto(`${stack.url}/test?api=nope`);
  assert.equal(pathOf(plain), '/?notice=login-first');
});

scenario('HTTPS at the front: popup login, the three APIs, logout; the cookie is __Host- and Secure', async track => {
  const dir = mkdtempSync(join(tmpdir(), 'rcbrowser-tls-'));
  const plain = { mock, stack };
  const tls = await startMockedStack({ autoApprove: false, env: { DEMO_MODE: '1' }, tls: makeCertificate(dir) });
  ({ mock, stack } = tls);    // the helpers above use the stack of the moment
  try {
    assert.match(stack.url, /^https:/);
    const ctx = await track({ ignoreHTTPSErrors: true });
    const page = await ctx.newPage();
    const owner = await popupLogin(page, 'sandbox');
    const cookie = (await ctx.cookies(stack.url)).find(c => c.name === '__Host-rcsid');
    assert.ok(cookie, 'the session cookie is __Host-rcsid');
    assert.equal(cookie.secure, true);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.path, '/');
    for (const api of APIS) await checkApi(page, api, owner);
    await shot(page, '14-https-api');
    await page.goto(`${stack.url}/test`);
    await logout(page, ctx);
    assert.ok(!(await ctx.cookies(stack.url)).some(c => c.name === '__Host-rcsid'), 'the cookie is gone');
  } finally {
    ({ mock, stack } = plain);
    await tls.stack.stop();
    await tls.mock.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
