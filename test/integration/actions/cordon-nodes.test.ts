/** cordon-nodes against the local Kubernetes API server. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cordonNode } from '../../../lambdas/actions/cordon-nodes/cordon-nodes.js';
import { awsClients } from '../../../lambdas/clients/aws.js';
import { eksKubernetes } from '../../../lambdas/clients/kubernetes.js';
import { isEksToken } from '../../../simulation/eks-token.js';
import { KubeApiServer } from '../../../simulation/kube-api-server.js';
import { mockAccount } from '../../support/aws-account.js';
import { node } from '../../support/cluster.js';
import { CLUSTER, identifiedNode, managedCluster, planFor } from '../../support/incident.js';
import { claimedJournal, EXECUTION, useIncidentTable } from '../../support/incidents.js';

let server: KubeApiServer;
let account: ReturnType<typeof mockAccount>;

beforeEach(async () => {
  server = new KubeApiServer(isEksToken);
  await server.start();
  account = mockAccount({ clusters: { [CLUSTER]: server.url } });
});
afterEach(async () => {
  account.restore();
  await server.stop();
});

const plan = planFor('eks-runtime-new-binary-executed.json');
const NODE = 'ip-10-0-12-34.ec2.internal';
const incidents = useIncidentTable();
const cordon = async (target = identifiedNode(NODE, 'i-0f1e2d3c4b5a69788')) =>
  cordonNode(
    { plan, cluster: managedCluster, target },
    eksKubernetes(awsClients().eks),
    await claimedJournal(incidents.store(), plan),
  );

describe('cordon-nodes', () => {
  it('sets spec.unschedulable with a merge patch and reads it back', async () => {
    server.add('nodes', node(NODE, 'i-0f1e2d3c4b5a69788'));

    const result = await cordon();

    expect(server.requests.filter((r) => r.method === 'PATCH')).toEqual([
      expect.objectContaining({
        path: `/api/v1/nodes/${NODE}`,
        contentType: 'application/merge-patch+json',
        body: { spec: { unschedulable: true } },
        status: 200,
      }),
    ]);
    expect(server.get('nodes', null, NODE)?.spec?.unschedulable).toBe(true);
    expect(result.items).toEqual([
      {
        target: `node ${NODE}`,
        status: 'ok',
        detail: 'cordoned',
        verified: true,
        caveats: [],
        restore: { node: NODE, unschedulable: false },
      },
    ]);
    const record = await incidents.store().get(plan.finding.id);
    expect(record?.entries[`cordon-nodes|${CLUSTER}|node ${NODE}`]).toMatchObject({
      status: 'ok',
      before: { node: NODE, unschedulable: false },
      detail: 'cordoned',
      executionArn: EXECUTION,
    });
  });

  it('keeps the state first recorded when run again, so a retry after the patch still knows the node was schedulable', async () => {
    server.add('nodes', node(NODE, 'i-0f1e2d3c4b5a69788'));
    await cordon();
    const again = await cordon();
    expect(server.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    expect(again.items[0]).toMatchObject({ detail: 'cordoned', restore: { unschedulable: false } });
  });

  it('records a node that was already cordoned and leaves it as it is', async () => {
    server.add('nodes', { ...node(NODE, 'i-0f1e2d3c4b5a69788'), spec: { unschedulable: true } });
    const result = await cordon();
    expect(server.requests.filter((r) => r.method === 'PATCH')).toEqual([]);
    expect(result.items[0]).toMatchObject({
      detail: 'already cordoned',
      verified: true,
      restore: { unschedulable: true },
    });
  });

  it('skips a node that is gone', async () => {
    const result = await cordon();
    expect(result.items[0]).toMatchObject({ status: 'skipped', detail: 'the node no longer exists' });
  });
});
