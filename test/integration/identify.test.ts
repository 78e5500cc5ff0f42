/**
 * Identification over the real Kubernetes client against a local Kubernetes API server, and the real
 * SDK clients against aws-sdk-client-mock. The handler is the one the Lambda runs.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eksToken } from '../../lambdas/clients/eks-token.js';
import { apisFromKubeConfig, Kubernetes } from '../../lambdas/clients/kubernetes.js';
import { claimHandler } from '../../lambdas/handlers/claim.js';
import { identifyHandler } from '../../lambdas/handlers/identify.js';
import { checkEnforcement, TURN_ON } from '../../lambdas/identify/enforcement.js';
import { EVERY_ACTION, type IdentifyOutput } from '../../lambdas/identify/identify.js';
import { ResponderSettingsSchema } from '../../lambdas/settings.js';
import { irsaTrust, oidcIssuerOf } from '../../simulation/account.js';
import { functionAccessKey, isEksToken } from '../../simulation/eks-token.js';
import { KubeApiServer, TEST_CA_PEM } from '../../simulation/kube-api-server.js';
import { ACCOUNT, type FakeAccount, mockAccount, nodeInstance, roleArn } from '../support/aws-account.js';
import {
  addDeployment,
  addSampleNode,
  kubeconfigFor,
  node,
  pod,
  serviceAccount,
} from '../support/cluster.js';
import { loadEvent, RESPONDER } from '../support/events.js';
import { EXECUTION, useIncidentTable } from '../support/incidents.js';
import { FAST_RETRY, reachAs } from '../support/responder.js';

const CLUSTER = 'prod-eks';
let server: KubeApiServer;
let mocks: ReturnType<typeof mockAccount> | undefined;

beforeEach(async () => {
  server = new KubeApiServer(isEksToken);
  await server.start();
});

afterEach(async () => {
  mocks?.restore();
  mocks = undefined;
  await server.stop();
});

const incidents = useIncidentTable();

async function identifyEvent(
  event: unknown,
  account: FakeAccount,
  clusters = [CLUSTER],
): Promise<IdentifyOutput> {
  mocks = mockAccount({
    clusters: { [CLUSTER]: server.url },
    instanceProfiles: { 'eks-node-profile': 'eks-node-role' },
    ...account,
  });
  const settings = ResponderSettingsSchema.parse({ clusters });
  const store = incidents.store();
  await claimHandler(settings, store)({ event, executionArn: EXECUTION });
  // The state Identify gets: the event and the claim; GuardDuty holds the finding as the event says.
  const held = async () => (event as { detail?: unknown }).detail ?? null;
  return identifyHandler(
    settings,
    RESPONDER,
    reachAs('identify', settings),
    store,
    null,
    held,
  )({ ...(event as object), claim: { executionArn: EXECUTION } });
}

/** The cluster as identification reports it once its API answered. */
const reached = () => ({ name: CLUSTER, managed: true, reachable: true, endpoint: server.url, error: null });

/** Pod lists must be narrowed server-side: a namespace and a selector, or a field selector on one node. */
function podListRequests() {
  return server.requests.filter((r) => r.method === 'GET' && /\/pods$/.test(r.path));
}

describe('whether the cluster enforces NetworkPolicy', () => {
  const agent = (args: string[]) => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'aws-node', namespace: 'kube-system' },
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'aws-node', image: 'amazon-k8s-cni' },
            { name: 'aws-eks-nodeagent', image: 'aws-network-policy-agent', args },
          ],
        },
      },
    },
  });
  const daemonSet = (namespace: string, name: string, numberReady?: number) => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace },
    ...(numberReady === undefined ? {} : { status: { numberReady, desiredNumberScheduled: 3 } }),
  });
  /** As Identify reaches the cluster: its own role's token. */
  const told = async () => {
    const token = await eksToken({
      clusterName: CLUSTER,
      region: 'us-east-1',
      credentials: { accessKeyId: functionAccessKey('identify'), secretAccessKey: 'simulation' },
    });
    const config = new KubeConfig();
    config.loadFromFile(kubeconfigFor(server.url, TEST_CA_PEM, token));
    return checkEnforcement(new Kubernetes(apisFromKubeConfig(config), FAST_RETRY), CLUSTER);
  };

  it('is enforced by the VPC CNI policy agent started with --enable-network-policy=true', async () => {
    server.add('daemonsets', agent(['--enable-ipv6=false', '--enable-network-policy=true']));
    expect(await told()).toEqual({ enforced: true, detail: 'enforced by the VPC CNI network policy agent' });
  });

  it('is not enforced by the VPC CNI as the add-on installs it by default (the agent off), and says what to turn on', async () => {
    server.add('daemonsets', agent(['--enable-network-policy=false']));
    expect(await told()).toEqual({
      enforced: false,
      detail: `cluster ${CLUSTER} does not enforce NetworkPolicy (the VPC CNI's network policy agent is off): ${TURN_ON}`,
    });
  });

  it('is enforced by Calico or Cilium running, not by one whose pods are not ready', async () => {
    server.add('daemonsets', agent([]));
    server.add('daemonsets', daemonSet('kube-system', 'cilium', 0));
    expect((await told()).enforced).toBe(false);
    server.add('daemonsets', daemonSet('calico-system', 'calico-node', 3));
    expect(await told()).toEqual({
      enforced: true,
      detail: 'enforced by Calico (DaemonSet calico-system/calico-node)',
    });
  });

  it("is not fooled by an engine's name in a namespace the engine does not use", async () => {
    server.add('daemonsets', daemonSet('default', 'calico-node', 3));
    server.add('daemonsets', daemonSet('attacker', 'cilium', 3));
    expect((await told()).enforced).toBe(false);
  });

  it('cannot be told when the DaemonSets cannot be listed, and says why', async () => {
    server.inject({ path: /daemonsets/, status: 403, times: 10 });
    const result = await told();
    expect(result.enforced).toBeNull();
    expect(result.detail).toMatch(/could not be told \(the DaemonSets could not be listed: .*403/);
  });
});

describe('identify', () => {
  it('resolves a Deployment finding through its ReplicaSets to pods, nodes, instances, groups, roles and volumes', async () => {
    server.add('nodes', node('ip-10-0-1-10.ec2.internal', 'i-0aaa00000000000a1'));
    server.add('nodes', node('ip-10-0-1-11.ec2.internal', 'i-0aaa00000000000a2'));
    const { pods } = addDeployment(server, {
      namespace: 'shop',
      name: 'web-frontend',
      nodes: ['ip-10-0-1-10.ec2.internal', 'ip-10-0-1-11.ec2.internal'],
      serviceAccount: 'web',
    });
    // Same labels, other owner: a selector alone would wrongly take it.
    server.add(
      'pods',
      pod({
        name: 'imposter',
        namespace: 'shop',
        labels: { app: 'web-frontend' },
        nodeName: 'ip-10-0-1-10.ec2.internal',
      }),
    );
    server.add(
      'pods',
      pod({ name: 'web-frontend-elsewhere', namespace: 'other', labels: { app: 'web-frontend' } }),
    );
    server.add('serviceaccounts', serviceAccount('shop', 'web', roleArn('web-irsa-role')));
    server.add('serviceaccounts', serviceAccount('reporting', 'exporter', roleArn('web-irsa-role')));
    server.add('serviceaccounts', serviceAccount('reporting', 'default'));

    const { identification } = await identifyEvent(loadEvent('eks-audit-privileged-container.json'), {
      instances: [
        nodeInstance('i-0aaa00000000000a1', 'ip-10-0-1-10.ec2.internal', 'vol-0a1'),
        nodeInstance('i-0aaa00000000000a2', 'ip-10-0-1-11.ec2.internal', 'vol-0a2'),
        nodeInstance('i-0aaa00000000000a3', 'ip-10-0-1-12.ec2.internal', 'vol-0a3'),
      ],
      podIdentity: [
        { cluster: CLUSTER, namespace: 'shop', serviceAccount: 'web', roleName: 'web-pod-identity-role' },
      ],
      // The IRSA role trusts the cluster's OIDC provider for shop/web, as EKS documents it.
      roles: {
        'web-irsa-role': { trust: irsaTrust(ACCOUNT, oidcIssuerOf(CLUSTER, 'us-east-1'), ['shop/web']) },
      },
    });

    // Pods to isolate were found: whether the cluster enforces NetworkPolicy was asked (no engine here).
    expect(identification.cluster).toEqual({
      ...reached(),
      networkPolicy: {
        enforced: false,
        detail: `cluster ${CLUSTER} does not enforce NetworkPolicy (no NetworkPolicy engine runs): ${TURN_ON}`,
      },
    });
    expect(identification.matchedBy).toBe('workload');
    expect(identification.workload).toMatchObject({
      kind: 'Deployment',
      name: 'web-frontend',
      namespace: 'shop',
    });
    expect(identification.pods.map((p) => p.name).sort()).toEqual(pods.map((p) => p.metadata.name).sort());
    expect(identification.nodes.map((n) => [n.name, n.instanceId])).toEqual([
      ['ip-10-0-1-10.ec2.internal', 'i-0aaa00000000000a1'],
      ['ip-10-0-1-11.ec2.internal', 'i-0aaa00000000000a2'],
    ]);
    expect(identification.instances).toEqual([
      {
        instanceId: 'i-0aaa00000000000a1',
        state: 'running',
        nodeName: 'ip-10-0-1-10.ec2.internal',
        cluster: CLUSTER,
        autoScalingGroup: 'eks-general',
        karpenter: false,
        instanceProfileArn: `arn:aws:iam::${ACCOUNT}:instance-profile/eks-node-profile`,
        role: { name: 'eks-node-role', arn: roleArn('eks-node-role') },
        volumes: [{ volumeId: 'vol-0a1', deviceName: '/dev/xvda', deleteOnTermination: true }],
        // The metadata door as EC2 describes it: open to the pods (IMDSv1, two hops).
        metadata: { endpoint: 'enabled', imdsv1: true, hopLimit: 2 },
      },
      expect.objectContaining({
        instanceId: 'i-0aaa00000000000a2',
        volumes: [{ volumeId: 'vol-0a2', deviceName: '/dev/xvda', deleteOnTermination: true }],
      }),
    ]);
    const podUsers = pods.map((p) => `pod shop/${p.metadata.name}`).sort();
    expect(identification.roles).toEqual([
      {
        name: 'web-irsa-role',
        arn: roleArn('web-irsa-role'),
        sources: ['irsa'],
        usedBy: podUsers,
        usedOutsideIncident: ['service account reporting/exporter'],
        heldBack: null,
      },
      {
        name: 'web-pod-identity-role',
        arn: roleArn('web-pod-identity-role'),
        sources: ['pod-identity'],
        usedBy: podUsers,
        usedOutsideIncident: [],
        heldBack: null,
      },
      {
        name: 'eks-node-role',
        arn: roleArn('eks-node-role'),
        sources: ['instance-profile'],
        usedBy: ['instance i-0aaa00000000000a1', 'instance i-0aaa00000000000a2'],
        usedOutsideIncident: ['instance i-0aaa00000000000a3'],
        heldBack: null,
      },
    ]);
    expect(identification.notFound).toEqual([]);
    expect(identification.errors).toEqual([]);

    expect(server.requests.map((r) => `${r.method} ${r.path} ${r.query.labelSelector ?? ''}`)).toEqual(
      expect.arrayContaining([
        'GET /apis/apps/v1/namespaces/shop/deployments/web-frontend ',
        'GET /apis/apps/v1/namespaces/shop/replicasets app=web-frontend',
        'GET /api/v1/namespaces/shop/pods app=web-frontend',
      ]),
    );
    expect(
      podListRequests().every(
        (r) => r.path.startsWith('/api/v1/namespaces/') && (r.query.labelSelector || r.query.fieldSelector),
      ),
    ).toBe(true);
  });

  it('resolves a bare pod by name, and reports a pod already gone as not found', async () => {
    server.add('nodes', node('ip-10-0-2-20.ec2.internal', 'i-0bbb00000000000b1'));
    server.add(
      'pods',
      pod({ name: 'backup-agent', namespace: 'ops', nodeName: 'ip-10-0-2-20.ec2.internal' }),
    );
    const account = {
      instances: [nodeInstance('i-0bbb00000000000b1', 'ip-10-0-2-20.ec2.internal', 'vol-0b1')],
    };

    const found = await identifyEvent(loadEvent('eks-audit-container-with-sensitive-mount.json'), account);
    expect(found.identification.matchedBy).toBe('pod');
    expect(found.identification.pods).toEqual([
      expect.objectContaining({
        name: 'backup-agent',
        namespace: 'ops',
        nodeName: 'ip-10-0-2-20.ec2.internal',
        owner: null,
      }),
    ]);
    expect(found.identification.instances.map((i) => i.instanceId)).toEqual(['i-0bbb00000000000b1']);
    expect(server.requests[0]).toMatchObject({
      method: 'GET',
      path: '/api/v1/namespaces/ops/pods/backup-agent',
      status: 200,
    });

    mocks?.restore();
    server.remove('pods', 'ops', 'backup-agent');
    const gone = await identifyEvent(loadEvent('eks-audit-container-with-sensitive-mount.json'), account);
    expect(gone.identification.pods).toEqual([]);
    expect(gone.identification.notFound).toEqual([
      { kind: 'pod', name: 'ops/backup-agent', detail: 'no such pod (already deleted, or not a valid name)' },
    ]);
    expect(gone.identification.errors).toEqual([]);
  });

  it('resolves a service-account finding with a field selector in the namespace', async () => {
    const event = loadEvent('eks-audit-discovery-successful-anonymous-access.json');
    event.detail.type = 'CredentialAccess:Kubernetes/MaliciousIPCaller';
    event.detail.resource.kubernetesDetails.kubernetesUserDetails.username =
      'system:serviceaccount:shop:checkout';
    event.detail.service.action.kubernetesApiCallAction.requestUri = '/api/v1/namespaces/shop/secrets';
    server.add('pods', pod({ name: 'checkout-1', namespace: 'shop', serviceAccount: 'checkout' }));
    server.add('pods', pod({ name: 'checkout-2', namespace: 'shop', serviceAccount: 'checkout' }));
    server.add('pods', pod({ name: 'cart-1', namespace: 'shop', serviceAccount: 'cart' }));
    server.add('pods', pod({ name: 'checkout-x', namespace: 'staging', serviceAccount: 'checkout' }));

    const { plan, identification } = await identifyEvent(event, {});

    expect(plan.targets.serviceAccount).toBe('checkout');
    expect(identification.matchedBy).toBe('service-account');
    expect(identification.pods.map((p) => p.name)).toEqual(['checkout-1', 'checkout-2']);
    expect(podListRequests()).toEqual([
      expect.objectContaining({
        path: '/api/v1/namespaces/shop/pods',
        query: expect.objectContaining({ fieldSelector: 'spec.serviceAccountName=checkout' }),
      }),
    ]);
    // Pods without a node (not scheduled) are reported as such, not looked up.
    expect(identification.notFound).toEqual([
      { kind: 'service-account', name: 'shop/checkout', detail: 'no such service account' },
    ]);
  });

  it('resolves an image finding within the finding namespace, matching image references as Kubernetes does', async () => {
    const event = loadEvent('eks-audit-privileged-container.json');
    const workload = event.detail.resource.kubernetesDetails.kubernetesWorkloadDetails;
    delete workload.name;
    delete workload.type;
    workload.containers[0].image = 'nginx:1.27';
    server.add('pods', pod({ name: 'a', namespace: 'shop', image: 'docker.io/library/nginx:1.27' }));
    server.add('pods', pod({ name: 'b', namespace: 'shop', image: 'nginx:1.28' }));
    server.add('pods', pod({ name: 'c', namespace: 'other', image: 'nginx:1.27' }));

    const { identification } = await identifyEvent(event, {});

    expect(identification.matchedBy).toBe('image');
    expect(identification.pods.map((p) => p.name)).toEqual(['a']);
    expect(podListRequests().map((r) => r.path)).toEqual(['/api/v1/namespaces/shop/pods']);
  });

  it('resolves a runtime finding to its workload and the node GuardDuty named, described once', async () => {
    addSampleNode(server);
    addDeployment(server, {
      namespace: 'payments',
      name: 'payments-api',
      nodes: ['ip-10-0-12-34.ec2.internal'],
      serviceAccount: 'payments-api',
    });
    server.add('serviceaccounts', serviceAccount('payments', 'payments-api'));

    const { identification } = await identifyEvent(loadEvent('eks-runtime-new-binary-executed.json'), {
      instances: [nodeInstance('i-0f1e2d3c4b5a69788', 'ip-10-0-12-34.ec2.internal', 'vol-0c1')],
    });

    expect(identification.pods.map((p) => p.name)).toEqual(['payments-api-5d8f7c9b6-p0']);
    expect(identification.nodes.map((n) => n.name)).toEqual(['ip-10-0-12-34.ec2.internal']);
    expect(identification.instances.map((i) => [i.instanceId, i.nodeName, i.autoScalingGroup])).toEqual([
      ['i-0f1e2d3c4b5a69788', 'ip-10-0-12-34.ec2.internal', 'eks-general'],
    ]);
    const byId = mocks?.ec2
      .calls()
      .filter((call) => JSON.stringify(call.args[0].input).includes('"instance-id"'));
    expect(byId).toHaveLength(1);
    expect(identification.roles.map((r) => r.name)).toEqual(['eks-node-role']);
  });

  it('resolves a CronJob through the Jobs it owns', async () => {
    const cronJob = server.add('cronjobs', {
      metadata: { name: 'report-generator', namespace: 'batch' },
      spec: {},
    });
    const owner = (uid: string, name: string, kind: string) => [
      { apiVersion: 'batch/v1', kind, name, uid, controller: true },
    ];
    const job = server.add('jobs', {
      metadata: {
        name: 'report-generator-28391040',
        namespace: 'batch',
        ownerReferences: owner(cronJob.metadata.uid ?? '', 'report-generator', 'CronJob'),
      },
      spec: { selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'job-uid-1' } } },
    });
    server.add('jobs', {
      metadata: { name: 'unrelated', namespace: 'batch' },
      spec: { selector: { matchLabels: { x: 'y' } } },
    });
    server.add('pods', {
      ...pod({
        name: 'report-generator-28391040-abcde',
        namespace: 'batch',
        labels: { 'batch.kubernetes.io/controller-uid': 'job-uid-1' },
      }),
    });
    const jobPod = server.get('pods', 'batch', 'report-generator-28391040-abcde');
    if (!jobPod) throw new Error('pod missing');
    server.add('pods', {
      ...jobPod,
      metadata: {
        ...jobPod.metadata,
        ownerReferences: owner(job.metadata.uid ?? '', job.metadata.name, 'Job'),
      },
    });

    const { identification } = await identifyEvent(loadEvent('eks-runtime-bitcoin-tool-dns.json'), {});

    expect(identification.workload).toMatchObject({ kind: 'CronJob', name: 'report-generator' });
    expect(identification.pods.map((p) => p.name)).toEqual(['report-generator-28391040-abcde']);
    expect(podListRequests()[0]?.query.labelSelector).toBe('batch.kubernetes.io/controller-uid=job-uid-1');
  });

  it('starts an EC2 finding from the instance, finds its node and the pods on it, and reports them without isolating', async () => {
    addSampleNode(server);
    server.add('pods', pod({ name: 'web-1', namespace: 'shop', nodeName: 'ip-10-0-12-34.ec2.internal' }));
    server.add(
      'pods',
      pod({ name: 'coredns-1', namespace: 'kube-system', nodeName: 'ip-10-0-12-34.ec2.internal' }),
    );
    server.add('pods', pod({ name: 'elsewhere', namespace: 'shop', nodeName: 'ip-10-0-99-99.ec2.internal' }));

    const { identification } = await identifyEvent(loadEvent('ec2-bitcoin-tool-dns-on-eks-node.json'), {
      instances: [nodeInstance('i-0f1e2d3c4b5a69788', 'ip-10-0-12-34.ec2.internal', 'vol-0d1')],
    });

    expect(identification.cluster).toEqual(reached());
    expect(identification.pods).toEqual([]);
    expect(identification.podsOnNodes).toEqual([
      { name: 'coredns-1', namespace: 'kube-system', nodeName: 'ip-10-0-12-34.ec2.internal' },
      { name: 'web-1', namespace: 'shop', nodeName: 'ip-10-0-12-34.ec2.internal' },
    ]);
    expect(identification.nodes).toEqual([
      {
        name: 'ip-10-0-12-34.ec2.internal',
        providerId: 'aws:///us-east-1a/i-0f1e2d3c4b5a69788',
        instanceId: 'i-0f1e2d3c4b5a69788',
        unschedulable: false,
        karpenter: false,
      },
    ]);
    expect(identification.instances[0]).toMatchObject({
      nodeName: 'ip-10-0-12-34.ec2.internal',
      autoScalingGroup: 'eks-general',
    });
    expect(podListRequests()).toEqual([
      expect.objectContaining({
        path: '/api/v1/pods',
        query: expect.objectContaining({ fieldSelector: 'spec.nodeName=ip-10-0-12-34.ec2.internal' }),
      }),
    ]);
  });

  it('finds a node by provider id when it is not named after the private DNS name', async () => {
    server.add(
      'nodes',
      node('i-0f1e2d3c4b5a69788.ec2.internal', 'i-0f1e2d3c4b5a69788', { 'karpenter.sh/nodepool': 'default' }),
    );
    server.add('nodes', node('ip-10-0-0-1.ec2.internal', 'i-0ccc00000000000c1'));

    const { identification } = await identifyEvent(loadEvent('ec2-bitcoin-tool-dns-on-eks-node.json'), {
      instances: [
        {
          ...nodeInstance('i-0f1e2d3c4b5a69788', 'ip-10-0-12-34.ec2.internal', 'vol-0d1'),
          autoScalingGroup: undefined,
        },
      ],
    });

    expect(identification.nodes.map((n) => [n.name, n.karpenter])).toEqual([
      ['i-0f1e2d3c4b5a69788.ec2.internal', true],
    ]);
    expect(identification.instances[0]).toMatchObject({ autoScalingGroup: null, karpenter: true });
  });

  it('reports an instance that no longer exists as not found, and still answers', async () => {
    const { identification } = await identifyEvent(loadEvent('ec2-backdoor-cc-activity.json'), {
      instances: [],
    });
    expect(identification.instances).toEqual([]);
    expect(identification.notFound).toEqual([
      {
        kind: 'instance',
        name: 'i-0c1d2e3f4a5b60718',
        detail: 'no such instance (terminated and gone, or never in this account)',
      },
    ]);
    expect(server.requests).toEqual([]);
  });

  it('identifies a standalone instance with its instance-profile role and volumes', async () => {
    const { identification } = await identifyEvent(loadEvent('ec2-ssh-brute-force-outbound.json'), {
      instances: [
        {
          instanceId: 'i-0a9b8c7d6e5f40312',
          instanceProfile: 'bastion-profile',
          volumes: [
            { volumeId: 'vol-root', deviceName: '/dev/xvda' },
            { volumeId: 'vol-data', deviceName: '/dev/sdf', deleteOnTermination: false },
          ],
        },
      ],
      instanceProfiles: { 'bastion-profile': 'bastion-role' },
    });
    expect(identification.cluster).toBeNull();
    expect(identification.instances).toEqual([
      expect.objectContaining({
        instanceId: 'i-0a9b8c7d6e5f40312',
        autoScalingGroup: null,
        nodeName: null,
        role: { name: 'bastion-role', arn: roleArn('bastion-role') },
        volumes: [
          { volumeId: 'vol-root', deviceName: '/dev/xvda', deleteOnTermination: true },
          { volumeId: 'vol-data', deviceName: '/dev/sdf', deleteOnTermination: false },
        ],
      }),
    ]);
    expect(server.requests).toEqual([]);
  });

  it('does not touch a cluster the responder may not act on, and still identifies the AWS side', async () => {
    addSampleNode(server);
    const { plan, identification } = await identifyEvent(
      loadEvent('eks-runtime-new-binary-executed.json'),
      { instances: [nodeInstance('i-0f1e2d3c4b5a69788', 'ip-10-0-12-34.ec2.internal', 'vol-0c1')] },
      ['another-cluster'],
    );
    expect(identification.cluster).toEqual({
      name: CLUSTER,
      managed: false,
      reachable: false,
      endpoint: null,
      error: null,
    });
    expect(server.requests).toEqual([]);
    expect(mocks?.eks.calls()).toEqual([]);
    expect(identification.instances.map((i) => i.instanceId)).toEqual(['i-0f1e2d3c4b5a69788']);
    expect(plan.actions.find((a) => a.action === 'isolate-pods')).toEqual({
      action: 'isolate-pods',
      decision: 'held-back',
      reason: 'cluster prod-eks is not one the responder may act on',
    });
  });

  it('retries a throttled Kubernetes read, and records a lasting outage as an error while the AWS side goes on', async () => {
    addSampleNode(server);
    addDeployment(server, {
      namespace: 'payments',
      name: 'payments-api',
      nodes: ['ip-10-0-12-34.ec2.internal'],
    });
    server.inject({ method: 'GET', path: /deployments\/payments-api$/, status: 429, times: 1 });
    const account = {
      instances: [nodeInstance('i-0f1e2d3c4b5a69788', 'ip-10-0-12-34.ec2.internal', 'vol-0c1')],
    };

    const retried = await identifyEvent(loadEvent('eks-runtime-new-binary-executed.json'), account);
    expect(retried.identification.pods).toHaveLength(1);
    expect(
      server.requests.filter((r) => r.path.endsWith('/deployments/payments-api')).map((r) => r.status),
    ).toEqual([429, 200]);

    mocks?.restore();
    server.inject({ status: 503, times: 100 });
    const down = await identifyEvent(loadEvent('eks-runtime-new-binary-executed.json'), account);
    const unusable = `API server ${server.url} not usable (it kept failing) after`;
    expect(down.identification.cluster).toEqual({
      name: CLUSTER,
      managed: true,
      reachable: false,
      endpoint: server.url,
      error: expect.stringContaining(unusable),
    });
    expect(down.identification.cluster?.error).toContain('Kubernetes API: HTTP 503: injected 503');
    // One lookup failed, once: the others are not tried against a server known to be down.
    expect(down.identification.errors).toEqual([
      { step: 'pods', message: expect.stringContaining(unusable), affects: EVERY_ACTION, consequence: null },
    ]);
    expect(down.identification.instances.map((i) => [i.instanceId, i.autoScalingGroup])).toEqual([
      ['i-0f1e2d3c4b5a69788', 'eks-general'],
    ]);
  });

  it('still finds the node GuardDuty named when the workload cannot be read', async () => {
    addSampleNode(server);
    server.inject({ path: /deployments/, status: 403, times: 10 });

    const { identification } = await identifyEvent(loadEvent('eks-runtime-new-binary-executed.json'), {
      instances: [nodeInstance('i-0f1e2d3c4b5a69788', 'ip-10-0-12-34.ec2.internal', 'vol-0c1')],
    });

    expect(identification.errors).toEqual([
      {
        step: 'pods',
        message: expect.stringContaining('Kubernetes API: HTTP 403'),
        affects: EVERY_ACTION,
        consequence: null,
      },
    ]);
    expect(identification.nodes.map((n) => n.name)).toEqual(['ip-10-0-12-34.ec2.internal']);
    expect(identification.cluster).toEqual(reached());
    expect(identification.instances.map((i) => i.instanceId)).toEqual(['i-0f1e2d3c4b5a69788']);
  });

  it('reaches EKS with a presigned STS token and the endpoint from DescribeCluster, no kubeconfig', async () => {
    server.add('pods', pod({ name: 'backup-agent', namespace: 'ops' }));
    await identifyEvent(loadEvent('eks-audit-container-with-sensitive-mount.json'), {});
    expect(
      mocks?.eks.commandCalls(
        /* DescribeCluster */ (await import('@aws-sdk/client-eks')).DescribeClusterCommand,
      ),
    ).toHaveLength(1);
    expect(server.requests.every((r) => r.status !== 401)).toBe(true);
  });
});
