// Service incidents (#/incidents): incident managers declare and close them;
// other provider roles read.
import { api, listAll, state, hasRole, link, say, sayError, errorText } from '../app.js';
import { h, str, arr, pageHeader, field, errorBox, showError, timeEl, badge, table } from './ui.js';
import { cell } from './common.js';

const SEVERITIES = ['critical', 'high', 'medium', 'low'];

export async function render(ctx) {
  const isIM = hasRole('incident_manager');
  const openOnly = ctx.query.get('status') !== 'all';
  const items = (await listAll('/v1/incidents', openOnly ? { status: 'open' } : {})).filter((x) => x && typeof x.id === 'string');

  ctx.main.append(pageHeader('Incidents'),
    h('p', { class: 'lead' }, 'Emergency access is possible only under an open critical incident that affects the tenant. Closing an incident ends its emergency accesses at once.'),
    h('p', h('a', { href: link('/incidents', { status: openOnly ? 'all' : '' }), 'data-testid': 'incidents-toggle' }, openOnly ? 'Show closed incidents too' : 'Show open incidents only')));

  if (isIM) {
    const title = h('input', { id: 'incident-title', 'data-testid': 'incident-title', maxlength: '200' });
    const severity = h('select', { id: 'incident-severity', 'data-testid': 'incident-severity' }, SEVERITIES.map((s) => h('option', { value: s }, s)));
    const boxes = state.tenants.map((t) => h('input', { type: 'checkbox', id: `inc-t-${t.id}`, value: t.id, 'data-testid': 'incident-tenant' }));
    const tenants = h('fieldset', { class: 'group', 'data-testid': 'incident-tenants' }, h('legend', 'Affected tenants'),
      h('ul', { class: 'plain checks' }, state.tenants.map((t, i) => h('li', { class: 'check-row' }, boxes[i], h('label', { for: boxes[i].id }, `${str(t.name) || t.id} (${t.id})`)))));
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'incident-declare-submit' }, 'Declare incident');
    const err = errorBox('incident-error');
    const form = h('form', { class: 'card', 'data-testid': 'incident-declare', novalidate: true }, h('h2', 'Declare an incident'),
      h('div', { class: 'grid' }, field('Title', title), field('Severity', severity)), tenants, err, h('div', { class: 'actions' }, submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      showError(err, '');
      const body = { title: title.value.trim(), severity: severity.value, tenants: boxes.filter((b) => b.checked).map((b) => b.value) };
      if (!body.title || !body.tenants.length) { showError(err, 'Give a title and choose at least one affected tenant.'); return; }
      submit.disabled = true;
      try {
        const inc = await api('POST', '/v1/incidents', body);
        say(`Incident ${str(inc && inc.id)} declared.`, 'success', true);
        ctx.rerender();
      } catch (ex) { showError(err, errorText(ex)); sayError(ex); submit.disabled = false; }
    });
    ctx.main.append(form);
  }

  const rows = items.map((i) => {
    const acts = [];
    if (isIM && i.status === 'open') {
      const b = h('button', { type: 'button', class: 'btn btn-small btn-danger', 'data-testid': 'incident-close' }, 'Close', h('span', { class: 'sr-only' }, ` incident ${str(i.title)}`));
      b.addEventListener('click', async () => {
        b.disabled = true;
        try {
          const res = await api('POST', `/v1/incidents/${encodeURIComponent(i.id)}/close`);
          const ended = arr(res && res.ended_emergency_access);
          say(`Incident closed${ended.length ? `; ${ended.length} emergency access${ended.length === 1 ? '' : 'es'} ended` : ''}.`, 'success', true);
          ctx.rerender();
        } catch (ex) { sayError(ex); b.disabled = false; }
      });
      acts.push(b);
    }
    return h('tr', { 'data-testid': 'incidents-row', 'data-incident-id': i.id, 'data-status': str(i.status) },
      cell('Incident', h('strong', str(i.title)), h('div', h('code', { class: 'small' }, i.id))),
      cell('Severity', h('span', { class: `sev sev-${SEVERITIES.includes(i.severity) ? i.severity : 'other'}` }, str(i.severity))),
      cell('Tenants', arr(i.tenants).map(str).join(', ')),
      cell('Status', badge(i.status)),
      cell('Declared', timeEl(i.started_at), h('div', { class: 'small muted' }, `by ${str(i.declared_by)}`)),
      cell('Ended', timeEl(i.ended_at)),
      cell('Actions', acts.length ? acts : h('span', { class: 'muted' }, '—')));
  });
  ctx.main.append(h('h2', 'Incidents'), table({ caption: 'Incidents', captionHidden: true, columns: ['Incident', 'Severity', 'Tenants', 'Status', 'Declared', 'Ended', 'Actions'], rows, testid: 'incidents-table', empty: openOnly ? 'No open incident.' : 'No incident.' }));
}
