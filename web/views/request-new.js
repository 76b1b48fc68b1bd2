// An engineer files a request (#/requests/new?case=…).
import { api, listAll, currentTenant, enc, me, say, sayError, errorText, navigate, link } from '../app.js';
import { h, str, pageHeader, field, errorBox, showError, lines, fmtMinutes } from './ui.js';

export async function render(ctx) {
  const t = currentTenant();
  if (!t) throw new Error('pick a tenant first (no tenant is visible to you)');
  const cases = (await listAll(`/v1/tenants/${enc(t)}/cases`, { assigned_to: me() }))
    .filter((c) => c && typeof c.id === 'string' && c.status === 'open' && str(c.assigned_to) === me());
  const wanted = ctx.query.get('case') || '';

  ctx.main.append(pageHeader('New access request'),
    h('p', { class: 'lead' }, `For tenant ${t}. The tenant's approvers see everything you write here; the request expires if nobody decides within 12 hours.`));

  if (!cases.length) {
    ctx.main.append(h('p', { class: 'empty', 'data-testid': 'request-no-cases' }, `No open support case of ${t} is assigned to you. A support manager assigns cases.`));
    return;
  }

  const caseSel = h('select', { id: 'request-case', 'data-testid': 'request-case', required: true },
    cases.map((c) => h('option', { value: c.id, selected: c.id === wanted }, `${str(c.title) || '(untitled)'} — ${c.id}`)));
  const workload = h('input', { id: 'request-workload', 'data-testid': 'request-workload', list: 'workloads', value: 'exchange', required: true, spellcheck: 'false', autocapitalize: 'none', pattern: '[a-z0-9_\\-]{1,40}' });
  const wl = h('datalist', { id: 'workloads' }, ['exchange', 'sharepoint', 'teams'].map((w) => h('option', { value: w })));
  const resources = h('textarea', { id: 'request-resources', 'data-testid': 'request-resources', rows: '3', required: true, spellcheck: 'false', placeholder: 'mailbox/alice@contoso.example' });
  const justification = h('textarea', { id: 'request-justification', 'data-testid': 'request-justification', rows: '4', required: true, maxlength: '2000' });
  const duration = h('select', { id: 'request-duration', 'data-testid': 'request-duration' },
    [60, 120, 240, 480, 720].map((m) => h('option', { value: String(m), selected: m === 720 }, `${fmtMinutes(m)} (${m} min)`)));
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'request-submit' }, 'Send request');
  const err = errorBox('request-error');

  const form = h('form', { class: 'card', 'data-testid': 'request-create', novalidate: true },
    field('Support case', caseSel),
    field('Workload', workload, 'exchange, sharepoint, teams or a workload your provider defined.'), wl,
    field('Resources (one per line)', resources, 'Paths such as mailbox/alice@contoso.example or site/finance; the grant also covers what is below each path.'),
    field('Justification', justification, 'Why you need the content, in words the tenant understands.'),
    field('Duration', duration, 'From 1 to 12 hours. Approvers may shorten it.'),
    err,
    h('div', { class: 'actions' }, submit));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    showError(err, '');
    const body = {
      case_id: caseSel.value,
      workload: workload.value.trim(),
      resources: lines(resources.value),
      justification: justification.value.trim(),
      duration_minutes: Number(duration.value),
    };
    if (!body.workload || !body.resources.length || !body.justification) {
      showError(err, 'Fill in the workload, at least one resource and the justification.');
      return;
    }
    submit.disabled = true;
    try {
      const r = await api('POST', `/v1/tenants/${enc(t)}/requests`, body);
      say(`Request sent (${str(r && r.status)}). Fingerprint ${str(r && r.fingerprint)}.`, 'success', true);
      navigate(link(`/requests/${enc(str(r && r.id))}`, { tenant: t }), { keepMessage: true });
    } catch (ex) {
      showError(err, errorText(ex));
      sayError(ex);
      submit.disabled = false;
    }
  });
  ctx.main.append(form);
}
