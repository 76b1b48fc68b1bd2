// The console's session: CSRF on state-changing calls, the idle timeout,
// and no other tenant's data whatever the URL says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIN_MS, SLOW, short } from './lib/daemon.mjs';
import { signIn, tid, go, until } from './lib/browser.mjs';
import { withWorld, ROUTES } from './lib/fixture.mjs';
import { openPending, pendingRow, pageFetch, pageText } from './lib/console.mjs';

const T = { timeout: 90000 * SLOW };

test('CSRF: a state-changing call with the session cookie but no X-CSRF-Token is refused', T, async () => {
  await withWorld('csrf', {}, async ({ w, base, browser }) => {
    const req = await w.createRequest('contoso');
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, base, 'contoso', 'ap1');

    const cookies = await ctx.cookies(base);
    const sc = cookies.find((c) => c.name === 'lockbox_session');
    assert.ok(sc, `no lockbox_session cookie after sign-in: ${JSON.stringify(cookies.map((c) => c.name))}`);
    assert.equal(sc.httpOnly, true, 'lockbox_session is not HttpOnly');
    assert.equal(sc.sameSite, 'Strict', 'lockbox_session is not SameSite=Strict');
    assert.equal(sc.path, '/');
    assert.ok(!(await page.evaluate(() => document.cookie)).includes('lockbox_session'),
      'the session cookie is readable by script');

    const p = `/v1/tenants/contoso/requests/${req.id}`;
    const got = await pageFetch(page, 'GET', p);
    assert.equal(got.status, 200, `GET with the session cookie: ${got.status} ${short(got.body)}`);

    const none = await pageFetch(page, 'POST', `${p}/approve`, { body: { comment: 'forged' } });
    assert.equal(none.status, 403, `approve without X-CSRF-Token: ${none.status} ${short(none.body)}`);
    assert.equal(none.body?.error?.code, 'csrf_required', `code: ${short(none.body)}`);

    const wrong = await pageFetch(page, 'POST', `${p}/approve`,
      { body: { comment: 'forged' }, headers: { 'X-CSRF-Token': 'not-the-token' } });
    assert.equal(wrong.status, 403, `approve with a wrong X-CSRF-Token: ${wrong.status} ${short(wrong.body)}`);
    assert.equal(wrong.body?.error?.code, 'csrf_required');

    const patch = await pageFetch(page, 'DELETE', '/v1/session');
    assert.equal(patch.status, 403, `DELETE /v1/session without X-CSRF-Token: ${patch.status} ${short(patch.body)}`);

    const r = await w.getRequest('contoso', req.id);
    assert.equal(r.status, 'pending', 'a refused call changed the request');
    assert.equal((r.decisions || []).length, 0);

    // With the session's own token it goes through (the control).
    const sess = await pageFetch(page, 'GET', '/v1/session');
    assert.equal(sess.status, 200);
    assert.equal(typeof sess.body.csrf_token, 'string');
    const ok = await pageFetch(page, 'POST', `${p}/deny`,
      { body: { comment: 'with the token' }, headers: { 'X-CSRF-Token': sess.body.csrf_token } });
    assert.equal(ok.status, 200, `deny with X-CSRF-Token: ${ok.status} ${short(ok.body)}`);
  });
});

test('session expiry: past the 30-minute idle timeout the next action shows the sign-in page with a message', T, async (t) => {
  await withWorld('expiry', {}, async ({ w, d, base, browser }) => {
    const req = await w.createRequest('contoso');
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, base, 'contoso', 'ap1');
    await openPending(page);
    await pendingRow(page, req.id).waitFor();

    // Idle means unused: 20 minutes, a use, 20 more minutes: still signed in.
    await d.advanceClock(20 * MIN_MS);
    await tid(page, 'pending-refresh').click();
    await pendingRow(page, req.id).waitFor();
    await d.advanceClock(20 * MIN_MS);
    const alive = await pageFetch(page, 'GET', '/v1/session');
    assert.equal(alive.status, 200, `GET /v1/session 20 min after the last use (40 min after sign-in): ${alive.status} ${short(alive.body)}`);

    await d.advanceClock(31 * MIN_MS);
    const s = await pageFetch(page, 'GET', '/v1/session');
    assert.equal(s.status, 401, `GET /v1/session after 31 idle minutes: ${s.status} ${short(s.body)}`);

    // The next action: open the request from the list.
    await page.locator(`[data-testid="pending-row"][data-request-id="${req.id}"] a`).first().click();
    await tid(page, 'signin-user').waitFor();
    await until(async () => (await tid(page, 'message').innerText()).trim().length > 0,
      'a message on the sign-in page');
    const msg = (await tid(page, 'message').innerText()).trim();
    t.diagnostic(`message: ${msg}`);
    assert.match(msg, /session|sign in|signed out|expired/i, `message after expiry: ${JSON.stringify(msg)}`);
    assert.equal(await tid(page, 'signout').isVisible(), false, 'the signed-in shell is still shown');

    // Signing in again works and lands where the person was going.
    await signIn(page, base, 'contoso', 'ap1');
    await tid(page, 'request-status').waitFor();
    assert.equal((await tid(page, 'request-id').innerText()).trim(), req.id, 'signing in again did not return to the request');
  });
});

test('URL tampering: contoso\'s approver never sees fabrikam\'s data', T, async () => {
  await withWorld('tenancy', {}, async ({ w, base, browser }) => {
    const secret = `FABRIKAM-CONFIDENTIAL-${Date.now().toString(36)} payroll mailbox`;
    const fab = await w.createRequest('fabrikam', { justification: secret });
    const mine = await w.createRequest('contoso');
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const leaks = [];
    page.on('response', async (resp) => {
      if (!resp.url().includes('/v1/')) return;
      try {
        const body = await resp.text();
        if (body.includes(secret) || body.includes('fabrikam.example')) leaks.push(`${resp.status()} ${resp.url()}`);
      } catch { /* no body (redirect, aborted) */ }
    });
    await signIn(page, base, 'contoso', 'ap1');

    const routes = [
      ROUTES.request(fab.id),
      ROUTES.request(fab.id, 'fabrikam'),
      `${ROUTES.pending}?tenant=fabrikam`,
      `${ROUTES.requests}?tenant=fabrikam`,
      `${ROUTES.requests}?tenant=fabrikam&all=1`,
      `${ROUTES.settings}?tenant=fabrikam`,
      `${ROUTES.audit}?tenant=fabrikam`,
      `#/emergency?tenant=fabrikam`,
      `#/reports?tenant=fabrikam`,
    ];
    for (const [i, r] of routes.entries()) {
      await go(page, base, r);
      await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {});
      const text = await pageText(page);
      assert.ok(!text.includes(secret), `${r}: the fabrikam justification is in the page`);
      assert.ok(!/fabrikam\.example/.test(text), `${r}: fabrikam's resource is in the page`);
      if (i < 2) {
        // The fabrikam request itself: an error / not-found view, no controls.
        assert.equal(await tid(page, 'request-approve').count(), 0, `${r}: Approve offered on another tenant's request`);
        assert.equal(await tid(page, 'request-status').count(), 0, `${r}: a request status is shown`);
        const pe = tid(page, 'page-error');
        assert.ok(await pe.isVisible(), `${r}: no page-error view; main reads ${JSON.stringify((await page.locator('main').innerText()).slice(0, 300))}`);
        assert.match(await pe.innerText(), /not_found|not found/i, `${r}: page-error: ${await pe.innerText()}`);
      }
    }
    assert.deepEqual(leaks, [], `API answers to the console carried fabrikam data:\n${leaks.join('\n')}`);

    // The API under fabrikam answers 404 to contoso's session.
    const api = await pageFetch(page, 'GET', `/v1/tenants/fabrikam/requests/${fab.id}`);
    assert.equal(api.status, 404, `GET fabrikam's request with contoso's session: ${api.status} ${short(api.body)}`);
    const cross = await pageFetch(page, 'GET', `/v1/tenants/contoso/requests/${fab.id}`);
    assert.equal(cross.status, 404, `fabrikam's request id under contoso: ${cross.status} ${short(cross.body)}`);

    // And contoso's own request still shows (the control).
    await go(page, base, ROUTES.request(mine.id));
    await tid(page, 'request-status').waitFor();
  });
});
