/** Protected workloads and blast-radius limits: what the response leaves alone, and why. */
import { describe, expect, it } from 'vitest';
import {
  capped,
  guardRoles,
  protectionOf,
  scopeInstances,
  scopeNodes,
  scopePods,
  summarise,
} from '../../../../lambdas/identify/guards.js';
import { ResponderSettingsSchema } from '../../../../lambdas/settings.js';
import { identifiedPod, identifiedRole } from '../../../support/incident.js';

const defaults = ResponderSettingsSchema.parse({});

describe('protected workloads', () => {
  it.each([
    [{ namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } }, true],
    [{ namespace: 'kube-system', labels: { 'k8s-app': 'aws-node' } }, true],
    [{ namespace: 'kube-system', labels: { 'app.kubernetes.io/name': 'eks-pod-identity-agent' } }, true],
    [{ namespace: 'amazon-guardduty', labels: {} }, true],
    [{ namespace: 'kube-system', labels: { app: 'debug-shell' } }, false],
    [{ namespace: 'shop', labels: { 'k8s-app': 'kube-dns' } }, false],
  ])('by default, %j is protected: %s', (pod, expected) => {
    expect(protectionOf(pod, defaults.protectedWorkloads) !== null).toBe(expected);
  });

  it('holds back a protected pod and the roles it uses, and isolates the others', () => {
    const pods = scopePods(
      [
        identifiedPod('coredns-1', 'kube-system', { labels: { 'k8s-app': 'kube-dns' } }),
        identifiedPod('shell', 'kube-system', { labels: { app: 'shell' } }),
      ],
      defaults,
    );
    expect(pods.acting.map((p) => p.name)).toEqual(['shell']);
    expect(pods.heldBack.map((h) => [h.target.name, h.reason])).toEqual([
      [
        'coredns-1',
        'protected workload (kube-system k8s-app in (kube-dns,aws-node,kube-proxy,ebs-csi-node,ebs-csi-controller)): identified and reported, never isolated',
      ],
    ]);
    const roles = guardRoles(
      [
        identifiedRole('coredns-role', { usedBy: ['pod kube-system/coredns-1'] }),
        identifiedRole('shell-role', { usedBy: ['pod kube-system/shell'] }),
      ],
      ['pod kube-system/coredns-1'],
    );
    expect(roles.map((r) => [r.name, r.heldBack])).toEqual([
      ['coredns-role', 'used by a protected workload (pod kube-system/coredns-1)'],
      ['shell-role', null],
    ]);
  });
});

describe('blast-radius limits', () => {
  it('isolates at most maxPodsIsolated pods', () => {
    const pods = scopePods(
      [identifiedPod('p1', 'ns'), identifiedPod('p2', 'ns'), identifiedPod('p3', 'ns')],
      { protectedWorkloads: [], limits: { maxPodsIsolated: 2, maxNodesCordoned: 2, maxInstances: 20 } },
    );
    expect(pods.acting.map((p) => p.name)).toEqual(['p1', 'p2']);
    expect(pods.heldBack.map((h) => [h.target.name, h.reason])).toEqual([
      ['p3', 'over the limit of 2 pods isolated per execution'],
    ]);
  });

  it('cordons the named node first, then the nodes running the most isolated pods, then the most pods', () => {
    const all = [
      identifiedPod('p1', 'ns', { nodeName: 'n-d' }),
      identifiedPod('p2', 'ns', { nodeName: 'n-d' }),
      identifiedPod('p3', 'ns', { nodeName: 'n-c' }),
      identifiedPod('p4', 'ns', { nodeName: 'n-b' }),
      identifiedPod('p5', 'ns', { nodeName: 'n-b' }),
      identifiedPod('p6', 'ns', { nodeName: 'n-b' }),
    ];
    const acting = all.slice(0, 3);
    const scope = scopeNodes(['n-a'], { acting, all }, { maxNodesCordoned: 2 });
    expect(scope.cordon).toEqual(['n-a', 'n-d']);
    // The instances behind the isolated pods are in scope even where their node is not cordoned.
    expect(scope.hosts).toEqual(['n-a', 'n-d', 'n-c']);
    expect(scope.heldBack).toEqual([
      { target: 'n-c', reason: 'over the limit of 2 nodes cordoned per execution' },
      { target: 'n-b', reason: 'over the limit of 2 nodes cordoned per execution' },
    ]);
  });

  it('protects at most maxInstances instances, those the finding names first, each once', () => {
    const scope = scopeInstances(['i-named', 'i-a', 'i-named', 'i-b', 'i-c'], { maxInstances: 3 });
    expect(scope.acting).toEqual(['i-named', 'i-a', 'i-b']);
    expect(scope.heldBack).toEqual([
      { target: 'i-c', reason: 'over the limit of 3 instances protected and snapshotted per execution' },
    ]);
  });

  it('summarises what is held back by reason, with an exact count and at most 50 names', () => {
    const entries = Array.from({ length: 120 }, (_, i) => ({ target: `n-${i}`, reason: 'over the limit' }));
    const [group, ...rest] = summarise('node', [...entries, { target: 'x', reason: 'other' }]);
    expect(rest).toEqual([{ kind: 'node', reason: 'other', count: 1, names: ['x'] }]);
    expect(group?.count).toBe(120);
    expect(group?.names).toHaveLength(50);
    expect(capped(['a', 'b', 'c'], 2)).toEqual(['a', 'b', '… and 1 more']);
  });
});
