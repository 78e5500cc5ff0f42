/**
 * Writes evidence to the evidence bucket and keeps the chain of custody: every object under
 * `incidents/<finding id>/<collection>/`, where a collection is one invocation's (its time and execution),
 * so a second collection never writes the same key. Each write carries its SHA-256 (S3 checks it on
 * arrival) and `If-None-Match: *` (S3 refuses to replace an object), and returns key, version, size and
 * hash for the incident record and the notification.
 */
import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { EvidenceObject } from '../incident/record.js';

export type EvidencePorts = { s3: S3Client; bucket: string };

/** The prefix of one collection: `incidents/<finding>/<2026-12-02T03-31-38-123Z>-<execution>/`. */
export function collectionPrefix(findingId: string, executionArn: string, at: Date): string {
  const execution = (executionArn.split(':').at(-1) ?? 'execution')
    .replace(/[^A-Za-z0-9-_]/g, '-')
    .slice(0, 64);
  return `incidents/${findingId}/${at.toISOString().replace(/[:.]/g, '-')}-${execution}/`;
}

export class EvidenceWriter {
  readonly written: EvidenceObject[] = [];

  constructor(
    private readonly ports: EvidencePorts,
    readonly prefix: string,
  ) {}

  get bucket(): string {
    return this.ports.bucket;
  }

  /** Writes one object under the collection's prefix; `name` may hold slashes. */
  async put(
    name: string,
    body: string | Buffer,
    subject: string,
    options: { contentType?: string; note?: string | null } = {},
  ): Promise<EvidenceObject> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const digest = createHash('sha256').update(bytes);
    const sha256 = digest.copy().digest('hex');
    const key = `${this.prefix}${name}`;
    const answer = await this.ports.s3.send(
      new PutObjectCommand({
        Bucket: this.ports.bucket,
        Key: key,
        Body: bytes,
        ContentType: options.contentType ?? 'application/json',
        ChecksumSHA256: digest.digest('base64'),
        IfNoneMatch: '*',
      }),
    );
    const object: EvidenceObject = {
      bucket: this.ports.bucket,
      key,
      versionId: answer.VersionId ?? null,
      size: bytes.length,
      sha256,
      subject,
      note: options.note ?? null,
    };
    this.written.push(object);
    return object;
  }

  /** A JSON document, pretty-printed. */
  putJson(
    name: string,
    value: unknown,
    subject: string,
    note: string | null = null,
  ): Promise<EvidenceObject> {
    return this.put(name, `${JSON.stringify(value, null, 2)}\n`, subject, { note });
  }
}
