/**
 * KMS: the record's HMAC key. GenerateMac and VerifyMac with a real HMAC-SHA-256 over a secret of the
 * simulation (kept in a saved simulation, so that a release in another process verifies what the replay
 * signed). Wrong MACs fail as KMS fails them, with KMSInvalidMacException. And the approval key
 * (approvalKeyOf): Encrypt and Decrypt with AES-256-GCM, the encryption context bound as KMS binds it (a
 * Decrypt with another context fails with InvalidCiphertextException). JSON, blobs as base64.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import {
  type DecryptCommandInput,
  type EncryptCommandInput,
  type GenerateMacCommandInput,
  InvalidCiphertextException,
  InvalidKeyUsageException,
  KMSInvalidMacException,
  NotFoundException,
  type VerifyMacCommandInput,
} from '@aws-sdk/client-kms';
import type { TokenVault } from '../../lambdas/approval/tokens.js';
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

/** The simulated account's approval key (lib/approval-key.ts): it sits beside the record key. */
export const approvalKeyOf = (key: SimulatedMacKey): string => `${key.keyId}-approval-tokens`;

/** Encrypt and Decrypt with the approval key, its context bound as additional authenticated data. */
export function cipherOperations(key: SimulatedMacKey) {
  const keyId = approvalKeyOf(key);
  const secret = createHash('sha256').update(`${key.secret}:approval-tokens`).digest();
  const aad = (context: Record<string, string> | undefined) =>
    Buffer.from(JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => a.localeCompare(b))));
  const known = (id: string | undefined) => {
    if (id !== keyId) throw new NotFoundException({ message: `Key '${id}' does not exist`, ...meta(400) });
  };
  return {
    Encrypt: (input: EncryptCommandInput) => {
      known(input.KeyId);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', secret, iv).setAAD(aad(input.EncryptionContext));
      const data = Buffer.concat([cipher.update(bytes(input.Plaintext)), cipher.final()]);
      return {
        KeyId: keyId,
        CiphertextBlob: new Uint8Array(Buffer.concat([iv, cipher.getAuthTag(), data])),
      };
    },
    Decrypt: (input: DecryptCommandInput) => {
      known(input.KeyId);
      const blob = bytes(input.CiphertextBlob);
      try {
        const decipher = createDecipheriv('aes-256-gcm', secret, blob.subarray(0, 12))
          .setAAD(aad(input.EncryptionContext))
          .setAuthTag(blob.subarray(12, 28));
        const plain = Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()]);
        return { KeyId: keyId, Plaintext: new Uint8Array(plain) };
      } catch {
        throw new InvalidCiphertextException({ message: 'The ciphertext is invalid', ...meta(400) });
      }
    },
  };
}

export const kms: SimulatedService = {
  operations: ({ macKey }) => ({ ...macOperations(macKey), ...cipherOperations(macKey) }),
};

/** The approval key used in this process, without a KMS client: for handlers the tests make directly. */
export function localTokens(key: SimulatedMacKey): TokenVault {
  const operations = cipherOperations(key);
  const KeyId = approvalKeyOf(key);
  return {
    seal: async (token, context) =>
      Buffer.from(
        operations.Encrypt({ KeyId, Plaintext: Buffer.from(token), EncryptionContext: context })
          .CiphertextBlob,
      ).toString('base64'),
    open: async (sealed, context) =>
      Buffer.from(
        operations.Decrypt({
          KeyId,
          CiphertextBlob: Buffer.from(sealed, 'base64'),
          EncryptionContext: context,
        }).Plaintext,
      ).toString('utf8'),
  };
}
