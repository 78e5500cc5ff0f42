/** isolate-pods against the local Kubernetes API server: the requests sent and what exists afterwards. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  isolatePods,
  REMOVED_LABELS_ANNOTATION,
} from '../../../lambdas/actions/isolate-pods/isolate-pods.js';
import { awsClients } from '../../../lambdas/clients/aws.js';
import { eksKubernetes, type Kubernetes } from '../../../lambdas/clients/kubernetes.js';
import { labelValue, QUARANTINE_LABEL, QUARANTINE_POLICY } from '../../../lambdas/core/quarantine.js';
import type { Journal } from '../../../lambdas/incident/journal.js';
import { isEksToken } from '../../../simulation/eks-token.js';
import { KubeApiServer } from '../../../simulation/kube-api-server.js';
import { mockAccount } from '../../support/aws-account.js';
import { pod } from '../../support/cluster.js';
import { CLUSTER, identification, identifiedPod, planFor } from '../../support/incident.js';
import { claimedJournal, useIncidentTable } from '../../support/incidents.js';

let server: KubeApiServer;
let account: ReturnType<typeof mockAccount>;
let kubernetes: (cluster: string) => Promise<Kubernetes>;
let journal: Journal;
const incidents = useIncidentTable();

beforeEach(async () => {
  server = new KubeApiServer(isEksToken);
  await server.start();
  account = mockAccount({ clusters: { [CLUSTER]: server.url } });
  kubernetes = eksKubernetes(awsClients().eks);
  journal = await claimedJournal(incidents.store(), plan);
});
afterEach(async () => {
  account.restore();
  await server.stop();
});

const plan = planFor('eks-audit-privileged-container.json');
const incident = plan.finding.id;
const DENY_ALL = {
  podSelector: { matchExpressions: [{ key: QUARANTINE_LABEL, operator: 'Exists' }] },
  policyTypes: ['Ingress', 'Egress'],
};

function addPods(...names: string[]) {
  for (const name of names)
    server.add('pods', pod({ name, namespace: 'shop', labels: { app: 'web', tier: 'front' } }));
  return names.map((name) => identifiedPod(name, 'shop', { labels: { app: 'web', tier: 'front' } }));
}
const writes = () => server.requests.filter((r) => r.method !== 'GET');

describe('isolate-pods', () => {
  it('labels each pod and creates one deny-all policy for the namespace', async () => {
    const pods = addPods('web-1', 'web-2');

    const result = await isolatePods(
      { plan, identification: identification({ pods }) },
      kubernetes,
      {
        stripPodLabels: false,
      },
      journal,
    );

    expect(
      writes().map((r) => ({ method: r.method, path: r.path, contentType: r.contentType, body: r.body })),
    ).toEqual([
      {
        method: 'POST',
        path: '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies',
        contentType: 'application/json',
        body: {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: {
            name: QUARANTINE_POLICY,
            namespace: 'shop',
            labels: { 'app.kubernetes.io/managed-by': 'guardduty-responder' },
          },
          spec: DENY_ALL,
        },
      },
      ...['web-1', 'web-2'].map((name) => ({
        method: 'PATCH',
        path: `/api/v1/namespaces/shop/pods/${name}`,
        contentType: 'application/merge-patch+json',
        body: { metadata: { labels: { [QUARANTINE_LABEL]: incident }, resourceVersion: expect.any(String) } },
      })),
    ]);
    const policy = server.get('networkpolicies', 'shop', QUARANTINE_POLICY);
    expect(policy?.spec).toEqual(DENY_ALL);
    expect(server.list('networkpolicies')).toHaveLength(1);
    for (const name of ['web-1', 'web-2']) {
      expect(server.get('pods', 'shop', name)?.metadata.labels).toEqual({
        app: 'web',
        tier: 'front',
        [QUARANTINE_LABEL]: incident,
      });
    }
    expect(result.items.map((i) => [i.target, i.status, i.verified])).toEqual([
      [`networkpolicy shop/${QUARANTINE_POLICY}`, 'ok', null],
      ['pod shop/web-1', 'ok', true],
      ['pod shop/web-2', 'ok', true],
    ]);
    expect(result.items[0]?.restore).toEqual({ namespace: 'shop', policy: null });
    expect(result.items[1]?.restore).toEqual({
      namespace: 'shop',
      pod: 'web-1',
      labels: { app: 'web', tier: 'front' },
    });
    // Written to the incident record before the change, and settled after it.
    const record = await incidents.store().get(incident);
    expect(record?.entries[`isolate-pods|${CLUSTER}|pod shop/web-1`]).toMatchObject({
      status: 'ok',
      before: { namespace: 'shop', pod: 'web-1', labels: { app: 'web', tier: 'front' } },
      after: { labels: { app: 'web', tier: 'front', [QUARANTINE_LABEL]: incident } },
    });
    expect(record?.entries[`isolate-pods|${CLUSTER}|networkpolicy shop/${QUARANTINE_POLICY}`]).toMatchObject({
      status: 'ok',
      before: { namespace: 'shop', policy: null },
    });
  });

  it('makes its label patch conditional on the version read, and reads again when another writer came first', async () => {
    const pods = addPods('web-1');
    server.inject({ method: 'PATCH', path: /\/pods\/web-1$/, status: 409, times: 1 });

    const result = await isolatePods(
      { plan, identification: identification({ pods }) },
      kubernetes,
      { stripPodLabels: false },
      journal,
    );

    expect(
      writes()
        .filter((r) => r.method === 'PATCH')
        .map((r) => r.status),
    ).toEqual([409, 200]);
    expect(result.items[1]).toMatchObject({ status: 'ok', verified: true });
    expect(server.get('pods', 'shop', 'web-1')?.metadata.labels?.[QUARANTINE_LABEL]).toBe(incident);
  });

  it('changes nothing and fails on nothing when run twice', async () => {
    const pods = addPods('web-1');
    const input = { plan, identification: identification({ pods }) };
    await isolatePods(input, kubernetes, { stripPodLabels: false }, journal);
    const before = server.requests.length;

    const again = await isolatePods(input, kubernetes, { stripPodLabels: false }, journal);

    expect(server.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
    expect(again.items.map((i) => [i.status, i.detail])).toEqual([
      ['ok', 'quarantine policy already in place'],
      ['ok', 'already quarantined'],
    ]);
  });

  it('reports policies that already allow the pod traffic, and with stripPodLabels takes the pod out of them', async () => {
    server.add('networkpolicies', {
      metadata: { name: 'allow-web', namespace: 'shop' },
      spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'], ingress: [{}] },
    });
    server.add('networkpolicies', {
      metadata: { name: 'deny-db', namespace: 'shop' },
      spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'] },
    });
    const pods = addPods('web-1');

    const labelled = await isolatePods(
      { plan, identification: identification({ pods }) },
      kubernetes,
      {
        stripPodLabels: false,
      },
      journal,
    );
    expect(labelled.items[1]?.caveats).toEqual([
      'NetworkPolicy allow-web also selects the pod and allows traffic the deny-all does not cut',
    ]);

    const stripped = await isolatePods(
      { plan, identification: identification({ pods }) },
      kubernetes,
      {
        stripPodLabels: true,
      },
      journal,
    );
    const patch = writes().at(-1);
    expect(patch).toMatchObject({
      method: 'PATCH',
      contentType: 'application/merge-patch+json',
      body: {
        metadata: {
          labels: { [QUARANTINE_LABEL]: incident, app: null, tier: null },
          annotations: { [REMOVED_LABELS_ANNOTATION]: '{"app":"web","tier":"front"}' },
        },
      },
    });
    const after = server.get('pods', 'shop', 'web-1');
    expect(after?.metadata.labels).toEqual({ [QUARANTINE_LABEL]: incident });
    expect(after?.metadata.annotations?.[REMOVED_LABELS_ANNOTATION]).toBe('{"app":"web","tier":"front"}');
    expect(stripped.items[1]).toMatchObject({
      status: 'ok',
      verified: true,
      caveats: [],
      detail: `already quarantined; removed its labels app, tier`,
      restore: { labels: { app: 'web', tier: 'front' } },
    });
  });

  it('reports a hostNetwork pod as not isolated', async () => {
    server.add('pods', pod({ name: 'kube-proxy-7xk2p', namespace: 'kube-system', hostNetwork: true }));
    const pods = [identifiedPod('kube-proxy-7xk2p', 'kube-system', { hostNetwork: true })];

    const result = await isolatePods(
      { plan, identification: identification({ pods }) },
      kubernetes,
      {
        stripPodLabels: false,
      },
      journal,
    );

    expect(result.items[1]).toMatchObject({ status: 'skipped', verified: false });
    expect(result.items[1]?.detail).toContain('NOT isolated: a hostNetwork pod');
  });

  it('puts back a quarantine policy someone loosened', async () => {
    server.add('networkpolicies', {
      metadata: { name: QUARANTINE_POLICY, namespace: 'shop' },
      spec: { ...DENY_ALL, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] },
    });
    const pods = addPods('web-1');

    const result = await isolatePods(
      { plan, identification: identification({ pods }) },
      kubernetes,
      {
        stripPodLabels: false,
      },
      journal,
    );

    expect(writes()[0]).toMatchObject({
      method: 'PUT',
      path: `/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/${QUARANTINE_POLICY}`,
    });
    expect(server.get('networkpolicies', 'shop', QUARANTINE_POLICY)?.spec).toEqual(DENY_ALL);
    expect(result.items[0]?.detail).toBe('quarantine policy had been modified; restored to deny-all');
  });

  it('skips a pod that is gone, and changes nothing when the action is not planned', async () => {
    const gone = await isolatePods(
      { plan, identification: identification({ pods: [identifiedPod('web-9', 'shop')] }) },
      kubernetes,
      { stripPodLabels: false },
      journal,
    );
    expect(gone.items[1]).toMatchObject({
      target: 'pod shop/web-9',
      status: 'skipped',
      detail: 'the pod no longer exists',
    });

    server.requests.length = 0;
    const sample = planFor('guardduty-sample-privileged-container.json');
    const held = await isolatePods(
      { plan: sample, identification: identification({ pods: addPods('web-1') }) },
      kubernetes,
      { stripPodLabels: false },
      journal,
    );
    expect(held).toEqual({
      action: 'isolate-pods',
      skipped: 'held-back: GuardDuty sample finding: planned and reported, nothing is changed',
      items: [],
    });
    expect(server.requests).toEqual([]);
  });
});

describe('labelValue', () => {
  it.each([
    ['6ebf5144204836f3761de75eba0ada67', '6ebf5144204836f3761de75eba0ada67'],
    ['finding/with spaces&symbols', 'finding-with-spaces-symbols-'],
    ['-leading', 'leading-'],
    ['x'.repeat(80), `${'x'.repeat(54)}-`],
    ['///', 'id-'],
  ])('turns %j into a valid label value', (input, start) => {
    const value = labelValue(input);
    expect(value.startsWith(start)).toBe(true);
    expect(value).toMatch(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
    expect(labelValue(input)).toBe(value);
  });

  it('keeps different ids apart even when cleaning makes them alike', () => {
    expect(labelValue('a b')).not.toBe(labelValue('a/b'));
  });
});
