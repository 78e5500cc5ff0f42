/**
 * The RecoveryWatch state machine: a recovery's deleted pods stay, terminating, until their kubelets
 * confirm. Recover starts it with the pods it deleted and the bound; it waits 10 s, has the
 * recovery-watch function check them (lambdas/recover/watch.ts), and again until they are gone, held, or
 * the bound passed, when the function publishes what it found. No Lambda waits. A check that keeps
 * failing ends the watch with a notice that says so and why.
 */
import { type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';
import type { ResponseFunction } from './response-function.js';
import { transitionsOnly } from './response-workflow.js';

/** Between two checks. */
export const WATCH_PAUSE_SECONDS = 10;

export class RecoveryWatch extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(
    scope: Construct,
    id: string,
    props: {
      check: ResponseFunction;
      starter: ResponseFunction;
      logRetentionDays: number;
      logsKey: kms.IKey;
      /** Where a watch that could not finish says so, and the topic's key. */
      topic: sns.ITopic;
      topicKey: kms.IKey;
    },
  ) {
    super(scope, id);
    const wait = new sfn.Wait(this, 'Pause', {
      comment: 'The kubelets have the pods’ grace period to stop them',
      time: sfn.WaitTime.duration(Duration.seconds(WATCH_PAUSE_SECONDS)),
    });
    const check = new tasks.LambdaInvoke(this, 'CheckPods', {
      comment: 'Gone, terminating, or held past the grace period; a notice once done',
      lambdaFunction: props.check.function,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    check.addRetry({ errors: ['States.ALL'], maxAttempts: 3, interval: Duration.seconds(5), backoffRate: 2 });
    // A check that still fails after its retries (the cluster unreachable): the notice says the watch
    // stopped and why, and the execution fails.
    const stopped = new tasks.SnsPublish(this, 'SayWatchStopped', {
      topic: props.topic,
      subject: '[guardduty-responder] recovery watch stopped',
      message: sfn.TaskInput.fromJsonPathAt(
        "States.Format('The recovery watch of finding {} stopped before the deleted pods were gone: {}: {}. Check them by hand: kubectl get pods.', $.findingId, $.error.Error, $.error.Cause)",
      ),
      resultPath: sfn.JsonPath.DISCARD,
    }).next(new sfn.Fail(this, 'WatchStopped', { error: 'RecoveryWatchStopped' }));
    check.addCatch(stopped, { errors: ['States.ALL'], resultPath: '$.error' });
    const done = new sfn.Choice(this, 'Done')
      .when(sfn.Condition.booleanEquals('$.done', true), new sfn.Succeed(this, 'Watched'))
      .otherwise(wait);
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 'guardduty-responder: a recovery’s deleted pods, until their kubelets confirm',
      definitionBody: sfn.DefinitionBody.fromChainable(wait.next(check).next(done)),
      timeout: Duration.hours(3),
      tracingEnabled: true,
      logs: transitionsOnly(this, props.logRetentionDays, props.logsKey),
    });
    acknowledge(
      this.stateMachine,
      `IAM5[Resource::<${Stack.of(this).getLogicalId(props.check.function.node.defaultChild as CfnElement)}.Arn>:*]`,
      'Step Functions invokes the function by ARN and by its version and alias qualifiers (ARN:*).',
    );
    acknowledge(this.stateMachine, 'IAM5[Resource::*]', 'X-Ray tracing and log delivery take no resource.');
    props.topicKey.grant(this.stateMachine, 'kms:GenerateDataKey*', 'kms:Decrypt');
    acknowledge(
      this.stateMachine,
      'IAM5[Action::kms:GenerateDataKey*]',
      'Publishing to a KMS-encrypted topic needs the GenerateDataKey family, on this topic key only.',
    );
    this.stateMachine.grantStartExecution(props.starter.role);
    props.starter.function.addEnvironment('WATCH_STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
  }
}
