/**
 * The incident report, as a person sees it: a replay writes it, Debian's Chromium renders it headless,
 * and the rendered page holds the outcome, the timeline drawn on its axis (a failure marked), the graph
 * of what the finding touched (each object marked with what was done to it), the evidence with hashes
 * and the next steps. The screenshot is kept (`.replay/screenshots/`) for a person to look at.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replay } from '../../commands/replay.js';
import { loadEvent } from '../support/events.js';

const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? null : `${CHROMIUM} is not installed (apt-get install chromium)`;
// CI installs it (.ci/run): there, a missing browser is a failure, not a skip.
if (missing && process.env.CI) throw new Error(`the report test needs Chromium: ${missing}`);
if (missing) console.log(`report rendering skipped: ${missing}`);

/** Headless, with no network of its own: the page must need none. */
function chromium(args: string[]): string {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
  return execFileSync(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      ...args,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 },
  );
}

const pngSize = (png: Buffer) => ({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) });

describe.skipIf(missing !== null)('the incident report in Chromium', () => {
  it('renders the outcome, the timeline, the graph, the evidence and the next steps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const out: string[] = [];
    const event = 'events/eks-runtime-new-binary-executed.json';
    const code = await replay(
      [event, '--state', join(dir, 'simulation.json')],
      (l) => out.push(l),
      () => {},
    );
    expect(code).toBe(0);
    const id = loadEvent('eks-runtime-new-binary-executed.json').detail.id;
    const path = join(dir, 'reports', `incident-${id}.html`);
    expect(out).toContain(`Incident report: ${path}`);

    const html = readFileSync(path, 'utf8');
    // Self-contained: no script, no stylesheet or image fetched from anywhere.
    expect(html).not.toMatch(/<script|<link|<img|src=|url\(/i);

    const dom = chromium(['--dump-dom', `file://${resolve(path)}`]);
    expect(dom).toContain('[guardduty-responder] CONTAINED: Execution:Runtime/NewBinaryExecuted');
    expect(dom).toContain('xmrig-dl (/tmp/.cache/kworkerd)');
    // The timeline: a bar per step on one axis, from the claim to Notify.
    const steps = [...dom.matchAll(/<g class="step" data-status="([^"]*)">/g)].map((m) => m[1]);
    expect(steps.length).toBeGreaterThanOrEqual(8);
    expect(steps).toContain('held-back');
    // The graph: cluster, workload, the two pods, their nodes, instances and roles, marked.
    const nodes = [...dom.matchAll(/<g class="node" data-kind="([^"]*)" data-status="([^"]*)">/g)];
    const kinds = new Set(nodes.map((m) => m[1]));
    expect([...kinds]).toEqual(
      expect.arrayContaining(['cluster', 'workload', 'pod', 'node', 'instance', 'role', 'volume']),
    );
    expect(nodes.filter((m) => m[1] === 'pod').map((m) => m[2])).toEqual(['ok', 'ok']);
    expect(dom.match(/class="edge"/g)?.length ?? 0).toBeGreaterThanOrEqual(6);
    expect(dom).toMatch(/[0-9a-f]{64}/);
    expect(dom).toContain(`npm run recover -- ${id}`);

    const shots = resolve('.replay/screenshots');
    mkdirSync(shots, { recursive: true });
    const screenshot = join(shots, 'incident-report.png');
    chromium(['--window-size=1280,2400', `--screenshot=${screenshot}`, `file://${resolve(path)}`]);
    const png = readFileSync(screenshot);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(pngSize(png)).toEqual({ width: 1280, height: 2400 });
    // A blank page compresses to a few kilobytes; the drawn report does not.
    expect(png.length).toBeGreaterThan(60_000);
  }, 120_000);

  it('marks a failed step red on the timeline and a failed target on the graph', async () => {
    const { renderReport } = await import('../../lambdas/report/render.js');
    const at = (ms: number) => new Date(Date.UTC(2026, 11, 7, 3, 0, 0, ms)).toISOString();
    const html = renderReport({
      title: '[guardduty-responder] PARTLY CONTAINED (failed): Execution:Runtime/NewBinaryExecuted',
      summary: 'PARTLY CONTAINED (failed): …',
      generatedAt: at(900),
      finding: {
        id: 'f1',
        type: 'Execution:Runtime/NewBinaryExecuted',
        severity: 5,
        title: 't',
        accountId: '1',
        region: 'us-east-1',
      },
      targets: [{ target: 'Deployment shop/web', cut: true, detail: '1 pod(s) isolated', reason: null }],
      timeline: [
        { step: 'claim', start: at(0), end: at(0), status: 'ok' },
        { step: 'isolate-pods', start: at(100), end: at(300), status: 'ok' },
        { step: 'snapshot-volumes', start: at(400), end: at(800), status: 'failed', note: 'AccessDenied' },
      ],
      graph: {
        nodes: [
          {
            id: 'pod:shop/web-1',
            kind: 'pod',
            label: 'shop/web-1',
            marks: [{ action: 'isolate-pods', status: 'ok' }],
          },
          {
            id: 'volume:vol-1',
            kind: 'volume',
            label: 'vol-1',
            marks: [{ action: 'snapshot-volumes', status: 'failed' }],
          },
        ],
        edges: [['pod:shop/web-1', 'volume:vol-1']],
      },
      actions: [],
      evidence: [],
      entries: [],
      sections: [],
      nextSteps: [],
    });
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    const path = join(dir, 'failed.html');
    writeFileSync(path, html);
    const dom = chromium(['--dump-dom', `file://${path}`]);
    expect(dom).toMatch(/<g class="step" data-status="failed">.*fill="#d64545"/s);
    expect(dom).toContain('✗ failed');
    expect(dom).toMatch(/<g class="node" data-kind="volume" data-status="failed">/);
  }, 60_000);
});
