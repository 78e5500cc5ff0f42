/**
 * The state of one simulated account, as every simulated service reads and changes it: EC2 instances
 * (attributes, instance-profile associations, volumes, snapshots), Auto Scaling membership, IAM roles
 * and instance profiles, EKS clusters and Pod Identity associations, the network (interfaces, security
 * groups, Standby, target groups, Classic Load Balancers), the evidence bucket and Run Commands, the
 * record's KMS HMAC key, GuardDuty's findings, and what SNS, STS and Security Hub were asked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EC2ServiceException, type IpPermission } from '@aws-sdk/client-ec2';
import { NoSuchEntityException } from '@aws-sdk/client-iam';
import type { BatchUpdateFindingsCommandInput } from '@aws-sdk/client-securityhub';
import type { PublishCommandInput } from '@aws-sdk/client-sns';

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
  /** Its instance metadata options: IMDSv1 allowed with a hop limit of 2 by default, as many nodes run. */
  metadataOptions?: {
    httpTokens: 'optional' | 'required';
    hopLimit: number;
    httpEndpoint: 'enabled' | 'disabled';
  };
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
  /** The calls CloudTrail's event history holds (aws/cloudtrail.ts). */
  cloudTrail?: SimulatedTrailEvent[];
} & Partial<NetworkState>;

/** One recorded call, as the simulation keeps it. */
export type SimulatedTrailEvent = {
  eventName: string;
  eventSource: string;
  eventTime: string;
  accessKeyId: string;
  userName: string;
  sourceIPAddress: string;
  errorCode?: string;
  resources?: string[];
};

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

export const roleArn = (name: string, accountId = ACCOUNT) => `arn:aws:iam::${accountId}:role/${name}`;
export const profileArn = (name: string, accountId = ACCOUNT) =>
  `arn:aws:iam::${accountId}:instance-profile/${name}`;

/** The MemberAccess role of a member account: who may assume it, and with which external id. */
export type SimulatedMemberAccess = { roleName: string; externalId: string; trustedAccount: string };

/** Temporary credentials name their account: `ASIA` and the 12 digits, then a random part. */
export const accountOfAccessKey = (accessKeyId: string): string | null =>
  /^ASIA(\d{12})/.exec(accessKeyId)?.[1] ?? null;

export const ec2Error = (code: string, message: string) =>
  new EC2ServiceException({ name: code, $fault: 'client', message, $metadata: { httpStatusCode: 400 } });
const noSuchRole = (name: string) =>
  new NoSuchEntityException({
    message: `The role with name ${name} cannot be found.`,
    $metadata: { httpStatusCode: 404 },
  });

// ---------------------------------------------------------------- network

export type SimulatedInterface = { networkInterfaceId: string; vpcId: string; groups: string[] };

export type SimulatedSecurityGroup = {
  GroupId: string;
  GroupName: string;
  VpcId: string;
  Description: string;
  Tags: { Key: string; Value: string }[];
  IpPermissions: IpPermission[];
  IpPermissionsEgress: IpPermission[];
};

export type SimulatedTargetGroup = { arn: string; targets: { id: string; port: number }[] };
export type SimulatedClassicLoadBalancer = { name: string; instances: string[] };

/** What the network operations need of an instance. */
export type NetworkedInstance = {
  instanceId: string;
  tags?: Record<string, string>;
  autoScalingGroup?: string;
  lifecycleState?: string;
  networkInterfaces?: SimulatedInterface[];
};

export type NetworkState = {
  securityGroups: SimulatedSecurityGroup[];
  autoScalingGroups: Record<string, { desiredCapacity: number }>;
  targetGroups: SimulatedTargetGroup[];
  classicLoadBalancers: SimulatedClassicLoadBalancer[];
};

export const SIMULATED_VPC = 'vpc-0a1b2c3d4e5f60718';
export const APP_GROUP = 'sg-0a1b2c3d4e5f60718';

export const validation = (message: string) =>
  Object.assign(new Error(message), { name: 'ValidationError', $metadata: { httpStatusCode: 400 } });

/** An application's usual group: HTTPS in from the VPC, everything out (EC2's default outbound rule). */
export const appGroup = (groupId: string, vpcId: string): SimulatedSecurityGroup => ({
  GroupId: groupId,
  GroupName: `app-${groupId.slice(-6)}`,
  VpcId: vpcId,
  Description: 'application servers',
  Tags: [],
  IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
  IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
});

/** The network state for these instances: every instance gets an interface, every group it names exists. */
export function networkState(instances: NetworkedInstance[], given: Partial<NetworkState>): NetworkState {
  const securityGroups = structuredClone(given.securityGroups ?? []);
  for (const instance of instances) {
    instance.networkInterfaces ??= [
      {
        networkInterfaceId: `eni-${instance.instanceId.slice(2)}`,
        vpcId: SIMULATED_VPC,
        groups: [APP_GROUP],
      },
    ];
    if (instance.autoScalingGroup) instance.lifecycleState ??= 'InService';
    for (const eni of instance.networkInterfaces) {
      for (const id of eni.groups)
        if (!securityGroups.some((g) => g.GroupId === id)) securityGroups.push(appGroup(id, eni.vpcId));
    }
  }
  const autoScalingGroups = structuredClone(given.autoScalingGroups ?? {});
  for (const instance of instances) {
    const group = instance.autoScalingGroup;
    if (group && !autoScalingGroups[group])
      autoScalingGroups[group] = {
        desiredCapacity: instances.filter((i) => i.autoScalingGroup === group).length,
      };
  }
  return {
    securityGroups,
    autoScalingGroups,
    targetGroups: structuredClone(given.targetGroups ?? []),
    classicLoadBalancers: structuredClone(given.classicLoadBalancers ?? []),
  };
}

// ---------------------------------------------------------------- evidence

export type SimulatedObject = {
  bucket: string;
  key: string;
  versionId: string;
  /** base64 */
  body: string;
  contentType: string;
  /** When it was written (ISO); absent in a simulation saved before versions were listed. */
  lastModified?: string;
  /** A delete marker: the object reads as absent while this is its latest version. */
  deleteMarker?: boolean;
};

/** Whether an instance runs the SSM agent, and how its commands end. */
export type SsmAgent = 'managed' | 'unmanaged' | 'times-out';

export type SimulatedCommand = {
  commandId: string;
  instanceId: string;
  commands: string[];
  status: string;
  outputKey: string | null;
};

export type EvidenceState = { objects: SimulatedObject[]; commands: SimulatedCommand[] };

// ---------------------------------------------------------------- the record key

export type SimulatedMacKey = { keyId: string /** base64 */; secret: string };

export const newMacKey = (accountId: string, region = 'us-east-1'): SimulatedMacKey => ({
  keyId: `arn:aws:kms:${region}:${accountId}:key/${randomBytes(16).toString('hex')}`,
  secret: randomBytes(32).toString('base64'),
});

/** The state of one account, built from its description, with the lookups every service uses. */
export function accountState(description: AccountDescription) {
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

  return {
    account,
    accountId,
    instances,
    roles,
    associations,
    snapshots,
    findings,
    network,
    evidence,
    macKey,
    podIdentity,
    securityHubUpdates,
    assumed,
    published,
    instance,
    role,
    profileOf,
  };
}

export type AccountState = ReturnType<typeof accountState>;
