/** The report is drawn from the attacker's strings: every one is escaped, nothing runs. */
import { describe, expect, it } from 'vitest';
import { type ReportData, renderReport } from '../../../../lambdas/report/render.js';

const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>';

const data: ReportData = {
  title: `[guardduty-responder] CONTAINED: ${hostile}`,
  summary: hostile,
  generatedAt: '2026-12-07T03:00:00.000Z',
  finding: {
    id: 'f1',
    type: 'Execution:Runtime/NewBinaryExecuted',
    severity: 5,
    title: hostile,
    accountId: '111122223333',
    region: 'us-east-1',
    observed: {
      process: hostile,
      parent: null,
      hashes: [],
      remote: [],
      domains: [],
      apiCall: null,
      user: hostile,
      images: [],
      threats: [],
    },
  },
  targets: [{ target: `pod shop/${hostile}`, cut: true, detail: hostile, reason: null }],
  timeline: [{ step: hostile, start: '2026-12-07T03:00:00.000Z', end: null, status: hostile }],
  graph: {
    nodes: [{ id: 'pod:x', kind: 'pod', label: hostile, marks: [{ action: 'isolate-pods', status: 'ok' }] }],
    edges: [],
  },
  actions: [{ action: 'isolate-pods', status: 'ok', why: hostile, items: [] }],
  evidence: [{ bucket: 'b', key: hostile, size: 1, sha256: 'a'.repeat(64), versionId: null, note: hostile }],
  entries: [{ key: hostile, status: 'ok', intendedAt: 'x', settledAt: null, before: { name: hostile } }],
  sections: [{ heading: hostile, lines: [hostile] }],
  nextSteps: [hostile],
};

describe('renderReport', () => {
  it('escapes every string a finding or a record carries', () => {
    const html = renderReport(data);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('holds no external asset and no script', () => {
    const plain = JSON.parse(JSON.stringify(data).replaceAll(JSON.stringify(hostile).slice(1, -1), 'x'));
    const html = renderReport(plain);
    expect(html).not.toMatch(/<script|<link|src=|url\(/i);
  });
});
