/** Revoke-iam Lambda (lambdas/actions/revoke-iam.ts). */
import { type RevokeInput, revokeIam } from '../actions/revoke-iam.js';
import { type Reach, reachFromEnvironment } from '../clients/reach.js';
import type { BudgetSettings } from '../core/budget.js';
import type { Recorded } from '../incident/journal.js';
import { underSignedPlan } from '../incident/mandate.js';
import { IncidentStore } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export const revokeIamHandler =
  (reach: Reach, options: { revokeSharedRoles: boolean; budget: BudgetSettings }, store: IncidentStore) =>
  (input: RevokeInput & Recorded) =>
    underSignedPlan(
      store,
      input,
      'revoke-iam',
      (journal) => revokeIam(input, reach(input.plan.finding), options, journal),
      options.budget,
    );

export const handler = lazyHandler(() =>
  revokeIamHandler(
    reachFromEnvironment('revoke-iam'),
    settingsFromEnvironment().settings,
    IncidentStore.fromEnvironment(),
  ),
);
