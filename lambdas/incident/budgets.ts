/**
 * The budget across findings (store.ts; the decisions are lambdas/core/budget.ts): read, decide, then
 * write on condition that nobody wrote in between (the item's version), again until it holds, so that
 * concurrent findings count exactly. Each write is signed with the record key for the scope and the
 * version it makes: spending someone wrote into the table (to hold back every containment) does not
 * verify, and is set aside as if the item were empty, which is what deleting it would have done.
 */
import { type BudgetDecision, type BudgetKind, budgetKey, decide, type Spend } from '../core/budget.js';
import type { RecordKey, Signable } from './signature.js';
import type { RecordTable } from './table.js';

/** How often a budget write is tried against concurrent writers before the action fails (and is retried). */
const BUDGET_ATTEMPTS = 50;

/** What a budget item's MAC covers: its scope, its version and its spending. */
export const budgetView = (key: string, version: number, spent: readonly Spend[]): Signable => ({
  kind: 'budget',
  key,
  version,
  spent: [...spent],
});

/** A decision, and why the spending found in the table was set aside, if it was. */
export type SpendOutcome = BudgetDecision & { setAside: string | null };

export async function spend(
  table: RecordTable,
  recordKey: RecordKey,
  request: { kind: BudgetKind; scope: string; target: string; findingId: string; limit: number },
): Promise<SpendOutcome> {
  const key = budgetKey(request.kind, request.scope);
  let setAside: string | null = null;
  for (let attempt = 0; attempt < BUDGET_ATTEMPTS; attempt++) {
    const read = await table.readSpending(key);
    const spent = read.spent as Spend[];
    const genuine =
      read.version === 0 ||
      (read.mac !== null && (await recordKey.verify(budgetView(key, read.version, spent), read.mac)));
    if (!genuine)
      setAside = `the spending of ${key} in the incident table (version ${read.version}) failed verification: set aside, as someone other than the responder wrote it`;
    const decision = decide(genuine ? spent : [], { ...request, now: new Date() });
    // An unverified item is replaced even when nothing changed: the next reader finds it signed.
    if (!decision.granted || (!decision.changed && genuine)) return { ...decision, setAside };
    const mac = await recordKey.sign(budgetView(key, read.version + 1, decision.spent));
    if (await table.writeSpending(key, decision.spent, read.version, mac)) return { ...decision, setAside };
    // Another finding spent at the same moment: read again, after a short random pause.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * Math.min(attempt + 1, 10)));
  }
  throw new Error(
    `the budget ${key} could not be updated after ${BUDGET_ATTEMPTS} attempts: too many findings at once`,
  );
}
