/**
 * The record's signature: every entry that release or recover may act on carries an HMAC made by the
 * action function that wrote it, with the stack's KMS HMAC key (GenerateMac). Release and recover may only
 * verify (VerifyMac): an entry someone changed in the table, or wrote there, does not verify and is not
 * acted on. What the MAC covers is the entry's signed view (finding, action, cluster, target, status and
 * the recorded `before` and `after`) as canonical JSON, hashed with SHA-256 (GenerateMac takes at most
 * 4,096 bytes; a role's inline policies alone can be larger).
 */
import { createHash } from 'node:crypto';
import {
  GenerateMacCommand,
  type KMSClient,
  KMSInvalidMacException,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import type { RecordEntry } from './record.js';

export const MAC_ALGORITHM = 'HMAC_SHA_256';

/** JSON with every object's keys in sorted order: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, field]) => field !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
}

/** What an entry's MAC covers: everything release and recover read of it. */
export type SignedView = Pick<
  RecordEntry,
  'action' | 'cluster' | 'target' | 'status' | 'before' | 'after'
> & {
  findingId: string;
};

export const signedView = (findingId: string, entry: SignedView | RecordEntry): SignedView => ({
  findingId,
  action: entry.action,
  cluster: entry.cluster,
  target: entry.target,
  status: entry.status,
  before: entry.before,
  after: entry.after,
});

/** The bytes given to the key: the SHA-256 of the view's canonical JSON. */
export const macMessage = (view: SignedView): Uint8Array =>
  createHash('sha256').update(canonicalJson(view)).digest();

/** The stack's HMAC key, as a function may use it: an action function generates, release verifies. */
export type RecordKey = {
  /** The MAC of a view, base64. */
  sign(view: SignedView): Promise<string>;
  /** Whether `mac` is the MAC of the view; false for a MAC that does not match. */
  verify(view: SignedView, mac: string): Promise<boolean>;
};

export function kmsRecordKey(kms: KMSClient, keyId: string): RecordKey {
  return {
    async sign(view) {
      const { Mac } = await kms.send(
        new GenerateMacCommand({ KeyId: keyId, MacAlgorithm: MAC_ALGORITHM, Message: macMessage(view) }),
      );
      if (!Mac) throw new Error(`KMS GenerateMac with ${keyId} returned no MAC`);
      return Buffer.from(Mac).toString('base64');
    },
    async verify(view, mac) {
      try {
        const { MacValid } = await kms.send(
          new VerifyMacCommand({
            KeyId: keyId,
            MacAlgorithm: MAC_ALGORITHM,
            Message: macMessage(view),
            Mac: Buffer.from(mac, 'base64'),
          }),
        );
        return MacValid === true;
      } catch (error) {
        if (error instanceof KMSInvalidMacException) return false;
        throw error;
      }
    },
  };
}

/** A function given no record key (RECORD_KEY_ID unset): it writes no entry and verifies none. */
export const NO_RECORD_KEY: RecordKey = {
  sign: () => Promise.reject(new Error('this function has no record key (RECORD_KEY_ID) to sign with')),
  verify: () => Promise.reject(new Error('this function has no record key (RECORD_KEY_ID) to verify with')),
};

/** An entry as release and recover may use it, or why it failed verification. */
export type Verdict = { verified: boolean; entry: RecordEntry; reason: string };

/**
 * Checks an entry's MAC. An entry that another incident's release handed its original state to carries
 * that incident's signed entry too: both must verify, and the handed-over state is then the one to use.
 */
export async function verifyEntry(key: RecordKey, findingId: string, entry: RecordEntry): Promise<Verdict> {
  const refused = (why: string): Verdict => ({ verified: false, entry, reason: why });
  if (!entry.mac) return refused('it has no MAC');
  if (!(await key.verify(signedView(findingId, entry), entry.mac))) return refused('its MAC does not match');
  const handed = entry.handedOver;
  if (!handed) return { verified: true, entry, reason: 'MAC verified' };
  const { view } = handed;
  const sameResource =
    view.action === entry.action && view.target === entry.target && view.cluster === entry.cluster;
  if (!sameResource || view.findingId === findingId || !(await key.verify(view, handed.mac)))
    return refused(`the state handed over by ${view.findingId} does not match its MAC`);
  return {
    verified: true,
    entry: { ...entry, before: view.before },
    reason: `MAC verified, with the state before containment handed over by ${view.findingId}`,
  };
}

/** How many VerifyMac calls run at once when a whole record is checked. */
const VERIFY_CONCURRENCY = 16;

/**
 * Every entry of a record, checked: those that verified (with any handed-over state in place) by key,
 * and those that failed, with why.
 */
export async function verifyRecord(
  key: RecordKey,
  findingId: string,
  entries: Record<string, RecordEntry>,
): Promise<{ verified: Map<string, RecordEntry>; refused: Map<string, string> }> {
  const all = Object.entries(entries);
  const verified = new Map<string, RecordEntry>();
  const refused = new Map<string, string>();
  for (let start = 0; start < all.length; start += VERIFY_CONCURRENCY) {
    const batch = all.slice(start, start + VERIFY_CONCURRENCY);
    const verdicts = await Promise.all(batch.map(([, entry]) => verifyEntry(key, findingId, entry)));
    verdicts.forEach((verdict, index) => {
      const entryKey = batch[index]?.[0] ?? '';
      if (verdict.verified) verified.set(entryKey, verdict.entry);
      else refused.set(entryKey, verdict.reason);
    });
  }
  return { verified, refused };
}
