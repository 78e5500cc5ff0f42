/**
 * The evidence bucket: KMS-encrypted with a rotating customer-managed key, versioned, public access
 * blocked, TLS only, its server access logs in a log bucket, both retained when the stack is deleted;
 * with `evidence.retentionDays`, S3 Object Lock in governance mode keeps every version that long.
 * Functions are granted only the object actions their declaration names, under `incidents/`, and its
 * policy refuses a write by anyone else: evidence is the responder's alone.
 *
 * Beside it, the host output bucket: Run Command uploads the host capture's output with the instance's
 * own credentials, so each instance of this account may write there, and only under
 * `hosts/<its aws:userid>/` (`<role id>:<instance id>`, the session its instance profile gives it); the
 * responder takes each object into the evidence bucket and deletes it (lambdas/evidence/host-output.ts),
 * and a lifecycle rule removes whatever is left after a day.
 */
import { Aws, Duration, Lazy, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { HOST_OUTPUT_PREFIX } from '../lambdas/evidence/host-output.js';
import { type FunctionName, needsOf } from '../lambdas/permissions.js';
import { acknowledge, nagRendering } from './nag.js';
import type { ResponseFunction } from './response-function.js';

export const EVIDENCE_PREFIX = 'incidents/';

export class EvidenceBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly logs: s3.Bucket;
  readonly hostOutput: s3.Bucket;
  /** The roles of the functions that write evidence: nobody else may. */
  private readonly writers: string[] = [];

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
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheResponderWrites',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: {
          ArnNotEquals: { 'aws:PrincipalArn': Lazy.list({ produce: () => this.writers }) },
        },
      }),
    );

    this.hostOutput = new s3.Bucket(this, 'HostOutput', {
      // The instances write with their own credentials: a key of ours would have to be theirs too.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logs,
      serverAccessLogsPrefix: 'host-output/',
      lifecycleRules: [{ expiration: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.hostOutput.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EachInstanceItsOwnPrefix',
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.hostOutput.arnForObjects(`${HOST_OUTPUT_PREFIX}\${aws:userid}/*`)],
        conditions: {
          StringEquals: { 'aws:PrincipalAccount': Aws.ACCOUNT_ID },
          // Only an instance's role session carries the instance it runs on.
          Null: { 'ec2:SourceInstanceARN': 'false' },
        },
      }),
    );
    this.hostOutput.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'InstancesFindTheBucket',
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetBucketLocation'],
        resources: [this.hostOutput.bucketArn],
        conditions: {
          StringEquals: { 'aws:PrincipalAccount': Aws.ACCOUNT_ID },
          Null: { 'ec2:SourceInstanceARN': 'false' },
        },
      }),
    );
  }

  /** Grants a function the object actions its declaration names, under `incidents/`, and names the bucket. */
  bind(fn: ResponseFunction, name: FunctionName): void {
    this.bindHostOutput(fn, name);
    const actions = needsOf(name).evidenceBucket;
    if (!actions) return;
    if (actions.includes('s3:PutObject')) this.writers.push(fn.role.roleArn);
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

  /** Lets a function take what hosts left in the host output bucket, as its declaration says, and names it. */
  private bindHostOutput(fn: ResponseFunction, name: FunctionName): void {
    const actions = needsOf(name).hostOutput;
    if (!actions) return;
    const onObjects = actions.filter((action) => action !== 's3:ListBucket');
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: onObjects,
        resources: [this.hostOutput.arnForObjects(`${HOST_OUTPUT_PREFIX}*`)],
      }),
    );
    if (actions.includes('s3:ListBucket'))
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [this.hostOutput.bucketArn],
          conditions: { StringLike: { 's3:prefix': `${HOST_OUTPUT_PREFIX}*` } },
        }),
      );
    acknowledge(
      fn,
      `IAM5[Resource::${nagRendering(fn, this.hostOutput.arnForObjects(`${HOST_OUTPUT_PREFIX}*`))}]`,
      'What any host of the account left for the responder to take; the keys are known only during the capture.',
    );
    fn.function.addEnvironment('HOST_OUTPUT_BUCKET', this.hostOutput.bucketName);
  }
}
