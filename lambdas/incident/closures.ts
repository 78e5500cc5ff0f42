/**
 * The closures of incidents (seal.ts) as objects of the versioned evidence bucket: one object per
 * incident, `incidents/<finding id>/closed/<incident id>.json`, written when a release or a recovery ends
 * it. Any version of it, or a delete marker over one, means closed: writing or deleting the object only
 * adds versions, and removing a version takes s3:DeleteObjectVersion, which no responder function holds
 * (and, with Object Lock, a bypass of the retention).
 */
import { ListObjectVersionsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Closures } from './seal.js';
import type { Seal } from './signature.js';

export const closureKey = (seal: Seal): string =>
  `incidents/${seal.findingId}/closed/${seal.incidentId}.json`;

export function bucketClosures(s3: S3Client, bucket: string): Closures {
  return {
    async closed(seal) {
      const key = closureKey(seal);
      const answer = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
      const versions = [...(answer.Versions ?? []), ...(answer.DeleteMarkers ?? [])].filter(
        (version) => version.Key === key,
      );
      if (versions.length === 0) return null;
      const first = versions
        .map((version) => version.LastModified?.toISOString() ?? '')
        .sort()
        .at(0);
      return `incident ${seal.incidentId} of finding ${seal.findingId} was closed${first ? ` at ${first}` : ''} (s3://${bucket}/${key})`;
    },
    async close(seal, how, at) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: closureKey(seal),
          Body: JSON.stringify({ ...seal, state: how, at }),
          ContentType: 'application/json',
        }),
      );
    },
  };
}

/**
 * Closures kept in this process only: a local rehearsal without an evidence bucket (its record is a
 * rehearsal's too), and tests of release and recover that are not about closures.
 */
export function memoryClosures(): Closures {
  const closed = new Map<string, string>();
  return {
    closed: async (seal) => closed.get(closureKey(seal)) ?? null,
    close: async (seal, how, at) => {
      closed.set(
        closureKey(seal),
        `incident ${seal.incidentId} of finding ${seal.findingId} was ${how} at ${at}`,
      );
    },
  };
}
