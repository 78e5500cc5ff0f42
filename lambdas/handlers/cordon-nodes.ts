/** Cordon-nodes Lambda, one node per invocation (lambdas/actions/cordon-nodes.ts). */
import { EKSClient } from '@aws-sdk/client-eks';
import { cordonNode } from '../actions/cordon-nodes.js';
import { eksKubernetes, type Kubernetes } from '../clients/kubernetes.js';
import { lazyHandler } from '../shared/handler.js';

export const cordonNodesHandler =
  (kubernetes: (cluster: string) => Promise<Kubernetes>) => (input: Parameters<typeof cordonNode>[0]) =>
    cordonNode(input, kubernetes);

export const handler = lazyHandler(() => cordonNodesHandler(eksKubernetes(new EKSClient({}))));
