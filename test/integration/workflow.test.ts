/**
 * The synthesized state machine, run with aws-local-stepfunctions: every task is the real handler, over
 * the local Kubernetes API server and a stateful account behind aws-sdk-client-mock.
 */
import { CreateSnapshotCommand } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QUARANTINE_LABEL, QUARANTINE_POLICY } from '../../lambdas/core/quarantine.js';
import { irsaTrust, oidcIssuerOf } from '../../simulation/account.js';
import { applyShippedPolicies } from '../../simulation/admission.js';
import { parseConfig } from '../../simulation/cdk-json.js';
import { isEksToken } from '../../simulation/eks-token.js';
import { KubeApiServer } from '../../simulation/kube-api-server.js';
import { type ExecutionRun, runLocally, synthesizedDefinition } from '../../simulation/runner.js';
import {
  ACCOUNT,
  type FakeAccount,
  type FakeInstance,
  mockAccount,
  nodeInstance,
  roleArn,
} from '../support/aws-account.js';
import {
  addDeployment,
  addSampleNode,
  enforceNetworkPolicy,
  node,
  pod,
  serviceAccount,
} from '../support/cluster.js';
import { loadEvent, RESPONDER } from '../support/events.js';
import { useIncidentTable } from '../support/incidents.js';
import { responderHandlers } from '../support/responder.js';

const definition = synthesizedDefinition(parseConfig({ clusters: ['prod-eks'] }), RESPONDER);
const sns = mockClient(SNSClient);

const incidents = useIncidentTable();
let server: KubeApiServer;
let account: ReturnType<typeof mockAccount>;

beforeEach(async () => {
  server = new KubeApiServer(isEksToken);
  applyShippedPolicies(server);
  enforceNetworkPolicy(server);
  await server.start();
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
});
afterEach(async () => {
  account?.restore();
  await server.stop();
});

function withAccount(fake: FakeAccount) {
  account = mockAccount({
    clusters: { 'prod-eks': server.url },
    instanceProfiles: { 'eks-node-profile': 'eks-node-role', 'orders-app-profile': 'orders-app-role' },
    roles: {
      'eks-node-role': { attached: ['arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy'] },
      'web-irsa': {
        attached: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'],
        // The role trusts the cluster's OIDC provider for the service accounts whose pods use it.
        trust: irsaTrust(ACCOUNT, oidcIssuerOf('prod-eks', 'us-east-1'), [
          'shop/web',
          'payments/payments-api',
        ]),
      },
      'orders-app-role': { inline: { orders: '{"Version":"2012-10-17","Statement":[]}' } },
    },
    ...fake,
  });
}

/** The standalone application server of the EC2 findings. */
const ordersApp = (): FakeInstance => ({
  instanceId: 'i-0c1d2e3f4a5b60718',
  instanceProfile: 'orders-app-profile',
  volumes: [{ volumeId: 'vol-app', deviceName: '/dev/xvda' }],
});

async function run(
  file: string,
  mutate: (event: ReturnType<typeof loadEvent>) => void = () => {},
  settings: Record<string, unknown> = {},
): Promise<ExecutionRun> {
  const event = loadEvent(file);
  mutate(event);
  return runLocally(
    definition,
    event,
    responderHandlers({ clusters: ['prod-eks'], ...settings }, incidents.store()),
  );
}

const entered = (execution: ExecutionRun) =>
  execution.events.filter((e) => e.type === 'StateEntered').map((e) => e.state ?? '');
const precedes = (order: string[], first: string, second: string) =>
  order.indexOf(first) < order.lastIndexOf(second);
const message = () => sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
const outcome = () =>
  sns.commandCalls(PublishCommand)[0]?.args[0].input.MessageAttributes?.outcome?.StringValue;

describe('response state machine', () => {
  it('contains a Deployment audit finding: isolate then cordon, protect then revoke then snapshot, then notify', async () => {
    server.add('nodes', node('ip-10-0-1-10.ec2.internal', 'i-0aaa00000000000a1'));
    server.add('nodes', node('ip-10-0-1-11.ec2.internal', 'i-0aaa00000000000a2'));
    addDeployment(server, {
      namespace: 'shop',
      name: 'web-frontend',
      nodes: ['ip-10-0-1-10.ec2.internal', 'ip-10-0-1-11.ec2.internal'],
      serviceAccount: 'web',
    });
    server.add('serviceaccounts', serviceAccount('shop', 'web', roleArn('web-irsa')));
    withAccount({
      instances: [
        nodeInstance('i-0aaa00000000000a1', 'ip-10-0-1-10.ec2.internal', 'vol-0a1'),
        nodeInstance('i-0aaa00000000000a2', 'ip-10-0-1-11.ec2.internal', 'vol-0a2'),
        nodeInstance('i-0aaa00000000000a3', 'ip-10-0-1-12.ec2.internal', 'vol-0a3'),
      ],
    });

    const execution = await run('eks-audit-privileged-container.json');

    expect(execution.status).toBe('SUCCEEDED');
    const order = entered(execution);
    expect(order.slice(0, 3)).toEqual(['Claim', 'FirstSighting', 'Identify']);
    expect(precedes(order, 'IsolatePods', 'CordonNodesItem')).toBe(true);
    expect(precedes(order, 'ProtectInstancesItem', 'RevokeIam')).toBe(true);
    expect(precedes(order, 'RevokeIam', 'SnapshotVolumesItem')).toBe(true);
    expect(order.slice(-3)).toEqual(['Notify', 'AnyStepFailed', 'ResponseComplete']);
    expect(order.filter((state) => state === 'CordonNodesItem')).toHaveLength(2);

    // The cluster afterwards.
    expect(server.get('networkpolicies', 'shop', QUARANTINE_POLICY)).toBeDefined();
    for (const pod of server.list('pods', 'shop'))
      expect(pod.metadata.labels?.[QUARANTINE_LABEL]).toBeDefined();
    for (const n of server.list('nodes')) expect(n.spec?.unschedulable).toBe(true);
    // The account afterwards: the pod's own role stripped, the nodes' role and profiles kept, evidence kept.
    expect(account.state.roles['eks-node-role']?.attached).toHaveLength(1);
    expect(account.state.roles['web-irsa']).toEqual({ attached: [], inline: {} });
    expect(account.state.associations).toHaveLength(3);
    expect(account.state.snapshots.map((s) => s.VolumeId).sort()).toEqual(['vol-0a1', 'vol-0a2']);
    expect(
      account.state.instances
        .filter((i) => i.scaleInProtected && i.terminationProtection)
        .map((i) => i.instanceId),
    ).toEqual(['i-0aaa00000000000a1', 'i-0aaa00000000000a2']);

    // What reached notify.
    const text = message();
    expect(outcome()).toBe('contained');
    expect(text.split('\n')[0]).toMatch(
      /^CONTAINED: PrivilegeEscalation:Kubernetes\/PrivilegedContainer \(Medium 5\) on Deployment shop\/web-frontend\./,
    );
    for (const action of [
      'isolate-pods',
      'cordon-nodes',
      'protect-instances',
      'revoke-iam',
      'snapshot-volumes',
    ])
      expect(text).toMatch(new RegExp(`^  ${action} +ok( \\(\\d+\\))?: `, 'm'));
    expect(text).toContain(
      '  revoke-iam         ok: detached 1 managed policy (arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess), deleted 0 inline (none): role web-irsa, verified',
    );
    expect(text).toContain(
      '    left alone: role eks-node-role: the instance-profile role of nodes that run the affected pods: the finding does not say the host is compromised',
    );
    expect(text).toContain(
      '  cut off: Deployment shop/web-frontend: 2 pod(s) isolated, enforced by the VPC CNI network policy agent',
    );
  });

  it('contains a runtime finding on its pod and the node GuardDuty named', async () => {
    addSampleNode(server);
    addDeployment(server, {
      namespace: 'payments',
      name: 'payments-api',
      nodes: ['ip-10-0-12-34.ec2.internal'],
      serviceAccount: 'payments-api',
    });
    withAccount({
      instances: [nodeInstance('i-0f1e2d3c4b5a69788', 'ip-10-0-12-34.ec2.internal', 'vol-0c1')],
    });

    const execution = await run('eks-runtime-new-binary-executed.json');

    expect(execution.status).toBe('SUCCEEDED');
    expect(outcome()).toBe('contained');
    expect(server.get('nodes', null, 'ip-10-0-12-34.ec2.internal')?.spec?.unschedulable).toBe(true);
    expect(account.state.snapshots.map((s) => s.VolumeId)).toEqual(['vol-0c1']);
    // A runtime finding is about a container: the node's role is not the compromised identity.
    expect(account.state.roles['eks-node-role']?.attached).toHaveLength(1);
    expect(message()).toMatch(/^ {2}isolate-pods +ok( \(\d+\))?: .*pod payments\/payments-api-5d8f7c9b6-p0/m);
  });

  it('contains an EC2 finding on a standalone instance without touching any cluster', async () => {
    withAccount({ instances: [ordersApp()] });

    const execution = await run('ec2-backdoor-cc-activity.json');

    expect(execution.status).toBe('SUCCEEDED');
    expect(server.requests).toEqual([]);
    expect(account.state.instances[0]).toMatchObject({ terminationProtection: true });
    expect(account.state.roles['orders-app-role']).toEqual({ attached: [], inline: {} });
    expect(account.state.snapshots.map((s) => s.VolumeId)).toEqual(['vol-app']);
    const text = message();
    expect(outcome()).toBe('contained');
    expect(text).toContain(
      '  isolate-pods       not applicable: the finding names nothing this action applies to',
    );
    expect(text).toMatch(/^ {2}cordon-nodes +not applicable/m);
    expect(text).toContain('  cut off: instance i-0c1d2e3f4a5b60718: isolated');
    expect(text).toContain('orders-app-role');
  });

  it('ends a response with a denied snapshot in notify and a failed execution, the other actions done', async () => {
    addSampleNode(server);
    addDeployment(server, {
      namespace: 'payments',
      name: 'payments-api',
      nodes: ['ip-10-0-12-34.ec2.internal'],
    });
    withAccount({
      instances: [nodeInstance('i-0f1e2d3c4b5a69788', 'ip-10-0-12-34.ec2.internal', 'vol-0c1')],
    });
    account.ec2.on(CreateSnapshotCommand).rejects(
      Object.assign(new Error('You are not authorized to perform this operation.'), {
        name: 'UnauthorizedOperation',
      }),
    );

    const execution = await run('eks-runtime-new-binary-executed.json');

    expect(execution.status).toBe('FAILED');
    expect(execution.events.at(-1)).toMatchObject({ type: 'ExecutionFailed', error: 'ResponseFailed' });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    // The workload is cut off; the evidence is not all there: partly contained, the failure said.
    expect(outcome()).toBe('partly-contained');
    expect(message().split('\n')[0]).toMatch(/^PARTLY CONTAINED \(failed\): .* failed: snapshot-volumes: /);
    expect(message()).toMatch(/^ {2}snapshot-volumes +FAILED: /m);
    expect(message()).toContain('UnauthorizedOperation: You are not authorized to perform this operation.');
    expect(server.get('nodes', null, 'ip-10-0-12-34.ec2.internal')?.spec?.unschedulable).toBe(true);
    expect(server.list('pods', 'payments')[0]?.metadata.labels?.[QUARANTINE_LABEL]).toBeDefined();
    expect(account.state.instances[0]).toMatchObject({ terminationProtection: true, scaleInProtected: true });
  });

  it('still protects and snapshots the instance when the pod is already gone, and does not call that contained', async () => {
    addSampleNode(server);
    withAccount({
      instances: [nodeInstance('i-0f1e2d3c4b5a69788', 'ip-10-0-12-34.ec2.internal', 'vol-0c1')],
    });

    const execution = await run('eks-runtime-fileless-execution.json');

    // Nothing compromised was cut off: the alarm fires.
    expect(execution.status).toBe('FAILED');
    expect(account.state.instances[0]).toMatchObject({ terminationProtection: true, scaleInProtected: true });
    expect(account.state.snapshots.map((s) => s.VolumeId)).toEqual(['vol-0c1']);
    expect(server.get('nodes', null, 'ip-10-0-12-34.ec2.internal')?.spec?.unschedulable).toBe(true);
    const text = message();
    expect(text).toContain('  not found: pod edge/api-gateway-7d9f8c6b5-qw4rt');
    expect(text).toContain('  isolate-pods       skipped: no pod to isolate was identified');
    expect(outcome()).toBe('not-contained');
    expect(text.split('\n')[0]).toMatch(
      /^NOT CONTAINED \(not found\): .* not found: pod edge\/api-gateway-7d9f8c6b5-qw4rt: /,
    );
  });

  describe('an action that fails after all its retries', () => {
    const throttled = () =>
      Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    const storms: [string, string, () => void][] = [
      [
        'isolate-pods',
        'IsolatePods',
        () => server.inject({ path: /networkpolicies/, status: 503, times: 10_000 }),
      ],
      [
        'cordon-nodes',
        'CordonNodesItem',
        () => server.inject({ method: 'PATCH', path: /\/nodes\//, status: 503, times: 10_000 }),
      ],
      [
        'protect-instances',
        'ProtectInstancesItem',
        () => account.fail('ModifyInstanceAttribute', throttled(), 1000),
      ],
      ['revoke-iam', 'RevokeIam', () => account.fail('DetachRolePolicy', throttled(), 1000)],
      ['snapshot-volumes', 'SnapshotVolumesItem', () => account.fail('CreateSnapshot', throttled(), 1000)],
    ];

    it.each(storms)(
      '%s: every other action runs, the notification says so, the execution fails at its end',
      async (action, state, storm) => {
        addSampleNode(server);
        addDeployment(server, {
          namespace: 'payments',
          name: 'payments-api',
          nodes: ['ip-10-0-12-34.ec2.internal'],
          serviceAccount: 'payments-api',
        });
        server.add('serviceaccounts', serviceAccount('payments', 'payments-api', roleArn('web-irsa')));
        withAccount({
          instances: [nodeInstance('i-0f1e2d3c4b5a69788', 'ip-10-0-12-34.ec2.internal', 'vol-0c1')],
        });
        storm();

        const execution = await run('eks-runtime-new-binary-executed.json');

        // Retried as the definition says (6 attempts after the first), then caught: nothing failed before Notify.
        expect(execution.events.filter((e) => e.type === 'StateRetried' && e.state === state)).toHaveLength(
          6,
        );
        expect(execution.status).toBe('FAILED');
        expect(entered(execution).slice(-3)).toEqual(['Notify', 'AnyStepFailed', 'ResponseFailed']);
        expect(execution.events.filter((e) => e.type === 'ExecutionFailed')).toEqual([
          expect.objectContaining({ error: 'ResponseFailed' }),
        ]);
        expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
        // Isolation failed: the workload is not cut off; any other action failed: partly contained.
        expect(outcome()).toBe(action === 'isolate-pods' ? 'not-contained' : 'partly-contained');
        expect(message().split('\n')[0]).toContain('(failed)');
        expect(message()).toMatch(new RegExp(`^  ${action} +FAILED: `, 'm'));
        expect(message()).toContain('TransientError');

        // Every other action did its work.
        const done: Record<string, boolean> = {
          'isolate-pods':
            server.list('pods', 'payments')[0]?.metadata.labels?.[QUARANTINE_LABEL] !== undefined,
          'cordon-nodes':
            server.get('nodes', null, 'ip-10-0-12-34.ec2.internal')?.spec?.unschedulable === true,
          'protect-instances': account.state.instances[0]?.terminationProtection === true,
          'revoke-iam': account.state.roles['web-irsa']?.attached.length === 0,
          'snapshot-volumes': account.state.snapshots.length === 1,
        };
        expect(done).toEqual({
          'isolate-pods': action !== 'isolate-pods',
          'cordon-nodes': action !== 'cordon-nodes',
          'protect-instances': action !== 'protect-instances',
          'revoke-iam': action !== 'revoke-iam',
          'snapshot-volumes': action !== 'snapshot-volumes',
        });
        for (const other of Object.keys(done).filter((name) => name !== action))
          expect(message()).toMatch(new RegExp(`^  ${other} +ok( \\(\\d+\\))?: `, 'm'));
        // The record says the response is unfinished, so the next sighting contains it again.
        const [record] = await incidents.table().records();
        expect(record?.outcome).toBe(outcome());
      },
    );
  });

  describe('host isolation', () => {
    const node = () => {
      addSampleNode(server);
      withAccount({
        instances: [nodeInstance('i-0f1e2d3c4b5a69788', 'ip-10-0-12-34.ec2.internal', 'vol-0c1')],
      });
    };
    const quarantined = () =>
      account.state.network.securityGroups.find((g) =>
        g.Tags.some((t) => t.Key === 'guardduty-responder:purpose' && t.Value === 'quarantine'),
      );

    it('holds isolate-host back for an EKS node by default, says why, and does not call the host contained', async () => {
      node();
      const execution = await run('ec2-bitcoin-tool-dns-on-eks-node.json');

      expect(execution.status).toBe('FAILED');
      expect(outcome()).toBe('not-contained');
      expect(quarantined()).toBeUndefined();
      expect(message()).toContain(
        '  isolate-host       held back: the instance is a node of cluster prod-eks: isolating it cuts every pod on it and its kubelet off the API server (set isolateClusterNodes to isolate nodes)',
      );
      expect(message()).toContain(
        '  NOT cut off (held back): instance i-0f1e2d3c4b5a69788: isolate-host: the instance is a node of cluster prod-eks',
      );
    });

    it('isolates an EKS node after cordoning it when isolateClusterNodes is set', async () => {
      node();
      const execution = await run('ec2-bitcoin-tool-dns-on-eks-node.json', () => {}, {
        isolateClusterNodes: true,
      });

      expect(execution.status).toBe('SUCCEEDED');
      const exited = (state: string) =>
        execution.events.findIndex((e) => e.type === 'StateExited' && e.state === state);
      const started = (state: string) =>
        execution.events.findIndex((e) => e.type === 'StateEntered' && e.state === state);
      expect(exited('CordonNodesItem')).toBeGreaterThan(-1);
      expect(started('IsolateHostsItem')).toBeGreaterThan(exited('CordonNodesItem'));
      const eni = account.state.instances[0]?.networkInterfaces?.[0];
      expect(eni?.groups).toEqual([quarantined()?.GroupId]);
      expect(account.state.instances[0]?.lifecycleState).toBe('Standby');
      expect(message()).toMatch(/^ {2}isolate-host +ok( \(\d+\))?: /m);
      expect(outcome()).toBe('contained');
    });

    it('fails only isolate-host when ModifyNetworkInterfaceAttribute is denied, and says so', async () => {
      withAccount({ instances: [ordersApp()] });
      account.fail(
        'ModifyNetworkInterfaceAttribute',
        Object.assign(new Error('You are not authorized to perform this operation.'), {
          name: 'UnauthorizedOperation',
          $metadata: { httpStatusCode: 403 },
        }),
        10,
      );

      const execution = await run('ec2-backdoor-cc-activity.json');

      expect(execution.status).toBe('FAILED');
      expect(entered(execution).slice(-3)).toEqual(['Notify', 'AnyStepFailed', 'ResponseFailed']);
      expect(outcome()).toBe('not-contained');
      const text = message();
      expect(text.split('\n')[0]).toMatch(
        /^NOT CONTAINED \(failed\): .* failed: instance i-0c1d2e3f4a5b60718: isolate-host: /,
      );
      expect(text).toMatch(/^ {2}isolate-host +FAILED: /m);
      expect(text).toContain(
        'security groups: UnauthorizedOperation: You are not authorized to perform this operation.',
      );
      for (const other of ['protect-instances', 'revoke-iam', 'snapshot-volumes'])
        expect(text).toMatch(new RegExp(`^  ${other} +ok( \\(\\d+\\))?: `, 'm'));
      expect(account.state.instances[0]).toMatchObject({ terminationProtection: true });
      expect(account.state.snapshots.map((s) => s.VolumeId)).toEqual(['vol-app']);
    });
  });

  it('retries a throttled call and completes', async () => {
    withAccount({ instances: [ordersApp()] });
    account.fail(
      'CreateSnapshot',
      Object.assign(new Error('Request limit exceeded.'), {
        name: 'RequestLimitExceeded',
        $metadata: { httpStatusCode: 503 },
      }),
    );

    const execution = await run('ec2-backdoor-cc-activity.json');

    expect(execution.events.filter((e) => e.type === 'StateRetried').map((e) => e.state)).toEqual([
      'SnapshotVolumesItem',
    ]);
    expect(execution.status).toBe('SUCCEEDED');
    expect(account.state.snapshots.map((s) => s.VolumeId)).toEqual(['vol-app']);
  });

  it('cordons no more nodes than the limit for a DaemonSet over 10 nodes, and lists the ones held back', async () => {
    const daemonSet = server.add('daemonsets', {
      metadata: { name: 'log-agent', namespace: 'monitoring', labels: { app: 'log-agent' } },
      spec: { selector: { matchLabels: { app: 'log-agent' } } },
    });
    const instances: FakeInstance[] = [];
    for (let i = 0; i < 10; i++) {
      const name = `ip-10-0-2-${10 + i}.ec2.internal`;
      const id = `i-0d5${String(i).padStart(14, '0')}`;
      server.add('nodes', node(name, id));
      server.add('pods', {
        metadata: {
          name: `log-agent-${i}`,
          namespace: 'monitoring',
          labels: { app: 'log-agent' },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'DaemonSet',
              name: 'log-agent',
              uid: daemonSet.metadata.uid ?? '',
              controller: true,
            },
          ],
        },
        spec: { nodeName: name, containers: [{ name: 'agent', image: 'fluent-bit:3' }] },
        status: { phase: 'Running' },
      });
      instances.push(nodeInstance(id, name, `vol-ds${i}`));
    }
    withAccount({ instances });

    const execution = await run('eks-audit-privileged-container.json', (event) => {
      Object.assign(event.detail.resource.kubernetesDetails.kubernetesWorkloadDetails, {
        name: 'log-agent',
        type: 'daemonsets',
        namespace: 'monitoring',
      });
    });

    expect(execution.status).toBe('SUCCEEDED');
    expect(server.list('nodes').filter((n) => n.spec?.unschedulable)).toHaveLength(3);
    expect(
      server.list('pods', 'monitoring').filter((p) => p.metadata.labels?.[QUARANTINE_LABEL]),
    ).toHaveLength(10);
    const cordoned = server
      .list('nodes')
      .filter((n) => n.spec?.unschedulable)
      .map((n) => n.metadata.name);
    // The instances behind the isolated pods are protected, as far as the nodes cordoned: here all ten.
    expect(account.state.instances.filter((i) => i.terminationProtection)).toHaveLength(10);
    const [first, second] = server
      .list('nodes')
      .map((n) => n.metadata.name)
      .filter((name) => !cordoned.includes(name))
      .sort();
    expect(message()).toContain(
      `  held back 7 node(s): ${first}, ${second} and 5 more: over the limit of 3 nodes cordoned per execution`,
    );
  });

  it('never isolates a protected system pod, says so, and does not call it contained', async () => {
    addSampleNode(server);
    server.add('pods', {
      ...pod({
        name: 'coredns-6d4b75cb6d-x2x8n',
        namespace: 'kube-system',
        labels: { 'k8s-app': 'kube-dns' },
        nodeName: 'ip-10-0-12-34.ec2.internal',
      }),
    });
    withAccount({
      instances: [nodeInstance('i-0f1e2d3c4b5a69788', 'ip-10-0-12-34.ec2.internal', 'vol-0c1')],
    });

    const execution = await run('eks-audit-exec-in-kube-system-pod.json', (event) => {
      event.detail.resource.kubernetesDetails.kubernetesWorkloadDetails.name = 'coredns-6d4b75cb6d-x2x8n';
    });

    expect(execution.status).toBe('FAILED');
    expect(outcome()).toBe('not-contained');
    expect(server.get('pods', 'kube-system', 'coredns-6d4b75cb6d-x2x8n')?.metadata.labels).toEqual({
      'k8s-app': 'kube-dns',
    });
    expect(server.list('networkpolicies')).toEqual([]);
    expect(message().split('\n')[0]).toBe(
      'NOT CONTAINED (protected): Execution:Kubernetes/ExecInKubeSystemPod (Medium 5) on pod kube-system/coredns-6d4b75cb6d-x2x8n. protected: pod kube-system/coredns-6d4b75cb6d-x2x8n: protected workload (kube-system k8s-app in (kube-dns,aws-node,kube-proxy,ebs-csi-node,ebs-csi-controller)): identified and reported, never isolated. Done: cordon-nodes, protect-instances, harden-imds, snapshot-volumes.',
    );
  });

  it('goes straight to notify when nothing is planned, and fails after notifying when the event is not a finding', async () => {
    withAccount({});
    const reportOnly = await run('eks-audit-exposed-dashboard.json');
    expect(entered(reportOnly)).toEqual([
      'Claim',
      'FirstSighting',
      'Identify',
      'AnythingToContain',
      'Notify',
      'AnyStepFailed',
      'ResponseComplete',
    ]);
    expect(outcome()).toBe('identified');

    sns.resetHistory();
    const broken = await run('eks-audit-exposed-dashboard.json', (event) => {
      delete event.detail.severity;
    });
    expect(broken.status).toBe('FAILED');
    expect(entered(broken)).toEqual(['Claim', 'Notify', 'AnyStepFailed', 'ResponseFailed']);
    expect(message()).toContain('the claim failed: FindingValidationError');
  });
});
