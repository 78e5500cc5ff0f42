/**
 * Finding intake: the EventBridge rule on GuardDuty findings in the configured severity range, starting
 * the response state machine, with retries and a dead-letter queue for events that could not start it.
 * In another region covered by the responder the same rule forwards the findings to the default event bus
 * of the responder's region instead (RegionalIntakeStack): the severity range is applied where the finding
 * is born, and the responder's own rule takes the forwarded findings in.
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
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
    props: { severity: SeverityRange } & (
      | { stateMachine: sfn.IStateMachine; forwardTo?: never }
      | { forwardTo: events.IEventBus; stateMachine?: never }
    ),
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
      description: props.stateMachine
        ? 'GuardDuty findings that start the guardduty-responder state machine'
        : "GuardDuty findings forwarded to the guardduty-responder's region",
      eventPattern: {
        source: ['aws.guardduty'],
        detailType: ['GuardDuty Finding'],
        detail: { severity: [severityMatcher(props.severity)] },
      },
    });
    this.rule.addTarget(
      props.stateMachine
        ? new targets.SfnStateMachine(props.stateMachine, {
            deadLetterQueue: this.deadLetterQueue,
            retryAttempts: 185,
            maxEventAge: Duration.hours(24),
          })
        : new targets.EventBus(props.forwardTo, { deadLetterQueue: this.deadLetterQueue }),
    );
  }
}

/** The intake of one more region: findings born there, in the severity range, go to the responder's region. */
export class RegionalIntakeStack extends Stack {
  readonly intake: FindingIntake;

  constructor(
    scope: Construct,
    id: string,
    props: StackProps & { severity: SeverityRange; responderRegion: string },
  ) {
    super(scope, id, {
      description: "guardduty-responder: forwards this region's GuardDuty findings to the responder",
      ...props,
    });
    const bus = events.EventBus.fromEventBusArn(
      this,
      'ResponderBus',
      this.formatArn({
        service: 'events',
        region: props.responderRegion,
        resource: 'event-bus',
        resourceName: 'default',
      }),
    );
    this.intake = new FindingIntake(this, 'Intake', { severity: props.severity, forwardTo: bus });
  }
}
