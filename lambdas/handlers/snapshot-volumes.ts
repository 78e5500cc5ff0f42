/** Snapshot-volumes Lambda, one instance per invocation (lambdas/actions/snapshot-volumes.ts). */
import { type SnapshotInput, snapshotVolumes } from '../actions/snapshot-volumes.js';
import { type Reach, reachFromEnvironment } from '../clients/reach.js';
import type { Recorded } from '../incident/journal.js';
import { underSignedPlan } from '../incident/mandate.js';
import { IncidentStore } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';

export const snapshotVolumesHandler =
  (reach: Reach, store: IncidentStore) => (input: SnapshotInput & Recorded) =>
    underSignedPlan(store, input, 'snapshot-volumes', (journal) =>
      snapshotVolumes(input, reach(input.plan.finding), journal),
    );

export const handler = lazyHandler(() =>
  snapshotVolumesHandler(reachFromEnvironment('snapshot-volumes'), IncidentStore.fromEnvironment()),
);
