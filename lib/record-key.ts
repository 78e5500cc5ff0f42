/**
 * The record key: a KMS HMAC key (HMAC_256) that the action functions sign their incident record entries
 * with and release and recover verify them with (lambdas/incident/signature.ts), so that writing to the
 * incident table is not enough to make release attach a policy or recover terminate an instance. Its
 * key policy is the whole of who may use it: the functions that write the record (claim, identify, the
 * actions and evidence steps, approve) generate MACs over what they decided and verify what they read,
 * release and recover only verify, and the account may administer the key but neither use it nor grant
 * its use, so no IAM policy in the account can give either operation to anyone else. The key policy changes
 * only through a deployment of the stack (kms:PutKeyPolicy is the CloudFormation execution role's).
 */
import { DefaultStackSynthesizer, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { type FunctionName, needsOf } from '../lambdas/permissions.js';
import type { ResponseFunction } from './response-function.js';

/**
 * What the account may do with the key: administer it, never use it. No kms:CreateGrant: a grant would
 * give the use of the key to whoever the grantor names.
 */
const ADMINISTRATION = [
  'kms:CreateAlias',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

/**
 * A key policy that lets the account administer the key and nothing else; uses are added per function.
 * The policy itself changes only with a deployment: kms:PutKeyPolicy is the CloudFormation execution
 * role's (the CDK bootstrap's), not the account's, so no IAM policy in the account lets a principal write
 * itself into the key policy; whoever may deploy the stack may change its functions' code as well.
 */
export const administeredOnly = (scope: Construct): iam.PolicyDocument => {
  const statements = [
    new iam.PolicyStatement({
      sid: 'AdministerNotUse',
      principals: [new iam.AccountRootPrincipal()],
      actions: ADMINISTRATION,
      resources: ['*'],
    }),
  ];
  const synthesizer = Stack.of(scope).synthesizer;
  if (synthesizer instanceof DefaultStackSynthesizer)
    statements.push(
      new iam.PolicyStatement({
        sid: 'ChangePolicyOnlyByDeployment',
        principals: [new iam.AccountRootPrincipal()],
        actions: ['kms:PutKeyPolicy'],
        resources: ['*'],
        // The synthesizer names it with ${AWS::…} placeholders, which only Fn::Sub resolves in a template.
        conditions: { ArnEquals: { 'aws:PrincipalArn': Fn.sub(synthesizer.cloudFormationExecutionRoleArn) } },
      }),
    );
  return new iam.PolicyDocument({ statements });
};

export const pascal = (name: string) =>
  name
    .split('-')
    .map((word) => (word[0] ?? '').toUpperCase() + word.slice(1))
    .join('');

export class RecordKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'guardduty-responder: signs the incident record entries release and recover act on',
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      // Entries of open incidents stay verifiable after the stack is gone, as the table stays.
      removalPolicy: RemovalPolicy.RETAIN,
      policy: administeredOnly(this),
    });
  }

  /** Lets a function generate or verify MACs with the key, as its declaration says, and names the key. */
  bind(fn: ResponseFunction, name: FunctionName): void {
    const uses = needsOf(name).recordKey;
    if (!uses || uses.length === 0) return;
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `${uses.includes('kms:GenerateMac') ? 'Sign' : 'Verify'}${pascal(name)}`,
        principals: [fn.role],
        actions: [...uses],
        resources: ['*'],
        conditions: { StringEquals: { 'kms:MacAlgorithm': 'HMAC_SHA_256' } },
      }),
    );
    fn.function.addEnvironment('RECORD_KEY_ID', this.key.keyArn);
  }
}
