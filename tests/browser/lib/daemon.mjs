// Starts build/lockboxd for one browser test: a free 127.0.0.1 port, a fresh
// temporary data directory, the test clock, a random bootstrap token; talks
// to its HTTP API with fetch and builds the world the tests share.  Every
// call has a timeout, every wait a bound, and the daemon is stopped by PID.
//
// Environment:
//   LOCKBOX_BUILD            build directory holding lockboxd ("build")
//   LOCKBOX_BROWSER_SLOW     multiplier for every timeout (default 1)
//   LOCKBOX_BROWSER_KEEP=1   keep the temporary data directories

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..', '..');
const BUILD = process.env.LOCKBOX_BUILD || 'build';
const BUILD_DIR = path.isAbsolute(BUILD) ? BUILD : path.join(ROOT, BUILD);
export const LOCKBOXD = path.join(BUILD_DIR, 'lockboxd');
export const WEB_DIR = process.env.LOCKBOX_BROWSER_WEB_DIR || path.join(ROOT, 'web');
export const SLOW = Number(process.env.LOCKBOX_BROWSER_SLOW) || 1;
export const KEEP = process.env.LOCKBOX_BROWSER_KEEP === '1';
const HTTP_TIMEOUT = 10000 * SLOW;
const READY_TIMEOUT = 10000 * SLOW;
const STOP_TIMEOUT = 10000 * SLOW;

export const MIN_MS = 60 * 1000;
export const HOUR_MS = 60 * MIN_MS;
export const PASSWORD = 'correct horse battery staple 42';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function newToken() {
  return 'lbt_' + randomBytes(32).toString('base64url');
}

// Last resort: daemons still alive when this process exits are killed by PID.
const live = new Map();
function killLive() {
  for (const pid of live.keys()) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}
process.on('exit', killLive);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => { killLive(); process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1)); });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function short(v, n = 400) {
  let s = typeof v === 'string' ? v : JSON.stringify(v);
  s = String(s).replace(/\n/g, '\\n');
  return s.length <= n ? s : s.slice(0, n) + '...';
}

export class Daemon {
  constructor(name = 'lockboxd') {
    this.name = name;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `lockbox-browser-${name}-`));
    this.dataDir = path.join(this.dir, 'data');
    fs.mkdirSync(this.dataDir);
    this.dbPath = path.join(this.dataDir, 'lockbox.db');
    this.logPath = path.join(this.dir, 'lockboxd.log');
    this.clockPath = path.join(this.dir, 'clock');
    this.offsetMs = 0;
    this.writeClock(0);
    this.token = newToken();
    this.port = null;
    this.proc = null;
    this.exited = null;
  }

  get url() { return `http://127.0.0.1:${this.port}`; }

  writeClock(ms) {
    this.offsetMs = Math.trunc(ms);
    const tmp = this.clockPath + '.tmp';
    fs.writeFileSync(tmp, `${this.offsetMs}\n`);
    fs.renameSync(tmp, this.clockPath);
  }

  // Moves the daemon's clock to now + offsetMs and waits until it re-read
  // the file (it does every 50 ms).
  async setClock(ms) {
    this.writeClock(ms);
    await sleep(250 * SLOW);
  }

  async advanceClock(ms) { await this.setClock(this.offsetMs + ms); }

  async start(extra = []) {
    if (!fs.existsSync(LOCKBOXD)) {
      throw new Error(`${LOCKBOXD} is missing: run make ${path.relative(ROOT, LOCKBOXD)}`);
    }
    let lastErr;
    for (let attempt = 0; attempt < 3; attempt++) {
      this.port = await freePort();
      const args = ['--listen', `127.0.0.1:${this.port}`, '--data-dir', this.dataDir,
        '--database', 'sqlite:' + this.dbPath, '--sweep-interval-ms', '200',
        '--test-clock', this.clockPath, '--web-dir', WEB_DIR, ...extra];
      const env = {};
      for (const [k, v] of Object.entries(process.env)) {
        if (!k.startsWith('LOCKBOX_')) env[k] = v;
      }
      env.LOCKBOX_BOOTSTRAP_TOKEN = this.token;
      env.LOCKBOX_ALLOW_TEST_CLOCK = '1';
      fs.appendFileSync(this.logPath, `==== browser test: start ${LOCKBOXD} ${args.join(' ')}\n`);
      const fd = fs.openSync(this.logPath, 'a');
      try {
        this.proc = spawn(LOCKBOXD, args, { env, cwd: this.dir, stdio: ['ignore', fd, fd] });
      } finally {
        fs.closeSync(fd);
      }
      const proc = this.proc;
      live.set(proc.pid, this);
      this.exited = new Promise((resolve) => {
        proc.on('exit', (code, signal) => {
          live.delete(proc.pid);
          resolve(signal ? `signal ${signal}` : code);
        });
      });
      try {
        await this.waitReady();
        return this;
      } catch (e) {
        lastErr = e;
        if (proc.exitCode !== null && /in use/.test(this.logTail(5))) {
          this.proc = null;
          continue;
        }
        await this.stop();
        throw e;
      }
    }
    throw lastErr;
  }

  async waitReady() {
    const deadline = Date.now() + READY_TIMEOUT;
    let last = 'no answer';
    for (let i = 0; i < 100000; i++) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(`lockboxd exited (${this.proc.exitCode ?? this.proc.signalCode}) before it was ready; log:\n${this.logTail(30)}`);
      }
      try {
        const r = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(1000 * SLOW) });
        await r.arrayBuffer();
        if (r.status === 200) return;
        last = `status ${r.status}`;
      } catch (e) {
        last = String(e);
      }
      if (Date.now() >= deadline) break;
      await sleep(50);
    }
    throw new Error(`lockboxd not ready after ${READY_TIMEOUT} ms (${last}); log:\n${this.logTail(30)}`);
  }

  // SIGTERM by PID, wait, SIGKILL on timeout.  Returns the exit status.
  async stop() {
    const p = this.proc;
    if (!p) return null;
    this.proc = null;
    if (p.exitCode === null && p.signalCode === null) {
      try { process.kill(p.pid, 'SIGTERM'); } catch { /* gone */ }
    }
    let timer;
    const timeout = new Promise((r) => { timer = setTimeout(() => r('timeout'), STOP_TIMEOUT); });
    let rc = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (rc === 'timeout') {
      try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
      await this.exited;
    }
    live.delete(p.pid);
    fs.appendFileSync(this.logPath, `==== browser test: stopped: ${rc}\n`);
    return rc;
  }

  async close() {
    const rc = await this.stop();
    if (KEEP) {
      process.stderr.write(`kept ${this.dir}\n`);
    } else {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
    return rc;
  }

  logTail(n = 30) {
    try {
      const lines = fs.readFileSync(this.logPath, 'utf8').split('\n');
      return lines.slice(-n - 1).join('\n');
    } catch {
      return '(no log)';
    }
  }

  // One API call -> {status, body (parsed JSON when it is), headers}.
  async call(method, p, { token, body, headers } = {}) {
    const h = { ...(headers || {}) };
    if (token) h.Authorization = 'Bearer ' + token;
    let data;
    if (body !== undefined) {
      data = JSON.stringify(body);
      h['Content-Type'] = 'application/json';
    }
    const r = await fetch(this.url + p, {
      method, headers: h, body: data, redirect: 'manual',
      signal: AbortSignal.timeout(HTTP_TIMEOUT),
    });
    const text = await r.text();
    let parsed = text;
    if (/json/.test(r.headers.get('content-type') || '') || /^[[{]/.test(text)) {
      try { parsed = JSON.parse(text); } catch { /* keep text */ }
    }
    return { status: r.status, body: parsed, headers: r.headers, method, path: p };
  }
}

export function describe(r) {
  return `${r.method} ${r.path} -> ${r.status} ${short(r.body)}`;
}

export function expectStatus(r, status, code) {
  const ok = Array.isArray(status) ? status.includes(r.status) : r.status === status;
  if (!ok) throw new Error(`${describe(r)}; expected ${status}${code ? ' ' + code : ''}`);
  if (code !== undefined) {
    const c = r.body && r.body.error && r.body.error.code;
    if (c !== code) throw new Error(`${describe(r)}; expected code ${code}`);
  }
  return r.body;
}

// The people of the world, by realm: user id -> roles.
export const PROVIDER_USERS = {
  eng1: ['support_engineer'],
  mgr1: ['support_manager'],
  im1: ['incident_manager'],
  im2: ['incident_manager'],
  gw1: ['gateway'],
};
export const TENANT_USERS = {
  ga1: ['global_admin'],
  ap1: ['lockbox_approver'],
  ca1: ['compliance_admin'],
};

export const RESOURCE = 'mailbox/alice@contoso.example';
export const CONTENT_URI = '/content/contoso/exchange/mailbox/alice@contoso.example/inbox/1.eml';

// A daemon plus the tokens of everyone created through it.  Users are
// named "eng1" (provider), "ap1" (contoso) or "fabrikam/ap1".
export class World {
  constructor(daemon) {
    this.d = daemon;
    this.tokens = new Map([['provider/admin', daemon.token]]);
    this.cases = {};
    this.notes = [];
    this.seq = 0;
  }

  key(who) {
    if (who.includes('/')) return who;
    return this.tokens.has('provider/' + who) ? 'provider/' + who : 'contoso/' + who;
  }

  tok(who) {
    if (who.startsWith('lbt_')) return who;
    const k = this.key(who);
    if (!this.tokens.has(k)) throw new Error(`no token for ${k}`);
    return this.tokens.get(k);
  }

  async call(method, p, who, body, headers) {
    return this.d.call(method, p, { token: who ? this.tok(who) : undefined, body, headers });
  }

  async createTenant(id, plan = 'M365_E5', addons = []) {
    return expectStatus(await this.call('POST', '/v1/tenants', 'admin',
      { id, name: id[0].toUpperCase() + id.slice(1), plan, addons }), 201);
  }

  // Creates a user with a console password: `password` in POST /v1/users,
  // or (if that field is refused) POST /v1/users/{realm}/{id}/password.
  async createUser(realm, id, roles, { password = PASSWORD, type } = {}) {
    const b = { id, realm, roles, email: `${id}@${realm}.example`, display_name: `User ${id}` };
    if (type) b.type = type;
    let r = await this.call('POST', '/v1/users', 'admin', password ? { ...b, password } : b);
    if (password && r.status === 400 && r.body?.error?.code === 'unknown_field') {
      this.notes.push(`POST /v1/users refused "password" (${short(r.body)}); used POST /v1/users/{realm}/{id}/password`);
      r = await this.call('POST', '/v1/users', 'admin', b);
      const u = expectStatus(r, 201);
      this.tokens.set(`${realm}/${id}`, u.token);
      expectStatus(await this.call('POST', `/v1/users/${realm}/${id}/password`, 'admin', { password }), [200, 204]);
      return u;
    }
    const u = expectStatus(r, 201);
    this.tokens.set(`${realm}/${id}`, u.token);
    return u;
  }

  async settings(tenant, fields, who = `${tenant}/ga1`) {
    return this.call('PATCH', `/v1/tenants/${tenant}/lockbox/settings`, who, fields);
  }

  async openCase(tenant, title = 'Mailbox does not sync') {
    const c = expectStatus(await this.call('POST', `/v1/tenants/${tenant}/cases`, `${tenant}/ga1`, { title }), 201);
    expectStatus(await this.call('POST', `/v1/tenants/${tenant}/cases/${c.id}/assign`, 'mgr1', { engineer: 'eng1' }), 200);
    this.cases[tenant] = c.id;
    return c.id;
  }

  async createRequest(tenant = 'contoso', { justification, resources, duration } = {}) {
    this.seq += 1;
    const b = {
      case_id: this.cases[tenant], workload: 'exchange',
      resources: resources || [tenant === 'contoso' ? RESOURCE : `mailbox/bob@${tenant}.example`],
      justification: justification || `Read the stuck message ${this.seq} to find the bad header`,
    };
    if (duration) b.duration_minutes = duration;
    return expectStatus(await this.call('POST', `/v1/tenants/${tenant}/requests`, 'eng1', b), 201);
  }

  async getRequest(tenant, id, who = 'admin') {
    return expectStatus(await this.call('GET', `/v1/tenants/${tenant}/requests/${id}`, who), 200);
  }

  async grant(tenant, id) {
    return expectStatus(await this.call('GET', `/v1/tenants/${tenant}/requests/${id}/grant`, 'eng1'), 200);
  }

  // The access check as nginx asks it: GET /v1/authz with the gateway's token.
  async authz(grantToken, uri = CONTENT_URI) {
    return this.d.call('GET', '/v1/authz', {
      headers: {
        'X-Lockbox-Gateway-Token': this.tok('gw1'),
        'X-Original-URI': uri,
        'X-Original-Method': 'GET',
        Authorization: 'Bearer ' + grantToken,
      },
    });
  }
}

// contoso (M365_E5) and fabrikam (M365_E5), both with Lockbox on (approvers
// ga1, ap1); provider eng1 mgr1 im1 im2 gw1; ga1 ap1 ca1 in each tenant,
// every person with the console password PASSWORD; in each tenant a case
// assigned to eng1.  `more` adds tenant northwind (M365_E3, no add-on,
// Lockbox off, approvers ga1 ap1 designated) for the licence test.
export async function standardWorld(daemon, { northwind = false } = {}) {
  const w = new World(daemon);
  const tenants = ['contoso', 'fabrikam'];
  for (const t of tenants) await w.createTenant(t, 'M365_E5');
  if (northwind) await w.createTenant('northwind', 'M365_E3', []);
  for (const [id, roles] of Object.entries(PROVIDER_USERS)) {
    await w.createUser('provider', id, roles,
      id === 'gw1' ? { type: 'service', password: null } : {});
  }
  for (const t of [...tenants, ...(northwind ? ['northwind'] : [])]) {
    for (const [id, roles] of Object.entries(TENANT_USERS)) await w.createUser(t, id, roles);
  }
  for (const t of tenants) {
    expectStatus(await w.settings(t, { enabled: true, approvers: ['ga1', 'ap1'],
      notification_emails: [`lockbox@${t}.example`] }), 200);
    await w.openCase(t);
  }
  if (northwind) {
    expectStatus(await w.settings('northwind', { approvers: ['ga1', 'ap1'] }), 200);
  }
  return w;
}

export async function startWorld(name, opts) {
  const d = new Daemon(name);
  try {
    await d.start();
    return await standardWorld(d, opts);
  } catch (e) {
    e.message += `\n---- lockboxd log ----\n${d.logTail(20)}`;
    await d.close();
    throw e;
  }
}
