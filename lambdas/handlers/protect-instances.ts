/** Protect-instances Lambda, one instance per invocation (lambdas/actions/protect-instances.ts). */
import { type ProtectInput, protectInstance } from '../actions/protect-instances.js';
import { type Reach, reachFromEnvironment } from '../clients/reach.js';
import { IncidentStore, journalOf, type Recorded } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';

export const protectInstancesHandler =
  (reach: Reach, store: IncidentStore) => (input: ProtectInput & Recorded) =>
    protectInstance(input, reach(input.plan.finding), journalOf(store, input));

export const handler = lazyHandler(() =>
  protectInstancesHandler(reachFromEnvironment('protect-instances'), IncidentStore.fromEnvironment()),
);
