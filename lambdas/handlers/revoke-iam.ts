/** Revoke-iam Lambda (lambdas/actions/revoke-iam.ts). */
import { type RevokeInput, revokeIam } from '../actions/revoke-iam.js';
import { type Reach, reachFromEnvironment } from '../clients/reach.js';
import type { BudgetSettings } from '../incident/budget.js';
import { IncidentStore, journalOf, type Recorded } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export const revokeIamHandler =
  (reach: Reach, options: { revokeSharedRoles: boolean; budget: BudgetSettings }, store: IncidentStore) =>
  (input: RevokeInput & Recorded) =>
    revokeIam(input, reach(input.plan.finding), options, journalOf(store, input, options.budget));

export const handler = lazyHandler(() =>
  revokeIamHandler(
    reachFromEnvironment('revoke-iam'),
    settingsFromEnvironment().settings,
    IncidentStore.fromEnvironment(),
  ),
);
