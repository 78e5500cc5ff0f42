/** Collect-host-evidence Lambda, one instance per invocation (lambdas/evidence/hosts.ts). */
import type { EvidenceSettings } from '../core/settings.js';
import { type EvidenceClients, evidenceClients } from '../evidence/clients.js';
import { collectHostEvidence, type HostEvidenceInput } from '../evidence/hosts.js';
import { recordEvidence } from '../evidence/record.js';
import { collectionPrefix, EvidenceWriter } from '../evidence/writer.js';
import { IncidentStore, journalOf, type Recorded } from '../incident/store.js';
import { requireEnv } from '../shared/env.js';
import { lazyHandler } from '../shared/handler.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export const collectHostEvidenceHandler =
  (
    clients: EvidenceClients,
    bucket: string,
    settings: EvidenceSettings,
    store: IncidentStore,
    sleep?: (ms: number) => Promise<void>,
  ) =>
  async (input: HostEvidenceInput & Recorded) => {
    const findingId = input.plan.finding.id;
    const writer = new EvidenceWriter(
      { s3: clients.s3, bucket },
      collectionPrefix(findingId, input.executionArn, new Date()),
    );
    const journal = journalOf(store, input);
    return recordEvidence(
      store,
      findingId,
      await collectHostEvidence(input, clients, writer, settings, journal, sleep),
    );
  };

export const handler = lazyHandler(() =>
  collectHostEvidenceHandler(
    evidenceClients(),
    requireEnv('EVIDENCE_BUCKET'),
    settingsFromEnvironment().settings.evidence,
    IncidentStore.fromEnvironment(),
  ),
);
