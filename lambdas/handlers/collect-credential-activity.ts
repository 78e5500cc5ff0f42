/** Collect-credential-activity Lambda: what the credentials did, from CloudTrail (lambdas/evidence/credentials.ts). */

import type { Reach } from '../clients/reach.js';
import { evidenceStep } from '../core/action-spec.js';
import type { EvidenceSettings } from '../core/settings.js';
import { evidenceClients } from '../evidence/clients.js';
import { type CredentialInput, collectCredentialActivity } from '../evidence/credentials.js';
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
    sleep?: (ms: number) => Promise<void>,
  ) =>
  (input: CredentialInput) =>
    underSignedPlan(store, input, evidenceStep('collect-credential-activity'), async (journal) => {
      const writer = new EvidenceWriter(
        evidence,
        collectionPrefix(input.plan.finding.id, input.executionArn, new Date()),
      );
      // In the finding's account and region, through its member role there, as every step reaches it.
      const { cloudTrail } = reach(input.plan.finding);
      return recordEvidence(
        store,
        await journal.seal(),
        await collectCredentialActivity(input, cloudTrail, writer, settings, new Date(), sleep),
      );
    });

export const handler = lazyHandler(() =>
  collectCredentialActivityHandler(
    reachFromEnvironment('collect-credential-activity'),
    { s3: evidenceClients().s3, bucket: requireEnv('EVIDENCE_BUCKET') },
    settingsFromEnvironment().settings.evidence,
    IncidentStore.fromEnvironment(),
  ),
);
