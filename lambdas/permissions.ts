/**
 * What each Lambda may do, declared next to the code that does it and read by the CDK side (IAM policies,
 * EKS access entries) and by the RBAC manifest generator. Data only: no imports, nothing to bundle.
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

export type RbacRule = {
  apiGroups: readonly string[];
  resources: readonly string[];
  verbs: readonly string[];
  /** Only these objects; Kubernetes cannot narrow `create` or `list` this way. */
  resourceNames?: readonly string[];
};

/**
 * The responder's own security groups carry this tag with one of these values (isolate-host.ts); IAM
 * lets it change or delete no group without them. The tag is a second fence: the code acts only on the
 * group ids it registered, signed, whatever tags say.
 */
const OWN_GROUP_TAG = { 'aws:ResourceTag/guardduty-responder:purpose': ['quarantine', 'untrack'] } as const;

/** The only NetworkPolicy the responder writes (lambdas/core/quarantine.ts names it; a test checks). */
const QUARANTINE_POLICY_NAME = 'guardduty-responder-quarantine';

/**
 * NetworkPolicies as a function that writes the quarantine policy needs them: `create` (and `list`, to
 * see the other policies of a namespace) on any, the rest on the quarantine policy alone.
 */
const quarantinePolicyRules = (anyPolicy: readonly string[], byName: readonly string[]): RbacRule[] => [
  { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: anyPolicy },
  {
    apiGroups: ['networking.k8s.io'],
    resources: ['networkpolicies'],
    verbs: byName,
    resourceNames: [QUARANTINE_POLICY_NAME],
  },
];

export type RecordKeyUse = 'kms:GenerateMac' | 'kms:VerifyMac';
/** Signs what it decides, verifies what it reads from the record. */
const SIGNS: readonly RecordKeyUse[] = ['kms:GenerateMac', 'kms:VerifyMac'];
/** Verifies, never signs. */
const VERIFIES: readonly RecordKeyUse[] = ['kms:VerifyMac'];

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
   * The record key (lib/record-key.ts): the functions that write the record (the claim's header, the
   * plan, entries, approvals) sign what they decided and verify what they read; release and recover only
   * verify.
   */
  recordKey?: readonly RecordKeyUse[];
  iam: readonly IamNeed[];
  rbac: readonly RbacRule[];
};

/** Notify, release and recover note the finding in Security Hub (lambdas/notify/security-hub.ts). */
const SECURITY_HUB_NOTE: IamNeed = {
  actions: ['securityhub:BatchUpdateFindings'],
  scope: 'any',
  why: 'the note and workflow status of the GuardDuty finding in Security Hub; the finding is named in the request, the action takes no resource',
};

export const FUNCTION_NAMES = [
  'claim',
  'identify',
  'isolate-pods',
  'cordon-nodes',
  'isolate-host',
  'protect-instances',
  'revoke-iam',
  'revoke-sessions',
  'snapshot-volumes',
  'collect-pod-evidence',
  'collect-host-evidence',
  'notify',
  'request-approval',
  'release',
  'recover',
  'approve',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Claim, notify and the approvals touch only the responder's own resources; the host capture runs only there. */
const OWN_ACCOUNT_ONLY = ['claim', 'notify', 'collect-host-evidence', 'request-approval', 'approve'] as const;
/**
 * The functions that act in a finding's account, and so assume a member account's MemberAccess role for
 * a member's finding (lambdas/clients/reach.ts); the role holds what these declare.
 */
export const MEMBER_REACHING = FUNCTION_NAMES.filter(
  (name): name is Exclude<FunctionName, (typeof OWN_ACCOUNT_ONLY)[number]> =>
    !(OWN_ACCOUNT_ONLY as readonly string[]).includes(name),
);
/** The functions a person invokes (an answer, the end of an incident); the state machine never does. */
export const PERSON_FUNCTIONS = ['release', 'recover', 'approve'] as const satisfies readonly FunctionName[];
/** The functions the response state machine invokes. */
export type WorkflowFunction = Exclude<FunctionName, (typeof PERSON_FUNCTIONS)[number]>;

/**
 * Every action writes its record before each change (and reads the entry back where a compatible store
 * leaves it out of the update's answer); claim and notify write the claim and the outcome.
 */
const RECORDS = ['dynamodb:UpdateItem', 'dynamodb:GetItem'] as const;

/**
 * Release and recover close the incident they end (lambdas/incident/closures.ts): an object under
 * `incidents/`, and every version of it read back, so that a record set back in the table is refused.
 */
const CLOSES = ['s3:PutObject', 's3:ListBucketVersions'] as const;

export const NEEDS: Record<FunctionName, FunctionNeeds> = {
  claim: { incidentTable: RECORDS, recordKey: SIGNS, iam: [], rbac: [] },
  identify: {
    kubernetesGroup: 'guardduty-responder-identify',
    incidentTable: RECORDS,
    recordKey: SIGNS,
    evidenceBucket: ['s3:PutObject'],
    iam: [
      {
        actions: ['guardduty:GetFindings'],
        scope: 'detectors',
        why: 'the finding read back from GuardDuty before anything is planned: a finding GuardDuty does not hold, or holds otherwise, gets no response',
      },
      {
        actions: ['eks:DescribeCluster', 'eks:ListPodIdentityAssociations'],
        scope: 'clusters',
        why: 'cluster endpoint and CA for the Kubernetes client; pod roles from Pod Identity; the OIDC issuer an IRSA role must trust',
      },
      {
        actions: ['eks:DescribePodIdentityAssociation'],
        scope: 'pod-identity-associations',
        why: 'the role of each Pod Identity association of a pod service account',
      },
      {
        actions: ['ec2:DescribeInstances'],
        scope: 'any',
        why: 'instances, their tags and volumes; EC2 Describe actions support no resource-level permissions',
      },
      {
        actions: ['autoscaling:DescribeAutoScalingInstances'],
        scope: 'any',
        why: 'Auto Scaling group of each instance; Describe actions support no resource-level permissions',
      },
      {
        actions: ['iam:GetInstanceProfile'],
        scope: 'instance-profiles',
        why: 'the role in an instance profile',
      },
      {
        actions: ['iam:GetRole'],
        scope: 'roles',
        why: 'the trust policy of the role an IRSA annotation names: only a role that trusts the ServiceAccount is the pod’s',
      },
    ],
    rbac: [
      {
        apiGroups: [''],
        resources: ['pods', 'nodes', 'serviceaccounts', 'replicationcontrollers'],
        verbs: ['get', 'list'],
      },
      {
        apiGroups: ['apps'],
        resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'],
        verbs: ['get', 'list'],
      },
      { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ['get', 'list'] },
    ],
  },
  'isolate-pods': {
    kubernetesGroup: 'guardduty-responder-isolate',
    incidentTable: RECORDS,
    recordKey: SIGNS,
    iam: [
      {
        actions: ['eks:DescribeCluster'],
        scope: 'clusters',
        why: 'cluster endpoint and CA for the Kubernetes client',
      },
    ],
    rbac: [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'patch'] },
      ...quarantinePolicyRules(['list', 'create'], ['get', 'update']),
    ],
  },
  'cordon-nodes': {
    kubernetesGroup: 'guardduty-responder-cordon',
    incidentTable: RECORDS,
    recordKey: SIGNS,
    iam: [
      {
        actions: ['eks:DescribeCluster'],
        scope: 'clusters',
        why: 'cluster endpoint and CA for the Kubernetes client',
      },
    ],
    rbac: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] }],
  },
  'isolate-host': {
    incidentTable: RECORDS,
    recordKey: SIGNS,
    iam: [
      {
        actions: [
          'ec2:DescribeInstances',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSecurityGroups',
          'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeAutoScalingGroups',
          'elasticloadbalancing:DescribeTargetGroups',
          'elasticloadbalancing:DescribeTargetHealth',
          'elasticloadbalancing:DescribeLoadBalancers',
        ],
        scope: 'any',
        why: 'the interfaces, groups, Auto Scaling and load balancer membership of the instance; Describe actions support no resource-level permissions',
      },
      {
        actions: ['ec2:CreateSecurityGroup'],
        scope: 'vpcs',
        why: 'the quarantine and untrack groups, created in the instance VPC on first use',
      },
      {
        actions: ['ec2:CreateSecurityGroup'],
        scope: 'security-groups',
        why: "only a group tagged as the responder's (quarantine or untrack) as it is created",
        conditions: {
          StringEquals: { 'aws:RequestTag/guardduty-responder:purpose': ['quarantine', 'untrack'] },
        },
      },
      {
        actions: ['ec2:CreateTags'],
        scope: 'security-groups',
        why: "tag the responder's groups, only as they are created",
        conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' } },
      },
      {
        actions: [
          'ec2:AuthorizeSecurityGroupIngress',
          'ec2:AuthorizeSecurityGroupEgress',
          'ec2:RevokeSecurityGroupIngress',
          'ec2:RevokeSecurityGroupEgress',
        ],
        scope: 'security-groups',
        why: "set the rules of the responder's own groups (tagged quarantine or untrack; the code acts only on the ids it registered), no other group",
        conditions: { StringEquals: OWN_GROUP_TAG },
      },
      {
        actions: ['ec2:DeleteSecurityGroup'],
        scope: 'security-groups',
        why: 'delete a group it has just made when another execution registered one first',
        conditions: { StringEquals: OWN_GROUP_TAG },
      },
      {
        actions: ['ec2:ModifyNetworkInterfaceAttribute'],
        scope: 'network-interfaces',
        why: 'replace the security groups of the instance interfaces',
      },
      {
        actions: ['ec2:ModifyNetworkInterfaceAttribute'],
        scope: 'security-groups',
        why: 'the groups an interface is moved into',
      },
      {
        actions: ['ec2:CreateTags'],
        scope: 'instances',
        why: 'tag the quarantined instance, with that tag only',
        conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': 'guardduty-responder:quarantined' } },
      },
      {
        actions: ['autoscaling:EnterStandby'],
        scope: 'auto-scaling-groups',
        why: 'move the instance to Standby, out of its load balancers and health checks',
      },
      {
        actions: ['elasticloadbalancing:DeregisterTargets'],
        scope: 'target-groups',
        why: 'take an instance outside any Auto Scaling group out of its target groups',
      },
      {
        actions: ['elasticloadbalancing:DeregisterInstancesFromLoadBalancer'],
        scope: 'load-balancers',
        why: 'take an instance outside any Auto Scaling group out of its Classic Load Balancers',
      },
    ],
    rbac: [],
  },
  'protect-instances': {
    kubernetesGroup: 'guardduty-responder-protect',
    incidentTable: RECORDS,
    recordKey: SIGNS,
    iam: [
      {
        actions: ['ec2:DescribeInstanceAttribute', 'ec2:ModifyInstanceAttribute'],
        scope: 'instances',
        why: 'read and set termination protection and delete-on-termination of the affected instances',
      },
      {
        actions: ['autoscaling:SetInstanceProtection'],
        scope: 'auto-scaling-groups',
        why: 'scale-in protection of the affected instances in their groups',
      },
      {
        actions: ['autoscaling:DescribeAutoScalingInstances'],
        scope: 'any',
        why: 'current scale-in protection; Describe actions support no resource-level permissions',
      },
      {
        actions: ['eks:DescribeCluster'],
        scope: 'clusters',
        why: 'Karpenter nodes are protected by a node annotation',
      },
    ],
    rbac: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] }],
  },
  'revoke-iam': {
    incidentTable: RECORDS,
    recordKey: SIGNS,
    iam: [
      {
        actions: [
          'iam:ListAttachedRolePolicies',
          'iam:ListRolePolicies',
          'iam:GetRolePolicy',
          'iam:DetachRolePolicy',
          'iam:DeleteRolePolicy',
        ],
        scope: 'roles',
        why: 'record, then detach and delete the policies of a compromised role',
      },
      {
        actions: ['ec2:DisassociateIamInstanceProfile'],
        scope: 'instances',
        why: 'take the instance profile off a compromised instance whose role is shared',
      },
      {
        actions: ['ec2:DescribeIamInstanceProfileAssociations'],
        scope: 'any',
        why: 'the instance profile association of an instance; Describe actions support no resource-level permissions',
      },
    ],
    rbac: [],
  },
  'revoke-sessions': {
    incidentTable: RECORDS,
    recordKey: SIGNS,
    iam: [
      {
        actions: ['iam:GetRolePolicy', 'iam:PutRolePolicy'],
        scope: 'roles',
        why: "read, then put the inline policy that denies a role's sessions issued before the response",
      },
    ],
    rbac: [],
  },
  'snapshot-volumes': {
    incidentTable: RECORDS,
    recordKey: SIGNS,
    iam: [
      {
        actions: ['ec2:CreateSnapshot'],
        scope: 'volumes',
        why: 'snapshot the volumes of the affected instances',
      },
      { actions: ['ec2:CreateSnapshot'], scope: 'snapshots', why: 'the snapshots being created' },
      {
        actions: ['ec2:CreateTags'],
        scope: 'snapshots',
        why: 'tag a snapshot, only as it is created',
        conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSnapshot' } },
      },
      {
        actions: ['ec2:DescribeSnapshots'],
        scope: 'any',
        why: 'find a snapshot already taken for the finding; Describe actions support no resource-level permissions',
      },
    ],
    rbac: [],
  },
  'collect-pod-evidence': {
    kubernetesGroup: 'guardduty-responder-evidence',
    incidentTable: RECORDS,
    recordKey: SIGNS,
    evidenceBucket: ['s3:PutObject'],
    iam: [
      {
        actions: ['eks:DescribeCluster'],
        scope: 'clusters',
        why: 'cluster endpoint and CA for the Kubernetes client',
      },
    ],
    rbac: [
      {
        apiGroups: [''],
        resources: ['pods', 'pods/log', 'events', 'serviceaccounts', 'replicationcontrollers'],
        verbs: ['get', 'list'],
      },
      {
        apiGroups: ['apps'],
        resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'],
        verbs: ['get'],
      },
      { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ['get'] },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['list'] },
    ],
  },
  'collect-host-evidence': {
    incidentTable: RECORDS,
    recordKey: SIGNS,
    evidenceBucket: ['s3:ListBucket', 's3:GetObject', 's3:PutObject'],
    iam: [
      {
        actions: ['ssm:DescribeInstanceInformation', 'ssm:GetCommandInvocation'],
        scope: 'any',
        why: 'whether an instance runs the agent, and how its command ended; these take no resource',
      },
      {
        actions: ['ssm:SendCommand'],
        scope: 'instances',
        why: 'run the capture on the affected instances',
      },
      {
        actions: ['ssm:SendCommand'],
        scope: 'run-shell-script',
        why: 'the AWS-RunShellScript document only',
      },
    ],
    rbac: [],
  },
  notify: {
    incidentTable: RECORDS,
    iam: [SECURITY_HUB_NOTE],
    rbac: [],
  },
  'request-approval': { incidentTable: RECORDS, iam: [], rbac: [] },
  approve: {
    incidentTable: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    recordKey: SIGNS,
    iam: [
      {
        actions: ['states:SendTaskSuccess'],
        scope: 'any',
        why: 'tell the waiting execution the answer, by its task token; the action takes no resource',
      },
    ],
    rbac: [],
  },
  release: {
    kubernetesGroup: 'guardduty-responder-release',
    recordKey: VERIFIES,
    evidenceBucket: CLOSES,
    incidentTable: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
    iam: [
      SECURITY_HUB_NOTE,
      {
        actions: ['eks:DescribeCluster'],
        scope: 'clusters',
        why: 'cluster endpoint and CA for the Kubernetes client',
      },
      {
        actions: [
          'ec2:DescribeInstanceAttribute',
          'ec2:ModifyInstanceAttribute',
          'ec2:AssociateIamInstanceProfile',
        ],
        scope: 'instances',
        why: 'put back termination protection, delete-on-termination and the instance profile as recorded',
      },
      {
        actions: ['ec2:DescribeIamInstanceProfileAssociations'],
        scope: 'any',
        why: 'the current instance profile association; Describe actions support no resource-level permissions',
      },
      {
        actions: ['autoscaling:SetInstanceProtection'],
        scope: 'auto-scaling-groups',
        why: 'put back scale-in protection as recorded',
      },
      {
        actions: ['autoscaling:DescribeAutoScalingInstances'],
        scope: 'any',
        why: 'current scale-in protection; Describe actions support no resource-level permissions',
      },
      {
        actions: [
          'iam:AttachRolePolicy',
          'iam:PutRolePolicy',
          'iam:DeleteRolePolicy',
          'iam:ListAttachedRolePolicies',
          'iam:ListRolePolicies',
          'iam:GetRolePolicy',
        ],
        scope: 'roles',
        why: "re-attach and re-create the recorded policies of a stripped role, delete (or put back) a role's session revocation, and read them back",
      },
      {
        actions: ['iam:PassRole'],
        scope: 'roles',
        why: 'associating an instance profile again passes its role to EC2',
        conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      },
      {
        actions: [
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSecurityGroups',
          'autoscaling:DescribeAutoScalingGroups',
        ],
        scope: 'any',
        why: 'the interfaces, groups and Auto Scaling state of an isolated host; Describe actions support no resource-level permissions',
      },
      {
        actions: ['ec2:ModifyNetworkInterfaceAttribute'],
        scope: 'network-interfaces',
        why: 'put each interface of an isolated host back in its recorded groups',
      },
      {
        actions: ['ec2:ModifyNetworkInterfaceAttribute'],
        scope: 'security-groups',
        why: 'the recorded groups an interface goes back into',
      },
      {
        actions: ['ec2:DeleteSecurityGroup'],
        scope: 'security-groups',
        why: "delete the responder's own groups (by the ids it registered) once no interface uses them",
        conditions: { StringEquals: OWN_GROUP_TAG },
      },
      {
        actions: ['ec2:DeleteTags'],
        scope: 'instances',
        why: 'take the quarantine tag off, and no other tag',
        conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': 'guardduty-responder:quarantined' } },
      },
      {
        actions: ['autoscaling:ExitStandby'],
        scope: 'auto-scaling-groups',
        why: 'put an isolated host back in service in its group',
      },
      {
        actions: ['elasticloadbalancing:RegisterTargets'],
        scope: 'target-groups',
        why: 'register an isolated host again with its recorded target groups',
      },
      {
        actions: ['ssm:SendCommand'],
        scope: 'instances',
        why: 'resume the containers the host capture paused',
      },
      {
        actions: ['ssm:SendCommand'],
        scope: 'run-shell-script',
        why: 'the AWS-RunShellScript document only',
      },
      {
        actions: ['ssm:GetCommandInvocation'],
        scope: 'any',
        why: 'how the resume command ended; it takes no resource',
      },
      {
        actions: ['elasticloadbalancing:RegisterInstancesWithLoadBalancer'],
        scope: 'load-balancers',
        why: 'register an isolated host again with its recorded Classic Load Balancers',
      },
    ],
    rbac: [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] },
      ...quarantinePolicyRules(['create'], ['get', 'update', 'delete']),
    ],
  },
  recover: {
    kubernetesGroup: 'guardduty-responder-recover',
    recordKey: VERIFIES,
    evidenceBucket: CLOSES,
    incidentTable: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    iam: [
      SECURITY_HUB_NOTE,
      {
        actions: ['eks:DescribeCluster'],
        scope: 'clusters',
        why: 'cluster endpoint and CA for the Kubernetes client',
      },
      {
        actions: ['ec2:DescribeSnapshots', 'autoscaling:DescribeAutoScalingInstances'],
        scope: 'any',
        why: 'whether the evidence snapshots completed, and where the instance stands in its group; Describe actions support no resource-level permissions',
      },
      {
        actions: ['ec2:ModifyInstanceAttribute'],
        scope: 'instances',
        why: 'lift termination protection of a compromised instance before it is replaced',
      },
      {
        actions: [
          'autoscaling:SetInstanceProtection',
          'autoscaling:ExitStandby',
          'autoscaling:TerminateInstanceInAutoScalingGroup',
        ],
        scope: 'auto-scaling-groups',
        why: 'lift scale-in protection and Standby, then terminate the instance so its group launches a new one',
      },
    ],
    rbac: [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'delete'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
      ...quarantinePolicyRules(['create'], ['get', 'update', 'delete']),
    ],
  },
};
