/**
 * The response state machine. Each step's output lands in the state under the step's name; a step that
 * fails after its retries puts its error ({Error, Cause}) in the same place, so notify always runs and
 * reports what happened, and the execution then fails.
 */
import { type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';

/** Errors a task retries with backoff: Lambda service hiccups, and throttling or outages our code reports. */
export const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'TransientError',
];

export type ResponseWorkflowProps = {
  identify: lambda.IFunction;
  notify: lambda.IFunction;
  logRetentionDays: number;
};

export class ResponseWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: ResponseWorkflowProps) {
    super(scope, id);

    const step = (name: string, fn: lambda.IFunction, comment: string) =>
      new tasks.LambdaInvoke(this, name, {
        lambdaFunction: fn,
        comment,
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        resultPath: `$.${name.toLowerCase()}`,
        taskTimeout: sfn.Timeout.duration(Duration.minutes(2)),
      }).addRetry({
        errors: TRANSIENT_ERRORS,
        interval: Duration.seconds(1),
        backoffRate: 2,
        maxAttempts: 5,
        jitterStrategy: sfn.JitterType.FULL,
      });

    const notify = step('Notify', props.notify, 'Publish what was found, done and failed');
    const identify = step('Identify', props.identify, 'Plan the response and resolve its targets');
    identify.addCatch(notify, { errors: ['States.ALL'], resultPath: '$.identify' });

    const verdict = new sfn.Choice(this, 'AnyStepFailed')
      .when(
        sfn.Condition.isPresent('$.identify.Error'),
        new sfn.Fail(this, 'ResponseFailed', {
          error: 'ResponseFailed',
          cause: 'A response step failed; see the notification.',
        }),
      )
      .otherwise(new sfn.Succeed(this, 'ResponseComplete'));

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'guardduty-responder: identify, contain, notify',
      definitionBody: sfn.DefinitionBody.fromChainable(identify.next(notify).next(verdict)),
      timeout: Duration.minutes(30),
      tracingEnabled: true,
      logs: {
        destination: new logs.LogGroup(this, 'Logs', {
          retention: props.logRetentionDays as logs.RetentionDays,
        }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: true,
      },
    });
    for (const fn of [props.identify, props.notify]) {
      acknowledge(
        this.stateMachine,
        `IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
        'Step Functions invokes the function by ARN and by its version and alias qualifiers (ARN:*).',
      );
    }
    acknowledge(this.stateMachine, 'IAM5[Resource::*]', 'X-Ray tracing and log delivery take no resource.');
  }
}
