/**
 * The journal: what an action (and the host capture) writes to its incident's record, and all it may
 * touch of the store. intend records the state before a change, signed, before the change is made; settle
 * signs the outcome after it; spend asks the budget across findings. Actions import this, never the store.
 */
import type { ActionItem, ItemStatus } from '../core/action-result.js';
import type { ContainStep } from '../core/action-spec.js';
import { type BudgetKind, type BudgetSettings, DEFAULT_BUDGET, limitOf } from '../core/budget.js';
import { logger } from '../shared/logger.js';
import type { GroupPurpose, OwnGroup } from './groups.js';
import { entryKey, type RecordEntry } from './record.js';
import type { Seal } from './signature.js';
import type { IncidentStore } from './store.js';

export type Journal = {
  /**
   * Records `before` for a target unless already recorded; returns the recorded one. A recorded one that
   * fails verification is refused (`refusals`) and `before` recorded in its place.
   */
  intend<B extends Record<string, unknown>>(
    action: ContainStep,
    cluster: string | null,
    target: string,
    before: B,
  ): Promise<B>;
  settle(
    action: ContainStep,
    cluster: string | null,
    target: string,
    outcome: { status: ItemStatus; after?: Record<string, unknown> | null; detail: string },
  ): Promise<void>;
  /**
   * Spends the budget across findings (lambdas/core/budget.ts) on a target before the action changes it:
   * null when the action may go on, otherwise why it is held back (also written to the record and logged
   * as `budget exhausted`, which the stack's alarm counts).
   */
  spend(action: ContainStep, kind: BudgetKind, scope: string, target: string): Promise<string | null>;
  /** The targets whose entry found in the table failed verification in this invocation, and why. */
  refusals(): ReadonlyMap<string, string>;
  /** What a reader of a target's item must know that the action did not say (a budget item set aside). */
  notes(): ReadonlyMap<string, string>;
  /** The incident this journal writes for: what evidence recorded beside it is signed for. */
  seal(): Promise<Seal>;
  /** The responder's own security group for a purpose in a VPC of the incident's account and region. */
  ownGroup(vpcId: string, purpose: GroupPurpose): Promise<OwnGroup>;
  /** Registers a group the action made (groups.ts registerGroup): false when another stands. */
  registerGroup(vpcId: string, purpose: GroupPurpose, groupId: string, replacing: OwnGroup): Promise<boolean>;
};

/** What the state machine passes every action besides its own input: the execution, for the record. */
export type Recorded = { executionArn: string };

/**
 * The journal of one action invocation: its finding's record, written as this execution, for the
 * incident `seal` names (by default, the record's own header, verified on the first write).
 */
export function incidentJournal(
  store: IncidentStore,
  findingId: string,
  executionArn: string,
  budget: BudgetSettings = DEFAULT_BUDGET,
  seal?: Seal,
): Journal {
  const now = () => new Date().toISOString();
  let sealed: Promise<Seal> | undefined = seal ? Promise.resolve(seal) : undefined;
  const sealOfRecord = () => {
    sealed ??= store.sealed(findingId).then((found) => found.seal);
    return sealed;
  };
  /** The entries as intend recorded them: settle signs each again with its outcome. */
  const recordedEntries = new Map<string, RecordEntry>();
  const refused = new Map<string, string>();
  const noted = new Map<string, string>();
  return {
    async intend(action, cluster, target, before) {
      const { entry, refused: why } = await store.intend(await sealOfRecord(), {
        action,
        target,
        cluster,
        status: 'intended',
        before,
        after: null,
        detail: null,
        intendedAt: now(),
        settledAt: null,
        executionArn,
      });
      if (why) {
        refused.set(target, why);
        logger.error('record entry refused', { findingId, action, target, reason: why });
      }
      recordedEntries.set(entryKey(action, cluster, target), entry);
      return entry.before as typeof before;
    },
    async settle(action, cluster, target, outcome) {
      const key = entryKey(action, cluster, target);
      const recorded = recordedEntries.get(key);
      if (!recorded)
        throw new Error(`the incident record of ${findingId} has no entry ${key} this invocation wrote`);
      await store.settle(await sealOfRecord(), recorded, {
        status: outcome.status,
        after: outcome.after ?? null,
        detail: outcome.detail,
        at: now(),
      });
    },
    async spend(action, kind, scope, target) {
      const decision = await store.spend({ kind, scope, target, findingId, limit: limitOf(budget, kind) });
      if (decision.setAside) {
        logger.error('budget item failed verification', {
          kind,
          scope,
          findingId,
          reason: decision.setAside,
        });
        noted.set(target, decision.setAside);
      }
      if (decision.granted) return null;
      logger.warn('budget exhausted', { kind, scope, target, findingId, reason: decision.reason });
      await store.recordHold(findingId, { action, target, reason: decision.reason, at: now() });
      return decision.reason;
    },
    refusals: () => refused,
    notes: () => noted,
    seal: sealOfRecord,
    ownGroup: async (vpcId, purpose) => store.ownGroup(await sealOfRecord(), vpcId, purpose),
    registerGroup: async (vpcId, purpose, groupId, replacing) =>
      store.registerGroup(await sealOfRecord(), vpcId, purpose, groupId, replacing),
  };
}

/** What a change and its read-back give back: the target's item, and what the record keeps after it. */
export type Changed = { item: ActionItem; after?: Record<string, unknown> | null };

/**
 * One change, as every action makes it: the state before is recorded and signed (intend) before anything
 * changes; then `change` makes the change and reads its effect back (its item says whether it was
 * verified); then the outcome is signed (settle). `change` is given the recorded state, which is the
 * first one recorded when a retry finds it. A change that throws leaves the entry intended, with its
 * state before, for the retry or the release.
 */
export async function journaled<B extends Record<string, unknown>>(
  journal: Journal,
  at: { action: ContainStep; cluster: string | null; target: string },
  current: B,
  change: (before: B) => Promise<Changed>,
): Promise<ActionItem> {
  const before = await journal.intend(at.action, at.cluster, at.target, current);
  const { item, after } = await change(before);
  await journal.settle(at.action, at.cluster, at.target, {
    status: item.status,
    after: after ?? null,
    detail: item.detail,
  });
  return item;
}
