/** Identify Lambda: parse the EventBridge event, plan the response, resolve its targets. */

import { SPECS } from '../actions/registry.js';
import { AwsReader } from '../clients/aws.js';
import type { Reach } from '../clients/reach.js';
import { parseFindingEvent } from '../core/finding.js';
import { plannedActions, type ResponderLocation, specOf } from '../core/plan.js';
import { ANY_SEVERITY, clustersOf, executionOptions, type ResponderSettings } from '../core/settings.js';
import { evidenceClients } from '../evidence/clients.js';
import { collectionPrefix, type EvidencePorts, EvidenceWriter } from '../evidence/writer.js';
import { type IdentifyOutput, type IdentifyPorts, identify } from '../identify/identify.js';
import { type FindingSource, guardDutySource, verifyAtSource } from '../identify/source.js';
import { planView } from '../incident/mandate.js';
import { RecordRefusedError } from '../incident/seal.js';
import { IncidentStore } from '../incident/store.js';
import { plan as planFor, reachFromEnvironment, settingsFromEnvironment } from '../settings.js';
import { requireEnv } from '../shared/env.js';
import { retriedWhenTransient } from '../shared/errors.js';
import { lazyHandler } from '../shared/handler.js';
import { logger } from '../shared/logger.js';

export function identifyHandler(
  settings: ResponderSettings,
  location: ResponderLocation,
  reach: Reach,
  store: IncidentStore,
  evidence: EvidencePorts | null = null,
  /** Where the finding is read back from before anything is planned: GuardDuty of its account. */
  source: FindingSource = guardDutySource(reach),
): (event: unknown) => Promise<IdentifyOutput> {
  return async (event) => {
    const { detail: finding } = parseFindingEvent(event);
    // The pods and nodes as read, before any action changes them, go to the evidence bucket from here.
    const executionArn = (event as { claim?: { executionArn?: string } }).claim?.executionArn ?? 'identify';
    // The incident this execution holds, its header verified: the plan is signed for it.
    const { record, seal } = await retriedWhenTransient(() => store.sealed(finding.id));
    if (record.executionArn !== executionArn)
      throw new RecordRefusedError(
        `execution ${executionArn} does not hold finding ${finding.id} (${record.executionArn} does): nothing is planned`,
      );
    // The claim sealed the incident with the account and region of the event it was given; the finding
    // planned for (and read back from GuardDuty) must be of the same ones.
    if (seal.accountId !== finding.accountId || seal.region !== finding.region)
      throw new RecordRefusedError(
        `the incident of finding ${finding.id} was claimed for ${seal.accountId} ${seal.region}, not the finding's ${finding.accountId} ${finding.region}: nothing is planned`,
      );
    const options = executionOptions(event);
    const dryRun = settings.dryRun || options.dryRun;
    // A person who asked for this response (a Security Hub custom action) chose the finding whatever its
    // severity: the automatic range does not hold it back. Everything else the playbook says still holds.
    const severity = options.requestedFrom ? ANY_SEVERITY : settings.severity;
    const plan = planFor(finding, { ...settings, dryRun, severity }, location);
    // Before anything is acted on, GuardDuty must hold the finding as the event says: a finding that is
    // only reported (nothing planned) is not read back.
    if (plannedActions(plan).length > 0) await verifyAtSource(finding, source);
    // Evidence is kept whenever something is contained; a dry run or a report-only finding keeps none.
    const capture: IdentifyPorts['capture'] =
      evidence && plannedActions(plan).length > 0
        ? async (pods, nodes) => {
            const writer = new EvidenceWriter(
              evidence,
              collectionPrefix(finding.id, executionArn, new Date()),
            );
            await Promise.all([
              ...pods.map((pod) =>
                writer.putJson(
                  `kubernetes/pods/${pod.metadata?.namespace}/${pod.metadata?.name}/pod.json`,
                  pod,
                  `pod ${pod.metadata?.namespace}/${pod.metadata?.name}`,
                ),
              ),
              ...nodes.map((node) =>
                writer.putJson(
                  `kubernetes/nodes/${node.metadata?.name}.json`,
                  node,
                  `node ${node.metadata?.name}`,
                ),
              ),
            ]);
            await store.recordEvidence(seal, writer.written, new Date().toISOString());
            return writer.written.length;
          }
        : undefined;
    // The finding's account (the responder's, or a member's through its role) and region.
    const at = reach(finding);
    const ports: IdentifyPorts = { kubernetes: at.kubernetes, aws: new AwsReader(at), capture };
    logger.info('planned', {
      findingId: finding.id,
      type: finding.type,
      rule: plan.rule,
      actions: plan.actions,
    });
    // The plan goes to the incident record while identification runs: neither waits for the other.
    const [identification] = await Promise.all([
      identify(
        plan,
        { ...settings, clusters: clustersOf(settings, finding.accountId, location.accountId) },
        ports,
      ),
      store.recordPlan(finding.id, { rule: plan.rule, actions: plan.actions }, new Date().toISOString()),
    ]);
    logger.info('identified', { findingId: finding.id, identification });
    const planned = plannedActions(plan);
    const gated = settings.requireApproval.filter((action) => planned.includes(action));
    const approvals = Object.fromEntries(
      gated.map((action) => [specOf(SPECS, action).resultKey, true as const]),
    );
    // What the actions may act on, and nothing else (lambdas/incident/mandate.ts).
    const view = planView(seal, executionArn, { plan, identification }, gated);
    await retriedWhenTransient(async () =>
      store.recordSignedPlan(
        seal,
        executionArn,
        { view, mac: await store.key.sign(view) },
        new Date().toISOString(),
      ),
    );
    return { plan, planned, identification, approvals };
  };
}

export const handler = lazyHandler(() => {
  const { settings, location } = settingsFromEnvironment();
  return identifyHandler(
    settings,
    location,
    reachFromEnvironment('identify'),
    IncidentStore.fromEnvironment(),
    {
      s3: evidenceClients().s3,
      bucket: requireEnv('EVIDENCE_BUCKET'),
    },
  );
});
