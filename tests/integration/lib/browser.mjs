// A scripted browser for integration tests: one cookie jar, manual redirects,
// and the login dance (gateway /login -> mock authorize -> gateway /oauth2callback).
export class Browser {
  constructor(base) { this.base = base; this.cookies = new Map(); this.seen = []; }

  cookieHeader() { return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '); }

  absorb(res) {
    for (const sc of res.headers.getSetCookie()) {
      const [pair, ...attrs] = sc.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim(), value = pair.slice(i + 1).trim();
      const expired = attrs.some(a => /^\s*max-age\s*=\s*0\s*$/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name); else this.cookies.set(name, value);
    }
  }

  // Request a gateway path (or an absolute URL); returns { status, headers, text, location, setCookies }.
  async request(path, { method = 'GET', headers = {}, body } = {}) {
    const url = path.startsWith('http') ? path : this.base + path;
    const h = { ...headers };
    if (url.startsWith(this.base) && this.cookies.size) h.cookie = this.cookieHeader();
    const res = await fetch(url, { method, headers: h, body, redirect: 'manual' });
    const setCookies = res.headers.getSetCookie();
    if (url.startsWith(this.base)) this.absorb(res);
    const text = await res.text();
    const out = { status: res.status, headers: res.headers, text, location: res.headers.get('location'), setCookies, url };
    this.seen.push(out);
    return out;
  }

  get(path, opts = {}) { return this.request(path, opts); }

  post(path, form, opts = {}) {
    return this.request(path, {
      method: 'POST', ...opts,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(opts.headers || {}) },
      body: new URLSearchParams(form).toString(),
    });
  }

  // The authorize URL the /login page offers (from its fallback link).
  static authorizeUrl(page) {
    const m = page.match(/href="(https?:\/\/[^"]*\/restapi\/oauth\/authorize\?[^"]*)"/);
    if (!m) throw new Error('no authorize link on the login page');
    return m[1].replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"');
  }

  // Start a login: returns the authorize URL (the pending login is stored).
  async startLogin(env) {
    const r = await this.get(`/login?env=${env}`);
    if (r.status !== 200) throw new Error(`/login answered ${r.status}: ${r.text.slice(0, 200)}`);
    return Browser.authorizeUrl(r.text);
  }

  // Approve (or deny) at the mock and return the callback path with code (or error) and state.
  // An auto-approving mock redirects at once; otherwise its login form is submitted.
  static async approve(authorizeUrl, decision = 'approve') {
    let res = await fetch(authorizeUrl, { redirect: 'manual' });
    if (res.status === 200) {
      const page = await res.text();
      const m = page.match(/name="request" value="([^"]+)"/);
      if (!m) throw new Error('the authorize page has no login form');
      res = await fetch(new URL('/restapi/oauth/authorize', authorizeUrl), {
        method: 'POST', redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ request: m[1], decision }).toString(),
      });
    }
    const loc = res.headers.get('location');
    if (res.status !== 302 || !loc) throw new Error(`authorize answered ${res.status}`);
    const u = new URL(loc);
    return u.pathname + u.search;
  }

  // The whole login; returns the callback response.
  async login(env = 'sandbox') {
    const auth = await this.startLogin(env);
    const cb = await Browser.approve(auth);
    const r = await this.get(cb);
    if (r.status !== 200) throw new Error(`callback answered ${r.status}: ${r.text.slice(0, 300)}`);
    return r;
  }

  // The CSRF token of the logout form on a page.
  static csrf(page) {
    const m = page.match(/name="csrf"\s+value="([^"]+)"/) || page.match(/value="([^"]+)"\s+name="csrf"/);
    if (!m) throw new Error('no csrf field on the page');
    return m[1];
  }
}
