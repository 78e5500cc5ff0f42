/**
 * The response in CloudWatch metrics (embedded metric format, through Powertools Metrics), namespace
 * `guardduty-responder`: findings handled by outcome, seconds from the finding's `updatedAt` to its pods
 * isolated and to the end, actions by status, and held-back actions and targets by reason. The stack's
 * dashboard (lib/dashboard.ts) shows them beside the state machine's own.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { actionNamed } from '../actions/registry.js';
import type { IncidentRecord } from '../incident/record.js';
import type { Notification } from './message.js';

/** An action that contains pods (its spec's target kind): the time to pods isolated counts its entries. */
const isolatesPods = (action: string) => actionNamed(action)?.spec.targetKind === 'pods';
export const METRICS_NAMESPACE = 'guardduty-responder';

/** Every metric the functions emit, by name: the dashboard names the same. */
export const METRIC_NAMES = {
  findings: 'FindingsHandled',
  toPodsIsolated: 'SecondsToPodsIsolated',
  toEnd: 'SecondsToEnd',
  actions: 'ActionResults',
  heldBack: 'HeldBack',
} as const;

/** Why an action was held back, as one of a few words a dashboard can group by. */
export function heldBackReason(reason: string | null): string {
  const text = reason ?? '';
  if (text.startsWith('budget:') || text.startsWith('held back: budget:')) return 'budget';
  if (text.includes('dry run')) return 'dry-run';
  if (text.includes('sample finding')) return 'sample';
  if (text.includes('disabled')) return 'disabled';
  if (text.includes('severity')) return 'severity';
  if (text.includes('not one the responder may act on')) return 'cluster';
  if (text.includes('isolateClusterNodes')) return 'cluster-node';
  if (text.includes('configured member') || text.includes('not a region this responder covers'))
    return 'outside';
  return 'other';
}

const seconds = (from: string | undefined, to: number): number | null => {
  const start = from ? Date.parse(from) : Number.NaN;
  return Number.isNaN(start) ? null : Math.max(0, (to - start) / 1000);
};

/** Emits one response's metrics; `record` is the incident as notify read it (for its entries and holds). */
export function emitResponseMetrics(
  metrics: Metrics,
  notification: Notification,
  updatedAt: string | undefined,
  record: IncidentRecord | null,
  now = Date.now(),
): void {
  const single = (
    name: string,
    value: number,
    unit: (typeof MetricUnit)[keyof typeof MetricUnit],
    dimensions: Record<string, string> = {},
  ) => {
    const metric = metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) metric.addDimension(key, dimension);
    metric.addMetric(name, unit, value);
  };
  single(METRIC_NAMES.findings, 1, MetricUnit.Count, { outcome: notification.attributes.outcome });
  const end = seconds(updatedAt, now);
  if (end !== null) single(METRIC_NAMES.toEnd, end, MetricUnit.Seconds);
  const isolated = Object.values(record?.entries ?? {})
    .filter((entry) => isolatesPods(entry.action) && entry.status === 'ok' && entry.settledAt)
    .map((entry) => Date.parse(entry.settledAt ?? ''))
    .filter((at) => !Number.isNaN(at));
  const toPods = isolated.length > 0 ? seconds(updatedAt, Math.max(...isolated)) : null;
  if (toPods !== null) single(METRIC_NAMES.toPodsIsolated, toPods, MetricUnit.Seconds);
  for (const action of notification.actions ?? []) {
    if (action.status === 'held-back') {
      single(METRIC_NAMES.heldBack, 1, MetricUnit.Count, {
        action: action.action,
        reason: heldBackReason(action.reason),
      });
    } else {
      single(METRIC_NAMES.actions, 1, MetricUnit.Count, { action: action.action, status: action.status });
    }
  }
  for (const hold of record?.holds ?? []) {
    single(METRIC_NAMES.heldBack, 1, MetricUnit.Count, {
      action: hold.action,
      reason: heldBackReason(hold.reason),
    });
  }
}

/**
 * The functions' metrics; each is flushed as it is added (single metrics). In Lambda the EMF lines go to
 * the log, which CloudWatch turns into metrics. `POWERTOOLS_METRICS_DISABLED=true` keeps them out of a
 * local run's output (the npm scripts and the tests set it).
 */
export const responderMetrics = () =>
  new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'guardduty-responder' });
