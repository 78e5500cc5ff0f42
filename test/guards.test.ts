/** Protected workloads and blast-radius limits: what the response leaves alone, and why. */
import { describe, expect, it } from 'vitest';
import { ResponderSettingsSchema } from '../lambdas/core/settings.js';
import { applyGuards, protectionOf } from '../lambdas/identify/guards.js';
import { identification, identifiedNode, identifiedPod, identifiedRole } from './support/incident.js';

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
    const guarded = applyGuards(
      identification({
        pods: [
          identifiedPod('coredns-1', 'kube-system', { labels: { 'k8s-app': 'kube-dns' } }),
          identifiedPod('shell', 'kube-system', { labels: { app: 'shell' } }),
        ],
        roles: [
          identifiedRole('coredns-role', { usedBy: ['pod kube-system/coredns-1'] }),
          identifiedRole('shell-role', { usedBy: ['pod kube-system/shell'] }),
        ],
      }),
      defaults,
    );
    expect(guarded.pods.map((p) => [p.name, p.heldBack])).toEqual([
      [
        'coredns-1',
        'protected workload (kube-system k8s-app in (kube-dns,aws-node,kube-proxy,ebs-csi-node,ebs-csi-controller)): identified and reported, never isolated',
      ],
      ['shell', null],
    ]);
    expect(guarded.roles.map((r) => [r.name, r.heldBack])).toEqual([
      ['coredns-role', 'used by a protected workload (pod kube-system/coredns-1)'],
      ['shell-role', null],
    ]);
  });
});

describe('blast-radius limits', () => {
  it('isolates at most maxPodsIsolated pods and cordons at most maxNodesCordoned nodes, busiest first', () => {
    const nodes = ['n-a', 'n-b', 'n-c', 'n-d'].map((name, i) =>
      identifiedNode(name, `i-0000000000000000${i}`),
    );
    const pods = [
      identifiedPod('p1', 'ns', { nodeName: 'n-d' }),
      identifiedPod('p2', 'ns', { nodeName: 'n-d' }),
      identifiedPod('p3', 'ns', { nodeName: 'n-c' }),
    ];
    const guarded = applyGuards(identification({ pods, nodes }), {
      protectedWorkloads: [],
      limits: { maxPodsIsolated: 2, maxNodesCordoned: 2 },
    });
    expect(guarded.pods.map((p) => p.heldBack)).toEqual([
      null,
      null,
      'over the limit of 2 pods isolated per execution',
    ]);
    expect(guarded.nodes.map((n) => [n.name, n.heldBack])).toEqual([
      ['n-a', 'over the limit of 2 nodes cordoned per execution'],
      ['n-b', 'over the limit of 2 nodes cordoned per execution'],
      ['n-c', null],
      ['n-d', null],
    ]);
  });
});
