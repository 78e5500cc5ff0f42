/** Isolate-host Lambda, one instance per invocation (lambdas/actions/isolate-host.ts). */
import { type IsolateHostInput, isolateHost } from '../actions/isolate-host.js';
import { type Reach, reachFromEnvironment } from '../clients/reach.js';
import type { BudgetSettings } from '../incident/budget.js';
import { IncidentStore, journalOf, type Recorded } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export const isolateHostHandler =
  (reach: Reach, options: { isolateClusterNodes: boolean; budget: BudgetSettings }, store: IncidentStore) =>
  (input: IsolateHostInput & Recorded) =>
    isolateHost(input, reach(input.plan.finding), options, journalOf(store, input, options.budget));

export const handler = lazyHandler(() =>
  isolateHostHandler(
    reachFromEnvironment('isolate-host'),
    settingsFromEnvironment().settings,
    IncidentStore.fromEnvironment(),
  ),
);
