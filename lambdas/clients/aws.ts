/** The read side of the AWS APIs that identification uses, over the SDK clients. */
import { AutoScalingClient, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';
import {
  DescribePodIdentityAssociationCommand,
  EKSClient,
  ListPodIdentityAssociationsCommand,
} from '@aws-sdk/client-eks';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetInstanceProfileCommand, IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import { type ClientOverrides, clientConfig } from './config.js';
import { namedCalls } from './named-calls.js';

export type AwsClients = {
  ec2: EC2Client;
  autoScaling: AutoScalingClient;
  iam: IAMClient;
  eks: EKSClient;
  /** Application, Network and Gateway Load Balancers' target groups. */
  elbv2: ElasticLoadBalancingV2Client;
  /** Classic Load Balancers. */
  elb: ElasticLoadBalancingClient;
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
  };
}

export type AttachedVolume = { volumeId: string; deviceName: string | null; deleteOnTermination: boolean };

export type InstanceDescription = {
  instanceId: string;
  state: string;
  privateDnsName: string | null;
  tags: { key: string; value: string }[];
  instanceProfileArn: string | null;
  volumes: AttachedVolume[];
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
