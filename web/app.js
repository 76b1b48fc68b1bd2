// Lockbox console: session, API client, navigation by role and hash routing.
// Plain ES module, no build step.  Every view lives in views/*.js and
// exports render(ctx).
import { h, clear, str, arr, tickOne, zoneName, countdown, timeEl } from './views/ui.js';

// ---- State (memory only; the CSRF token is re-read via GET /v1/session) ---

export const state = {
  user: null,          // {id, realm, roles, ...} from the session
  csrf: null,          // csrf_token of the session, never stored anywhere
  tenants: [],         // provider principals: the tenants they may pick
  tenant: null,        // the tenant the views work on
  tenantInfo: null,    // GET /v1/tenants/{t} (plan, cloud …) when known
};

// ---- API client ---------------------------------------------------------

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Words for any error: the API's message plus its code. */
export function errorText(err) {
  if (err instanceof ApiError) return `${err.message} (${err.code})`;
  return `Something went wrong: ${err && err.message ? err.message : String(err)}`;
}

let endingSession = false;

export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network_error', 'The Lockbox server could not be reached. Check your connection and try again.');
  }
  if (res.ok && opts.raw) return res;
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const e = data && typeof data === 'object' && data.error && typeof data.error === 'object' ? data.error : {};
    const err = new ApiError(res.status, str(e.code) || `http_${res.status}`,
      str(e.message) || `The server answered ${res.status} ${res.statusText}.`);
    if (res.status === 401 && !opts.noSessionEnd) sessionEnded();
    // A stale CSRF token (e.g. after signing in in another tab): re-read it once.
    if (res.status === 403 && err.code === 'csrf_required' && !opts.retried) {
      try {
        const sess = await api('GET', '/v1/session', undefined, { noSessionEnd: true });
        if (sess && sess.csrf_token) {
          state.csrf = sess.csrf_token;
          return api(method, path, body, { ...opts, retried: true });
        }
      } catch { /* fall through to the original error */ }
    }
    throw err;
  }
  if (data === null && text) throw new ApiError(res.status, 'bad_answer', 'The server sent an answer the console cannot read.');
  return data;
}

export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  const out = p.toString();
  return out ? `?${out}` : '';
}

/** Every item of a paged list (up to `max`). */
export async function listAll(path, params = {}, max = 10000) {
  const items = [];
  let token = null;
  for (let guard = 0; guard < 200; guard += 1) {
    const page = await api('GET', path + qs({ ...params, page_size: params.page_size || 1000, page_token: token }));
    items.push(...arr(page && page.items));
    token = page && typeof page.next_page_token === 'string' && page.next_page_token ? page.next_page_token : null;
    if (!token || items.length >= max) break;
  }
  return items;
}

export const enc = encodeURIComponent;

// ---- Roles ----------------------------------------------------------------

export function roles() {
  return state.user ? arr(state.user.roles).map(str) : [];
}
export function hasRole(...wanted) {
  const mine = roles();
  return wanted.some((r) => mine.includes(r));
}
export function isProvider() {
  return !!state.user && state.user.realm === 'provider';
}
export function isTenantUser() {
  return !!state.user && state.user.realm !== 'provider';
}
export function me() {
  return state.user ? str(state.user.id) : '';
}

/** The tenant a page works on: a tenant principal's own, or the picked one. */
export function currentTenant() {
  if (isTenantUser()) return str(state.user.realm);
  return state.tenant;
}

/** #/path?query with the tenant carried for provider principals. */
export function link(path, params = {}) {
  const extra = { ...params };
  if (isProvider() && extra.tenant === undefined && state.tenant) extra.tenant = state.tenant;
  return `#${path}${qs(extra)}`;
}

// ---- Messages (one aria-live region) --------------------------------------

const messageEl = () => document.getElementById('message');
let messageKeep = false;

export function say(text, kind = 'info', keepAcrossNavigation = false) {
  const el = messageEl();
  el.textContent = text;
  el.className = `message message-${kind}`;
  el.setAttribute('data-kind', kind);
  messageKeep = keepAcrossNavigation;
}
export function sayError(err, prefix) {
  say(prefix ? `${prefix}: ${errorText(err)}` : errorText(err), 'error');
}
function clearMessage() {
  const el = messageEl();
  el.textContent = '';
  el.className = 'message';
  el.removeAttribute('data-kind');
}

// ---- Navigation by role --------------------------------------------------

const NAV = [
  { id: 'pending', label: 'Pending', path: '/pending', show: () => isTenantUser() && hasRole('global_admin', 'lockbox_approver') },
  { id: 'internal', label: 'Internal approvals', path: '/internal', show: () => isProvider() && hasRole('support_manager') },
  { id: 'cases', label: 'Cases', path: '/cases', show: () => (isProvider() && hasRole('support_engineer', 'support_manager', 'provider_admin')) || (isTenantUser() && hasRole('global_admin', 'security_admin', 'compliance_admin')) },
  { id: 'new-request', label: 'New request', path: '/requests/new', show: () => isProvider() && hasRole('support_engineer') },
  { id: 'requests', label: 'Requests', path: '/requests', show: () => isTenantUser() || hasRole('support_engineer', 'support_manager', 'provider_admin', 'incident_manager') },
  { id: 'incidents', label: 'Incidents', path: '/incidents', show: () => isProvider() && hasRole('incident_manager', 'provider_admin', 'support_manager') },
  { id: 'emergency', label: 'Emergency access', path: '/emergency', show: () => isTenantUser() || hasRole('incident_manager', 'support_engineer', 'provider_admin', 'support_manager') },
  { id: 'reports', label: 'Reports', path: '/reports', show: () => isTenantUser() || hasRole('provider_admin', 'support_manager') },
  { id: 'audit', label: 'Audit', path: '/audit', show: () => hasRole('global_admin', 'compliance_admin') || (isProvider() && hasRole('provider_admin')) },
  { id: 'settings', label: 'Settings', path: '/settings', show: () => isTenantUser() && hasRole('global_admin') },
];

function defaultPath() {
  if (isTenantUser()) return hasRole('global_admin', 'lockbox_approver') ? '/pending' : '/requests';
  if (hasRole('support_manager')) return '/internal';
  if (hasRole('support_engineer')) return '/cases';
  if (hasRole('incident_manager')) return '/incidents';
  return '/requests';
}

function renderNav(activePath) {
  const list = document.getElementById('nav-list');
  clear(list);
  for (const item of NAV) {
    if (!item.show()) continue;
    const current = activePath === item.path || (item.path === '/requests' && /^\/requests\/(?!new)/.test(activePath));
    const a = h('a', { href: link(item.path), 'data-testid': `nav-${item.id}` }, item.label);
    if (current) a.setAttribute('aria-current', 'page');
    // Following the link of the page one is on reloads its data.
    a.addEventListener('click', () => { if (a.getAttribute('href') === location.hash) route(); });
    list.append(h('li', a));
  }
}

// ---- Routes ---------------------------------------------------------------

const ROUTES = [
  { re: /^\/pending$/, view: 'pending' },
  { re: /^\/internal$/, view: 'pending', opts: { internal: true } },
  { re: /^\/requests$/, view: 'requests' },
  { re: /^\/requests\/new$/, view: 'request-new' },
  { re: /^\/requests\/([^/]+)$/, view: 'request', keys: ['id'] },
  { re: /^\/settings$/, view: 'settings' },
  { re: /^\/audit$/, view: 'audit' },
  { re: /^\/reports$/, view: 'reports' },
  { re: /^\/cases$/, view: 'cases' },
  { re: /^\/incidents$/, view: 'incidents' },
  { re: /^\/emergency$/, view: 'emergency' },
];

function parseHash() {
  let raw = location.hash.replace(/^#/, '');
  try { raw = decodeURI(raw); } catch { /* keep it as it is */ }
  raw = raw || '/';
  const q = raw.indexOf('?');
  const path = (q >= 0 ? raw.slice(0, q) : raw) || '/';
  const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
  return { path, query };
}

export function navigate(hash, { keepMessage = false } = {}) {
  if (keepMessage) messageKeep = true;
  if (location.hash === hash) route();
  else location.hash = hash;
}

let renderSeq = 0;
let cleanup = null;

async function route() {
  if (!state.user) return;
  const seq = ++renderSeq;
  const { path, query } = parseHash();
  if (!messageKeep) clearMessage();
  messageKeep = false;
  if (typeof cleanup === 'function') { try { cleanup(); } catch { /* ignore */ } }
  cleanup = null;

  if (path === '/' || path === '') {
    messageKeep = true;
    location.replace(link(defaultPath()));
    return;
  }
  // A provider principal's deep link names its tenant.
  const t = query.get('tenant');
  if (isProvider() && t && t !== state.tenant && state.tenants.some((x) => x.id === t)) selectTenant(t, false);

  renderNav(path);
  const main = document.getElementById('main');
  let match = null, params = {};
  for (const r of ROUTES) {
    const m = r.re.exec(path);
    if (m) {
      match = r;
      (r.keys || []).forEach((k, i) => { try { params[k] = decodeURIComponent(m[i + 1]); } catch { params[k] = m[i + 1]; } });
      break;
    }
  }
  clear(main);
  if (!match) {
    main.append(h('h1', { tabindex: '-1' }, 'Page not found'),
      h('p', 'There is no page at this address. '), h('p', h('a', { href: link(defaultPath()) }, 'Go to your start page')));
    focusHeading(main);
    return;
  }
  main.append(h('p', { class: 'loading' }, 'Loading…'));
  refreshBanner();
  try {
    const mod = await import(`./views/${match.view}.js`);
    if (seq !== renderSeq) return;
    const target = h('div', { class: 'view' });
    const ctx = {
      main: target,
      params,
      query,
      opts: match.opts || {},
      alive: () => seq === renderSeq,
      onCleanup: (fn) => { cleanup = fn; },
      rerender: () => route(),
    };
    await mod.render(ctx);
    if (seq !== renderSeq) return;
    clear(main);
    main.append(target);
    focusHeading(main);
  } catch (err) {
    if (seq !== renderSeq || !state.user) return;
    clear(main);
    main.append(h('h1', { tabindex: '-1' }, 'This page could not be shown'),
      h('p', { class: 'form-error', 'data-testid': 'page-error' }, errorText(err)));
    focusHeading(main);
    sayError(err);
  }
}

function focusHeading(main) {
  const h1 = main.querySelector('h1');
  if (h1) h1.focus({ preventScroll: true });
}

// ---- Tenant picker (provider principals) ----------------------------------

function selectTenant(id, rerender = true) {
  state.tenant = id;
  state.tenantInfo = state.tenants.find((x) => x.id === id) || null;
  try { localStorage.setItem('lockbox.tenant', id); } catch { /* private mode */ }
  const sel = document.getElementById('tenant-select');
  if (sel.value !== id) sel.value = id;
  if (rerender) {
    const { path } = parseHash();
    navigate(link(path === '/' ? defaultPath() : path, { tenant: id }));
  }
}

async function loadTenants() {
  const pick = document.getElementById('tenant-pick');
  const sel = document.getElementById('tenant-select');
  clear(sel);
  state.tenants = [];
  if (!isProvider() || hasRole('gateway')) { pick.hidden = true; return; }
  try {
    state.tenants = (await listAll('/v1/tenants')).filter((t) => t && typeof t.id === 'string');
  } catch (err) {
    sayError(err, 'The tenants could not be listed');
  }
  for (const t of state.tenants) sel.append(h('option', { value: t.id }, t.name ? `${str(t.name)} (${t.id})` : t.id));
  let saved = null;
  try { saved = localStorage.getItem('lockbox.tenant'); } catch { /* ignore */ }
  const fromHash = parseHash().query.get('tenant');
  const pickId = [fromHash, saved].find((x) => x && state.tenants.some((t) => t.id === x)) || (state.tenants[0] && state.tenants[0].id) || null;
  if (pickId) selectTenant(pickId, false);
  pick.hidden = state.tenants.length === 0;
}

// ---- Emergency banner (tenant principals) ---------------------------------

let bannerTimer = null;

export async function refreshBanner() {
  const box = document.getElementById('banners');
  if (!state.user || !isTenantUser()) { clear(box); return; }
  const t = currentTenant();
  let items = [];
  try {
    items = await listAll(`/v1/tenants/${enc(t)}/emergency-access`, { status: 'active' }, 50);
  } catch {
    return; // the banner is extra; a failure shows on the pages themselves
  }
  items = items.filter((x) => x && x.status === 'active');
  clear(box);
  if (!items.length) return;
  const mod = await import('./views/emergency.js');
  box.append(mod.banner(items));
}

// ---- Session --------------------------------------------------------------

function shellVisible(on) {
  document.getElementById('who').hidden = !on;
  document.getElementById('nav').hidden = !on;
}

function sessionEnded() {
  if (endingSession || !state.user) return;
  endingSession = true;
  state.user = null;
  state.csrf = null;
  showSignin('Your session ended. Please sign in again.');
  endingSession = false;
}

async function showSignin(message) {
  state.user = null;
  state.csrf = null;
  renderSeq += 1;
  shellVisible(false);
  clear(document.getElementById('banners'));
  const main = document.getElementById('main');
  clear(main);
  const mod = await import('./views/signin.js');
  mod.render({ main, message, onSignedIn: startSession });
  if (message) say(message, 'error');
  else clearMessage();
}

async function startSession(sess) {
  state.user = sess && typeof sess.user === 'object' && sess.user ? sess.user : null;
  state.csrf = sess ? str(sess.csrf_token) : null;
  if (!state.user) { showSignin('The sign-in answer could not be read.'); return; }
  const who = document.getElementById('who-name');
  who.textContent = `${str(state.user.display_name) || str(state.user.id)} · ${str(state.user.realm)} · ${roles().join(', ')}`;
  shellVisible(true);
  await loadTenants();
  if (!state.user) return;
  if (isTenantUser()) {
    try { state.tenantInfo = await api('GET', `/v1/tenants/${enc(currentTenant())}`); } catch { state.tenantInfo = null; }
  }
  clearInterval(bannerTimer);
  bannerTimer = setInterval(refreshBanner, 60000);
  route();
}

async function signOut() {
  try {
    await api('DELETE', '/v1/session', undefined, { noSessionEnd: true });
  } catch (err) {
    if (err.status !== 401) { sayError(err, 'Sign-out failed'); return; }
  }
  clearInterval(bannerTimer);
  await showSignin();
  say('You are signed out.', 'info');
}

async function boot() {
  document.getElementById('zone').textContent = zoneName();
  document.getElementById('signout').addEventListener('click', signOut);
  document.getElementById('tenant-select').addEventListener('change', (e) => selectTenant(e.target.value));
  window.addEventListener('hashchange', () => { if (state.user) route(); });
  // Live countdowns: every element with data-until, once a second.
  setInterval(() => {
    const now = Date.now();
    document.querySelectorAll('[data-until]').forEach((el) => tickOne(el, now));
  }, 1000);
  try {
    const sess = await api('GET', '/v1/session', undefined, { noSessionEnd: true });
    await startSession(sess);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) showSignin();
    else showSignin(`The session could not be checked: ${errorText(err)}`);
  }
}

// re-exported for views
export { countdown, timeEl };

boot();
