// One request (#/requests/ID): what is asked, by whom, why and until when;
// decide (approve / deny / revoke), cancel, copy the grant, see the receipt.
import { api, currentTenant, isProvider, isTenantUser, hasRole, me, enc, say, sayError, errorText, navigate, link } from '../app.js';
import { h, str, arr, pageHeader, table, timeEl, countdown, badge, fmtMinutes, dl, field, errorBox, showError, durationOptions } from './ui.js';
import { stageWords, resourcesList, cell } from './common.js';

export async function render(ctx) {
  const id = ctx.params.id;
  const t = isProvider() ? (ctx.query.get('tenant') || currentTenant()) : currentTenant();
  if (!t) throw new Error('pick a tenant first');
  const path = `/v1/tenants/${enc(t)}/requests/${enc(id)}`;
  const r = await api('GET', path);
  if (!r || typeof r !== 'object') throw new Error('the request could not be read');

  const status = str(r.status);
  const pendingish = status === 'pending' || status === 'pending_internal';
  const mine = isProvider() && str(r.requester) === me();
  const decisions = arr(r.decisions).filter((d) => d && typeof d === 'object');

  // Is the viewer a designated approver of this tenant? (tenant people only)
  let designated = null;
  if (isTenantUser() && hasRole('global_admin', 'lockbox_approver')) {
    try {
      const st = await api('GET', `/v1/tenants/${enc(t)}/lockbox/settings`);
      designated = arr(st && st.approvers).map(str).includes(me());
    } catch { designated = null; }
  }
  // The case's title, when the viewer may read it.
  let caseTitle = '';
  if (r.case_id) {
    try {
      const c = await api('GET', `/v1/tenants/${enc(t)}/cases/${enc(str(r.case_id))}`);
      caseTitle = c && typeof c.title === 'string' ? c.title : '';
    } catch { caseTitle = ''; }
  }

  const main = ctx.main;
  main.append(pageHeader(`Request from ${str(r.requester) || 'unknown'}`, badge(status, 'request-status')));
  main.append(h('p', { class: 'small muted' }, 'Request ', h('code', { 'data-testid': 'request-id' }, str(r.id)), isProvider() ? ` · tenant ${t}` : ''));

  // The fingerprint, big, to compare with the email.
  main.append(h('section', { class: 'fingerprint-box', 'aria-labelledby': 'fp-label' },
    h('h2', { id: 'fp-label', class: 'fp-label' }, 'Fingerprint'),
    h('p', { class: 'fingerprint', 'data-testid': 'request-fingerprint' }, str(r.fingerprint) || '—'),
    h('p', { class: 'small' }, 'The email about this request carries the same 8 characters. If they differ, do not approve.')));

  // Status line in words.
  const statusLine = h('p', { class: 'status-line', 'data-testid': 'request-status-line' });
  if (pendingish) statusLine.append('Waiting on ', h('strong', { 'data-testid': 'request-stage' }, stageWords(r.current_stage)), ' · ', countdown(r.pending_expires_at), ' to decide (expires ', timeEl(r.pending_expires_at), ')');
  else if (status === 'approved') statusLine.append('Access is open until ', timeEl(r.access_expires_at), ' · ', countdown(r.access_expires_at, 'access-countdown'));
  else statusLine.append(`This request is ${str(status).replace('_', ' ')}. `, ['denied', 'expired', 'revoked', 'cancelled', 'completed'].includes(status) ? 'That is final: more access needs a new request.' : '');
  main.append(statusLine);

  main.append(h('section', { 'aria-labelledby': 'what-h' },
    h('h2', { id: 'what-h' }, 'What is asked'),
    dl([
      ['Engineer', h('strong', str(r.requester)), 'request-requester'],
      ['Support case', caseTitle ? [caseTitle, ' ', h('code', { class: 'small' }, str(r.case_id))] : h('code', str(r.case_id)), 'request-case'],
      ['Workload', str(r.workload), 'request-workload'],
      ['Resources', resourcesList(r.resources)],
      ['Justification', h('span', { class: 'prewrap' }, str(r.justification)), 'request-justification'],
      ['Duration asked', fmtMinutes(r.duration_minutes), 'request-duration'],
      ['Created', timeEl(r.created_at)],
      ['Decide by', timeEl(r.pending_expires_at)],
      ['Access starts', timeEl(r.access_starts_at), 'request-access-starts'],
      ['Access ends', timeEl(r.access_expires_at), 'request-access-expires'],
    ], 'request-facts')));

  // Actions.
  const actions = h('section', { class: 'decide', 'aria-labelledby': 'act-h', 'data-testid': 'request-actions' }, h('h2', { id: 'act-h' }, 'Actions'));
  let any = false;
  const iDecided = decisions.some((d) => str(d.by) === me() && (d.decision === 'approve' || d.decision === 'approved'));
  const tenantDecider = isTenantUser() && hasRole('global_admin', 'lockbox_approver') && status === 'pending';
  const internalDecider = isProvider() && hasRole('support_manager') && status === 'pending_internal' && !mine;

  if ((tenantDecider || internalDecider) && designated === false && tenantDecider) {
    actions.append(h('p', { class: 'note', 'data-testid': 'not-designated' }, 'You are not one of this tenant\'s designated approvers, so you cannot decide this request. A global admin can add you in Settings.'));
    any = true;
  } else if ((tenantDecider || internalDecider) && iDecided) {
    actions.append(h('p', { class: 'note', 'data-testid': 'already-decided' }, 'You have approved this request; it waits for another approver.'));
    any = true;
  } else if (tenantDecider || internalDecider) {
    actions.append(decideForms(r, path, ctx, internalDecider));
    any = true;
  }
  if (status === 'approved' && isTenantUser() && hasRole('global_admin', 'lockbox_approver') && designated !== false) {
    actions.append(revokeForm(path, ctx));
    any = true;
  }
  if (pendingish && mine) {
    actions.append(cancelForm(path, ctx));
    any = true;
  }
  if (status === 'approved' && mine) {
    actions.append(await grantBox(t, id));
    any = true;
  }
  if (any) main.append(actions);

  // Decisions so far.
  main.append(h('section', { 'aria-labelledby': 'dec-h' },
    h('h2', { id: 'dec-h' }, 'Decisions so far'),
    table({
      caption: 'Decisions on this request',
      captionHidden: true,
      columns: ['Who', 'Stage', 'Decision', 'Granted', 'Comment', 'When'],
      rows: decisions.map((d) => h('tr', { 'data-testid': 'decision-row' },
        cell('Who', str(d.by), d.realm ? h('span', { class: 'small muted' }, ` (${str(d.realm)})`) : ''),
        cell('Stage', stageWords(d.stage)),
        cell('Decision', h('strong', str(d.decision))),
        cell('Granted', d.duration_minutes ? fmtMinutes(d.duration_minutes) : '—'),
        cell('Comment', h('span', { class: 'prewrap' }, str(d.comment) || '—')),
        cell('When', timeEl(d.at)))),
      testid: 'request-decisions',
      empty: 'No decision yet.',
    })));

  // The access receipt.
  const rc = r.access_receipt;
  if (rc && typeof rc === 'object' && (status !== 'pending' && status !== 'pending_internal')) {
    main.append(receipt(rc, status));
  }
}

function toggle(button, panel, focusEl) {
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-controls', panel.id);
  button.addEventListener('click', () => {
    const open = panel.hidden;
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open && focusEl) focusEl.focus();
  });
}

async function post(path, body, submit, errBox, okText, ctx) {
  submit.disabled = true;
  showError(errBox, '');
  try {
    await api('POST', path, body);
    say(okText, 'success', true);
    ctx.rerender();
  } catch (err) {
    showError(errBox, errorText(err));
    sayError(err);
    submit.disabled = false;
  }
}

function commentBody(textarea, extra = {}) {
  const c = textarea.value.trim();
  return c ? { ...extra, comment: c } : { ...extra };
}

function decideForms(r, path, ctx, internal) {
  const wrap = h('div', { class: 'decide-forms' });
  const requested = Number(r.duration_minutes) || 720;

  // Approve
  const dur = h('select', { id: 'approve-duration', 'data-testid': 'approve-duration' }, durationOptions(requested, requested));
  const aComment = h('textarea', { id: 'approve-comment', 'data-testid': 'approve-comment', rows: '2', maxlength: '1000' });
  const aSubmit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'approve-submit' }, 'Approve access');
  const aErr = errorBox('approve-error');
  const aPanel = h('form', { id: 'approve-panel', class: 'panel', hidden: true, 'data-testid': 'approve-form' },
    h('h3', 'Approve'),
    internal ? null : field('Grant access for', dur, `The engineer asked for ${fmtMinutes(requested)}. You may shorten it, never lengthen it. Access starts at once.`),
    field('Comment (optional)', aComment),
    aErr,
    h('div', { class: 'actions' }, aSubmit));
  aPanel.addEventListener('submit', (e) => {
    e.preventDefault();
    const minutes = Number(dur.value);
    const body = internal ? commentBody(aComment) : commentBody(aComment, { duration_minutes: minutes });
    post(`${path}/approve`, body, aSubmit, aErr, internal ? 'Internal approval recorded.' : `Approved for ${fmtMinutes(minutes)}.`, ctx);
  });

  // Deny
  const dComment = h('textarea', { id: 'deny-comment', 'data-testid': 'deny-comment', rows: '2', maxlength: '1000' });
  const dSubmit = h('button', { type: 'submit', class: 'btn btn-danger', 'data-testid': 'deny-submit' }, 'Deny request');
  const dErr = errorBox('deny-error');
  const dPanel = h('form', { id: 'deny-panel', class: 'panel', hidden: true, 'data-testid': 'deny-form' },
    h('h3', 'Deny'),
    field('Reason (sent to the engineer)', dComment, 'A denial is final.'),
    dErr,
    h('div', { class: 'actions' }, dSubmit));
  dPanel.addEventListener('submit', (e) => {
    e.preventDefault();
    post(`${path}/deny`, commentBody(dComment), dSubmit, dErr, 'Request denied.', ctx);
  });

  const approveBtn = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'request-approve' }, 'Approve…');
  const denyBtn = h('button', { type: 'button', class: 'btn btn-danger', 'data-testid': 'request-deny' }, 'Deny…');
  toggle(approveBtn, aPanel, internal ? aComment : dur);
  toggle(denyBtn, dPanel, dComment);
  // Only one panel open at a time.
  approveBtn.addEventListener('click', () => { if (!aPanel.hidden) { dPanel.hidden = true; denyBtn.setAttribute('aria-expanded', 'false'); } });
  denyBtn.addEventListener('click', () => { if (!dPanel.hidden) { aPanel.hidden = true; approveBtn.setAttribute('aria-expanded', 'false'); } });

  wrap.append(h('div', { class: 'actions' }, approveBtn, denyBtn), aPanel, dPanel);
  return wrap;
}

function revokeForm(path, ctx) {
  const comment = h('textarea', { id: 'revoke-comment', 'data-testid': 'revoke-comment', rows: '2', maxlength: '1000' });
  const submit = h('button', { type: 'submit', class: 'btn btn-danger', 'data-testid': 'revoke-submit' }, 'Revoke access now');
  const err = errorBox('revoke-error');
  const panel = h('form', { id: 'revoke-panel', class: 'panel', hidden: true, 'data-testid': 'revoke-form' },
    h('h3', 'Revoke'),
    field('Comment', comment, 'Access ends at once; the engineer\'s next read is refused.'),
    err,
    h('div', { class: 'actions' }, submit));
  panel.addEventListener('submit', (e) => {
    e.preventDefault();
    post(`${path}/revoke`, commentBody(comment), submit, err, 'Access revoked.', ctx);
  });
  const btn = h('button', { type: 'button', class: 'btn btn-danger', 'data-testid': 'request-revoke' }, 'Revoke…');
  toggle(btn, panel, comment);
  return h('div', h('div', { class: 'actions' }, btn), panel);
}

function cancelForm(path, ctx) {
  const submit = h('button', { type: 'button', class: 'btn', 'data-testid': 'request-cancel' }, 'Cancel this request');
  const err = errorBox('cancel-error');
  submit.addEventListener('click', () => post(`${path}/cancel`, {}, submit, err, 'Request cancelled.', ctx));
  return h('div', h('div', { class: 'actions' }, submit), err);
}

async function grantBox(t, id) {
  const box = h('div', { class: 'grant', 'data-testid': 'grant' }, h('h3', 'Your grant'));
  try {
    const g = await api('GET', `/v1/tenants/${enc(t)}/requests/${enc(id)}/grant`);
    const token = str(g && g.token);
    const out = h('textarea', { id: 'grant-token', class: 'mono', readonly: true, rows: '4', 'data-testid': 'grant-token', spellcheck: 'false' });
    out.value = token;
    const copy = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'grant-copy' }, 'Copy grant');
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(token);
        say('The grant is on your clipboard. Send it as "Authorization: Bearer …" to the content gateway.', 'success');
      } catch {
        out.focus();
        out.select();
        say('Copying was not allowed here; the grant is selected — press Ctrl+C (⌘C) to copy it.', 'info');
      }
    });
    box.append(
      field('Grant token (a signed JWS; keep it private)', out),
      h('p', { class: 'small' }, 'Valid until ', timeEl(g && g.expires_at), ' for ', arr(g && g.resources).map(str).join(', ') || '—', '.'),
      h('div', { class: 'actions' }, copy));
  } catch (err) {
    box.append(h('p', { class: 'form-error', 'data-testid': 'grant-error' }, errorText(err)));
  }
  return box;
}

function receipt(rc, status) {
  const resources = arr(rc.resources).filter((x) => x && typeof x === 'object');
  const final = status !== 'approved';
  return h('section', { class: 'receipt', 'aria-labelledby': 'rc-h', 'data-testid': 'receipt' },
    h('h2', { id: 'rc-h' }, final ? 'Access receipt' : 'Access so far'),
    h('p', { class: 'receipt-totals' },
      h('span', { class: 'ok', 'data-testid': 'receipt-allowed' }, `${Number(rc.allowed) || 0} allowed`), ' · ',
      h('span', { class: 'bad', 'data-testid': 'receipt-refused' }, `${Number(rc.refused) || 0} refused`)),
    table({
      caption: 'Access per resource',
      captionHidden: true,
      columns: ['Resource', 'Allowed', 'Refused', 'Last access'],
      rows: resources.map((x) => h('tr', { 'data-testid': 'receipt-row' },
        cell('Resource', h('code', str(x.resource))),
        cell('Allowed', str(x.allowed ?? 0)),
        cell('Refused', str(x.refused ?? 0)),
        cell('Last access', timeEl(x.last_at)))),
      empty: 'Nothing was read under this request.',
    }));
}
