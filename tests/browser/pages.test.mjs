// Every main page: a screenshot in tests/artifacts/, an axe-core scan with
// no "serious" or "critical" violation, no script error or CSP report; and
// at phone width (375x812) no horizontal scroll.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SLOW } from './lib/daemon.mjs';
import { signIn, tid, go, settled, until, screenshot, axeScan, seriousViolations, formatViolations } from './lib/browser.mjs';
import { withWorld, ROUTES } from './lib/fixture.mjs';
import { pendingRow, noHorizontalScroll } from './lib/console.mjs';

const T = { timeout: 150000 * SLOW };

async function checkPage(t, page, ctx, name) {
  await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
  const file = await screenshot(page, name);
  t.diagnostic(`screenshot ${file}`);
  const vs = await axeScan(page);
  const minor = vs.filter((v) => !seriousViolations([v]).length);
  if (minor.length) t.diagnostic(`axe (minor) on ${name}:\n${formatViolations(minor)}`);
  const bad = seriousViolations(vs);
  const problems = ctx.problems.splice(0);
  assert.ok(bad.length === 0 && problems.length === 0,
    `${name}: ${bad.length} serious/critical axe violation(s)${bad.length ? ':\n' + formatViolations(bad) : ''}` +
    `${problems.length ? `\nconsole problems:\n${problems.join('\n')}` : ''}`);
}

test('main pages: screenshots, accessibility (axe-core), no script error or CSP report', T, async (t) => {
  await withWorld('pages', {}, async ({ w, base, browser }) => {
    const req = await w.createRequest('contoso');
    await w.createRequest('contoso', { duration: 240, resources: ['site/finance', 'mailbox/bob@contoso.example'] });

    const ctx = await browser.newContext();
    const page = await ctx.newPage();

    await t.test('sign-in page', async (t) => {
      await page.goto(`${base}/ui/`);
      await tid(page, 'signin-user').waitFor();
      await checkPage(t, page, ctx, 'signin');
    });

    await t.test('pending list (approver)', async (t) => {
      await signIn(page, base, 'contoso', 'ap1');
      await go(page, base, ROUTES.pending);
      await pendingRow(page, req.id).waitFor();
      await checkPage(t, page, ctx, 'pending');
    });

    await t.test('request page (approver)', async (t) => {
      await go(page, base, ROUTES.request(req.id));
      await tid(page, 'request-status').waitFor();
      await checkPage(t, page, ctx, 'request');
      // The approve form open: its controls are scanned too.
      await tid(page, 'request-approve').click();
      await tid(page, 'approve-submit').waitFor();
      await checkPage(t, page, ctx, 'request-approve-form');
    });

    const gctx = await browser.newContext();
    const gpage = await gctx.newPage();

    await t.test('settings (global admin)', async (t) => {
      await signIn(gpage, base, 'contoso', 'ga1');
      await go(gpage, base, ROUTES.settings);
      await tid(gpage, 'settings-enabled').waitFor();
      await checkPage(t, gpage, gctx, 'settings');
    });

    await t.test('audit (global admin): search, verify', async (t) => {
      await go(gpage, base, ROUTES.audit);
      await tid(gpage, 'audit-search').click();
      const results = tid(gpage, 'audit-results');
      await until(async () => /CreateRequest/.test(await results.innerText().catch(() => '')),
        'audit-results to list the CreateRequest records');
      await tid(gpage, 'audit-verify').click();
      const vr = tid(gpage, 'audit-verify-result');
      await until(async () => (await vr.innerText().catch(() => '')).trim().length > 0, 'audit-verify-result');
      const verdict = (await vr.innerText()).trim();
      t.diagnostic(`audit-verify-result: ${verdict}`);
      assert.match(verdict, /\b(ok|intact|verified|valid)\b/i, `verify result: ${JSON.stringify(verdict)}`);
      assert.doesNotMatch(verdict, /\b(fail|broken|edited|invalid|not ok)\b/i);
      await checkPage(t, gpage, gctx, 'audit');
    });

    await t.test('reports (global admin): charts', async (t) => {
      await go(gpage, base, '#/reports');
      await tid(gpage, 'chart-weekly').waitFor();
      await tid(gpage, 'chart-timeline').waitFor();
      await checkPage(t, gpage, gctx, 'reports');
    });

    await t.test('cases (support engineer)', async (t) => {
      const ectx = await browser.newContext();
      const epage = await ectx.newPage();
      await signIn(epage, base, 'provider', 'eng1');
      await go(epage, base, `${ROUTES.cases}?tenant=contoso`);
      await tid(epage, 'cases-row').first().waitFor();
      assert.match(await tid(epage, 'cases-row').first().innerText(), /Mailbox does not sync/);
      await checkPage(t, epage, ectx, 'cases');
    });
  });
});

test('phone width 375x812: pending list and request page have no horizontal scroll', T, async (t) => {
  await withWorld('phone', {}, async ({ w, base, browser }) => {
    const req = await w.createRequest('contoso', {
      resources: ['mailbox/alice.with.a.rather.long.name@contoso.example/inbox/2026/quarterly-figures'],
      justification: 'Customer ticket 4711: mail flow stops for alice; read the stuck message to find the bad header. '.repeat(3),
    });
    const ctx = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    const page = await ctx.newPage();
    const pages = [
      ['signin', async () => { await page.goto(`${base}/ui/`); await tid(page, 'signin-user').waitFor(); }],
      ['pending', async () => {
        await signIn(page, base, 'contoso', 'ap1');
        await go(page, base, ROUTES.pending);
        await pendingRow(page, req.id).waitFor();
      }],
      ['request', async () => { await go(page, base, ROUTES.request(req.id)); await tid(page, 'request-status').waitFor(); }],
    ];
    const wide = [];
    for (const [name, open] of pages) {
      await open();
      await settled(page);
      await screenshot(page, `${name}-phone`);
      const m = await noHorizontalScroll(page);
      t.diagnostic(`${name}: scrollWidth ${m.scrollWidth}, innerWidth ${m.innerWidth}`);
      if (m.scrollWidth > m.innerWidth) wide.push(`${name}: scrollWidth ${m.scrollWidth} > innerWidth ${m.innerWidth}`);
    }
    assert.deepEqual(wide, [], `horizontal scroll at 375 px:\n${wide.join('\n')}`);
  });
});
