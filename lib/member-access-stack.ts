/**
 * MemberAccess: the small stack each member account of the organization deploys (one `cdk deploy` per
 * account, or the synthesized template through a CloudFormation StackSet). One role per responder function
 * that acts in members (`<memberRoleName>-<function>`), which only that function's role in the
 * administrator account may assume, and only with the external id; each holds what its function declares
 * (lambdas/permissions.ts and the actions' specs; no wildcard action), in every region the responder
 * covers, and nothing else. In each of the member's clusters, an access entry maps each role to its own
 * function's Kubernetes group alone, which k8s/rbac.yaml binds.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { memberRoleNameOf } from '../lambdas/clients/reach.js';
import { type FunctionName, MEMBER_REACHING, needsOf } from '../lambdas/permissions.js';
import { scopeArns, untouchableRoleArns } from './iam-scopes.js';
import { acknowledge, nagRendering } from './nag.js';

export type MemberAccessProps = StackProps & {
  /** The administrator account the responder runs in, and the name of each of its roles that act in members. */
  responderAccount: string;
  responderRoleOf: (fn: FunctionName) => string;
  /** The base of the member roles' names: `<roleName>-<function>`. */
  roleName: string;
  externalId: string;
  /** The member's clusters the responder may act on. */
  clusters: readonly string[];
  /** Every region the responder acts in: its own and the configured ones. */
  regions: readonly string[];
  /** Roles of the member no responder function may touch, besides the usual ones (iam-scopes.ts). */
  neverTouchRoles: readonly string[];
};

const pascal = (name: string) =>
  name
    .split('-')
    .map((word) => (word[0] ?? '').toUpperCase() + word.slice(1))
    .join('');

export class MemberAccessStack extends Stack {
  /** Each function's role in the member account. */
  readonly roles: ReadonlyMap<FunctionName, iam.Role>;

  constructor(scope: Construct, id: string, props: MemberAccessProps) {
    super(scope, id, {
      description: 'guardduty-responder: the roles the responder assumes to act on findings in this account',
      ...props,
    });
    const roles = new Map<FunctionName, iam.Role>();
    for (const fn of MEMBER_REACHING) {
      roles.set(
        fn,
        new iam.Role(this, `Role${pascal(fn)}`, {
          roleName: memberRoleNameOf(props.roleName, fn),
          description: `Assumed by the guardduty-responder ${fn} function of the administrator account`,
          assumedBy: new iam.ArnPrincipal(
            `arn:${this.partition}:iam::${props.responderAccount}:role/${props.responderRoleOf(fn)}`,
          ).withConditions({ StringEquals: { 'sts:ExternalId': props.externalId } }),
        }),
      );
    }
    this.roles = roles;
    // The responder may strip any role in the account, and give policies back, but never one of these,
    // nor the roles no responder may touch.
    const untouchable = [
      ...[...roles.values()].map((role) => role.roleArn),
      ...untouchableRoleArns(this, props.neverTouchRoles),
    ];
    for (const [fn, role] of roles) this.grant(role, fn, props, untouchable);
  }

  /** One function's part: its declared IAM, the deny, and its own Kubernetes group in each cluster. */
  private grant(role: iam.Role, fn: FunctionName, props: MemberAccessProps, untouchable: string[]): void {
    const needs = needsOf(fn).iam;
    for (const need of needs) {
      const resources = scopeArns(this, need.scope, props.clusters, props.regions);
      if (resources.length === 0) continue;
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: [...need.actions], resources, conditions: need.conditions }),
      );
    }
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: [
          'iam:DetachRolePolicy',
          'iam:DeleteRolePolicy',
          'iam:AttachRolePolicy',
          'iam:PutRolePolicy',
        ],
        resources: untouchable,
      }),
    );
    const group = needsOf(fn).kubernetesGroup;
    if (group) {
      for (const clusterName of props.clusters) {
        new eks.CfnAccessEntry(this, `AccessEntry-${clusterName}-${fn}`, {
          clusterName,
          principalArn: role.roleArn,
          kubernetesGroups: [group],
          type: 'STANDARD',
        });
      }
    }
    const any = needs.filter((need) => need.scope === 'any');
    if (any.length > 0)
      acknowledge(
        role,
        'IAM5[Resource::*]',
        any.map((need) => `${need.actions.join(', ')}: ${need.why}`).join('; '),
      );
    for (const need of needs.filter((n) => n.scope !== 'any' && n.scope !== 'clusters')) {
      for (const arn of scopeArns(this, need.scope, props.clusters, props.regions)) {
        acknowledge(
          role,
          `IAM5[Resource::${nagRendering(role, arn)}]`,
          `${need.actions.join(', ')}: ${need.why}; the ids are only known during an incident`,
        );
      }
    }
  }
}
