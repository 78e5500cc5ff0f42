/**
 * A local DynamoDB-compatible store (dynalite: DynamoDB's API, validation and expression semantics, in
 * memory) holding the incident table with the key and index the stack declares. The replay simulation
 * serves it behind its AWS endpoint; the tests reach it directly with the real DynamoDB client.
 */
import type { Server } from 'node:http';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  PutCommand,
  ScanCommand,
  type ScanCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import {
  type IncidentRecord,
  STATE_INDEX,
  STATE_INDEX_SORT_KEY,
  TABLE_KEY,
} from '../lambdas/incident/record.js';
import type { RecordKey } from '../lambdas/incident/signature.js';
import { IncidentStore } from '../lambdas/incident/store.js';
import { isResponderItem } from '../lambdas/incident/table.js';
import { ACCOUNT, newMacKey, type SimulatedMacKey } from './account.js';
import { localRecordKey } from './aws/kms.js';
import { close, listenOnLoopback } from './loopback.js';

export const INCIDENT_TABLE = 'guardduty-responder-incidents';

const LOCAL_CREDENTIALS = { accessKeyId: 'AKIASIMULATION00000', secretAccessKey: 'simulation' };

export class LocalIncidentTable {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly client: DynamoDBClient,
    /** The HMAC key the records are signed with (the simulated account's, in a simulation). */
    readonly macKey: SimulatedMacKey,
  ) {}

  /**
   * A fresh table, optionally holding the items of an earlier run (records and budget spending) and the
   * key they were signed with.
   */
  static async start(
    records: readonly Record<string, unknown>[] = [],
    macKey: SimulatedMacKey = newMacKey(ACCOUNT),
  ): Promise<LocalIncidentTable> {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const url = `http://127.0.0.1:${await listenOnLoopback(server)}`;
    const client = new DynamoDBClient({ endpoint: url, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
    await client.send(
      new CreateTableCommand({
        TableName: INCIDENT_TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: TABLE_KEY, AttributeType: 'S' },
          { AttributeName: 'state', AttributeType: 'S' },
          { AttributeName: STATE_INDEX_SORT_KEY, AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: TABLE_KEY, KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: STATE_INDEX,
            KeySchema: [
              { AttributeName: 'state', KeyType: 'HASH' },
              { AttributeName: STATE_INDEX_SORT_KEY, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    // dynalite makes a table ACTIVE on a timer: under load the first request could find it missing.
    for (let attempt = 0; ; attempt++) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: INCIDENT_TABLE }));
      const ready =
        Table?.TableStatus === 'ACTIVE' &&
        (Table.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
      if (ready) break;
      if (attempt > 200) throw new Error(`the local table ${INCIDENT_TABLE} did not become active`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const table = new LocalIncidentTable(server, url, client, macKey);
    const db = DynamoDBDocumentClient.from(client);
    for (const record of records) await db.send(new PutCommand({ TableName: INCIDENT_TABLE, Item: record }));
    return table;
  }

  /**
   * A store over this table, through `client` (by default this process's own client), signing with `key`
   * (by default the table's key, used in this process).
   */
  store(client: DynamoDBClient = this.client, key: RecordKey = localRecordKey(this.macKey)): IncidentStore {
    return IncidentStore.dynamodb(client, INCIDENT_TABLE, key);
  }

  /**
   * Every item of the table: incident records, the budget's spending (budget.ts) and the registry of the
   * responder's security groups (store.ts OwnGroup).
   */
  async items(): Promise<Record<string, unknown>[]> {
    const db = DynamoDBDocumentClient.from(this.client);
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: ScanCommandOutput['LastEvaluatedKey'];
    do {
      const page = await db.send(new ScanCommand({ TableName: INCIDENT_TABLE, ExclusiveStartKey }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }

  /** The incident records, without the budget's and the registry's items. */
  async records(): Promise<IncidentRecord[]> {
    return (await this.items()).filter((item) => !isResponderItem(item)) as IncidentRecord[];
  }

  stop(): Promise<void> {
    this.client.destroy();
    this.server.closeAllConnections();
    return close(this.server);
  }
}
