/**
 * The incident store: the record as the functions use it, over a table (table.ts: DynamoDB in the stack,
 * memory in tests) and the record key. Each concern is a file of its own: claims.ts (who holds a finding,
 * which incident), entries.ts (the write-ahead entries, verified, never adopted unread), budgets.ts (the
 * budget across findings), groups.ts (the responder's security groups); approvals, releases and
 * recoveries are the table's own atomic writes. Actions reach it only through their journal (journal.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { namedCalls } from '../clients/named-calls.js';
import type { BudgetKind } from '../core/budget.js';
import { requireEnv } from '../shared/env.js';
import { type SpendOutcome, spend } from './budgets.js';
import { type ClaimRequest, claim } from './claims.js';
import { signEvidence } from './custody.js';
import { DynamoRecordTable } from './dynamodb-table.js';
import { intend, settle } from './entries.js';
import { type GroupPurpose, type OwnGroup, ownGroup, registerGroup } from './groups.js';
import type {
  ApprovalDecision,
  ApprovalRecord,
  EvidenceObject,
  HandedOver,
  Hold,
  IncidentRecord,
  IncidentState,
  PreviousAttempt,
  RecordEntry,
  RecoveryRecord,
  RecoveryStepRecord,
  ReleaseRecord,
  ResponseOutcome,
  Sighting,
  SignedPlan,
} from './record.js';
import { IncidentNotClaimedError, sealOf } from './seal.js';
import { kmsRecordKey, NO_RECORD_KEY, type RecordKey, type Seal } from './signature.js';
import type { RecordTable } from './table.js';

export class IncidentStore {
  /**
   * `key` signs what this store's function decides and verifies what it reads; a store that only reads
   * records needs none.
   */
  constructor(
    readonly table: RecordTable,
    readonly key: RecordKey = NO_RECORD_KEY,
  ) {}

  /** The record in a DynamoDB table. */
  static dynamodb(client: DynamoDBClient, tableName: string, key: RecordKey = NO_RECORD_KEY): IncidentStore {
    return new IncidentStore(new DynamoRecordTable(client, tableName), key);
  }

  /** The table the stack made, named by INCIDENT_TABLE, and its record key, by RECORD_KEY_ID, if given. */
  static fromEnvironment(): IncidentStore {
    const keyId = process.env.RECORD_KEY_ID;
    const retries = { maxAttempts: 5, retryMode: 'adaptive' } as const;
    return IncidentStore.dynamodb(
      new DynamoDBClient(retries),
      requireEnv('INCIDENT_TABLE'),
      keyId ? kmsRecordKey(namedCalls(new KMSClient(retries)), keyId) : NO_RECORD_KEY,
    );
  }

  // ---------------------------------------------------------------- claims
  get(findingId: string): Promise<IncidentRecord | null> {
    return this.table.get(findingId);
  }

  /** The record and its seal, when its header verifies; a RecordRefusedError otherwise. */
  async sealed(findingId: string): Promise<{ record: IncidentRecord; seal: Seal }> {
    const record = await this.table.get(findingId);
    if (!record) throw new IncidentNotClaimedError(`finding ${findingId} has no incident record`);
    return { record, seal: await sealOf(this.key, record) };
  }

  /** claims.ts: null when another execution holds the finding, else the attempt this one takes over. */
  claim(request: ClaimRequest): Promise<{ previous: PreviousAttempt | null } | null> {
    return claim(this.table, this.key, request);
  }

  /** What the execution that holds the finding ended with; false when it is not the one, or said already. */
  recordOutcome(
    findingId: string,
    executionArn: string,
    outcome: Exclude<ResponseOutcome, 'responding'>,
    at: string,
  ): Promise<boolean> {
    return this.table.recordOutcome(findingId, executionArn, outcome, at);
  }

  /** A repeat of a finding already claimed: appended to its sightings; the record as it is now. */
  recordSighting(findingId: string, sighting: Sighting): Promise<IncidentRecord> {
    return this.table.recordSighting(findingId, sighting);
  }

  recordPlan(findingId: string, plan: IncidentRecord['plan'], at: string): Promise<void> {
    return this.table.recordPlan(findingId, plan, at);
  }

  /** The plan Identify signed (mandate.ts), while this execution holds the finding in this incident. */
  async recordSignedPlan(seal: Seal, executionArn: string, plan: SignedPlan, at: string): Promise<void> {
    if (!(await this.table.recordSignedPlan(seal.findingId, seal.incidentId, executionArn, plan, at)))
      throw new IncidentNotClaimedError(
        `finding ${seal.findingId} is no longer held by ${executionArn} in incident ${seal.incidentId}`,
      );
  }

  // ---------------------------------------------------------------- entries, budgets, evidence
  /** entries.ts: the entry as recorded (this one, or one already there that verifies), and any refusal. */
  intend(seal: Seal, unsigned: RecordEntry): Promise<{ entry: RecordEntry; refused: string | null }> {
    return intend(this.table, this.key, seal, unsigned);
  }

  settle(seal: Seal, recorded: RecordEntry, outcome: Parameters<typeof settle>[4]): Promise<void> {
    return settle(this.table, this.key, seal, recorded, outcome);
  }

  /**
   * Hands the original state of a resource over to another open incident that holds it too, when that
   * incident recorded it later (and so saw it already contained): what passes is the signed entry that
   * recorded the original, so that its release can verify it.
   */
  handOver(findingId: string, key: string, handed: HandedOver): Promise<boolean> {
    return this.table.handOver(findingId, key, handed);
  }

  /** budgets.ts: spends the budget of a scope on a target, unless the hour's spending is at the limit. */
  spend(request: {
    kind: BudgetKind;
    scope: string;
    target: string;
    findingId: string;
    limit: number;
  }): Promise<SpendOutcome> {
    return spend(this.table, this.key, request);
  }

  /** An action held back for the record (the budget was spent), with why. */
  recordHold(findingId: string, hold: Hold): Promise<void> {
    return this.table.recordHold(findingId, hold);
  }

  /** Appends evidence objects to the record's chain of custody. */
  /** custody.ts: the objects, each signed for the incident, added to the record's chain of custody. */
  async recordEvidence(seal: Seal, objects: readonly EvidenceObject[], at: string): Promise<void> {
    if (objects.length === 0) return;
    return this.table.recordEvidence(seal.findingId, await signEvidence(this.key, seal, objects), at);
  }

  // ---------------------------------------------------------------- approvals
  /** An action waits for a person: its request, written by the execution that holds the finding. */
  requestApproval(findingId: string, approval: ApprovalRecord): Promise<void> {
    return this.table.requestApproval(findingId, approval);
  }

  /** The first answer to a request still waiting with this token; false when another came first. */
  decideApproval(
    findingId: string,
    action: string,
    token: string,
    decision: ApprovalDecision,
    /** The Approve function's MAC of an approval (mandate.ts); none for a denial. */
    mac: string | null,
  ): Promise<boolean> {
    return this.table.decideApproval(findingId, action, token, decision, mac);
  }

  /** A decided request whose execution could not be told: waiting again, with why among its decisions. */
  reopenApproval(findingId: string, action: string, decision: ApprovalDecision): Promise<void> {
    return this.table.reopenApproval(findingId, action, decision);
  }

  /** An answer that changed nothing (late, second, or to an execution that no longer waits). */
  noteApproval(findingId: string, action: string, decision: ApprovalDecision): Promise<void> {
    return this.table.noteApproval(findingId, action, decision);
  }

  // ---------------------------------------------------------------- releases and recoveries
  /** Incidents in a state, oldest first. */
  inState(state: IncidentState): Promise<IncidentRecord[]> {
    return this.table.inState(state);
  }

  /** Marks an open incident as being released; false when it is not open (or being released already). */
  startRelease(findingId: string, at: string): Promise<boolean> {
    return this.table.startRelease(findingId, at);
  }

  /**
   * Appends a release to the record. A real release that undid everything it could ends the incident:
   * state released, entries cleared (each step of the release keeps its `before`); otherwise it stays open.
   */
  recordRelease(findingId: string, release: ReleaseRecord, finished: boolean): Promise<void> {
    return this.table.recordRelease(findingId, release, finished);
  }

  /** Marks an open incident as being recovered, with the recovery's plan; false when it is not open. */
  startRecovery(findingId: string, recovery: RecoveryRecord): Promise<boolean> {
    return this.table.startRecovery(findingId, recovery);
  }

  /** One step of the recovery under way: `started` before it is taken, then how it ended. */
  recordRecoveryStep(findingId: string, index: number, step: RecoveryStepRecord): Promise<void> {
    return this.table.recordRecoveryStep(findingId, index, step);
  }

  /** Appends a recovery; a real one that failed nowhere ends the incident `recovered`, else it stays open. */
  finishRecovery(findingId: string, recovery: RecoveryRecord, finished: boolean): Promise<void> {
    return this.table.finishRecovery(findingId, recovery, finished);
  }

  // ---------------------------------------------------------------- the responder's security groups
  /** groups.ts: the responder's own group for a purpose in a VPC of an account and region, verified. */
  ownGroup(location: Seal, vpcId: string, purpose: GroupPurpose): Promise<OwnGroup> {
    return ownGroup(this.table, this.key, location, vpcId, purpose);
  }

  /** groups.ts: registers a group the responder just made; false when someone registered another. */
  registerGroup(
    location: Seal,
    vpcId: string,
    purpose: GroupPurpose,
    groupId: string,
    replacing: OwnGroup,
  ): Promise<boolean> {
    return registerGroup(this.table, this.key, location, vpcId, purpose, groupId, replacing);
  }
}
