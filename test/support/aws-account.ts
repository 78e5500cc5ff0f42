/**
 * A small, stateful AWS account behind aws-sdk-client-mock: EC2 instances (attributes, instance-profile
 * associations, volumes, snapshots), Auto Scaling membership and scale-in protection, IAM roles with
 * managed and inline policies, instance profiles, EKS clusters and Pod Identity associations. Each
 * command answers and changes state as the API does, so tests can assert both the calls made and the
 * account afterwards.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  SetInstanceProtectionCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  AssociateIamInstanceProfileCommand,
  CreateSnapshotCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
  EC2ServiceException,
  ModifyInstanceAttributeCommand,
} from '@aws-sdk/client-ec2';
import {
  DescribeClusterCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  ListPodIdentityAssociationsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-eks';
import {
  AttachRolePolicyCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
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
  scaleInProtected?: boolean;
  terminationProtection?: boolean;
  volumes?: { volumeId: string; deviceName: string; deleteOnTermination?: boolean }[];
};

export type FakeRole = { attached?: string[]; inline?: Record<string, string> };

export type FakeAccount = {
  instances?: FakeInstance[];
  /** instance profile name → role name */
  instanceProfiles?: Record<string, string>;
  roles?: Record<string, FakeRole>;
  /** cluster name → API server URL */
  clusters?: Record<string, string>;
  podIdentity?: { cluster: string; namespace: string; serviceAccount: string; roleName: string }[];
};

export type FakeSnapshot = {
  SnapshotId: string;
  VolumeId: string;
  State: string;
  Tags: { Key: string; Value: string }[];
};

export const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
export const profileArn = (name: string) => `arn:aws:iam::${ACCOUNT}:instance-profile/${name}`;

const ec2Error = (code: string, message: string) =>
  new EC2ServiceException({ name: code, $fault: 'client', message, $metadata: { httpStatusCode: 400 } });
const noSuchRole = (name: string) =>
  new NoSuchEntityException({
    message: `The role with name ${name} cannot be found.`,
    $metadata: { httpStatusCode: 404 },
  });

export function mockAccount(account: FakeAccount) {
  const ec2 = mockClient(EC2Client);
  const autoScaling = mockClient(AutoScalingClient);
  const iam = mockClient(IAMClient);
  const eks = mockClient(EKSClient);
  const instances = structuredClone(account.instances ?? []);
  const roles: Record<string, { attached: string[]; inline: Record<string, string> }> = Object.fromEntries(
    Object.entries(account.roles ?? {}).map(([name, role]) => [
      name,
      { attached: [...(role.attached ?? [])], inline: { ...(role.inline ?? {}) } },
    ]),
  );
  const associations = instances
    .filter((i) => i.instanceProfile)
    .map((i, index) => ({
      AssociationId: `iip-assoc-${index}`,
      InstanceId: i.instanceId,
      IamInstanceProfile: { Arn: profileArn(i.instanceProfile ?? '') },
      State: 'associated',
    }));
  const snapshots: FakeSnapshot[] = [];
  /** Errors to throw on the next calls of a command, before it does anything: throttling, outages. */
  const faults = new Map<string, Error[]>();
  const faulty =
    <I, O>(command: string, answer: (input: I) => O) =>
    (input: I): O => {
      const error = faults.get(command)?.shift();
      if (error) throw error;
      return answer(input);
    };
  const instance = (id: string | undefined) => {
    const found = instances.find((i) => i.instanceId === id);
    if (!found) throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    return found;
  };
  const role = (name: string | undefined) => {
    const found = roles[name ?? ''];
    if (!found) throw noSuchRole(name ?? '');
    return found;
  };

  // ---------------------------------------------------------------- EC2
  ec2.on(DescribeInstancesCommand).callsFake(
    faulty('DescribeInstances', (input) => {
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
    }),
  );
  ec2.on(DescribeInstanceAttributeCommand).callsFake(
    faulty('DescribeInstanceAttribute', (input) => {
      if (input.Attribute !== 'disableApiTermination')
        throw new Error(`attribute ${input.Attribute} not faked`);
      return {
        InstanceId: input.InstanceId,
        DisableApiTermination: { Value: instance(input.InstanceId).terminationProtection === true },
      };
    }),
  );
  ec2.on(ModifyInstanceAttributeCommand).callsFake(
    faulty('ModifyInstanceAttribute', (input) => {
      const target = instance(input.InstanceId);
      if (input.DisableApiTermination)
        target.terminationProtection = input.DisableApiTermination.Value === true;
      for (const mapping of input.BlockDeviceMappings ?? []) {
        const volume = target.volumes?.find((v) => v.deviceName === mapping.DeviceName);
        if (!volume)
          throw ec2Error(
            'InvalidInstanceAttributeValue',
            `No device is currently mapped at ${mapping.DeviceName}`,
          );
        if (mapping.Ebs?.DeleteOnTermination !== undefined)
          volume.deleteOnTermination = mapping.Ebs.DeleteOnTermination;
      }
      return {};
    }),
  );
  ec2.on(DescribeIamInstanceProfileAssociationsCommand).callsFake(
    faulty('DescribeIamInstanceProfileAssociations', (input) => {
      const ids = input.Filters?.find((f: { Name?: string }) => f.Name === 'instance-id')?.Values;
      return {
        IamInstanceProfileAssociations: associations.filter((a) => !ids || ids.includes(a.InstanceId)),
      };
    }),
  );
  ec2.on(DisassociateIamInstanceProfileCommand).callsFake(
    faulty('DisassociateIamInstanceProfile', (input) => {
      const index = associations.findIndex((a) => a.AssociationId === input.AssociationId);
      if (index < 0)
        throw ec2Error(
          'InvalidAssociationID.NotFound',
          `The association ID '${input.AssociationId}' does not exist`,
        );
      const [removed] = associations.splice(index, 1);
      return { IamInstanceProfileAssociation: { ...removed, State: 'disassociating' } };
    }),
  );
  ec2.on(AssociateIamInstanceProfileCommand).callsFake(
    faulty('AssociateIamInstanceProfile', (input) => {
      if (associations.some((a) => a.InstanceId === input.InstanceId)) {
        throw ec2Error('IncorrectState', `There is an existing association for instance ${input.InstanceId}`);
      }
      const association = {
        AssociationId: `iip-assoc-${associations.length + 100}`,
        InstanceId: input.InstanceId ?? '',
        IamInstanceProfile: { Arn: input.IamInstanceProfile?.Arn ?? '' },
        State: 'associated',
      };
      associations.push(association);
      return { IamInstanceProfileAssociation: association };
    }),
  );
  ec2.on(DescribeSnapshotsCommand).callsFake(
    faulty('DescribeSnapshots', (input) => {
      const filters = input.Filters ?? [];
      const matches = (snapshot: FakeSnapshot) =>
        (!input.SnapshotIds || input.SnapshotIds.includes(snapshot.SnapshotId)) &&
        filters.every((f: { Name?: string; Values?: string[] }) => {
          if (f.Name === 'volume-id') return f.Values?.includes(snapshot.VolumeId);
          if (f.Name?.startsWith('tag:')) {
            const key = f.Name.slice(4);
            return snapshot.Tags.some((t) => t.Key === key && f.Values?.includes(t.Value));
          }
          throw new Error(`filter ${f.Name} not faked`);
        });
      if (input.SnapshotIds?.some((id: string) => !snapshots.some((s) => s.SnapshotId === id))) {
        throw ec2Error('InvalidSnapshot.NotFound', `The snapshot '${input.SnapshotIds}' does not exist.`);
      }
      return { Snapshots: snapshots.filter(matches) };
    }),
  );
  ec2.on(CreateSnapshotCommand).callsFake(
    faulty('CreateSnapshot', (input) => {
      const exists = instances.some((i) => i.volumes?.some((v) => v.volumeId === input.VolumeId));
      if (!exists) throw ec2Error('InvalidVolume.NotFound', `The volume '${input.VolumeId}' does not exist.`);
      const tags = (input.TagSpecifications?.[0]?.Tags ?? []) as { Key: string; Value: string }[];
      const snapshot = {
        SnapshotId: `snap-${String(snapshots.length + 1).padStart(17, '0')}`,
        VolumeId: input.VolumeId ?? '',
        State: 'pending',
        Tags: tags,
      };
      snapshots.push(snapshot);
      return { ...snapshot };
    }),
  );

  // ---------------------------------------------------------------- Auto Scaling
  autoScaling.on(DescribeAutoScalingInstancesCommand).callsFake(
    faulty('DescribeAutoScalingInstances', (input) => ({
      AutoScalingInstances: instances
        .filter((i) => i.autoScalingGroup && input.InstanceIds?.includes(i.instanceId))
        .map((i) => ({
          InstanceId: i.instanceId,
          AutoScalingGroupName: i.autoScalingGroup,
          ProtectedFromScaleIn: i.scaleInProtected === true,
        })),
    })),
  );
  autoScaling.on(SetInstanceProtectionCommand).callsFake(
    faulty('SetInstanceProtection', (input) => {
      for (const id of input.InstanceIds ?? []) {
        const target = instance(id);
        if (target.autoScalingGroup !== input.AutoScalingGroupName) {
          throw new Error(
            `The instance ${id} is not part of Auto Scaling group ${input.AutoScalingGroupName}.`,
          );
        }
        target.scaleInProtected = input.ProtectedFromScaleIn === true;
      }
      return {};
    }),
  );

  // ---------------------------------------------------------------- IAM
  iam.on(GetInstanceProfileCommand).callsFake(
    faulty('GetInstanceProfile', (input) => {
      const roleName = account.instanceProfiles?.[input.InstanceProfileName ?? ''];
      if (!roleName)
        throw new NoSuchEntityException({ message: 'Instance Profile not found', $metadata: {} });
      return {
        InstanceProfile: {
          InstanceProfileName: input.InstanceProfileName,
          Arn: profileArn(input.InstanceProfileName ?? ''),
          Roles: [{ RoleName: roleName, Arn: roleArn(roleName) }],
        },
      };
    }),
  );
  iam.on(ListAttachedRolePoliciesCommand).callsFake(
    faulty('ListAttachedRolePolicies', (input) => ({
      AttachedPolicies: role(input.RoleName).attached.map((arn) => ({
        PolicyArn: arn,
        PolicyName: arn.split('/').pop(),
      })),
      IsTruncated: false,
    })),
  );
  iam.on(ListRolePoliciesCommand).callsFake(
    faulty('ListRolePolicies', (input) => ({
      PolicyNames: Object.keys(role(input.RoleName).inline),
      IsTruncated: false,
    })),
  );
  iam.on(GetRolePolicyCommand).callsFake(
    faulty('GetRolePolicy', (input) => {
      const document = role(input.RoleName).inline[input.PolicyName ?? ''];
      if (document === undefined)
        throw new NoSuchEntityException({ message: 'policy not found', $metadata: {} });
      return {
        RoleName: input.RoleName,
        PolicyName: input.PolicyName,
        PolicyDocument: encodeURIComponent(document),
      };
    }),
  );
  iam.on(DetachRolePolicyCommand).callsFake(
    faulty('DetachRolePolicy', (input) => {
      const target = role(input.RoleName);
      if (!target.attached.includes(input.PolicyArn ?? ''))
        throw new NoSuchEntityException({ message: 'not attached', $metadata: {} });
      target.attached = target.attached.filter((arn) => arn !== input.PolicyArn);
      return {};
    }),
  );
  iam.on(DeleteRolePolicyCommand).callsFake(
    faulty('DeleteRolePolicy', (input) => {
      const target = role(input.RoleName);
      if (!((input.PolicyName ?? '') in target.inline))
        throw new NoSuchEntityException({ message: 'no such policy', $metadata: {} });
      delete target.inline[input.PolicyName ?? ''];
      return {};
    }),
  );
  iam.on(AttachRolePolicyCommand).callsFake(
    faulty('AttachRolePolicy', (input) => {
      const target = role(input.RoleName);
      if (!target.attached.includes(input.PolicyArn ?? '')) target.attached.push(input.PolicyArn ?? '');
      return {};
    }),
  );
  iam.on(PutRolePolicyCommand).callsFake(
    faulty('PutRolePolicy', (input) => {
      role(input.RoleName).inline[input.PolicyName ?? ''] = input.PolicyDocument ?? '';
      return {};
    }),
  );

  // ---------------------------------------------------------------- EKS
  eks.on(DescribeClusterCommand).callsFake(
    faulty('DescribeCluster', (input) => {
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
    }),
  );
  const podIdentity = (account.podIdentity ?? []).map((a, index) => ({ ...a, associationId: `a-${index}` }));
  eks.on(ListPodIdentityAssociationsCommand).callsFake(
    faulty('ListPodIdentityAssociations', (input) => ({
      associations: podIdentity
        .filter(
          (a) =>
            a.cluster === input.clusterName &&
            (!input.namespace || a.namespace === input.namespace) &&
            (!input.serviceAccount || a.serviceAccount === input.serviceAccount),
        )
        .map((a) => ({
          associationId: a.associationId,
          clusterName: a.cluster,
          namespace: a.namespace,
          serviceAccount: a.serviceAccount,
        })),
    })),
  );
  eks.on(DescribePodIdentityAssociationCommand).callsFake(
    faulty('DescribePodIdentityAssociation', (input) => {
      const found = podIdentity.find((a) => a.associationId === input.associationId);
      return {
        association: {
          associationId: found?.associationId,
          roleArn: found ? roleArn(found.roleName) : undefined,
        },
      };
    }),
  );

  const mocks = { ec2, autoScaling, iam, eks };
  return {
    ...mocks,
    state: { instances, roles, associations, snapshots },
    /** The next `times` calls of `command` (e.g. 'CreateSnapshot') throw `error`. */
    fail: (command: string, error: Error, times = 1) => {
      faults.set(command, [...(faults.get(command) ?? []), ...Array<Error>(times).fill(error)]);
    },
    restore: () => {
      for (const mock of Object.values(mocks)) mock.restore();
    },
  };
}
