/** isolate-pods, as data: where it runs, when it applies, what it needs to contain and to undo. */
import type { ActionSpec } from '../../core/action-spec.js';
import { CLUSTER_ENDPOINT, quarantinePolicyRules, RECORDS, SIGNS } from '../../core/needs.js';

export const spec = {
  name: 'isolate-pods',
  resultKey: 'isolatePods',
  functionId: 'IsolatePods',
  state: 'IsolatePods',
  description: 'Isolates pods with a quarantine label and a deny-all NetworkPolicy',
  comment: 'Quarantine label and deny-all NetworkPolicy',
  timeoutSeconds: 120,
  phase: 'contain',
  branch: 'Isolation',
  targetKind: 'pods',
  items: null,
  heldBack: 'pod',
  budget: null,
  appliesTo: ['workload'],
  changesCluster: true,
  cutsClusterNodes: false,
  defaultRules: ['workload-or-host-compromise'],
  evidence: false,
  contain: {
    kubernetesGroup: 'guardduty-responder-isolate',
    incidentTable: RECORDS,
    recordKey: SIGNS,
    iam: [CLUSTER_ENDPOINT],
    rbac: [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'patch'] },
      ...quarantinePolicyRules(['list', 'create'], ['get', 'update']),
    ],
  },
  undo: {
    iam: [],
    rbac: [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch'] },
      ...quarantinePolicyRules(['create'], ['get', 'update', 'delete']),
    ],
  },
} as const satisfies ActionSpec;
