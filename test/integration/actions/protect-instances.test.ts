/** protect-instances: the EC2 and Auto Scaling calls, the account afterwards, and Karpenter nodes. */

import { SetInstanceProtectionCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstanceAttributeCommand, ModifyInstanceAttributeCommand } from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { protectInstance } from '../../../lambdas/actions/protect-instances/protect-instances.js';
import { awsClients } from '../../../lambdas/clients/aws.js';
import { eksKubernetes } from '../../../lambdas/clients/kubernetes.js';
import { KARPENTER_DO_NOT_DISRUPT } from '../../../lambdas/core/quarantine.js';
import { isEksToken } from '../../../simulation/eks-token.js';
import { KubeApiServer } from '../../../simulation/kube-api-server.js';
import { type FakeInstance, mockAccount } from '../../support/aws-account.js';
import { node } from '../../support/cluster.js';
import { CLUSTER, identifiedInstance, managedCluster, planFor } from '../../support/incident.js';
import { claimedJournal, useIncidentTable } from '../../support/incidents.js';

let server: KubeApiServer;
let account: ReturnType<typeof mockAccount>;

beforeEach(async () => {
  server = new KubeApiServer(isEksToken);
  await server.start();
});
afterEach(async () => {
  account.restore();
  await server.stop();
});

const plan = planFor('eks-runtime-new-binary-executed.json');
const ID = 'i-0f1e2d3c4b5a69788';
const volumes = [
  { volumeId: 'vol-root', deviceName: '/dev/xvda', deleteOnTermination: true },
  { volumeId: 'vol-data', deviceName: '/dev/sdf', deleteOnTermination: false },
];

const incidents = useIncidentTable();

async function protect(fake: FakeInstance, target = identifiedInstance(ID, { volumes })) {
  account = mockAccount({ instances: [fake], clusters: { [CLUSTER]: server.url } });
  const clients = awsClients();
  return protectInstance(
    { plan, cluster: managedCluster, target },
    { ...clients, kubernetes: eksKubernetes(clients.eks) },
    await claimedJournal(incidents.store(), plan),
  );
}

describe('protect-instances', () => {
  it('turns on termination protection, keeps volumes on termination and protects from scale-in, recording what was', async () => {
    const result = await protect(
      { instanceId: ID, autoScalingGroup: 'eks-general', volumes },
      identifiedInstance(ID, { autoScalingGroup: 'eks-general', volumes }),
    );

    expect(account.ec2.commandCalls(ModifyInstanceAttributeCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceId: ID, DisableApiTermination: { Value: true } },
      {
        InstanceId: ID,
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-root', DeleteOnTermination: false } },
        ],
      },
    ]);
    expect(
      account.autoScaling.commandCalls(SetInstanceProtectionCommand).map((c) => c.args[0].input),
    ).toEqual([{ AutoScalingGroupName: 'eks-general', InstanceIds: [ID], ProtectedFromScaleIn: true }]);
    expect(account.state.instances[0]).toMatchObject({
      terminationProtection: true,
      scaleInProtected: true,
      volumes: [
        expect.objectContaining({ deleteOnTermination: false }),
        expect.objectContaining({ deleteOnTermination: false }),
      ],
    });
    expect(result.items).toEqual([
      {
        target: `instance ${ID}`,
        status: 'ok',
        detail:
          'termination protection on; volumes kept on termination: vol-root; scale-in protection on in eks-general',
        verified: true,
        caveats: [],
        restore: {
          instanceId: ID,
          terminationProtection: false,
          deleteOnTermination: ['/dev/xvda'],
          autoScalingGroup: 'eks-general',
          scaleInProtection: false,
          karpenter: null,
        },
      },
    ]);
    const record = await incidents.store().get(plan.finding.id);
    expect(record?.entries[`protect-instances|-|instance ${ID}`]).toMatchObject({
      status: 'ok',
      before: result.items[0]?.restore,
    });
  });

  it('records protection that was already on and sets nothing twice', async () => {
    const result = await protect(
      {
        instanceId: ID,
        autoScalingGroup: 'eks-general',
        scaleInProtected: true,
        terminationProtection: true,
      },
      identifiedInstance(ID, { autoScalingGroup: 'eks-general' }),
    );
    expect(account.ec2.commandCalls(ModifyInstanceAttributeCommand)).toEqual([]);
    expect(account.autoScaling.commandCalls(SetInstanceProtectionCommand)).toEqual([]);
    expect(result.items[0]?.restore).toEqual({
      instanceId: ID,
      terminationProtection: true,
      deleteOnTermination: [],
      autoScalingGroup: 'eks-general',
      scaleInProtection: true,
      karpenter: null,
    });
  });

  it('reports an instance in no Auto Scaling group, without failing', async () => {
    const result = await protect({ instanceId: ID }, identifiedInstance(ID));
    expect(account.autoScaling.calls()).toEqual([]);
    expect(result.items[0]).toMatchObject({
      status: 'ok',
      detail:
        'termination protection on; in no Auto Scaling group and not a Karpenter node: nothing would scale it in',
    });
  });

  it('annotates a Karpenter node with do-not-disrupt instead', async () => {
    server.add('nodes', node('ip-10-0-9-9.ec2.internal', ID, { 'karpenter.sh/nodepool': 'default' }));
    const result = await protect(
      { instanceId: ID },
      identifiedInstance(ID, { karpenter: true, nodeName: 'ip-10-0-9-9.ec2.internal' }),
    );
    expect(server.requests.filter((r) => r.method === 'PATCH')).toEqual([
      expect.objectContaining({
        path: '/api/v1/nodes/ip-10-0-9-9.ec2.internal',
        contentType: 'application/merge-patch+json',
        body: { metadata: { annotations: { [KARPENTER_DO_NOT_DISRUPT]: 'true' } } },
      }),
    ]);
    expect(server.get('nodes', null, 'ip-10-0-9-9.ec2.internal')?.metadata.annotations).toEqual({
      [KARPENTER_DO_NOT_DISRUPT]: 'true',
    });
    expect(result.items[0]).toMatchObject({
      status: 'ok',
      verified: true,
      restore: { karpenter: { cluster: CLUSTER, node: 'ip-10-0-9-9.ec2.internal', annotation: null } },
    });
  });

  it('skips a terminated instance without calling AWS', async () => {
    const result = await protect(
      { instanceId: ID, state: 'terminated' },
      identifiedInstance(ID, { state: 'terminated' }),
    );
    expect(result).toEqual({
      action: 'protect-instances',
      skipped: `instance ${ID} is terminated`,
      items: [],
    });
    expect(account.ec2.commandCalls(DescribeInstanceAttributeCommand)).toEqual([]);
  });
});
