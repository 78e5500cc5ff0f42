/**
 * How each action of the plan ended, read from whatever the execution reached: the plan's decision, the
 * items of its results, the errors its Catch put in their place, and the lookups that left its targets
 * unknown. The notification, the verdict and the incident report all read these. Pure.
 */
import { z } from 'zod';
import { actionNamed, SPECS } from '../actions/registry.js';
import type { ActionItem, ActionResult } from '../core/action-result.js';
import { phaseOf, resultKeyOf } from '../core/action-spec.js';
import {
  type ActionDecision,
  type ActionName,
  DRY_RUN,
  type ResponsePlan,
  SAMPLE,
  specOf,
} from '../core/plan.js';
import { type Identification, leavesIncomplete } from '../identify/identify.js';

/** A step's output in the execution state, or the error its Catch put in the same place. */
export const StepError = z.looseObject({ Error: z.string(), Cause: z.string().nullish() });
export type StepError = z.infer<typeof StepError>;

/** Runtime findings carry attacker-controlled strings: no control characters, bounded length. */
export function clean(value: unknown, max = 300): string {
  const text = String(value ?? '')
    .replace(/\p{Cc}+/gu, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * ok: it changed what it had to; failed: a step or an item failed, or its targets could not be looked
 * up; skipped: it ran and had nothing to change; held-back, not-applicable: the plan's decision;
 * would: a dry run (or a sample finding) holds back what a real run takes; not-run: the execution never
 * reached it.
 */
export type ActionStatus = 'ok' | 'failed' | 'skipped' | 'held-back' | 'not-applicable' | 'would' | 'not-run';

export type ActionOutcome = {
  action: ActionName;
  decision: ActionDecision;
  status: ActionStatus;
  /** The plan's reason, why it did nothing, or what failed. */
  why: string | null;
  items: ActionItem[];
  /** Errors of its steps (a Catch), `Error: Cause`. */
  errors: string[];
  /** Lookups that failed and leave its targets unknown. */
  incomplete: string[];
  /** Targets the budget across findings held back, `target: reason`. */
  held: string[];
  /** A dry run's (or a sample finding's): what the action would act on, as it decides that itself. */
  wouldActOn: string[];
};

/** The state of an execution as far as it got; the phases' outputs are `contain`, `cut`, `approved`. */
export type ExecutionState = {
  detail?: unknown;
  claim?: unknown;
  identify?: unknown;
  contain?: unknown;
  cut?: unknown;
  approved?: unknown;
};

const isResult = (value: unknown): value is ActionResult =>
  typeof value === 'object' && value !== null && 'action' in value && 'items' in value;

export const stepError = (value: unknown): string | null => {
  const error = StepError.safeParse(value);
  return error.success ? `${clean(error.data.Error)}: ${clean(error.data.Cause, 500)}` : null;
};

function outcomeOf(
  plan: ResponsePlan,
  found: Identification,
  state: ExecutionState,
  action: ActionName,
): ActionOutcome {
  const decision = plan.actions.find((entry) => entry.action === action);
  const base = { action, items: [], errors: [], incomplete: [], held: [], wouldActOn: [] };
  if (!decision) return { ...base, decision: 'not-applicable', status: 'not-applicable', why: null };
  if (decision.decision !== 'planned') {
    // A dry run and a sample finding plan what a real response takes, and take nothing.
    if (decision.reason === DRY_RUN || decision.reason === SAMPLE) {
      const wouldActOn = actionNamed(action)?.targets(found, plan) ?? [];
      return { ...base, decision: decision.decision, status: 'would', why: decision.reason, wouldActOn };
    }
    return { ...base, decision: decision.decision, status: decision.decision, why: decision.reason };
  }
  const spec = specOf(SPECS, action);
  // A lookup that failed leaves the action's targets unknown: it cannot be complete, whatever it did.
  const incomplete = found.errors
    .filter((error) => leavesIncomplete(error, spec.targetKind))
    .map((error) => `the lookup of ${clean(error.step)} failed: ${clean(error.message, 500)}`);
  // An action that waited for approval ran in the last phase (phasesFor).
  const key = resultKeyOf(SPECS, action);
  const phase =
    state.approved && key in (state.approved as object) ? state.approved : state[phaseOf(SPECS, action).key];
  const planned = { ...base, decision: 'planned' as const, incomplete };
  if (phase === undefined)
    return {
      ...planned,
      status: incomplete.length > 0 ? 'failed' : 'not-run',
      why: 'the execution did not reach it',
    };
  const phaseError = stepError(phase);
  if (phaseError)
    return { ...planned, status: 'failed', why: `its phase failed: ${phaseError}`, errors: [phaseError] };
  const raw = (phase as Record<string, unknown>)[key];
  const entries = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const items: ActionItem[] = [];
  const skipped: string[] = [];
  const errors: string[] = [];
  for (const entry of entries) {
    const error = stepError(entry);
    if (error) errors.push(error);
    else if (isResult(entry)) {
      items.push(...entry.items);
      if (entry.skipped) skipped.push(entry.skipped);
    }
  }
  const failedItems = items.filter((i) => i.status === 'failed');
  const failed = incomplete.length > 0 || errors.length > 0 || failedItems.length > 0;
  const status = failed ? 'failed' : items.some((i) => i.status === 'ok') ? 'ok' : 'skipped';
  const why = failed
    ? ([
        ...errors,
        ...failedItems.map((i) => `${clean(i.target)}: ${clean(i.detail, 400)}`),
        ...incomplete,
      ][0] ?? null)
    : [...new Set(skipped)].join('; ') || (entries.length === 0 ? 'nothing identified to act on' : null);
  return {
    ...planned,
    status,
    why,
    items,
    errors,
    held: items.flatMap((i) => (i.held ? [`${clean(i.target)}: ${clean(i.held, 400)}`] : [])),
  };
}

/** Every action of the plan, in its order. */
export function actionOutcomes(
  plan: ResponsePlan,
  found: Identification,
  state: ExecutionState,
): ActionOutcome[] {
  return plan.actions.map((entry) => outcomeOf(plan, found, state, entry.action));
}
