/**
 * MemberAccess: the small stack each member account of the organization deploys (one `cdk deploy` per
 * account, or the synthesized template through a CloudFormation StackSet). One role, which only the
 * responder's own function roles in the administrator account may assume, and only with the external id;
 * it holds what those functions declare in lambdas/permissions.ts (no wildcard action), in every region
 * the responder covers, and nothing else. Each of the member's clusters gets an access entry mapping the
 * role to every responder Kubernetes group, which k8s/rbac.yaml binds.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { MEMBER_REACHING, needsOf } from '../lambdas/permissions.js';
import { scopeArns, untouchableRoleArns } from './iam-scopes.js';
import { acknowledge, nagRendering } from './nag.js';

export type MemberAccessProps = StackProps & {
  /** The administrator account the responder runs in, and the names of its roles that act in members. */
  responderAccount: string;
  responderRoles: readonly string[];
  roleName: string;
  externalId: string;
  /** The member's clusters the responder may act on. */
  clusters: readonly string[];
  /** Every region the responder acts in: its own and the configured ones. */
  regions: readonly string[];
  /** Roles of the member no responder function may touch, besides the usual ones (iam-scopes.ts). */
  neverTouchRoles: readonly string[];
};

export class MemberAccessStack extends Stack {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: MemberAccessProps) {
    super(scope, id, {
      description: 'guardduty-responder: the role the responder assumes to act on findings in this account',
      ...props,
    });
    const trusted = props.responderRoles.map(
      (name) => new iam.ArnPrincipal(`arn:${this.partition}:iam::${props.responderAccount}:role/${name}`),
    );
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      description: 'Assumed by the guardduty-responder functions of the administrator account',
      assumedBy: new iam.CompositePrincipal(...trusted).withConditions({
        StringEquals: { 'sts:ExternalId': props.externalId },
      }),
    });

    const needs = MEMBER_REACHING.flatMap((name) => needsOf(name).iam);
    for (const need of needs) {
      const resources = scopeArns(this, need.scope, props.clusters, props.regions);
      if (resources.length === 0) continue;
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: [...need.actions], resources, conditions: need.conditions }),
      );
    }
    // The responder may strip any role in the account, and give policies back, but never this one's, nor
    // the roles no responder may touch.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: [
          'iam:DetachRolePolicy',
          'iam:DeleteRolePolicy',
          'iam:AttachRolePolicy',
          'iam:PutRolePolicy',
        ],
        resources: [this.role.roleArn, ...untouchableRoleArns(this, props.neverTouchRoles)],
      }),
    );

    const groups = [
      ...new Set(MEMBER_REACHING.flatMap((name) => needsOf(name).kubernetesGroup ?? [])),
    ].sort();
    for (const clusterName of props.clusters) {
      new eks.CfnAccessEntry(this, `AccessEntry-${clusterName}`, {
        clusterName,
        principalArn: this.role.roleArn,
        kubernetesGroups: groups,
        type: 'STANDARD',
      });
    }

    acknowledge(
      this.role,
      'IAM5[Resource::*]',
      needs
        .filter((need) => need.scope === 'any')
        .map((need) => `${need.actions.join(', ')}: ${need.why}`)
        .join('; '),
    );
    for (const need of needs.filter((n) => n.scope !== 'any' && n.scope !== 'clusters')) {
      for (const arn of scopeArns(this, need.scope, props.clusters, props.regions)) {
        acknowledge(
          this.role,
          `IAM5[Resource::${nagRendering(this.role, arn)}]`,
          `${need.actions.join(', ')}: ${need.why}; the ids are only known during an incident`,
        );
      }
    }
  }
}
