/** Isolate-host Lambda, one instance per invocation (lambdas/actions/isolate-host.ts). */
import { type IsolateHostInput, isolateHost } from '../actions/isolate-host.js';
import { type Reach, reachFromEnvironment } from '../clients/reach.js';
import type { BudgetSettings } from '../core/budget.js';
import type { Recorded } from '../incident/journal.js';
import { underSignedPlan } from '../incident/mandate.js';
import { IncidentStore } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export const isolateHostHandler =
  (reach: Reach, options: { isolateClusterNodes: boolean; budget: BudgetSettings }, store: IncidentStore) =>
  (input: IsolateHostInput & Recorded) =>
    underSignedPlan(
      store,
      input,
      'isolate-host',
      (journal) => isolateHost(input, reach(input.plan.finding), options, journal),
      options.budget,
    );

export const handler = lazyHandler(() =>
  isolateHostHandler(
    reachFromEnvironment('isolate-host'),
    settingsFromEnvironment().settings,
    IncidentStore.fromEnvironment(),
  ),
);
