/**
 * The incident's seal: the claim makes a random incident id for every new incident of a finding and signs
 * it with the account and region the responder acts in (the finding's, as the claim saw it); every entry,
 * the plan and the approvals are signed for that seal. Whoever reads a record verifies its header first
 * and then uses the seal, never the record's unsigned `finding.accountId` and `finding.region`.
 */
import type { IncidentHeader, IncidentRecord, RecordEntry } from './record.js';
import { type RecordKey, type Seal, type Signable, verifyRecord } from './signature.js';

/** A write to an incident that is not open (or not the one this execution holds): nothing was written. */
export class IncidentNotClaimedError extends Error {
  override readonly name = 'IncidentNotClaimedError';
}

/** A record, or a request about one, that the responder refuses to act on: the message says why. */
export class RecordRefusedError extends Error {
  override readonly name = 'RecordRefused';
}

/** A finding the incident table holds no record of: the same bad input for release and recover. */
export class UnknownIncidentError extends Error {
  override readonly name = 'UnknownIncident';
  constructor(findingId: string) {
    super(`no incident record for finding ${findingId}`);
  }
}

export const headerView = (findingId: string, header: Omit<IncidentHeader, 'mac'>): Signable => ({
  kind: 'incident',
  findingId,
  incidentId: header.incidentId,
  accountId: header.accountId,
  region: header.region,
  claimedAt: header.claimedAt,
});

/** Why a record's header does not verify, or null when it does. */
export async function headerRefusal(key: RecordKey, record: Pick<IncidentRecord, 'findingId' | 'incident'>) {
  const header = record.incident;
  if (!header) return 'the record has no signed incident header';
  if (!(await key.verify(headerView(record.findingId, header), header.mac)))
    return "the incident header's MAC does not match";
  return null;
}

/** The seal of a record whose header verifies; a RecordRefusedError otherwise. */
export async function sealOf(
  key: RecordKey,
  record: Pick<IncidentRecord, 'findingId' | 'incident'>,
): Promise<Seal> {
  const refusal = await headerRefusal(key, record);
  if (refusal || !record.incident)
    throw new RecordRefusedError(
      `the incident record of ${record.findingId} failed verification (${refusal}): the incident table was changed outside the responder; nothing is done`,
    );
  const { incidentId, accountId, region } = record.incident;
  return { findingId: record.findingId, incidentId, accountId, region };
}

/**
 * Where the end of each incident is kept outside the incident table, so that writing the table cannot
 * open an incident again: a release or recovery that ended an incident closes its id there, and release
 * and recover refuse an id closed before. The stack's implementation is the versioned evidence bucket
 * (closures.ts): a closure stays among the object's versions whatever is written or deleted over it.
 */
export type Closures = {
  /** When and how the incident was closed, or null when it never was. */
  closed(seal: Seal): Promise<string | null>;
  close(seal: Seal, how: 'released' | 'recovered', at: string): Promise<void>;
};

/**
 * A record as release and recover may act on it: its seal (the header verified), its entries that verify
 * for that seal, and why each other one is refused. Every entry of an incident closed before (its record
 * set back in the table after a release or a recovery) is refused.
 */
export async function verifiedIncident(
  key: RecordKey,
  closures: Closures,
  record: IncidentRecord,
): Promise<{ seal: Seal; verified: Map<string, RecordEntry>; refused: Map<string, string> }> {
  const seal = await sealOf(key, record);
  const closed = await closures.closed(seal);
  if (closed) {
    const why = `${closed}; the record was set back in the table after that`;
    return {
      seal,
      verified: new Map(),
      refused: new Map(Object.keys(record.entries ?? {}).map((entryKey) => [entryKey, why])),
    };
  }
  return { seal, ...(await verifyRecord(key, seal, record.entries ?? {})) };
}
