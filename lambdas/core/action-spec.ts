/**
 * What an action is, as data: the spec each action folder declares (lambdas/actions/<name>/spec.ts) and
 * the registry lists (lambdas/actions/registry.ts). Everything that must know the actions (the plan, the
 * approvals, release, recover, the permissions, the state machine, the local runner, the stack) reads
 * the specs it is given; nothing here names an action.
 */
import type { BudgetKind } from './budget.js';
import type { FunctionNeeds, IamNeed, RbacRule } from './needs.js';

/** What a finding must name for an action to apply to it; the action applies when any of its kinds is named. */
export type AppliesTo =
  /** a Kubernetes workload or pod */
  | 'workload'
  /** an EC2 instance */
  | 'instances'
  /** an EC2 instance that is a node of a named cluster */
  | 'cluster-instances'
  /** an IAM role (an access key's) */
  | 'role';

/** What an action acts on: a failed lookup of such targets leaves it incomplete (identification.ts). */
export type TargetKind = 'pods' | 'nodes' | 'instances' | 'roles';

/** The lists of the identification a per-target step runs over (a Map state, one target per invocation). */
export type ItemList = 'nodes' | 'instances' | 'hosts';

/** The two phases of containment (see phasesOf). */
export type PhaseKey = 'contain' | 'cut';

/** The rules of the default playbook (lambdas/core/playbook.ts) an action can belong to. */
export type DefaultRule = 'role-credentials-used-elsewhere' | 'workload-or-host-compromise';

export type ActionSpec = {
  /** Its name in cdk.json, the record, the notification and the commands: `cordon-nodes`. */
  name: string;
  /** Where its result sits in its phase's output and the state: `cordonNodes`. */
  resultKey: string;
  /** Its function's construct id (logical ids derive from it): `CordonNodes`. */
  functionId: string;
  /** The Task state that invokes its function; per target, `<Map state>Item`. */
  state: string;
  /** Its function's description. */
  description: string;
  /** The state's comment. */
  comment: string;
  /** Its function's Lambda timeout. */
  timeoutSeconds: number;
  /** Its phase, and its branch there: a branch runs its actions in registry order, each after the other. */
  phase: PhaseKey;
  branch: string;
  /** What it acts on. */
  targetKind: TargetKind;
  /** Once per target of this identification list, or (null) once on the whole identification. */
  items: ItemList | null;
  /** The targets the identification held back (limits, protection) that it would have acted on. */
  heldBack: 'pod' | 'node' | 'instance' | null;
  /** The budget across findings it spends on each target it changes (lambdas/core/budget.ts), if any. */
  budget: BudgetKind | null;
  /** When it applies to a finding: any of these named. */
  appliesTo: readonly AppliesTo[];
  /** It changes a cluster: it acts only on a cluster the responder may act on. */
  changesCluster: boolean;
  /**
   * It cuts a host off the network: held back on a node of a cluster unless `isolateClusterNodes` is set
   * (its pods and its kubelet would be cut off the API server).
   */
  cutsClusterNodes: boolean;
  /** The rules of the default playbook that run it. */
  defaultRules: readonly DefaultRule[];
  /** Its entries are evidence: never undone, and recover waits for them. */
  evidence: boolean;
  /**
   * Undoing it gives back what an attacker would want (IAM): by default (`secondPerson`), a release that
   * would undo it needs a second, different person's countersignature.
   */
  secondPerson?: boolean;
  /** What its function needs to contain (IAM, RBAC, the record key, its Kubernetes group). */
  contain: FunctionNeeds;
  /** What the Release function needs to undo it. */
  undo: { iam: readonly IamNeed[]; rbac: readonly RbacRule[] };
};

/** Evidence collection: it runs whenever anything is contained, and changes nothing. Not actions. */
export const EVIDENCE_STEPS = [
  'collect-pod-evidence',
  'collect-host-evidence',
  'collect-credential-activity',
] as const;
export type EvidenceStep = (typeof EVIDENCE_STEPS)[number];

/** Where each evidence step runs and puts its result. */
export const EVIDENCE: Record<EvidenceStep, { resultKey: string; branch: string; items: ItemList | null }> = {
  'collect-pod-evidence': { resultKey: 'podEvidence', branch: 'PodEvidence', items: null },
  'collect-host-evidence': { resultKey: 'hostEvidence', branch: 'HostEvidence', items: 'instances' },
  'collect-credential-activity': {
    resultKey: 'credentialActivity',
    branch: 'CredentialActivity',
    items: null,
  },
};

/** A step of containment: an action's name, or an evidence step. */
export type ContainStep = string;

export type Phase = {
  key: PhaseKey | 'approved';
  state: string;
  branches: [string, ContainStep[]][];
};

const PHASE_STATES: Record<PhaseKey, string> = { contain: 'Contain', cut: 'Cut' };

/**
 * The two phases of containment, each a Parallel state whose output goes to `$.<key>`; each branch runs
 * its steps in order, whether the one before succeeded or failed. First, without waiting on anything:
 * pods isolated then their nodes cordoned, instances protected, and the evidence collected (pods; hosts
 * through Systems Manager). Then what would destroy or cut off that evidence: host isolation (after the
 * node is cordoned; its quarantine group leaves the SSM agent no route), IAM revocation (it can take the
 * agent's permissions away; so can revoking a role's sessions), and snapshots (after the host capture, as
 * the practice orders them). The branches come in the order of their first action in the registry; the
 * evidence branches close the first phase.
 */
export function phasesOf(specs: readonly ActionSpec[]): Phase[] {
  return (['contain', 'cut'] as const).map((key) => {
    const branches: [string, ContainStep[]][] = [];
    for (const spec of specs.filter((candidate) => candidate.phase === key)) {
      const branch = branches.find(([name]) => name === spec.branch);
      if (branch) branch[1].push(spec.name);
      else branches.push([spec.branch, [spec.name]]);
    }
    if (key === 'contain') for (const step of EVIDENCE_STEPS) branches.push([EVIDENCE[step].branch, [step]]);
    return { key, state: PHASE_STATES[key], branches };
  });
}

const capitalized = (key: string) => `${key[0]?.toUpperCase()}${key.slice(1)}`;

/**
 * The phases when some actions wait for a person's approval: those actions leave their phase for a last
 * one (`approved`), a branch each, so that every other action runs, and finishes, before any waits.
 */
export function phasesFor(specs: readonly ActionSpec[], gated: readonly string[]): Phase[] {
  const phases = phasesOf(specs);
  if (gated.length === 0) return phases;
  const waits = (step: ContainStep) => gated.includes(step);
  return [
    ...phases.map((phase) => ({
      ...phase,
      branches: phase.branches.map(([name, steps]): [string, ContainStep[]] => [
        name,
        steps.filter((step) => !waits(step)),
      ]),
    })),
    {
      key: 'approved',
      state: 'AwaitApprovals',
      branches: specs
        .filter((spec) => waits(spec.name))
        .map((spec): [string, ContainStep[]] => [`Approved${capitalized(spec.resultKey)}`, [spec.name]]),
    },
  ];
}

/** The state that waits for the approval of an action (the replay binds request-approval to it). */
export const approvalStateOf = (spec: Pick<ActionSpec, 'resultKey'>): string =>
  `Await${capitalized(spec.resultKey)}Approval`;

/** Where a step's result sits in its phase's output. */
export function resultKeyOf(specs: readonly ActionSpec[], step: ContainStep): string {
  const key = (EVIDENCE as Record<string, { resultKey: string }>)[step]?.resultKey;
  const found = key ?? specs.find((spec) => spec.name === step)?.resultKey;
  if (!found) throw new Error(`no action or evidence step is named ${step}`);
  return found;
}

/** The identification list a step runs over, or null when it runs on the whole identification. */
export function itemsOf(specs: readonly ActionSpec[], step: ContainStep): ItemList | null {
  const evidence = (EVIDENCE as Record<string, { items: ItemList | null }>)[step];
  return evidence ? evidence.items : (specs.find((spec) => spec.name === step)?.items ?? null);
}

/** The phase a step runs in (without approvals). */
export const phaseOf = (specs: readonly ActionSpec[], step: ContainStep): Phase =>
  phasesOf(specs).find((phase) => phase.branches.some(([, steps]) => steps.includes(step))) as Phase;

/** An evidence step as the mandate checks it: its name and its list. */
export const evidenceStep = (step: EvidenceStep): { name: string; items: ItemList | null } => ({
  name: step,
  items: EVIDENCE[step].items,
});
