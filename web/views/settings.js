// Tenant settings (#/settings, global_admin): the Lockbox switch, approvers,
// shared mailbox, audit retention and approval stages.
import { api, listAll, currentTenant, enc, say, ApiError, errorText, state } from '../app.js';
import { h, str, arr, pageHeader, field, errorBox, showError, lines } from './ui.js';

const ELIGIBLE = ['global_admin', 'lockbox_approver'];

/** Words for the settings rules, with the code kept. */
export function settingsErrorText(err, plan) {
  if (!(err instanceof ApiError)) return errorText(err);
  const words = {
    license_required: `Your plan (${plan || 'unknown'}) does not include Customer Lockbox. Customer Lockbox needs an E5-level plan (M365_E5, M365_E5_COMPLIANCE, M365_E5_IPG, O365_E5, M365_A5, M365_G5) or the Customer Lockbox add-on; ask your provider.`,
    approver_role_required: 'Every approver must hold Global Administrator or Customer Lockbox Access Approver in this tenant.',
    too_many_approvers: 'A tenant can have at most ten approvers.',
    no_approvers: 'Choose at least one approver before you turn Customer Lockbox on.',
    last_approver: 'Customer Lockbox is on, so at least one approver must remain.',
    invalid_retention: 'Audit retention must be between 90 and 3650 days.',
    invalid_stages: 'The approval stages are not valid: at most three stages, each needing at least one approval and no more than it has approvers.',
  }[err.code];
  return words ? `${words} (${err.code}: ${err.message})` : errorText(err);
}

export async function render(ctx) {
  const t = currentTenant();
  const [settings, tenant, users] = await Promise.all([
    api('GET', `/v1/tenants/${enc(t)}/lockbox/settings`),
    api('GET', `/v1/tenants/${enc(t)}`).catch(() => state.tenantInfo),
    listAll('/v1/users', { realm: t }).catch(() => []),
  ]);
  const s = settings && typeof settings === 'object' ? settings : {};
  const plan = tenant && typeof tenant === 'object' ? str(tenant.plan) : '';
  const addons = tenant && typeof tenant === 'object' ? arr(tenant.addons).map(str) : [];
  const cloud = tenant && typeof tenant === 'object' ? str(tenant.cloud) : '';
  const current = arr(s.approvers).map(str);
  const eligible = users.filter((u) => u && typeof u.id === 'string' && arr(u.roles).some((r) => ELIGIBLE.includes(r)));
  const known = new Set(eligible.map((u) => u.id));

  ctx.main.append(pageHeader('Settings'),
    h('p', { class: 'lead' }, `Customer Lockbox for ${str(tenant && tenant.name) || t}. Plan ${plan || 'unknown'}${addons.length ? ` + ${addons.join(', ')}` : ''}; cloud ${cloud || 'commercial'}.`));

  const err = errorBox('settings-error');

  // The switch.
  const enabled = h('input', { type: 'checkbox', id: 'settings-enabled', 'data-testid': 'settings-enabled', checked: !!s.enabled });
  const switchBox = h('div', { class: 'switch-row' }, enabled,
    h('label', { for: 'settings-enabled' }, h('strong', 'Require approval for content access (Customer Lockbox)')),
    h('p', { class: 'hint' }, 'When on, an engineer reads your content only after one of your approvers says yes.'));

  // Approvers: only eligible people, up to ten.
  const boxes = [];
  const approverRows = [];
  const all = [...eligible.map((u) => ({ id: u.id, name: str(u.display_name), roles: arr(u.roles).map(str), email: str(u.email) })),
    ...current.filter((id) => !known.has(id)).map((id) => ({ id, name: '', roles: [], email: '', stale: true }))];
  for (const u of all) {
    const cb = h('input', { type: 'checkbox', id: `appr-${u.id}`, value: u.id, 'data-testid': 'settings-approver', checked: current.includes(u.id) });
    boxes.push(cb);
    approverRows.push(h('li', { class: 'check-row' }, cb,
      h('label', { for: cb.id }, h('strong', u.name || u.id), ` (${u.id})`,
        h('span', { class: 'small muted' }, u.stale ? ' — no longer eligible or not listed' : ` — ${u.roles.filter((r) => ELIGIBLE.includes(r)).join(', ')}${u.email ? `, ${u.email}` : ''}`))));
  }
  const count = h('p', { class: 'hint', 'data-testid': 'settings-approver-count', 'aria-live': 'polite' });
  const updateCount = () => {
    const n = boxes.filter((b) => b.checked).length;
    count.textContent = `${n} of at most 10 chosen.`;
    boxes.forEach((b) => { b.disabled = !b.checked && n >= 10; });
  };
  boxes.forEach((b) => b.addEventListener('change', updateCount));
  updateCount();
  const approvers = h('fieldset', { class: 'group', 'data-testid': 'settings-approvers' },
    h('legend', 'Approvers'),
    h('p', { class: 'hint' }, 'People who may approve or deny requests. Only Global Administrators and Customer Lockbox Access Approvers of this tenant can be chosen.'),
    all.length ? h('ul', { class: 'plain checks' }, approverRows) : h('p', { class: 'empty' }, 'Nobody in this tenant holds an approver role yet.'),
    count);

  // Shared mailbox.
  const emails = h('textarea', { id: 'settings-emails', 'data-testid': 'settings-emails', rows: '2', spellcheck: 'false' });
  emails.value = arr(s.notification_emails).map(str).join('\n');

  // Retention.
  const retention = h('input', { type: 'number', id: 'settings-retention', 'data-testid': 'settings-retention', min: '90', max: '3650', step: '1', value: String(s.audit_retention_days ?? 90), inputmode: 'numeric' });

  // Approval stages.
  const origStages = arr(s.approval_stages).filter((x) => x && typeof x === 'object');
  let stagesDirty = false;
  const stageCount = h('select', { id: 'settings-stage-count', 'data-testid': 'settings-stage-count' },
    h('option', { value: 'default' }, 'The cloud\'s default'),
    [1, 2, 3].map((n) => h('option', { value: String(n), selected: n === origStages.length }, n === 1 ? 'One stage' : `${n} stages`)));
  const stageList = h('ol', { class: 'stages' });
  const stageInputs = [];
  const drawStages = () => {
    const n = stageCount.value === 'default' ? 0 : Number(stageCount.value);
    while (stageInputs.length < n) {
      const i = stageInputs.length;
      const orig = origStages[i] || {};
      const inp = h('input', { type: 'number', id: `stage-${i + 1}-required`, min: '1', max: '10', value: String(orig.required ?? 1), 'data-testid': 'settings-stage-required', inputmode: 'numeric' });
      inp.addEventListener('input', () => { stagesDirty = true; });
      const per = arr(orig.approvers).map(str);
      stageInputs.push({ inp, per, li: h('li', field(`Stage ${i + 1}: approvals needed`, inp, per.length ? `Approvers of this stage: ${per.join(', ')}` : 'Any designated approver; one person approves once per request.')) });
    }
    clear(stageList);
    stageInputs.slice(0, n).forEach((x) => stageList.append(x.li));
  };
  stageCount.addEventListener('change', () => { stagesDirty = true; drawStages(); });
  drawStages();
  const stages = h('fieldset', { class: 'group', 'data-testid': 'settings-stages' },
    h('legend', 'Approval stages'),
    h('p', { class: 'hint' }, 'Each stage needs its approvals before the next starts; a denial at any stage is final. Government clouds (gcc_high, dod) default to two stages.'),
    field('Stages', stageCount), stageList);

  const save = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'settings-save' }, 'Save settings');
  const form = h('form', { class: 'card settings', 'data-testid': 'settings-form', novalidate: true },
    switchBox, approvers,
    field('Shared mailbox (notification emails, one per line)', emails, 'Also told of every new request, reminder and access receipt. At most ten.'),
    field('Keep audit records for (days)', retention, 'From 90 (the default) to 3650 days. It can be extended, never cut below 90.'),
    stages, err, h('div', { class: 'actions' }, save));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    showError(err, '');
    const patch = {};
    if (enabled.checked !== !!s.enabled) patch.enabled = enabled.checked;
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
    if (chosen.join('\n') !== current.join('\n')) patch.approvers = chosen;
    const mails = lines(emails.value);
    if (mails.join('\n') !== arr(s.notification_emails).map(str).join('\n')) patch.notification_emails = mails;
    const days = Number(retention.value);
    if (!Number.isInteger(days) || days < 90 || days > 3650) {
      showError(err, 'Audit retention must be a whole number of days from 90 to 3650.');
      retention.focus();
      return;
    }
    if (days !== Number(s.audit_retention_days)) patch.audit_retention_days = days;
    if (stagesDirty) {
      const n = stageCount.value === 'default' ? 0 : Number(stageCount.value);
      patch.approval_stages = stageInputs.slice(0, n).map((x) => {
        const st = { required: Number(x.inp.value) };
        if (x.per.length) st.approvers = x.per;
        return st;
      });
    }
    if (!Object.keys(patch).length) { say('Nothing changed.', 'info'); return; }
    save.disabled = true;
    try {
      await api('PATCH', `/v1/tenants/${enc(t)}/lockbox/settings`, patch);
      say('Settings saved.', 'success', true);
      ctx.rerender();
    } catch (ex) {
      const text = settingsErrorText(ex, plan);
      showError(err, text);
      say(text, 'error');
      save.disabled = false;
      err.scrollIntoView({ block: 'nearest' });
    }
  });
  ctx.main.append(form);
}

function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }
