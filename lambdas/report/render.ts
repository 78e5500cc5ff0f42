/**
 * The incident report: one self-contained HTML page (inline styles and SVG, no script, no external
 * asset), to look at rather than read: the outcome first, what GuardDuty saw, the timeline drawn on a
 * time axis with failures marked, what the finding touched drawn as a graph (cluster → workload → pods →
 * nodes → instances → roles, each marked with what was done to it), the actions with their results, the
 * evidence with its hashes, the record's entries and the next steps. Every string in it is escaped: most
 * of them are the attacker's. Pure.
 */
import { type Observed, observedRows } from '../core/observed.js';

export type Mark = { action: string; status: string };

export type GraphNode = {
  id: string;
  kind: 'cluster' | 'workload' | 'pod' | 'node' | 'instance' | 'role' | 'volume';
  label: string;
  marks: Mark[];
};

export type TimelineStep = {
  step: string;
  /** ISO times; `end` null while it has not settled. */
  start: string;
  end: string | null;
  status: string;
  note?: string;
};

export type ReportData = {
  /** The notification's subject. */
  title: string;
  /** Its first line. */
  summary: string;
  generatedAt: string;
  finding: {
    id: string;
    type: string;
    severity: number;
    title: string;
    accountId: string;
    region: string;
    observed?: Observed;
  };
  targets: { target: string; cut: boolean; detail: string; reason: string | null }[];
  timeline: TimelineStep[];
  graph: { nodes: GraphNode[]; edges: [string, string][] };
  actions: {
    action: string;
    status: string;
    why: string | null;
    items: { target: string; status: string; detail: string; verified: boolean | null; caveats: string[] }[];
  }[];
  evidence: {
    bucket: string;
    key: string;
    size: number;
    sha256: string;
    versionId: string | null;
    note: string | null;
  }[];
  entries: { key: string; status: string; intendedAt: string; settledAt: string | null; before: unknown }[];
  /** What release or recover did, when they wrote the report. */
  sections: { heading: string; lines: string[] }[];
  nextSteps: string[];
};

const esc = (value: unknown): string =>
  String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

const short = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** ok green, failed red, held back or skipped amber, anything else grey. */
function colour(status: string): string {
  if (/fail|not run/i.test(status)) return '#d64545';
  if (/^(ok|done|undone|replaced|released|recovered|cut off)/i.test(status)) return '#2f9e5b';
  if (/held|skip|would|left|kept|protected|not/i.test(status)) return '#d9a21b';
  return '#8a94a6';
}

function nodeStatus(node: GraphNode): string {
  if (node.marks.some((m) => /fail/i.test(m.status))) return 'failed';
  if (node.marks.some((m) => m.status === 'ok' || m.status === 'done')) return 'ok';
  if (node.marks.length > 0) return node.marks[0]?.status ?? '';
  return '';
}

const COLUMNS: GraphNode['kind'][] = ['cluster', 'workload', 'pod', 'node', 'instance', 'role', 'volume'];
const PER_COLUMN = 14;

/** The graph as SVG: a column per kind, a box per object coloured by what was done to it, edges between. */
export function graphSvg(graph: ReportData['graph']): string {
  const columns = COLUMNS.map((kind) => graph.nodes.filter((n) => n.kind === kind)).filter(
    (c) => c.length > 0,
  );
  const box = { w: 200, h: 46, gapX: 40, gapY: 14 };
  const place = new Map<string, { x: number; y: number }>();
  const parts: string[] = [];
  let rows = 1;
  columns.forEach((column, c) => {
    const shown = column.slice(0, PER_COLUMN);
    rows = Math.max(rows, shown.length + (column.length > PER_COLUMN ? 1 : 0));
    const x = 10 + c * (box.w + box.gapX);
    parts.push(`<text x="${x}" y="20" class="col">${esc(column[0]?.kind)}s (${column.length})</text>`);
    shown.forEach((node, r) => {
      const y = 32 + r * (box.h + box.gapY);
      place.set(node.id, { x, y });
      const status = nodeStatus(node);
      const marks = node.marks.map((m) => `${m.action} ${m.status}`).join(', ');
      parts.push(
        `<g class="node" data-kind="${esc(node.kind)}" data-status="${esc(status)}"><title>${esc(`${node.label}\n${marks}`)}</title>` +
          `<rect x="${x}" y="${y}" width="${box.w}" height="${box.h}" rx="6" fill="#fff" stroke="${colour(status)}" stroke-width="${status ? 3 : 1.5}"/>` +
          `<text x="${x + 8}" y="${y + 18}" class="label">${esc(short(node.label, 30))}</text>` +
          `<text x="${x + 8}" y="${y + 36}" class="marks" fill="${colour(status)}">${esc(short(marks || 'nothing done', 34))}</text></g>`,
      );
    });
    if (column.length > PER_COLUMN)
      parts.push(
        `<text x="${x + 8}" y="${32 + PER_COLUMN * (box.h + box.gapY) + 16}" class="marks">… and ${column.length - PER_COLUMN} more (listed below)</text>`,
      );
  });
  const edges = graph.edges.flatMap(([from, to]) => {
    const a = place.get(from);
    const b = place.get(to);
    if (!a || !b) return [];
    const x1 = a.x + box.w;
    const y1 = a.y + box.h / 2;
    const x2 = b.x;
    const y2 = b.y + box.h / 2;
    const mid = (x1 + x2) / 2;
    return [
      `<path class="edge" d="M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}" fill="none" stroke="#9aa5b8"/>`,
    ];
  });
  const width = Math.max(1, columns.length) * (box.w + box.gapX) + 10;
  const height = 50 + rows * (box.h + box.gapY);
  // Scaled to the page's width: every column in view, however many kinds the finding touched.
  return `<svg id="graph" xmlns="http://www.w3.org/2000/svg" width="100%" style="max-width:${width}px" viewBox="0 0 ${width} ${height}">${edges.join('')}${parts.join('')}</svg>`;
}

/** The timeline as SVG: a row per step, a bar from its start to its end on one time axis. */
export function timelineSvg(steps: readonly TimelineStep[]): string {
  const times = steps
    .flatMap((s) => [Date.parse(s.start), Date.parse(s.end ?? s.start)])
    .filter(Number.isFinite);
  const t0 = Math.min(...times, Number.POSITIVE_INFINITY);
  const t1 = Math.max(...times, t0 + 1);
  const span = Math.max(1, t1 - t0);
  const left = 220;
  const width = 640;
  const row = 24;
  const x = (iso: string) => left + ((Date.parse(iso) - t0) / span) * width;
  const parts = steps.map((step, i) => {
    const y = 30 + i * row;
    const x1 = Number.isFinite(Date.parse(step.start)) ? x(step.start) : left;
    const x2 = Math.max(x1 + 3, step.end ? x(step.end) : x1 + 3);
    const failed = /fail|not run/i.test(step.status);
    const ms = step.end ? Date.parse(step.end) - Date.parse(step.start) : null;
    return (
      `<g class="step" data-status="${esc(step.status)}"><title>${esc(`${step.step}: ${step.status}${step.note ? `\n${step.note}` : ''}\n${step.start} → ${step.end ?? 'not settled'}`)}</title>` +
      `<text x="${left - 8}" y="${y + 12}" text-anchor="end" class="label">${esc(short(step.step, 30))}</text>` +
      `<rect x="${x1}" y="${y}" width="${x2 - x1}" height="16" rx="3" fill="${colour(step.status)}"/>` +
      `<text x="${x2 + 6}" y="${y + 12}" class="marks">${failed ? '✗ ' : ''}${esc(short(step.status, 40))}${ms !== null && Number.isFinite(ms) ? ` · ${ms} ms` : ''}</text></g>`
    );
  });
  const height = 50 + steps.length * row;
  const axis = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const ax = left + f * width;
    const at = f * span;
    const label = span < 10_000 ? `${Math.round(at)} ms` : `${Math.round(at / 1000)} s`;
    return `<line x1="${ax}" y1="22" x2="${ax}" y2="${height - 16}" stroke="#e3e7ee"/><text x="${ax}" y="${height - 2}" text-anchor="middle" class="marks">+${label}</text>`;
  });
  return `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="${left + width + 220}" height="${height}">${axis.join('')}${parts.join('')}</svg>`;
}

/** A table; each row is its cells' HTML, as one string or a list. */
const table = (head: string[], rows: (string | string[])[]): string =>
  `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${[r].flat().join('')}</tr>`)
    .join('')}</tbody></table>`;

const cell = (value: unknown, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${esc(value)}</td>`;
const statusCell = (status: string) =>
  `<td><span class="badge" style="background:${colour(status)}">${esc(status)}</span></td>`;

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2433;background:#f5f7fa}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:28px 0 10px}
.summary{font-size:15px;background:#fff;border-left:6px solid var(--c);padding:12px 16px;border-radius:4px}
.card{background:#fff;border-radius:6px;padding:12px 16px;overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e3e7ee;vertical-align:top}
th{font-size:12px;color:#5b6578;text-transform:uppercase}td.mono,code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.badge{color:#fff;border-radius:10px;padding:1px 8px;font-size:12px;white-space:nowrap}
svg text.label{font-size:12px;fill:#1d2433}svg text.marks{font-size:11px}svg text.col{font-size:12px;font-weight:600;fill:#5b6578}
dl{display:grid;grid-template-columns:140px 1fr;gap:4px 12px;margin:0}dt{color:#5b6578}dd{margin:0;word-break:break-all}
footer{color:#5b6578;font-size:12px;margin-top:30px}`;

export function renderReport(data: ReportData): string {
  const lead =
    data.targets.every((t) => t.cut) && !/partly|not|fail|refused/i.test(data.title) ? '#2f9e5b' : '#d64545';
  const seen: [string, string][] = [
    ['Finding', `${data.finding.type}, severity ${data.finding.severity}: ${data.finding.title}`],
    ['Id', data.finding.id],
    ['Where', `account ${data.finding.accountId}, ${data.finding.region}`],
    ...observedRows(data.finding.observed),
  ];
  const actionRows = data.actions.flatMap((a) => [
    `<td><b>${esc(a.action)}</b></td>${statusCell(a.status)}<td colspan="3">${esc(a.why ?? '')}</td>`,
    ...a.items.map(
      (i) =>
        `<td></td>${statusCell(i.status)}${cell(i.target, 'mono')}${cell(`${i.detail}${i.caveats.length > 0 ? ` (caveat: ${i.caveats.join('; ')})` : ''}`)}${cell(i.verified === null ? '' : i.verified ? 'verified' : 'NOT verified')}`,
    ),
  ]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(data.title)}</title><style>${STYLE}</style></head>
<body><main style="--c:${lead}">
<h1>${esc(data.title)}</h1>
<p class="summary" id="summary">${esc(data.summary)}</p>
<h2>What GuardDuty saw</h2>
<div class="card"><dl>${seen.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl></div>
${
  data.targets.length === 0
    ? ''
    : `<h2>Compromised</h2>${table(
        ['', 'target', 'what was done, or why not'],
        data.targets.map((t) => [
          statusCell(t.cut ? 'cut off' : `not cut off: ${t.reason}`),
          cell(t.target, 'mono'),
          cell(t.detail),
        ]),
      )}`
}
<h2>Timeline</h2>
<div class="card">${timelineSvg(data.timeline)}</div>
<h2>What the finding touched</h2>
<div class="card">${graphSvg(data.graph)}</div>
<h2>Actions</h2>
${table(['action', 'status', 'target', 'detail', 'verified'], actionRows)}
${data.sections
  .map(
    (s) =>
      `<h2>${esc(s.heading)}</h2><div class="card">${s.lines.map((l) => `<div class="mono"><code>${esc(l)}</code></div>`).join('')}</div>`,
  )
  .join('\n')}
<h2>Evidence (${data.evidence.length})</h2>
${table(
  ['object', 'size', 'SHA-256', 'version', 'note'],
  data.evidence.map((e) => [
    cell(`s3://${e.bucket}/${e.key}`, 'mono'),
    cell(e.size),
    cell(e.sha256, 'mono'),
    cell(e.versionId ?? 'none', 'mono'),
    cell(e.note ?? ''),
  ]),
)}
<h2>The incident record (${data.entries.length} entries)</h2>
${table(
  ['entry', 'status', 'intended', 'settled', 'state before'],
  data.entries.map((e) => [
    cell(e.key, 'mono'),
    statusCell(e.status),
    cell(e.intendedAt),
    cell(e.settledAt ?? 'not settled'),
    cell(JSON.stringify(e.before), 'mono'),
  ]),
)}
<h2>Next steps</h2>
<div class="card">${data.nextSteps.map((s) => `<div><code>${esc(s)}</code></div>`).join('')}</div>
<footer>guardduty-responder incident report, written ${esc(data.generatedAt)}. Self-contained: no script, no external asset.</footer>
</main></body></html>
`;
}
