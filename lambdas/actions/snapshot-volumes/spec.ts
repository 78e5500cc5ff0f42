/** snapshot-volumes, as data: where it runs, when it applies, what it needs to contain and to undo. */
import type { ActionSpec } from '../../core/action-spec.js';
import { RECORDS, SIGNS } from '../../core/needs.js';

export const spec = {
  name: 'snapshot-volumes',
  resultKey: 'snapshotVolumes',
  functionId: 'SnapshotVolumes',
  state: 'SnapshotVolumesItem',
  description: 'Snapshots the EBS volumes of an instance as evidence',
  comment: 'Snapshot the EBS volumes of each instance',
  timeoutSeconds: 60,
  phase: 'cut',
  branch: 'Identity',
  targetKind: 'instances',
  items: 'instances',
  heldBack: 'instance',
  budget: null,
  appliesTo: ['workload', 'instances'],
  changesCluster: false,
  cutsClusterNodes: false,
  defaultRules: ['workload-or-host-compromise'],
  evidence: true,
  contain: {
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
  undo: { iam: [], rbac: [] },
} as const satisfies ActionSpec;
