/** Snapshot-volumes Lambda, one instance per invocation (lambdas/actions/snapshot-volumes.ts). */
import { type SnapshotInput, snapshotVolumes } from '../actions/snapshot-volumes.js';
import { type Reach, reachFromEnvironment } from '../clients/reach.js';
import { IncidentStore, journalOf, type Recorded } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';

export const snapshotVolumesHandler =
  (reach: Reach, store: IncidentStore) => (input: SnapshotInput & Recorded) =>
    snapshotVolumes(input, reach(input.plan.finding), journalOf(store, input));

export const handler = lazyHandler(() =>
  snapshotVolumesHandler(reachFromEnvironment('snapshot-volumes'), IncidentStore.fromEnvironment()),
);
