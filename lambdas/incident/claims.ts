/**
 * Claims (store.ts): who holds a finding, and which incident of it. A claim that takes the finding goes on
 * with the incident not yet closed when its signed header verifies; anything else starts a new incident:
 * a random id, signed with the finding's account and region, and no entries (those of an earlier
 * incident are signed for its id). A header that does not verify is kept among the refusals, as found.
 */
import { randomUUID } from 'node:crypto';
import { RESPONSE_TIMEOUT_MINUTES } from '../core/settings.js';
import type { IncidentHeader, IncidentRecord, PreviousAttempt, Refusal } from './record.js';
import { headerRefusal, headerView } from './seal.js';
import type { RecordKey } from './signature.js';
import type { RecordTable } from './table.js';

export type ClaimRequest = {
  findingId: string;
  executionArn: string;
  dryRun: boolean;
  /** Run the actions again for a finding already handled (a person asked for it). */
  rerun: boolean;
  finding: IncidentRecord['finding'];
  at: string;
  /** The state machine's timeout: a claim this old with no outcome died; RESPONSE_TIMEOUT_MINUTES by default. */
  timeoutMinutes?: number;
};

/**
 * Claims the finding for this execution when it may (record.ts claimable); null when another execution
 * has it, otherwise what the previous attempt was, if any.
 */
export async function claim(
  table: RecordTable,
  key: RecordKey,
  request: ClaimRequest,
): Promise<{ previous: PreviousAttempt | null } | null> {
  const timeout = request.timeoutMinutes ?? RESPONSE_TIMEOUT_MINUTES;
  const claimed = await table.claim({
    findingId: request.findingId,
    executionArn: request.executionArn,
    dryRun: request.dryRun,
    rerun: request.rerun,
    finding: request.finding,
    at: request.at,
    staleBefore: new Date(Date.parse(request.at) - timeout * 60_000).toISOString(),
  });
  if (!claimed) return null;
  const { old } = claimed;
  await sealIncident(table, key, request, old);
  if (!old?.executionArn) return { previous: null };
  return {
    previous: {
      executionArn: old.executionArn,
      at: old.claimedAt ?? old.createdAt ?? '',
      outcome: old.outcome ?? 'unknown',
      dryRun: old.dryRun === true,
    },
  };
}

async function sealIncident(
  table: RecordTable,
  key: RecordKey,
  request: ClaimRequest,
  old: Partial<IncidentRecord> | undefined,
): Promise<void> {
  const going = old?.state === 'open' || old?.state === 'releasing' || old?.state === 'recovering';
  const refusal =
    old?.incident && going && old.dryRun !== true
      ? await headerRefusal(key, { findingId: request.findingId, incident: old.incident })
      : 'new';
  if (refusal === null) return;
  const unsigned: Omit<IncidentHeader, 'mac'> = {
    incidentId: randomUUID(),
    accountId: request.finding.accountId,
    region: request.finding.region,
    claimedAt: request.at,
  };
  const header: IncidentHeader = {
    ...unsigned,
    mac: await key.sign(headerView(request.findingId, unsigned)),
  };
  const refused: Refusal[] =
    refusal === 'new'
      ? []
      : [
          {
            key: 'incident',
            reason: `${refusal}: a new incident was started`,
            found: old?.incident,
            at: request.at,
            executionArn: request.executionArn,
          },
        ];
  await table.startIncident(request.findingId, request.executionArn, header, refused);
}
