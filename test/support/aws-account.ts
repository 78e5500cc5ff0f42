/**
 * The simulated account (simulation/account.ts) behind aws-sdk-client-mock: every command the
 * responder sends is answered by the account's operation of the same name, so tests assert both the
 * commands sent (`ec2.commandCalls(...)`) and the account afterwards (`state`).
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
  SetInstanceProtectionCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  AssociateIamInstanceProfileCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  ModifyInstanceMetadataOptionsCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import {
  DescribeClusterCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  ListPodIdentityAssociationsCommand,
} from '@aws-sdk/client-eks';
import {
  DeregisterInstancesFromLoadBalancerCommand,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
  RegisterInstancesWithLoadBalancerCommand,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  AttachRolePolicyCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { BatchUpdateFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import {
  type AccountDescription,
  type SimulatedInstance,
  simulatedAccount,
} from '../../simulation/account.js';

export {
  ACCOUNT,
  profileArn,
  roleArn,
  type SimulatedInstance as FakeInstance,
} from '../../simulation/account.js';
export type FakeAccount = AccountDescription;

// biome-ignore lint/suspicious/noExplicitAny: each command class has its own input and output types
type AnyCommand = new (input: any) => any;

const COMMANDS: [string, AnyCommand[]][] = [
  [
    'ec2',
    [
      DescribeInstancesCommand,
      DescribeInstanceAttributeCommand,
      ModifyInstanceAttributeCommand,
      ModifyInstanceMetadataOptionsCommand,
      DescribeIamInstanceProfileAssociationsCommand,
      DisassociateIamInstanceProfileCommand,
      AssociateIamInstanceProfileCommand,
      DescribeSnapshotsCommand,
      CreateSnapshotCommand,
      DescribeNetworkInterfacesCommand,
      ModifyNetworkInterfaceAttributeCommand,
      DescribeSecurityGroupsCommand,
      CreateSecurityGroupCommand,
      DeleteSecurityGroupCommand,
      AuthorizeSecurityGroupIngressCommand,
      AuthorizeSecurityGroupEgressCommand,
      RevokeSecurityGroupIngressCommand,
      RevokeSecurityGroupEgressCommand,
      CreateTagsCommand,
      DeleteTagsCommand,
    ],
  ],
  [
    'autoScaling',
    [
      DescribeAutoScalingInstancesCommand,
      SetInstanceProtectionCommand,
      DescribeAutoScalingGroupsCommand,
      EnterStandbyCommand,
      ExitStandbyCommand,
    ],
  ],
  [
    'elbv2',
    [
      DescribeTargetGroupsCommand,
      DescribeTargetHealthCommand,
      DeregisterTargetsCommand,
      RegisterTargetsCommand,
    ],
  ],
  [
    's3',
    [
      PutObjectCommand,
      CopyObjectCommand,
      GetObjectCommand,
      HeadObjectCommand,
      ListObjectsV2Command,
      DeleteObjectCommand,
    ],
  ],
  ['ssm', [DescribeInstanceInformationCommand, SendCommandCommand, GetCommandInvocationCommand]],
  [
    'elb',
    [
      DescribeLoadBalancersCommand,
      DeregisterInstancesFromLoadBalancerCommand,
      RegisterInstancesWithLoadBalancerCommand,
    ],
  ],
  [
    'iam',
    [
      GetInstanceProfileCommand,
      GetRoleCommand,
      ListAttachedRolePoliciesCommand,
      ListRolePoliciesCommand,
      GetRolePolicyCommand,
      DetachRolePolicyCommand,
      DeleteRolePolicyCommand,
      AttachRolePolicyCommand,
      PutRolePolicyCommand,
    ],
  ],
  [
    'eks',
    [DescribeClusterCommand, ListPodIdentityAssociationsCommand, DescribePodIdentityAssociationCommand],
  ],
  ['securityHub', [BatchUpdateFindingsCommand]],
];

export function mockAccount(description: FakeAccount) {
  const account = simulatedAccount(description);
  const mocks = {
    ec2: mockClient(EC2Client),
    autoScaling: mockClient(AutoScalingClient),
    iam: mockClient(IAMClient),
    eks: mockClient(EKSClient),
    elbv2: mockClient(ElasticLoadBalancingV2Client),
    elb: mockClient(ElasticLoadBalancingClient),
    s3: mockClient(S3Client),
    ssm: mockClient(SSMClient),
    securityHub: mockClient(SecurityHubClient),
  };
  for (const [client, commands] of COMMANDS) {
    // biome-ignore lint/suspicious/noExplicitAny: the stub is typed per client; commands are wired generically
    const mock = mocks[client as keyof typeof mocks] as AwsStub<any, any, any>;
    for (const command of commands) {
      const operation = command.name.replace(/Command$/, '');
      mock.on(command).callsFake((input: unknown) => account.call(operation, input));
    }
  }
  return {
    ...mocks,
    state: account.state,
    fail: account.fail,
    /** The account's own answer to an operation, for a test that wraps one. */
    ec2Call: account.call,
    restore: () => {
      for (const mock of Object.values(mocks)) mock.restore();
    },
  };
}

/** An EKS node's instance as the fake account holds it: tagged for prod-eks, in eks-general, with a root volume. */
export const nodeInstance = (
  instanceId: string,
  privateDnsName: string,
  volume: string,
): SimulatedInstance => ({
  instanceId,
  privateDnsName,
  tags: { 'eks:cluster-name': 'prod-eks', 'aws:autoscaling:groupName': 'eks-general' },
  instanceProfile: 'eks-node-profile',
  autoScalingGroup: 'eks-general',
  volumes: [{ volumeId: volume, deviceName: '/dev/xvda' }],
});
