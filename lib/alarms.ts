/**
 * Nothing fails silently: an alarm on failed executions (including the ones that could not notify, such
 * as a state over Step Functions' size limit), one on events that could not start an execution at all,
 * and one on actions the budget across findings held back, all to the notification topic.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Notifications } from './notifications.js';

export class Alarms extends Construct {
  constructor(
    scope: Construct,
    id: string,
    props: {
      stateMachine: sfn.StateMachine;
      deadLetterQueue: sqs.Queue;
      notifications: Notifications;
      /** The log groups of the functions that spend the budget (they log `budget exhausted`). */
      budgetLogGroups: logs.ILogGroup[];
    },
  ) {
    super(scope, id);
    const { topic, key } = props.notifications;
    const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    const fromThisAccount = { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } };
    // CloudWatch publishes alarm notifications to the encrypted topic as itself.
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: fromThisAccount,
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromThisAccount,
      }),
    );
    const notify = new actions.SnsAction(topic);

    new cloudwatch.Alarm(this, 'ExecutionsFailed', {
      alarmDescription:
        'A guardduty-responder execution failed: see its notification, or its history when there is none.',
      metric: props.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(notify);

    new cloudwatch.Alarm(this, 'FindingsNotStarted', {
      alarmDescription:
        'GuardDuty findings could not start the response: they wait in the dead-letter queue.',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(notify);

    const budget = { metricNamespace: 'guardduty-responder', metricName: 'BudgetExhausted' };
    props.budgetLogGroups.forEach((logGroup, index) => {
      new logs.MetricFilter(this, `BudgetExhausted${index}`, {
        logGroup,
        ...budget,
        filterPattern: logs.FilterPattern.stringValue('$.message', '=', 'budget exhausted'),
        metricValue: '1',
      });
    });
    new cloudwatch.Alarm(this, 'BudgetExhausted', {
      alarmDescription:
        'The budget across findings held an action back (nodes cordoned, hosts isolated or roles revoked in the last hour): a person decides whether to act by hand.',
      metric: new cloudwatch.Metric({
        namespace: budget.metricNamespace,
        metricName: budget.metricName,
        period: Duration.minutes(5),
        statistic: 'Sum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(notify);
  }
}
