/**
 * k8s/rbac.yaml is generated from the functions' declared needs and grants nothing else; applied to the
 * local API server, whose authorizer evaluates it as RBAC does, containment and release still work.
 */
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isolatePods } from '../../lambdas/actions/isolate-pods/isolate-pods.js';
import { eksToken } from '../../lambdas/clients/eks-token.js';
import { apisFromKubeConfig, Kubernetes } from '../../lambdas/clients/kubernetes.js';
import { reach } from '../../lambdas/clients/reach.js';
import { QUARANTINE_LABEL, QUARANTINE_POLICY } from '../../lambdas/core/quarantine.js';
import { memoryClosures } from '../../lambdas/incident/closures.js';
import { needsOf } from '../../lambdas/permissions.js';
import { releaseIncident } from '../../lambdas/release/release.js';
import { ResponderSettingsSchema } from '../../lambdas/settings.js';
import { RBAC_MANIFEST_PATH, rbacManifest } from '../../lib/rbac-manifest.js';
import { functionAccessKey, shippedAccessEntries } from '../../simulation/eks-token.js';
import { KubeApiServer, TEST_CA_PEM } from '../../simulation/kube-api-server.js';
import { rbacAuthorizer, requestAttributes } from '../../simulation/kube-rbac.js';
import { kubeconfigFor, pod } from '../support/cluster.js';
import { RESPONDER } from '../support/events.js';
import { identification, identifiedPod, planFor } from '../support/incident.js';
import { claimedJournal, useIncidentTable } from '../support/incidents.js';

type Rule = { group: string; apiGroups: string; resources: string; names?: string; verbs: string };

/** The manifest's ClusterRole rules, one line per rule. */
function rules(manifest: string): Rule[] {
  return manifest
    .split('---\n')
    .filter((doc) => doc.includes('kind: ClusterRole\n'))
    .flatMap((doc) => {
      const group = /name: (\S+)/.exec(doc)?.[1] ?? '';
      return [
        ...doc.matchAll(
          /apiGroups: \[(.*)\]\n\s+resources: \[(.*)\]\n(?:\s+resourceNames: \[(.*)\]\n)?\s+verbs: \[(.*)\]/g,
        ),
      ].map((m) => ({
        group,
        apiGroups: m[1] ?? '',
        resources: m[2] ?? '',
        ...(m[3] ? { names: m[3] } : {}),
        verbs: m[4] ?? '',
      }));
    });
}

const QUARANTINE = JSON.stringify(QUARANTINE_POLICY);

describe('RBAC manifest', () => {
  const shipped = readFileSync(RBAC_MANIFEST_PATH, 'utf8');

  it('is current (regenerate with `npm run rbac`)', () => {
    expect(shipped).toBe(rbacManifest());
  });

  it('grants each function group only what its action needs', () => {
    expect(rules(shipped)).toEqual([
      {
        group: 'guardduty-responder-identify',
        apiGroups: '""',
        resources: '"pods", "nodes", "serviceaccounts", "replicationcontrollers"',
        verbs: '"get", "list"',
      },
      {
        group: 'guardduty-responder-identify',
        apiGroups: '"apps"',
        resources: '"deployments", "replicasets", "statefulsets", "daemonsets"',
        verbs: '"get", "list"',
      },
      {
        group: 'guardduty-responder-identify',
        apiGroups: '"batch"',
        resources: '"jobs", "cronjobs"',
        verbs: '"get", "list"',
      },
      { group: 'guardduty-responder-isolate', apiGroups: '""', resources: '"pods"', verbs: '"get", "patch"' },
      // Kubernetes cannot narrow create and list by name; every other verb is on the quarantine policy alone.
      {
        group: 'guardduty-responder-isolate',
        apiGroups: '"networking.k8s.io"',
        resources: '"networkpolicies"',
        verbs: '"list", "create"',
      },
      {
        group: 'guardduty-responder-isolate',
        apiGroups: '"networking.k8s.io"',
        resources: '"networkpolicies"',
        names: QUARANTINE,
        verbs: '"get", "update"',
      },
      { group: 'guardduty-responder-cordon', apiGroups: '""', resources: '"nodes"', verbs: '"get", "patch"' },
      {
        group: 'guardduty-responder-protect',
        apiGroups: '""',
        resources: '"nodes"',
        verbs: '"get", "patch"',
      },
      // Read-only, pods/log and events added, still no Secrets.
      {
        group: 'guardduty-responder-evidence',
        apiGroups: '""',
        resources: '"pods", "pods/log", "events", "serviceaccounts", "replicationcontrollers"',
        verbs: '"get", "list"',
      },
      {
        group: 'guardduty-responder-evidence',
        apiGroups: '"apps"',
        resources: '"deployments", "replicasets", "statefulsets", "daemonsets"',
        verbs: '"get"',
      },
      {
        group: 'guardduty-responder-evidence',
        apiGroups: '"batch"',
        resources: '"jobs", "cronjobs"',
        verbs: '"get"',
      },
      {
        group: 'guardduty-responder-evidence',
        apiGroups: '"networking.k8s.io"',
        resources: '"networkpolicies"',
        verbs: '"list"',
      },
      {
        group: 'guardduty-responder-release',
        apiGroups: '""',
        resources: '"pods"',
        verbs: '"get", "list", "patch"',
      },
      {
        group: 'guardduty-responder-release',
        apiGroups: '"networking.k8s.io"',
        resources: '"networkpolicies"',
        verbs: '"create"',
      },
      {
        group: 'guardduty-responder-release',
        apiGroups: '"networking.k8s.io"',
        resources: '"networkpolicies"',
        names: QUARANTINE,
        verbs: '"get", "update", "delete"',
      },
      {
        group: 'guardduty-responder-release',
        apiGroups: '""',
        resources: '"nodes"',
        verbs: '"get", "patch"',
      },
      // Recover deletes the incident's pods; it never patches, and reads nodes only for their instance.
      {
        group: 'guardduty-responder-recover',
        apiGroups: '""',
        resources: '"pods"',
        verbs: '"get", "list", "delete"',
      },
      { group: 'guardduty-responder-recover', apiGroups: '""', resources: '"nodes"', verbs: '"get"' },
      {
        group: 'guardduty-responder-recover',
        apiGroups: '"networking.k8s.io"',
        resources: '"networkpolicies"',
        verbs: '"create"',
      },
      {
        group: 'guardduty-responder-recover',
        apiGroups: '"networking.k8s.io"',
        resources: '"networkpolicies"',
        names: QUARANTINE,
        verbs: '"get", "update", "delete"',
      },
    ]);
    expect(shipped).not.toMatch(/secrets|"\*"|escalate|bind|impersonate/);
    // Release deletes only the quarantine NetworkPolicy; recover also deletes pods.
    expect(rules(shipped).filter((rule) => rule.verbs.includes('delete'))).toEqual([
      expect.objectContaining({
        group: 'guardduty-responder-release',
        resources: '"networkpolicies"',
        names: QUARANTINE,
      }),
      expect.objectContaining({ group: 'guardduty-responder-recover', resources: '"pods"' }),
      expect.objectContaining({
        group: 'guardduty-responder-recover',
        resources: '"networkpolicies"',
        names: QUARANTINE,
      }),
    ]);
  });

  it('binds each group to its own ClusterRole', () => {
    for (const group of ['identify', 'isolate', 'cordon', 'protect', 'release', 'recover'].map(
      (name) => `guardduty-responder-${name}`,
    )) {
      expect(shipped).toContain(`kind: ClusterRoleBinding\nmetadata:\n  name: ${group}\n`);
      expect(shipped).toContain(
        `roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: ${group}\nsubjects:\n  - apiGroup: rbac.authorization.k8s.io\n    kind: Group\n    name: ${group}\n`,
      );
    }
  });
});

describe('RBAC applied to the API server', () => {
  const incidents = useIncidentTable();
  const plan = planFor('eks-audit-privileged-container.json');
  const groupOf: Record<string, string> = {
    'isolate-token': needsOf('isolate-pods').kubernetesGroup ?? '',
    'release-token': needsOf('release').kubernetesGroup ?? '',
  };
  let server: KubeApiServer;
  beforeEach(async () => {
    server = new KubeApiServer();
    await server.start();
    const allows = rbacAuthorizer(readFileSync(RBAC_MANIFEST_PATH, 'utf8'));
    server.authorizeWith((token, request) => allows([groupOf[token] ?? ''], request));
    server.add('pods', pod({ name: 'web-1', namespace: 'shop', labels: { app: 'web' } }));
    server.add('networkpolicies', {
      metadata: { name: 'allow-web', namespace: 'shop' },
      spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}], policyTypes: ['Ingress'] },
    });
  });
  afterEach(() => server.stop());

  /** The Kubernetes client of a function, as the user its access entry maps to. */
  const as = (token: string) => {
    const config = new KubeConfig();
    config.loadFromFile(kubeconfigFor(server.url, TEST_CA_PEM, token));
    return new Kubernetes(apisFromKubeConfig(config));
  };
  const otherPolicy = {
    metadata: { name: 'allow-web', namespace: 'shop' },
    spec: { podSelector: {}, ingress: [{}], policyTypes: ['Ingress' as const] },
  };
  const forbidden = expect.objectContaining({ code: 403 });

  it('lets containment and release work, and no group touch a NetworkPolicy of another name', async () => {
    const isolate = as('isolate-token');
    const result = await isolatePods(
      {
        plan,
        identification: identification({
          pods: [identifiedPod('web-1', 'shop', { labels: { app: 'web' } })],
        }),
      },
      async () => isolate,
      { stripPodLabels: false },
      await claimedJournal(incidents.store(), plan),
    );
    expect(result.items.map((item) => item.status)).toEqual(['ok', 'ok']);
    expect(server.get('networkpolicies', 'shop', QUARANTINE_POLICY)).toBeDefined();
    await expect(isolate.replaceNetworkPolicy('shop', 'allow-web', otherPolicy)).rejects.toEqual(forbidden);
    await expect(isolate.readNetworkPolicy('shop', 'allow-web')).rejects.toEqual(forbidden);

    const release = as('release-token');
    const report = await releaseIncident(
      { findingId: plan.finding.id, dryRun: false, requestedBy: 'test' },
      {
        store: incidents.store(),
        closures: memoryClosures(),
        reach: reach({
          home: RESPONDER,
          settings: ResponderSettingsSchema.parse({}),
          sessionName: 'release',
          kubernetes: async () => release,
        }),
      },
    );
    expect(report.steps.map((step) => [step.target, step.status])).toEqual([
      ['pod shop/web-1', 'ok'],
      [`networkpolicy shop/${QUARANTINE_POLICY}`, 'ok'],
    ]);
    expect(server.get('pods', 'shop', 'web-1')?.metadata.labels?.[QUARANTINE_LABEL]).toBeUndefined();
    expect(server.get('networkpolicies', 'shop', QUARANTINE_POLICY)).toBeUndefined();
    await expect(release.replaceNetworkPolicy('shop', 'allow-web', otherPolicy)).rejects.toEqual(forbidden);
    await expect(release.deleteNetworkPolicy('shop', 'allow-web')).rejects.toEqual(forbidden);
    expect(server.get('networkpolicies', 'shop', 'allow-web')?.spec).toEqual({
      podSelector: { matchLabels: { app: 'web' } },
      ingress: [{}],
      policyTypes: ['Ingress'],
    });
    // Every request the two functions made was authorized.
    expect(server.requests.filter((r) => r.status === 403).length).toBe(4);
  });
});

describe('access entries in the simulation', () => {
  const authorize = shippedAccessEntries();
  const tokenOf = (accessKeyId: string) =>
    eksToken({
      clusterName: 'prod-eks',
      region: 'us-east-1',
      credentials: { accessKeyId, secretAccessKey: 'simulation' },
    });
  const deletePod = requestAttributes(
    'DELETE',
    new URL('https://127.0.0.1/api/v1/namespaces/shop/pods/web-1'),
  );

  it("authorize each function as its own access entry's group, and nobody else", async () => {
    expect(authorize(await tokenOf(functionAccessKey('recover')), deletePod)).toBe(true);
    expect(authorize(await tokenOf(functionAccessKey('release')), deletePod)).toBe(false);
    expect(authorize(await tokenOf(functionAccessKey('notify')), deletePod)).toBe(false);
    expect(authorize(await tokenOf('AKIAIOSFODNN7EXAMPLE'), deletePod)).toBe(false);
    const listPolicies = requestAttributes(
      'GET',
      new URL('https://127.0.0.1/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies?limit=500'),
    );
    expect(authorize(await tokenOf(functionAccessKey('isolate-pods')), listPolicies)).toBe(true);
    expect(authorize(await tokenOf(functionAccessKey('cordon-nodes')), listPolicies)).toBe(false);
  });
});
