/** Snapshot-volumes Lambda, one instance per invocation (lambdas/actions/snapshot-volumes.ts). */
import { type SnapshotInput, snapshotVolumes } from '../actions/snapshot-volumes.js';
import { awsClients } from '../clients/aws.js';
import { IncidentStore, journalOf, type Recorded } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';

export const snapshotVolumesHandler =
  (ports: Parameters<typeof snapshotVolumes>[1], store: IncidentStore) => (input: SnapshotInput & Recorded) =>
    snapshotVolumes(input, ports, journalOf(store, input));

export const handler = lazyHandler(() =>
  snapshotVolumesHandler(awsClients(), IncidentStore.fromEnvironment()),
);
