/**
 * Security Hub custom actions: "Contain" and "Dry run" on the Security Hub console's findings, and the
 * EventBridge rule that delivers an analyst's selection ("Security Hub Findings - Custom Action") to the
 * security-hub-intake function, which starts one response per GuardDuty finding through the state
 * machine (lambdas/handlers/security-hub-intake.ts). Any severity: the analyst chose.
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as securityhub from 'aws-cdk-lib/aws-securityhub';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { CUSTOM_ACTIONS } from '../lambdas/intake/security-hub.js';
import type { ResponseFunction } from './response-function.js';

export class SecurityHubActions extends Construct {
  readonly rule: events.Rule;

  constructor(
    scope: Construct,
    id: string,
    props: { intake: ResponseFunction; stateMachine: sfn.IStateMachine },
  ) {
    super(scope, id);
    const arns = Object.values(CUSTOM_ACTIONS).map((action) => {
      const target = new securityhub.CfnActionTarget(this, action.id, {
        id: action.id,
        name: action.name,
        description: action.dryRun
          ? 'guardduty-responder: plan the response, change nothing'
          : 'guardduty-responder: contain the selected GuardDuty findings',
      });
      return target.attrActionTargetArn;
    });
    this.rule = new events.Rule(this, 'CustomActions', {
      description: 'A Security Hub custom action of guardduty-responder on selected findings',
      eventPattern: {
        source: ['aws.securityhub'],
        detailType: ['Security Hub Findings - Custom Action'],
        resources: arns,
      },
      targets: [new targets.LambdaFunction(props.intake.function, { retryAttempts: 2 })],
    });
    props.stateMachine.grantStartExecution(props.intake.role);
    props.intake.function.addEnvironment('STATE_MACHINE_ARN', props.stateMachine.stateMachineArn);
  }
}
