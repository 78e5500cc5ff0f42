/**
 * The simulated AWS account behind the replay simulation and the tests: EC2 instances (attributes,
 * instance-profile associations, volumes, snapshots), Auto Scaling membership and scale-in protection,
 * IAM roles with managed and inline policies, instance profiles, SNS, EKS clusters and Pod Identity
 * associations, the network side (account-network.ts): interfaces, security groups, instance tags,
 * Standby, target groups and Classic Load Balancers, and the record's KMS HMAC key (account-kms.ts). Each operation takes and returns the SDK's own input and output shapes, answers and
 * changes state as the API does, and fails with the API's error codes. Tests reach it through
 * aws-sdk-client-mock; the replay simulation serves it over HTTP (aws-api-server.ts), so the responder's
 * SDK clients only have a different endpoint.
 */
import { createHash, randomUUID } from 'node:crypto';
import type {
  DescribeAutoScalingInstancesCommandInput,
  SetInstanceProtectionCommandInput,
  TerminateInstanceInAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling';
import {
  type AssociateIamInstanceProfileCommandInput,
  type CreateSnapshotCommandInput,
  type DescribeIamInstanceProfileAssociationsCommandInput,
  type DescribeInstanceAttributeCommandInput,
  type DescribeInstancesCommandInput,
  type DescribeSnapshotsCommandInput,
  type DisassociateIamInstanceProfileCommandInput,
  EC2ServiceException,
  type ModifyInstanceAttributeCommandInput,
} from '@aws-sdk/client-ec2';
import {
  type DescribeClusterCommandInput,
  type DescribePodIdentityAssociationCommandInput,
  type ListPodIdentityAssociationsCommandInput,
  ResourceNotFoundException,
} from '@aws-sdk/client-eks';
import {
  type AttachRolePolicyCommandInput,
  type DeleteRolePolicyCommandInput,
  type DetachRolePolicyCommandInput,
  type GetInstanceProfileCommandInput,
  type GetRoleCommandInput,
  type GetRolePolicyCommandInput,
  type ListAttachedRolePoliciesCommandInput,
  type ListRolePoliciesCommandInput,
  NoSuchEntityException,
  type PutRolePolicyCommandInput,
} from '@aws-sdk/client-iam';
import { type BatchUpdateFindingsCommandInput, InvalidAccessException } from '@aws-sdk/client-securityhub';
import type { PublishCommandInput } from '@aws-sdk/client-sns';
import type { AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { type EvidenceState, evidenceOperations, type SsmAgent } from './account-evidence.js';
import { macOperations, newMacKey, type SimulatedMacKey } from './account-kms.js';
import {
  type NetworkState,
  networkOperations,
  networkState,
  type SimulatedInterface,
  validation,
} from './account-network.js';
import { TEST_CA_PEM } from './kube-api-server.js';

export const ACCOUNT = '111122223333';

export type SimulatedInstance = {
  instanceId: string;
  state?: string;
  privateDnsName?: string;
  tags?: Record<string, string>;
  instanceProfile?: string;
  autoScalingGroup?: string;
  scaleInProtected?: boolean;
  terminationProtection?: boolean;
  volumes?: { volumeId: string; deviceName: string; deleteOnTermination?: boolean }[];
  /** InService by default in an Auto Scaling group. */
  lifecycleState?: string;
  /** One interface in the simulated VPC with an application group by default. */
  networkInterfaces?: SimulatedInterface[];
  /** Whether it runs the SSM agent (not by default). */
  ssm?: SsmAgent;
};

/** A role: its managed and inline policies, and its trust policy (JSON; EC2's service by default). */
export type SimulatedRole = { attached?: string[]; inline?: Record<string, string>; trust?: string };

/** The trust policy of a role that says nothing else: EC2 instances may assume it. */
export const EC2_TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

/** A simulated cluster's OIDC issuer, as EKS names it (`https://oidc.eks.<region>.amazonaws.com/id/<id>`). */
export const oidcIssuerOf = (cluster: string, region: string): string =>
  `https://oidc.eks.${region}.amazonaws.com/id/${createHash('sha256').update(cluster).digest('hex').slice(0, 32).toUpperCase()}`;

/**
 * The trust policy EKS documents for an IRSA role: this cluster's OIDC provider, these ServiceAccounts
 * (`namespace/name`).
 */
export function irsaTrust(accountId: string, issuer: string, serviceAccounts: readonly string[]): string {
  const provider = issuer.replace(/^https:\/\//, '');
  const subjects = serviceAccounts.map((account) => `system:serviceaccount:${account.replace('/', ':')}`);
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${accountId}:oidc-provider/${provider}` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${provider}:sub`]: subjects.length === 1 ? subjects[0] : subjects,
            [`${provider}:aud`]: 'sts.amazonaws.com',
          },
        },
      },
    ],
  });
}

export type AccountDescription = {
  /** The account's id (ACCOUNT by default): its ARNs, its caller identity. */
  accountId?: string;
  /** The region its regional resources are in; calls signed for another region find nothing. */
  region?: string;
  /** A member account's MemberAccess role, which the responder's account may assume. */
  memberAccess?: SimulatedMemberAccess;
  instances?: SimulatedInstance[];
  /** instance profile name → role name */
  instanceProfiles?: Record<string, string>;
  roles?: Record<string, SimulatedRole>;
  /** cluster name → API server URL */
  clusters?: Record<string, string>;
  podIdentity?: { cluster: string; namespace: string; serviceAccount: string; roleName: string }[];
  /** Instance-profile associations and snapshots as a saved simulation left them; by default, each
   * instance's profile is associated and there are no snapshots. */
  associations?: SimulatedAssociation[];
  snapshots?: SimulatedSnapshot[];
  /** How long a new snapshot stays pending; SIMULATED_SNAPSHOT_SECONDS by default. */
  snapshotSeconds?: number;
  /** Evidence bucket objects and Run Commands as a saved simulation left them. */
  evidence?: EvidenceState;
  /** The KMS HMAC key that signs the incident record; a new one by default. */
  macKey?: SimulatedMacKey;
  /** Whether the account has Security Hub (it does by default). */
  securityHub?: boolean;
  /**
   * How GetRolePolicy returns a document: URL-encoded as IAM does (the default), or as the JSON it is,
   * as some AWS-compatible stores do.
   */
  policyDocuments?: 'url-encoded' | 'raw';
  /**
   * The findings the account's GuardDuty detectors hold, as GuardDuty's JSON (the event's `detail`):
   * GetFindings answers from them. The world of a finding holds that finding; none, to rehearse a
   * finding GuardDuty never made.
   */
  guardDuty?: { findings: unknown[] };
} & Partial<NetworkState>;

/**
 * The members GuardDuty's model types as timestamps below the finding itself (whose own createdAt and
 * updatedAt are strings): ProcessDetails, LineageObject, Signal, EksClusterDetails, EcsTaskDetails,
 * LambdaDetails, RuntimeContext, Session, S3 buckets and malware scans.
 */
const WIRE_TIMESTAMPS = new Set([
  'createdAt',
  'updatedAt',
  'startedAt',
  'startTime',
  'endTime',
  'modifiedAt',
  'lastModifiedAt',
  'createdTime',
  'firstSeenAt',
  'lastSeenAt',
  'launchedAt',
  'scanStartedAt',
  'scanCompletedAt',
]);

/** A finding as GetFindings puts it on the wire: the event's JSON with timestamp members as epoch seconds. */
function guardDutyWire(value: unknown, root = false): unknown {
  if (Array.isArray(value)) return value.map((item) => guardDutyWire(item));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => {
      const epoch = typeof field === 'string' && !root && WIRE_TIMESTAMPS.has(key) ? Date.parse(field) : NaN;
      return [key, Number.isNaN(epoch) ? guardDutyWire(field) : epoch / 1000];
    }),
  );
}

export type SimulatedAssociation = {
  AssociationId: string;
  InstanceId: string;
  IamInstanceProfile: { Arn: string };
  State: string;
};

export type SimulatedSnapshot = {
  SnapshotId: string;
  VolumeId: string;
  State: string;
  /** A pending snapshot completes at this time (ISO), as EBS completes one some time after it started. */
  CompletesAt?: string;
  Tags: { Key: string; Value: string }[];
};

/** How long a simulated snapshot stays pending. */
export const SIMULATED_SNAPSHOT_SECONDS = 10;

const progressed = (snapshot: SimulatedSnapshot): SimulatedSnapshot => {
  if (snapshot.State === 'pending' && snapshot.CompletesAt && Date.parse(snapshot.CompletesAt) <= Date.now())
    snapshot.State = 'completed';
  return snapshot;
};

export const roleArn = (name: string, accountId = ACCOUNT) => `arn:aws:iam::${accountId}:role/${name}`;
export const profileArn = (name: string, accountId = ACCOUNT) =>
  `arn:aws:iam::${accountId}:instance-profile/${name}`;

/** The MemberAccess role of a member account: who may assume it, and with which external id. */
export type SimulatedMemberAccess = { roleName: string; externalId: string; trustedAccount: string };

/** Temporary credentials name their account: `ASIA` and the 12 digits, then a random part. */
export const accountOfAccessKey = (accessKeyId: string): string | null =>
  /^ASIA(\d{12})/.exec(accessKeyId)?.[1] ?? null;

const ec2Error = (code: string, message: string) =>
  new EC2ServiceException({ name: code, $fault: 'client', message, $metadata: { httpStatusCode: 400 } });
const noSuchRole = (name: string) =>
  new NoSuchEntityException({
    message: `The role with name ${name} cannot be found.`,
    $metadata: { httpStatusCode: 404 },
  });

export type Operation = (input: never) => unknown;

/** A simulated account: its state, open to inspection, and its operations by API name. */
export function simulatedAccount(
  description: AccountDescription,
  /** Operations served beside the account's own (the simulation's Step Functions task tokens). */
  extra: Record<string, Operation> = {},
) {
  const account = description;
  const accountId = account.accountId ?? ACCOUNT;
  const instances = structuredClone(account.instances ?? []);
  const roles: Record<string, { attached: string[]; inline: Record<string, string> }> = Object.fromEntries(
    Object.entries(account.roles ?? {}).map(([name, role]) => [
      name,
      { attached: [...(role.attached ?? [])], inline: { ...(role.inline ?? {}) } },
    ]),
  );
  const associations: SimulatedAssociation[] = structuredClone(
    account.associations ??
      instances
        .filter((i) => i.instanceProfile)
        .map((i, index) => ({
          AssociationId: `iip-assoc-${index}`,
          InstanceId: i.instanceId,
          IamInstanceProfile: { Arn: profileArn(i.instanceProfile ?? '', accountId) },
          State: 'associated',
        })),
  );
  const snapshots: SimulatedSnapshot[] = structuredClone(account.snapshots ?? []);
  const findings: unknown[] = structuredClone(account.guardDuty?.findings ?? []);
  const network = networkState(instances, account);
  const evidence: EvidenceState = structuredClone(account.evidence ?? { objects: [], commands: [] });
  const macKey = account.macKey ?? newMacKey(accountId);
  /** The profile an instance runs with is its association's, as EC2 reports it. */
  const profileOf = (instanceId: string) =>
    associations.find((a) => a.InstanceId === instanceId)?.IamInstanceProfile.Arn;
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

  const podIdentity = (account.podIdentity ?? []).map((a, index) => ({ ...a, associationId: `a-${index}` }));
  /** Every BatchUpdateFindings Security Hub took, for tests. */
  const securityHubUpdates: BatchUpdateFindingsCommandInput[] = [];
  /** Every AssumeRole this account answered, for tests. */
  const assumed: { roleArn: string; sessionName: string; by: string | undefined }[] = [];
  const published: PublishCommandInput[] = [];

  const operations = {
    DescribeInstances: (input: DescribeInstancesCommandInput) => {
      for (const id of input.InstanceIds ?? []) instance(id); // an unknown id fails the whole call, as in EC2
      const filter = (name: string) => input.Filters?.find((f: { Name?: string }) => f.Name === name)?.Values;
      const ids = filter('instance-id');
      const profiles = filter('iam-instance-profile.arn');
      const states = filter('instance-state-name');
      const found = instances.filter(
        (i) =>
          (!input.InstanceIds?.length || input.InstanceIds.includes(i.instanceId)) &&
          (!ids || ids.includes(i.instanceId)) &&
          (!profiles || profiles.includes(profileOf(i.instanceId) ?? '')) &&
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
              IamInstanceProfile: profileOf(i.instanceId) ? { Arn: profileOf(i.instanceId) } : undefined,
              BlockDeviceMappings: (i.volumes ?? []).map((v) => ({
                DeviceName: v.deviceName,
                Ebs: { VolumeId: v.volumeId, DeleteOnTermination: v.deleteOnTermination ?? true },
              })),
            },
          ],
        })),
      };
    },
    DescribeInstanceAttribute: (input: DescribeInstanceAttributeCommandInput) => {
      if (input.Attribute !== 'disableApiTermination')
        throw new Error(`attribute ${input.Attribute} not faked`);
      return {
        InstanceId: input.InstanceId,
        DisableApiTermination: { Value: instance(input.InstanceId).terminationProtection === true },
      };
    },
    ModifyInstanceAttribute: (input: ModifyInstanceAttributeCommandInput) => {
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
    },
    DescribeIamInstanceProfileAssociations: (input: DescribeIamInstanceProfileAssociationsCommandInput) => {
      const ids = input.Filters?.find((f: { Name?: string }) => f.Name === 'instance-id')?.Values;
      return {
        IamInstanceProfileAssociations: associations.filter((a) => !ids || ids.includes(a.InstanceId)),
      };
    },
    DisassociateIamInstanceProfile: (input: DisassociateIamInstanceProfileCommandInput) => {
      const index = associations.findIndex((a) => a.AssociationId === input.AssociationId);
      if (index < 0)
        throw ec2Error(
          'InvalidAssociationID.NotFound',
          `The association ID '${input.AssociationId}' does not exist`,
        );
      const [removed] = associations.splice(index, 1);
      return { IamInstanceProfileAssociation: { ...removed, State: 'disassociating' } };
    },
    AssociateIamInstanceProfile: (input: AssociateIamInstanceProfileCommandInput) => {
      if (associations.some((a) => a.InstanceId === input.InstanceId)) {
        throw ec2Error('IncorrectState', `There is an existing association for instance ${input.InstanceId}`);
      }
      const association = {
        AssociationId: `iip-assoc-${randomUUID().slice(0, 8)}`,
        InstanceId: input.InstanceId ?? '',
        IamInstanceProfile: { Arn: input.IamInstanceProfile?.Arn ?? '' },
        State: 'associated',
      };
      associations.push(association);
      return { IamInstanceProfileAssociation: association };
    },
    DescribeSnapshots: (input: DescribeSnapshotsCommandInput) => {
      const filters = input.Filters ?? [];
      const matches = (snapshot: SimulatedSnapshot) =>
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
      return { Snapshots: snapshots.filter(matches).map(progressed) };
    },
    CreateSnapshot: (input: CreateSnapshotCommandInput) => {
      const exists = instances.some((i) => i.volumes?.some((v) => v.volumeId === input.VolumeId));
      if (!exists) throw ec2Error('InvalidVolume.NotFound', `The volume '${input.VolumeId}' does not exist.`);
      const tags = (input.TagSpecifications?.[0]?.Tags ?? []) as { Key: string; Value: string }[];
      const snapshot = {
        SnapshotId: `snap-${String(snapshots.length + 1).padStart(17, '0')}`,
        VolumeId: input.VolumeId ?? '',
        State: 'pending',
        CompletesAt: new Date(
          Date.now() + (account.snapshotSeconds ?? SIMULATED_SNAPSHOT_SECONDS) * 1000,
        ).toISOString(),
        Tags: tags,
      };
      snapshots.push(snapshot);
      return { ...snapshot };
    },
    DescribeAutoScalingInstances: (input: DescribeAutoScalingInstancesCommandInput) => ({
      AutoScalingInstances: instances
        .filter((i) => i.autoScalingGroup && input.InstanceIds?.includes(i.instanceId))
        .map((i) => ({
          InstanceId: i.instanceId,
          AutoScalingGroupName: i.autoScalingGroup,
          ProtectedFromScaleIn: i.scaleInProtected === true,
          LifecycleState: i.lifecycleState ?? 'InService',
        })),
    }),
    SetInstanceProtection: (input: SetInstanceProtectionCommandInput) => {
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
    },
    TerminateInstanceInAutoScalingGroup: (input: TerminateInstanceInAutoScalingGroupCommandInput) => {
      const target = instance(input.InstanceId);
      if (!target.autoScalingGroup || target.state === 'terminated')
        throw validation(`The instance ${input.InstanceId} is not part of any Auto Scaling group.`);
      if (target.lifecycleState === 'Standby')
        throw validation(`The instance ${input.InstanceId} is in Standby.`);
      if (target.terminationProtection)
        throw validation(
          `The instance ${input.InstanceId} may not be terminated: termination protection is on.`,
        );
      target.state = 'terminated';
      target.lifecycleState = 'Terminating';
      return { Activity: { ActivityId: `terminate-${target.instanceId}`, StatusCode: 'InProgress' } };
    },
    GetInstanceProfile: (input: GetInstanceProfileCommandInput) => {
      const roleName = account.instanceProfiles?.[input.InstanceProfileName ?? ''];
      if (!roleName)
        throw new NoSuchEntityException({ message: 'Instance Profile not found', $metadata: {} });
      return {
        InstanceProfile: {
          InstanceProfileName: input.InstanceProfileName,
          Arn: profileArn(input.InstanceProfileName ?? '', accountId),
          Roles: [{ RoleName: roleName, Arn: roleArn(roleName, accountId) }],
        },
      };
    },
    ListAttachedRolePolicies: (input: ListAttachedRolePoliciesCommandInput) => ({
      AttachedPolicies: role(input.RoleName).attached.map((arn) => ({
        PolicyArn: arn,
        PolicyName: arn.split('/').pop(),
      })),
      IsTruncated: false,
    }),
    ListRolePolicies: (input: ListRolePoliciesCommandInput) => ({
      PolicyNames: Object.keys(role(input.RoleName).inline),
      IsTruncated: false,
    }),
    GetRole: (input: GetRoleCommandInput) => {
      role(input.RoleName);
      const name = input.RoleName ?? '';
      return {
        Role: {
          RoleName: name,
          Arn: roleArn(name, accountId),
          AssumeRolePolicyDocument: encodeURIComponent(account.roles?.[name]?.trust ?? EC2_TRUST),
        },
      };
    },
    GetRolePolicy: (input: GetRolePolicyCommandInput) => {
      const document = role(input.RoleName).inline[input.PolicyName ?? ''];
      if (document === undefined)
        throw new NoSuchEntityException({ message: 'policy not found', $metadata: {} });
      return {
        RoleName: input.RoleName,
        PolicyName: input.PolicyName,
        PolicyDocument: account.policyDocuments === 'raw' ? document : encodeURIComponent(document),
      };
    },
    DetachRolePolicy: (input: DetachRolePolicyCommandInput) => {
      const target = role(input.RoleName);
      if (!target.attached.includes(input.PolicyArn ?? ''))
        throw new NoSuchEntityException({ message: 'not attached', $metadata: {} });
      target.attached = target.attached.filter((arn) => arn !== input.PolicyArn);
      return {};
    },
    DeleteRolePolicy: (input: DeleteRolePolicyCommandInput) => {
      const target = role(input.RoleName);
      if (!((input.PolicyName ?? '') in target.inline))
        throw new NoSuchEntityException({ message: 'no such policy', $metadata: {} });
      delete target.inline[input.PolicyName ?? ''];
      return {};
    },
    AttachRolePolicy: (input: AttachRolePolicyCommandInput) => {
      const target = role(input.RoleName);
      if (!target.attached.includes(input.PolicyArn ?? '')) target.attached.push(input.PolicyArn ?? '');
      return {};
    },
    PutRolePolicy: (input: PutRolePolicyCommandInput) => {
      role(input.RoleName).inline[input.PolicyName ?? ''] = input.PolicyDocument ?? '';
      return {};
    },
    DescribeCluster: (input: DescribeClusterCommandInput) => {
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
          identity: { oidc: { issuer: oidcIssuerOf(input.name ?? '', account.region ?? 'us-east-1') } },
          certificateAuthority: { data: Buffer.from(TEST_CA_PEM).toString('base64') },
        },
      };
    },
    ListPodIdentityAssociations: (input: ListPodIdentityAssociationsCommandInput) => ({
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
    }),
    DescribePodIdentityAssociation: (input: DescribePodIdentityAssociationCommandInput) => {
      const found = podIdentity.find((a) => a.associationId === input.associationId);
      return {
        association: {
          associationId: found?.associationId,
          roleArn: found ? roleArn(found.roleName, accountId) : undefined,
        },
      };
    },
    GetCallerIdentity: () => ({
      UserId: 'AIDASIMULATION',
      Account: accountId,
      Arn: `arn:aws:iam::${accountId}:user/simulation`,
    }),
    /**
     * STS answers for the account that owns the role: only its MemberAccess role, only to the account it
     * trusts (the API server passes the caller's account, from the request's signature), only with the
     * external id.
     */
    AssumeRole: (input: AssumeRoleCommandInput & { CallerAccount?: string }) => {
      const access = account.memberAccess;
      const denied = (why: string) =>
        Object.assign(
          new Error(
            `User: ${input.CallerAccount} is not authorized to perform: sts:AssumeRole on ${input.RoleArn}: ${why}`,
          ),
          { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } },
        );
      if (!access || input.RoleArn !== roleArn(access.roleName, accountId)) throw denied('no such role');
      if (input.CallerAccount !== access.trustedAccount) throw denied('the role does not trust the caller');
      if (input.ExternalId !== access.externalId) throw denied('the external id does not match');
      assumed.push({
        roleArn: input.RoleArn,
        sessionName: input.RoleSessionName ?? '',
        by: input.CallerAccount,
      });
      return {
        Credentials: {
          AccessKeyId: `ASIA${accountId}${randomUUID().replace(/-/g, '').slice(0, 8).toUpperCase()}`,
          SecretAccessKey: 'simulation',
          SessionToken: 'simulation',
          Expiration: new Date(Date.now() + 3600_000),
        },
        AssumedRoleUser: {
          Arn: `arn:aws:sts::${accountId}:assumed-role/${access.roleName}/${input.RoleSessionName}`,
          AssumedRoleId: `AROASIMULATION:${input.RoleSessionName}`,
        },
      };
    },
    /**
     * GuardDuty's REST-JSON names its members in camelCase, as the event does; its timestamp members
     * (a process's start, a signal's first sighting) are epoch seconds where the event has ISO strings.
     */
    GetFindings: (input: { detectorId?: string; findingIds?: string[] }) => ({
      findings: findings
        .filter((finding) => {
          const { id, arn } = finding as { id?: string; arn?: string };
          return (
            (input.findingIds ?? []).includes(id ?? '') &&
            (arn ?? '').includes(`:detector/${input.detectorId}/finding/`)
          );
        })
        .map((finding) => guardDutyWire(finding, true)),
    }),
    Publish: (input: PublishCommandInput) => {
      published.push(input);
      return { MessageId: `message-${published.length}` };
    },
    ...networkOperations(instances, network, instance),
    ...evidenceOperations(evidence, (id) => {
      const found = instances.find((i) => i.instanceId === id);
      return found ? (found.ssm ?? 'unmanaged') : null;
    }),
    ...macOperations(macKey),
    BatchUpdateFindings: (input: BatchUpdateFindingsCommandInput) => {
      if (account.securityHub === false)
        throw new InvalidAccessException({
          message: `Account ${accountId} is not subscribed to AWS Security Hub`,
          $metadata: { httpStatusCode: 401 },
        });
      securityHubUpdates.push(structuredClone(input));
      return { ProcessedFindings: input.FindingIdentifiers ?? [], UnprocessedFindings: [] };
    },
    ...extra,
  };

  /** Errors to throw on the next calls of an operation, before it does anything: throttling, outages. */
  const faults = new Map<string, Error[]>();
  return {
    accountId,
    region: account.region ?? null,
    state: {
      instances,
      roles,
      associations,
      snapshots,
      published,
      network,
      evidence,
      macKey,
      assumed,
      securityHubUpdates,
    },
    /** The account as it is now, as a description another simulation can start from. */
    describe: (): AccountDescription => ({
      ...structuredClone(account),
      instances: structuredClone(instances),
      roles: structuredClone(roles),
      associations: structuredClone(associations),
      snapshots: structuredClone(snapshots),
      ...structuredClone(network),
      evidence: structuredClone(evidence),
      guardDuty: { findings: structuredClone(findings) },
      macKey,
    }),
    operations: operations as Record<keyof typeof operations, Operation>,
    call(operation: string, input: unknown): unknown {
      const error = faults.get(operation)?.shift();
      if (error) throw error;
      const run = (operations as Record<string, Operation>)[operation];
      if (!run) throw new Error(`the simulated account does not answer ${operation}`);
      return run(input as never);
    },
    /**
     * GuardDuty holds this finding too (its JSON, the event's `detail`), as it would once it made it; a
     * finding with the same id is updated in place.
     */
    hold(finding: unknown) {
      const id = (finding as { id?: unknown }).id;
      const known = findings.findIndex((held) => (held as { id?: unknown }).id === id);
      if (known >= 0) findings.splice(known, 1);
      findings.push(structuredClone(finding));
    },
    /** The next `times` calls of `operation` (e.g. 'CreateSnapshot') throw `error`. */
    fail(operation: string, error: Error, times = 1) {
      faults.set(operation, [...(faults.get(operation) ?? []), ...Array<Error>(times).fill(error)]);
    },
  };
}

export type SimulatedAccount = ReturnType<typeof simulatedAccount>;
