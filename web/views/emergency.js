// Emergency (break-glass) access (#/emergency).  Tenant people see every
// emergency access to their tenant, its notice status, and may object;
// provider people request, approve, end and list them.  banner() is the
// warning app.js shows on every page while one is active for the tenant.
import { api, listAll, state, currentTenant, isProvider, isTenantUser, hasRole, me, enc, say, sayError, errorText, refreshBanner, link } from '../app.js';
import { h, str, arr, pageHeader, field, errorBox, showError, timeEl, countdown, badge, table, lines, fmtMinutes } from './ui.js';
import { cell } from './common.js';

function noticeStatus(x) {
  if (x.notice_overdue === true) {
    return h('span', { class: 'notice notice-overdue', 'data-testid': 'emergency-notice', 'data-notice': 'overdue' }, 'Notice OVERDUE: not delivered by ', timeEl(x.notification_due_at));
  }
  if (x.notification_delivered_at) {
    return h('span', { class: 'notice notice-ok', 'data-testid': 'emergency-notice', 'data-notice': 'delivered' }, 'Notice delivered ', timeEl(x.notification_delivered_at));
  }
  if (x.notification_due_at) {
    return h('span', { class: 'notice notice-due', 'data-testid': 'emergency-notice', 'data-notice': 'due' }, 'Notice not yet delivered; due by ', timeEl(x.notification_due_at));
  }
  return h('span', { class: 'notice', 'data-testid': 'emergency-notice', 'data-notice': 'none' }, 'No notice yet');
}

function objectionText(o) {
  if (!o) return null;
  if (typeof o === 'object') {
    const parts = [];
    if (o.by) parts.push(`by ${str(o.by)}`);
    if (o.comment) parts.push(`“${str(o.comment)}”`);
    return h('span', { 'data-testid': 'emergency-objection' }, 'Objection sent ', parts.join(': '), o.at ? [' ', timeEl(o.at)] : '');
  }
  return h('span', { 'data-testid': 'emergency-objection' }, `Objection sent: ${str(o)}`);
}

/** The Object action (global_admin, compliance_admin of the tenant). */
function objectAction(x, onDone) {
  if (!isTenantUser() || !hasRole('global_admin', 'compliance_admin') || x.objection || !['active', 'ended', 'expired'].includes(str(x.status))) return null;
  const id = str(x.id);
  const comment = h('textarea', { id: `object-comment-${id}`, 'data-testid': 'emergency-object-comment', rows: '2', maxlength: '1000', required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-danger', 'data-testid': 'emergency-object-submit' }, 'Send objection');
  const err = errorBox('emergency-object-error');
  const panel = h('form', { id: `object-panel-${id}`, class: 'panel', hidden: true, novalidate: true },
    field('Why do you object? (sent to the provider for review)', comment), err, h('div', { class: 'actions' }, submit));
  const btn = h('button', { type: 'button', class: 'btn btn-danger btn-small', 'data-testid': 'emergency-object', 'data-emergency-id': id, 'aria-expanded': 'false', 'aria-controls': panel.id }, 'Object…');
  btn.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    btn.setAttribute('aria-expanded', String(!panel.hidden));
    if (!panel.hidden) comment.focus();
  });
  panel.addEventListener('submit', async (e) => {
    e.preventDefault();
    showError(err, '');
    if (!comment.value.trim()) { showError(err, 'Say why you object.'); comment.focus(); return; }
    submit.disabled = true;
    try {
      await api('POST', `/v1/tenants/${enc(str(x.tenant) || currentTenant())}/emergency-access/${enc(id)}/object`, { comment: comment.value.trim() });
      say('Your objection was sent to the provider.', 'success', true);
      onDone();
    } catch (ex) { showError(err, errorText(ex)); sayError(ex); submit.disabled = false; }
  });
  return h('div', { class: 'object-action' }, btn, panel);
}

export function banner(items) {
  const box = h('section', { class: 'emergency-banner', 'data-testid': 'emergency-banner', 'aria-labelledby': 'emg-banner-h' },
    h('h2', { id: 'emg-banner-h' }, items.length === 1 ? 'Emergency access is active for your tenant' : `${items.length} emergency accesses are active for your tenant`));
  for (const x of items) {
    box.append(h('div', { class: 'emergency-item', 'data-testid': 'emergency-banner-item', 'data-emergency-id': str(x.id) },
      h('p', h('strong', str(x.requester)), ` (approved by ${str(x.approver) || '—'}) may read `, h('strong', str(x.workload)), ': ',
        arr(x.resources).map(str).join(', '), ` under incident ${str(x.incident)}, until `, timeEl(x.expires_at), ' (', countdown(x.expires_at, 'emergency-countdown'), ').'),
      x.justification ? h('p', { class: 'small' }, 'Reason given: ', h('span', { class: 'prewrap' }, str(x.justification))) : null,
      h('p', { class: 'small' }, noticeStatus(x)),
      objectionText(x.objection),
      objectAction(x, () => { refreshBanner(); if (location.hash.startsWith('#/emergency')) window.dispatchEvent(new HashChangeEvent('hashchange')); }),
      h('p', { class: 'small' }, h('a', { href: link('/emergency') }, 'All emergency accesses'))));
  }
  return box;
}

export async function render(ctx) {
  if (isTenantUser()) return renderTenant(ctx);
  return renderProvider(ctx);
}

async function renderTenant(ctx) {
  const t = currentTenant();
  const items = (await listAll(`/v1/tenants/${enc(t)}/emergency-access`)).filter((x) => x && typeof x === 'object');
  ctx.main.append(pageHeader('Emergency access'),
    h('p', { class: 'lead' }, 'Break-glass access the provider took under a critical service incident, without your approval. You must be told within 48 hours; you may object to any of them.'));
  ctx.main.append(table({
    caption: 'Emergency accesses to this tenant',
    captionHidden: true,
    columns: ['Who and what', 'Status', 'Window', 'Notice', 'Objection'],
    rows: items.map((x) => h('tr', { 'data-testid': 'emergency-row', 'data-emergency-id': str(x.id), 'data-status': str(x.status) },
      cell('Who and what', h('strong', str(x.requester)), ` approved by ${str(x.approver) || '—'}`, h('div', { class: 'small' }, `${str(x.workload)}: ${arr(x.resources).map(str).join(', ')}`), h('div', { class: 'small muted prewrap' }, str(x.justification)), h('div', { class: 'small muted' }, `incident ${str(x.incident)}`)),
      cell('Status', badge(x.status), x.end_reason ? h('div', { class: 'small muted' }, str(x.end_reason).replace(/_/g, ' ')) : ''),
      cell('Window', timeEl(x.starts_at), ' – ', timeEl(x.ended_at || x.expires_at)),
      cell('Notice', noticeStatus(x)),
      cell('Objection', objectionText(x.objection) || objectAction(x, () => { refreshBanner(); ctx.rerender(); }) || h('span', { class: 'muted' }, '—')))),
    testid: 'emergency-table',
    empty: 'No emergency access was ever taken for this tenant.',
  }));
}

async function renderProvider(ctx) {
  const t = currentTenant();
  const canRequest = hasRole('incident_manager', 'support_engineer');
  const isIM = hasRole('incident_manager');
  const allTenants = ctx.query.get('all') === '1';
  const [items, incidents] = await Promise.all([
    listAll('/v1/emergency-access', allTenants || !t ? {} : { tenant: t }),
    canRequest ? listAll('/v1/incidents', { status: 'open' }).catch(() => []) : Promise.resolve([]),
  ]);
  ctx.main.append(pageHeader('Emergency access'),
    h('p', { class: 'lead' }, 'Break-glass access under a declared critical incident: requested by one person, approved by a different incident manager. The tenant is notified at once and must be within 48 hours.'),
    h('p', h('a', { href: link('/emergency', { all: allTenants ? '' : '1' }), 'data-testid': 'emergency-toggle-all' }, allTenants ? `Show ${t} only` : 'Show every tenant')));

  if (canRequest) ctx.main.append(requestForm(ctx, incidents.filter((i) => i && typeof i.id === 'string')));

  const rows = items.filter((x) => x && typeof x === 'object').map((x) => {
    const st = str(x.status);
    const acts = [];
    if (st === 'pending_approval' && isIM && str(x.requester) !== me()) {
      acts.push(actionButton('Approve', 'emergency-approve', 'btn-primary', `/v1/emergency-access/${enc(str(x.id))}/approve`, 'Emergency access approved; the tenant is being notified.', ctx));
    }
    if ((st === 'active' || st === 'pending_approval') && (isIM || str(x.requester) === me())) {
      acts.push(actionButton('End', 'emergency-end', 'btn-danger', `/v1/emergency-access/${enc(str(x.id))}/end`, 'Emergency access ended.', ctx));
    }
    if (st === 'active' && str(x.requester) === me()) acts.push(grantButton(str(x.id)));
    return h('tr', { 'data-testid': 'emergency-row', 'data-emergency-id': str(x.id), 'data-status': st },
      cell('Access', h('code', { class: 'small' }, str(x.id)), h('div', { class: 'small' }, `tenant ${str(x.tenant)} · incident ${str(x.incident)}`)),
      cell('Who and what', h('strong', str(x.requester)), ` → ${str(x.approver) || 'not approved yet'}`, h('div', { class: 'small' }, `${str(x.workload)}: ${arr(x.resources).map(str).join(', ')} for ${fmtMinutes(x.duration_minutes)}`)),
      cell('Status', badge(st), st === 'active' ? h('div', countdown(x.expires_at, 'emergency-countdown')) : ''),
      cell('Notice', noticeStatus(x)),
      cell('Objection', objectionText(x.objection) || h('span', { class: 'muted' }, '—')),
      cell('Actions', h('div', { class: 'row-actions' }, acts.length ? acts : h('span', { class: 'muted' }, '—'))));
  });
  ctx.main.append(h('h2', 'Emergency accesses'), table({ caption: 'Emergency accesses', captionHidden: true, columns: ['Access', 'Who and what', 'Status', 'Notice', 'Objection', 'Actions'], rows, testid: 'emergency-table', empty: 'No emergency access.' }));
}

function actionButton(label, testid, cls, path, okText, ctx) {
  const b = h('button', { type: 'button', class: `btn btn-small ${cls}`, 'data-testid': testid }, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try { await api('POST', path); say(okText, 'success', true); ctx.rerender(); } catch (ex) { sayError(ex); b.disabled = false; }
  });
  return b;
}

function grantButton(id) {
  const wrap = h('div', { class: 'grant' });
  const b = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'emergency-grant-get' }, 'Get grant');
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      const g = await api('GET', `/v1/emergency-access/${enc(id)}/grant`);
      const token = str(g && g.token);
      const out = h('textarea', { class: 'mono', readonly: true, rows: '3', 'data-testid': 'grant-token', 'aria-label': 'Emergency grant token' });
      out.value = token;
      const copy = h('button', { type: 'button', class: 'btn btn-small btn-primary', 'data-testid': 'grant-copy' }, 'Copy grant');
      copy.addEventListener('click', async () => {
        try { await navigator.clipboard.writeText(token); say('The emergency grant is on your clipboard.', 'success'); } catch { out.select(); say('Copying was not allowed; the grant is selected — press Ctrl+C.', 'info'); }
      });
      wrap.append(out, copy);
      b.remove();
    } catch (ex) { sayError(ex); b.disabled = false; }
  });
  wrap.append(b);
  return wrap;
}

function requestForm(ctx, incidents) {
  const err = errorBox('emergency-error');
  const critical = incidents.filter((i) => i.severity === 'critical');
  const incSel = h('select', { id: 'emergency-incident', 'data-testid': 'emergency-incident', required: true },
    critical.length ? critical.map((i) => h('option', { value: i.id }, `${str(i.title)} (${i.id})`)) : h('option', { value: '' }, 'No open critical incident'));
  const tenSel = h('select', { id: 'emergency-tenant', 'data-testid': 'emergency-tenant', required: true });
  const fillTenants = () => {
    while (tenSel.firstChild) tenSel.removeChild(tenSel.firstChild);
    const inc = critical.find((i) => i.id === incSel.value);
    const ids = inc ? arr(inc.tenants).map(str) : state.tenants.map((x) => x.id);
    ids.forEach((id) => tenSel.append(h('option', { value: id, selected: id === currentTenant() }, id)));
  };
  incSel.addEventListener('change', fillTenants);
  fillTenants();
  const workload = h('input', { id: 'emergency-workload', 'data-testid': 'emergency-workload', value: 'exchange', list: 'emg-workloads', spellcheck: 'false', autocapitalize: 'none' });
  const resources = h('textarea', { id: 'emergency-resources', 'data-testid': 'emergency-resources', rows: '2', spellcheck: 'false' });
  const justification = h('textarea', { id: 'emergency-justification', 'data-testid': 'emergency-justification', rows: '3', maxlength: '2000' });
  const duration = h('select', { id: 'emergency-duration', 'data-testid': 'emergency-duration' },
    [60, 120, 240, 480, 720].map((m) => h('option', { value: String(m), selected: m === 240 }, `${fmtMinutes(m)} (${m} min)`)));
  const submit = h('button', { type: 'submit', class: 'btn btn-danger', 'data-testid': 'emergency-submit', disabled: !critical.length }, 'Request emergency access');
  const form = h('form', { class: 'card', 'data-testid': 'emergency-request', novalidate: true },
    h('h2', 'Request emergency access'),
    critical.length ? null : h('p', { class: 'note' }, 'Emergency access needs an open critical incident affecting the tenant.'),
    h('div', { class: 'grid' },
      field('Incident', incSel), field('Tenant', tenSel), field('Workload', workload),
      h('datalist', { id: 'emg-workloads' }, ['exchange', 'sharepoint', 'teams'].map((w) => h('option', { value: w }))),
      field('Duration', duration)),
    field('Resources (one per line)', resources),
    field('Justification', justification),
    err, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    showError(err, '');
    const body = { incident: incSel.value, tenant: tenSel.value, workload: workload.value.trim(), resources: lines(resources.value), justification: justification.value.trim(), duration_minutes: Number(duration.value) };
    if (!body.incident || !body.tenant || !body.workload || !body.resources.length || !body.justification) {
      showError(err, 'Choose the incident and tenant and fill in the workload, resources and justification.');
      return;
    }
    submit.disabled = true;
    try {
      const x = await api('POST', '/v1/emergency-access', body);
      say(`Emergency access ${str(x && x.id)} requested; a different incident manager must approve it.`, 'success', true);
      ctx.rerender();
    } catch (ex) { showError(err, errorText(ex)); sayError(ex); submit.disabled = false; }
  });
  return form;
}
