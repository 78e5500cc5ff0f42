/**
 * The host capture's output, made the responder's. Run Command uploads a command's output with the
 * instance's own credentials, so the host is never given the evidence bucket: it may write only under
 * `hosts/<role id>:<instance id>/` of the host output bucket (its role session's `aws:userid`, which
 * lib/evidence-bucket.ts puts in the bucket policy). The responder then reads each object of this command,
 * writes it into the evidence bucket itself (hashed as it writes, or copied by S3 with S3's SHA-256 when
 * too large to read), and deletes it from the host output bucket, whose lifecycle removes anything left.
 */

import { GetInstanceProfileCommand, type IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { IdentifiedInstance } from '../identify/identification.js';
import type { EvidenceObject } from '../incident/record.js';
import { messageOf } from '../shared/errors.js';
import type { EvidenceClients } from './clients.js';
import type { EvidenceWriter } from './writer.js';

export type HostClients = EvidenceClients & { iam: IAMClient };

/** The prefix every host writes under: its own is the next segment, `<role id>:<instance id>`. */
export const HOST_OUTPUT_PREFIX = 'hosts/';

/**
 * The host's own prefix: `hosts/<role id>:<instance id>/`, the `aws:userid` of the session its instance
 * profile's role gives it. Skipped, with why, when the instance has no role to write with.
 */
export async function hostOutputPrefix(
  instance: Pick<IdentifiedInstance, 'instanceId' | 'instanceProfileArn'>,
  iam: IAMClient,
): Promise<{ prefix: string } | { skipped: string }> {
  const profile = instance.instanceProfileArn;
  const none = (why: string) => ({
    skipped: `${instance.instanceId} ${why}: its SSM agent has no role to write the host capture's output with; host evidence not collected`,
  });
  if (!profile) return none('has no instance profile');
  try {
    const { InstanceProfile } = await iam.send(
      new GetInstanceProfileCommand({ InstanceProfileName: profile.split('/').at(-1) ?? profile }),
    );
    const roleId = InstanceProfile?.Roles?.[0]?.RoleId;
    if (!roleId) return none(`has an instance profile (${profile}) with no role`);
    return { prefix: `${HOST_OUTPUT_PREFIX}${roleId}:${instance.instanceId}/` };
  } catch (error) {
    if (error instanceof NoSuchEntityException)
      return none(`has an instance profile (${profile}) that no longer exists`);
    throw error;
  }
}

async function bytesOf(body: unknown): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body);
  const stream = body as { transformToByteArray?: () => Promise<Uint8Array> } | undefined;
  if (stream?.transformToByteArray) return Buffer.from(await stream.transformToByteArray());
  return Buffer.from(String(body ?? ''), 'utf8');
}

/**
 * Moves what a command left under `from` in the host output bucket into the evidence bucket, under the
 * writer's collection as `name` + the rest of its key. Each object is evidence only once the responder
 * wrote it; one it could not take is a problem, never a silent gap.
 */
export async function takeStaged(
  s3: S3Client,
  hostOutput: string,
  from: string,
  writer: EvidenceWriter,
  how: { name: string; subject: (rest: string) => string; note: string | null; hashedBytes: number },
): Promise<{ objects: EvidenceObject[]; problems: string[] }> {
  const objects: EvidenceObject[] = [];
  const problems: string[] = [];
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: hostOutput, Prefix: from }));
  for (const entry of listed.Contents ?? []) {
    const key = entry.Key;
    if (!key) continue;
    const rest = key.slice(from.length);
    const subject = how.subject(rest);
    try {
      if ((entry.Size ?? 0) > how.hashedBytes) {
        // A memory image is not read into the function: S3 copies it and computes its SHA-256.
        const target = `${writer.prefix}${how.name}${rest}`;
        const copied = await s3.send(
          new CopyObjectCommand({
            Bucket: writer.bucket,
            Key: target,
            CopySource: `${hostOutput}/${key.split('/').map(encodeURIComponent).join('/')}`,
            ChecksumAlgorithm: 'SHA256',
          }),
        );
        const sha = copied.CopyObjectResult?.ChecksumSHA256;
        objects.push({
          bucket: writer.bucket,
          key: target,
          versionId: copied.VersionId ?? null,
          size: entry.Size ?? 0,
          sha256: sha ? Buffer.from(sha, 'base64').toString('hex') : 'not computed',
          subject,
          note: [`larger than ${how.hashedBytes} bytes: copied and hashed by S3`, how.note]
            .filter(Boolean)
            .join('; '),
        });
      } else {
        const object = await s3.send(new GetObjectCommand({ Bucket: hostOutput, Key: key }));
        const bytes = await bytesOf(object.Body);
        objects.push(
          await writer.put(`${how.name}${rest}`, bytes, subject, {
            contentType: 'text/plain',
            note: how.note,
          }),
        );
      }
    } catch (error) {
      problems.push(`${key} not taken into the evidence bucket: ${messageOf(error)}`);
      continue;
    }
    try {
      await s3.send(new DeleteObjectCommand({ Bucket: hostOutput, Key: key }));
    } catch (error) {
      problems.push(
        `${key} taken, but not removed from ${hostOutput} (its lifecycle will): ${messageOf(error)}`,
      );
    }
  }
  return { objects, problems };
}
