/**
 * The budget across findings (store.ts; the decisions are lambdas/core/budget.ts): read, decide, then
 * write on condition that nobody wrote in between (the item's version), again until it holds, so that
 * concurrent findings count exactly.
 */
import { type BudgetDecision, type BudgetKind, budgetKey, decide, type Spend } from '../core/budget.js';
import type { RecordTable } from './table.js';

/** How often a budget write is tried against concurrent writers before the action fails (and is retried). */
const BUDGET_ATTEMPTS = 50;

export async function spend(
  table: RecordTable,
  request: { kind: BudgetKind; scope: string; target: string; findingId: string; limit: number },
): Promise<BudgetDecision> {
  const key = budgetKey(request.kind, request.scope);
  for (let attempt = 0; attempt < BUDGET_ATTEMPTS; attempt++) {
    const { spent, version } = await table.readSpending(key);
    const decision = decide(spent as Spend[], { ...request, now: new Date() });
    if (!decision.granted || !decision.changed) return decision;
    if (await table.writeSpending(key, decision.spent, version)) return decision;
    // Another finding spent at the same moment: read again, after a short random pause.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * Math.min(attempt + 1, 10)));
  }
  throw new Error(
    `the budget ${key} could not be updated after ${BUDGET_ATTEMPTS} attempts: too many findings at once`,
  );
}
