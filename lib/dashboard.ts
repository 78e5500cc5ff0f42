/**
 * The dashboard: the metrics the functions emit (lambdas/notify/metrics.ts) beside the state machine's
 * own. Findings handled by outcome, seconds from the finding's updatedAt to its pods isolated and to the
 * end, actions by status, held-back actions and targets by reason, executions and their duration.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRIC_NAMES, METRICS_NAMESPACE } from '../lambdas/notify/metrics.js';

const OUTCOMES = ['contained', 'partly-contained', 'not-contained', 'identified', 'refused', 'seen-again'];
const PERIOD = Duration.minutes(5);

export class ResponderDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: { stateMachine: sfn.StateMachine }) {
    super(scope, id);
    const metric = (metricName: string, statistic: string, dimensions: Record<string, string> = {}) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        statistic,
        period: PERIOD,
        // Powertools adds the service to every metric's dimensions.
        dimensionsMap: { service: 'guardduty-responder', ...dimensions },
      });
    /** Every series of a metric, whatever its dimension values (actions, statuses, reasons). */
    const search = (metricName: string, dimensions: string[], label: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE},${['service', ...dimensions].sort().join(',')}} MetricName="${metricName}"', 'Sum', 300)`,
        label,
        period: PERIOD,
      });
    const { stateMachine } = props;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Findings handled, by outcome',
            left: OUTCOMES.map((outcome) => metric(METRIC_NAMES.findings, 'Sum', { outcome })),
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: "Seconds from the finding's updatedAt to its pods isolated, and to the end",
            left: ['p50', 'p99'].flatMap((stat) => [
              metric(METRIC_NAMES.toPodsIsolated, stat),
              metric(METRIC_NAMES.toEnd, stat),
            ]),
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Actions, by action and status',
            left: [search(METRIC_NAMES.actions, ['action', 'status'], 'actions')],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Held back, by action and reason',
            left: [search(METRIC_NAMES.heldBack, ['action', 'reason'], 'held back')],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Executions',
            left: [
              stateMachine.metricStarted({ period: PERIOD }),
              stateMachine.metricSucceeded({ period: PERIOD }),
              stateMachine.metricFailed({ period: PERIOD }),
              stateMachine.metricTimedOut({ period: PERIOD }),
            ],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Execution time',
            left: [
              stateMachine.metricTime({ period: PERIOD, statistic: 'p50' }),
              stateMachine.metricTime({ period: PERIOD, statistic: 'p99' }),
            ],
            width: 12,
          }),
        ],
      ],
    });
  }
}
