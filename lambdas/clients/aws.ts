/** The read side of the AWS APIs that identification uses, over the SDK clients. */

import { AutoScalingClient, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { DescribeInstancesCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';
import {
  DescribeClusterCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  ListPodIdentityAssociationsCommand,
} from '@aws-sdk/client-eks';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetFindingsCommand, GuardDutyClient } from '@aws-sdk/client-guardduty';
import {
  GetInstanceProfileCommand,
  GetRoleCommand,
  IAMClient,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { type ClientOverrides, clientConfig } from './config.js';
import { namedCalls } from './named-calls.js';
import { policyDocumentOf } from './policy-document.js';

export type AwsClients = {
  ec2: EC2Client;
  autoScaling: AutoScalingClient;
  iam: IAMClient;
  eks: EKSClient;
  /** Application, Network and Gateway Load Balancers' target groups. */
  elbv2: ElasticLoadBalancingV2Client;
  /** Classic Load Balancers. */
  elb: ElasticLoadBalancingClient;
  /** The finding as GuardDuty holds it (lambdas/identify/source.ts). */
  guardDuty: GuardDutyClient;
  /** What the credentials did: CloudTrail's event history (lambdas/evidence/credentials.ts). */
  cloudTrail: CloudTrailClient;
};

export type { ClientOverrides } from './config.js';

/**
 * SDK clients from the environment's region and credential chain, made once per Lambda container. The
 * adaptive retry mode backs off on throttling, which an incident touching many resources can cause.
 */
export function awsClients(overrides: ClientOverrides = {}): AwsClients {
  const config = clientConfig(overrides);
  return {
    ec2: namedCalls(new EC2Client(config)),
    autoScaling: namedCalls(new AutoScalingClient(config)),
    iam: namedCalls(new IAMClient(config)),
    eks: namedCalls(new EKSClient(config)),
    elbv2: namedCalls(new ElasticLoadBalancingV2Client(config)),
    elb: namedCalls(new ElasticLoadBalancingClient(config)),
    guardDuty: namedCalls(new GuardDutyClient(config)),
    cloudTrail: namedCalls(new CloudTrailClient(config)),
  };
}

export type AttachedVolume = { volumeId: string; deviceName: string | null; deleteOnTermination: boolean };

/**
 * The instance metadata door as EC2 describes it: whether IMDSv1 (a plain GET) is still answered, and how
 * many network hops a token may travel (above 1, a container not on the host network reaches it).
 */
export type MetadataDoor = { endpoint: 'enabled' | 'disabled'; imdsv1: boolean; hopLimit: number | null };

export type InstanceDescription = {
  instanceId: string;
  state: string;
  privateDnsName: string | null;
  tags: { key: string; value: string }[];
  instanceProfileArn: string | null;
  volumes: AttachedVolume[];
  /** Null when EC2 did not describe it. */
  metadata: MetadataDoor | null;
};

export type RoleRef = { name: string; arn: string };
export type PodIdentityAssociation = { namespace: string; serviceAccount: string; role: RoleRef };

function describe(instance: Instance): InstanceDescription {
  return {
    instanceId: instance.InstanceId ?? '',
    state: instance.State?.Name ?? 'unknown',
    privateDnsName: instance.PrivateDnsName || null,
    tags: (instance.Tags ?? []).map((tag) => ({ key: tag.Key ?? '', value: tag.Value ?? '' })),
    instanceProfileArn: instance.IamInstanceProfile?.Arn ?? null,
    metadata: instance.MetadataOptions
      ? {
          endpoint: instance.MetadataOptions.HttpEndpoint === 'disabled' ? 'disabled' : 'enabled',
          imdsv1: instance.MetadataOptions.HttpTokens !== 'required',
          hopLimit: instance.MetadataOptions.HttpPutResponseHopLimit ?? null,
        }
      : null,
    volumes: (instance.BlockDeviceMappings ?? []).flatMap((mapping) => {
      const volumeId = mapping.Ebs?.VolumeId;
      if (!volumeId) return [];
      const deleteOnTermination = mapping.Ebs?.DeleteOnTermination === true;
      return [{ volumeId, deviceName: mapping.DeviceName ?? null, deleteOnTermination }];
    }),
  };
}

/** An ARN's resource name: the part after the last `/` (instance profiles and roles may have a path). */
export const nameFromArn = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

const AUTO_SCALING_BATCH = 50;

/** Members whose JSON name is not their SDK name with a lower-case first letter (GuardDuty's model). */
const JSON_NAMES: Record<string, string> = {
  KubernetesResourcesTypes: 'type',
  SourceIps: 'sourceIPs',
  TaskCreatedAt: 'createdAt',
  Code: 'productCodeId',
  ProductType: 'productCodeType',
};

/**
 * An SDK output as the service's JSON spells it (camelCase, timestamps as ISO strings): GuardDuty's
 * finding in the shape EventBridge delivers it, so that one schema parses both.
 */
export function asServiceJson(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(asServiceJson);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [
      JSON_NAMES[key] ?? `${key[0]?.toLowerCase() ?? ''}${key.slice(1)}`,
      asServiceJson(field),
    ]),
  );
}

export class AwsReader {
  constructor(private readonly clients: AwsClients) {}

  /**
   * Instances by id. A filter (not `InstanceIds`) so that an id that no longer exists is simply absent
   * from the answer instead of failing the whole call with InvalidInstanceID.NotFound.
   */
  async describeInstances(instanceIds: readonly string[]): Promise<InstanceDescription[]> {
    if (instanceIds.length === 0) return [];
    const found: InstanceDescription[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.clients.ec2.send(
        new DescribeInstancesCommand({
          Filters: [{ Name: 'instance-id', Values: [...instanceIds] }],
          NextToken,
        }),
      );
      for (const reservation of page.Reservations ?? [])
        found.push(...(reservation.Instances ?? []).map(describe));
      NextToken = page.NextToken;
    } while (NextToken);
    return found;
  }

  /** Instances, other than these, that run with the same instance profile (and so the same role). */
  async otherInstancesWithProfile(
    instanceProfileArn: string,
    excluding: readonly string[],
  ): Promise<string[]> {
    const ids: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.clients.ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'iam-instance-profile.arn', Values: [instanceProfileArn] },
            { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
          ],
          NextToken,
        }),
      );
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          if (instance.InstanceId && !excluding.includes(instance.InstanceId)) ids.push(instance.InstanceId);
        }
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return ids;
  }

  /** The Auto Scaling group of each instance that is in one. */
  async autoScalingGroups(instanceIds: readonly string[]): Promise<Map<string, string>> {
    const groups = new Map<string, string>();
    for (let start = 0; start < instanceIds.length; start += AUTO_SCALING_BATCH) {
      const batch = instanceIds.slice(start, start + AUTO_SCALING_BATCH);
      const answer = await this.clients.autoScaling.send(
        new DescribeAutoScalingInstancesCommand({ InstanceIds: batch, MaxRecords: AUTO_SCALING_BATCH }),
      );
      for (const entry of answer.AutoScalingInstances ?? []) {
        if (entry.InstanceId && entry.AutoScalingGroupName)
          groups.set(entry.InstanceId, entry.AutoScalingGroupName);
      }
    }
    return groups;
  }

  /** The role in an instance profile, or null when the profile no longer exists or holds no role. */
  async instanceProfileRole(instanceProfileArn: string): Promise<RoleRef | null> {
    try {
      const { InstanceProfile } = await this.clients.iam.send(
        new GetInstanceProfileCommand({ InstanceProfileName: nameFromArn(instanceProfileArn) }),
      );
      const role = InstanceProfile?.Roles?.[0];
      return role?.RoleName && role.Arn ? { name: role.RoleName, arn: role.Arn } : null;
    } catch (error) {
      if (error instanceof NoSuchEntityException) return null;
      throw error;
    }
  }

  /** A cluster's OIDC issuer URL (`https://oidc.eks.<region>.amazonaws.com/id/…`); null when it has none. */
  async oidcIssuer(clusterName: string): Promise<string | null> {
    const { cluster } = await this.clients.eks.send(new DescribeClusterCommand({ name: clusterName }));
    return cluster?.identity?.oidc?.issuer ?? null;
  }

  /** A role's trust policy (JSON), or null when the role does not exist. */
  async roleTrustPolicy(roleName: string): Promise<string | null> {
    try {
      const { Role } = await this.clients.iam.send(new GetRoleCommand({ RoleName: roleName }));
      return Role?.AssumeRolePolicyDocument ? policyDocumentOf(Role.AssumeRolePolicyDocument) : null;
    } catch (error) {
      if (error instanceof NoSuchEntityException) return null;
      throw error;
    }
  }

  /** A finding as the detector holds it, in the event's JSON shape; null when it holds no such finding. */
  async heldFinding(detectorId: string, findingId: string): Promise<unknown | null> {
    const { Findings } = await this.clients.guardDuty.send(
      new GetFindingsCommand({ DetectorId: detectorId, FindingIds: [findingId] }),
    );
    const held = Findings?.find((finding) => finding.Id === findingId);
    return held ? asServiceJson(held) : null;
  }

  /** The EKS Pod Identity associations of a cluster, with their roles. */
  async podIdentityAssociations(clusterName: string): Promise<PodIdentityAssociation[]> {
    const found: PodIdentityAssociation[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.clients.eks.send(
        new ListPodIdentityAssociationsCommand({ clusterName, nextToken }),
      );
      for (const summary of page.associations ?? []) {
        if (!summary.associationId) continue;
        const { association } = await this.clients.eks.send(
          new DescribePodIdentityAssociationCommand({ clusterName, associationId: summary.associationId }),
        );
        if (!association?.roleArn) continue;
        found.push({
          namespace: summary.namespace ?? '',
          serviceAccount: summary.serviceAccount ?? '',
          role: { name: nameFromArn(association.roleArn), arn: association.roleArn },
        });
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return found;
  }
}
