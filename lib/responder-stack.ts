/** One stack: finding intake → response workflow → notifications, with the functions and cluster access. */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ResponderConfig } from '../bin/config.js';
import type { ResponderSettings } from '../lambdas/core/settings.js';
import { NEEDS } from '../lambdas/permissions.js';
import { ClusterAccess } from './cluster-access.js';
import { FindingIntake } from './finding-intake.js';
import { Notifications } from './notifications.js';
import { ResponseFunction } from './response-function.js';
import { ResponseWorkflow } from './response-workflow.js';

export type ResponderStackProps = StackProps & { config: ResponderConfig };

export class ResponderStack extends Stack {
  constructor(scope: Construct, id: string, props: ResponderStackProps) {
    super(scope, id, {
      description: 'guardduty-responder: automated response to GuardDuty findings',
      ...props,
    });
    const { config } = props;
    const settings: ResponderSettings = {
      severity: config.severity,
      clusters: config.clusters,
      enabledActions: config.enabledActions,
      actOnSampleFindings: config.actOnSampleFindings,
      playbook: config.playbook,
    };
    const common = { clusters: config.clusters, vpc: config.vpc, logRetentionDays: config.logRetentionDays };

    const identify = new ResponseFunction(this, 'Identify', {
      ...common,
      name: 'identify',
      description: 'Plans the response to a GuardDuty finding and identifies what it touches',
      environment: { RESPONDER_SETTINGS: JSON.stringify(settings), RESPONDER_ACCOUNT: this.account },
    });
    new ClusterAccess(this, 'IdentifyClusterAccess', {
      clusters: config.clusters,
      role: identify.role,
      kubernetesGroup: NEEDS.identify.kubernetesGroup,
    });

    const notifications = new Notifications(this, 'Notifications', { email: config.notificationEmail });
    const notify = new ResponseFunction(this, 'Notify', {
      ...common,
      name: 'notify',
      description: 'Publishes what the response found, did and failed to do',
    });
    notifications.bindPublisher(notify);

    const workflow = new ResponseWorkflow(this, 'Workflow', {
      identify: identify.function,
      notify: notify.function,
      logRetentionDays: config.logRetentionDays,
    });
    const intake = new FindingIntake(this, 'Intake', {
      severity: config.severity,
      stateMachine: workflow.stateMachine,
    });

    new CfnOutput(this, 'StateMachineArn', { value: workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'TopicArn', { value: notifications.topic.topicArn });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: intake.deadLetterQueue.queueUrl });
  }
}
