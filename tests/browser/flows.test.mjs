// An approver decides in the console: approve (and the engineer's grant
// then works through the access check), deny, revoke.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOUR_MS, MIN_MS, SLOW, short } from './lib/daemon.mjs';
import { signIn, tid, go, until } from './lib/browser.mjs';
import { withWorld, ROUTES } from './lib/fixture.mjs';
import { openPending, openRequestFromList, pendingRow, waitStatus, approve, deny, revoke } from './lib/console.mjs';

const T = { timeout: 90000 * SLOW };
const ms = (s) => Date.parse(s);

test('approver approves a pending request for 2 h; the grant then passes the access check', T, async () => {
  await withWorld('approve', {}, async ({ w, base, browser }) => {
    const req = await w.createRequest('contoso');
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, base, 'contoso', 'ap1');

    await openPending(page);
    const row = pendingRow(page, req.id);
    await row.waitFor();
    const cd = row.getByTestId('countdown');
    await cd.waitFor();
    const cdText = (await cd.innerText()).trim();
    assert.match(cdText, /\d/, `countdown of the pending row shows no time left: ${JSON.stringify(cdText)}`);
    assert.match(await row.innerText(), /eng1/, 'the pending row does not name the requester eng1');

    await openRequestFromList(page, req.id);
    await waitStatus(page, 'pending');
    const comment = 'OK for two hours: ticket 4711';
    await approve(page, { minutes: 120, comment });
    const shown = await waitStatus(page, 'approved');
    assert.match(shown, /approved/i, `the status badge reads ${JSON.stringify(shown)}`);
    const said = tid(page, 'message');
    assert.equal(await said.getAttribute('data-kind'), 'success');
    assert.match(await said.innerText(), /2 h/, 'the message does not confirm the 2 h');

    const r = await w.getRequest('contoso', req.id, 'ap1');
    assert.equal(r.status, 'approved', `request after approval: ${short(r)}`);
    assert.ok(r.access_starts_at && r.access_expires_at, `no access window: ${short(r)}`);
    const span = ms(r.access_expires_at) - ms(r.access_starts_at);
    assert.ok(Math.abs(span - 2 * HOUR_MS) <= 1000,
      `access window ${r.access_starts_at} .. ${r.access_expires_at} is ${span} ms, expected 2 h`);
    const dec = (r.decisions || []).find((x) => x.decision === 'approve');
    assert.ok(dec, `no approve decision: ${short(r.decisions)}`);
    assert.equal(dec.by, 'ap1');
    assert.equal(dec.comment, comment);
    assert.equal(dec.duration_minutes, 120);

    // The engineer's grant, through the API as eng1, then nginx's question.
    const g = await w.grant('contoso', req.id);
    assert.ok(Math.abs(ms(g.expires_at) - ms(r.access_expires_at)) <= 1000,
      `grant expires_at ${g.expires_at} vs access_expires_at ${r.access_expires_at}`);
    const a = await w.authz(g.token);
    assert.equal(a.status, 200, `GET /v1/authz with the grant: ${a.status} ${short(a.body)}`);
    assert.equal(a.body.decision, 'allow');

    // The same grant as the engineer sees it in the console.
    const ectx = await browser.newContext();
    const epage = await ectx.newPage();
    await signIn(epage, base, 'provider', 'eng1');
    await go(epage, base, ROUTES.request(req.id, 'contoso'));
    await waitStatus(epage, 'approved');
    const gt = tid(epage, 'grant-token');
    await until(async () => /^[\w-]+\.[\w-]+\.[\w-]+$/.test((await gt.inputValue().catch(() => '')).trim()),
      'grant-token to hold a JWS');
    const a2 = await w.authz((await gt.inputValue()).trim());
    assert.equal(a2.status, 200, `access check with the console's grant-token: ${a2.status} ${short(a2.body)}`);

    // The approver's request page now counts the two allowed reads.
    await page.reload();
    await waitStatus(page, 'approved');
    await tid(page, 'receipt').waitFor();
    const allowed = (await tid(page, 'receipt-allowed').innerText()).trim();
    assert.match(allowed, /^2\b/, `receipt-allowed reads ${JSON.stringify(allowed)}, expected the 2 reads`);
    assert.match((await tid(page, 'receipt-refused').innerText()).trim(), /^0\b/);
    assert.ok(ctx.problems.length === 0 && ectx.problems.length === 0,
      `console problems: ${[...ctx.problems, ...ectx.problems].join('\n')}`);
  });
});

test('approver denies a pending request with a comment', T, async () => {
  await withWorld('deny', {}, async ({ w, base, browser }) => {
    const req = await w.createRequest('contoso');
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, base, 'contoso', 'ap1');
    await openPending(page);
    await openRequestFromList(page, req.id);
    await waitStatus(page, 'pending');
    const comment = 'Not during the quarter close';
    await deny(page, comment);
    await waitStatus(page, 'denied');

    const r = await w.getRequest('contoso', req.id, 'ap1');
    assert.equal(r.status, 'denied');
    const dec = (r.decisions || []).find((x) => x.decision === 'deny');
    assert.ok(dec, `no deny decision: ${short(r.decisions)}`);
    assert.equal(dec.by, 'ap1');
    assert.equal(dec.comment, comment);
    assert.equal(r.access_starts_at, null);
    // Final: no approve control any more, and the pending list drops it.
    assert.equal(await tid(page, 'request-approve').count(), 0, 'a denied request still offers Approve');
    await openPending(page);
    await tid(page, 'pending-count').waitFor();
    assert.equal(await pendingRow(page, req.id).count(), 0, 'the denied request is still in the pending list');
  });
});

test('approver approves, then revokes: the access check refuses the grant at once', T, async () => {
  await withWorld('revoke', {}, async ({ w, base, browser }) => {
    const req = await w.createRequest('contoso');
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, base, 'contoso', 'ap1');
    await openPending(page);
    await openRequestFromList(page, req.id);
    await approve(page, { comment: 'go ahead' });
    await waitStatus(page, 'approved');
    const r1 = await w.getRequest('contoso', req.id, 'ap1');
    assert.equal(r1.status, 'approved');
    const span = ms(r1.access_expires_at) - ms(r1.access_starts_at);
    assert.ok(span > 0 && span <= 720 * MIN_MS, `access window ${span} ms`);

    const g = await w.grant('contoso', req.id);
    const a1 = await w.authz(g.token);
    assert.equal(a1.status, 200, `access check before revoke: ${a1.status} ${short(a1.body)}`);

    const comment = 'Done: the header is found';
    await revoke(page, comment);
    await waitStatus(page, 'revoked');
    const r2 = await w.getRequest('contoso', req.id, 'ap1');
    assert.equal(r2.status, 'revoked');
    const dec = (r2.decisions || []).find((x) => x.decision === 'revoke');
    assert.ok(dec, `no revoke decision: ${short(r2.decisions)}`);
    assert.equal(dec.comment, comment);

    const a2 = await w.authz(g.token);
    assert.equal(a2.status, 403, `access check after revoke: ${a2.status} ${short(a2.body)}`);
    assert.equal(a2.body?.error?.reason, 'grant_not_live', `reason after revoke: ${short(a2.body)}`);
  });
});
