/** snapshot-volumes: tagged snapshots, reuse on a retried step, and failures reported per volume. */
import { CreateSnapshotCommand } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SNAPSHOT_TAGS,
  snapshotVolumes,
} from '../../../lambdas/actions/snapshot-volumes/snapshot-volumes.js';
import { awsClients } from '../../../lambdas/clients/aws.js';
import { mockAccount } from '../../support/aws-account.js';
import { identifiedInstance, managedCluster, planFor } from '../../support/incident.js';
import { claimedJournal, useIncidentTable } from '../../support/incidents.js';

let account: ReturnType<typeof mockAccount>;
afterEach(() => account.restore());

const plan = planFor('eks-runtime-new-binary-executed.json');
const ID = 'i-0f1e2d3c4b5a69788';
const volumes = [
  { volumeId: 'vol-root', deviceName: '/dev/xvda', deleteOnTermination: true },
  { volumeId: 'vol-data', deviceName: '/dev/sdf', deleteOnTermination: false },
];
const target = identifiedInstance(ID, { volumes, cluster: 'prod-eks' });

const incidents = useIncidentTable();
const journal = () => claimedJournal(incidents.store(), plan);

async function snapshot() {
  return snapshotVolumes({ plan, cluster: managedCluster, target }, awsClients(), await journal());
}

describe('snapshot-volumes', () => {
  it('snapshots every attached volume, tagged with finding, instance, device and cluster', async () => {
    account = mockAccount({ instances: [{ instanceId: ID, volumes }] });

    const result = await snapshot();

    expect(account.ec2.commandCalls(CreateSnapshotCommand).map((c) => c.args[0].input)).toEqual(
      volumes.map((volume) => ({
        VolumeId: volume.volumeId,
        Description: `guardduty-responder evidence: finding ${plan.finding.id}, ${ID} ${volume.deviceName}`,
        TagSpecifications: [
          {
            ResourceType: 'snapshot',
            Tags: [
              { Key: SNAPSHOT_TAGS.findingId, Value: plan.finding.id },
              { Key: SNAPSHOT_TAGS.instanceId, Value: ID },
              { Key: SNAPSHOT_TAGS.device, Value: volume.deviceName },
              { Key: SNAPSHOT_TAGS.cluster, Value: 'prod-eks' },
              { Key: 'Name', Value: `evidence-${plan.finding.id.slice(0, 12)}-${volume.volumeId}` },
            ],
          },
        ],
      })),
    );
    expect(account.state.snapshots.map((s) => s.VolumeId)).toEqual(['vol-root', 'vol-data']);
    expect(result.items.map((i) => [i.target, i.status, i.verified, i.detail])).toEqual([
      [`volume vol-root (${ID} /dev/xvda)`, 'ok', true, 'snapshot snap-00000000000000001 started (pending)'],
      [`volume vol-data (${ID} /dev/sdf)`, 'ok', true, 'snapshot snap-00000000000000002 started (pending)'],
    ]);
  });

  it('reuses the snapshot a retried step already took', async () => {
    account = mockAccount({ instances: [{ instanceId: ID, volumes }] });
    await snapshot();
    const again = await snapshot();
    expect(account.ec2.commandCalls(CreateSnapshotCommand)).toHaveLength(2);
    expect(account.state.snapshots).toHaveLength(2);
    expect(again.items.map((i) => i.detail)).toEqual([
      'snapshot snap-00000000000000001 already taken, reused (pending)',
      'snapshot snap-00000000000000002 already taken, reused (pending)',
    ]);
  });

  it('reports a denied snapshot as failed and still takes the others', async () => {
    account = mockAccount({ instances: [{ instanceId: ID, volumes }] });
    account.ec2.on(CreateSnapshotCommand, { VolumeId: 'vol-root' }).rejects(
      Object.assign(new Error('You are not authorized to perform this operation.'), {
        name: 'UnauthorizedOperation',
      }),
    );
    const result = await snapshot();
    expect(result.items.map((i) => [i.status, i.detail])).toEqual([
      ['failed', 'UnauthorizedOperation: You are not authorized to perform this operation.'],
      ['ok', 'snapshot snap-00000000000000001 started (pending)'],
    ]);
  });

  it('skips an instance with no volume attached', async () => {
    account = mockAccount({ instances: [{ instanceId: ID }] });
    const result = await snapshotVolumes(
      { plan, cluster: managedCluster, target: identifiedInstance(ID) },
      awsClients(),
      await journal(),
    );
    expect(result).toEqual({
      action: 'snapshot-volumes',
      skipped: `instance ${ID} has no EBS volume attached`,
      items: [],
    });
  });
});
