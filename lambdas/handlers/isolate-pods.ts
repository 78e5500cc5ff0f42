/** Isolate-pods Lambda: quarantine label and deny-all NetworkPolicy (lambdas/actions/isolate-pods.ts). */
import { EKSClient } from '@aws-sdk/client-eks';
import { isolatePods } from '../actions/isolate-pods.js';
import { eksKubernetes, type Kubernetes } from '../clients/kubernetes.js';
import { lazyHandler } from '../shared/handler.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export const isolatePodsHandler =
  (kubernetes: (cluster: string) => Promise<Kubernetes>, options: { stripPodLabels: boolean }) =>
  (input: Parameters<typeof isolatePods>[0]) =>
    isolatePods(input, kubernetes, options);

export const handler = lazyHandler(() =>
  isolatePodsHandler(eksKubernetes(new EKSClient({})), settingsFromEnvironment().settings),
);
