/** Collect-credential-activity Lambda: what the credentials did, from CloudTrail (lambdas/evidence/credentials.ts). */

import type { Reach } from '../clients/reach.js';
import { evidenceStep } from '../core/action-spec.js';
import type { EvidenceSettings } from '../core/settings.js';
import { evidenceClients } from '../evidence/clients.js';
import {
  type CredentialInput,
  collectCredentialActivity,
  GLOBAL_EVENTS_REGION,
} from '../evidence/credentials.js';
import { recordEvidence } from '../evidence/record.js';
import { collectionPrefix, type EvidencePorts, EvidenceWriter } from '../evidence/writer.js';
import { underSignedPlan } from '../incident/mandate.js';
import { IncidentStore } from '../incident/store.js';
import { reachFromEnvironment, settingsFromEnvironment } from '../settings.js';
import { requireEnv } from '../shared/env.js';
import { lazyHandler } from '../shared/handler.js';

export const collectCredentialActivityHandler =
  (
    reach: Reach,
    evidence: EvidencePorts,
    settings: EvidenceSettings,
    store: IncidentStore,
    /** The regions the responder covers (its own and `regions`): us-east-1 among them adds its trail. */
    covered: readonly string[],
    sleep?: (ms: number) => Promise<void>,
  ) =>
  (input: CredentialInput) =>
    underSignedPlan(store, input, evidenceStep('collect-credential-activity'), async (journal) => {
      const writer = new EvidenceWriter(
        evidence,
        collectionPrefix(input.plan.finding.id, input.executionArn, new Date()),
      );
      // In the finding's account and region, through its member role there, as every step reaches it;
      // and in us-east-1, where global services' calls are recorded, when the responder covers it.
      const { accountId, region } = input.plan.finding;
      const regions = [
        region,
        ...(region !== GLOBAL_EVENTS_REGION && covered.includes(GLOBAL_EVENTS_REGION)
          ? [GLOBAL_EVENTS_REGION]
          : []),
      ];
      const trails = regions.map((at) => ({
        region: at,
        client: reach({ accountId, region: at }).cloudTrail,
      }));
      return recordEvidence(
        store,
        await journal.seal(),
        await collectCredentialActivity(input, trails, writer, settings, new Date(), sleep),
      );
    });

export const handler = lazyHandler(() => {
  const { settings, location } = settingsFromEnvironment();
  return collectCredentialActivityHandler(
    reachFromEnvironment('collect-credential-activity'),
    { s3: evidenceClients().s3, bucket: requireEnv('EVIDENCE_BUCKET') },
    settings.evidence,
    IncidentStore.fromEnvironment(),
    [location.region, ...settings.regions],
  );
});
