// Pending requests: tenant approvers (#/pending, status pending) and the
// provider's support managers (#/internal, status pending_internal).
import { api, listAll, currentTenant, enc, qs, link } from '../app.js';
import { h, str, arr, pageHeader, table, countdown, timeEl, fmtMinutes } from './ui.js';
import { stageWords, requestLink, cell } from './common.js';

export async function render(ctx) {
  const internal = !!ctx.opts.internal;
  const t = currentTenant();
  let items;
  if (internal) {
    items = await listAll('/v1/requests', { status: 'pending_internal' });
  } else {
    if (!t) throw new Error('pick a tenant first');
    items = await listAll(`/v1/tenants/${enc(t)}/requests`, { status: 'pending' });
  }
  items = items.filter((r) => r && typeof r === 'object' && typeof r.id === 'string');
  // Soonest expiry first: that is the one to decide now.
  items.sort((a, b) => str(a.pending_expires_at).localeCompare(str(b.pending_expires_at)));

  const refresh = h('button', { type: 'button', class: 'btn', 'data-testid': 'pending-refresh', onclick: () => ctx.rerender() }, 'Refresh');
  ctx.main.append(
    pageHeader(internal ? 'Internal approvals' : 'Pending requests', refresh),
    h('p', { class: 'lead' }, internal
      ? 'Requests waiting for the provider\'s internal approval. You cannot approve your own requests.'
      : 'Requests waiting for a decision. A request that nobody decides before its time runs out expires, and an expiry counts as a denial.'),
    h('p', { class: 'small muted', 'data-testid': 'pending-count' }, `${items.length} waiting`));

  const rows = items.map((r) => h('tr', { 'data-testid': 'pending-row', 'data-request-id': str(r.id) },
    cell('Time left', countdown(r.pending_expires_at), h('div', { class: 'small muted' }, 'until ', timeEl(r.pending_expires_at))),
    internal ? cell('Tenant', str(r.tenant)) : null,
    cell('Requester', h('strong', str(r.requester))),
    cell('What', h('strong', str(r.workload)), h('div', { class: 'small wrap' }, arr(r.resources).map(str).join(', ')), h('div', { class: 'small muted' }, `for ${fmtMinutes(r.duration_minutes)}`)),
    cell('Why', h('span', { class: 'clip' }, str(r.justification))),
    cell('Waiting on', stageWords(r.current_stage)),
    cell('Fingerprint', h('span', { class: 'fp-inline' }, str(r.fingerprint) || '—')),
    cell('', h('a', { class: 'btn btn-primary btn-small', href: link(`/requests/${enc(str(r.id))}`, internal ? { tenant: str(r.tenant) } : {}), 'data-testid': 'pending-review' }, 'Review', h('span', { class: 'sr-only' }, ` request ${str(r.id)} from ${str(r.requester)}`)))));

  ctx.main.append(table({
    caption: internal ? 'Requests waiting for internal approval' : 'Requests waiting for your decision',
    captionHidden: true,
    columns: ['Time left', internal ? 'Tenant' : null, 'Requester', 'What', 'Why', 'Waiting on', 'Fingerprint', h('span', { class: 'sr-only' }, 'Action')].filter(Boolean),
    rows,
    testid: 'pending-table',
    empty: 'Nothing is waiting for a decision.',
  }));
}
