/** The containment actions, in the order the state machine runs them. Identify and notify always run. */
export const ACTIONS = [
  'isolate-pods',
  'cordon-nodes',
  'protect-instances',
  'revoke-iam',
  'snapshot-volumes',
] as const;
export type ActionName = (typeof ACTIONS)[number];

/** Actions that change the cluster, and so need the cluster to be one the responder may act on. */
export const KUBERNETES_ACTIONS: readonly ActionName[] = ['isolate-pods', 'cordon-nodes'];

/** Where each action's result sits in the execution state (the Contain step's output). */
export const RESULT_KEYS: Record<ActionName, string> = {
  'isolate-pods': 'isolatePods',
  'cordon-nodes': 'cordonNodes',
  'protect-instances': 'protectInstances',
  'revoke-iam': 'revokeIam',
  'snapshot-volumes': 'snapshotVolumes',
};
