/** The containment actions, in the order the state machine runs them. Identify and notify always run. */
export const ACTIONS = [
  'isolate-pods',
  'cordon-nodes',
  'isolate-host',
  'protect-instances',
  'revoke-iam',
  'revoke-sessions',
  'snapshot-volumes',
] as const;
export type ActionName = (typeof ACTIONS)[number];

/**
 * Actions that change the cluster, and so need the cluster to be one the responder may act on. Isolating
 * a node's host cuts its pods and its kubelet off the API server: it changes the cluster too.
 */
export const KUBERNETES_ACTIONS: readonly ActionName[] = ['isolate-pods', 'cordon-nodes', 'isolate-host'];

/** Evidence collection: it runs whenever anything is contained, and changes nothing. */
export const EVIDENCE_STEPS = ['collect-pod-evidence', 'collect-host-evidence'] as const;
export type EvidenceStep = (typeof EVIDENCE_STEPS)[number];
/** The steps of containment: the actions and the evidence collection. */
export type ContainStep = ActionName | EvidenceStep;

/** Where each step's result sits in its phase's output. */
export const RESULT_KEYS: Record<ContainStep, string> = {
  'isolate-pods': 'isolatePods',
  'cordon-nodes': 'cordonNodes',
  'isolate-host': 'isolateHost',
  'protect-instances': 'protectInstances',
  'revoke-iam': 'revokeIam',
  'revoke-sessions': 'revokeSessions',
  'snapshot-volumes': 'snapshotVolumes',
  'collect-pod-evidence': 'podEvidence',
  'collect-host-evidence': 'hostEvidence',
};

/**
 * The steps that run once per identified target (a Map state), and the list of the identification they
 * take their targets from; the others run once on the whole identification.
 */
export const ITEMS_OF: Partial<Record<ContainStep, 'nodes' | 'instances' | 'hosts'>> = {
  'cordon-nodes': 'nodes',
  'isolate-host': 'hosts',
  'protect-instances': 'instances',
  'snapshot-volumes': 'instances',
  'collect-host-evidence': 'instances',
};

export type Phase = {
  key: 'contain' | 'cut' | 'approved';
  state: string;
  branches: [string, ContainStep[]][];
};

/**
 * The two phases of containment, each a Parallel state whose output goes to `$.<key>`; each branch runs
 * its steps in order, whether the one before succeeded or failed. First, without waiting on anything:
 * pods isolated then their nodes cordoned, instances protected, and the evidence collected (pods; hosts
 * through Systems Manager). Then what would destroy or cut off that evidence: host isolation (after the
 * node is cordoned; its quarantine group leaves the SSM agent no route), IAM revocation (it can take the
 * agent's permissions away; so can revoking a role's sessions), and snapshots (after the host capture, as
 * the practice orders them).
 */
export const PHASES: Phase[] = [
  {
    key: 'contain',
    state: 'Contain',
    branches: [
      ['Isolation', ['isolate-pods', 'cordon-nodes']],
      ['Protection', ['protect-instances']],
      ['PodEvidence', ['collect-pod-evidence']],
      ['HostEvidence', ['collect-host-evidence']],
    ],
  },
  {
    key: 'cut',
    state: 'Cut',
    branches: [
      ['Hosts', ['isolate-host']],
      ['Identity', ['revoke-iam', 'snapshot-volumes']],
      ['Sessions', ['revoke-sessions']],
    ],
  },
];

/**
 * The phases when some actions wait for a person's approval: those actions leave their phase for a last
 * one (`approved`), a branch each, so that every other action runs, and finishes, before any waits.
 */
export function phasesFor(gated: readonly ActionName[]): Phase[] {
  if (gated.length === 0) return PHASES;
  const waits = (step: ContainStep) => (gated as readonly string[]).includes(step);
  return [
    ...PHASES.map((phase) => ({
      ...phase,
      branches: phase.branches.map(([name, steps]): [string, ContainStep[]] => [
        name,
        steps.filter((step) => !waits(step)),
      ]),
    })),
    {
      key: 'approved',
      state: 'AwaitApprovals',
      branches: ACTIONS.filter(waits).map((action): [string, ContainStep[]] => [
        `Approved${RESULT_KEYS[action][0]?.toUpperCase()}${RESULT_KEYS[action].slice(1)}`,
        [action],
      ]),
    },
  ];
}

/** The phase a step runs in (without approvals). */
export const phaseOf = (step: ContainStep): Phase =>
  PHASES.find((phase) => phase.branches.some(([, steps]) => steps.includes(step))) as Phase;
