// What a person does in the console, by the data-testid hooks of
// docs/console.md.

import { tid, until, TIMEOUT } from './browser.mjs';

export function pendingRow(page, rid) {
  return page.locator(`[data-testid="pending-row"][data-request-id="${rid}"]`);
}

// Pending list through the navigation, then the row of `rid`.
export async function openPending(page) {
  await tid(page, 'nav-pending').click();
  await page.waitForURL(/#\/pending/);
}

export async function openRequestFromList(page, rid) {
  const row = pendingRow(page, rid);
  await row.waitFor();
  const review = row.getByTestId('pending-review');
  if (await review.count()) await review.click();
  else await row.getByRole('link').first().click();
  await tid(page, 'request-status').waitFor();
}

export async function statusText(page) {
  return (await tid(page, 'request-status').innerText()).trim();
}

export async function waitStatus(page, re) {
  let last = '';
  try {
    await until(async () => {
      last = await statusText(page).catch(() => '');
      return re.test(last);
    }, `request-status to match ${re}`, TIMEOUT);
  } catch (e) {
    const msg = await tid(page, 'message').innerText().catch(() => '');
    throw new Error(`${e.message}; request-status reads ${JSON.stringify(last)}; message: ${JSON.stringify(msg)}`);
  }
}

async function setValue(loc, value) {
  const tag = await loc.evaluate((el) => el.tagName.toLowerCase());
  if (tag === 'select') await loc.selectOption(String(value));
  else await loc.fill(String(value));
}

export async function approve(page, { minutes, comment } = {}) {
  await tid(page, 'request-approve').click();
  if (minutes !== undefined) await setValue(tid(page, 'approve-duration'), minutes);
  if (comment !== undefined) await tid(page, 'approve-comment').fill(comment);
  await tid(page, 'approve-submit').click();
}

export async function deny(page, comment) {
  await tid(page, 'request-deny').click();
  await tid(page, 'deny-comment').fill(comment);
  await tid(page, 'deny-submit').click();
}

export async function revoke(page, comment) {
  await tid(page, 'request-revoke').click();
  await tid(page, 'revoke-comment').fill(comment);
  await tid(page, 'revoke-submit').click();
}

// fetch from inside the page (same origin, the session cookie), with or
// without the CSRF header.
export async function pageFetch(page, method, path, { body, headers } = {}) {
  return page.evaluate(async ([m, p, b, hd]) => {
    const h = { Accept: 'application/json', ...(hd || {}) };
    if (b !== undefined) h['Content-Type'] = 'application/json';
    const r = await fetch(p, { method: m, headers: h, credentials: 'same-origin',
      body: b === undefined ? undefined : JSON.stringify(b) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, body: json ?? text };
  }, [method, path, body, headers]);
}

// Text of the page for "is this data absent" checks: the DOM's text and
// its attributes (a value can hide in a title or data-* attribute).
export async function pageText(page) {
  return page.evaluate(() => {
    const parts = [document.documentElement.innerText];
    document.querySelectorAll('*').forEach((el) => {
      for (const a of el.attributes) parts.push(a.value);
      if ('value' in el && typeof el.value === 'string') parts.push(el.value);
    });
    return parts.join('\n');
  });
}

export async function noHorizontalScroll(page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
}
