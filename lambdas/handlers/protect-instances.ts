/** Protect-instances Lambda, one instance per invocation (lambdas/actions/protect-instances.ts). */
import { type ProtectInput, protectInstance } from '../actions/protect-instances.js';
import { type Reach, reachFromEnvironment } from '../clients/reach.js';
import type { Recorded } from '../incident/journal.js';
import { underSignedPlan } from '../incident/mandate.js';
import { IncidentStore } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';

export const protectInstancesHandler =
  (reach: Reach, store: IncidentStore) => (input: ProtectInput & Recorded) =>
    underSignedPlan(store, input, 'protect-instances', (journal) =>
      protectInstance(input, reach(input.plan.finding), journal),
    );

export const handler = lazyHandler(() =>
  protectInstancesHandler(reachFromEnvironment('protect-instances'), IncidentStore.fromEnvironment()),
);
