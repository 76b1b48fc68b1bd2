// Sign-in refusals and sign-out, audit exports from the console, and the
// emergency-access banner with the tenant's objection.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { SLOW, MIN_MS, PASSWORD, short, expectStatus } from './lib/daemon.mjs';
import { signIn, tid, go, until } from './lib/browser.mjs';
import { withWorld, ROUTES } from './lib/fixture.mjs';
import { pageFetch } from './lib/console.mjs';

const T = { timeout: 90000 * SLOW };

test('sign-in: a wrong password is refused in words; sign-out ends the session on the server', T, async (t) => {
  await withWorld('signout', {}, async ({ w, d, base, browser }) => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${base}/ui/`);
    await tid(page, 'signin-user').waitFor();
    await tid(page, 'signin-realm').fill('contoso');
    await tid(page, 'signin-user').fill('ap1');
    await tid(page, 'signin-password').fill('not the password at all');
    await tid(page, 'signin-submit').click();
    await until(async () => (await tid(page, 'message').innerText()).trim().length > 0, 'a message after the refusal');
    const msg = (await tid(page, 'message').innerText()).trim();
    t.diagnostic(`message: ${msg}`);
    assert.match(msg, /wrong|incorrect|invalid|not recogni[sz]ed/i, `message after a wrong password: ${JSON.stringify(msg)}`);
    assert.equal(await tid(page, 'signout').isVisible(), false, 'signed in with a wrong password');
    assert.ok(!(await ctx.cookies(base)).some((c) => c.name === 'lockbox_session'), 'a session cookie after a refused sign-in');

    await signIn(page, base, 'contoso', 'ap1');
    const cookie = (await ctx.cookies(base)).find((c) => c.name === 'lockbox_session');
    assert.ok(cookie, 'no session cookie');
    await tid(page, 'signout').click();
    await tid(page, 'signin-user').waitFor();
    const after = await pageFetch(page, 'GET', '/v1/session');
    assert.equal(after.status, 401, `GET /v1/session after sign-out: ${after.status} ${short(after.body)}`);
    // The old cookie, replayed: the session is gone on the server too.
    const replay = await d.call('GET', '/v1/session', { headers: { Cookie: `lockbox_session=${cookie.value}` } });
    assert.equal(replay.status, 401, `the signed-out cookie replayed: ${replay.status} ${short(replay.body)}`);
    // Back navigation does not bring the console back.
    await go(page, base, ROUTES.pending);
    assert.equal(await tid(page, 'signout').isVisible(), false, 'console shown after sign-out');
  });
});

test('audit: the console exports JSONL (whole chain, checkpointed) and CSV downloads', T, async () => {
  await withWorld('export', {}, async ({ w, base, browser }) => {
    await w.createRequest('contoso');
    const ctx = await browser.newContext({ acceptDownloads: true });
    const page = await ctx.newPage();
    await signIn(page, base, 'contoso', 'ca1');
    await go(page, base, ROUTES.audit);

    const [dj] = await Promise.all([page.waitForEvent('download'), tid(page, 'audit-export-jsonl').click()]);
    const jsonl = fs.readFileSync(await dj.path(), 'utf8');
    const lines = jsonl.split('\n').filter(Boolean);
    assert.ok(lines.length > 10, `JSONL export has ${lines.length} lines`);
    const parsed = lines.map((l, i) => {
      try { return JSON.parse(l); } catch { throw new Error(`JSONL line ${i + 1} is not JSON: ${short(l)}`); }
    });
    assert.ok(parsed.some((r) => r.operation === 'CreateRequest'), 'no CreateRequest record in the JSONL export');
    assert.ok(parsed[0].export && parsed[0].export.tenant === 'contoso', `JSONL header: ${short(parsed[0])}`);
    assert.ok(parsed.some((r) => r.checkpoint && r.checkpoint.sig), 'no signed checkpoint in the JSONL export');
    assert.equal(parsed.filter((r) => r.seq !== undefined).length, parsed[0].export.last_seq - parsed[0].export.first_seq + 1,
      'the JSONL export does not hold every record of its header\'s range');
    assert.ok(!jsonl.includes('lbt_'), 'a token in the export');
    assert.match(dj.suggestedFilename(), /\.jsonl$/);

    const [dc] = await Promise.all([page.waitForEvent('download'), tid(page, 'audit-export-csv').click()]);
    const csv = fs.readFileSync(await dc.path(), 'utf8');
    assert.match(csv, /^time,seq,tenant,workload,record_type,operation,/, `CSV header: ${short(csv.slice(0, 120))}`);
    assert.match(csv, /CreateRequest/);
    assert.match(dc.suggestedFilename(), /\.csv$/);

    // Both exports are recorded as reads of the audit log.
    const a = expectStatus(await w.call('GET', '/v1/tenants/contoso/audit?operation=ExportAuditLog', 'contoso/ga1'), 200);
    assert.equal(a.items.length, 2, `ExportAuditLog records: ${short(a.items)}`);
    assert.deepEqual(ctx.problems, []);
  });
});

test('emergency access: the tenant sees the banner and objects from the console', T, async () => {
  await withWorld('emergency', {}, async ({ w, base, browser }) => {
    const inc = expectStatus(await w.call('POST', '/v1/incidents', 'im1',
      { title: 'Mail flow outage', severity: 'critical', tenants: ['contoso'] }), 201);
    const emg = expectStatus(await w.call('POST', '/v1/emergency-access', 'im1', {
      incident: inc.id, tenant: 'contoso', workload: 'exchange',
      resources: ['mailbox/alice@contoso.example'], justification: 'Restore mail flow during the outage',
    }), 201);
    expectStatus(await w.call('POST', `/v1/emergency-access/${emg.id}/approve`, 'im2', {}), 200);

    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, base, 'contoso', 'ga1');
    const banner = tid(page, 'emergency-banner');
    await banner.waitFor();
    assert.match(await banner.innerText(), /Mail flow|exchange|emergency/i);
    await go(page, base, '#/emergency');
    const obj = page.locator(`[data-testid="emergency-object"][data-emergency-id="${emg.id}"]`).first();
    await obj.click();
    const comment = 'We were not told before the access began';
    await page.getByTestId('emergency-object-comment').locator('visible=true').first().fill(comment);
    await page.getByTestId('emergency-object-submit').locator('visible=true').first().click();
    await until(async () => {
      const r = await w.call('GET', `/v1/tenants/contoso/emergency-access/${emg.id}`, 'contoso/ga1');
      return r.status === 200 && r.body.objection;
    }, 'the objection to be recorded');
    const r = expectStatus(await w.call('GET', `/v1/tenants/contoso/emergency-access/${emg.id}`, 'contoso/ga1'), 200);
    assert.match(JSON.stringify(r.objection), new RegExp(comment), `objection: ${short(r.objection)}`);
    await tid(page, 'emergency-objection').first().waitFor();
    assert.deepEqual(ctx.problems, []);
  });
});

test('sign-in: after 5 failures the console says to wait (429); 15 minutes later the person signs in', T, async (t) => {
  await withWorld('ratelimit', {}, async ({ d, base, browser }) => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${base}/ui/`);
    await tid(page, 'signin-user').waitFor();
    const attempt = async (password) => {
      await tid(page, 'signin-realm').fill('contoso');
      await tid(page, 'signin-user').fill('ca1');
      await tid(page, 'signin-password').fill(password);
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/v1/session') && r.request().method() === 'POST'),
        tid(page, 'signin-submit').click(),
      ]);
      await until(async () => (await tid(page, 'signin-error').isVisible()) || (await tid(page, 'signout').isVisible()), 'an answer to the sign-in');
      return resp.status();
    };
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push(await attempt(`wrong password number ${i}`));
    assert.deepEqual(statuses, [401, 401, 401, 401, 401]);
    assert.equal(await attempt('wrong password number 5'), 429);
    const err = (await tid(page, 'signin-error').innerText()).trim();
    t.diagnostic(`signin-error: ${err}`);
    assert.match(err, /too many|wait|try again later/i, `signin-error after the limit: ${JSON.stringify(err)}`);
    // Even the right password waits out the window...
    assert.equal(await attempt(PASSWORD), 429, 'the right password passed the limit');
    // ...which ends 15 minutes after the failures.
    await d.advanceClock(16 * MIN_MS);
    assert.equal(await attempt(PASSWORD), 200);
    await tid(page, 'signout').waitFor();
  });
});

test('text from users is shown as text, never run as HTML', T, async () => {
  await withWorld('xss', {}, async ({ w, base, browser }) => {
    const evil = '<img src=x onerror="window.__lbxss=1"><script>window.__lbxss=2</script><b>bold</b> & "quotes"';
    const req = await w.createRequest('contoso', { justification: `Look: ${evil}` });
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, base, 'contoso', 'ap1');
    await go(page, base, ROUTES.pending);
    await page.locator(`[data-testid="pending-row"][data-request-id="${req.id}"]`).waitFor();
    assert.ok((await page.locator('main').innerText()).includes(evil), 'the pending list does not show the justification literally');
    await go(page, base, ROUTES.request(req.id));
    const j = (await tid(page, 'request-justification').innerText()).trim();
    assert.equal(j, `Look: ${evil}`);
    // Deny with an HTML comment; the decision row shows it literally.
    await tid(page, 'request-deny').click();
    await tid(page, 'deny-comment').fill(evil);
    await tid(page, 'deny-submit').click();
    await until(async () => (await tid(page, 'request-status').getAttribute('data-status')) === 'denied', 'the denial');
    assert.ok((await tid(page, 'request-decisions').innerText()).includes(evil), 'the decision comment is not shown literally');
    assert.equal(await page.locator('main img[src="x"], main b, main script').count(), 0, 'user text became elements');
    assert.equal(await page.evaluate(() => window.__lbxss), undefined, 'user text ran as script');
  });
});
