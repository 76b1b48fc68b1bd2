// Pictures (#/reports): requests per week by outcome, and a timeline of
// access windows.  Both are SVG drawn from the requests list, each with the
// same numbers as a table for screen readers.
import { listAll, currentTenant, isProvider, enc } from '../app.js';
import { h, s, str, arr, pageHeader, parseTime, fmtLocal, table } from './ui.js';
import { cell } from './common.js';

const OUTCOMES = [
  { key: 'approved', label: 'Approved', statuses: ['approved', 'completed'] },
  { key: 'revoked', label: 'Revoked', statuses: ['revoked'] },
  { key: 'denied', label: 'Denied', statuses: ['denied'] },
  { key: 'expired', label: 'Expired', statuses: ['expired'] },
  { key: 'cancelled', label: 'Cancelled', statuses: ['cancelled'] },
  { key: 'pending', label: 'Pending', statuses: ['pending', 'pending_internal'] },
];
const WEEKS = 12;
const DAY = 86400000;
const shortDate = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const tickFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

function weekStart(d) {
  // Monday 00:00 in the viewer's zone.
  const x = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const dow = (x.getDay() + 6) % 7;
  x.setDate(x.getDate() - dow);
  return x;
}

export async function render(ctx) {
  const t = currentTenant();
  const items = (isProvider()
    ? await listAll('/v1/requests', { tenant: t }, 20000)
    : await listAll(`/v1/tenants/${enc(t)}/requests`, {}, 20000)).filter((r) => r && typeof r === 'object');

  ctx.main.append(pageHeader('Reports'),
    h('p', { class: 'lead' }, `Requests of ${t}: ${items.length} in all. Hover or focus a bar for its numbers; each picture has its table below.`));
  ctx.main.append(weekly(items));
  ctx.main.append(timeline(items));
}

// ---- Requests per week by outcome ----------------------------------------

function weekly(items) {
  const now = new Date();
  const first = weekStart(new Date(now.getTime() - (WEEKS - 1) * 7 * DAY));
  const weeks = [];
  for (let i = 0; i < WEEKS; i += 1) {
    const start = new Date(first.getFullYear(), first.getMonth(), first.getDate() + 7 * i);
    weeks.push({ start, counts: Object.fromEntries(OUTCOMES.map((o) => [o.key, 0])), total: 0 });
  }
  for (const r of items) {
    const d = parseTime(r.created_at);
    if (!d || d < first) continue;
    const ws = weekStart(d).getTime();
    const w = weeks.find((x) => x.start.getTime() === ws);
    const o = OUTCOMES.find((x) => x.statuses.includes(str(r.status)));
    if (!w || !o) continue;
    w.counts[o.key] += 1;
    w.total += 1;
  }
  const max = Math.max(1, ...weeks.map((w) => w.total));
  const niceMax = max <= 5 ? max : Math.ceil(max / 5) * 5;
  const W = 720, H = 300, L = 44, R = 12, T = 16, B = 48;
  const plotW = W - L - R, plotH = H - T - B;
  const slot = plotW / WEEKS, barW = Math.min(40, slot * 0.6);
  const y = (v) => T + plotH - (v / niceMax) * plotH;

  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': 'wk-title wk-desc', 'data-testid': 'chart-weekly', preserveAspectRatio: 'xMidYMid meet' },
    s('title', { id: 'wk-title' }, 'Requests per week by outcome'),
    s('desc', { id: 'wk-desc' }, `Stacked bars for the last ${WEEKS} weeks; the table below has the same numbers.`));
  // grid and y ticks
  const ticks = niceMax <= 5 ? niceMax : 5;
  for (let i = 0; i <= ticks; i += 1) {
    const v = Math.round((niceMax / ticks) * i);
    svg.append(s('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: L - 6, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, String(v)));
  }
  weeks.forEach((w, i) => {
    const x = L + slot * i + (slot - barW) / 2;
    let acc = 0;
    const g = s('g', { class: 'bar-group', 'data-testid': 'chart-week', 'data-week': w.start.toISOString(), 'data-total': String(w.total), tabindex: '0' });
    const summary = OUTCOMES.filter((o) => w.counts[o.key]).map((o) => `${w.counts[o.key]} ${o.label.toLowerCase()}`).join(', ') || 'no requests';
    g.append(s('title', `Week of ${shortDate.format(w.start)}: ${summary}`));
    for (const o of OUTCOMES) {
      const n = w.counts[o.key];
      if (!n) continue;
      const y0 = y(acc + n), hgt = y(acc) - y(acc + n);
      g.append(s('rect', { x, y: y0, width: barW, height: Math.max(hgt, 1), class: `bar bar-${o.key}`, 'data-testid': 'chart-bar', 'data-outcome': o.key, 'data-count': String(n) }));
      acc += n;
    }
    if (w.total) g.append(s('text', { x: x + barW / 2, y: y(w.total) - 4, class: 'tick', 'text-anchor': 'middle' }, String(w.total)));
    g.append(s('text', { x: x + barW / 2, y: H - B + 16, class: 'tick', 'text-anchor': 'middle' }, shortDate.format(w.start)));
    svg.append(g);
  });
  svg.append(s('line', { x1: L, x2: W - R, y1: y(0), y2: y(0), class: 'axis' }),
    s('text', { x: L, y: H - 8, class: 'tick' }, 'Week starting (Monday)'));

  const legend = h('ul', { class: 'legend' }, OUTCOMES.map((o) => h('li', h('span', { class: `swatch bar-${o.key}`, 'aria-hidden': 'true' }), o.label)));
  const tbl = table({
    caption: 'Requests per week by outcome',
    columns: ['Week starting', ...OUTCOMES.map((o) => o.label), 'Total'],
    rows: weeks.map((w) => h('tr', h('th', { scope: 'row' }, shortDate.format(w.start)), OUTCOMES.map((o) => cell(o.label, String(w.counts[o.key]))), cell('Total', String(w.total)))),
  });
  return h('section', { class: 'card chart-card', 'aria-labelledby': 'wk-h' },
    h('h2', { id: 'wk-h' }, 'Requests per week by outcome'),
    h('div', { class: 'chart-wrap' }, svg), legend,
    h('details', h('summary', 'The numbers as a table'), tbl));
}

// ---- Timeline of access windows -------------------------------------------

function windowEnd(r) {
  const exp = parseTime(r.access_expires_at);
  if (str(r.status) === 'revoked') {
    const rev = arr(r.decisions).filter((d) => d && /revoke/.test(str(d.decision))).map((d) => parseTime(d.at)).find(Boolean);
    if (rev && (!exp || rev < exp)) return rev;
  }
  return exp;
}

function timeline(items) {
  const now = new Date();
  const since = new Date(now.getTime() - 30 * DAY);
  const windows = items.map((r) => ({ r, a: parseTime(r.access_starts_at), b: windowEnd(r) }))
    .filter((x) => x.a && x.b && x.b >= since)
    .sort((p, q) => p.a - q.a)
    .slice(-40);
  const section = h('section', { class: 'card chart-card', 'aria-labelledby': 'tl-h' }, h('h2', { id: 'tl-h' }, 'Access windows (last 30 days)'));
  const W = 720, rowH = 22, L = 170, R = 12, T = 24, B = 28;
  const H = T + B + Math.max(1, windows.length) * rowH;
  // The axis spans the windows shown and now, at least six hours, padded a little.
  const starts = windows.map((w) => w.a.getTime()), ends = windows.map((w) => w.b.getTime());
  let lo = windows.length ? Math.min(...starts) : now.getTime() - 6 * 3600000;
  let hi = Math.max(now.getTime(), ...ends);
  if (hi - lo < 6 * 3600000) lo = hi - 6 * 3600000;
  const pad = (hi - lo) * 0.04;
  lo -= pad; hi += pad;
  const span = hi - lo;
  const x = (ms) => L + ((ms - lo) / span) * (W - L - R);

  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': 'tl-title tl-desc', 'data-testid': 'chart-timeline', preserveAspectRatio: 'xMidYMid meet' },
    s('title', { id: 'tl-title' }, 'Timeline of access windows'),
    s('desc', { id: 'tl-desc' }, 'One bar per approved request, from access start to its end; the table below has the same times.'));
  // time axis: 5 grid lines, a label on every other one (a label is about
  // 100 px wide: five of them do not fit the axis without overlapping)
  for (let i = 0; i <= 4; i += 1) {
    const ms = lo + (span / 4) * i;
    svg.append(s('line', { x1: x(ms), x2: x(ms), y1: T - 6, y2: H - B, class: 'grid' }));
    if (i % 2 === 0)
      svg.append(s('text', { x: x(ms), y: H - B + 16, class: 'tick', 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle' }, tickFmt.format(new Date(ms))));
  }
  windows.forEach((w, i) => {
    const yy = T + i * rowH;
    const st = str(w.r.status);
    const cls = st === 'approved' ? 'active' : st === 'revoked' ? 'revoked' : 'done';
    const g = s('g', { 'data-testid': 'timeline-bar', 'data-request-id': str(w.r.id), 'data-status': st, tabindex: '0' },
      s('title', `${str(w.r.requester)} · ${str(w.r.workload)} · ${arr(w.r.resources).map(str).join(', ')} — ${fmtLocal(w.a)} to ${fmtLocal(w.b)} (${st})`),
      s('text', { x: L - 6, y: yy + 15, class: 'tick', 'text-anchor': 'end' }, `${str(w.r.requester).slice(0, 12)} · ${str(w.r.workload).slice(0, 12)}`),
      s('rect', { x: x(w.a.getTime()), y: yy + 4, width: Math.max(3, x(w.b.getTime()) - x(w.a.getTime())), height: rowH - 8, rx: 3, class: `tl tl-${cls}` }));
    svg.append(g);
  });
  if (!windows.length) svg.append(s('text', { x: W / 2, y: T + 14, class: 'tick', 'text-anchor': 'middle' }, 'No access window in the last 30 days.'));
  svg.append(s('line', { x1: x(now.getTime()), x2: x(now.getTime()), y1: T - 10, y2: H - B, class: 'now' }),
    s('text', { x: x(now.getTime()), y: T - 12, class: 'tick now-label', 'text-anchor': 'end' }, 'now'));

  section.append(h('div', { class: 'chart-wrap' }, svg),
    h('ul', { class: 'legend' },
      h('li', h('span', { class: 'swatch tl-active', 'aria-hidden': 'true' }), 'Open now'),
      h('li', h('span', { class: 'swatch tl-done', 'aria-hidden': 'true' }), 'Ended by itself'),
      h('li', h('span', { class: 'swatch tl-revoked', 'aria-hidden': 'true' }), 'Revoked')),
    h('details', h('summary', 'The windows as a table'), table({
      caption: 'Access windows',
      columns: ['Request', 'Engineer', 'Resources', 'From', 'Until', 'Status'],
      rows: windows.map((w) => h('tr',
        h('th', { scope: 'row' }, str(w.r.id)),
        cell('Engineer', str(w.r.requester)),
        cell('Resources', arr(w.r.resources).map(str).join(', ')),
        cell('From', h('time', { datetime: w.a.toISOString(), title: w.a.toISOString() }, fmtLocal(w.a))),
        cell('Until', h('time', { datetime: w.b.toISOString(), title: w.b.toISOString() }, fmtLocal(w.b))),
        cell('Status', str(w.r.status)))),
      empty: 'No access window in the last 30 days.',
    })));
  return section;
}
