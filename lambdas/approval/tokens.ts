/**
 * The task token of an action waiting for a person, kept only encrypted: Request-approval encrypts it
 * under the approval key (KMS, symmetric), bound to the finding, the action and the execution (the
 * encryption context), and Approve alone may decrypt it (the key policy, lib/approval-key.ts). Whoever
 * reads the incident table, or writes it, holds no token that answers the execution without Approve.
 */
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';

/** What a token is bound to: it decrypts only for the same finding, action and execution. */
export type TokenContext = { findingId: string; action: string; executionArn: string };

export type TokenVault = {
  seal(token: string, context: TokenContext): Promise<string>;
  open(sealed: string, context: TokenContext): Promise<string>;
};

export const kmsTokens = (kms: KMSClient, keyId: string): TokenVault => ({
  async seal(token, context) {
    const { CiphertextBlob } = await kms.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(token, 'utf8'), EncryptionContext: context }),
    );
    if (!CiphertextBlob) throw new Error('KMS Encrypt returned no ciphertext');
    return Buffer.from(CiphertextBlob).toString('base64');
  },
  async open(sealed, context) {
    const { Plaintext } = await kms.send(
      new DecryptCommand({
        KeyId: keyId,
        CiphertextBlob: Buffer.from(sealed, 'base64'),
        EncryptionContext: context,
      }),
    );
    if (!Plaintext) throw new Error('KMS Decrypt returned no plaintext');
    return Buffer.from(Plaintext).toString('utf8');
  },
});
