// Issue 10 item 4: call logs a person can read. The test page shows the call logs as a table (rows =
// the mock's records), the extension list as cards, the JSON collapsed; dateFrom/dateTo/perPage/view/
// direction/type reach RingCentral (the mock echoes them in its URIs and honours them); previous/next
// follow RingCentral's navigation but only to /test with allow-listed parameters, never another host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMockedStack, startStack, clientsFor, holdPorts } from './lib/stack.mjs';
import { startMock } from './lib/mock.mjs';
import { Browser } from './lib/browser.mjs';

const JSON_ACCEPT = { headers: { accept: 'application/json' } };
const DAY = 86400e3;

let mock, stack;
before(async () => {
  ({ mock, stack } = await startMockedStack({ env: { LOGIN_RATE_LIMIT: '0' } }));
});
after(async () => {
  await stack?.stop();
  await mock?.stop();
});

async function loggedIn(s = stack) {
  const b = new Browser(s.url);
  await b.login('sandbox');
  assert.equal((await b.get('/test')).status, 200);
  return b;
}

const unescape = s => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
  .replace(/&#39;/g, "'").replace(/&amp;/g, '&');
const rows = html => [...html.matchAll(/<tr data-id="([^"]*)">/g)].map(m => m[1]);
const links = html => Object.fromEntries([...html.matchAll(/rel="(prev|next)" href="([^"]*)"/g)].map(m => [m[1], unescape(m[2])]));
const isoDay = ms => new Date(ms).toISOString().slice(0, 10);

function rawJson(html) {
  const m = html.match(/<details class="raw">[\s\S]*?<pre class="json">([\s\S]*?)<\/pre>[\s\S]*?<\/details>/);
  assert.ok(m, 'the JSON is on the page, in a collapsed <details>');
  return JSON.parse(unescape(m[1]));
}

test('a call log is a table: one row per record of the last 24 hours, a count, the JSON collapsed', async () => {
  const b = await loggedIn();
  for (const api of ['extension-call-log', 'account-call-log']) {
    const page = await b.get(`/test?api=${api}`);
    assert.equal(page.status, 200);
    assert.match(page.text, /<table class="calls">/);
    const json = rawJson(page.text);
    assert.ok(json.records.length > 0, `${api} has calls in the last 24 hours`);
    assert.deepEqual(rows(page.text), json.records.map(r => r.id), `${api}: a row per record, in order`);
    assert.match(page.text, new RegExp(`data-count="${json.records.length}">${json.records.length} records? on this page`));
    for (const r of json.records) assert.ok(Date.now() - Date.parse(r.startTime) <= DAY, 'RingCentral\'s default range');
    assert.match(page.text, /last 24 hours/, 'the default range is stated');
    assert.match(page.text, /<time datetime="\d{4}-\d\d-\d\dT[^"]+" data-local>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC<\/time>/);
    assert.match(page.text, /<td class="duration">\d+:\d\d:\d\d<\/td>/);
    // Accept: application/json still gets the body as RingCentral sent it
    const j = await b.get(`/test?api=${api}`, JSON_ACCEPT);
    assert.equal(j.status, 200);
    assert.deepEqual(JSON.parse(j.text).records.map(r => r.id), json.records.map(r => r.id));
  }
  const ext = await b.get('/test?api=extension');
  assert.match(ext.text, /<article class="ext card" data-id="\d+">\n<h3>Mock User \d+<\/h3>/);
  assert.match(ext.text, /class="ext-email">mock\.user\.\d+@example\.com</);
  assert.ok(rawJson(ext.text).records.length >= 2);
});

test('the date range and perPage reach RingCentral; previous/next follow its navigation', async () => {
  const b = await loggedIn();
  const from = isoDay(Date.now() - 20 * DAY);
  const first = await b.get(`/test?api=extension-call-log&dateFrom=${from}&perPage=10`);
  assert.equal(first.status, 200);
  const json = rawJson(first.text);
  // what the mock received: its uri echoes the parameters; the records honour them
  assert.match(json.uri, new RegExp(`dateFrom=${from}T00%3A00%3A00\\.000Z`, 'i'));
  assert.match(json.uri, /perPage=10/);
  assert.equal(json.records.length, 10);
  assert.equal(json.paging.totalElements, 24, 'every call of the 14 days');
  for (const r of json.records) assert.ok(Date.parse(r.startTime) >= Date.parse(`${from}T00:00:00Z`));
  assert.match(first.text, /value="10"/, 'the form keeps perPage');
  assert.match(first.text, new RegExp(`name="dateFrom" value="${from}"`), 'the form keeps the date');
  let l = links(first.text);
  assert.equal(l.prev, undefined, 'no previous page on page 1');
  assert.ok(l.next.startsWith('/test?api=extension-call-log&'), l.next);
  assert.match(l.next, /page=2/);
  assert.match(l.next, /perPage=10/);
  assert.match(l.next, /dateFrom=/);
  const second = await b.get(l.next);
  assert.equal(second.status, 200);
  const two = rawJson(second.text);
  assert.equal(two.paging.page, 2);
  assert.equal(two.records.length, 10);
  assert.ok(!two.records.some(r => json.records.some(o => o.id === r.id)), 'page 2 is other calls');
  l = links(second.text);
  assert.match(l.prev, /page=1/);
  const third = await b.get(l.next);
  const three = rawJson(third.text);
  assert.equal(three.records.length, 4);
  assert.equal(links(third.text).next, undefined, 'no next page on the last');
  // dateTo, direction, type, view=Detailed
  const to = isoDay(Date.now() - 3 * DAY);
  const r = JSON.parse((await b.get(`/test?api=account-call-log&dateFrom=${from}&dateTo=${to}&direction=Inbound&type=Voice&view=Detailed`, JSON_ACCEPT)).text);
  assert.ok(r.records.length > 0);
  for (const c of r.records) {
    assert.ok(Date.parse(c.startTime) <= Date.parse(`${to}T23:59:59.999Z`));
    assert.equal(c.direction, 'Inbound');
    assert.equal(c.type, 'Voice');
    assert.ok(Array.isArray(c.legs), 'Detailed adds legs');
  }
});

test('an empty range says why it may be empty; RingCentral omits the page fields', async () => {
  const b = await loggedIn();
  const page = await b.get('/test?api=extension-call-log&dateFrom=2020-01-01&dateTo=2020-01-31');
  assert.equal(page.status, 200);
  assert.match(page.text, /No calls in this range/);
  assert.match(page.text, /last 24 hours unless a From date/);
  assert.doesNotMatch(page.text, /<table/);
  const json = rawJson(page.text);
  assert.deepEqual(json.records, []);
  assert.ok(!('pageStart' in json.paging) && !('totalElements' in json.paging), JSON.stringify(json.paging));
});

test('parameters are validated in the gateway: bad values answer 400, unknown ones never go upstream', async () => {
  const b = await loggedIn();
  for (const q of ['perPage=0', 'perPage=5000', 'page=-1', 'view=Everything', 'direction=Up', 'type=SMS',
    'dateFrom=yesterday', 'dateFrom=2024-02-30T10:00:00%2B1', 'dateTo=2024-01-01%26perPage%3D1']) {
    const page = await b.get(`/test?api=account-call-log&${q}`);
    assert.equal(page.status, 400, q);
    assert.match(page.text, /Parameter not accepted/);
    const j = await b.get(`/test?api=account-call-log&${q}`, JSON_ACCEPT);
    assert.equal(j.status, 400, q);
  }
  // the extension list takes paging only
  assert.equal((await b.get('/test?api=extension&dateFrom=2024-01-01')).status, 400);
  // a parameter outside the allow-list is not passed on
  const r = JSON.parse((await b.get('/test?api=extension-call-log&showDeleted=true&phoneNumber=1', JSON_ACCEPT)).text);
  assert.doesNotMatch(r.uri, /showDeleted|phoneNumber/);
});

test('navigation URIs naming another host: the links stay on /test, the host is never followed', async () => {
  const front = await holdPorts();
  const clients = clientsFor(`http://127.0.0.1:${front.ports[0]}/oauth2callback`);
  const evil = await startMock({ clients, extraArgs: ['--uri-base', 'https://evil.example:8443'] });
  evil.clients = clients;
  let s;
  try {
    s = await startStack({ mock: evil, front, env: { LOGIN_RATE_LIMIT: '0' } });
    const b = await loggedIn(s);
    const from = isoDay(Date.now() - 20 * DAY);
    const page = await b.get(`/test?api=extension-call-log&dateFrom=${from}&perPage=5`);
    assert.equal(page.status, 200);
    assert.match(rawJson(page.text).navigation.nextPage.uri, /^https:\/\/evil\.example:8443\//);
    const l = links(page.text);
    assert.ok(l.next.startsWith('/test?api=extension-call-log&'), l.next);
    assert.doesNotMatch(l.next, /evil/);
    const html = page.text.replace(/<details class="raw">[\s\S]*<\/details>/, '');
    assert.doesNotMatch(html, /href="[^"]*evil/, 'no link to the other host');
    assert.equal((await b.get(l.next)).status, 200, 'the next page comes from the configured server');
  } finally {
    await s?.stop();
    await evil.stop();
  }
});

test('the form offers direction and type; chosen, they filter the table and stay selected; "any" sends none', async () => {
  const b = await loggedIn();
  const from = isoDay(Date.now() - 13 * DAY);
  const page = await b.get(`/test?api=extension-call-log&dateFrom=${from}&direction=Inbound&type=Voice`);
  assert.equal(page.status, 200);
  assert.match(page.text, /<select name="direction"><option value="">any<\/option><option selected>Inbound<\/option><option>Outbound<\/option><\/select>/);
  assert.match(page.text, /<select name="type"><option value="">any<\/option><option selected>Voice<\/option><option>Fax<\/option><\/select>/);
  const json = rawJson(page.text);
  assert.ok(json.records.length > 0);
  for (const r of json.records) assert.ok(r.direction === 'Inbound' && r.type === 'Voice', JSON.stringify(r).slice(0, 200));
  // The form's "any" submits empty values: no filter, not an error.
  const any = await b.get(`/test?api=extension-call-log&dateFrom=${from}&direction=&type=`);
  assert.equal(any.status, 200);
  const all = rawJson(any.text).records;
  assert.ok(all.some(r => r.direction === 'Outbound'), 'without a filter both directions come');
});
