/** Collect-host-evidence Lambda, one instance per invocation (lambdas/evidence/hosts.ts). */

import type { S3Client } from '@aws-sdk/client-s3';
import type { Reach } from '../clients/reach.js';
import { evidenceStep } from '../core/action-spec.js';
import type { ResponderLocation } from '../core/plan.js';
import type { EvidenceSettings } from '../core/settings.js';
import { evidenceClients } from '../evidence/clients.js';
import { collectHostEvidence, type HostCapturePlace, type HostEvidenceInput } from '../evidence/hosts.js';
import { recordEvidence } from '../evidence/record.js';
import { collectionPrefix, EvidenceWriter } from '../evidence/writer.js';
import type { Recorded } from '../incident/journal.js';
import { underSignedPlan } from '../incident/mandate.js';
import { IncidentStore } from '../incident/store.js';
import { reachFromEnvironment, settingsFromEnvironment } from '../settings.js';
import { requireEnv } from '../shared/env.js';
import { lazyHandler } from '../shared/handler.js';

export const collectHostEvidenceHandler =
  (
    reach: Reach,
    evidence: { s3: S3Client; bucket: string; home: ResponderLocation },
    settings: EvidenceSettings,
    store: IncidentStore,
    place: HostCapturePlace,
  ) =>
  (input: HostEvidenceInput & Recorded) =>
    underSignedPlan(store, input, evidenceStep('collect-host-evidence'), async (journal) => {
      const { id: findingId, accountId } = input.plan.finding;
      const writer = new EvidenceWriter(
        { s3: evidence.s3, bucket: evidence.bucket },
        collectionPrefix(findingId, input.executionArn, new Date()),
      );
      if (accountId !== evidence.home.accountId) {
        // Run Command writes its output from the instance: a member's instance cannot write to this account.
        return recordEvidence(store, await journal.seal(), {
          step: 'collect-host-evidence',
          skipped: `host ${input.target.instanceId} is in member account ${accountId}: the host capture writes from the instance to the host output bucket, which only this account's instances may; capture it in the member account`,
          bucket: evidence.bucket,
          objects: [],
          problems: [],
        });
      }
      const { ssm, iam } = reach(input.plan.finding);
      return recordEvidence(
        store,
        await journal.seal(),
        await collectHostEvidence(input, { s3: evidence.s3, ssm, iam }, writer, settings, journal, place),
      );
    });

export const handler = lazyHandler(() => {
  const { settings, location } = settingsFromEnvironment();
  return collectHostEvidenceHandler(
    reachFromEnvironment('collect-host-evidence'),
    { s3: evidenceClients().s3, bucket: requireEnv('EVIDENCE_BUCKET'), home: location },
    settings.evidence,
    IncidentStore.fromEnvironment(),
    { hostOutput: requireEnv('HOST_OUTPUT_BUCKET') },
  );
});
