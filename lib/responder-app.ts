/**
 * Everything one configuration deploys, in a CDK app: the responder's stack in its region; an intake
 * stack in each other configured region, which the responder's stack depends on, so that one
 * `cdk deploy <stackName>` deploys them too; and, for each member account, its MemberAccess stack, which
 * is deployed in that account (`cdk deploy <stackName>MemberAccess-<account>` with its credentials, or
 * its template through a StackSet) after the responder's, whose roles it trusts by name.
 */
import type { App, Environment } from 'aws-cdk-lib';
import type { ResponderConfig } from './config.js';
import { RegionalIntakeStack } from './finding-intake.js';
import { MemberAccessStack } from './member-access-stack.js';
import { ResponderStack, responderRoleName } from './responder-stack.js';

export type ResponderApp = {
  responder: ResponderStack;
  intakes: RegionalIntakeStack[];
  members: MemberAccessStack[];
};

export function addResponder(app: App, config: ResponderConfig, env: Environment = {}): ResponderApp {
  const account = config.account ?? env.account;
  const region = config.region ?? env.region;
  const responder = new ResponderStack(app, config.stackName, { config, env: { account, region } });
  const intakes = config.regions.map((other) => {
    const intake = new RegionalIntakeStack(app, `${config.stackName}Intake-${other}`, {
      env: { account, region: other },
      severity: config.severity,
      responderRegion: region ?? '',
    });
    responder.addDependency(intake, 'the intake stacks are deployed with the responder');
    return intake;
  });
  const members = config.members.map(
    (member) =>
      new MemberAccessStack(app, `${config.stackName}MemberAccess-${member.accountId}`, {
        env: { account: member.accountId, region },
        responderAccount: account ?? '',
        responderRoleOf: (fn) => responderRoleName(config.stackName, fn),
        roleName: config.memberRoleName,
        externalId: config.externalId ?? '',
        clusters: member.clusters,
        regions: [region ?? '', ...config.regions],
        neverTouchRoles: config.neverTouchRoles,
      }),
  );
  return { responder, intakes, members };
}
