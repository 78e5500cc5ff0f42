/** Isolate-pods Lambda: quarantine label and deny-all NetworkPolicy (lambdas/actions/isolate-pods.ts). */
import { EKSClient } from '@aws-sdk/client-eks';
import { type IsolateInput, isolatePods } from '../actions/isolate-pods.js';
import { eksKubernetes, type Kubernetes } from '../clients/kubernetes.js';
import { namedCalls } from '../clients/named-calls.js';
import { IncidentStore, journalOf, type Recorded } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export const isolatePodsHandler =
  (
    kubernetes: (cluster: string) => Promise<Kubernetes>,
    options: { stripPodLabels: boolean },
    store: IncidentStore,
  ) =>
  (input: IsolateInput & Recorded) =>
    isolatePods(input, kubernetes, options, journalOf(store, input));

export const handler = lazyHandler(() =>
  isolatePodsHandler(
    eksKubernetes(namedCalls(new EKSClient({}))),
    settingsFromEnvironment().settings,
    IncidentStore.fromEnvironment(),
  ),
);
