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

// Waits until the request page's status badge carries `status` (its
// data-status is the API's status); fails at once when the console shows an
// error message instead.
export async function waitStatus(page, status) {
  const badge = tid(page, 'request-status');
  let last = '';
  try {
    await until(async () => {
      last = await badge.getAttribute('data-status', { timeout: 1000 }).catch(() => '');
      if (last === status) return true;
      if (await page.locator('[data-testid="message"][data-kind="error"]').count()) throw new Error('the console shows an error');
      return false;
    }, `request-status to be ${status}`, TIMEOUT);
  } catch (e) {
    const text = await statusText(page).catch(() => '');
    const msg = await tid(page, 'message').innerText().catch(() => '');
    throw new Error(`${e.message}; request-status is ${JSON.stringify(last)} (${JSON.stringify(text)}); message: ${JSON.stringify(msg)}`);
  }
  return statusText(page);
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

// Text that runs out of its own box (not ellipsized): what a clipped page
// hides even when the document does not scroll sideways.  Lists up to 10.
export async function overflowingText(page, root = 'main') {
  return page.evaluate((sel) => {
    const out = [];
    const rootEl = document.querySelector(sel);
    if (!rootEl) return out;
    const walker = document.createTreeWalker(rootEl, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n && out.length < 10; n = walker.nextNode()) {
      if (!n.textContent.trim()) continue;
      let box = n.parentElement;
      let ellipsis = false;
      while (box && box !== rootEl) {
        const cs = getComputedStyle(box);
        if (cs.textOverflow === 'ellipsis' || cs.webkitLineClamp !== 'none') ellipsis = true;
        if (!cs.display.startsWith('inline') && cs.display !== 'contents') break;
        box = box.parentElement;
      }
      if (!box || ellipsis) continue;
      // Visually hidden on purpose (the .sr-only pattern: clipped, 1 px).
      let hidden = false;
      for (let a = n.parentElement; a && a !== document.body; a = a.parentElement) {
        const cs = getComputedStyle(a);
        const ar = a.getBoundingClientRect();
        if (cs.clip !== 'auto' || cs.clipPath !== 'none' || ar.width <= 2 || ar.height <= 2) { hidden = true; break; }
      }
      if (hidden) continue;
      const r = document.createRange();
      r.selectNodeContents(n);
      const tr = r.getBoundingClientRect();
      const br = box.getBoundingClientRect();
      if (tr.width === 0 || br.width === 0) continue;
      if (tr.right > br.right + 1) {
        const line = `"${n.textContent.trim().slice(0, 60)}" ends at x=${Math.round(tr.right)}, its box <${box.tagName.toLowerCase()}${box.dataset.label ? ` data-label="${box.dataset.label}"` : ''}> at x=${Math.round(br.right)} (viewport ${innerWidth})`;
        if (!out.includes(line)) out.push(line);
      }
    }
    return out;
  }, root);
}
