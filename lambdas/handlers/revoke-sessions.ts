/** Revoke-sessions Lambda (lambdas/actions/revoke-sessions.ts). */
import { type RevokeSessionsInput, revokeSessions } from '../actions/revoke-sessions.js';
import { type Reach, reachFromEnvironment } from '../clients/reach.js';
import type { BudgetSettings } from '../core/budget.js';
import type { Recorded } from '../incident/journal.js';
import { underSignedPlan } from '../incident/mandate.js';
import { IncidentStore } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export const revokeSessionsHandler =
  (reach: Reach, options: { budget: BudgetSettings }, store: IncidentStore) =>
  (input: RevokeSessionsInput & Recorded) =>
    underSignedPlan(
      store,
      input,
      'revoke-sessions',
      (journal) => revokeSessions(input, reach(input.plan.finding), journal),
      options.budget,
    );

export const handler = lazyHandler(() =>
  revokeSessionsHandler(
    reachFromEnvironment('revoke-sessions'),
    settingsFromEnvironment().settings,
    IncidentStore.fromEnvironment(),
  ),
);
