/** Protect-instances Lambda, one instance per invocation (lambdas/actions/protect-instances.ts). */
import { type ProtectInput, type ProtectPorts, protectInstance } from '../actions/protect-instances.js';
import { awsClients } from '../clients/aws.js';
import { eksKubernetes } from '../clients/kubernetes.js';
import { IncidentStore, journalOf, type Recorded } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';

export const protectInstancesHandler =
  (ports: ProtectPorts, store: IncidentStore) => (input: ProtectInput & Recorded) =>
    protectInstance(input, ports, journalOf(store, input));

export const handler = lazyHandler(() => {
  const clients = awsClients();
  return protectInstancesHandler(
    { ...clients, kubernetes: eksKubernetes(clients.eks) },
    IncidentStore.fromEnvironment(),
  );
});
