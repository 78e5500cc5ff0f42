/**
 * KMS: the record's HMAC key. GenerateMac and VerifyMac with a real HMAC-SHA-256 over a secret of the
 * simulation (kept in a saved simulation, so that a release in another process verifies what the replay
 * signed). Wrong MACs fail as KMS fails them, with KMSInvalidMacException. JSON, blobs as base64.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  type GenerateMacCommandInput,
  InvalidKeyUsageException,
  KMSInvalidMacException,
  NotFoundException,
  type VerifyMacCommandInput,
} from '@aws-sdk/client-kms';
import { MAC_ALGORITHM, macMessage, type RecordKey } from '../../lambdas/incident/signature.js';
import type { SimulatedMacKey } from './state.js';
import type { SimulatedService } from './wire.js';

/** A blob as the SDK passes it (bytes) or as it comes over the JSON protocol (base64). */
const bytes = (blob: unknown): Buffer =>
  typeof blob === 'string'
    ? Buffer.from(blob, 'base64')
    : Buffer.from((blob ?? new Uint8Array()) as Uint8Array);

const meta = (status: number) => ({ $metadata: { httpStatusCode: status } });

/** GenerateMac and VerifyMac with this key. */
export function macOperations(key: SimulatedMacKey) {
  const hmac = (input: { KeyId?: string; MacAlgorithm?: string; Message?: unknown }) => {
    if (input.KeyId !== key.keyId)
      throw new NotFoundException({ message: `Key '${input.KeyId}' does not exist`, ...meta(400) });
    if (input.MacAlgorithm !== MAC_ALGORITHM)
      throw new InvalidKeyUsageException({
        message: `${input.MacAlgorithm} is not valid for this HMAC_256 key`,
        ...meta(400),
      });
    return createHmac('sha256', Buffer.from(key.secret, 'base64')).update(bytes(input.Message)).digest();
  };
  return {
    GenerateMac: (input: GenerateMacCommandInput) => ({
      Mac: new Uint8Array(hmac(input)),
      MacAlgorithm: MAC_ALGORITHM,
      KeyId: key.keyId,
    }),
    VerifyMac: (input: VerifyMacCommandInput) => {
      const expected = hmac(input);
      const given = bytes(input.Mac);
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        throw new KMSInvalidMacException({ message: 'The MAC is not valid', ...meta(400) });
      return { KeyId: key.keyId, MacValid: true, MacAlgorithm: MAC_ALGORITHM };
    },
  };
}

/** The same key used in this process, without a KMS client: for stores the tests make directly. */
export function localRecordKey(key: SimulatedMacKey): RecordKey {
  const operations = macOperations(key);
  const call = { KeyId: key.keyId, MacAlgorithm: MAC_ALGORITHM } as const;
  return {
    sign: async (view) =>
      Buffer.from(operations.GenerateMac({ ...call, Message: macMessage(view) }).Mac).toString('base64'),
    verify: async (view, mac) => {
      if (!mac) return false;
      try {
        return operations.VerifyMac({ ...call, Message: macMessage(view), Mac: Buffer.from(mac, 'base64') })
          .MacValid;
      } catch (error) {
        if (error instanceof KMSInvalidMacException) return false;
        throw error;
      }
    },
  };
}

export const kms: SimulatedService = { operations: ({ macKey }) => macOperations(macKey) };
