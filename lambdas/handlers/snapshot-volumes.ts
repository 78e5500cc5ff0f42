/** Snapshot-volumes Lambda, one instance per invocation (lambdas/actions/snapshot-volumes.ts). */
import { snapshotVolumes } from '../actions/snapshot-volumes.js';
import { awsClients } from '../clients/aws.js';
import { lazyHandler } from '../shared/handler.js';

export const snapshotVolumesHandler =
  (ports: Parameters<typeof snapshotVolumes>[1]) => (input: Parameters<typeof snapshotVolumes>[0]) =>
    snapshotVolumes(input, ports);

export const handler = lazyHandler(() => snapshotVolumesHandler(awsClients()));
