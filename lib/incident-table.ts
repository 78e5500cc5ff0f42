/**
 * The incident table: one item per finding id (lambdas/incident/record.ts), on-demand, with
 * point-in-time recovery and a customer-managed, rotating KMS key. It outlives the stack: the record of
 * what was changed must survive a redeploy or a deleted stack, until every incident is released.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { STATE_INDEX, STATE_INDEX_SORT_KEY, TABLE_KEY } from '../lambdas/incident/record.js';
import { type FunctionName, needsOf } from '../lambdas/permissions.js';
import type { ResponseFunction } from './response-function.js';

export class IncidentTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const key = new kms.Key(this, 'Key', {
      description: 'guardduty-responder incident records',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: STATE_INDEX,
      partitionKey: { name: 'state', type: dynamodb.AttributeType.STRING },
      sortKey: { name: STATE_INDEX_SORT_KEY, type: dynamodb.AttributeType.STRING },
    });
  }

  /**
   * Grants a function the table actions its declaration names (Query only on the state index), the use of
   * the table's key, and tells it the table.
   */
  bind(fn: ResponseFunction, name: FunctionName): void {
    const actions = needsOf(name).incidentTable;
    if (!actions) return;
    const onItems = actions.filter((action) => action !== 'dynamodb:Query');
    if (onItems.length > 0) {
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: onItems, resources: [this.table.tableArn] }),
      );
    }
    if (actions.includes('dynamodb:Query')) {
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:Query'],
          resources: [`${this.table.tableArn}/index/${STATE_INDEX}`],
        }),
      );
    }
    this.table.encryptionKey?.grant(
      fn.role,
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:Encrypt',
      'kms:GenerateDataKey',
    );
    fn.function.addEnvironment('INCIDENT_TABLE', this.table.tableName);
  }
}
