/** Cordon-nodes Lambda, one node per invocation (lambdas/actions/cordon-nodes.ts). */
import { EKSClient } from '@aws-sdk/client-eks';
import { type CordonInput, cordonNode } from '../actions/cordon-nodes.js';
import { eksKubernetes, type Kubernetes } from '../clients/kubernetes.js';
import { namedCalls } from '../clients/named-calls.js';
import type { BudgetSettings } from '../incident/budget.js';
import { IncidentStore, journalOf, type Recorded } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export const cordonNodesHandler =
  (
    kubernetes: (cluster: string) => Promise<Kubernetes>,
    options: { budget: BudgetSettings },
    store: IncidentStore,
  ) =>
  (input: CordonInput & Recorded) =>
    cordonNode(input, kubernetes, journalOf(store, input, options.budget));

export const handler = lazyHandler(() =>
  cordonNodesHandler(
    eksKubernetes(namedCalls(new EKSClient({}))),
    settingsFromEnvironment().settings,
    IncidentStore.fromEnvironment(),
  ),
);
