// One test's world: a fresh lockboxd (own port, data dir, test clock) with
// the standard world, and a fresh chromium.  Both are stopped whatever
// happens.  A page error or CSP report in any context fails the test; a
// failure's message gets the daemon's log tail and those problems.

import { startWorld } from './daemon.mjs';
import { launchBrowser } from './browser.mjs';

// The console's routes (docs/console.md).
export const ROUTES = {
  pending: '#/pending',
  requests: '#/requests',
  request: (id, tenant) => `#/requests/${id}` + (tenant ? `?tenant=${tenant}` : ''),
  settings: '#/settings',
  audit: '#/audit',
  cases: '#/cases',
};

export async function withWorld(name, opts, fn) {
  const w = await startWorld(name, opts);
  let b;
  try {
    b = await launchBrowser();
    await fn({ w, d: w.d, base: w.d.url, browser: b });
    // Any page error or CSP report in any context fails the test.
    const left = b.browser.contexts().flatMap((c) => c.problems || []);
    if (left.length) throw new Error(`the console reported problems:\n${[...new Set(left)].join('\n')}`);
  } catch (e) {
    const problems = [];
    for (const c of b ? b.browser.contexts() : []) problems.push(...(c.problems || []));
    if (problems.length) e.message += `\n---- console problems ----\n${problems.join('\n')}`;
    if (w.notes.length) e.message += `\n---- notes ----\n${w.notes.join('\n')}`;
    e.message += `\n---- lockboxd log (tail) ----\n${w.d.logTail(15)}`;
    throw e;
  } finally {
    if (b) await b.close();
    await w.d.close();
  }
}
