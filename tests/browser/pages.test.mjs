// Every main page: a screenshot in tests/artifacts/, an axe-core scan with
// no "serious" or "critical" violation, no script error or CSP report; and
// at phone width (375x812) no horizontal scroll.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SLOW, CONTENT_URI, expectStatus } from './lib/daemon.mjs';
import { signIn, tid, go, settled, until, screenshot, axeScan, seriousViolations, formatViolations } from './lib/browser.mjs';
import { withWorld, ROUTES } from './lib/fixture.mjs';
import { pendingRow, noHorizontalScroll, overflowingText } from './lib/console.mjs';

const T = { timeout: 150000 * SLOW };

async function checkPage(t, page, ctx, name) {
  await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
  const file = await screenshot(page, name);
  t.diagnostic(`screenshot ${file}`);
  const cutOff = await overflowingText(page);
  if (cutOff.length) t.diagnostic(`text cut off on ${name}:\n${cutOff.join('\n')}`);
  const vs = await axeScan(page);
  const minor = vs.filter((v) => !seriousViolations([v]).length);
  if (minor.length) t.diagnostic(`axe (minor) on ${name}:\n${formatViolations(minor)}`);
  const bad = seriousViolations(vs);
  const problems = ctx.problems.splice(0);
  const why = [];
  if (bad.length) why.push(`${bad.length} serious/critical axe violation(s):\n${formatViolations(bad)}`);
  if (problems.length) why.push(`console problems:\n${[...new Set(problems)].join('\n')}`);
  assert.ok(why.length === 0, `${name}: ${why.join('\n')}`);
}

test('main pages: screenshots, accessibility (axe-core), no script error or CSP report', T, async (t) => {
  await withWorld('pages', {}, async ({ w, base, browser }) => {
    const req = await w.createRequest('contoso');
    await w.createRequest('contoso', { duration: 240, resources: ['site/finance', 'mailbox/bob@contoso.example'] });

    const ctx = await browser.newContext();
    const page = await ctx.newPage();

    // A request approved over the API, read twice through the access check:
    // its page shows the access receipt, and the engineer's its grant.
    const done = await w.createRequest('contoso', { duration: 480 });
    expectStatus(await w.call('POST', `/v1/tenants/contoso/requests/${done.id}/approve`, 'contoso/ga1',
      { duration_minutes: 240, comment: 'approved for the screenshot' }), 200);
    const g = await w.grant('contoso', done.id);
    for (const uri of [CONTENT_URI, '/content/contoso/exchange/mailbox/alice@contoso.example/inbox/2.eml']) {
      assert.equal((await w.authz(g.token, uri)).status, 200);
    }
    assert.equal((await w.authz(g.token, '/content/contoso/exchange/mailbox/bob@contoso.example/inbox/1.eml')).status, 403);

    await t.test('sign-in page', async (t) => {
      await page.goto(`${base}/ui/`);
      await tid(page, 'signin-user').waitFor();
      await checkPage(t, page, ctx, 'signin');
    });

    await t.test('sign-in page with a refusal', async (t) => {
      await tid(page, 'signin-realm').fill('contoso');
      await tid(page, 'signin-user').fill('ap1');
      await tid(page, 'signin-password').fill('a wrong password, surely');
      await tid(page, 'signin-submit').click();
      await tid(page, 'signin-error').waitFor();
      await checkPage(t, page, ctx, 'signin-refused');
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

    await t.test('approved request with its access receipt (approver)', async (t) => {
      await go(page, base, ROUTES.request(done.id));
      await tid(page, 'receipt').waitFor();
      assert.match(await tid(page, 'receipt-allowed').innerText(), /^2\b/);
      assert.match(await tid(page, 'receipt-refused').innerText(), /^1\b/);
      await checkPage(t, page, ctx, 'request-approved');
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
      assert.equal(await vr.getAttribute('data-ok'), 'true', `verify result: ${JSON.stringify(verdict)}`);
      assert.match(verdict, /intact|verified/i, `verify result in words: ${JSON.stringify(verdict)}`);
      await checkPage(t, gpage, gctx, 'audit');
    });

    await t.test('reports (global admin): charts', async (t) => {
      await go(gpage, base, '#/reports');
      await tid(gpage, 'chart-weekly').waitFor();
      await tid(gpage, 'chart-timeline').waitFor();
      await checkPage(t, gpage, gctx, 'reports');
      // The pictures' labels are legible: no two text labels of a chart
      // overlap.
      const overlaps = [];
      for (const chart of ['chart-weekly', 'chart-timeline']) {
        const o = await tid(gpage, chart).evaluate((svg) => {
          const boxes = [...svg.querySelectorAll('text')].map((el) => ({ t: el.textContent, r: el.getBoundingClientRect() }))
            .filter((b) => b.r.width > 0 && b.r.height > 0);
          const out = [];
          for (let i = 0; i < boxes.length; i++) {
            for (let j = i + 1; j < boxes.length; j++) {
              const a = boxes[i].r, b = boxes[j].r;
              const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
              const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
              if (w > 1 && h > 1) out.push(`"${boxes[i].t}" and "${boxes[j].t}" overlap by ${w.toFixed(0)}x${h.toFixed(0)} px`);
            }
          }
          return out;
        });
        overlaps.push(...o.map((x) => `${chart}: ${x}`));
      }
      assert.deepEqual(overlaps, [], `chart labels overlap at 1280 px:\n${overlaps.join('\n')}`);
    });

    await t.test('cases (support engineer)', async (t) => {
      const ectx = await browser.newContext();
      const epage = await ectx.newPage();
      await signIn(epage, base, 'provider', 'eng1');
      await go(epage, base, `${ROUTES.cases}?tenant=contoso`);
      await tid(epage, 'cases-row').first().waitFor();
      assert.match(await tid(epage, 'cases-row').first().innerText(), /Mailbox does not sync/);
      await checkPage(t, epage, ectx, 'cases');
      await go(epage, base, ROUTES.request(done.id, 'contoso'));
      await tid(epage, 'grant-token').waitFor();
      await checkPage(t, epage, ectx, 'request-engineer-grant');
    });

    await t.test('emergency access with the banner (global admin)', async (t) => {
      const inc = expectStatus(await w.call('POST', '/v1/incidents', 'im1',
        { title: 'Mail flow outage', severity: 'critical', tenants: ['contoso'] }), 201);
      const emg = expectStatus(await w.call('POST', '/v1/emergency-access', 'im1', {
        incident: inc.id, tenant: 'contoso', workload: 'exchange',
        resources: ['mailbox/alice@contoso.example'], justification: 'Restore mail flow during the outage',
      }), 201);
      expectStatus(await w.call('POST', `/v1/emergency-access/${emg.id}/approve`, 'im2', {}), 200);
      await go(gpage, base, '#/emergency');
      await tid(gpage, 'emergency-banner').waitFor();
      await tid(gpage, 'emergency-row').first().waitFor();
      await checkPage(t, gpage, gctx, 'emergency');
    });
  });
});

test('phone width 375x812: sign-in, pending list, request page', T, async (t) => {
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
    for (const [name, open] of pages) {
      await open();
      await settled(page);
      await screenshot(page, `${name}-phone`);
      await t.test(`${name}: no horizontal scroll (scrollWidth <= innerWidth), axe passes`, async (t) => {
        const m = await noHorizontalScroll(page);
        t.diagnostic(`scrollWidth ${m.scrollWidth}, innerWidth ${m.innerWidth}`);
        assert.ok(m.scrollWidth <= m.innerWidth, `${name}: scrollWidth ${m.scrollWidth} > innerWidth ${m.innerWidth}`);
        const bad = seriousViolations(await axeScan(page));
        assert.equal(bad.length, 0, `serious/critical axe violations at 375 px:\n${formatViolations(bad)}`);
      });
      await t.test(`${name}: no text cut off (every text fits its box or is ellipsized)`, async () => {
        const cut = await overflowingText(page);
        assert.deepEqual(cut, [], `${name}: text running out of its box at 375 px (clipped, not wrapped):\n${cut.join('\n')}`);
      });
    }
  });
});
