/**
 * The ARNs each IAM scope of lambdas/permissions.ts stands for in a stack's account and region: the
 * responder's own stack, and a member account's MemberAccess stack, grant from the same declarations.
 */
import { ArnFormat, type Stack } from 'aws-cdk-lib';
import type { IamScope } from '../lambdas/permissions.js';

/**
 * The roles of the stack's account that no responder function may strip, deny or give policies to:
 * the CDK bootstrap roles (`cdk-<qualifier>-…`), the organization's access role, IAM Identity Center's
 * (`AWSReservedSSO_…`, under the `aws-reserved/` path), and the configured ones.
 */
export function untouchableRoleArns(stack: Stack, neverTouchRoles: readonly string[]): string[] {
  const role = (name: string) =>
    stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: name });
  return [
    'cdk-*',
    'OrganizationAccountAccessRole',
    'aws-reserved/*',
    'AWSReservedSSO_*',
    ...neverTouchRoles,
  ].map(role);
}

/**
 * The ARNs of a scope in the stack's account, in each of `regions` (the stack's own by default) for a
 * regional service: a responder that covers several regions acts in each.
 */
export function scopeArns(
  stack: Stack,
  scope: IamScope,
  clusters: readonly string[],
  regions: readonly (string | undefined)[] = [undefined],
): string[] {
  return [...new Set(regions.flatMap((region) => regionalArns(stack, scope, clusters, region)))];
}

function regionalArns(
  stack: Stack,
  scope: IamScope,
  clusters: readonly string[],
  region: string | undefined,
): string[] {
  const arn = (service: string, resource: string, resourceName: string, separator = '/') =>
    stack.formatArn({
      service,
      resource,
      resourceName,
      arnFormat: separator === ':' ? ArnFormat.COLON_RESOURCE_NAME : ArnFormat.SLASH_RESOURCE_NAME,
      region: service === 'iam' ? '' : region,
    });
  switch (scope) {
    case 'any':
      return ['*'];
    case 'clusters':
      return clusters.map((cluster) => arn('eks', 'cluster', cluster));
    case 'pod-identity-associations':
      return clusters.map((cluster) => arn('eks', 'podidentityassociation', `${cluster}/*`));
    case 'instance-profiles':
      return [arn('iam', 'instance-profile', '*')];
    case 'roles':
      return [arn('iam', 'role', '*')];
    case 'instances':
      return [arn('ec2', 'instance', '*')];
    case 'volumes':
      return [arn('ec2', 'volume', '*')];
    case 'snapshots':
      // Snapshot ARNs carry no account: arn:<partition>:ec2:<region>::snapshot/<id>
      return [
        stack.formatArn({ service: 'ec2', account: '', region, resource: 'snapshot', resourceName: '*' }),
      ];
    case 'auto-scaling-groups':
      return [arn('autoscaling', 'autoScalingGroup', '*:autoScalingGroupName/*', ':')];
    case 'detectors':
      return [arn('guardduty', 'detector', '*')];
    case 'network-interfaces':
      return [arn('ec2', 'network-interface', '*')];
    case 'security-groups':
      return [arn('ec2', 'security-group', '*')];
    case 'vpcs':
      return [arn('ec2', 'vpc', '*')];
    case 'target-groups':
      return [arn('elasticloadbalancing', 'targetgroup', '*')];
    case 'load-balancers':
      return [arn('elasticloadbalancing', 'loadbalancer', '*')];
    case 'run-shell-script':
      return [
        stack.formatArn({
          service: 'ssm',
          account: '',
          region,
          resource: 'document',
          resourceName: 'AWS-RunShellScript',
        }),
      ];
  }
}
