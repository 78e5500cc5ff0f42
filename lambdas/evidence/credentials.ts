/**
 * What the credentials did (collect-credential-activity): for a credential finding, CloudTrail's event
 * history (`LookupEvents`) in the finding's account and region, over the window lambdas/core/credentials.ts
 * sets, for each lookup it names (the access key, else the user; the pods' IRSA and Pod Identity roles).
 * Each lookup's events are kept as evidence (JSON, hashed) and summarised. Bounded: at most
 * `credentialPages` pages a lookup, paced at CloudTrail's two calls a second; what is left out is said.
 * A lookup that fails (throttled past the SDK's retries, denied) is a problem of that lookup, never of
 * the containment. Global services' calls are recorded in us-east-1: the lookups run there too when the
 * responder covers that region and the finding is of another.
 */
import { type CloudTrailClient, type Event, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import {
  type CredentialLookup,
  credentialLookups,
  lookupWindow,
  NOT_A_CREDENTIAL_FINDING,
  type RoleOfFinding,
  summarizeTrail,
} from '../core/credentials.js';
import type { ResponsePlan } from '../core/plan.js';
import type { EvidenceSettings } from '../core/settings.js';
import type { Recorded } from '../incident/journal.js';
import { messageOf } from '../shared/errors.js';
import type { EvidenceResult } from './pods.js';
import type { EvidenceWriter } from './writer.js';

export type CredentialInput = Recorded & {
  plan: ResponsePlan;
  identification: { roles: RoleOfFinding[] };
};

/** CloudTrail answers LookupEvents twice a second per account and region. */
const PACE_MS = 500;

/** The event record CloudTrail gives as text, as JSON when it is (kept as text otherwise). */
function parsed(text: string | undefined): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

const fileName = (lookup: CredentialLookup, region: string) =>
  `cloudtrail/${region}/${lookup.key}-${lookup.value.replace(/[^A-Za-z0-9._-]/g, '_').slice(-100)}.json`;

/** CloudTrail of one region: the finding's, and us-east-1 for global services' calls (IAM, STS's global endpoint). */
export type Trail = { region: string; client: CloudTrailClient };

/** The region where CloudTrail records the calls of global services. */
export const GLOBAL_EVENTS_REGION = 'us-east-1';

export async function collectCredentialActivity(
  input: CredentialInput,
  trails: readonly Trail[],
  writer: EvidenceWriter,
  settings: Pick<EvidenceSettings, 'credentialWindowHours' | 'credentialPages'>,
  now: Date = new Date(),
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<EvidenceResult> {
  const result: EvidenceResult = {
    step: 'collect-credential-activity',
    skipped: null,
    bucket: writer.bucket,
    objects: [],
    problems: [],
    summary: [],
  };
  const lookups = credentialLookups(input.plan, input.identification.roles);
  if (lookups.length === 0) return { ...result, skipped: NOT_A_CREDENTIAL_FINDING };
  const window = lookupWindow(input.plan, settings.credentialWindowHours, now);
  const span = `${window.start.toISOString()} to ${window.end.toISOString()}`;
  for (const { region, client: cloudtrail } of trails)
    for (const lookup of lookups) {
      const events: Event[] = [];
      let left: string | null = null;
      let failed: string | null = null;
      let NextToken: string | undefined;
      let pages = 0;
      try {
        do {
          if (pages > 0) await sleep(PACE_MS);
          const page = await cloudtrail.send(
            new LookupEventsCommand({
              LookupAttributes: [{ AttributeKey: lookup.key, AttributeValue: lookup.value }],
              StartTime: window.start,
              EndTime: window.end,
              MaxResults: 50,
              NextToken,
            }),
          );
          pages++;
          events.push(...(page.Events ?? []));
          NextToken = page.NextToken;
          if (NextToken && pages >= settings.credentialPages)
            left = `more events than ${pages} page(s) (${events.length} kept; evidence.credentialPages): the oldest left out`;
        } while (NextToken && !left);
      } catch (error) {
        failed = `${lookup.key} ${lookup.value} in ${region}: ${messageOf(error)}`;
      }
      const what = `${lookup.key} ${lookup.value} (${lookup.why}) in ${region}`;
      if (failed) {
        result.problems.push(
          `CloudTrail lookup failed after ${pages} page(s)${events.length > 0 ? ` (${events.length} event(s) kept)` : ''}: ${failed}`,
        );
        if (events.length === 0) continue;
      }
      result.objects.push(
        await writer.putJson(
          fileName(lookup, region),
          {
            lookup,
            window: { start: window.start.toISOString(), end: window.end.toISOString() },
            complete: !left && !failed,
            events: events.map((event) => ({ ...event, CloudTrailEvent: parsed(event.CloudTrailEvent) })),
          },
          `CloudTrail: ${what}`,
          left ?? (failed ? 'the lookup failed part way: incomplete' : null),
        ),
      );
      result.summary?.push(`${what}, ${span}:`, ...summarizeTrail(events).map((line) => `  ${line}`));
      if (left) result.summary?.push(`  ${left}`);
    }
  return result;
}
