/**
 * Who asked, as AWS authenticated it (lambdas/clients/caller.ts): a proof is a presigned STS
 * GetCallerIdentity bound to the request it is for; the simulated STS verifies it as STS does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CALLER_PROOF_PREFIX,
  CallerRefusedError,
  callerProof,
  requestDigest,
  verifiedCaller,
} from '../../lambdas/clients/caller.js';
import { simulatedAccount } from '../../simulation/account.js';
import { AwsApiServer } from '../../simulation/aws-api-server.js';

const account = simulatedAccount({});
const server = new AwsApiServer(account);
let at: { region: string; endpoint: string };
const alice = { accessKeyId: 'AKIAPERSONALICE', secretAccessKey: 'simulation' };
const request = { findingId: 'f1', dryRun: false };

beforeAll(async () => {
  at = { region: 'us-east-1', endpoint: await server.start() };
});
afterAll(() => server.stop());

describe('a caller proof', () => {
  it('names the person who signed it, for the request it was made for', async () => {
    const digest = requestDigest('release', request);
    const proof = await callerProof({ digest, at, credentials: alice });

    expect(await verifiedCaller(proof, digest, at)).toBe('arn:aws:iam::111122223333:user/alice');
  });

  it('is refused for another request: STS finds the signed digest differs', async () => {
    const proof = await callerProof({ digest: requestDigest('release', request), at, credentials: alice });

    await expect(
      verifiedCaller(proof, requestDigest('release', { ...request, findingId: 'f2' }), at),
    ).rejects.toThrow(/STS refused the proof \(SignatureDoesNotMatch\)/);
  });

  it('is refused once expired, when it names a host that is not STS, or when it signs no request', async () => {
    const digest = requestDigest('recover', request);
    const expired = await callerProof({ digest, at, credentials: alice, seconds: -1 });
    await expect(verifiedCaller(expired, digest, at)).rejects.toThrow(/ExpiredToken/);

    const elsewhere = await callerProof({
      digest,
      at: { region: 'us-east-1', endpoint: 'https://attacker.example' },
      credentials: alice,
    });
    await expect(verifiedCaller(elsewhere, digest, at)).rejects.toThrow(
      /names https:\/\/attacker.example, not STS/,
    );
    // Without a configured endpoint, only AWS's STS hosts over TLS.
    await expect(verifiedCaller(elsewhere, digest, { region: 'us-east-1' })).rejects.toThrow(
      CallerRefusedError,
    );

    const url = new URL(`${at.endpoint}/?Action=GetCallerIdentity&Version=2011-06-15`);
    const unbound = CALLER_PROOF_PREFIX + Buffer.from(url.toString()).toString('base64url');
    await expect(verifiedCaller(unbound, digest, at)).rejects.toThrow(/does not sign the request/);
    await expect(verifiedCaller('alice', digest, at)).rejects.toThrow(/carries no caller proof/);
  });
});
