/**
 * The incident table on a local DynamoDB-compatible store (dynalite), reached with the real DynamoDB
 * client, and the journal an action writes to once the finding is claimed.
 */
import { afterEach, beforeEach } from 'vitest';
import type { ResponsePlan } from '../../lambdas/core/plan.js';
import { incidentJournal, type Journal } from '../../lambdas/incident/journal.js';
import type { IncidentStore } from '../../lambdas/incident/store.js';
import { LocalIncidentTable } from '../../simulation/incident-table.js';

export const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:responder:test-execution';

/** A fresh table for every test of the file that calls this at its top level. */
export function useIncidentTable(): { table: () => LocalIncidentTable; store: () => IncidentStore } {
  let table: LocalIncidentTable | undefined;
  beforeEach(async () => {
    table = await LocalIncidentTable.start();
  });
  afterEach(async () => {
    await table?.stop();
  });
  const current = () => {
    if (!table) throw new Error('the incident table is only there during a test');
    return table;
  };
  return { table: current, store: () => current().store() };
}

/** Claims the plan's finding as one execution would, and returns that execution's journal. */
export async function claimedJournal(
  store: IncidentStore,
  plan: ResponsePlan,
  executionArn = EXECUTION,
): Promise<Journal> {
  const first = {
    at: new Date().toISOString(),
    executionArn,
    count: 1,
    severity: plan.finding.severity,
    updatedAt: plan.finding.updatedAt,
  };
  await store.claim({
    findingId: plan.finding.id,
    executionArn,
    dryRun: false,
    rerun: false,
    at: first.at,
    finding: {
      type: plan.finding.type,
      accountId: plan.finding.accountId,
      region: plan.finding.region,
      resourceType: plan.finding.resourceType,
      first,
      json: '{}',
    },
  });
  return incidentJournal(store, plan.finding.id, executionArn);
}
