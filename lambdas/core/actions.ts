/** The containment actions, in the order the state machine runs them. Identify and notify always run. */
export const ACTIONS = [
  'isolate-pods',
  'cordon-nodes',
  'isolate-host',
  'protect-instances',
  'revoke-iam',
  'snapshot-volumes',
] as const;
export type ActionName = (typeof ACTIONS)[number];

/**
 * Actions that change the cluster, and so need the cluster to be one the responder may act on. Isolating
 * a node's host cuts its pods and its kubelet off the API server: it changes the cluster too.
 */
export const KUBERNETES_ACTIONS: readonly ActionName[] = ['isolate-pods', 'cordon-nodes', 'isolate-host'];

/** Where each action's result sits in the execution state (the Contain step's output). */
export const RESULT_KEYS: Record<ActionName, string> = {
  'isolate-pods': 'isolatePods',
  'cordon-nodes': 'cordonNodes',
  'isolate-host': 'isolateHost',
  'protect-instances': 'protectInstances',
  'revoke-iam': 'revokeIam',
  'snapshot-volumes': 'snapshotVolumes',
};
