/**
 * Finding intake: the EventBridge rule on GuardDuty findings in the configured severity range, starting
 * the response state machine, with retries and a dead-letter queue for events that could not start it.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { SeverityRange } from './config.js';
import { acknowledge } from './nag.js';

/** The event pattern's numeric matcher for the range: `[">=", atLeast, "<", below]`. */
export function severityMatcher(range: SeverityRange): { numeric: (string | number)[] } {
  return { numeric: range.below === null ? ['>=', range.atLeast] : ['>=', range.atLeast, '<', range.below] };
}

export class FindingIntake extends Construct {
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(
    scope: Construct,
    id: string,
    props: { severity: SeverityRange; stateMachine: sfn.IStateMachine },
  ) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      'SQS3',
      'This queue is itself the dead-letter queue of the finding rule.',
    );

    this.rule = new events.Rule(this, 'Rule', {
      description: 'GuardDuty findings that start the guardduty-responder state machine',
      eventPattern: {
        source: ['aws.guardduty'],
        detailType: ['GuardDuty Finding'],
        detail: { severity: [severityMatcher(props.severity)] },
      },
    });
    this.rule.addTarget(
      new targets.SfnStateMachine(props.stateMachine, {
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
      }),
    );
  }
}
