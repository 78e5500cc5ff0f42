/**
 * Attack sequences: what `service.detection.sequence` names becomes targets, and a sequence naming an
 * EKS workload is contained like the workload finding, once the severity range takes Critical in. The
 * end-to-end runs are the replay simulation: the synthesized state machine and the real handlers over
 * HTTP to the local Kubernetes API server and AWS endpoint.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FindingEvent } from '../../lambdas/core/finding.js';
import { QUARANTINE_LABEL, QUARANTINE_POLICY } from '../../lambdas/core/quarantine.js';
import { targetsOf } from '../../lambdas/core/targets.js';
import { claimHandler } from '../../lambdas/handlers/claim.js';
import { identifyHandler } from '../../lambdas/handlers/identify.js';
import { plan as planResponse, ResponderSettingsSchema } from '../../lambdas/settings.js';
import { parseConfig, type ResponderConfig } from '../../simulation/cdk-json.js';
import { isEksToken } from '../../simulation/eks-token.js';
import { KubeApiServer } from '../../simulation/kube-api-server.js';
import { runLocally, synthesizedDefinition } from '../../simulation/runner.js';
import { type Simulation, simulatedHandlers } from '../../simulation/simulation.js';
import { mockAccount } from '../support/aws-account.js';
import { addDeployment, node, pod } from '../support/cluster.js';
import { RESPONDER } from '../support/events.js';
import { EXECUTION, useIncidentTable } from '../support/incidents.js';
import { reachAs } from '../support/responder.js';
import { eventOf, useSimulation } from '../support/simulated.js';

const SEQUENCE = 'attack-sequence-eks-compromised-cluster.json';
const WORKLOAD = 'eks-audit-privileged-container.json';
const NODE = 'i-0f1e2d3c4b5a69788';
/** The deployer's range with Critical in: no upper bound. */
const CRITICAL_IN = parseConfig({ clusters: ['prod-eks'], severity: { atLeast: 4, below: null } });
const DEFAULT_RANGE = parseConfig({ clusters: ['prod-eks'] });

const { simulate } = useSimulation();
/** A sequence event whose resources are these (the published example's cluster kept first). */
const sequenceWith = (resources: unknown[]) =>
  eventOf(SEQUENCE, (raw) => {
    raw.detail.service.detection.sequence.resources = [
      raw.detail.service.detection.sequence.resources[0],
      ...resources,
    ];
  });

/** A KUBERNETES_WORKLOAD resource of a sequence (API `ResourceV2`). */
const workloadResource = (name: string, namespace: string, type: string) => ({
  uid: `uid-${name}`,
  name,
  resourceType: 'KUBERNETES_WORKLOAD',
  data: { kubernetesWorkload: { namespace, type } },
});

async function respond(event: FindingEvent, config: ResponderConfig) {
  const sim = await simulate(event);
  const execution = await runLocally(
    synthesizedDefinition(config, RESPONDER),
    event,
    simulatedHandlers(sim, config, RESPONDER),
  );
  return { sim, execution };
}

/** What containment left in the cluster and the account, by name. */
const containment = (sim: Simulation) => ({
  quarantined: sim.kube
    .list('pods')
    .filter((p) => p.metadata.labels?.[QUARANTINE_LABEL])
    .map((p) => `${p.metadata.namespace}/${p.metadata.name}`)
    .sort(),
  policies: sim.kube.list('networkpolicies').map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
  cordoned: sim.kube
    .list('nodes')
    .filter((n) => n.spec?.unschedulable === true)
    .map((n) => n.metadata.name)
    .sort(),
  protectedInstances: sim.account.state.instances
    .filter((i) => i.terminationProtection)
    .map((i) => i.instanceId)
    .sort(),
  snapshots: sim.account.state.snapshots.map((s) => s.VolumeId).sort(),
});

describe('attack sequences', () => {
  it('reads the cluster, workload and instance of the published-shape EKS sequence into targets', () => {
    const targets = targetsOf(eventOf(SEQUENCE).detail);
    expect(targets).toMatchObject({
      cluster: 'prod-eks',
      namespace: 'shop',
      workload: { kind: 'Deployment', name: 'web-frontend' },
      pods: [],
      otherWorkloads: [],
      instanceIds: [NODE],
      roleName: null,
      notes: [],
    });
  });

  it('is contained like the workload finding when the severity range admits Critical', async () => {
    const workload = await respond(eventOf(WORKLOAD), CRITICAL_IN);
    expect(workload.execution.status).toBe('SUCCEEDED');
    const likeWorkload = containment(workload.sim);
    await workload.sim.stop();

    const { sim, execution } = await respond(eventOf(SEQUENCE), CRITICAL_IN);

    expect(execution.status).toBe('SUCCEEDED');
    const contained = containment(sim);
    expect(contained.quarantined).toHaveLength(2);
    expect(contained.quarantined).toEqual(likeWorkload.quarantined);
    expect(contained.policies).toEqual([`shop/${QUARANTINE_POLICY}`]);
    expect(contained.cordoned).toEqual(likeWorkload.cordoned);
    // The simulated account names its instances after the finding: the same nodes, other ids.
    expect(contained.protectedInstances).toHaveLength(likeWorkload.protectedInstances.length);
    expect(contained.protectedInstances).toContain(NODE);
    expect(contained.snapshots).toHaveLength(likeWorkload.snapshots.length);
    const notice = sim.account.state.published[0];
    expect(notice?.MessageAttributes?.outcome?.StringValue).toBe('contained');
    expect(notice?.Message).toMatch(
      /^CONTAINED: AttackSequence:EKS\/CompromisedCluster \(Critical 9\) on Deployment shop\/web-frontend\./,
    );
    expect(notice?.Message).toContain(
      '  Signals: PrivilegeEscalation:Kubernetes/PrivilegedContainer (severity 5, count 1), CryptoCurrency:Runtime/BitcoinTool.B!DNS (severity 8, count 14), Execution:Runtime/ReverseShell (severity 8, count 1)',
    );
    // What the sequence's actors and endpoints say happened.
    expect(notice?.Message).toContain('  Process:   xmrig (/tmp/.x/xmrig)');
    expect(notice?.Message).toContain('  Domains:   pool.supportxmr.com');
    expect(notice?.Message).toMatch(/^ {2}isolate-pods +ok( \(\d+\))?: /m);
  });

  it('is held back with the reason, and changes nothing, in the default range', async () => {
    const { sim } = await respond(eventOf(SEQUENCE), DEFAULT_RANGE);
    expect(containment(sim)).toEqual({
      quarantined: [],
      policies: [],
      cordoned: [],
      protectedInstances: [],
      snapshots: [],
    });
    const notice = sim.account.state.published[0]?.Message ?? '';
    expect(notice).toContain(
      "  isolate-pods       held back: severity 9 is outside the responder's range (4 up to but not including 9)",
    );
    expect(notice).toMatch(/^NOT CONTAINED \(held back\): /);
  });

  it('takes further workloads in their own namespaces, and notes what it does not act on', () => {
    const event = sequenceWith([
      workloadResource('api-7d9f8c6b5-qw4rt', 'edge', 'PODS'),
      workloadResource('miner', 'batch', 'DAEMONSETS'),
      {
        uid: 'u-3',
        name: 'no-namespace',
        resourceType: 'KUBERNETES_WORKLOAD',
        data: { kubernetesWorkload: { type: 'JOBS' } },
      },
      { uid: 'arn:aws:s3:::orders-exports', name: 'orders-exports', resourceType: 'S3_BUCKET' },
      { uid: 'x-1', name: 'mystery' },
      { uid: 'i-0bbb00000000000b1', resourceType: 'EC2_INSTANCE', accountId: '444455556666' },
      {
        uid: 'ASIAEXAMPLEKEY',
        resourceType: 'ACCESS_KEY',
        data: {
          accessKey: { principalId: 'AROAEXAMPLE:session', userName: 'ci-deployer', userType: 'AssumedRole' },
        },
      },
    ]);
    const targets = targetsOf(event.detail);
    expect(targets).toMatchObject({
      cluster: 'prod-eks',
      namespace: 'edge',
      pods: ['api-7d9f8c6b5-qw4rt'],
      workload: null,
      otherWorkloads: [{ namespace: 'batch', kind: 'DaemonSet', name: 'miner' }],
      instanceIds: [],
      roleName: 'ci-deployer',
    });
    expect(targets.notes).toEqual([
      'attack sequence: KUBERNETES_WORKLOAD no-namespace: the Job has no namespace, so it cannot be resolved',
      'attack sequence: EC2_INSTANCE i-0bbb00000000000b1 is in account 444455556666: not acted on from this finding',
      'attack sequence: S3_BUCKET orders-exports: the responder does not act on this kind of resource',
      'attack sequence: resource without a type mystery: the responder does not act on this kind of resource',
    ]);
    const settings = ResponderSettingsSchema.parse({
      clusters: ['prod-eks'],
      severity: { atLeast: 4, below: null },
    });
    const plan = planResponse(event.detail, settings, RESPONDER);
    expect(plan.actions.find((a) => a.action === 'isolate-pods')?.decision).toBe('planned');
  });

  it('names a few resources of a kind it does not act on, then counts the rest', () => {
    const objects = Array.from({ length: 50 }, (_, index) => ({
      uid: `arn:aws:s3:::exports/part-${index}`,
      name: `part-${index}`,
      resourceType: 'S3_OBJECT',
    }));
    expect(targetsOf(sequenceWith(objects).detail).notes).toEqual([
      'attack sequence: S3_OBJECT part-0, part-1, part-2 and 47 more: the responder does not act on this kind of resource',
    ]);
  });

  describe('identification of several workloads', () => {
    let server: KubeApiServer;
    let account: ReturnType<typeof mockAccount> | undefined;
    const incidents = useIncidentTable();
    afterEach(async () => {
      account?.restore();
      await server.stop();
    });

    it('resolves the pods of every workload the sequence names, each in its namespace', async () => {
      server = new KubeApiServer(isEksToken);
      await server.start();
      server.add('nodes', node('ip-10-0-1-10.ec2.internal', 'i-0aaa00000000000a1'));
      const web = addDeployment(server, {
        namespace: 'shop',
        name: 'web-frontend',
        nodes: ['ip-10-0-1-10.ec2.internal'],
      });
      server.add('pods', pod({ name: 'debug', namespace: 'ops', nodeName: 'ip-10-0-1-10.ec2.internal' }));
      account = mockAccount({ clusters: { 'prod-eks': server.url } });
      const raw = sequenceWith([
        workloadResource('web-frontend', 'shop', 'DEPLOYMENTS'),
        workloadResource('debug', 'ops', 'PODS'),
        workloadResource('gone', 'ops', 'PODS'),
      ]);
      const settings = ResponderSettingsSchema.parse({
        clusters: ['prod-eks'],
        severity: { atLeast: 4, below: null },
      });
      const store = incidents.store();
      await claimHandler(settings, store)({ event: raw, executionArn: EXECUTION });

      const { identification } = await identifyHandler(
        settings,
        RESPONDER,
        reachAs('identify', settings),
        store,
        null,
        async () => raw.detail,
      )({ ...raw, claim: { executionArn: EXECUTION } });

      expect(identification.workload).toMatchObject({
        kind: 'Deployment',
        name: 'web-frontend',
        namespace: 'shop',
      });
      expect(identification.pods.map((p) => `${p.namespace}/${p.name}`).sort()).toEqual(
        [...web.pods.map((p) => `shop/${p.metadata.name}`), 'ops/debug'].sort(),
      );
      expect(identification.notFound).toContainEqual({
        kind: 'pod',
        name: 'ops/gone',
        detail: 'no such pod (already deleted, or not a valid name)',
      });
    });
  });
});
