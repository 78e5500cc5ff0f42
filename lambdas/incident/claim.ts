/**
 * The first state of every execution: claims the finding id in the incident table with a conditional
 * write. GuardDuty publishes a finding again as it updates it (count, updatedAt) and EventBridge delivers
 * at least once, so a finding already claimed is not contained twice: its sighting is recorded and the
 * execution only sends a short "seen again" notice.
 */
import { type Finding, isSampleFinding, parseFindingEvent } from '../core/finding.js';
import { executionOptions, type ResponderSettings, responseTimeoutMinutes } from '../core/settings.js';
import type { ClaimOutput, IncidentRecord, Sighting } from './record.js';
import type { IncidentStore } from './store.js';

export type ClaimInput = { event: unknown; executionArn: string };

const sightingOf = (
  finding: Finding,
  executionArn: string,
  at: string,
  requestedFrom: string | null,
): Sighting => ({
  at,
  executionArn,
  count: finding.service.count ?? 1,
  severity: finding.severity,
  updatedAt: finding.updatedAt,
  ...(requestedFrom ? { requestedFrom } : {}),
});

const lastSighting = (record: IncidentRecord): Sighting => record.sightings.at(-2) ?? record.finding.first;

export async function claimFinding(
  input: ClaimInput,
  settings: Pick<ResponderSettings, 'dryRun' | 'requireApproval' | 'approvalTimeoutMinutes'>,
  store: IncidentStore,
  at: string = new Date().toISOString(),
): Promise<ClaimOutput> {
  const { detail: finding } = parseFindingEvent(input.event);
  const options = executionOptions(input.event);
  const dryRun = settings.dryRun || options.dryRun;
  const rerun = options.rerun && !dryRun;
  const sighting = sightingOf(finding, input.executionArn, at, options.requestedFrom);
  const claimed = await store.claim({
    findingId: finding.id,
    executionArn: input.executionArn,
    dryRun,
    rerun,
    at,
    timeoutMinutes: responseTimeoutMinutes(settings),
    finding: {
      type: finding.type,
      accountId: finding.accountId,
      region: finding.region,
      resourceType: finding.resource.resourceType,
      first: sighting,
      json: JSON.stringify(finding),
    },
  });
  if (claimed) {
    return {
      claimed: true,
      findingId: finding.id,
      executionArn: input.executionArn,
      dryRun,
      rerun,
      previous: claimed.previous,
    };
  }
  const record = await store.recordSighting(finding.id, sighting);
  return {
    claimed: false,
    findingId: finding.id,
    sample: isSampleFinding(finding),
    dryRun: record.dryRun,
    state: record.state,
    firstExecutionArn: record.executionArn,
    firstSeenAt: record.createdAt,
    previous: lastSighting(record),
    now: sighting,
    sightings: record.sightings.length,
    entries: Object.keys(record.entries ?? {}).length,
  };
}
