/**
 * Every action's Lambda, one shape: the input checked against the signed plan (mandate.ts), then the
 * action's contain with the clients of the finding's account and region and a journal bound to the
 * incident. Each action's `handler.ts` is one line over this; the local runner and the tests build the
 * same handler with their own ports.
 */
import type { Reach } from '../clients/reach.js';
import type { ActionResult } from '../core/action-result.js';
import type { ResponderSettings } from '../core/settings.js';
import type { Recorded } from '../incident/journal.js';
import { type Mandated, underSignedPlan } from '../incident/mandate.js';
import { IncidentStore } from '../incident/store.js';
import { reachFromEnvironment, settingsFromEnvironment } from '../settings.js';
import { lazyHandler } from '../shared/handler.js';
import type { AnyAction } from './action.js';

export const actionHandler =
  (action: AnyAction, reach: Reach, settings: ResponderSettings, store: IncidentStore) =>
  (input: Mandated & Recorded): Promise<ActionResult> =>
    underSignedPlan(
      store,
      input,
      action.spec,
      // The input is the one the plan signed for this action (checked above), so its own input type.
      (journal) => action.contain(input as never, { clients: reach(input.plan.finding), settings }, journal),
      settings.budget,
    );

/** The Lambda of an action, its ports from the environment. */
export const actionLambda = (action: AnyAction) =>
  lazyHandler(() =>
    actionHandler(
      action,
      reachFromEnvironment(action.spec.name),
      settingsFromEnvironment().settings,
      IncidentStore.fromEnvironment(),
    ),
  );
