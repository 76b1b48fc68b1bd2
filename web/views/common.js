// Pieces several request views share.
import { h, str, arr, timeEl, countdown, badge, fmtMinutes } from './ui.js';
import { link, isProvider } from '../app.js';

export function stageWords(stage) {
  if (stage === 0) return 'Provider (internal)';
  if (typeof stage === 'number') return `Stage ${stage}`;
  return '—';
}

export function requestLink(r, text) {
  const params = isProvider() ? { tenant: str(r.tenant) } : {};
  return h('a', { href: link(`/requests/${encodeURIComponent(str(r.id))}`, params), 'data-testid': 'request-link' }, text ?? str(r.id));
}

export function resourcesList(resources) {
  const items = arr(resources).map((x) => h('li', h('code', str(x))));
  return items.length ? h('ul', { class: 'plain', 'data-testid': 'request-resources' }, items) : h('span', { class: 'muted' }, '—');
}

export function cell(label, ...content) {
  return h('td', { 'data-label': label }, content);
}

/** One row of a request table. */
export function requestRow(r, { testid = 'request-row', showTenant = false } = {}) {
  const pendingish = r.status === 'pending' || r.status === 'pending_internal';
  return h('tr', { 'data-testid': testid, 'data-request-id': str(r.id), 'data-status': str(r.status) },
    cell('Request', requestLink(r), h('div', { class: 'small muted' }, 'Fingerprint ', h('span', { class: 'fp-inline', 'data-testid': 'row-fingerprint' }, str(r.fingerprint) || '—'))),
    showTenant ? cell('Tenant', str(r.tenant)) : null,
    cell('Status', badge(r.status, 'row-status')),
    cell('Requester', str(r.requester)),
    cell('Workload and resources', h('strong', str(r.workload)), ' ', h('span', { class: 'small' }, arr(r.resources).map(str).join(', '))),
    cell('Asked for', fmtMinutes(r.duration_minutes)),
    cell('Created', timeEl(r.created_at)),
    cell(pendingish ? 'Time left to decide' : 'Access window',
      pendingish ? countdown(r.pending_expires_at) : r.access_starts_at ? h('span', timeEl(r.access_starts_at), ' – ', timeEl(r.access_expires_at)) : h('span', { class: 'muted' }, '—')));
}

export const REQUEST_COLUMNS = (showTenant) => ['Request', showTenant ? 'Tenant' : null, 'Status', 'Requester', 'Workload and resources', 'Asked for', 'Created', 'Time left / access window'].filter(Boolean);
