/** Cordon-nodes Lambda, one node per invocation (lambdas/actions/cordon-nodes.ts). */
import { type CordonInput, cordonNode } from '../actions/cordon-nodes.js';
import { type Reach, reachFromEnvironment } from '../clients/reach.js';
import type { BudgetSettings } from '../core/budget.js';
import type { Recorded } from '../incident/journal.js';
import { underSignedPlan } from '../incident/mandate.js';
import { IncidentStore } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export const cordonNodesHandler =
  (reach: Reach, options: { budget: BudgetSettings }, store: IncidentStore) =>
  (input: CordonInput & Recorded) =>
    underSignedPlan(
      store,
      input,
      'cordon-nodes',
      (journal) => cordonNode(input, reach(input.plan.finding).kubernetes, journal),
      options.budget,
    );

export const handler = lazyHandler(() =>
  cordonNodesHandler(
    reachFromEnvironment('cordon-nodes'),
    settingsFromEnvironment().settings,
    IncidentStore.fromEnvironment(),
  ),
);
