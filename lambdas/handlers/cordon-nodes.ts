/** Cordon-nodes Lambda, one node per invocation (lambdas/actions/cordon-nodes.ts). */
import { type CordonInput, cordonNode } from '../actions/cordon-nodes.js';
import { type Reach, reachFromEnvironment } from '../clients/reach.js';
import type { BudgetSettings } from '../incident/budget.js';
import { IncidentStore, journalOf, type Recorded } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export const cordonNodesHandler =
  (reach: Reach, options: { budget: BudgetSettings }, store: IncidentStore) =>
  (input: CordonInput & Recorded) =>
    cordonNode(input, reach(input.plan.finding).kubernetes, journalOf(store, input, options.budget));

export const handler = lazyHandler(() =>
  cordonNodesHandler(
    reachFromEnvironment('cordon-nodes'),
    settingsFromEnvironment().settings,
    IncidentStore.fromEnvironment(),
  ),
);
