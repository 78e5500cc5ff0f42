/** Protect-instances Lambda, one instance per invocation (lambdas/actions/protect-instances.ts). */
import { type ProtectPorts, protectInstance } from '../actions/protect-instances.js';
import { awsClients } from '../clients/aws.js';
import { eksKubernetes } from '../clients/kubernetes.js';
import { lazyHandler } from '../shared/handler.js';

export const protectInstancesHandler =
  (ports: ProtectPorts) => (input: Parameters<typeof protectInstance>[0]) =>
    protectInstance(input, ports);

export const handler = lazyHandler(() => {
  const clients = awsClients();
  return protectInstancesHandler({ ...clients, kubernetes: eksKubernetes(clients.eks) });
});
