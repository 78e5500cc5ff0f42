/**
 * Where the incident record is kept: the operations the store (store.ts) needs, each atomic, by concern.
 * Two implementations: DynamoDB (dynamodb-table.ts: conditional writes, first-write-wins `if_not_exists`)
 * and memory (memory-table.ts), held to the same contract by one suite
 * (test/integration/incident-table.contract.test.ts). The table signs and verifies nothing: the store
 * does, above it.
 */
import type {
  ApprovalDecision,
  ApprovalRecord,
  EvidenceObject,
  HandedOver,
  Hold,
  IncidentHeader,
  IncidentRecord,
  IncidentState,
  RecordEntry,
  RecoveryRecord,
  RecoveryStepRecord,
  Refusal,
  ReleaseRecord,
  ResponseOutcome,
  Sighting,
  SignedPlan,
} from './record.js';

/** What a claim writes, and on which condition (claimable in record.ts says when it may). */
export type ClaimWrite = {
  findingId: string;
  executionArn: string;
  dryRun: boolean;
  rerun: boolean;
  finding: IncidentRecord['finding'];
  at: string;
  /** A claim older than this with no outcome died: the finding may be taken again. */
  staleBefore: string;
};

/** An item of the table that is not an incident record: a budget's spending, a security group's registration. */
export type ResponderItem = Record<string, unknown> & { findingId: string };

/**
 * Whether an item of the table is no incident record: the budget's spending (`budget|…`) or a security
 * group's registration (`security-group|…`). A finding id never holds `|`.
 */
export const isResponderItem = (item: { findingId?: unknown }): boolean =>
  String(item.findingId ?? '').includes('|');

export interface RecordTable {
  // ---------------------------------------------------------------- claims (claim.ts)
  get(findingId: string): Promise<IncidentRecord | null>;
  /** The record as it was before the claim (undefined: none), or null when another execution holds it. */
  claim(write: ClaimWrite): Promise<{ old: Partial<IncidentRecord> | undefined } | null>;
  /** A new incident's header, and no entries, on condition that `executionArn` holds the finding. */
  startIncident(
    findingId: string,
    executionArn: string,
    header: IncidentHeader,
    refused: Refusal[],
  ): Promise<void>;
  /** Once per execution, while it holds the finding and has no outcome yet: false otherwise. */
  recordOutcome(
    findingId: string,
    executionArn: string,
    outcome: Exclude<ResponseOutcome, 'responding'>,
    at: string,
  ): Promise<boolean>;
  /** Appended to the sightings of a record that exists; the record as it is then. */
  recordSighting(findingId: string, sighting: Sighting): Promise<IncidentRecord>;
  recordPlan(findingId: string, plan: IncidentRecord['plan'], at: string): Promise<void>;
  /** On condition that `executionArn` holds the finding in incident `incidentId`: false otherwise. */
  recordSignedPlan(
    findingId: string,
    incidentId: string,
    executionArn: string,
    plan: SignedPlan,
    at: string,
  ): Promise<boolean>;

  // ---------------------------------------------------------------- entries (the journal)
  /**
   * Writes the entry unless one is there already, in the open incident `incidentId`: the entry as it is
   * now (written or kept), or null when the incident is not open (or not that one).
   */
  putEntryIfAbsent(
    findingId: string,
    incidentId: string,
    key: string,
    entry: RecordEntry,
  ): Promise<RecordEntry | null>;
  /**
   * Puts `entry` in place of the one that was read (its MAC, or none: `foundMac`) and keeps the refusal;
   * false when the entry changed since, or the incident is not open.
   */
  replaceEntry(
    findingId: string,
    incidentId: string,
    key: string,
    entry: RecordEntry,
    foundMac: string | null,
    refusal: Refusal,
  ): Promise<boolean>;
  /** The outcome of an entry that exists. */
  settleEntry(
    findingId: string,
    key: string,
    outcome: {
      status: RecordEntry['status'];
      after: Record<string, unknown> | null;
      detail: string;
      at: string;
      mac: string;
    },
  ): Promise<void>;
  /** To an open incident that holds the entry and recorded it later than `handed.intendedAt`: false otherwise. */
  handOver(findingId: string, key: string, handed: HandedOver): Promise<boolean>;

  // ---------------------------------------------------------------- budgets, holds and evidence
  /** A scope's spending, its version (0: none written yet) and the MAC it was written with. */
  readSpending(key: string): Promise<{ spent: unknown[]; version: number; mac: string | null }>;
  /**
   * On condition that the version is still `version` (the item is then at `version + 1`, with `mac`):
   * false when someone wrote in between.
   */
  writeSpending(key: string, spent: unknown[], version: number, mac: string): Promise<boolean>;
  recordHold(findingId: string, hold: Hold): Promise<void>;
  recordEvidence(findingId: string, objects: readonly EvidenceObject[], at: string): Promise<void>;

  // ---------------------------------------------------------------- approvals
  /** On condition that `approval.executionArn` holds the finding. */
  requestApproval(findingId: string, approval: ApprovalRecord): Promise<void>;
  /** The first answer to a request still waiting with this token: false when another came first. */
  decideApproval(
    findingId: string,
    action: string,
    token: string,
    decision: ApprovalDecision,
    mac: string | null,
  ): Promise<boolean>;
  reopenApproval(findingId: string, action: string, decision: ApprovalDecision): Promise<void>;
  noteApproval(findingId: string, action: string, decision: ApprovalDecision): Promise<void>;

  // ---------------------------------------------------------------- releases and recoveries
  inState(state: IncidentState): Promise<IncidentRecord[]>;
  /** Open (or being released) to releasing: false otherwise. */
  startRelease(findingId: string, at: string): Promise<boolean>;
  recordRelease(findingId: string, release: ReleaseRecord, finished: boolean): Promise<void>;
  /** Open (or being recovered) to recovering, with the recovery's plan: false otherwise. */
  startRecovery(findingId: string, recovery: RecoveryRecord): Promise<boolean>;
  recordRecoveryStep(findingId: string, index: number, step: RecoveryStepRecord): Promise<void>;
  finishRecovery(findingId: string, recovery: RecoveryRecord, finished: boolean): Promise<void>;

  // ---------------------------------------------------------------- the responder's security groups
  readItem(key: string): Promise<ResponderItem | null>;
  /**
   * A registration, on condition that the item is absent (`previousMac` undefined), has that MAC, or has
   * none (`previousMac` null): false otherwise.
   */
  writeGroup(
    key: string,
    groupId: string,
    mac: string,
    previousMac: string | null | undefined,
  ): Promise<boolean>;
}
