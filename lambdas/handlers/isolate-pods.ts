/** Isolate-pods Lambda: quarantine label and deny-all NetworkPolicy (lambdas/actions/isolate-pods.ts). */
import { type IsolateInput, isolatePods } from '../actions/isolate-pods.js';
import { type Reach, reachFromEnvironment } from '../clients/reach.js';
import type { Recorded } from '../incident/journal.js';
import { underSignedPlan } from '../incident/mandate.js';
import { IncidentStore } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export const isolatePodsHandler =
  (reach: Reach, options: { stripPodLabels: boolean }, store: IncidentStore) =>
  (input: IsolateInput & Recorded) =>
    underSignedPlan(store, input, 'isolate-pods', (journal) =>
      isolatePods(input, reach(input.plan.finding).kubernetes, options, journal),
    );

export const handler = lazyHandler(() =>
  isolatePodsHandler(
    reachFromEnvironment('isolate-pods'),
    settingsFromEnvironment().settings,
    IncidentStore.fromEnvironment(),
  ),
);
