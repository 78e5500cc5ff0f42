/**
 * Metrics and the dashboard: notify emits, in the embedded metric format, the metrics the stack's
 * dashboard names; the dashboard shows them beside the state machine's own.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseFindingEvent } from '../../lambdas/core/finding.js';
import { heldBackReason, METRIC_NAMES, METRICS_NAMESPACE } from '../../lambdas/notify/metrics.js';
import { parseConfig } from '../../simulation/cdk-json.js';
import { respondInSimulation } from '../../simulation/simulation.js';
import { loadEvent } from '../support/events.js';
import { synthesize } from '../support/synth.js';

type Emf = {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [field: string]: unknown;
};

describe('the metrics of a response', () => {
  const lines: string[] = [];
  beforeEach(() => {
    // As in Lambda, where EMF lines go to the log; POWERTOOLS_DEV sends them to the console here.
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
    lines.length = 0;
  });

  it('are emitted by notify in the embedded metric format, with the names the dashboard shows', async () => {
    const event = parseFindingEvent(loadEvent('eks-runtime-new-binary-executed.json'));
    await respondInSimulation(event, parseConfig({ clusters: ['prod-eks'] }));

    const emf = lines.filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Emf);
    const names = new Set(
      emf.flatMap((e) => e._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((x) => x.Name))),
    );
    expect([...names].sort()).toEqual(Object.values(METRIC_NAMES).sort());
    expect(new Set(emf.flatMap((e) => e._aws.CloudWatchMetrics.map((m) => m.Namespace)))).toEqual(
      new Set([METRICS_NAMESPACE]),
    );
    const findings = emf.find((e) => METRIC_NAMES.findings in e);
    expect(findings).toMatchObject({
      outcome: 'contained',
      service: 'guardduty-responder',
      FindingsHandled: 1,
    });
    const actions = emf.filter((e) => METRIC_NAMES.actions in e).map((e) => [e.action, e.status]);
    expect(actions).toContainEqual(['isolate-pods', 'ok']);
    // The node's host isolation is held back by default: counted by its reason.
    expect(emf.filter((e) => METRIC_NAMES.heldBack in e).map((e) => [e.action, e.reason])).toContainEqual([
      'isolate-host',
      'cluster-node',
    ]);
    const toPods = emf.find((e) => METRIC_NAMES.toPodsIsolated in e)?.[METRIC_NAMES.toPodsIsolated];
    const toEnd = emf.find((e) => METRIC_NAMES.toEnd in e)?.[METRIC_NAMES.toEnd];
    expect(Number(toPods)).toBeGreaterThan(0);
    expect(Number(toEnd)).toBeGreaterThanOrEqual(Number(toPods));
  });

  it('group the reasons an action was held back', () => {
    expect(heldBackReason('budget: 4 nodes of cluster x acted on in the last hour')).toBe('budget');
    expect(heldBackReason('dry run: this action would run; nothing is changed')).toBe('dry-run');
    expect(heldBackReason("severity 2 is outside the responder's range")).toBe('severity');
    expect(heldBackReason('something new')).toBe('other');
  });
});

describe('the dashboard', () => {
  it("names every metric the functions emit, and the state machine's", () => {
    const { template } = synthesize({ clusters: ['prod-eks'] }, { nag: true });
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const name of Object.values(METRIC_NAMES)) expect(body).toContain(name);
    for (const name of [
      'ExecutionsStarted',
      'ExecutionsSucceeded',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ExecutionTime',
    ])
      expect(body).toContain(name);
  });
});
