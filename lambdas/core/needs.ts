/**
 * How a function's needs are declared: IAM scopes, RBAC rules, the incident table, the evidence bucket and
 * the record key. Data only. Each action declares its own (lambdas/actions/<name>/spec.ts); the other
 * functions' are in lambdas/permissions.ts; `lib/` renders them as IAM and `npm run rbac` as RBAC.
 *
 * IAM scopes name where an action applies; `lib/` turns each into ARNs of the deploying account:
 * - `any`: the action supports no resource-level permission (the `why` says so), so `*`;
 * - `clusters`: the configured EKS clusters;
 * - `pod-identity-associations`: Pod Identity associations of the configured clusters;
 * - `instance-profiles`, `roles`: any instance profile or role of the account;
 * - `instances`, `volumes`, `snapshots`: EC2 instances, EBS volumes and snapshots in the region;
 * - `auto-scaling-groups`: Auto Scaling groups in the region;
 * - `network-interfaces`, `security-groups`, `vpcs`: EC2 network interfaces, security groups and VPCs in
 *   the region;
 * - `target-groups`, `load-balancers`: Elastic Load Balancing target groups and Classic Load Balancers;
 * - `run-shell-script`: the AWS-owned `AWS-RunShellScript` SSM document of the region;
 * - `detectors`: the GuardDuty detectors of the region (their findings are read through them).
 * Wildcards remain where the identifiers are only known during an incident.
 */
import { QUARANTINE_POLICY } from './quarantine.js';

export type IamScope =
  | 'any'
  | 'network-interfaces'
  | 'security-groups'
  | 'vpcs'
  | 'target-groups'
  | 'load-balancers'
  | 'run-shell-script'
  | 'detectors'
  | 'clusters'
  | 'pod-identity-associations'
  | 'instance-profiles'
  | 'roles'
  | 'instances'
  | 'volumes'
  | 'snapshots'
  | 'auto-scaling-groups';

export type IamNeed = {
  actions: readonly string[];
  scope: IamScope;
  why: string;
  conditions?: Record<string, Record<string, string | readonly string[]>>;
};

/**
 * Termination protection off, and no other instance attribute (`ec2:Attribute/<name>` names the attribute
 * a ModifyInstanceAttribute request sets, and its value): release and recover lift what protect-instances set.
 */
export const TERMINATION_PROTECTION_OFF: IamNeed = {
  actions: ['ec2:ModifyInstanceAttribute'],
  scope: 'instances',
  why: 'lift termination protection, and change no other attribute of the instance',
  conditions: { StringEqualsIgnoreCase: { 'ec2:Attribute/DisableApiTermination': 'false' } },
};

export type RbacRule = {
  apiGroups: readonly string[];
  resources: readonly string[];
  verbs: readonly string[];
  /** Only these objects; Kubernetes cannot narrow `create` or `list` this way. */
  resourceNames?: readonly string[];
};

/**
 * The responder's own security groups carry this tag with one of these values (lambdas/actions/isolate-host/); IAM
 * lets it change or delete no group without them. The tag is a second fence: the code acts only on the
 * group ids it registered, signed, whatever tags say.
 */
export const OWN_GROUP_TAG = {
  'aws:ResourceTag/guardduty-responder:purpose': ['quarantine', 'untrack'],
} as const;

/**
 * NetworkPolicies as a function that writes the quarantine policy needs them: `create` (and `list`, to
 * see the other policies of a namespace) on any, the rest on the quarantine policy alone.
 */
export const quarantinePolicyRules = (
  anyPolicy: readonly string[],
  byName: readonly string[],
): RbacRule[] => [
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: anyPolicy },
  {
    apiGroups: ['networking.k8s.io'],
    resources: ['networkpolicies'],
    verbs: byName,
    resourceNames: [QUARANTINE_POLICY],
  },
];

export type RecordKeyUse = 'kms:GenerateMac' | 'kms:VerifyMac';
/** Signs what it decides, verifies what it reads from the record. */
export const SIGNS: readonly RecordKeyUse[] = ['kms:GenerateMac', 'kms:VerifyMac'];
/** Verifies, never signs. */
export const VERIFIES: readonly RecordKeyUse[] = ['kms:VerifyMac'];

export type FunctionNeeds = {
  /** Kubernetes group the function's EKS access entry maps to; the RBAC manifest binds it. */
  kubernetesGroup?: string;
  /** DynamoDB actions on the incident table (and its indexes), with the use of the table's KMS key. */
  incidentTable?: readonly string[];
  /**
   * S3 actions on the evidence bucket's `incidents/` objects (s3:ListBucket and s3:ListBucketVersions on
   * the bucket, for that prefix only), with the use of its KMS key.
   */
  evidenceBucket?: readonly string[];
  /**
   * S3 actions on the host output bucket (lib/evidence-bucket.ts), where each host writes its capture's
   * output under its own prefix for the responder to take into the evidence bucket.
   */
  hostOutput?: readonly ('s3:ListBucket' | 's3:GetObject' | 's3:DeleteObject')[];
  /**
   * The record key (lib/record-key.ts): the functions that write the record (the claim's header, the
   * plan, entries, approvals) sign what they decided and verify what they read; release and recover only
   * verify.
   */
  recordKey?: readonly RecordKeyUse[];
  /**
   * The approval key (lib/approval-key.ts): Request-approval encrypts task tokens under it, Approve alone
   * decrypts them (lambdas/approval/tokens.ts).
   */
  approvalKey?: readonly ('kms:Encrypt' | 'kms:Decrypt')[];
  iam: readonly IamNeed[];
  rbac: readonly RbacRule[];
};

/**
 * Every action writes its record before each change (and reads the entry back where a compatible store
 * leaves it out of the update's answer).
 */
export const RECORDS = ['dynamodb:UpdateItem', 'dynamodb:GetItem'] as const;

/** A function that talks to a cluster's API server reads its endpoint and CA first. */
export const CLUSTER_ENDPOINT: IamNeed = {
  actions: ['eks:DescribeCluster'],
  scope: 'clusters',
  why: 'cluster endpoint and CA for the Kubernetes client',
};
