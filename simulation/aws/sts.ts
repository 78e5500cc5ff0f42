/** STS: the caller's identity, and AssumeRole of a member account's MemberAccess role (only by the account it trusts, only with the external id). */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { memberRoleNameOf } from '../../lambdas/clients/reach.js';
import { MEMBER_REACHING } from '../../lambdas/permissions.js';
import { functionOfKey, memberAccessKey } from './function-keys.js';
import { roleArn } from './state.js';
import { el, type SimulatedService, text } from './wire.js';
/** The secret every simulated access key signs with. */
export const SIMULATION_SECRET = 'simulation';

/**
 * Who an access key is in the simulation: `AKIAPERSON<NAME>` is the IAM user `<name>` (a person, for
 * release, recover and approve), any other key the user `simulation`.
 */
export const identityOf = (accessKeyId: string, accountId: string): string => {
  const person = /^AKIAPERSON([A-Z0-9]+)$/.exec(accessKeyId)?.[1];
  return `arn:aws:iam::${accountId}:user/${person ? person.toLowerCase() : 'simulation'}`;
};

/** A presigned request as the endpoint received it: its URL and its headers. */
export type Presigned = { url: string; headers: Record<string, string | undefined> };

const rfc3986 = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
/** A presigned GET carries no body: its payload hash is the hash of nothing. */
const EMPTY_PAYLOAD = createHash('sha256').update('').digest('hex');
const stsError = (code: string, message: string) =>
  Object.assign(new Error(message), { name: code, $metadata: { httpStatusCode: 403 } });

/**
 * What STS checks of a presigned request before it answers: the SigV4 signature over the query and the
 * signed headers as they arrived (a header with another value than the one signed fails), and the expiry.
 * The access key that signed it, from its credential scope.
 */
export function verifyPresigned(presigned: Presigned, now = Date.now()): string {
  const url = new URL(presigned.url);
  const query = url.searchParams;
  const [accessKeyId = '', date = '', region = '', service = ''] = (
    query.get('X-Amz-Credential') ?? ''
  ).split('/');
  const amzDate = query.get('X-Amz-Date') ?? '';
  const signedHeaders = (query.get('X-Amz-SignedHeaders') ?? '').split(';');
  const canonicalQuery = [...query.entries()]
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => [rfc3986(key), rfc3986(value)] as const)
    .sort(([a, x], [b, y]) => a.localeCompare(b) || x.localeCompare(y))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const headerValue = (name: string) => (name === 'host' ? url.host : (presigned.headers[name] ?? ''));
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${headerValue(name).trim()}\n`).join('');
  const canonicalRequest = [
    'GET',
    url.pathname,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(';'),
    EMPTY_PAYLOAD,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${SIMULATION_SECRET}`, date), region), service), 'aws4_request');
  if (createHmac('sha256', key).update(toSign).digest('hex') !== query.get('X-Amz-Signature'))
    throw stsError(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    );
  const signedAt = Date.parse(
    amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  if (Number.isNaN(signedAt) || now > signedAt + Number(query.get('X-Amz-Expires') ?? 0) * 1000)
    throw stsError('ExpiredToken', 'Request has expired');
  return accessKeyId;
}

export const sts: SimulatedService = {
  operations: (s) => {
    const { account, accountId, assumed } = s;
    return {
      /** Who signed the request: a presigned one (a caller proof) is verified as STS verifies it. */
      GetCallerIdentity: (input: { CallerAccessKey?: string; Presigned?: Presigned }) => {
        const accessKeyId = input.Presigned
          ? verifyPresigned(input.Presigned)
          : (input.CallerAccessKey ?? '');
        return { UserId: 'AIDASIMULATION', Account: accountId, Arn: identityOf(accessKeyId, accountId) };
      },
      /**
       * STS answers for the account that owns the role: only its MemberAccess role, only to the account it
       * trusts (the API server passes the caller's account, from the request's signature), only with the
       * external id.
       */
      AssumeRole: (input: AssumeRoleCommandInput & { CallerAccount?: string; CallerAccessKey?: string }) => {
        const access = account.memberAccess;
        const denied = (why: string) =>
          Object.assign(
            new Error(
              `User: ${input.CallerAccount} is not authorized to perform: sts:AssumeRole on ${input.RoleArn}: ${why}`,
            ),
            { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } },
          );
        // One role per function (`<roleName>-<function>`), which only that function's role may assume.
        const fn = MEMBER_REACHING.find(
          (name) => input.RoleArn === roleArn(memberRoleNameOf(access?.roleName ?? '', name), accountId),
        );
        if (!access || !fn) throw denied('no such role');
        if (
          input.CallerAccount !== access.trustedAccount ||
          functionOfKey(input.CallerAccessKey ?? '') !== fn
        )
          throw denied('the role does not trust the caller');
        if (input.ExternalId !== access.externalId) throw denied('the external id does not match');
        assumed.push({
          roleArn: input.RoleArn ?? '',
          sessionName: input.RoleSessionName ?? '',
          by: input.CallerAccount,
        });
        return {
          Credentials: {
            AccessKeyId: memberAccessKey(
              accountId,
              fn,
              randomUUID().replace(/-/g, '').slice(0, 8).toUpperCase(),
            ),
            SecretAccessKey: 'simulation',
            SessionToken: 'simulation',
            Expiration: new Date(Date.now() + 3600_000),
          },
          AssumedRoleUser: {
            Arn: `arn:aws:sts::${accountId}:assumed-role/${memberRoleNameOf(access.roleName, fn)}/${input.RoleSessionName}`,
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
