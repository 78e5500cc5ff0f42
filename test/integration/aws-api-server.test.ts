/**
 * The simulated account over HTTP, driven by the real SDK clients with only their endpoint changed:
 * requests decode into the SDK's input shapes, responses and errors decode into its output shapes and
 * exception classes.
 */
import {
  AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  SetInstanceProtectionCommand,
} from '@aws-sdk/client-auto-scaling';
import {
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
  EKSClient,
  ListPodIdentityAssociationsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-eks';
import {
  DetachRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedAccount } from '../../simulation/account.js';
import { AwsApiServer } from '../../simulation/aws-api-server.js';

const account = simulatedAccount({
  instances: [
    {
      instanceId: 'i-0aaa00000000000a1',
      privateDnsName: 'ip-10-0-1-10.ec2.internal',
      tags: { 'eks:cluster-name': 'prod-eks' },
      instanceProfile: 'node-profile',
      autoScalingGroup: 'eks-general',
      volumes: [{ volumeId: 'vol-1', deviceName: '/dev/xvda' }],
    },
  ],
  instanceProfiles: { 'node-profile': 'node-role' },
  roles: {
    'node-role': {
      attached: ['arn:aws:iam::aws:policy/A'],
      inline: { extra: '{"Version":"2012-10-17","Statement":[]}' },
    },
  },
  clusters: { 'prod-eks': 'https://127.0.0.1:6443' },
  podIdentity: [{ cluster: 'prod-eks', namespace: 'shop', serviceAccount: 'web', roleName: 'web-role' }],
});
const server = new AwsApiServer(account);
let config: {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
};

beforeAll(async () => {
  config = {
    endpoint: await server.start(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' },
  };
});
afterAll(() => server.stop());

describe('simulated AWS API over HTTP', () => {
  it('answers EC2 in its query protocol', async () => {
    const ec2 = new EC2Client(config);
    const described = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: ['i-0aaa00000000000a1'] }] }),
    );
    expect(described.Reservations?.[0]?.Instances?.[0]).toMatchObject({
      InstanceId: 'i-0aaa00000000000a1',
      State: { Name: 'running' },
      PrivateDnsName: 'ip-10-0-1-10.ec2.internal',
      IamInstanceProfile: { Arn: 'arn:aws:iam::111122223333:instance-profile/node-profile' },
      BlockDeviceMappings: [
        { DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-1', DeleteOnTermination: true } },
      ],
      Tags: [{ Key: 'eks:cluster-name', Value: 'prod-eks' }],
    });

    await ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: 'i-0aaa00000000000a1',
        DisableApiTermination: { Value: true },
      }),
    );
    await ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: 'i-0aaa00000000000a1',
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-1', DeleteOnTermination: false } },
        ],
      }),
    );
    const attribute = await ec2.send(
      new DescribeInstanceAttributeCommand({
        InstanceId: 'i-0aaa00000000000a1',
        Attribute: 'disableApiTermination',
      }),
    );
    expect(attribute.DisableApiTermination?.Value).toBe(true);
    expect(account.state.instances[0]?.volumes?.[0]?.deleteOnTermination).toBe(false);

    const created = await ec2.send(
      new CreateSnapshotCommand({
        VolumeId: 'vol-1',
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'finding', Value: 'f1' }] }],
      }),
    );
    const found = await ec2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [
          { Name: 'volume-id', Values: ['vol-1'] },
          { Name: 'tag:finding', Values: ['f1'] },
        ],
      }),
    );
    expect(found.Snapshots?.map((s) => [s.SnapshotId, s.State, s.Tags])).toEqual([
      [created.SnapshotId, 'pending', [{ Key: 'finding', Value: 'f1' }]],
    ]);

    const associations = await ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({
        Filters: [{ Name: 'instance-id', Values: ['i-0aaa00000000000a1'] }],
      }),
    );
    const id = associations.IamInstanceProfileAssociations?.[0]?.AssociationId;
    await ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: id }));
    expect(account.state.associations).toEqual([]);

    const missing = await ec2
      .send(new DisassociateIamInstanceProfileCommand({ AssociationId: 'nope' }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(EC2ServiceException);
    expect((missing as Error).name).toBe('InvalidAssociationID.NotFound');
  });

  it('answers Auto Scaling, IAM and SNS in the AWS query protocol', async () => {
    const autoScaling = new AutoScalingClient(config);
    await autoScaling.send(
      new SetInstanceProtectionCommand({
        AutoScalingGroupName: 'eks-general',
        InstanceIds: ['i-0aaa00000000000a1'],
        ProtectedFromScaleIn: true,
      }),
    );
    const described = await autoScaling.send(
      new DescribeAutoScalingInstancesCommand({ InstanceIds: ['i-0aaa00000000000a1'] }),
    );
    expect(described.AutoScalingInstances).toEqual([
      expect.objectContaining({
        InstanceId: 'i-0aaa00000000000a1',
        AutoScalingGroupName: 'eks-general',
        ProtectedFromScaleIn: true,
      }),
    ]);

    const iam = new IAMClient(config);
    const profile = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'node-profile' }));
    expect(profile.InstanceProfile?.Roles?.map((r) => r.RoleName)).toEqual(['node-role']);
    expect(
      (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'node-role' }))).AttachedPolicies,
    ).toEqual([{ PolicyName: 'A', PolicyArn: 'arn:aws:iam::aws:policy/A' }]);
    expect((await iam.send(new ListRolePoliciesCommand({ RoleName: 'node-role' }))).PolicyNames).toEqual([
      'extra',
    ]);
    const inline = await iam.send(new GetRolePolicyCommand({ RoleName: 'node-role', PolicyName: 'extra' }));
    expect(decodeURIComponent(inline.PolicyDocument ?? '')).toBe('{"Version":"2012-10-17","Statement":[]}');
    await iam.send(
      new DetachRolePolicyCommand({ RoleName: 'node-role', PolicyArn: 'arn:aws:iam::aws:policy/A' }),
    );
    expect(account.state.roles['node-role']?.attached).toEqual([]);
    const missing = await iam
      .send(new ListRolePoliciesCommand({ RoleName: 'nobody' }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NoSuchEntityException);

    const sns = new SNSClient(config);
    const published = await sns.send(
      new PublishCommand({
        TopicArn: 'arn:aws:sns:us-east-1:111122223333:t',
        Subject: 'subject',
        Message: 'line 1\nline 2 <&>',
        MessageAttributes: { severity: { DataType: 'Number', StringValue: '8' } },
      }),
    );
    expect(published.MessageId).toBe('message-1');
    expect(account.state.published[0]).toEqual({
      TopicArn: 'arn:aws:sns:us-east-1:111122223333:t',
      Subject: 'subject',
      Message: 'line 1\nline 2 <&>',
      MessageAttributes: { severity: { DataType: 'Number', StringValue: '8' } },
    });
  });

  it('answers EKS in REST-JSON', async () => {
    const eks = new EKSClient(config);
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'prod-eks' }));
    expect(cluster?.endpoint).toBe('https://127.0.0.1:6443');
    expect(cluster?.certificateAuthority?.data).toBeTruthy();
    const listed = await eks.send(
      new ListPodIdentityAssociationsCommand({
        clusterName: 'prod-eks',
        namespace: 'shop',
        serviceAccount: 'web',
      }),
    );
    expect(listed.associations?.map((a) => a.serviceAccount)).toEqual(['web']);
    const missing = await eks.send(new DescribeClusterCommand({ name: 'other' })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(server.requests.filter((r) => r.service === 'eks').map((r) => [r.operation, r.status])).toEqual([
      ['DescribeCluster', 200],
      ['ListPodIdentityAssociations', 200],
      ['DescribeCluster', 404],
    ]);
  });
});
