/**
 * The incident record in this process's memory (table.ts RecordTable), with the same atomic semantics as
 * the DynamoDB table: each operation reads and writes one item at once (nothing else runs in between in
 * one process), conditions hold or nothing is written, and what is kept is JSON (a copy in, a copy out).
 * For tests and rehearsals; the contract suite holds it to the DynamoDB table's answers.
 */
import { claimable, type IncidentRecord, type RecordEntry } from './record.js';
import type { RecordTable, ResponderItem } from './table.js';

type Item = Record<string, unknown> & { findingId: string };
const copy = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));

export class MemoryRecordTable implements RecordTable {
  private readonly items = new Map<string, Item>();

  /** Every item, as the table holds it (a copy). */
  all(): Item[] {
    return [...this.items.values()].map(copy);
  }

  private record(findingId: string): (IncidentRecord & Item) | undefined {
    return this.items.get(findingId) as (IncidentRecord & Item) | undefined;
  }

  async get(findingId: string) {
    return copy(this.record(findingId) ?? null) as IncidentRecord | null;
  }

  async claim(write: Parameters<RecordTable['claim']>[0]) {
    const old = this.record(write.findingId);
    if (!claimable(old, write)) return null;
    const before = copy(old);
    const next = (old ?? { findingId: write.findingId }) as IncidentRecord & Item;
    Object.assign(next, {
      state: 'open',
      dryRun: write.dryRun,
      createdAt: next.createdAt ?? write.at,
      updatedAt: write.at,
      claimedAt: write.at,
      outcome: 'responding',
      executionArn: write.executionArn,
      finding: next.finding ?? copy(write.finding),
      sightings: next.sightings ?? [],
      executions: [
        ...(next.executions ?? []),
        { executionArn: write.executionArn, at: write.at, rerun: write.rerun },
      ],
      outcomes: next.outcomes ?? [],
      entries: next.entries ?? {},
      releases: next.releases ?? [],
      approvals: next.approvals ?? {},
    });
    this.items.set(write.findingId, next);
    return { old: before as Partial<IncidentRecord> | undefined };
  }

  async startIncident(
    ...[findingId, executionArn, header, refused]: Parameters<RecordTable['startIncident']>
  ) {
    const record = this.record(findingId);
    if (record?.executionArn !== executionArn) throw conditionFailed('startIncident');
    record.incident = copy(header);
    record.entries = {};
    record.refusals = [...(record.refusals ?? []), ...copy(refused)];
  }

  async recordOutcome(...[findingId, executionArn, outcome, at]: Parameters<RecordTable['recordOutcome']>) {
    const record = this.record(findingId);
    if (record?.executionArn !== executionArn || record.outcome !== 'responding') return false;
    record.outcome = outcome;
    record.outcomes = [...(record.outcomes ?? []), { executionArn, outcome, at }];
    record.updatedAt = at;
    return true;
  }

  async recordSighting(...[findingId, sighting]: Parameters<RecordTable['recordSighting']>) {
    const record = this.record(findingId);
    if (!record) throw conditionFailed('recordSighting');
    record.sightings = [...record.sightings, copy(sighting)];
    record.updatedAt = sighting.at;
    return copy(record) as IncidentRecord;
  }

  async recordPlan(...[findingId, plan, at]: Parameters<RecordTable['recordPlan']>) {
    const record = this.record(findingId);
    if (!record) throw conditionFailed('recordPlan');
    record.plan = copy(plan);
    record.updatedAt = at;
  }

  async recordSignedPlan(
    ...[findingId, incidentId, executionArn, plan, at]: Parameters<RecordTable['recordSignedPlan']>
  ) {
    const record = this.record(findingId);
    if (record?.executionArn !== executionArn || record.incident?.incidentId !== incidentId) return false;
    record.signedPlan = copy(plan);
    record.updatedAt = at;
    return true;
  }

  /** The record of an open incident `incidentId`, or undefined. */
  private openIncident(findingId: string, incidentId: string) {
    const record = this.record(findingId);
    return record?.state === 'open' && record.incident?.incidentId === incidentId ? record : undefined;
  }

  async putEntryIfAbsent(
    ...[findingId, incidentId, key, entry]: Parameters<RecordTable['putEntryIfAbsent']>
  ) {
    const record = this.openIncident(findingId, incidentId);
    if (!record) return null;
    record.entries[key] ??= copy(entry);
    record.updatedAt = entry.intendedAt;
    return copy(record.entries[key]) as RecordEntry;
  }

  async replaceEntry(
    ...[findingId, incidentId, key, entry, foundMac, refusal]: Parameters<RecordTable['replaceEntry']>
  ) {
    const record = this.openIncident(findingId, incidentId);
    const current = record?.entries[key];
    if (!record || (foundMac ? current?.mac !== foundMac : current?.mac !== undefined)) return false;
    record.entries[key] = copy(entry);
    record.refusals = [...(record.refusals ?? []), copy(refusal)];
    record.updatedAt = entry.intendedAt;
    return true;
  }

  async settleEntry(...[findingId, key, outcome]: Parameters<RecordTable['settleEntry']>) {
    const entry = this.record(findingId)?.entries[key];
    if (!entry) throw conditionFailed('settleEntry');
    Object.assign(entry, {
      status: outcome.status,
      after: copy(outcome.after),
      detail: outcome.detail,
      settledAt: outcome.at,
      mac: outcome.mac,
    });
    (this.record(findingId) as Item).updatedAt = outcome.at;
  }

  async handOver(...[findingId, key, handed]: Parameters<RecordTable['handOver']>) {
    const record = this.record(findingId);
    const entry = record?.entries[key];
    if (record?.state !== 'open' || !entry || !(entry.intendedAt > handed.intendedAt)) return false;
    entry.handedOver = copy(handed);
    entry.intendedAt = handed.intendedAt;
    return true;
  }

  async readSpending(key: string) {
    const item = this.items.get(key);
    return {
      spent: Array.isArray(item?.spent) ? copy(item.spent) : [],
      version: typeof item?.version === 'number' ? item.version : 0,
      mac: typeof item?.mac === 'string' ? item.mac : null,
    };
  }

  async writeSpending(...[key, spent, version, mac]: Parameters<RecordTable['writeSpending']>) {
    const item = this.items.get(key);
    if ((version === 0 && item) || (version !== 0 && item?.version !== version)) return false;
    this.items.set(key, { ...(item ?? { findingId: key }), spent: copy(spent), version: version + 1, mac });
    return true;
  }

  async recordHold(...[findingId, hold]: Parameters<RecordTable['recordHold']>) {
    const record = this.record(findingId);
    if (!record) throw conditionFailed('recordHold');
    record.holds = [...(record.holds ?? []), copy(hold)];
    record.updatedAt = hold.at;
  }

  async recordEvidence(...[findingId, objects, at]: Parameters<RecordTable['recordEvidence']>) {
    if (objects.length === 0) return;
    const record = this.record(findingId);
    if (!record) throw conditionFailed('recordEvidence');
    record.evidence = [...(record.evidence ?? []), ...copy(objects)];
    record.updatedAt = at;
  }

  async requestApproval(...[findingId, approval]: Parameters<RecordTable['requestApproval']>) {
    const record = this.record(findingId);
    if (record?.executionArn !== approval.executionArn) throw conditionFailed('requestApproval');
    record.approvals = { ...record.approvals, [approval.action]: copy(approval) };
    record.updatedAt = approval.requestedAt;
  }

  private approval(findingId: string, action: string) {
    const record = this.record(findingId);
    return { record, approval: record?.approvals?.[action] };
  }

  async decideApproval(
    ...[findingId, action, token, decision, mac]: Parameters<RecordTable['decideApproval']>
  ) {
    const { record, approval } = this.approval(findingId, action);
    if (!record || approval?.state !== 'waiting' || approval.token !== token) return false;
    Object.assign(approval, {
      state: decision.answer === 'approve' ? 'approved' : 'denied',
      answeredBy: decision.by,
      answeredAt: decision.at,
      decisions: [...approval.decisions, copy(decision)],
      mac,
    });
    record.updatedAt = decision.at;
    return true;
  }

  async reopenApproval(...[findingId, action, decision]: Parameters<RecordTable['reopenApproval']>) {
    const { record, approval } = this.approval(findingId, action);
    if (!record || !approval) throw conditionFailed('reopenApproval');
    Object.assign(approval, {
      state: 'waiting',
      answeredBy: null,
      answeredAt: null,
      mac: null,
      decisions: [...approval.decisions, copy(decision)],
    });
    record.updatedAt = decision.at;
  }

  async noteApproval(...[findingId, action, decision]: Parameters<RecordTable['noteApproval']>) {
    const { record, approval } = this.approval(findingId, action);
    if (!record || !approval) throw conditionFailed('noteApproval');
    approval.decisions = [...approval.decisions, copy(decision)];
    record.updatedAt = decision.at;
  }

  async inState(state: IncidentRecord['state']) {
    return [...this.items.values()]
      .filter((item) => item.state === state)
      .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)))
      .map((item) => copy(item) as unknown as IncidentRecord);
  }

  async startRelease(findingId: string, at: string) {
    const record = this.record(findingId);
    if (record?.state !== 'open' && record?.state !== 'releasing') return false;
    record.state = 'releasing';
    record.updatedAt = at;
    return true;
  }

  async recordRelease(...[findingId, release, finished]: Parameters<RecordTable['recordRelease']>) {
    const record = this.record(findingId);
    if (!record) throw conditionFailed('recordRelease');
    record.releases = [...record.releases, copy(release)];
    record.updatedAt = release.at;
    if (release.dryRun) return;
    record.state = finished ? 'released' : 'open';
    if (finished) record.entries = {};
  }

  async startRecovery(...[findingId, recovery]: Parameters<RecordTable['startRecovery']>) {
    const record = this.record(findingId);
    if (record?.state !== 'open' && record?.state !== 'recovering') return false;
    record.state = 'recovering';
    record.recovery = copy(recovery);
    record.updatedAt = recovery.at;
    return true;
  }

  async recordRecoveryStep(...[findingId, index, step]: Parameters<RecordTable['recordRecoveryStep']>) {
    const recovery = this.record(findingId)?.recovery;
    if (!recovery) throw conditionFailed('recordRecoveryStep');
    recovery.steps[Math.trunc(index)] = copy(step);
  }

  async finishRecovery(...[findingId, recovery, finished]: Parameters<RecordTable['finishRecovery']>) {
    const record = this.record(findingId);
    if (!record) throw conditionFailed('finishRecovery');
    record.recoveries = [...(record.recoveries ?? []), copy(recovery)];
    record.updatedAt = recovery.at;
    if (recovery.dryRun) return;
    record.state = finished ? 'recovered' : 'open';
    delete record.recovery;
  }

  async readItem(key: string) {
    return copy(this.items.get(key) ?? null) as ResponderItem | null;
  }

  async writeGroup(...[key, groupId, mac, previousMac]: Parameters<RecordTable['writeGroup']>) {
    const item = this.items.get(key);
    const holds =
      previousMac === undefined
        ? !item
        : previousMac === null
          ? item?.mac === undefined
          : item?.mac === previousMac;
    if (!holds) return false;
    this.items.set(key, {
      ...(item ?? { findingId: key }),
      groupId,
      mac,
      registeredAt: new Date().toISOString(),
    });
    return true;
  }
}

/** What a write on a condition that does not hold throws, as DynamoDB's ConditionalCheckFailedException. */
function conditionFailed(operation: string): Error {
  return Object.assign(new Error(`The conditional request failed (${operation})`), {
    name: 'ConditionalCheckFailedException',
  });
}
