// Tenant settings: a refusal of the server (here the licence rule) is
// shown to the person in words.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SLOW, short, expectStatus } from './lib/daemon.mjs';
import { signIn, tid, go, until } from './lib/browser.mjs';
import { withWorld, ROUTES } from './lib/fixture.mjs';

const T = { timeout: 90000 * SLOW };

async function turnOn(loc) {
  const kind = await loc.evaluate((el) => `${el.tagName.toLowerCase()}:${el.type || ''}`);
  if (kind === 'input:checkbox' || kind === 'input:radio') await loc.check();
  else if (kind.startsWith('select')) await loc.selectOption({ value: 'true' }).catch(() => loc.selectOption({ index: 1 }));
  else await loc.click();          // a switch button
}

test('enabling Lockbox on an M365_E3 tenant without the add-on shows the licence refusal in words', T, async (t) => {
  await withWorld('licence', { northwind: true }, async ({ w, base, browser }) => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, base, 'northwind', 'ga1');
    await go(page, base, ROUTES.settings);
    const enabled = tid(page, 'settings-enabled');
    await enabled.waitFor();
    // The approvers designated over the API show on the page.
    const appr = tid(page, 'settings-approvers');
    await appr.waitFor();
    const apprText = `${await appr.innerText().catch(() => '')} ${await appr.inputValue().catch(() => '')}`;
    assert.match(apprText, /ap1/, `settings-approvers does not show ap1: ${JSON.stringify(apprText)}`);

    await turnOn(enabled);
    await tid(page, 'settings-save').click();
    const err = tid(page, 'settings-error');
    await until(async () => (await err.isVisible()) && (await err.innerText()).trim().length > 0,
      'settings-error to show');
    const text = (await err.innerText()).trim();
    t.diagnostic(`settings-error: ${text}`);
    const words = text.replace(/\(?license_required\)?/g, '').trim();
    assert.match(words, /licen[cs]e|plan|add-?on/i,
      `settings-error does not explain the licence rule in words: ${JSON.stringify(text)}`);

    const s = expectStatus(await w.call('GET', '/v1/tenants/northwind/lockbox/settings', 'northwind/ga1'), 200);
    assert.equal(s.enabled, false, `settings after the refusal: ${short(s)}`);
    assert.deepEqual(ctx.problems, []);
  });
});
