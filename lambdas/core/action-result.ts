/** What every containment action returns: one item per target, with what was done and what to restore. */
import type { ActionName, ResponsePlan } from './plan.js';

export type ItemStatus = 'ok' | 'skipped' | 'failed';

export type ActionItem = {
  /** What the item is about: `pod shop/web-1`, `node ip-10-0-1-10…`, `instance i-…`, `role web-role`. */
  target: string;
  status: ItemStatus;
  /** What was done, or why not. */
  detail: string;
  /** Whether reading the effect back confirmed it; null when nothing was changed or could be read. */
  verified: boolean | null;
  /** What a person should know: traffic still allowed, credentials still valid for a while, … */
  caveats: string[];
  /** The state before the change, enough to put it back. */
  restore: Record<string, unknown> | null;
  /**
   * Why the budget across findings held this target back (lambdas/core/budget.ts): the response did not
   * contain it, and the incident is not contained. Absent otherwise.
   */
  held?: string;
};

export type ActionResult = {
  action: ActionName;
  /** Why the action did nothing at all (not planned, nothing identified to act on); null when it ran. */
  skipped: string | null;
  items: ActionItem[];
};

/** The plan's word on an action: null when planned, otherwise a result saying why nothing is done. */
export function unlessPlanned(plan: ResponsePlan, action: ActionName): ActionResult | null {
  const decision = plan.actions.find((entry) => entry.action === action);
  if (decision?.decision === 'planned') return null;
  const why = decision ? `${decision.decision}: ${decision.reason}` : `not in the playbook rule ${plan.rule}`;
  return { action, skipped: why, items: [] };
}

export const skippedResult = (action: ActionName, why: string): ActionResult => ({
  action,
  skipped: why,
  items: [],
});

export function item(
  target: string,
  status: ItemStatus,
  detail: string,
  extra: Partial<Pick<ActionItem, 'verified' | 'caveats' | 'restore'>> = {},
): ActionItem {
  return {
    target,
    status,
    detail,
    verified: extra.verified ?? null,
    caveats: extra.caveats ?? [],
    restore: extra.restore ?? null,
  };
}

/** A target the budget across findings held back: skipped, and marked so that the outcome says so. */
export const heldBack = (target: string, reason: string): ActionItem => ({
  ...item(target, 'skipped', `held back: ${reason}`),
  held: reason,
});
