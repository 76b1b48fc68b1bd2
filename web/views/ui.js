// Small DOM helpers shared by every view.  Text from the API is always
// inserted as text nodes (textContent), never parsed as HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

function applyProps(el, props) {
  if (!props) return;
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (key === 'text') el.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'value' && 'value' in el && !(el instanceof SVGElement)) el.value = value;
    else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'multiple' || key === 'required') el[key] = !!value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** h('p', {class: 'x', 'data-testid': 'y'}, 'text', otherNode) */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props instanceof Node || typeof props !== 'object' || Array.isArray(props)) {
    children.unshift(props);
    props = null;
  }
  applyProps(el, props);
  append(el, children);
  return el;
}

/** The same for SVG elements. */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Text of any value the API sent, whatever its shape. */
export function str(v) {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  try { return JSON.stringify(v); } catch { return String(v); }
}

export function arr(v) {
  return Array.isArray(v) ? v : [];
}

// ---- Times ---------------------------------------------------------------

const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

export function parseTime(iso) {
  if (typeof iso !== 'string' || !iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** <time datetime="UTC" title="UTC">local</time>, or a dash. */
export function timeEl(iso, opts = {}) {
  const d = parseTime(iso);
  if (!d) return h('span', { class: 'muted' }, opts.empty ?? '—');
  return h('time', { datetime: iso, title: `${iso} (UTC)` }, opts.dateOnly ? dateFmt.format(d) : dateTimeFmt.format(d));
}

export function fmtLocal(d) {
  return dateTimeFmt.format(d);
}

export function zoneName() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local'; } catch { return 'local'; }
}

/** 90 → "1 h 30 min" */
export function fmtMinutes(min) {
  const n = Number(min);
  if (!Number.isFinite(n)) return '—';
  const hours = Math.floor(n / 60), rest = Math.round(n % 60);
  if (hours && rest) return `${hours} h ${rest} min`;
  if (hours) return `${hours} h`;
  return `${rest} min`;
}

/** Words for the time until `ms` from now. */
export function fmtLeft(ms) {
  if (ms <= 0) return 'time is up';
  const total = Math.floor(ms / 1000);
  const hours = Math.floor(total / 3600), minutes = Math.floor((total % 3600) / 60), seconds = total % 60;
  if (hours > 0) return `${hours} h ${String(minutes).padStart(2, '0')} min left`;
  if (minutes > 0) return `${minutes} min ${String(seconds).padStart(2, '0')} s left`;
  return `${seconds} s left`;
}

/** A live countdown to `iso`; app.js ticks every [data-until] each second. */
export function countdown(iso, testid = 'countdown') {
  const d = parseTime(iso);
  const el = h('span', { class: 'countdown', 'data-testid': testid });
  if (!d) { el.textContent = '—'; return el; }
  el.setAttribute('data-until', iso);
  el.title = `until ${fmtLocal(d)} (${iso} UTC)`;
  tickOne(el, Date.now());
  return el;
}

export function tickOne(el, now) {
  const d = parseTime(el.getAttribute('data-until'));
  if (!d) return;
  const left = d.getTime() - now;
  el.textContent = fmtLeft(left);
  el.classList.toggle('countdown-soon', left > 0 && left < 2 * 3600 * 1000);
  el.classList.toggle('countdown-over', left <= 0);
}

// ---- Small building blocks ----------------------------------------------

const STATUS_WORDS = {
  pending: 'Pending approval',
  pending_internal: 'Pending internal approval',
  approved: 'Approved — access open',
  denied: 'Denied',
  expired: 'Expired (no decision)',
  revoked: 'Revoked',
  cancelled: 'Cancelled',
  completed: 'Completed',
  pending_approval: 'Pending approval',
  active: 'Active',
  ended: 'Ended',
  open: 'Open',
  closed: 'Closed',
};

export function statusWords(status) {
  return STATUS_WORDS[status] || str(status) || 'unknown';
}

export function badge(status, testid) {
  const st = str(status);
  const safe = /^[a-z_]+$/.test(st) ? st : 'other';
  return h('span', { class: `badge badge-${safe}`, 'data-testid': testid, 'data-status': st }, statusWords(st));
}

/** A <table> with column headers (scope=col) and a caption. */
export function table({ caption, columns, rows, testid, empty = 'Nothing to show.', captionHidden = false }) {
  if (!rows.length) return h('p', { class: 'empty', 'data-testid': testid ? `${testid}-empty` : undefined }, empty);
  const t = h('table', { class: 'data', 'data-testid': testid },
    caption ? h('caption', { class: captionHidden ? 'sr-only' : undefined }, caption) : null,
    h('thead', h('tr', columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', rows));
  return h('div', { class: 'table-wrap' }, t);
}

/** A labelled form field: label for=id, the control, optional hint. */
export function field(labelText, control, hint) {
  const id = control.id || (control.id = uid('f'));
  const parts = [h('label', { for: id }, labelText), control];
  if (hint) {
    const hid = `${id}-hint`;
    parts.push(h('p', { class: 'hint', id: hid }, hint));
    control.setAttribute('aria-describedby', hid);
  }
  return h('div', { class: 'field' }, parts);
}

let uidCounter = 0;
export function uid(prefix = 'id') {
  uidCounter += 1;
  return `${prefix}-${uidCounter}`;
}

/** An inline error box for a form (role=alert), hidden while empty. */
export function errorBox(testid) {
  return h('p', { class: 'form-error', role: 'alert', 'data-testid': testid, hidden: true });
}

export function showError(box, text) {
  box.textContent = text || '';
  box.hidden = !text;
}

export function pageHeader(title, ...rest) {
  return h('div', { class: 'page-head' }, h('h1', { tabindex: '-1', 'data-testid': 'page-title' }, title), rest);
}

export function dl(pairs, testid) {
  return h('dl', { class: 'facts', 'data-testid': testid },
    pairs.filter(Boolean).map(([k, v, tid]) => [h('dt', k), h('dd', { 'data-testid': tid }, v)]));
}

/** Lines of a textarea, trimmed, without blanks. */
export function lines(text) {
  return String(text || '').split(/\r?\n|,/).map((x) => x.trim()).filter(Boolean);
}

/** datetime-local value (viewer's zone) → RFC 3339 UTC, or '' */
export function localInputToIso(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export function durationOptions(maxMinutes, selected) {
  const max = Number.isFinite(Number(maxMinutes)) ? Number(maxMinutes) : 720;
  const values = [60, 120, 240, 480, 720].filter((m) => m <= max);
  if (max >= 60 && max <= 720 && !values.includes(max)) values.push(max);
  values.sort((a, b) => a - b);
  const sel = selected ?? max;
  return values.map((m) => h('option', { value: String(m), selected: m === sel }, `${fmtMinutes(m)} (${m} min)${m === max ? ' — as requested' : ''}`));
}
