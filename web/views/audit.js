// Audit search, export and verification (#/audit): global_admin and
// compliance_admin of a tenant; provider_admin (a tenant's chain or the
// provider's own).
import { api, currentTenant, isProvider, enc, qs, say, sayError, errorText, hasRole } from '../app.js';
import { h, str, arr, pageHeader, field, errorBox, showError, timeEl, localInputToIso } from './ui.js';
import { cell } from './common.js';

const RECORD_TYPES = ['CustomerLockboxRequest', 'CustomerLockboxAccess', 'CustomerLockboxSettings', 'CustomerLockboxAdmin',
  'CustomerLockboxAudit', 'CustomerLockboxNotification', 'CustomerLockboxEmergencyAccess', 'CustomerLockboxSignIn'];
const OPERATIONS = ['CreateRequest', 'ApproveRequestInternal', 'ApproveRequestPartial', 'ApproveRequest', 'DenyRequest', 'RevokeRequest',
  'CancelRequest', 'ExpireRequest', 'CompleteRequest', 'IssueGrant', 'AccessContent', 'AccessMetadata', 'SetCustomerLockboxSetting',
  'SetProviderSetting', 'CreateTenant', 'CreateUser', 'CreateToken', 'RevokeToken', 'OpenCase', 'AssignCase', 'CloseCase',
  'SearchAuditLog', 'ExportAuditLog', 'VerifyAuditLog', 'NotificationDelivered', 'NotificationDeadLetter', 'EmergencyNoticeOverdue',
  'DeclareIncident', 'CloseIncident', 'RequestEmergencyAccess', 'RefuseEmergencyAccess', 'ApproveEmergencyAccess',
  'IssueEmergencyGrant', 'EndEmergencyAccess', 'ExpireEmergencyAccess', 'ObjectEmergencyAccess', 'AnswerEmergencyReview',
  'SignIn', 'SignOut', 'SetPassword', 'AddWebhook', 'RemoveWebhook'];
const RESULTS = ['success', 'failure', 'allowed', 'denied'];

/** File name from Content-Disposition (filename*=UTF-8'' wins). */
export function dispositionName(header, fallback) {
  const v = str(header);
  let m = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(v);
  if (m) { try { return sanitize(decodeURIComponent(m[1].trim().replace(/^"|"$/g, ''))) || fallback; } catch { /* fall through */ } }
  m = /filename\s*=\s*"([^"]*)"/.exec(v) || /filename\s*=\s*([^;]+)/.exec(v);
  return m ? sanitize(m[1].trim()) || fallback : fallback;
}
function sanitize(name) {
  return name.replace(/[\\/\u0000-\u001f]/g, '_').slice(0, 200);
}

/** GET a download with the session cookie, save it via a Blob. */
export async function download(url, fallbackName) {
  const res = await api('GET', url, undefined, { raw: true });
  const blob = await res.blob();
  const name = dispositionName(res.headers.get('Content-Disposition'), fallbackName);
  const href = URL.createObjectURL(blob);
  const a = h('a', { href, download: name, class: 'sr-only' }, name);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60000);
  return { name, size: blob.size };
}

export async function render(ctx) {
  const t = currentTenant();
  const providerAdmin = isProvider() && hasRole('provider_admin');
  const chain = providerAdmin && ctx.query.get('chain') === 'provider' ? 'provider' : 'tenant';
  const base = chain === 'provider' ? '/v1/provider/audit' : `/v1/tenants/${enc(t)}/audit`;

  ctx.main.append(pageHeader('Audit'),
    h('p', { class: 'lead' }, chain === 'provider' ? 'The provider\'s own audit chain.' : `The audit trail of ${t}: every request, decision, access, setting change and sign-in, hash-chained and signed. Searching and exporting are recorded too.`));

  if (providerAdmin) {
    const chainSel = h('select', { id: 'audit-chain', 'data-testid': 'audit-chain' },
      h('option', { value: 'tenant', selected: chain === 'tenant' }, `Tenant ${t}`),
      h('option', { value: 'provider', selected: chain === 'provider' }, 'Provider chain'));
    chainSel.addEventListener('change', () => { location.hash = `#/audit${qs({ tenant: t, chain: chainSel.value === 'provider' ? 'provider' : '' })}`; });
    ctx.main.append(h('div', { class: 'inline-form' }, field('Chain', chainSel)));
  }

  // Filters.
  const recordType = h('select', { id: 'audit-record-type', 'data-testid': 'audit-record-type' },
    h('option', { value: '' }, 'any'), RECORD_TYPES.map((x) => h('option', { value: x }, x)));
  const operation = h('input', { id: 'audit-operation', 'data-testid': 'audit-operation', list: 'audit-ops', spellcheck: 'false', autocapitalize: 'none' });
  const opsList = h('datalist', { id: 'audit-ops' }, OPERATIONS.map((x) => h('option', { value: x })));
  const actor = h('input', { id: 'audit-actor', 'data-testid': 'audit-actor', spellcheck: 'false', autocapitalize: 'none' });
  const object = h('input', { id: 'audit-object', 'data-testid': 'audit-object', spellcheck: 'false', autocapitalize: 'none' });
  const result = h('select', { id: 'audit-result', 'data-testid': 'audit-result' }, h('option', { value: '' }, 'any'), RESULTS.map((x) => h('option', { value: x }, x)));
  const start = h('input', { type: 'datetime-local', id: 'audit-start', 'data-testid': 'audit-start' });
  const end = h('input', { type: 'datetime-local', id: 'audit-end', 'data-testid': 'audit-end' });
  const searchBtn = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'audit-search' }, 'Search');
  const formErr = errorBox('audit-error');
  const form = h('form', { class: 'card filters', 'data-testid': 'audit-filters', role: 'search', 'aria-label': 'Audit search', novalidate: true },
    h('div', { class: 'grid' },
      field('Record type', recordType),
      field('Operation', operation), opsList,
      field('Actor (user id)', actor),
      field('Object (id)', object),
      field('Result', result),
      field('From (your time)', start),
      field('Until (your time)', end)),
    formErr,
    h('div', { class: 'actions' }, searchBtn,
      h('button', { type: 'reset', class: 'btn btn-quiet', 'data-testid': 'audit-reset' }, 'Clear filters')));
  ctx.main.append(form);

  // Export and verify.
  const exportJ = h('button', { type: 'button', class: 'btn', 'data-testid': 'audit-export-jsonl' }, 'Export JSONL (verifiable)');
  const exportC = h('button', { type: 'button', class: 'btn', 'data-testid': 'audit-export-csv' }, 'Export CSV');
  const verify = h('button', { type: 'button', class: 'btn', 'data-testid': 'audit-verify' }, 'Verify the chain');
  const verifyOut = h('div', { class: 'verify-result', 'data-testid': 'audit-verify-result', 'aria-live': 'polite', hidden: true });
  ctx.main.append(h('section', { class: 'card', 'aria-labelledby': 'exp-h' },
    h('h2', { id: 'exp-h' }, 'Export and verify'),
    h('p', { class: 'hint' }, 'JSONL is the whole chain with its signed checkpoints: `lockbox audit verify --file` checks it offline with the public key alone. CSV is for spreadsheets and takes the From/Until filters.'),
    h('div', { class: 'actions' }, exportJ, exportC, verify), verifyOut));

  const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');
  async function doExport(btn, format) {
    btn.disabled = true;
    showError(formErr, '');
    try {
      const p = { format };
      if (format === 'csv') {
        const s = localInputToIso(start.value), e = localInputToIso(end.value);
        if (s) p.start = s;
        if (e) p.end = e;
      }
      const exportUrl = chain === 'provider' ? '/v1/provider/audit/export' : `/v1/tenants/${enc(t)}/audit/export`;
      const got = await download(exportUrl + qs(p), `audit-${chain === 'provider' ? 'provider' : t}-${stamp()}.${format}`);
      say(`Exported ${got.name} (${got.size} bytes).`, 'success');
    } catch (err) {
      sayError(err, 'The export failed');
    } finally {
      btn.disabled = false;
    }
  }
  exportJ.addEventListener('click', () => doExport(exportJ, 'jsonl'));
  exportC.addEventListener('click', () => doExport(exportC, 'csv'));
  verify.addEventListener('click', async () => {
    // The result box stays empty until the verdict is in; the button says we are busy.
    verify.disabled = true;
    verify.textContent = 'Verifying…';
    verifyOut.hidden = true;
    verifyOut.textContent = '';
    verifyOut.removeAttribute('data-ok');
    try {
      const v = await api('GET', `${base}/verify`);
      const ok = v && v.ok === true;
      verifyOut.className = `verify-result ${ok ? 'verify-ok' : 'verify-bad'}`;
      verifyOut.setAttribute('data-ok', String(ok));
      verifyOut.textContent = ok
        ? `Verified: the chain is intact — ${plural(v.records, 'record')} (seq ${str(v.first_seq)} to ${str(v.last_seq)}), ${plural(v.checkpoints, 'signed checkpoint')}.`
        : `Problem found: ${str(v && v.problem) || 'unknown'}${v && v.bad_seq != null ? ` at seq ${str(v.bad_seq)}` : ''}. ${str(v && v.reason)}`;
      say(ok ? 'The audit chain verified.' : 'The audit chain did NOT verify.', ok ? 'success' : 'error');
    } catch (err) {
      verifyOut.className = 'verify-result verify-bad';
      verifyOut.setAttribute('data-ok', 'error');
      verifyOut.textContent = errorText(err);
      sayError(err);
    } finally {
      verifyOut.hidden = false;
      verify.disabled = false;
      verify.textContent = 'Verify the chain';
    }
  });

  // Results.
  const summary = h('p', { class: 'small muted', 'data-testid': 'audit-count', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const tableEl = h('div', { class: 'table-wrap' }, h('table', { class: 'data audit' },
    h('caption', { class: 'sr-only' }, 'Audit records, newest first'),
    h('thead', h('tr', ['Time', 'Seq', 'Record type', 'Operation', 'Actor', 'Object', 'Result', 'Details'].map((c) => h('th', { scope: 'col' }, c)))),
    tbody));
  const more = h('button', { type: 'button', class: 'btn', 'data-testid': 'audit-more', hidden: true }, 'Show more');
  const results = h('section', { 'aria-labelledby': 'res-h', 'data-testid': 'audit-results' }, h('h2', { id: 'res-h' }, 'Records'), summary, tableEl, h('div', { class: 'actions' }, more));
  ctx.main.append(results);

  let filters = {};
  let token = null;
  let shown = 0;
  async function load(reset) {
    if (reset) { while (tbody.firstChild) tbody.removeChild(tbody.firstChild); token = null; shown = 0; }
    const page = await api('GET', base + qs({ ...filters, page_size: 100, page_token: token }));
    const items = arr(page && page.items).filter((x) => x && typeof x === 'object');
    for (const rec of items) tbody.append(recordRow(rec));
    shown += items.length;
    token = page && typeof page.next_page_token === 'string' && page.next_page_token ? page.next_page_token : null;
    more.hidden = !token;
    tableEl.hidden = shown === 0;
    summary.textContent = shown ? `${shown} record${shown === 1 ? '' : 's'} shown${token ? ' (more available)' : ''}.` : 'No record matches.';
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    showError(formErr, '');
    const s = localInputToIso(start.value), en = localInputToIso(end.value);
    if (s && en && s >= en) { showError(formErr, '"From" must be before "Until".'); return; }
    filters = { record_type: recordType.value, operation: operation.value.trim(), actor: actor.value.trim(), object: object.value.trim(), result: result.value, start: s, end: en };
    searchBtn.disabled = true;
    try { await load(true); } catch (err) { showError(formErr, errorText(err)); sayError(err); } finally { searchBtn.disabled = false; }
  });
  more.addEventListener('click', async () => {
    more.disabled = true;
    try { await load(false); } catch (err) { sayError(err); } finally { more.disabled = false; }
  });
  await load(true);
}

function plural(n, word) {
  const k = Number(n);
  return `${str(n)} ${word}${k === 1 ? '' : 's'}`;
}

function recordRow(rec) {
  const a = rec.actor && typeof rec.actor === 'object' ? rec.actor : {};
  let details = '';
  try { details = JSON.stringify(rec.details ?? null, null, 2); } catch { details = str(rec.details); }
  const res = str(rec.result);
  return h('tr', { 'data-testid': 'audit-row', 'data-seq': str(rec.seq) },
    cell('Time', timeEl(rec.time)),
    cell('Seq', str(rec.seq)),
    cell('Record type', str(rec.record_type)),
    cell('Operation', h('strong', str(rec.operation))),
    cell('Actor', str(a.id), a.realm ? h('span', { class: 'small muted' }, ` (${str(a.realm)}, ${str(a.type)})`) : ''),
    cell('Object', h('code', { class: 'small' }, str(rec.object_id))),
    cell('Result', h('span', { class: `result result-${/^[a-z]+$/.test(res) ? res : 'other'}` }, res)),
    cell('Details', h('details', h('summary', 'JSON'), h('pre', { class: 'json' }, details),
      rec.client_ip ? h('p', { class: 'small' }, `client ${str(rec.client_ip)}`) : null,
      h('p', { class: 'small muted mono wrap' }, `hash ${str(rec.hash)}`))));
}
