/** Which trust policies give an IRSA role to a ServiceAccount (lambdas/core/trust.ts), pure. */
import { describe, expect, it } from 'vitest';
import { trustsServiceAccount, type WebIdentity } from '../../../../lambdas/core/trust.js';

const ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF';
const PROVIDER = `arn:aws:iam::111122223333:oidc-provider/${ISSUER}`;
const WHO: WebIdentity = { provider: PROVIDER, issuer: ISSUER, subject: 'system:serviceaccount:shop:web' };

const policy = (statement: Record<string, unknown>) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [statement] });
const federated = (condition?: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  policy({
    Effect: 'Allow',
    Principal: { Federated: PROVIDER },
    Action: 'sts:AssumeRoleWithWebIdentity',
    ...(condition ? { Condition: condition } : {}),
    ...extra,
  });

describe('a trust policy', () => {
  it.each([
    [
      'the documented one (StringEquals sub and aud)',
      federated({ StringEquals: { [`${ISSUER}:sub`]: WHO.subject, [`${ISSUER}:aud`]: 'sts.amazonaws.com' } }),
    ],
    [
      'a list of subjects that holds it',
      federated({ StringEquals: { [`${ISSUER}:sub`]: ['system:serviceaccount:x:y', WHO.subject] } }),
    ],
    [
      'StringLike over the namespace',
      federated({ StringLike: { [`${ISSUER}:sub`]: 'system:serviceaccount:shop:*' } }),
    ],
    ['no condition on the subject (any ServiceAccount of the cluster)', federated()],
    [
      'the condition key in another case',
      federated({ StringEquals: { [`${ISSUER.toUpperCase()}:SUB`]: WHO.subject } }),
    ],
  ])('gives the role to the ServiceAccount: %s', (_, document) => {
    expect(trustsServiceAccount(document, WHO)).toBe(true);
  });

  it.each([
    [
      'another ServiceAccount',
      federated({ StringEquals: { [`${ISSUER}:sub`]: 'system:serviceaccount:ci:deployer' } }),
    ],
    ['another cluster’s provider', federated(undefined, { Principal: { Federated: `${PROVIDER}X` } })],
    [
      'an EC2 service trust',
      policy({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    ],
    ['a Deny', federated(undefined, { Effect: 'Deny' })],
    ['another action', federated(undefined, { Action: 'sts:AssumeRole' })],
    [
      'an operator it does not read on the subject',
      federated({ StringNotEquals: { [`${ISSUER}:sub`]: 'system:serviceaccount:x:y' } }),
    ],
    ['no JSON', 'not a policy'],
  ])('does not: %s', (_, document) => {
    expect(trustsServiceAccount(document, WHO)).toBe(false);
  });
});
