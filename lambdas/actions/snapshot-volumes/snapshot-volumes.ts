/**
 * aws:snapshot-volumes. A snapshot of every EBS volume attached to an affected instance, as forensic
 * evidence, tagged with the finding, instance, device and cluster. CreateSnapshot has no idempotency
 * token, so a retried step first looks for a snapshot of the volume already tagged with the finding and
 * reuses it. Volumes are never detached or deleted; snapshots are never deleted.
 */

import { CreateSnapshotCommand, DescribeSnapshotsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import {
  type ActionItem,
  type ActionResult,
  item,
  skippedResult,
  unlessPlanned,
} from '../../core/action-result.js';
import type { IdentifiedInstance, TargetInput } from '../../identify/identify.js';
import { type Journal, journaled } from '../../incident/journal.js';
import { settle } from '../../shared/errors.js';

export type SnapshotInput = TargetInput<IdentifiedInstance>;

/** The volume a snapshot is taken of, as recorded before: evidence, never undone. */
export const VolumeBeforeSchema = z.strictObject({
  volumeId: z.string().min(1),
  instanceId: z.string().min(1),
  deviceName: z.string().nullable(),
});
export type VolumeBefore = z.infer<typeof VolumeBeforeSchema>;

export const SNAPSHOT_TAGS = {
  findingId: 'guardduty-responder:finding-id',
  instanceId: 'guardduty-responder:instance-id',
  device: 'guardduty-responder:device',
  cluster: 'guardduty-responder:cluster',
} as const;

const USABLE = new Set(['pending', 'completed']);

async function snapshotState(ec2: EC2Client, snapshotId: string): Promise<string | null> {
  const answer = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
  return answer.Snapshots?.[0]?.State ?? null;
}

export async function snapshotVolumes(
  input: SnapshotInput,
  ports: { ec2: EC2Client },
  journal: Journal,
): Promise<ActionResult> {
  const notPlanned = unlessPlanned(input.plan, 'snapshot-volumes');
  if (notPlanned) return notPlanned;
  const instance = input.target;
  if (instance.volumes.length === 0) {
    return skippedResult('snapshot-volumes', `instance ${instance.instanceId} has no EBS volume attached`);
  }
  const findingId = input.plan.finding.id;
  const items: ActionItem[] = [];
  for (const volume of instance.volumes) {
    const target = `volume ${volume.volumeId} (${instance.instanceId}${volume.deviceName ? ` ${volume.deviceName}` : ''})`;
    const recorded: VolumeBefore = {
      volumeId: volume.volumeId,
      instanceId: instance.instanceId,
      deviceName: volume.deviceName,
    };
    const at = { action: 'snapshot-volumes', cluster: null, target };
    const done = await settle(() =>
      journaled(journal, at, recorded, async () => {
        const earlier = await ports.ec2.send(
          new DescribeSnapshotsCommand({
            OwnerIds: ['self'],
            Filters: [
              { Name: 'volume-id', Values: [volume.volumeId] },
              { Name: `tag:${SNAPSHOT_TAGS.findingId}`, Values: [findingId] },
            ],
          }),
        );
        const reused = earlier.Snapshots?.find((snapshot) => USABLE.has(snapshot.State ?? ''));
        let snapshotId = reused?.SnapshotId;
        if (!snapshotId) {
          const created = await ports.ec2.send(
            new CreateSnapshotCommand({
              VolumeId: volume.volumeId,
              Description:
                `guardduty-responder evidence: finding ${findingId}, ${instance.instanceId} ${volume.deviceName ?? ''}`.trim(),
              TagSpecifications: [
                {
                  ResourceType: 'snapshot',
                  Tags: [
                    { Key: SNAPSHOT_TAGS.findingId, Value: findingId },
                    { Key: SNAPSHOT_TAGS.instanceId, Value: instance.instanceId },
                    { Key: SNAPSHOT_TAGS.device, Value: volume.deviceName ?? 'unknown' },
                    { Key: SNAPSHOT_TAGS.cluster, Value: input.cluster?.name ?? instance.cluster ?? 'none' },
                    { Key: 'Name', Value: `evidence-${findingId.slice(0, 12)}-${volume.volumeId}` },
                  ],
                },
              ],
            }),
          );
          snapshotId = created.SnapshotId;
        }
        if (!snapshotId) throw new Error('CreateSnapshot returned no snapshot id');
        const state = await snapshotState(ports.ec2, snapshotId);
        const verified = USABLE.has(state ?? '');
        const result = item(
          target,
          verified ? 'ok' : 'failed',
          `snapshot ${snapshotId} ${reused ? 'already taken, reused' : 'started'} (${state})`,
          {
            verified,
            restore: { snapshotId, volumeId: volume.volumeId, reused: reused !== undefined },
          },
        );
        return { item: result, after: { snapshotId } };
      }),
    );
    items.push(done.ok ? done.value : item(target, 'failed', done.error));
  }
  return { action: 'snapshot-volumes', skipped: null, items };
}
