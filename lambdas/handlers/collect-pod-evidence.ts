/** Collect-pod-evidence Lambda: Kubernetes evidence of the affected pods (lambdas/evidence/pods.ts). */

import type { Reach } from '../clients/reach.js';
import { evidenceStep } from '../core/action-spec.js';
import type { EvidenceSettings } from '../core/settings.js';
import { evidenceClients } from '../evidence/clients.js';
import { collectPodEvidence, type PodEvidenceInput } from '../evidence/pods.js';
import { recordEvidence } from '../evidence/record.js';
import { collectionPrefix, type EvidencePorts, EvidenceWriter } from '../evidence/writer.js';
import { underSignedPlan } from '../incident/mandate.js';
import { IncidentStore } from '../incident/store.js';
import { reachFromEnvironment, settingsFromEnvironment } from '../settings.js';
import { requireEnv } from '../shared/env.js';
import { lazyHandler } from '../shared/handler.js';

export const collectPodEvidenceHandler =
  (reach: Reach, evidence: EvidencePorts, settings: EvidenceSettings, store: IncidentStore) =>
  (input: PodEvidenceInput) =>
    underSignedPlan(store, input, evidenceStep('collect-pod-evidence'), async (journal) => {
      const findingId = input.plan.finding.id;
      const writer = new EvidenceWriter(
        evidence,
        collectionPrefix(findingId, input.executionArn, new Date()),
      );
      return recordEvidence(
        store,
        await journal.seal(),
        await collectPodEvidence(input, reach(input.plan.finding).kubernetes, writer, settings),
      );
    });

export const handler = lazyHandler(() =>
  collectPodEvidenceHandler(
    reachFromEnvironment('collect-pod-evidence'),
    { s3: evidenceClients().s3, bucket: requireEnv('EVIDENCE_BUCKET') },
    settingsFromEnvironment().settings.evidence,
    IncidentStore.fromEnvironment(),
  ),
);
