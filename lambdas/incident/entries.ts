/**
 * Entries (store.ts): the state before each change, written and signed for the incident's seal before the
 * change, and signed again with its outcome. An entry already there is never adopted unread: it must
 * verify for the seal. One that does not (planted, or changed, in the table) is refused: kept among the
 * record's refusals as found, and replaced by the responder's own, signed over the state read now.
 */
import type { ItemStatus } from '../core/action-result.js';
import { entryKey, type RecordEntry } from './record.js';
import { IncidentNotClaimedError } from './seal.js';
import { canonicalJson, type RecordKey, type Seal, signedView, verifyEntry } from './signature.js';
import type { RecordTable } from './table.js';

/** What the record keeps is JSON: API model class instances become plain maps, undefined fields go. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Writes an entry's state before a change; `refused` says why an entry found in its place was not used. */
export async function intend(
  table: RecordTable,
  key: RecordKey,
  seal: Seal,
  unsigned: RecordEntry,
): Promise<{ entry: RecordEntry; refused: string | null }> {
  const at = entryKey(unsigned.action, unsigned.cluster, unsigned.target);
  const entry = plain(unsigned);
  entry.mac = await key.sign(signedView(seal, entry));
  const recorded = await table.putEntryIfAbsent(seal.findingId, seal.incidentId, at, entry);
  if (!recorded)
    throw new IncidentNotClaimedError(
      `finding ${seal.findingId} has no open incident ${seal.incidentId} to write to`,
    );
  // The very entry this call wrote (or one the same to the byte, which is as good): nothing to check.
  if (canonicalJson(recorded) === canonicalJson(entry)) return { entry: recorded, refused: null };
  const verdict = await verifyEntry(key, seal, recorded);
  if (verdict.verified) return { entry: recorded, refused: null };
  const replaced = await table.replaceEntry(
    seal.findingId,
    seal.incidentId,
    at,
    entry,
    recorded.mac ?? null,
    {
      key: at,
      reason: verdict.reason,
      found: plain(recorded),
      at: entry.intendedAt,
      executionArn: entry.executionArn,
    },
  );
  if (!replaced)
    throw new Error(
      `the record entry ${at} of ${seal.findingId} failed verification (${verdict.reason}) and changed again while it was being replaced: nothing was done`,
    );
  return { entry, refused: verdict.reason };
}

/** The outcome of an entry's change (`recorded` as intend returned it), signed again with its outcome. */
export async function settle(
  table: RecordTable,
  key: RecordKey,
  seal: Seal,
  recorded: RecordEntry,
  outcome: { status: ItemStatus; after: Record<string, unknown> | null; detail: string; at: string },
): Promise<void> {
  const after = plain(outcome.after);
  const mac = await key.sign(signedView(seal, { ...recorded, status: outcome.status, after }));
  await table.settleEntry(seal.findingId, entryKey(recorded.action, recorded.cluster, recorded.target), {
    ...outcome,
    after,
    mac,
  });
}
