/**
 * The approval key: a symmetric KMS key that an action's task token is kept encrypted under while it waits
 * for a person (lambdas/approval/tokens.ts). Its key policy is the whole of who may use it: Request-approval
 * may encrypt, Approve alone may decrypt, both only with the encryption context that binds a token to its
 * finding, action and execution; the account may administer the key but neither use it nor grant its use.
 * Whoever reads the incident table, or its backups, holds no token that answers an execution.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { type FunctionName, needsOf } from '../lambdas/permissions.js';
import { administeredOnly, pascal } from './record-key.js';
import type { ResponseFunction } from './response-function.js';

/** The encryption context every token is sealed with (TokenContext). */
const CONTEXT_KEYS = ['findingId', 'action', 'executionArn'];

export class ApprovalKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'guardduty-responder: keeps the task tokens of actions waiting for approval encrypted',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      policy: administeredOnly(this),
    });
  }

  /** Lets a function encrypt or decrypt task tokens, as its declaration says, and names the key. */
  bind(fn: ResponseFunction, name: FunctionName): void {
    const uses = needsOf(name).approvalKey;
    if (!uses || uses.length === 0) return;
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `${uses.includes('kms:Decrypt') ? 'Open' : 'Seal'}${pascal(name)}`,
        principals: [fn.role],
        actions: [...uses],
        resources: ['*'],
        conditions: { 'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': CONTEXT_KEYS } },
      }),
    );
    fn.function.addEnvironment('APPROVAL_KEY_ID', this.key.keyArn);
  }
}
