/** snapshot-volumes behind the one shape every action has (lambdas/actions/action.ts). Evidence: no undo. */
import type { Action } from '../action.js';
import {
  snapshotVolumes as contain,
  type SnapshotInput,
  type VolumeBefore,
  VolumeBeforeSchema,
} from './snapshot-volumes.js';
import { spec } from './spec.js';

export const snapshotVolumes: Action<SnapshotInput, VolumeBefore> = {
  spec,
  targets: (identification) => identification.instances.map((instance) => `instance ${instance.instanceId}`),
  contain: (input, { clients }, journal) => contain(input, clients, journal),
  before: VolumeBeforeSchema,
  resourceOf: () => null,
  // Recover waits for every snapshot to complete before an instance goes; one missing stops it.
  recover: (entry) => {
    const snapshotId = entry.after?.snapshotId;
    const complete = typeof snapshotId === 'string' && entry.status === 'ok';
    return [
      {
        kind: 'snapshot',
        instanceId: entry.before.instanceId,
        snapshotId: complete ? snapshotId : null,
        missing: complete ? '' : `${entry.target}: ${entry.detail ?? entry.status}`,
      },
    ];
  },
};
