/** Isolate-host Lambda, one instance per invocation (lambdas/actions/isolate-host.ts). */
import { type IsolateHostInput, type IsolateHostPorts, isolateHost } from '../actions/isolate-host.js';
import { awsClients } from '../clients/aws.js';
import type { BudgetSettings } from '../incident/budget.js';
import { IncidentStore, journalOf, type Recorded } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export const isolateHostHandler =
  (
    ports: IsolateHostPorts,
    options: { isolateClusterNodes: boolean; budget: BudgetSettings },
    store: IncidentStore,
  ) =>
  (input: IsolateHostInput & Recorded) =>
    isolateHost(input, ports, options, journalOf(store, input, options.budget));

export const handler = lazyHandler(() =>
  isolateHostHandler(awsClients(), settingsFromEnvironment().settings, IncidentStore.fromEnvironment()),
);
