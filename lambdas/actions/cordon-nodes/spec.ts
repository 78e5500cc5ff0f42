/** cordon-nodes, as data: where it runs, when it applies, what it needs to contain and to undo. */
import type { ActionSpec } from '../../core/action-spec.js';
import { CLUSTER_ENDPOINT, RECORDS, SIGNS } from '../../core/needs.js';

export const spec = {
  name: 'cordon-nodes',
  resultKey: 'cordonNodes',
  functionId: 'CordonNodes',
  state: 'CordonNodesItem',
  description: 'Cordons a node',
  comment: 'Cordon each node',
  timeoutSeconds: 60,
  phase: 'contain',
  branch: 'Isolation',
  targetKind: 'nodes',
  items: 'nodes',
  heldBack: 'node',
  budget: 'nodes',
  appliesTo: ['workload', 'cluster-instances'],
  changesCluster: true,
  cutsClusterNodes: false,
  defaultRules: ['workload-or-host-compromise'],
  evidence: false,
  contain: {
    kubernetesGroup: 'guardduty-responder-cordon',
    incidentTable: RECORDS,
    recordKey: SIGNS,
    iam: [CLUSTER_ENDPOINT],
    rbac: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] }],
  },
  undo: { iam: [], rbac: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] }] },
} as const satisfies ActionSpec;
