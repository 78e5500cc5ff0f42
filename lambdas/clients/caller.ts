/**
 * Who asked, as AWS authenticated it. A person's request to release, recover or approve carries a proof:
 * a presigned STS GetCallerIdentity URL, signed with the person's own credentials, whose signature covers
 * the header `x-guardduty-responder-request` = the SHA-256 of the request itself (the same scheme EKS
 * tokens use). The function sends that URL to STS with the digest of the request it received: STS answers
 * with the caller's ARN only when the signature, the digest and the expiry all hold. The record then
 * names that ARN, never a field of the request; a proof made for another request, another person's
 * name, a proof past its expiry or a URL that is not STS's is refused.
 */
import { createHash } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export const CALLER_PROOF_PREFIX = 'gdr-caller-v1.';
/** The signed header that binds the proof to one request. */
export const REQUEST_HEADER = 'x-guardduty-responder-request';
/** How long a proof is valid: long enough for a second person to countersign and hand it over. */
export const PROOF_SECONDS = 900;

/** A proof that cannot stand: the request changes nothing. */
export class CallerRefusedError extends Error {
  override readonly name = 'CallerRefused';
}

const canonical = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(canonical)
    : value && typeof value === 'object'
      ? Object.fromEntries(
          Object.entries(value as Record<string, unknown>)
            .filter(([, field]) => field !== undefined)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([key, field]) => [key, canonical(field)]),
        )
      : value;

/** The digest a proof is bound to: the command and what it asks, fields in a fixed order. */
export const requestDigest = (command: string, request: Record<string, unknown>): string =>
  createHash('sha256')
    .update(JSON.stringify(canonical({ command, ...request })))
    .digest('hex');

/** STS's regional host (and global one) in each partition: the only hosts a proof may name. */
const STS_HOST = /^sts(\.[a-z]{2}(-[a-z]+)+-\d)?\.amazonaws\.com(\.cn)?$/;

/**
 * Where STS is: AWS's own endpoint of the region, or (the simulation, a compatible endpoint) the configured
 * one. `via`: the address that endpoint is reached at when it differs from the one proofs name (the
 * simulation's proofs name a stable address while its server moves from one command to the next).
 */
export type StsEndpoint = { region: string; endpoint?: string; via?: string };

/** The header that tells a simulated endpoint reached `via` another address which host a proof named. */
export const PROOF_HOST_HEADER = 'x-simulation-host';

function stsUrl(at: StsEndpoint): URL {
  if (at.endpoint) return new URL(at.endpoint);
  return new URL(`https://sts.${at.region}.amazonaws.com${at.region.startsWith('cn-') ? '.cn' : ''}/`);
}

/** A proof that the holder of `credentials` asks for the request whose digest is `digest`. */
export async function callerProof(options: {
  digest: string;
  at: StsEndpoint;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  seconds?: number;
}): Promise<string> {
  const url = stsUrl(options.at);
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.at.region,
    service: 'sts',
    sha256: Sha256,
  });
  const request = new HttpRequest({
    method: 'GET',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: url.host, [REQUEST_HEADER]: options.digest },
  });
  const signed = await signer.presign(request, { expiresIn: options.seconds ?? PROOF_SECONDS });
  const query = Object.entries(signed.query ?? {})
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
  return CALLER_PROOF_PREFIX + Buffer.from(`${url.protocol}//${url.host}/?${query}`).toString('base64url');
}

/** The ARN STS authenticated for a proof of this request, or CallerRefusedError with one line why not. */
export async function verifiedCaller(
  proof: string,
  digest: string,
  at: StsEndpoint,
  fetchUrl: typeof fetch = fetch,
): Promise<string> {
  const refuse = (why: string): never => {
    throw new CallerRefusedError(`the caller could not be authenticated: ${why}; nothing was done`);
  };
  if (!proof.startsWith(CALLER_PROOF_PREFIX)) refuse('the request carries no caller proof');
  let url: URL;
  try {
    url = new URL(Buffer.from(proof.slice(CALLER_PROOF_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return refuse('the caller proof is not a URL');
  }
  // Only STS, over TLS (or the one endpoint this function is configured with): never a host the request names.
  const own = at.endpoint ? new URL(at.endpoint) : null;
  const trusted = own
    ? url.protocol === own.protocol && url.host === own.host
    : url.protocol === 'https:' && STS_HOST.test(url.hostname) && url.port === '';
  if (!trusted || url.pathname !== '/') refuse(`the caller proof names ${url.origin}, not STS`);
  const query = url.searchParams;
  if (query.get('Action') !== 'GetCallerIdentity' || query.get('Version') !== '2011-06-15')
    refuse('the caller proof is not a GetCallerIdentity request');
  if (!(query.get('X-Amz-SignedHeaders') ?? '').split(';').includes(REQUEST_HEADER))
    refuse('the caller proof does not sign the request it is for');
  if (Number(query.get('X-Amz-Expires')) > PROOF_SECONDS)
    refuse(`the caller proof is valid for more than ${PROOF_SECONDS} seconds`);
  let answer: Response;
  try {
    answer = at.via
      ? await fetchUrl(new URL(`${url.pathname}${url.search}`, at.via), {
          headers: { [REQUEST_HEADER]: digest, [PROOF_HOST_HEADER]: url.host },
        })
      : await fetchUrl(url, { headers: { [REQUEST_HEADER]: digest } });
  } catch (error) {
    return refuse(`STS could not be reached (${(error as Error).message})`);
  }
  const body = await answer.text();
  if (!answer.ok) {
    const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1] ?? `HTTP ${answer.status}`;
    refuse(
      `STS refused the proof (${code}): it was made for another request, has expired, or was not signed by its holder`,
    );
  }
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(body)?.[1];
  if (!arn) return refuse('STS answered without an ARN');
  return arn;
}
