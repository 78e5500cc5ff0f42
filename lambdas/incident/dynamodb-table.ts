/**
 * The incident record in DynamoDB (table.ts RecordTable): one item per finding id, and the items of the
 * budgets and the responder's security groups beside them. Every write that could race is a conditional
 * write or a first-write-wins `if_not_exists`; what a write must read back is read consistently, as every
 * compatible store answers that (some leave out of UPDATED_NEW what the update did not change).
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { namedCalls } from '../clients/named-calls.js';
import { type IncidentRecord, type RecordEntry, STATE_INDEX } from './record.js';
import type { RecordTable } from './table.js';

const isConditionFailure = (error: unknown) => error instanceof ConditionalCheckFailedException;

/** What the record keeps is JSON: API model class instances become plain maps, undefined fields go. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export class DynamoRecordTable implements RecordTable {
  private readonly db: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.db = DynamoDBDocumentClient.from(namedCalls(client), {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  /** An update on a condition: false when the condition did not hold (nothing was written). */
  private async updateIf(input: Omit<UpdateCommandInput, 'TableName'>): Promise<boolean> {
    try {
      await this.db.send(new UpdateCommand({ TableName: this.tableName, ...input }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private async update(input: Omit<UpdateCommandInput, 'TableName'>) {
    return this.db.send(new UpdateCommand({ TableName: this.tableName, ...input }));
  }

  async get(findingId: string): Promise<IncidentRecord | null> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { findingId }, ConsistentRead: true }),
    );
    return (Item as IncidentRecord | undefined) ?? null;
  }

  async claim(write: Parameters<RecordTable['claim']>[0]) {
    // claimable (record.ts) as one condition: a rerun always; a dry run only a finding never seen; a real
    // response also one a dry run holds, or an open incident whose response failed, was not contained
    // (the budget held a target back), was refused, or died.
    const condition = write.rerun
      ? undefined
      : write.dryRun
        ? 'attribute_not_exists(findingId)'
        : 'attribute_not_exists(findingId) OR dryRun = :true OR (#state = :open AND (outcome IN (:failed, :partly, :notContained, :refused) OR (outcome = :responding AND claimedAt < :stale)))';
    try {
      const { Attributes } = await this.update({
        Key: { findingId: write.findingId },
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
          // containment. A new incident starts without any (startIncident).
          'entries = if_not_exists(entries, :empty)',
          'releases = if_not_exists(releases, :none)',
          'approvals = if_not_exists(approvals, :empty)',
        ].join(', '),
        ConditionExpression: condition,
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':open': 'open',
          ':now': write.at,
          ':dryRun': write.dryRun,
          ':arn': write.executionArn,
          ':finding': write.finding,
          ':none': [],
          ':empty': {},
          ':responding': 'responding',
          ':execution': [{ executionArn: write.executionArn, at: write.at, rerun: write.rerun }],
          ...(condition?.includes(':true')
            ? {
                ':true': true,
                ':failed': 'failed',
                ':partly': 'partly-contained',
                ':notContained': 'not-contained',
                ':refused': 'refused',
                ':stale': write.staleBefore,
              }
            : {}),
        },
        ReturnValues: 'ALL_OLD',
      });
      return { old: Attributes as Partial<IncidentRecord> | undefined };
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  async startIncident(
    ...[findingId, executionArn, header, refused]: Parameters<RecordTable['startIncident']>
  ) {
    await this.update({
      Key: { findingId },
      UpdateExpression:
        'SET incident = :header, entries = :empty, refusals = list_append(if_not_exists(refusals, :none), :refused)',
      ConditionExpression: 'executionArn = :arn',
      ExpressionAttributeValues: {
        ':header': plain(header),
        ':empty': {},
        ':none': [],
        ':refused': plain(refused),
        ':arn': executionArn,
      },
    });
  }

  recordOutcome(...[findingId, executionArn, outcome, at]: Parameters<RecordTable['recordOutcome']>) {
    return this.updateIf({
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

  async recordSighting(...[findingId, sighting]: Parameters<RecordTable['recordSighting']>) {
    const { Attributes } = await this.update({
      Key: { findingId },
      UpdateExpression: 'SET sightings = list_append(sightings, :sighting), updatedAt = :now',
      ConditionExpression: 'attribute_exists(findingId)',
      ExpressionAttributeValues: { ':sighting': [sighting], ':now': sighting.at },
      ReturnValues: 'ALL_NEW',
    });
    return Attributes as IncidentRecord;
  }

  async recordPlan(...[findingId, plan, at]: Parameters<RecordTable['recordPlan']>) {
    await this.update({
      Key: { findingId },
      UpdateExpression: 'SET #plan = :plan, updatedAt = :now',
      ConditionExpression: 'attribute_exists(findingId)',
      ExpressionAttributeNames: { '#plan': 'plan' },
      ExpressionAttributeValues: { ':plan': plan, ':now': at },
    });
  }

  recordSignedPlan(
    ...[findingId, incidentId, executionArn, plan, at]: Parameters<RecordTable['recordSignedPlan']>
  ) {
    return this.updateIf({
      Key: { findingId },
      UpdateExpression: 'SET signedPlan = :plan, updatedAt = :now',
      ConditionExpression: 'executionArn = :arn AND incident.incidentId = :incident',
      ExpressionAttributeValues: {
        ':plan': plain(plan),
        ':now': at,
        ':arn': executionArn,
        ':incident': incidentId,
      },
    });
  }

  async putEntryIfAbsent(
    ...[findingId, incidentId, key, entry]: Parameters<RecordTable['putEntryIfAbsent']>
  ) {
    let answer: Awaited<ReturnType<DynamoRecordTable['update']>>;
    try {
      answer = await this.update({
        Key: { findingId },
        UpdateExpression: 'SET entries.#key = if_not_exists(entries.#key, :entry), updatedAt = :now',
        ConditionExpression: '#state = :open AND incident.incidentId = :incident',
        ExpressionAttributeNames: { '#key': key, '#state': 'state' },
        ExpressionAttributeValues: {
          ':entry': plain(entry),
          ':open': 'open',
          ':now': entry.intendedAt,
          ':incident': incidentId,
        },
        ReturnValues: 'UPDATED_NEW',
      });
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
    const returned = (answer.Attributes as { entries?: Record<string, RecordEntry> } | undefined)?.entries?.[
      key
    ];
    if (returned) return returned;
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

  replaceEntry(
    ...[findingId, incidentId, key, entry, foundMac, refusal]: Parameters<RecordTable['replaceEntry']>
  ) {
    return this.updateIf({
      Key: { findingId },
      UpdateExpression:
        'SET entries.#key = :entry, refusals = list_append(if_not_exists(refusals, :none), :refusal), updatedAt = :now',
      ConditionExpression: `#state = :open AND incident.incidentId = :incident AND ${
        foundMac ? 'entries.#key.mac = :found' : 'attribute_not_exists(entries.#key.mac)'
      }`,
      ExpressionAttributeNames: { '#key': key, '#state': 'state' },
      ExpressionAttributeValues: {
        ':entry': plain(entry),
        ':none': [],
        ':refusal': [plain(refusal)],
        ':now': entry.intendedAt,
        ':open': 'open',
        ':incident': incidentId,
        ...(foundMac ? { ':found': foundMac } : {}),
      },
    });
  }

  async settleEntry(...[findingId, key, outcome]: Parameters<RecordTable['settleEntry']>) {
    await this.update({
      Key: { findingId },
      UpdateExpression:
        'SET entries.#key.#status = :status, entries.#key.#after = :after, entries.#key.detail = :detail, entries.#key.settledAt = :now, entries.#key.mac = :mac, updatedAt = :now',
      ConditionExpression: 'attribute_exists(entries.#key)',
      ExpressionAttributeNames: { '#key': key, '#status': 'status', '#after': 'after' },
      ExpressionAttributeValues: {
        ':status': outcome.status,
        ':after': plain(outcome.after),
        ':mac': outcome.mac,
        ':detail': outcome.detail,
        ':now': outcome.at,
      },
    });
  }

  handOver(...[findingId, key, handed]: Parameters<RecordTable['handOver']>) {
    return this.updateIf({
      Key: { findingId },
      UpdateExpression: 'SET entries.#key.handedOver = :handed, entries.#key.intendedAt = :since',
      ConditionExpression:
        '#state = :open AND attribute_exists(entries.#key) AND entries.#key.intendedAt > :since',
      ExpressionAttributeNames: { '#key': key, '#state': 'state' },
      ExpressionAttributeValues: { ':handed': plain(handed), ':since': handed.intendedAt, ':open': 'open' },
    });
  }

  async readSpending(key: string) {
    const item = await this.readItem(key);
    return {
      spent: Array.isArray(item?.spent) ? item.spent : [],
      version: typeof item?.version === 'number' ? item.version : 0,
      mac: typeof item?.mac === 'string' ? item.mac : null,
    };
  }

  writeSpending(...[key, spent, version, mac]: Parameters<RecordTable['writeSpending']>) {
    return this.updateIf({
      Key: { findingId: key },
      UpdateExpression: 'SET #spent = :spent, #version = :next, #mac = :mac',
      ConditionExpression: version === 0 ? 'attribute_not_exists(findingId)' : '#version = :version',
      ExpressionAttributeNames: { '#spent': 'spent', '#version': 'version', '#mac': 'mac' },
      ExpressionAttributeValues: {
        ':spent': spent,
        ':next': version + 1,
        ':mac': mac,
        ...(version === 0 ? {} : { ':version': version }),
      },
    });
  }

  async recordHold(...[findingId, hold]: Parameters<RecordTable['recordHold']>) {
    await this.update({
      Key: { findingId },
      UpdateExpression: 'SET holds = list_append(if_not_exists(holds, :none), :hold), updatedAt = :now',
      ConditionExpression: 'attribute_exists(findingId)',
      ExpressionAttributeValues: { ':none': [], ':hold': [hold], ':now': hold.at },
    });
  }

  async recordEvidence(...[findingId, objects, at]: Parameters<RecordTable['recordEvidence']>) {
    if (objects.length === 0) return;
    await this.update({
      Key: { findingId },
      UpdateExpression:
        'SET evidence = list_append(if_not_exists(evidence, :none), :objects), updatedAt = :now',
      ConditionExpression: 'attribute_exists(findingId)',
      ExpressionAttributeValues: { ':none': [], ':objects': plain(objects), ':now': at },
    });
  }

  async requestApproval(...[findingId, approval]: Parameters<RecordTable['requestApproval']>) {
    await this.update({
      Key: { findingId },
      UpdateExpression: 'SET approvals.#action = :approval, updatedAt = :now',
      ConditionExpression: 'executionArn = :arn',
      ExpressionAttributeNames: { '#action': approval.action },
      ExpressionAttributeValues: {
        ':approval': plain(approval),
        ':arn': approval.executionArn,
        ':now': approval.requestedAt,
      },
    });
  }

  decideApproval(...[findingId, action, token, decision, mac]: Parameters<RecordTable['decideApproval']>) {
    return this.updateIf({
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

  async reopenApproval(...[findingId, action, decision]: Parameters<RecordTable['reopenApproval']>) {
    await this.update({
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
    });
  }

  async noteApproval(...[findingId, action, decision]: Parameters<RecordTable['noteApproval']>) {
    await this.update({
      Key: { findingId },
      UpdateExpression:
        'SET approvals.#action.decisions = list_append(approvals.#action.decisions, :decision), updatedAt = :at',
      ConditionExpression: 'attribute_exists(approvals.#action)',
      ExpressionAttributeNames: { '#action': action },
      ExpressionAttributeValues: { ':decision': [decision], ':at': decision.at },
    });
  }

  async inState(state: IncidentRecord['state']): Promise<IncidentRecord[]> {
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

  startRelease(findingId: string, at: string) {
    return this.updateIf({
      Key: { findingId },
      UpdateExpression: 'SET #state = :releasing, updatedAt = :now',
      ConditionExpression: '#state IN (:open, :releasing)',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':releasing': 'releasing', ':open': 'open', ':now': at },
    });
  }

  async recordRelease(...[findingId, release, finished]: Parameters<RecordTable['recordRelease']>) {
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
    await this.update({
      Key: { findingId },
      UpdateExpression: `SET ${set.join(', ')}`,
      ConditionExpression: 'attribute_exists(findingId)',
      ExpressionAttributeNames: release.dryRun ? undefined : { '#state': 'state' },
      ExpressionAttributeValues: values,
    });
  }

  startRecovery(...[findingId, recovery]: Parameters<RecordTable['startRecovery']>) {
    return this.updateIf({
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

  async recordRecoveryStep(...[findingId, index, step]: Parameters<RecordTable['recordRecoveryStep']>) {
    await this.update({
      Key: { findingId },
      UpdateExpression: `SET recovery.steps[${Math.trunc(index)}] = :step`,
      ConditionExpression: 'attribute_exists(recovery)',
      ExpressionAttributeValues: { ':step': plain(step) },
    });
  }

  async finishRecovery(...[findingId, recovery, finished]: Parameters<RecordTable['finishRecovery']>) {
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
    await this.update({
      Key: { findingId },
      UpdateExpression: update,
      ConditionExpression: 'attribute_exists(findingId)',
      ExpressionAttributeNames: recovery.dryRun ? undefined : { '#state': 'state' },
      ExpressionAttributeValues: values,
    });
  }

  async readItem(key: string) {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { findingId: key }, ConsistentRead: true }),
    );
    return (Item as (Record<string, unknown> & { findingId: string }) | undefined) ?? null;
  }

  writeGroup(...[key, groupId, mac, previousMac]: Parameters<RecordTable['writeGroup']>) {
    return this.updateIf({
      Key: { findingId: key },
      UpdateExpression: 'SET groupId = :id, mac = :mac, registeredAt = :now',
      ConditionExpression:
        previousMac === undefined
          ? 'attribute_not_exists(findingId)'
          : previousMac === null
            ? 'attribute_not_exists(mac)'
            : 'mac = :previous',
      ExpressionAttributeValues: {
        ':id': groupId,
        ':mac': mac,
        ':now': new Date().toISOString(),
        ...(typeof previousMac === 'string' ? { ':previous': previousMac } : {}),
      },
    });
  }
}
