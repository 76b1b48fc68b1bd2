// Drives Debian's chromium (/usr/bin/chromium) with playwright-core: one
// browser per test with a fresh temporary --user-data-dir, one context per
// person; helpers for signing in, screenshots and the axe-core scan.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, SLOW, KEEP, PASSWORD } from './daemon.mjs';

const require = createRequire(import.meta.url);
export const CHROMIUM = process.env.LOCKBOX_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');
export const TIMEOUT = 10000 * SLOW;          // each action / expectation
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync'];

export async function launchBrowser() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lockbox-chromium-'));
  const first = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30000 * SLOW,
  });
  const browser = first.browser();
  const contexts = [];
  return {
    browser,
    // A fresh context (cookie jar) for one person; records page errors and
    // Content-Security-Policy reports of every page it opens.
    async newContext(opts = {}) {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts });
      ctx.setDefaultTimeout(TIMEOUT);
      ctx.setDefaultNavigationTimeout(15000 * SLOW);
      ctx.problems = [];
      ctx.on('page', (p) => watch(p, ctx.problems));
      contexts.push(ctx);
      return ctx;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await first.close().catch(() => {});        // ends chromium (by its PID)
      if (!KEEP) fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

function watch(page, problems) {
  page.on('pageerror', (e) => problems.push(`page error: ${e.message} (${page.url()})`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) {
      const loc = m.location();
      problems.push(`CSP: ${m.text().slice(0, 160)}... at ${loc.url || page.url()}${loc.lineNumber ? ':' + loc.lineNumber : ''}`);
    }
  });
}

export async function openPage(ctx, url) {
  const page = await ctx.newPage();
  await page.goto(url);
  return page;
}

export const tid = (page, id) => page.getByTestId(id);

async function fillOrSelect(loc, value) {
  const tag = await loc.evaluate((el) => el.tagName.toLowerCase());
  if (tag === 'select') await loc.selectOption(value);
  else await loc.fill(value);
}

// Signs in through the console's form; resolves once the signed-in shell
// (the sign-out control) shows.
export async function signIn(page, base, realm, user, password = PASSWORD) {
  if (!page.url().startsWith(base + '/ui/')) await page.goto(base + '/ui/');
  await tid(page, 'signin-user').waitFor();
  await fillOrSelect(tid(page, 'signin-realm'), realm);
  await tid(page, 'signin-user').fill(user);
  await tid(page, 'signin-password').fill(password);
  await tid(page, 'signin-submit').click();
  try {
    await tid(page, 'signout').waitFor();
  } catch (e) {
    const msg = await tid(page, 'message').allInnerTexts().catch(() => []);
    throw new Error(`sign-in of ${realm}/${user} did not reach the console (message: ${JSON.stringify(msg)}): ${e.message}`);
  }
}

// A route of the console (hash routing), e.g. go(page, base, '#/settings'),
// loaded afresh (a deep link, not a hash change), until the view has
// rendered: the shell or the sign-in form shows and nothing is loading.
export async function go(page, base, hash) {
  await page.goto('about:blank');
  await page.goto(`${base}/ui/${hash}`);
  await settled(page);
}

export async function settled(page) {
  await page.locator('[data-testid="signout"]:visible, [data-testid="signin-user"]:visible').first().waitFor();
  await until(async () => (await page.locator('main .loading').count()) === 0, 'the view to finish loading');
}

export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// axe-core's source is evaluated through the DevTools protocol
// (Runtime.evaluate), which the page's CSP (script-src 'self', no inline
// script) does not govern, so the scan runs in the real, CSP-enforcing
// page: no bypassCSP context is needed.
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export async function axeScan(page) {
  const has = await page.evaluate(() => typeof window.axe === 'object');
  if (!has) await page.evaluate(`${AXE_SOURCE}\n;void 0`);
  const res = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      resultTypes: ['violations'],
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
      count: v.nodes.length,
    }));
  });
  return res;
}

export function seriousViolations(violations) {
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export function formatViolations(vs) {
  return vs.map((v) => `  [${v.impact}] ${v.id}: ${v.help} (${v.count} node(s): ${v.nodes.join(' | ')})`).join('\n');
}

// Bounded poll of an async predicate.
export async function until(fn, what, timeout = TIMEOUT, interval = 100) {
  const deadline = Date.now() + timeout;
  let last;
  for (let i = 0; i < 100000; i++) {
    last = await fn();
    if (last) return last;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
}
