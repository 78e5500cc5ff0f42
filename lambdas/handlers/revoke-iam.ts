/** Revoke-iam Lambda (lambdas/actions/revoke-iam.ts). */
import { type RevokeInput, type RevokePorts, revokeIam } from '../actions/revoke-iam.js';
import { awsClients } from '../clients/aws.js';
import type { BudgetSettings } from '../incident/budget.js';
import { IncidentStore, journalOf, type Recorded } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export const revokeIamHandler =
  (
    ports: RevokePorts,
    options: { revokeSharedRoles: boolean; budget: BudgetSettings },
    store: IncidentStore,
  ) =>
  (input: RevokeInput & Recorded) =>
    revokeIam(input, ports, options, journalOf(store, input, options.budget));

export const handler = lazyHandler(() =>
  revokeIamHandler(awsClients(), settingsFromEnvironment().settings, IncidentStore.fromEnvironment()),
);
