/** STS: the caller's identity, and AssumeRole of a member account's MemberAccess role (only by the account it trusts, only with the external id). */
import { randomUUID } from 'node:crypto';
import type { AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { roleArn } from './state.js';
import { el, type SimulatedService, text } from './wire.js';
export const sts: SimulatedService = {
  operations: (s) => {
    const { account, accountId, assumed } = s;
    return {
      GetCallerIdentity: () => ({
        UserId: 'AIDASIMULATION',
        Account: accountId,
        Arn: `arn:aws:iam::${accountId}:user/simulation`,
      }),
      /**
       * STS answers for the account that owns the role: only its MemberAccess role, only to the account it
       * trusts (the API server passes the caller's account, from the request's signature), only with the
       * external id.
       */
      AssumeRole: (input: AssumeRoleCommandInput & { CallerAccount?: string }) => {
        const access = account.memberAccess;
        const denied = (why: string) =>
          Object.assign(
            new Error(
              `User: ${input.CallerAccount} is not authorized to perform: sts:AssumeRole on ${input.RoleArn}: ${why}`,
            ),
            { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } },
          );
        if (!access || input.RoleArn !== roleArn(access.roleName, accountId)) throw denied('no such role');
        if (input.CallerAccount !== access.trustedAccount) throw denied('the role does not trust the caller');
        if (input.ExternalId !== access.externalId) throw denied('the external id does not match');
        assumed.push({
          roleArn: input.RoleArn,
          sessionName: input.RoleSessionName ?? '',
          by: input.CallerAccount,
        });
        return {
          Credentials: {
            AccessKeyId: `ASIA${accountId}${randomUUID().replace(/-/g, '').slice(0, 8).toUpperCase()}`,
            SecretAccessKey: 'simulation',
            SessionToken: 'simulation',
            Expiration: new Date(Date.now() + 3600_000),
          },
          AssumedRoleUser: {
            Arn: `arn:aws:sts::${accountId}:assumed-role/${access.roleName}/${input.RoleSessionName}`,
            AssumedRoleId: `AROASIMULATION:${input.RoleSessionName}`,
          },
        };
      },
    };
  },
  xmlns: 'https://sts.amazonaws.com/doc/2011-06-15/',
  query: {
    GetCallerIdentity: {
      input: () => ({}),
      output: (out) => text('UserId', out.UserId) + text('Account', out.Account) + text('Arn', out.Arn),
    },
    AssumeRole: {
      input: (p) => ({
        RoleArn: p.RoleArn,
        RoleSessionName: p.RoleSessionName,
        ExternalId: p.ExternalId,
        DurationSeconds: p.DurationSeconds ? Number(p.DurationSeconds) : undefined,
      }),
      output: (out) =>
        el(
          'Credentials',
          text('AccessKeyId', out.Credentials.AccessKeyId) +
            text('SecretAccessKey', out.Credentials.SecretAccessKey) +
            text('SessionToken', out.Credentials.SessionToken) +
            text('Expiration', out.Credentials.Expiration.toISOString()),
        ) +
        el(
          'AssumedRoleUser',
          text('Arn', out.AssumedRoleUser.Arn) + text('AssumedRoleId', out.AssumedRoleUser.AssumedRoleId),
        ),
    },
  },
};
