/**
 * What each Lambda may do, read by the CDK side (IAM policies, EKS access entries) and by the RBAC
 * manifest generator. An action declares its own needs in its spec (lambdas/actions/<name>/spec.ts: what
 * its function needs to contain, and what Release needs to undo it); the other functions' are here. The
 * vocabulary (IAM scopes, RBAC rules) is lambdas/core/needs.ts.
 */
import { ACTION_NAMES, actionNamed, REGISTRY } from './actions/registry.js';
import {
  CLUSTER_ENDPOINT,
  type FunctionNeeds,
  type IamNeed,
  quarantinePolicyRules,
  type RbacRule,
  RECORDS,
  SIGNS,
  TERMINATION_PROTECTION_OFF,
  VERIFIES,
} from './core/needs.js';

export type { FunctionNeeds, IamNeed, IamScope, RbacRule, RecordKeyUse } from './core/needs.js';

/** The functions that are not actions, in the order the stack makes them around the actions. */
const BEFORE_ACTIONS = ['claim', 'identify'] as const;
const AFTER_ACTIONS = [
  'collect-pod-evidence',
  'collect-host-evidence',
  'collect-credential-activity',
  'notify',
  'request-approval',
  'release',
  'recover',
  'approve',
  'security-hub-intake',
  'recovery-watch',
] as const;
type OwnFunction = (typeof BEFORE_ACTIONS)[number] | (typeof AFTER_ACTIONS)[number];

/** Every function: claim, identify, one per registered action, evidence, notify, approvals, release, recover. */
export const FUNCTION_NAMES: readonly string[] = [...BEFORE_ACTIONS, ...ACTION_NAMES, ...AFTER_ACTIONS];
export type FunctionName = string;

/** Identical rules once. */
function distinct(rules: readonly RbacRule[]): RbacRule[] {
  const seen = new Set<string>();
  return rules.filter((rule) => {
    const key = JSON.stringify(rule);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Notify, release and recover note the finding in Security Hub (lambdas/notify/security-hub.ts). */
const SECURITY_HUB_NOTE: IamNeed = {
  actions: ['securityhub:BatchUpdateFindings'],
  scope: 'any',
  why: 'the note and workflow status of the GuardDuty finding in Security Hub; the finding is named in the request, the action takes no resource',
};

/** Claim, notify and the approvals touch only the responder's own resources; the host capture runs only there. */
const OWN_ACCOUNT_ONLY = ['claim', 'notify', 'collect-host-evidence', 'request-approval', 'approve'] as const;
/**
 * The functions that act in a finding's account, and so assume a member account's MemberAccess role for
 * a member's finding (lambdas/clients/reach.ts); the role holds what these declare.
 */
export const MEMBER_REACHING = FUNCTION_NAMES.filter(
  (name) => !(OWN_ACCOUNT_ONLY as readonly string[]).includes(name),
);
/** The functions a person invokes (an answer, the end of an incident); the state machine never does. */
export const PERSON_FUNCTIONS = ['release', 'recover', 'approve'] as const satisfies readonly FunctionName[];
/**
 * The functions the response state machine never invokes: the intake of Security Hub custom actions
 * (it starts responses) and the recovery watch (its own state machine's task).
 */
export const INTAKE_FUNCTIONS = [
  'security-hub-intake',
  'recovery-watch',
] as const satisfies readonly FunctionName[];
/** A function the response state machine invokes (any but the person's). */
export type WorkflowFunction = FunctionName;

/**
 * Release and recover close the incident they end (lambdas/incident/closures.ts): an object under
 * `incidents/`, and every version of it read back, so that a record set back in the table is refused.
 */
const CLOSES = ['s3:PutObject', 's3:ListBucketVersions'] as const;

/** The needs of the functions that are not actions. */
const OWN: Record<OwnFunction, FunctionNeeds> = {
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

  'collect-pod-evidence': {
    kubernetesGroup: 'guardduty-responder-evidence',
    incidentTable: RECORDS,
    recordKey: SIGNS,
    evidenceBucket: ['s3:PutObject'],
    iam: [CLUSTER_ENDPOINT],
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
    evidenceBucket: ['s3:PutObject'],
    hostOutput: ['s3:ListBucket', 's3:GetObject', 's3:DeleteObject'],
    iam: [
      {
        actions: ['iam:GetInstanceProfile'],
        scope: 'instance-profiles',
        why: 'the role id that names the one prefix of the host output bucket the instance may write',
      },
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
  'recovery-watch': {
    kubernetesGroup: 'guardduty-responder-recovery-watch',
    iam: [CLUSTER_ENDPOINT],
    // Reads the pods a recovery deleted, nothing else.
    rbac: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
  },
  'security-hub-intake': {
    iam: [
      {
        actions: ['guardduty:GetFindings'],
        scope: 'detectors',
        why: 'each finding a custom action selected, read from GuardDuty before a response starts with it',
      },
    ],
    rbac: [],
  },
  'collect-credential-activity': {
    incidentTable: RECORDS,
    recordKey: SIGNS,
    evidenceBucket: ['s3:PutObject'],
    iam: [
      {
        actions: ['cloudtrail:LookupEvents'],
        scope: 'any',
        why: 'what the credentials did: CloudTrail event history; the action takes no resource',
      },
    ],
    rbac: [],
  },
  notify: {
    incidentTable: RECORDS,
    // The header and the chain of custody, checked before the message lists any evidence.
    recordKey: VERIFIES,
    // The incident report, beside the evidence (lambdas/report/).
    evidenceBucket: ['s3:PutObject'],
    iam: [SECURITY_HUB_NOTE],
    rbac: [],
  },
  'request-approval': { incidentTable: RECORDS, approvalKey: ['kms:Encrypt'], iam: [], rbac: [] },
  approve: {
    incidentTable: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    recordKey: SIGNS,
    approvalKey: ['kms:Decrypt'],
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
    // Besides its own, what each registered action's undo needs (its spec's `undo`).
    iam: [
      SECURITY_HUB_NOTE,
      CLUSTER_ENDPOINT,
      ...REGISTRY.flatMap((action) => action.spec.undo.iam),
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
    ],
    rbac: distinct(REGISTRY.flatMap((action) => action.spec.undo.rbac)),
  },
  recover: {
    kubernetesGroup: 'guardduty-responder-recover',
    recordKey: VERIFIES,
    evidenceBucket: CLOSES,
    incidentTable: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    iam: [
      SECURITY_HUB_NOTE,
      CLUSTER_ENDPOINT,
      {
        actions: [
          'ec2:DescribeSnapshots',
          'ec2:DescribeInstances',
          'autoscaling:DescribeAutoScalingInstances',
        ],
        scope: 'any',
        why: 'whether the evidence snapshots completed, whether an instance left for a person was terminated, and where the instance stands in its group; Describe actions support no resource-level permissions',
      },
      {
        ...TERMINATION_PROTECTION_OFF,
        why: 'lift termination protection of a compromised instance before it is replaced, and nothing else',
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
      // The drain, as kubectl drain: evictions honour PodDisruptionBudgets, named when one blocks.
      { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
      { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['list'] },
      // A Karpenter node is replaced by deleting its NodeClaim: Karpenter drains and replaces it.
      { apiGroups: ['karpenter.sh'], resources: ['nodeclaims'], verbs: ['list', 'delete'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
      ...quarantinePolicyRules(['create'], ['get', 'update', 'delete']),
    ],
  },
};

/** What a function needs, by its name; a name no function has is a programming error. */
export function needsOf(name: FunctionName): FunctionNeeds {
  const needs = (OWN as Partial<Record<string, FunctionNeeds>>)[name] ?? actionNamed(name)?.spec.contain;
  if (!needs) throw new Error(`no function is named ${name}`);
  return needs;
}
