// Support cases (#/cases): engineers see the cases assigned to them and ask
// for access; support managers assign; tenant admins open and close.
import { api, listAll, currentTenant, isProvider, hasRole, me, enc, link, say, sayError, errorText } from '../app.js';
import { h, str, pageHeader, field, errorBox, showError, timeEl, badge, table } from './ui.js';
import { cell } from './common.js';

export async function render(ctx) {
  const t = currentTenant();
  if (!t) throw new Error('pick a tenant first');
  const engineerOnly = isProvider() && hasRole('support_engineer') && !hasRole('support_manager', 'provider_admin');
  const canAssign = isProvider() && hasRole('support_manager', 'provider_admin');
  const canOpen = hasRole('global_admin', 'security_admin', 'compliance_admin', 'provider_admin', 'support_manager');
  const status = ctx.query.get('status') === 'all' ? 'all' : 'open';

  const params = engineerOnly ? { assigned_to: me() } : {};
  let cases = (await listAll(`/v1/tenants/${enc(t)}/cases`, params)).filter((c) => c && typeof c.id === 'string');
  if (status === 'open') cases = cases.filter((c) => c.status === 'open');

  ctx.main.append(pageHeader(engineerOnly ? 'My cases' : 'Support cases'),
    h('p', { class: 'lead' }, engineerOnly
      ? `Open support cases of ${t} assigned to you. Ask for access under one of them.`
      : `Support cases of ${t}. An engineer can ask for access only under an open case assigned to them.`),
    h('p', h('a', { href: link('/cases', { status: status === 'open' ? 'all' : '' }), 'data-testid': 'cases-toggle' }, status === 'open' ? 'Show closed cases too' : 'Show open cases only')));

  if (canOpen) {
    const title = h('input', { id: 'case-title', 'data-testid': 'case-title', maxlength: '200', required: true });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'case-open-submit' }, 'Open case');
    const err = errorBox('case-open-error');
    const form = h('form', { class: 'inline-form card', 'data-testid': 'case-open', novalidate: true }, field('New case title', title), submit, err);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      showError(err, '');
      if (!title.value.trim()) { showError(err, 'Give the case a title.'); title.focus(); return; }
      submit.disabled = true;
      try {
        const c = await api('POST', `/v1/tenants/${enc(t)}/cases`, { title: title.value.trim() });
        say(`Case opened: ${str(c && c.id)}.`, 'success', true);
        ctx.rerender();
      } catch (ex) { showError(err, errorText(ex)); sayError(ex); submit.disabled = false; }
    });
    ctx.main.append(form);
  }

  const rows = cases.map((c) => {
    const actions = [];
    if (hasRole('support_engineer') && c.status === 'open' && str(c.assigned_to) === me()) {
      actions.push(h('a', { class: 'btn btn-primary btn-small', href: link('/requests/new', { case: c.id, tenant: t }), 'data-testid': 'case-request' }, 'Request access'));
    }
    if (canAssign && c.status === 'open') {
      const eng = h('input', { id: `assign-${c.id}`, 'data-testid': 'case-assign-engineer', value: str(c.assigned_to), spellcheck: 'false', autocapitalize: 'none', size: '10' });
      const go = h('button', { type: 'submit', class: 'btn btn-small', 'data-testid': 'case-assign-submit' }, 'Assign');
      const f = h('form', { class: 'mini-form', novalidate: true }, h('label', { for: eng.id, class: 'sr-only' }, `Engineer for case ${str(c.title)}`), eng, go);
      f.addEventListener('submit', async (e) => {
        e.preventDefault();
        go.disabled = true;
        try {
          await api('POST', `/v1/tenants/${enc(t)}/cases/${enc(c.id)}/assign`, { engineer: eng.value.trim() });
          say(`Case assigned to ${eng.value.trim()}.`, 'success', true);
          ctx.rerender();
        } catch (ex) { sayError(ex, 'Assigning failed'); go.disabled = false; }
      });
      actions.push(f);
    }
    if (canOpen && c.status === 'open') {
      const close = h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'data-testid': 'case-close' }, 'Close', h('span', { class: 'sr-only' }, ` case ${str(c.title)}`));
      close.addEventListener('click', async () => {
        close.disabled = true;
        try { await api('POST', `/v1/tenants/${enc(t)}/cases/${enc(c.id)}/close`); say('Case closed.', 'success', true); ctx.rerender(); } catch (ex) { sayError(ex, 'Closing failed'); close.disabled = false; }
      });
      actions.push(close);
    }
    return h('tr', { 'data-testid': 'cases-row', 'data-case-id': c.id, 'data-status': str(c.status) },
      cell('Case', h('strong', str(c.title) || '(untitled)'), h('div', h('code', { class: 'small' }, c.id))),
      cell('Status', badge(c.status)),
      cell('Assigned to', str(c.assigned_to) || h('span', { class: 'muted' }, 'nobody')),
      cell('Opened', timeEl(c.created_at), c.opened_by ? h('div', { class: 'small muted' }, `by ${str(c.opened_by)}`) : ''),
      cell('Actions', h('div', { class: 'row-actions' }, actions.length ? actions : h('span', { class: 'muted' }, '—'))));
  });
  ctx.main.append(table({ caption: 'Support cases', captionHidden: true, columns: ['Case', 'Status', 'Assigned to', 'Opened', 'Actions'], rows, testid: 'cases-table', empty: engineerOnly ? 'No open case is assigned to you.' : 'No support case.' }));
}
