/**
 * Recover's drain and a cluster's deletion as they behave on a real cluster, against the simulated API
 * server with the shipped RBAC and admission policy, reached as the recover function's own group: a
 * deleted pod terminates within its grace period (and stays while a finalizer holds it), an eviction is
 * refused with 429 while a PodDisruptionBudget forbids it, and a pod's log fails when its node's kubelet
 * is cut off, which is that request's failure, not the cluster's.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eksToken } from '../../lambdas/clients/eks-token.js';
import { apisFromKubeConfig, KubeletError, Kubernetes } from '../../lambdas/clients/kubernetes.js';
import { DEFAULT_PROTECTED_WORKLOADS } from '../../lambdas/core/settings.js';
import type { FunctionName } from '../../lambdas/permissions.js';
import { drainNode } from '../../lambdas/recover/recover.js';
import { applyShippedPolicies } from '../../simulation/admission.js';
import { functionAccessKey, isEksToken } from '../../simulation/eks-token.js';
import { KubeApiServer, TEST_CA_PEM } from '../../simulation/kube-api-server.js';
import { kubeconfigFor, node, pod } from '../support/cluster.js';
import { FAST_RETRY } from '../support/responder.js';

const NODE = 'ip-10-0-9-9.ec2.internal';
let server: KubeApiServer;
let kube: Kubernetes;

beforeEach(async () => {
  server = new KubeApiServer(isEksToken);
  applyShippedPolicies(server);
  await server.start();
  kube = await as('recover');
  server.add('nodes', {
    ...node(NODE, 'i-0aaaaaaaaaaaaaaa1'),
    spec: { providerID: 'aws:///us-east-1a/i-0aaaaaaaaaaaaaaa1', unschedulable: true },
  });
});
afterEach(() => server.stop());

/** The cluster as one function reaches it: its own role's token, so its own group's RBAC. */
async function as(fn: FunctionName): Promise<Kubernetes> {
  const token = await eksToken({
    clusterName: 'prod-eks',
    region: 'us-east-1',
    credentials: { accessKeyId: functionAccessKey(fn), secretAccessKey: 'simulation' },
  });
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigFor(server.url, TEST_CA_PEM, token));
  return new Kubernetes(apisFromKubeConfig(config), FAST_RETRY);
}

const web = (name: string, nodeName = NODE) =>
  pod({
    name,
    namespace: 'shop',
    labels: { app: 'web' },
    nodeName,
    owner: { kind: 'ReplicaSet', name: 'web-7f', uid: 'rs' },
  });
const drain = (deadlineMs = 50) =>
  drainNode(kube, NODE, {
    drain: { protectedWorkloads: DEFAULT_PROTECTED_WORKLOADS, deadlineMs, pauseMs: 10 },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  });
const evictions = () =>
  server.requests
    .filter((r) => r.method === 'POST' && r.path.endsWith('/eviction'))
    .map((r) => `${r.path.split('/')[4]}/${r.path.split('/')[6]} ${r.status}`);

describe('a deleted pod', () => {
  it('terminates within its grace period, and stays while a finalizer holds it', () => {
    server.add('pods', web('web-1'));
    server.add('pods', {
      ...web('web-2'),
      metadata: { ...web('web-2').metadata, finalizers: ['example.com/hold'] },
    });
    return (async () => {
      await kube.deletePod('shop', 'web-1');
      await kube.deletePod('shop', 'web-2');
      const terminating = await kube.readPod('shop', 'web-1');
      expect(terminating?.metadata?.deletionTimestamp).toBeDefined();
      expect(terminating?.metadata?.deletionGracePeriodSeconds).toBe(30);
      server.elapse(31);
      expect(await kube.readPod('shop', 'web-1')).toBeNull();
      expect((await kube.readPod('shop', 'web-2'))?.metadata?.finalizers).toEqual(['example.com/hold']);
    })();
  });
});

describe('the drain', () => {
  it('evicts around a PodDisruptionBudget until its deadline, then names the budget that blocked it', async () => {
    server.add('pods', web('web-1'));
    server.add('pods', web('web-2'));
    server.add('poddisruptionbudgets', {
      metadata: { name: 'web', namespace: 'shop' },
      spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
    });

    const done = await drain();

    expect(done.status).toBe('failed');
    expect(done.detail).toMatch(
      /^not drained after 0 s: evictions refused for shop\/web-1 \(PodDisruptionBudget shop\/web: Cannot evict pod as it would violate the pod's disruption budget\.\); shop\/web-2 \(PodDisruptionBudget shop\/web: /,
    );
    // Tried again until the deadline, every answer a 429; nothing deleted.
    expect(evictions().filter((e) => e.endsWith(' 429')).length).toBeGreaterThan(2);
    expect(evictions().every((e) => e.endsWith(' 429'))).toBe(true);
    expect(server.list('pods', 'shop').every((p) => !p.metadata.deletionTimestamp)).toBe(true);
  });

  it('evicts one pod at a time as the budget allows, and the drain ends once all are terminating', async () => {
    server.add('pods', web('web-1'));
    server.add('pods', web('web-2'));
    server.add('pods', web('web-3', 'ip-10-0-1-1.ec2.internal'));
    server.add('poddisruptionbudgets', {
      metadata: { name: 'web', namespace: 'shop' },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } },
    });
    // The first eviction leaves one pod terminating: the budget allows the next only once it is gone.
    const drained = drain(2_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.elapse(31);
    const done = await drained;

    expect(done).toMatchObject({ status: 'ok', instanceId: 'i-0aaaaaaaaaaaaaaa1' });
    expect(done.detail).toMatch(/^drained: evicted 2 pod\(s\)/);
    expect(evictions()).toContain('shop/web-1 201');
    expect(evictions()).toContain('shop/web-2 429');
    expect(evictions()).toContain('shop/web-2 201');
    expect((await kube.readPod('shop', 'web-3'))?.metadata?.deletionTimestamp).toBeUndefined();
  });

  it('never evicts DaemonSet, mirror or protected pods, and names pods whose local storage goes', async () => {
    server.add(
      'pods',
      pod({
        name: 'aws-node-x',
        namespace: 'kube-system',
        nodeName: NODE,
        owner: { kind: 'DaemonSet', name: 'aws-node', uid: 'ds' },
      }),
    );
    server.add('pods', {
      ...pod({ name: 'static-x', namespace: 'default', nodeName: NODE }),
      metadata: {
        name: 'static-x',
        namespace: 'default',
        annotations: { 'kubernetes.io/config.mirror': 'x' },
      },
    });
    server.add(
      'pods',
      pod({
        name: 'coredns-1',
        namespace: 'kube-system',
        labels: { 'k8s-app': 'kube-dns' },
        nodeName: NODE,
        owner: { kind: 'ReplicaSet', name: 'coredns', uid: 'c' },
      }),
    );
    const cache = web('cache-1');
    server.add('pods', { ...cache, spec: { ...cache.spec, volumes: [{ name: 'tmp', emptyDir: {} }] } });

    const done = await drain();

    expect(done.status).toBe('ok');
    expect(evictions()).toEqual(['shop/cache-1 201']);
    expect(done.detail).toContain('protected workload(s) left on it, never evicted: kube-system/coredns-1');
    expect(done.detail).toContain('evicted with their local storage (emptyDir data lost): shop/cache-1');
  });
});

describe('a pod log its kubelet cannot serve', () => {
  it('fails that request alone: the cluster still answers everything else', async () => {
    server.add('pods', web('web-1'));
    server.add('serviceaccounts', { metadata: { name: 'default', namespace: 'shop' } });
    server.kubeletReachable = () => false;
    const evidence = await as('collect-pod-evidence');

    await expect(
      evidence.readPodLog('shop', 'web-1', 'main', { previous: false, limitBytes: 100 }),
    ).rejects.toThrow(KubeletError);
    expect(evidence.failure).toBeNull();
    // No retries spent on it: one request.
    expect(server.requests.filter((r) => r.path.endsWith('/log'))).toHaveLength(1);
    expect(await evidence.readServiceAccount('shop', 'default')).not.toBeNull();
  });
});
