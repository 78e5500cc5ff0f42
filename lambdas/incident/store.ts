/**
 * The incident table (DynamoDB): claims, sightings, the write-ahead entries the actions make, and
 * releases. Every write that could race is a conditional write or a first-write-wins `if_not_exists`.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
  type UpdateCommandInput,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { namedCalls } from '../clients/named-calls.js';
import type { ItemStatus } from '../core/action-result.js';
import type { ContainStep } from '../core/actions.js';
import {
  type BudgetDecision,
  type BudgetKind,
  type BudgetSettings,
  budgetKey,
  DEFAULT_BUDGET,
  decide,
  limitOf,
  type Spend,
} from '../core/budget.js';
import { RESPONSE_TIMEOUT_MINUTES } from '../core/settings.js';
import { requireEnv } from '../shared/env.js';
import { logger } from '../shared/logger.js';
import {
  type ApprovalDecision,
  type ApprovalRecord,
  type EvidenceObject,
  entryKey,
  type HandedOver,
  type Hold,
  type IncidentHeader,
  type IncidentRecord,
  type IncidentState,
  type PreviousAttempt,
  type RecordEntry,
  type RecoveryRecord,
  type RecoveryStepRecord,
  type Refusal,
  type ReleaseRecord,
  type ResponseOutcome,
  type Sighting,
  type SignedPlan,
  STATE_INDEX,
} from './record.js';
import { headerRefusal, headerView, sealOf } from './seal.js';
import {
  kmsRecordKey,
  NO_RECORD_KEY,
  type RecordKey,
  type Seal,
  signedView,
  verifyEntry,
} from './signature.js';

export class IncidentNotClaimedError extends Error {
  override readonly name = 'IncidentNotClaimedError';
}

export type ClaimRequest = {
  findingId: string;
  executionArn: string;
  dryRun: boolean;
  /** Run the actions again for a finding already handled (a person asked for it). */
  rerun: boolean;
  finding: IncidentRecord['finding'];
  at: string;
  /** The state machine's timeout: a claim this old with no outcome died; RESPONSE_TIMEOUT_MINUTES by default. */
  timeoutMinutes?: number;
};

const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException;

/** What the record keeps is JSON: API model class instances become plain maps, undefined fields go. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * A security group the responder made for a purpose in a VPC (lambdas/actions/isolate-host.ts), as its
 * registry item holds it: the id, signed with where it is, by the function that made it. A tag on a group
 * proves nothing (anyone who may tag can write it); only a registered id that verifies is the responder's.
 */
export type OwnGroup = {
  /** The verified id; null when none is registered or the registered one failed verification. */
  id: string | null;
  /** The item as read (the condition a new registration replaces it on); null when there is none. */
  found: { groupId?: unknown; mac?: unknown } | null;
  /** Why the registered item was refused; null when it verified or there is none. */
  refused: string | null;
};

export type GroupPurpose = 'quarantine' | 'untrack';

/**
 * An item of the table that is no incident record: the budget's spending (`budget|…`) or a security
 * group's registration (`security-group|…`). A finding id never holds `|`.
 */
export const isResponderItem = (item: { findingId?: unknown }): boolean =>
  String(item.findingId ?? '').includes('|');

const groupKey = (location: Location, vpcId: string, purpose: GroupPurpose) =>
  `security-group|${location.accountId}|${location.region}|${vpcId}|${purpose}`;

const groupView = (location: Location, vpcId: string, purpose: GroupPurpose, groupId: string) => ({
  kind: 'security-group',
  accountId: location.accountId,
  region: location.region,
  vpcId,
  purpose,
  groupId,
});

type Location = { accountId: string; region: string };

/** How often a budget write is tried against concurrent writers before the action fails (and is retried). */
const BUDGET_ATTEMPTS = 50;

export class IncidentStore {
  private readonly db: DynamoDBDocumentClient;

  /**
   * `key` signs the entries this store writes and verifies those it reads for release and recover; a store
   * that only reads records needs none.
   */
  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
    readonly key: RecordKey = NO_RECORD_KEY,
  ) {
    this.db = DynamoDBDocumentClient.from(namedCalls(client), {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  /** The table the stack made, named by INCIDENT_TABLE, and its record key, by RECORD_KEY_ID, if given. */
  static fromEnvironment(): IncidentStore {
    const keyId = process.env.RECORD_KEY_ID;
    const retries = { maxAttempts: 5, retryMode: 'adaptive' } as const;
    return new IncidentStore(
      new DynamoDBClient(retries),
      requireEnv('INCIDENT_TABLE'),
      keyId ? kmsRecordKey(namedCalls(new KMSClient(retries)), keyId) : NO_RECORD_KEY,
    );
  }

  async get(findingId: string): Promise<IncidentRecord | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { findingId }, ConsistentRead: true }),
    );
    return (Item as IncidentRecord | undefined) ?? null;
  }

  /** An update on a condition: false when the condition did not hold (nothing was written). */
  private async updateIf(input: UpdateCommandInput): Promise<boolean> {
    try {
      await this.db.send(new UpdateCommand(input));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Claims the finding for this execution when no record exists, when only a dry run has it (a real
   * execution takes it over), when a person asked for a rerun, or when the last response of the open
   * incident failed (or died without an outcome, past the state machine's timeout): that one is taken
   * again and the record keeps both attempts. Null when another execution has it; otherwise what the
   * previous attempt was, if any.
   */
  async claim(request: ClaimRequest): Promise<{ previous: PreviousAttempt | null } | null> {
    const timeout = request.timeoutMinutes ?? RESPONSE_TIMEOUT_MINUTES;
    const stale = new Date(Date.parse(request.at) - timeout * 60_000).toISOString();
    const condition = request.rerun
      ? undefined
      : request.dryRun
        ? 'attribute_not_exists(findingId)'
        : 'attribute_not_exists(findingId) OR dryRun = :true OR (#state = :open AND (outcome IN (:failed, :refused) OR (outcome = :responding AND claimedAt < :stale)))';
    const values: Record<string, unknown> = {
      ':open': 'open',
      ':now': request.at,
      ':dryRun': request.dryRun,
      ':arn': request.executionArn,
      ':finding': request.finding,
      ':none': [],
      ':empty': {},
      ':responding': 'responding',
      ':execution': [{ executionArn: request.executionArn, at: request.at, rerun: request.rerun }],
      ...(condition?.includes(':true')
        ? { ':true': true, ':failed': 'failed', ':refused': 'refused', ':stale': stale }
        : {}),
    };
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { findingId: request.findingId },
          UpdateExpression: [
            'SET #state = :open',
            'dryRun = :dryRun',
            'createdAt = if_not_exists(createdAt, :now)',
            'updatedAt = :now',
            'claimedAt = :now',
            'outcome = :responding',
            'executionArn = :arn',
            'finding = if_not_exists(finding, :finding)',
            'sightings = if_not_exists(sightings, :none)',
            'executions = list_append(if_not_exists(executions, :none), :execution)',
            'outcomes = if_not_exists(outcomes, :none)',
            // An open incident keeps its entries on a rerun or a retry: their `before` predates the first
            // containment. A released one has none left.
            'entries = if_not_exists(entries, :empty)',
            'releases = if_not_exists(releases, :none)',
            'approvals = if_not_exists(approvals, :empty)',
          ].join(', '),
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_OLD',
        }),
      );
      const old = Attributes as Partial<IncidentRecord> | undefined;
      await this.sealIncident(request, old);
      if (!old?.executionArn) return { previous: null };
      return {
        previous: {
          executionArn: old.executionArn,
          at: old.claimedAt ?? old.createdAt ?? '',
          outcome: old.outcome ?? 'unknown',
          dryRun: old.dryRun === true,
        },
      };
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  /**
   * The incident the claim continues, or a new one. An incident not yet closed (open, or a release or
   * recovery under way) and really contained (not a dry run) goes on under its header, when that
   * verifies; anything else starts a new incident: a random id, signed with the finding's account and
   * region, and no entries (those of an earlier incident are signed for its id). A header that does not
   * verify is kept among the refusals, as found.
   */
  private async sealIncident(request: ClaimRequest, old: Partial<IncidentRecord> | undefined): Promise<void> {
    const going = old?.state === 'open' || old?.state === 'releasing' || old?.state === 'recovering';
    const refusal =
      old?.incident && going && old.dryRun !== true
        ? await headerRefusal(this.key, { findingId: request.findingId, incident: old.incident })
        : 'new';
    if (refusal === null) return;
    const unsigned: Omit<IncidentHeader, 'mac'> = {
      incidentId: randomUUID(),
      accountId: request.finding.accountId,
      region: request.finding.region,
      claimedAt: request.at,
    };
    const header: IncidentHeader = {
      ...unsigned,
      mac: await this.key.sign(headerView(request.findingId, unsigned)),
    };
    const refused: Refusal[] =
      refusal === 'new'
        ? []
        : [
            {
              key: 'incident',
              reason: `${refusal}: a new incident was started`,
              found: plain(old?.incident),
              at: request.at,
              executionArn: request.executionArn,
            },
          ];
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { findingId: request.findingId },
        UpdateExpression:
          'SET incident = :header, entries = :empty, refusals = list_append(if_not_exists(refusals, :none), :refused)',
        ConditionExpression: 'executionArn = :arn',
        ExpressionAttributeValues: {
          ':header': header,
          ':empty': {},
          ':none': [],
          ':refused': refused,
          ':arn': request.executionArn,
        },
      }),
    );
  }

  /** The record and its seal, when its header verifies; a RecordRefusedError otherwise. */
  async sealed(findingId: string): Promise<{ record: IncidentRecord; seal: Seal }> {
    const record = await this.get(findingId);
    if (!record) throw new IncidentNotClaimedError(`finding ${findingId} has no incident record`);
    return { record, seal: await sealOf(this.key, record) };
  }

  /**
   * What the execution that holds the finding ended with: `failed` lets the next sighting contain it
   * again. False when a later execution has taken the finding over (its outcome is the one that counts),
   * or when this execution's outcome is written already.
   */
  async recordOutcome(
    findingId: string,
    executionArn: string,
    outcome: Exclude<ResponseOutcome, 'responding'>,
    at: string,
  ): Promise<boolean> {
    return this.updateIf({
      TableName: this.tableName,
      Key: { findingId },
      UpdateExpression:
        'SET outcome = :outcome, outcomes = list_append(if_not_exists(outcomes, :none), :entry), updatedAt = :now',
      // Once per execution: a retried Notify finds its outcome written already.
      ConditionExpression: 'executionArn = :arn AND outcome = :responding',
      ExpressionAttributeValues: {
        ':responding': 'responding',
        ':outcome': outcome,
        ':none': [],
        ':entry': [{ executionArn, outcome, at }],
        ':now': at,
        ':arn': executionArn,
      },
    });
  }

  /** A repeat of a finding already claimed: appended to its sightings; returns the record as it is now. */
  async recordSighting(findingId: string, sighting: Sighting): Promise<IncidentRecord> {
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { findingId },
        UpdateExpression: 'SET sightings = list_append(sightings, :sighting), updatedAt = :now',
        ConditionExpression: 'attribute_exists(findingId)',
        ExpressionAttributeValues: { ':sighting': [sighting], ':now': sighting.at },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes as IncidentRecord;
  }

  /**
   * The plan Identify made and signed (mandate.ts), on condition that this execution still holds the
   * finding and the incident is the one it was signed for.
   */
  async recordSignedPlan(seal: Seal, executionArn: string, plan: SignedPlan, at: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { findingId: seal.findingId },
          UpdateExpression: 'SET signedPlan = :plan, updatedAt = :now',
          ConditionExpression: 'executionArn = :arn AND incident.incidentId = :incident',
          ExpressionAttributeValues: {
            ':plan': plain(plan),
            ':now': at,
            ':arn': executionArn,
            ':incident': seal.incidentId,
          },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error))
        throw new IncidentNotClaimedError(
          `finding ${seal.findingId} is no longer held by ${executionArn} in incident ${seal.incidentId}`,
        );
      throw error;
    }
  }

  async recordPlan(findingId: string, plan: IncidentRecord['plan'], at: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { findingId },
        UpdateExpression: 'SET #plan = :plan, updatedAt = :now',
        ConditionExpression: 'attribute_exists(findingId)',
        ExpressionAttributeNames: { '#plan': 'plan' },
        ExpressionAttributeValues: { ':plan': plan, ':now': at },
      }),
    );
  }

  /**
   * Writes an entry's state before a change, signed for the incident's seal, unless one is already there
   * (a retry): returns the entry as recorded, whose `before` the caller must use from then on. An entry
   * already there is never adopted unread: it must verify for this seal. One that does not (planted, or
   * changed, in the table) is refused: kept among the record's refusals as found, and replaced by this
   * one, signed over the state read now; `refused` says why.
   */
  async intend(seal: Seal, unsigned: RecordEntry): Promise<{ entry: RecordEntry; refused: string | null }> {
    const { findingId } = seal;
    const key = entryKey(unsigned.action, unsigned.cluster, unsigned.target);
    const entry = plain(unsigned);
    entry.mac = await this.key.sign(signedView(seal, entry));
    let answer: UpdateCommandOutput;
    try {
      answer = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { findingId },
          UpdateExpression: 'SET entries.#key = if_not_exists(entries.#key, :entry), updatedAt = :now',
          ConditionExpression: '#state = :open AND incident.incidentId = :incident',
          ExpressionAttributeNames: { '#key': key, '#state': 'state' },
          ExpressionAttributeValues: {
            ':entry': entry,
            ':open': 'open',
            ':now': entry.intendedAt,
            ':incident': seal.incidentId,
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error))
        throw new IncidentNotClaimedError(
          `finding ${findingId} has no open incident ${seal.incidentId} to write to`,
        );
      throw error;
    }
    // DynamoDB answers UPDATED_NEW with the entry, written now or kept; some compatible stores leave out
    // what the update did not change. Then the entry is read back, consistently: every store answers that.
    const recorded =
      (answer.Attributes as { entries?: Record<string, RecordEntry> } | undefined)?.entries?.[key] ??
      (await this.readEntry(findingId, key));
    if (recorded.mac === entry.mac && recorded.intendedAt === entry.intendedAt)
      return { entry: recorded, refused: null };
    const verdict = await verifyEntry(this.key, seal, recorded);
    if (verdict.verified) return { entry: recorded, refused: null };
    await this.replaceRefused(seal, key, recorded, entry, verdict.reason);
    return { entry, refused: verdict.reason };
  }

  private async readEntry(findingId: string, key: string): Promise<RecordEntry> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { findingId },
        ConsistentRead: true,
        ProjectionExpression: 'entries.#key',
        ExpressionAttributeNames: { '#key': key },
      }),
    );
    const recorded = (Item as { entries?: Record<string, RecordEntry> } | undefined)?.entries?.[key];
    if (!recorded) throw new Error(`the incident record of ${findingId} lost its entry ${key}`);
    return recorded;
  }

  /**
   * An entry that failed verification makes way for the responder's own, on condition that it is still
   * the one that was read (its MAC, or its lack of one); the refused one is kept among the refusals.
   */
  private async replaceRefused(
    seal: Seal,
    key: string,
    found: RecordEntry,
    entry: RecordEntry,
    reason: string,
  ): Promise<void> {
    const refusal: Refusal = {
      key,
      reason,
      found: plain(found),
      at: entry.intendedAt,
      executionArn: entry.executionArn,
    };
    const written = await this.updateIf({
      TableName: this.tableName,
      Key: { findingId: seal.findingId },
      UpdateExpression:
        'SET entries.#key = :entry, refusals = list_append(if_not_exists(refusals, :none), :refusal), updatedAt = :now',
      ConditionExpression: `#state = :open AND incident.incidentId = :incident AND ${
        found.mac ? 'entries.#key.mac = :found' : 'attribute_not_exists(entries.#key.mac)'
      }`,
      ExpressionAttributeNames: { '#key': key, '#state': 'state' },
      ExpressionAttributeValues: {
        ':entry': entry,
        ':none': [],
        ':refusal': [refusal],
        ':now': entry.intendedAt,
        ':open': 'open',
        ':incident': seal.incidentId,
        ...(found.mac ? { ':found': found.mac } : {}),
      },
    });
    if (!written)
      throw new Error(
        `the record entry ${key} of ${seal.findingId} failed verification (${reason}) and changed again while it was being replaced: nothing was done`,
      );
  }

  /**
   * Spends the budget of a scope on a target, unless the hour's spending is at the limit. Read, decide,
   * then write on condition that nobody wrote in between (the item's version), again until it holds: so
   * concurrent findings count exactly.
   */
  async spend(request: {
    kind: BudgetKind;
    scope: string;
    target: string;
    findingId: string;
    limit: number;
  }): Promise<BudgetDecision> {
    const key = budgetKey(request.kind, request.scope);
    for (let attempt = 0; attempt < BUDGET_ATTEMPTS; attempt++) {
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tableName, Key: { findingId: key }, ConsistentRead: true }),
      );
      const version = typeof Item?.version === 'number' ? Item.version : 0;
      const decision = decide((Item?.spent as Spend[] | undefined) ?? [], { ...request, now: new Date() });
      if (!decision.granted || !decision.changed) return decision;
      const written = await this.updateIf({
        TableName: this.tableName,
        Key: { findingId: key },
        UpdateExpression: 'SET #spent = :spent, #version = :next',
        ConditionExpression: version === 0 ? 'attribute_not_exists(findingId)' : '#version = :version',
        ExpressionAttributeNames: { '#spent': 'spent', '#version': 'version' },
        ExpressionAttributeValues: {
          ':spent': decision.spent,
          ':next': version + 1,
          ...(version === 0 ? {} : { ':version': version }),
        },
      });
      if (written) return decision;
      // Another finding spent at the same moment: read again, after a short random pause.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * Math.min(attempt + 1, 10)));
    }
    throw new Error(
      `the budget ${key} could not be updated after ${BUDGET_ATTEMPTS} attempts: too many findings at once`,
    );
  }

  /** The responder's own group for a purpose in a VPC of an account and region, verified (OwnGroup). */
  async ownGroup(location: Location, vpcId: string, purpose: GroupPurpose): Promise<OwnGroup> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { findingId: groupKey(location, vpcId, purpose) },
        ConsistentRead: true,
      }),
    );
    if (!Item) return { id: null, found: null, refused: null };
    const groupId = typeof Item.groupId === 'string' ? Item.groupId : '';
    const verified =
      groupId !== '' &&
      (await this.key.verify(
        groupView(location, vpcId, purpose, groupId),
        typeof Item.mac === 'string' ? Item.mac : null,
      ));
    return verified
      ? { id: groupId, found: Item, refused: null }
      : { id: null, found: Item, refused: `the registered ${purpose} group of ${vpcId} failed verification` };
  }

  /**
   * Registers a group the responder just made, signed, in place of what `replacing` read (nothing, a
   * group since deleted, or an item that failed verification): false when someone registered another in
   * between (that one stands).
   */
  async registerGroup(
    location: Location,
    vpcId: string,
    purpose: GroupPurpose,
    groupId: string,
    replacing: OwnGroup,
  ): Promise<boolean> {
    const mac = await this.key.sign(groupView(location, vpcId, purpose, groupId));
    const previous = replacing.found?.mac;
    return this.updateIf({
      TableName: this.tableName,
      Key: { findingId: groupKey(location, vpcId, purpose) },
      UpdateExpression: 'SET groupId = :id, mac = :mac, registeredAt = :now',
      ConditionExpression: !replacing.found
        ? 'attribute_not_exists(findingId)'
        : typeof previous === 'string'
          ? 'mac = :previous'
          : 'attribute_not_exists(mac)',
      ExpressionAttributeValues: {
        ':id': groupId,
        ':mac': mac,
        ':now': new Date().toISOString(),
        ...(typeof previous === 'string' && replacing.found ? { ':previous': previous } : {}),
      },
    });
  }

  /** An action waits for a person: its request, written by the execution that holds the finding. */
  async requestApproval(findingId: string, approval: ApprovalRecord): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { findingId },
        UpdateExpression: 'SET approvals.#action = :approval, updatedAt = :now',
        ConditionExpression: 'executionArn = :arn',
        ExpressionAttributeNames: { '#action': approval.action },
        ExpressionAttributeValues: {
          ':approval': plain(approval),
          ':arn': approval.executionArn,
          ':now': approval.requestedAt,
        },
      }),
    );
  }

  /**
   * A person's answer decides a request still waiting with this token, the first answer only: false when
   * another answer came first (nothing written).
   */
  async decideApproval(
    findingId: string,
    action: string,
    token: string,
    decision: ApprovalDecision,
    /** The Approve function's MAC of an approval (mandate.ts); none for a denial. */
    mac: string | null,
  ): Promise<boolean> {
    return this.updateIf({
      TableName: this.tableName,
      Key: { findingId },
      UpdateExpression:
        'SET approvals.#action.#state = :state, approvals.#action.answeredBy = :by, approvals.#action.answeredAt = :at, approvals.#action.decisions = list_append(approvals.#action.decisions, :decision), approvals.#action.mac = :mac, updatedAt = :at',
      ConditionExpression: 'approvals.#action.#state = :waiting AND approvals.#action.#token = :token',
      ExpressionAttributeNames: { '#action': action, '#state': 'state', '#token': 'token' },
      ExpressionAttributeValues: {
        ':state': decision.answer === 'approve' ? 'approved' : 'denied',
        ':by': decision.by,
        ':at': decision.at,
        ':decision': [decision],
        ':waiting': 'waiting',
        ':token': token,
        ':mac': mac,
      },
    });
  }

  /** A decided request whose execution could not be told: waiting again, with why among its decisions. */
  async reopenApproval(findingId: string, action: string, decision: ApprovalDecision): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { findingId },
        UpdateExpression:
          'SET approvals.#action.#state = :waiting, approvals.#action.answeredBy = :none, approvals.#action.answeredAt = :none, approvals.#action.mac = :none, approvals.#action.decisions = list_append(approvals.#action.decisions, :decision), updatedAt = :at',
        ConditionExpression: 'attribute_exists(approvals.#action)',
        ExpressionAttributeNames: { '#action': action, '#state': 'state' },
        ExpressionAttributeValues: {
          ':waiting': 'waiting',
          ':none': null,
          ':decision': [decision],
          ':at': decision.at,
        },
      }),
    );
  }

  /** An answer that changed nothing (late, second, or to an execution that no longer waits), for the record. */
  async noteApproval(findingId: string, action: string, decision: ApprovalDecision): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { findingId },
        UpdateExpression:
          'SET approvals.#action.decisions = list_append(approvals.#action.decisions, :decision), updatedAt = :at',
        ConditionExpression: 'attribute_exists(approvals.#action)',
        ExpressionAttributeNames: { '#action': action },
        ExpressionAttributeValues: { ':decision': [decision], ':at': decision.at },
      }),
    );
  }

  /** An action held back for the record (the budget was spent), with why. */
  async recordHold(findingId: string, hold: Hold): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { findingId },
        UpdateExpression: 'SET holds = list_append(if_not_exists(holds, :none), :hold), updatedAt = :now',
        ConditionExpression: 'attribute_exists(findingId)',
        ExpressionAttributeValues: { ':none': [], ':hold': [hold], ':now': hold.at },
      }),
    );
  }

  /** Appends evidence objects to the record's chain of custody. */
  async recordEvidence(findingId: string, objects: readonly EvidenceObject[], at: string): Promise<void> {
    if (objects.length === 0) return;
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { findingId },
        UpdateExpression:
          'SET evidence = list_append(if_not_exists(evidence, :none), :objects), updatedAt = :now',
        ConditionExpression: 'attribute_exists(findingId)',
        ExpressionAttributeValues: { ':none': [], ':objects': plain(objects), ':now': at },
      }),
    );
  }

  /**
   * The outcome of an entry's change (`recorded` as intend returned it, verified or the journal's own),
   * signed again with its outcome.
   */
  async settle(
    seal: Seal,
    recorded: RecordEntry,
    outcome: { status: ItemStatus; after: Record<string, unknown> | null; detail: string; at: string },
  ): Promise<void> {
    const key = entryKey(recorded.action, recorded.cluster, recorded.target);
    const after = plain(outcome.after);
    const mac = await this.key.sign(signedView(seal, { ...recorded, status: outcome.status, after }));
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { findingId: seal.findingId },
        UpdateExpression:
          'SET entries.#key.#status = :status, entries.#key.#after = :after, entries.#key.detail = :detail, entries.#key.settledAt = :now, entries.#key.mac = :mac, updatedAt = :now',
        ConditionExpression: 'attribute_exists(entries.#key)',
        ExpressionAttributeNames: { '#key': key, '#status': 'status', '#after': 'after' },
        ExpressionAttributeValues: {
          ':status': outcome.status,
          ':after': after,
          ':mac': mac,
          ':detail': outcome.detail,
          ':now': outcome.at,
        },
      }),
    );
  }

  /** Incidents in a state, oldest first, through the state index. */
  async inState(state: IncidentState): Promise<IncidentRecord[]> {
    const found: IncidentRecord[] = [];
    let ExclusiveStartKey: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: STATE_INDEX,
          KeyConditionExpression: '#state = :state',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':state': state },
          ExclusiveStartKey,
        }),
      );
      found.push(...((page.Items ?? []) as IncidentRecord[]));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return found;
  }

  /** Marks an open incident as being released; false when it is not open (or being released already). */
  async startRelease(findingId: string, at: string): Promise<boolean> {
    return this.updateIf({
      TableName: this.tableName,
      Key: { findingId },
      UpdateExpression: 'SET #state = :releasing, updatedAt = :now',
      ConditionExpression: '#state IN (:open, :releasing)',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':releasing': 'releasing', ':open': 'open', ':now': at },
    });
  }

  /**
   * Appends a release to the record. A real release (not a dry run) that undid everything it could ends
   * the incident: state released, entries cleared (each step of the release keeps its `before`);
   * otherwise the incident stays open.
   */
  async recordRelease(findingId: string, release: ReleaseRecord, finished: boolean): Promise<void> {
    const set = ['releases = list_append(releases, :release)', 'updatedAt = :now'];
    const values: Record<string, unknown> = { ':release': [plain(release)], ':now': release.at };
    if (!release.dryRun) {
      set.push('#state = :state');
      values[':state'] = finished ? 'released' : 'open';
      if (finished) {
        set.push('entries = :empty');
        values[':empty'] = {};
      }
    }
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { findingId },
        UpdateExpression: `SET ${set.join(', ')}`,
        ConditionExpression: 'attribute_exists(findingId)',
        ExpressionAttributeNames: release.dryRun ? undefined : { '#state': 'state' },
        ExpressionAttributeValues: values,
      }),
    );
  }

  /**
   * Marks an open incident as being recovered and writes the recovery's plan; false when it is not open
   * (or being recovered already).
   */
  async startRecovery(findingId: string, recovery: RecoveryRecord): Promise<boolean> {
    return this.updateIf({
      TableName: this.tableName,
      Key: { findingId },
      UpdateExpression: 'SET #state = :recovering, recovery = :recovery, updatedAt = :now',
      ConditionExpression: '#state IN (:open, :recovering)',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: {
        ':recovering': 'recovering',
        ':open': 'open',
        ':recovery': plain(recovery),
        ':now': recovery.at,
      },
    });
  }

  /** One step of the recovery under way: `started` before it is taken, then how it ended. */
  async recordRecoveryStep(findingId: string, index: number, step: RecoveryStepRecord): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { findingId },
        UpdateExpression: `SET recovery.steps[${Math.trunc(index)}] = :step`,
        ConditionExpression: 'attribute_exists(recovery)',
        ExpressionAttributeValues: { ':step': plain(step) },
      }),
    );
  }

  /**
   * Appends a recovery (or a dry run) to the record. A real recovery that failed nowhere ends the
   * incident `recovered`; one that failed somewhere leaves it open to be recovered again.
   */
  async finishRecovery(findingId: string, recovery: RecoveryRecord, finished: boolean): Promise<void> {
    const values: Record<string, unknown> = {
      ':recovery': [plain(recovery)],
      ':none': [],
      ':now': recovery.at,
    };
    let update =
      'SET recoveries = list_append(if_not_exists(recoveries, :none), :recovery), updatedAt = :now';
    if (!recovery.dryRun) {
      update += ', #state = :state REMOVE recovery';
      values[':state'] = finished ? 'recovered' : 'open';
    }
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { findingId },
        UpdateExpression: update,
        ConditionExpression: 'attribute_exists(findingId)',
        ExpressionAttributeNames: recovery.dryRun ? undefined : { '#state': 'state' },
        ExpressionAttributeValues: values,
      }),
    );
  }

  /**
   * Hands the original state of a resource over to another open incident that holds it too, when that
   * incident recorded it later (and so saw it already contained): its release will then put back the truth.
   * What passes is the signed entry that recorded the original (`handed`), so that release can verify it.
   */
  async handOver(findingId: string, key: string, handed: HandedOver): Promise<boolean> {
    return this.updateIf({
      TableName: this.tableName,
      Key: { findingId },
      UpdateExpression: 'SET entries.#key.handedOver = :handed, entries.#key.intendedAt = :since',
      ConditionExpression:
        '#state = :open AND attribute_exists(entries.#key) AND entries.#key.intendedAt > :since',
      ExpressionAttributeNames: { '#key': key, '#state': 'state' },
      ExpressionAttributeValues: { ':handed': plain(handed), ':since': handed.intendedAt, ':open': 'open' },
    });
  }
}

/**
 * The write-ahead log one action invocation keeps in its incident's record: the state before each change,
 * written before the change, and its outcome after.
 */
export type Journal = {
  /**
   * Records `before` for a target unless already recorded; returns the recorded one. A recorded one that
   * fails verification is refused (`refusals`) and `before` recorded in its place.
   */
  intend<B extends Record<string, unknown>>(
    action: ContainStep,
    cluster: string | null,
    target: string,
    before: B,
  ): Promise<B>;
  settle(
    action: ContainStep,
    cluster: string | null,
    target: string,
    outcome: { status: ItemStatus; after?: Record<string, unknown> | null; detail: string },
  ): Promise<void>;
  /**
   * Spends the budget across findings (budget.ts) on a target before the action changes it: null when
   * the action may go on, otherwise why it is held back (also written to the record and logged as
   * `budget exhausted`, which the stack's alarm counts).
   */
  spend(action: ContainStep, kind: BudgetKind, scope: string, target: string): Promise<string | null>;
  /** The targets whose entry found in the table failed verification in this invocation, and why. */
  refusals(): ReadonlyMap<string, string>;
  /** The responder's own security group for a purpose in a VPC of the incident's account and region. */
  ownGroup(vpcId: string, purpose: GroupPurpose): Promise<OwnGroup>;
  /** Registers a group the action made (IncidentStore.registerGroup): false when another stands. */
  registerGroup(vpcId: string, purpose: GroupPurpose, groupId: string, replacing: OwnGroup): Promise<boolean>;
};

/** What the state machine passes every action besides its own input: the execution, for the record. */
export type Recorded = { executionArn: string };

/**
 * The journal of one action invocation: its finding's record, written as this execution, for the
 * incident `seal` names (by default, the record's own header, verified on the first write).
 */
export function incidentJournal(
  store: IncidentStore,
  findingId: string,
  executionArn: string,
  budget: BudgetSettings = DEFAULT_BUDGET,
  seal?: Seal,
): Journal {
  const now = () => new Date().toISOString();
  let sealed: Promise<Seal> | undefined = seal ? Promise.resolve(seal) : undefined;
  const sealOfRecord = () => {
    sealed ??= store.sealed(findingId).then((found) => found.seal);
    return sealed;
  };
  /** The entries as intend recorded them: settle signs each again with its outcome. */
  const recordedEntries = new Map<string, RecordEntry>();
  const refused = new Map<string, string>();
  return {
    async intend(action, cluster, target, before) {
      const { entry, refused: why } = await store.intend(await sealOfRecord(), {
        action,
        target,
        cluster,
        status: 'intended',
        before,
        after: null,
        detail: null,
        intendedAt: now(),
        settledAt: null,
        executionArn,
      });
      if (why) {
        refused.set(target, why);
        logger.error('record entry refused', { findingId, action, target, reason: why });
      }
      recordedEntries.set(entryKey(action, cluster, target), entry);
      return entry.before as typeof before;
    },
    async settle(action, cluster, target, outcome) {
      const key = entryKey(action, cluster, target);
      const recorded = recordedEntries.get(key);
      if (!recorded)
        throw new Error(`the incident record of ${findingId} has no entry ${key} this invocation wrote`);
      await store.settle(await sealOfRecord(), recorded, {
        status: outcome.status,
        after: outcome.after ?? null,
        detail: outcome.detail,
        at: now(),
      });
    },
    async spend(action, kind, scope, target) {
      const decision = await store.spend({ kind, scope, target, findingId, limit: limitOf(budget, kind) });
      if (decision.granted) return null;
      logger.warn('budget exhausted', { kind, scope, target, findingId, reason: decision.reason });
      await store.recordHold(findingId, { action, target, reason: decision.reason, at: now() });
      return decision.reason;
    },
    refusals: () => refused,
    ownGroup: async (vpcId, purpose) => store.ownGroup(await sealOfRecord(), vpcId, purpose),
    registerGroup: async (vpcId, purpose, groupId, replacing) =>
      store.registerGroup(await sealOfRecord(), vpcId, purpose, groupId, replacing),
  };
}
