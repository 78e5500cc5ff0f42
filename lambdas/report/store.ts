/** The incident report in the evidence bucket: where it is, and writing it (a new version each time). */
import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { reportKey } from './build.js';

export type ReportBucket = { s3: S3Client; bucket: string };

/** The command that fetches it, which the notification gives as a next step. */
export const reportCommand = (bucket: string, findingId: string): string =>
  `aws s3 cp s3://${bucket}/${reportKey(findingId)} incident-${findingId}.html`;

export async function putReport(ports: ReportBucket, findingId: string, html: string): Promise<void> {
  const bytes = Buffer.from(html, 'utf8');
  await ports.s3.send(
    new PutObjectCommand({
      Bucket: ports.bucket,
      Key: reportKey(findingId),
      Body: bytes,
      ContentType: 'text/html; charset=utf-8',
      ChecksumSHA256: createHash('sha256').update(bytes).digest('base64'),
    }),
  );
}
