/**
 * The evidence bucket: KMS-encrypted with a rotating customer-managed key, versioned, public access
 * blocked, TLS only, its server access logs in a log bucket, both retained when the stack is deleted;
 * with `evidence.retentionDays`, S3 Object Lock in governance mode keeps every version that long.
 * Functions are granted only the object actions their declaration names, under `incidents/`.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { type FunctionName, needsOf } from '../lambdas/permissions.js';
import { acknowledge, nagRendering } from './nag.js';
import type { ResponseFunction } from './response-function.js';

export const EVIDENCE_PREFIX = 'incidents/';

export class EvidenceBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly logs: s3.Bucket;

  constructor(scope: Construct, id: string, props: { retentionDays: number | null }) {
    super(scope, id);
    // Server access logs can only go to a bucket encrypted with S3-managed keys.
    this.logs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.logs,
      'S1',
      'This is the access log bucket of the evidence bucket; it does not log itself.',
    );
    const key = new kms.Key(this, 'Key', {
      description: 'guardduty-responder evidence',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: this.logs,
      serverAccessLogsPrefix: 'evidence/',
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.retentionDays
        ? {
            objectLockEnabled: true,
            objectLockDefaultRetention: s3.ObjectLockRetention.governance(Duration.days(props.retentionDays)),
          }
        : {}),
    });
  }

  /** Grants a function the object actions its declaration names, under `incidents/`, and names the bucket. */
  bind(fn: ResponseFunction, name: FunctionName): void {
    const actions = needsOf(name).evidenceBucket;
    if (!actions) return;
    const bucketLevel = (action: string) => action === 's3:ListBucket' || action === 's3:ListBucketVersions';
    const onBucket = actions.filter(bucketLevel);
    const onObjects = actions.filter((action) => !bucketLevel(action));
    if (onObjects.length > 0) {
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: onObjects,
          resources: [this.bucket.arnForObjects(`${EVIDENCE_PREFIX}*`)],
        }),
      );
    }
    if (onBucket.length > 0) {
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: onBucket,
          resources: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': `${EVIDENCE_PREFIX}*` } },
        }),
      );
    }
    this.bucket.encryptionKey?.grant(fn.role, 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt');
    acknowledge(
      fn,
      `IAM5[Resource::${nagRendering(fn, this.bucket.arnForObjects(`${EVIDENCE_PREFIX}*`))}]`,
      'Evidence objects of any incident, written under keys only known during the incident.',
    );
    fn.function.addEnvironment('EVIDENCE_BUCKET', this.bucket.bucketName);
  }
}
