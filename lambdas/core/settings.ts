/**
 * What the deployer decides about the response, shared by the CDK config (lib/config.ts) and the Lambdas,
 * which receive it as the RESPONDER_SETTINGS environment variable. One schema, so the two cannot drift;
 * it is made for the registered actions (lambdas/settings.ts binds it to lambdas/actions/registry.ts), so
 * that a setting can name only an action that exists.
 */
import { z } from 'zod';
import type { ActionSpec } from './action-spec.js';
import { BudgetSchema, DEFAULT_BUDGET } from './budget.js';
import { type ActionNames, defaultPlaybook, playbookSchema } from './playbook.js';
import { parseLabelSelector } from './selectors.js';

/**
 * The longest a response may run (the state machine's timeout). A claim older than this with no outcome
 * belongs to an execution that died before Notify: the next sighting takes the finding again.
 */
export const RESPONSE_TIMEOUT_MINUTES = 30;

/** Every severity GuardDuty gives (0.1 to 10): a response a person asked for is not held back by the range. */
export const ANY_SEVERITY = { atLeast: 0, below: null } as const;

export const SeverityRangeSchema = z
  .strictObject({
    /** Lowest severity that starts a response (inclusive). */
    atLeast: z.number().min(0).max(10).default(4),
    /** Severities from here up do not start a response; null means no upper bound. */
    below: z.number().gt(0).max(11).nullable().default(9),
  })
  .refine((range) => range.below === null || range.below > range.atLeast, {
    message: 'severity.below must be greater than severity.atLeast',
  });
export type SeverityRange = z.infer<typeof SeverityRangeSchema>;

export const inSeverityRange = (severity: number, range: SeverityRange): boolean =>
  severity >= range.atLeast && (range.below === null || severity < range.below);

export const describeSeverityRange = (range: SeverityRange): string =>
  range.below === null
    ? `${range.atLeast} and above`
    : `${range.atLeast} up to but not including ${range.below}`;

const validSelector = (selector: string) => {
  try {
    parseLabelSelector(selector);
    return true;
  } catch {
    return false;
  }
};

/** Pods that are identified and reported but never isolated, nor their roles stripped. */
export const ProtectedWorkloadSchema = z.strictObject({
  namespace: z.string().min(1),
  /** A label selector as `kubectl -l` takes it; without one, the whole namespace is protected. */
  labelSelector: z.string().refine(validSelector, { message: 'not a valid label selector' }).optional(),
});
export type ProtectedWorkload = z.infer<typeof ProtectedWorkloadSchema>;

/** The cluster's DNS, network, storage and identity agents, and GuardDuty's own agent. */
export const DEFAULT_PROTECTED_WORKLOADS: ProtectedWorkload[] = [
  {
    namespace: 'kube-system',
    labelSelector: 'k8s-app in (kube-dns,aws-node,kube-proxy,ebs-csi-node,ebs-csi-controller)',
  },
  {
    namespace: 'kube-system',
    labelSelector:
      'app.kubernetes.io/name in (coredns,aws-node,kube-proxy,aws-ebs-csi-driver,eks-pod-identity-agent,aws-load-balancer-controller,karpenter)',
  },
  { namespace: 'amazon-guardduty' },
];

export const LimitsSchema = z.strictObject({
  /** Pods isolated by one execution at most; the rest are identified and reported for a person. */
  maxPodsIsolated: z.number().int().min(0).default(20),
  /** Nodes cordoned by one execution at most (a DaemonSet finding can reach every node). */
  maxNodesCordoned: z.number().int().min(0).default(3),
  /**
   * Instances protected and snapshotted by one execution at most: those the finding names first, then
   * those behind the nodes cordoned and the pods isolated (only those: the rest are held back).
   */
  maxInstances: z.number().int().min(0).default(20),
});

/** How long Object Lock keeps evidence unless the config says otherwise. */
export const DEFAULT_EVIDENCE_RETENTION_DAYS = 90;

/** What the responder collects as evidence, and how. */
export const EvidenceSchema = z.strictObject({
  /**
   * S3 Object Lock retention (governance mode) of every evidence object, in days; on by default for new
   * deployments, null turns it off (at bucket creation only).
   */
  retentionDays: z.number().int().min(1).nullable().default(DEFAULT_EVIDENCE_RETENTION_DAYS),
  /** Pause the affected containers' tasks after the host capture (release resumes them). */
  pauseContainers: z.boolean().default(false),
  /** A memory capture command installed on the AMI (e.g. AVML), run by the host capture; its stdout is kept. */
  memoryCaptureCommand: z.string().min(1).nullable().default(null),
  /** Bytes of log kept per container and stream (current, previous): the last ones. */
  logBytesPerContainer: z
    .number()
    .int()
    .min(1024)
    .default(10 * 1024 * 1024),
  /** How long the host capture may run before it is reported as timed out. */
  hostCaptureSeconds: z.number().int().min(30).max(600).default(120),
  /** What the credentials did: CloudTrail's event history from this many hours before the finding. */
  credentialWindowHours: z.number().int().min(1).max(2160).default(24),
  /** At most this many pages (50 events each) per lookup; what is left is said. */
  credentialPages: z.number().int().min(1).max(100).default(10),
});
export type EvidenceSettings = z.infer<typeof EvidenceSchema>;

/** A member account of the organization whose findings the responder acts on, through its MemberAccess role. */
export const MemberAccountSchema = z.strictObject({
  accountId: z.string().regex(/^\d{12}$/, { message: 'an AWS account id is 12 digits' }),
  /** The member's EKS clusters the responder may act on (its access entries are in the member stack). */
  clusters: z.array(z.string().min(1)).default([]),
});
export type MemberAccount = z.infer<typeof MemberAccountSchema>;

/** The role the member stack creates in each member account, and the responder assumes. */
export const DEFAULT_MEMBER_ROLE_NAME = 'GuardDutyResponderMemberAccess';

const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** The settings schema for the registered actions, in registry order. */
export function responderSettingsSchema(specs: readonly ActionSpec[]) {
  const names = specs.map((spec) => spec.name) as unknown as ActionNames;
  return z.strictObject({
    /** Findings in this range start a response (the EventBridge rule); others are reported only. */
    severity: SeverityRangeSchema.default({ atLeast: 4, below: 9 }),
    /** EKS clusters the responder may act on; findings on other clusters are identified and reported only. */
    clusters: z.array(z.string().min(1)).default([]),
    /** Member accounts acted on through their MemberAccess role; findings of other accounts are reported only. */
    members: z.array(MemberAccountSchema).default([]),
    /**
     * The base of the MemberAccess roles' names in every member account: one role per function,
     * `<memberRoleName>-<function>` (at most 64 characters, so the base at most 42).
     */
    memberRoleName: z
      .string()
      .regex(/^[\w+=,.@-]{1,42}$/, { message: 'a role name base of at most 42 characters ([\\w+=,.@-])' })
      .default(DEFAULT_MEMBER_ROLE_NAME),
    /** The external id the MemberAccess roles require (sts:ExternalId); required with members. */
    externalId: z
      .string()
      .regex(/^[\w+=,.@:/-]{2,1224}$/)
      .nullable()
      .default(null),
    /**
     * Regions besides the responder's own whose findings it takes in (an intake stack in each forwards
     * them) and acts on, with clients for the finding's region.
     */
    regions: z.array(z.string().regex(AWS_REGION, { message: 'not an AWS region name' })).default([]),
    enabledActions: z.array(z.enum(names)).default([...names]),
    /** GuardDuty sample findings are planned and reported but change nothing unless this is true. */
    actOnSampleFindings: z.boolean().default(false),
    playbook: playbookSchema(names).default(defaultPlaybook(specs)),
    /**
     * Stronger isolation: also remove a quarantined pod's own labels (kept on the pod in an annotation for
     * release), so that no other NetworkPolicy that allows traffic selects it. The pod leaves its Services
     * and its controller starts a clean replacement.
     */
    stripPodLabels: z.boolean().default(false),
    /**
     * Let isolate-host put EKS nodes behind the quarantine security group too. Off by default: it cuts
     * every pod on the node and its kubelet off the API server; a node is then cordoned first.
     */
    isolateClusterNodes: z.boolean().default(false),
    /** Strip the policies of a role that pods or instances outside the incident also use. */
    revokeSharedRoles: z.boolean().default(false),
    /** Plan, identify and notify, changing nothing: every planned action is held back. */
    dryRun: z.boolean().default(false),
    protectedWorkloads: z.array(ProtectedWorkloadSchema).default(DEFAULT_PROTECTED_WORKLOADS),
    limits: LimitsSchema.default({ maxPodsIsolated: 20, maxNodesCordoned: 3, maxInstances: 20 }),
    /**
     * Actions that wait for a person's answer before they run (lambdas/approval/approval.ts); the others do
     * not wait. None by default.
     */
    requireApproval: z.array(z.enum(names)).default([]),
    /**
     * Actions whose undo needs a second, different person: a release that would undo one of them waits
     * for a countersignature (`npm run release -- <id> --countersign` by another person). By default the
     * actions whose spec says so: revoke-iam and revoke-sessions, which would give IAM back.
     */
    secondPerson: z
      .array(z.enum(names))
      .default(specs.filter((spec) => spec.secondPerson === true).map((spec) => spec.name)),
    /** How long an action waits for the answer; then it is held back. */
    approvalTimeoutMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(60),
    /**
     * Security Hub: whether the release of a false positive sets its finding SUPPRESSED (it is noted either
     * way), and whether the stack makes the custom actions "Contain" and "Dry run" (Security Hub must be
     * enabled in the account and region for the stack to make them).
     */
    securityHub: z
      .strictObject({
        suppressOnRelease: z.boolean().default(false),
        customActions: z.boolean().default(true),
      })
      .default({ suppressOnRelease: false, customActions: true }),
    /** What all findings together may do in a sliding hour (lambdas/incident/budget.ts). */
    budget: BudgetSchema.default(DEFAULT_BUDGET),
    evidence: EvidenceSchema.default(EvidenceSchema.parse({})),
  });
}

export type ResponderSettings = z.infer<ReturnType<typeof responderSettingsSchema>>;

/** The clusters of an account the responder may act on: its own, or a member's. */
export const clustersOf = (settings: ResponderSettings, accountId: string, home: string): string[] =>
  accountId === home
    ? settings.clusters
    : (settings.members.find((member) => member.accountId === accountId)?.clusters ?? []);

/**
 * The longest an execution may run: the response, and the approval deadline when actions wait for one.
 * A claim older than this with no outcome belongs to an execution that died before Notify.
 */
export const responseTimeoutMinutes = (
  settings: Pick<ResponderSettings, 'requireApproval' | 'approvalTimeoutMinutes'>,
): number =>
  RESPONSE_TIMEOUT_MINUTES + (settings.requireApproval.length > 0 ? settings.approvalTimeoutMinutes : 0);

/** Why the responder may not act in an account and region, or null when it may. */
export function outsideReach(
  settings: ResponderSettings,
  finding: { accountId: string; region: string },
  home: { accountId: string; region: string },
): string | null {
  const accounts = [home.accountId, ...settings.members.map((member) => member.accountId)];
  const regions = [home.region, ...settings.regions];
  if (!accounts.includes(finding.accountId))
    return `the finding is for account ${finding.accountId}, which is neither this responder's (${home.accountId}) nor a configured member: reported only`;
  if (!regions.includes(finding.region))
    return `the finding is from ${finding.region}, not a region this responder covers (${regions.join(', ')})`;
  return null;
}

/** The key, beside the event in an execution's input, under which a replay passes its options. */
export const EXECUTION_OPTIONS_KEY = 'guardduty-responder';

/**
 * What a person may ask of one execution, under EXECUTION_OPTIONS_KEY in its input (a replay against the
 * deployed stack): a dry run, or a rerun of the actions for a finding already handled. Nothing here can
 * make the response do more than the playbook plans.
 */
export type ExecutionOptions = {
  dryRun: boolean;
  rerun: boolean;
  /**
   * Where a person asked for this response (a Security Hub custom action, by its name), as the execution's
   * input says: a label for the record and the notification, never a permission.
   */
  requestedFrom: string | null;
};

export function executionOptions(input: unknown): ExecutionOptions {
  const options = (input as Record<string, unknown> | null)?.[EXECUTION_OPTIONS_KEY];
  const given = typeof options === 'object' && options !== null ? (options as Record<string, unknown>) : {};
  const from = given.requestedFrom;
  return {
    dryRun: given.dryRun === true,
    rerun: given.rerun === true,
    requestedFrom: typeof from === 'string' && /^[\x20-\x7e]{1,200}$/.test(from) ? from : null,
  };
}
