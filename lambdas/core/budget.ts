/**
 * The budget across findings: how many nodes a cluster may have cordoned, and how many hosts and roles an
 * account may have isolated and revoked, by all findings together, in a sliding hour. Fifty findings in
 * an hour (a compromised DaemonSet image, a worm) each within their own limits could otherwise take a
 * cluster down. Each scope's spending is one item of the incident table, changed only by a conditional
 * write on its version (lambdas/incident/budgets.ts), so concurrent executions count exactly. Pure
 * decisions here.
 */
import { z } from 'zod';

export const BudgetSchema = z.strictObject({
  /** Distinct nodes of one cluster cordoned in any hour, by all findings together. */
  nodesPerHour: z.number().int().min(0).default(6),
  /** Distinct hosts of one account isolated (security groups, Standby) in any hour. */
  hostsPerHour: z.number().int().min(0).default(5),
  /** Distinct roles (and instance profiles) of one account revoked in any hour. */
  rolesPerHour: z.number().int().min(0).default(5),
});
export type BudgetSettings = z.infer<typeof BudgetSchema>;
export const DEFAULT_BUDGET: BudgetSettings = BudgetSchema.parse({});

export type BudgetKind = 'nodes' | 'hosts' | 'roles';
const SETTING: Record<BudgetKind, keyof BudgetSettings> = {
  nodes: 'nodesPerHour',
  hosts: 'hostsPerHour',
  roles: 'rolesPerHour',
};
export const limitOf = (budget: BudgetSettings, kind: BudgetKind): number => budget[SETTING[kind]];

export const BUDGET_WINDOW_MS = 60 * 60 * 1000;

/** One resource acted on within the budget: the first finding that took it, and when. */
export type Spend = { target: string; findingId: string; at: string };

/** The table item of a scope's spending: `budget|nodes|cluster <account>/<region>/<name>`. */
export const budgetKey = (kind: BudgetKind, scope: string): string => `budget|${kind}|${scope}`;

export type BudgetDecision =
  | { granted: true; spent: Spend[]; changed: boolean }
  | { granted: false; reason: string };

/**
 * Whether `target` may be acted on, given what the scope spent: a target already spent on within the
 * hour (by any finding: a second finding on a cordoned node, a retry) costs nothing again; a new one needs
 * room under the limit. `spent` comes back without what left the window, with the target added.
 */
export function decide(
  previous: readonly Spend[],
  request: { kind: BudgetKind; scope: string; target: string; findingId: string; limit: number; now: Date },
): BudgetDecision {
  const since = request.now.getTime() - BUDGET_WINDOW_MS;
  const window = previous.filter((spend) => Date.parse(spend.at) > since);
  if (window.some((spend) => spend.target === request.target))
    return { granted: true, spent: window, changed: window.length !== previous.length };
  if (window.length >= request.limit) {
    const frees = new Date(Math.min(...window.map((spend) => Date.parse(spend.at))) + BUDGET_WINDOW_MS);
    return {
      granted: false,
      reason: `budget: ${window.length} ${request.kind} of ${request.scope} acted on in the last hour by ${new Set(window.map((s) => s.findingId)).size} finding(s), the limit of budget.${SETTING[request.kind]} (${request.limit})${window.length > 0 ? `; room again at ${frees.toISOString()}` : ''}`,
    };
  }
  const spend = { target: request.target, findingId: request.findingId, at: request.now.toISOString() };
  return { granted: true, spent: [...window, spend], changed: true };
}
