/**
 * The record's signature: every entry that release or recover may act on carries an HMAC made by the
 * action function that wrote it, with the stack's KMS HMAC key (GenerateMac). Release and recover may only
 * verify (VerifyMac): an entry someone changed in the table, or wrote there, does not verify and is not
 * acted on. What the MAC covers is the entry's signed view (its seal: finding, incident, account and
 * region; then action, cluster, target, status and the recorded `before` and `after`) as canonical JSON,
 * hashed with SHA-256 (GenerateMac takes at most 4,096 bytes; a role's inline policies alone can be
 * larger). The incident's header, the plan, the responder's security groups and approvals are signed the
 * same way, each view with its own `kind`.
 */
import { createHash } from 'node:crypto';
import {
  GenerateMacCommand,
  type KMSClient,
  KMSInvalidMacException,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';

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

/**
 * Where a signed thing belongs: the finding, the incident (a random id the claim makes, new for every
 * incident of the same finding), and the account and region the responder acts in for it. Every MAC
 * covers it, so an entry signed for one incident, account or region verifies for no other.
 */
export type Seal = { findingId: string; incidentId: string; accountId: string; region: string };

/** What of a record entry (record.ts RecordEntry) its MAC covers: everything release and recover read. */
export type EntryContent = {
  action: string;
  cluster: string | null;
  target: string;
  status: string;
  before: Record<string, unknown>;
  after: Record<string, unknown> | null;
};

/** What an entry's MAC covers: its content and its seal. */
export type SignedView = EntryContent & Seal & { kind: 'entry' };

/** An entry of another incident, as signed there: its `before` is the state this entry's release restores. */
export type HandedOver = { view: SignedView; mac: string; intendedAt: string };

/** An entry as it is kept: its content, its MAC, and any state another incident handed over to it. */
type SignedEntry = EntryContent & { mac?: string; handedOver?: HandedOver };

export const signedView = (seal: Seal, entry: EntryContent): SignedView => ({
  kind: 'entry',
  findingId: seal.findingId,
  incidentId: seal.incidentId,
  accountId: seal.accountId,
  region: seal.region,
  action: entry.action,
  cluster: entry.cluster,
  target: entry.target,
  status: entry.status,
  before: entry.before,
  after: entry.after,
});

/**
 * Anything the record key signs: a record entry, the incident's header, the plan, a security group the
 * responder made, an approval. `kind` keeps one kind's MAC from ever verifying as another's.
 */
export type Signable = { kind: string } & Record<string, unknown>;

/** A value's SHA-256 (hex) over its canonical JSON: what a signed view holds of something larger. */
export const digestOf = (value: unknown): string =>
  createHash('sha256')
    .update(canonicalJson(value ?? null))
    .digest('hex');

/** The bytes given to the key: the SHA-256 of the view's canonical JSON. */
export const macMessage = (view: Signable): Uint8Array =>
  createHash('sha256').update(canonicalJson(view)).digest();

/** The stack's HMAC key, as a function may use it: an action function generates, release verifies. */
export type RecordKey = {
  /** The MAC of a view, base64. */
  sign(view: Signable): Promise<string>;
  /** Whether `mac` is the MAC of the view; false for a MAC that does not match (or none). */
  verify(view: Signable, mac: string | null | undefined): Promise<boolean>;
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
      if (!mac) return false;
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
export type Verdict<E> = { verified: boolean; entry: E; reason: string };

/**
 * Checks an entry's MAC against the incident's seal. An entry that another incident's release handed its
 * original state to carries that incident's signed entry too: both must verify, that one for the same
 * resource in the same account and region, and the handed-over state is then the one to use.
 */
export async function verifyEntry<E extends SignedEntry>(
  key: RecordKey,
  seal: Seal,
  entry: E,
): Promise<Verdict<E>> {
  const refused = (why: string): Verdict<E> => ({ verified: false, entry, reason: why });
  if (!entry.mac) return refused('it has no MAC');
  if (!(await key.verify(signedView(seal, entry), entry.mac))) return refused('its MAC does not match');
  const handed = entry.handedOver;
  if (!handed) return { verified: true, entry, reason: 'MAC verified' };
  const { view } = handed;
  const sameResource =
    view.kind === 'entry' &&
    view.action === entry.action &&
    view.target === entry.target &&
    view.cluster === entry.cluster &&
    view.accountId === seal.accountId &&
    view.region === seal.region;
  if (!sameResource || view.findingId === seal.findingId || !(await key.verify(view, handed.mac)))
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
export async function verifyRecord<E extends SignedEntry>(
  key: RecordKey,
  seal: Seal,
  entries: Record<string, E>,
): Promise<{ verified: Map<string, E>; refused: Map<string, string> }> {
  const all = Object.entries(entries);
  const verified = new Map<string, E>();
  const refused = new Map<string, string>();
  for (let start = 0; start < all.length; start += VERIFY_CONCURRENCY) {
    const batch = all.slice(start, start + VERIFY_CONCURRENCY);
    const verdicts = await Promise.all(batch.map(([, entry]) => verifyEntry(key, seal, entry)));
    verdicts.forEach((verdict, index) => {
      const entryKey = batch[index]?.[0] ?? '';
      if (verdict.verified) verified.set(entryKey, verdict.entry);
      else refused.set(entryKey, verdict.reason);
    });
  }
  return { verified, refused };
}
