// All requests the viewer may read, filtered by status (#/requests?status=…).
import { api, currentTenant, isProvider, enc, qs, link, navigate, hasRole, sayError } from '../app.js';
import { h, str, arr, pageHeader, field } from './ui.js';
import { requestRow, REQUEST_COLUMNS } from './common.js';

const STATUSES = ['', 'pending_internal', 'pending', 'approved', 'denied', 'expired', 'revoked', 'cancelled', 'completed'];

export async function render(ctx) {
  const status = STATUSES.includes(ctx.query.get('status') || '') ? (ctx.query.get('status') || '') : '';
  const provider = isProvider();
  const t = currentTenant();
  const allTenants = provider && ctx.query.get('all') === '1';
  const base = provider ? '/v1/requests' : `/v1/tenants/${enc(t)}/requests`;
  const params = { status, page_size: 50 };
  if (provider && !allTenants) params.tenant = t;

  const statusSel = h('select', { id: 'requests-status', 'data-testid': 'requests-status' },
    STATUSES.map((s) => h('option', { value: s, selected: s === status }, s ? s.replace('_', ' ') : 'any status')));
  const filter = h('form', { class: 'inline-form', 'data-testid': 'requests-filter' },
    field('Status', statusSel),
    provider ? field('All tenants', h('input', { type: 'checkbox', id: 'requests-all', 'data-testid': 'requests-all', checked: allTenants })) : null,
    h('button', { type: 'submit', class: 'btn' }, 'Show'));
  filter.addEventListener('submit', (e) => {
    e.preventDefault();
    const all = filter.querySelector('#requests-all');
    navigate(link('/requests', { status: statusSel.value, all: all && all.checked ? '1' : '' }));
  });

  const heading = hasRole('support_engineer') && provider ? 'My requests' : 'Requests';
  ctx.main.append(pageHeader(heading,
    hasRole('support_engineer') ? h('a', { class: 'btn btn-primary', href: link('/requests/new'), 'data-testid': 'requests-new' }, 'New request') : null),
    filter);

  const showTenant = provider;
  const tbody = h('tbody');
  const tableEl = h('div', { class: 'table-wrap' }, h('table', { class: 'data', 'data-testid': 'requests-table' },
    h('caption', { class: 'sr-only' }, 'Requests'),
    h('thead', h('tr', REQUEST_COLUMNS(showTenant).map((c) => h('th', { scope: 'col' }, c)))), tbody));
  const empty = h('p', { class: 'empty', 'data-testid': 'requests-empty', hidden: true }, 'No requests match.');
  const more = h('button', { type: 'button', class: 'btn', 'data-testid': 'requests-more', hidden: true }, 'Show more');
  ctx.main.append(tableEl, empty, h('div', { class: 'actions' }, more));

  let token = null;
  async function load() {
    const page = await api('GET', base + qs({ ...params, page_token: token }));
    const items = arr(page && page.items).filter((r) => r && typeof r.id === 'string');
    items.forEach((r) => tbody.append(requestRow(r, { showTenant })));
    token = page && typeof page.next_page_token === 'string' && page.next_page_token ? page.next_page_token : null;
    more.hidden = !token;
    empty.hidden = tbody.children.length > 0;
    tableEl.hidden = tbody.children.length === 0;
  }
  more.addEventListener('click', async () => {
    more.disabled = true;
    try { await load(); } catch (err) { sayError(err); } finally { more.disabled = false; }
  });
  await load();
}
