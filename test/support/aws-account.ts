/**
 * A small AWS account behind aws-sdk-client-mock: the EC2 instances, Auto Scaling groups, instance
 * profiles, EKS clusters and Pod Identity associations a test describes, answered as the APIs answer.
 */
import { AutoScalingClient, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeClusterCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  ListPodIdentityAssociationsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-eks';
import { GetInstanceProfileCommand, IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { TEST_CA_PEM } from './kube-api-server.js';

export const ACCOUNT = '111122223333';

export type FakeInstance = {
  instanceId: string;
  state?: string;
  privateDnsName?: string;
  tags?: Record<string, string>;
  instanceProfile?: string;
  autoScalingGroup?: string;
  volumes?: { volumeId: string; deviceName: string; deleteOnTermination?: boolean }[];
};

export type FakeAccount = {
  instances?: FakeInstance[];
  /** instance profile name → role name */
  instanceProfiles?: Record<string, string>;
  /** cluster name → API server URL */
  clusters?: Record<string, string>;
  podIdentity?: { cluster: string; namespace: string; serviceAccount: string; roleName: string }[];
};

export const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
export const profileArn = (name: string) => `arn:aws:iam::${ACCOUNT}:instance-profile/${name}`;

export function mockAccount(account: FakeAccount) {
  const ec2 = mockClient(EC2Client);
  const autoScaling = mockClient(AutoScalingClient);
  const iam = mockClient(IAMClient);
  const eks = mockClient(EKSClient);
  const instances = account.instances ?? [];

  ec2.on(DescribeInstancesCommand).callsFake((input) => {
    if (input.InstanceIds?.length)
      throw new Error('the responder must describe instances by filter, not by id');
    const filter = (name: string) => input.Filters?.find((f: { Name?: string }) => f.Name === name)?.Values;
    const ids = filter('instance-id');
    const profiles = filter('iam-instance-profile.arn');
    const states = filter('instance-state-name');
    const found = instances.filter(
      (i) =>
        (!ids || ids.includes(i.instanceId)) &&
        (!profiles ||
          (i.instanceProfile !== undefined && profiles.includes(profileArn(i.instanceProfile)))) &&
        (!states || states.includes(i.state ?? 'running')),
    );
    return {
      Reservations: found.map((i) => ({
        Instances: [
          {
            InstanceId: i.instanceId,
            State: { Name: i.state ?? 'running' },
            PrivateDnsName: i.privateDnsName,
            Tags: Object.entries(i.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
            IamInstanceProfile: i.instanceProfile ? { Arn: profileArn(i.instanceProfile) } : undefined,
            BlockDeviceMappings: (i.volumes ?? []).map((v) => ({
              DeviceName: v.deviceName,
              Ebs: { VolumeId: v.volumeId, DeleteOnTermination: v.deleteOnTermination ?? true },
            })),
          },
        ],
      })),
    };
  });

  autoScaling.on(DescribeAutoScalingInstancesCommand).callsFake((input) => ({
    AutoScalingInstances: instances
      .filter((i) => i.autoScalingGroup && input.InstanceIds?.includes(i.instanceId))
      .map((i) => ({ InstanceId: i.instanceId, AutoScalingGroupName: i.autoScalingGroup })),
  }));

  iam.on(GetInstanceProfileCommand).callsFake((input) => {
    const role = account.instanceProfiles?.[input.InstanceProfileName ?? ''];
    if (!role) throw new NoSuchEntityException({ message: 'Instance Profile not found', $metadata: {} });
    return {
      InstanceProfile: {
        InstanceProfileName: input.InstanceProfileName,
        Arn: profileArn(input.InstanceProfileName ?? ''),
        Roles: [{ RoleName: role, Arn: roleArn(role) }],
      },
    };
  });

  eks.on(DescribeClusterCommand).callsFake((input) => {
    const endpoint = account.clusters?.[input.name ?? ''];
    if (!endpoint)
      throw new ResourceNotFoundException({
        message: `No cluster found for name: ${input.name}.`,
        $metadata: {},
      });
    return {
      cluster: {
        name: input.name,
        endpoint,
        status: 'ACTIVE',
        certificateAuthority: { data: Buffer.from(TEST_CA_PEM).toString('base64') },
      },
    };
  });
  const associations = (account.podIdentity ?? []).map((a, index) => ({ ...a, associationId: `a-${index}` }));
  eks.on(ListPodIdentityAssociationsCommand).callsFake((input) => ({
    associations: associations
      .filter(
        (a) =>
          a.cluster === input.clusterName &&
          a.namespace === input.namespace &&
          a.serviceAccount === input.serviceAccount,
      )
      .map((a) => ({
        associationId: a.associationId,
        clusterName: a.cluster,
        namespace: a.namespace,
        serviceAccount: a.serviceAccount,
      })),
  }));
  eks.on(DescribePodIdentityAssociationCommand).callsFake((input) => {
    const found = associations.find((a) => a.associationId === input.associationId);
    return {
      association: {
        associationId: found?.associationId,
        roleArn: found ? roleArn(found.roleName) : undefined,
      },
    };
  });

  return { ec2, autoScaling, iam, eks };
}
