/**
 * k8s/rbac.yaml is generated from the functions' declared needs and grants nothing else; applied to the
 * local API server, whose authorizer evaluates it as RBAC does, containment and release still work.
 */
import { readFileSync } from 'node:fs';
import { KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
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
import { ADMISSION_MESSAGES, ADMISSION_POLICY_PATH, responderAdmission } from '../../simulation/admission.js';
import { functionAccessKey, shippedAccessEntries } from '../../simulation/eks-token.js';
import { KubeApiServer, TEST_CA_PEM } from '../../simulation/kube-api-server.js';
import { rbacAuthorizer, requestAttributes } from '../../simulation/kube-rbac.js';
import { kubeconfigFor, node, pod } from '../support/cluster.js';
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
      // The drain evicts, as kubectl drain, and names the PodDisruptionBudget that blocks it.
      {
        group: 'guardduty-responder-recover',
        apiGroups: '""',
        resources: '"pods/eviction"',
        verbs: '"create"',
      },
      {
        group: 'guardduty-responder-recover',
        apiGroups: '"policy"',
        resources: '"poddisruptionbudgets"',
        verbs: '"list"',
      },
      {
        group: 'guardduty-responder-recover',
        apiGroups: '"karpenter.sh"',
        resources: '"nodeclaims"',
        verbs: '"list", "delete"',
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
      // The recovery watch reads the pods a recovery deleted, nothing else.
      {
        group: 'guardduty-responder-recovery-watch',
        apiGroups: '""',
        resources: '"pods"',
        verbs: '"get"',
      },
    ]);
    expect(shipped).not.toMatch(/secrets|"\*"|escalate|bind|impersonate/);
    // Release deletes only the quarantine NetworkPolicy; recover also deletes pods and Karpenter NodeClaims.
    expect(rules(shipped).filter((rule) => rule.verbs.includes('delete'))).toEqual([
      expect.objectContaining({
        group: 'guardduty-responder-release',
        resources: '"networkpolicies"',
        names: QUARANTINE,
      }),
      expect.objectContaining({ group: 'guardduty-responder-recover', resources: '"pods"' }),
      expect.objectContaining({ group: 'guardduty-responder-recover', resources: '"nodeclaims"' }),
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

/** The tokens of these tests, and the group of the function each stands for. */
const GROUP_OF: Record<string, string> = {
  'isolate-token': needsOf('isolate-pods').kubernetesGroup ?? '',
  'cordon-token': needsOf('cordon-nodes').kubernetesGroup ?? '',
  'release-token': needsOf('release').kubernetesGroup ?? '',
};
const groupsOf = (token: string) => [GROUP_OF[token] ?? ''];

/** The local API server under the shipped RBAC (and, with `admission`, the shipped admission policy). */
async function shippedServer(admission: boolean): Promise<KubeApiServer> {
  const server = new KubeApiServer();
  await server.start();
  const allows = rbacAuthorizer(readFileSync(RBAC_MANIFEST_PATH, 'utf8'));
  server.authorizeWith((token, request) => allows(groupsOf(token), request));
  if (admission) server.admitWith(responderAdmission(groupsOf));
  return server;
}

/** A kubeconfig for the server, as the user a token stands for. */
function configAs(server: KubeApiServer, token: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigFor(server.url, TEST_CA_PEM, token));
  return config;
}

describe('RBAC applied to the API server', () => {
  const incidents = useIncidentTable();
  const plan = planFor('eks-audit-privileged-container.json');
  let server: KubeApiServer;
  beforeEach(async () => {
    server = await shippedServer(false);
    server.add('pods', pod({ name: 'web-1', namespace: 'shop', labels: { app: 'web' } }));
    server.add('networkpolicies', {
      metadata: { name: 'allow-web', namespace: 'shop' },
      spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}], policyTypes: ['Ingress'] },
    });
  });
  afterEach(() => server.stop());

  /** The Kubernetes client of a function, as the user its access entry maps to. */
  const as = (token: string) => new Kubernetes(apisFromKubeConfig(configAs(server, token)));
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

describe('the admission policy (k8s/admission-policy.yaml), which RBAC cannot express', () => {
  let server: KubeApiServer;
  beforeEach(async () => {
    server = await shippedServer(true);
    server.add('pods', pod({ name: 'web-1', namespace: 'kube-system', labels: { app: 'web' } }));
    server.add('nodes', node('ip-10-0-1-10.ec2.internal', 'i-0abc'));
  });
  afterEach(() => server.stop());
  const as = (token: string) => new Kubernetes(apisFromKubeConfig(configAs(server, token)));
  /** The raw API as the group's user: what a compromised function could send, beyond what the code does. */
  const raw = (token: string) => apisFromKubeConfig(configAs(server, token)).core;
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const denied = (message: RegExp) =>
    expect.objectContaining({ code: 403, body: expect.stringMatching(message) });

  it('lets a responder group patch a pod only in its labels and annotations: never its image', async () => {
    const isolate = as('isolate-token');
    await isolate.patchPod('kube-system', 'web-1', { labels: { quarantined: 'x' } });

    await expect(
      raw('isolate-token').patchNamespacedPod(
        {
          namespace: 'kube-system',
          name: 'web-1',
          body: { spec: { containers: [{ name: 'main', image: 'evil:latest' }] } },
        },
        mergePatch,
      ),
    ).rejects.toEqual(denied(/may change only the labels and annotations of a pod/));
    const spec = server.get('pods', 'kube-system', 'web-1')?.spec as { containers?: { image?: string }[] };
    expect(spec?.containers?.[0]?.image).not.toBe('evil:latest');
  });

  it('lets a responder group change a node only in spec.unschedulable and its annotations', async () => {
    const cordon = as('cordon-token');
    await cordon.patchNode('ip-10-0-1-10.ec2.internal', { spec: { unschedulable: true } });

    await expect(
      raw('cordon-token').patchNode(
        {
          name: 'ip-10-0-1-10.ec2.internal',
          body: { spec: { taints: [{ key: 'x', effect: 'NoSchedule' }] } },
        },
        mergePatch,
      ),
    ).rejects.toEqual(denied(/may change only spec.unschedulable and the annotations of a node/));
  });

  it('lets a responder group create no NetworkPolicy but its quarantine one (RBAC cannot narrow create)', async () => {
    const release = as('release-token');
    await expect(
      release.createNetworkPolicy('kube-system', {
        metadata: { name: 'allow-all', namespace: 'kube-system' },
        spec: { podSelector: {}, ingress: [{}], policyTypes: ['Ingress'] },
      }),
    ).rejects.toEqual(denied(/may write only its quarantine NetworkPolicy/));
    expect(server.list('networkpolicies')).toEqual([]);
  });

  it('ships the policy and its binding for the responder groups, with the same three rules', () => {
    const shipped = readFileSync(ADMISSION_POLICY_PATH, 'utf8');
    expect(shipped).toContain('kind: ValidatingAdmissionPolicy\n');
    expect(shipped).toContain('kind: ValidatingAdmissionPolicyBinding\n');
    expect(shipped).toContain("g.startsWith('guardduty-responder-')");
    for (const message of ADMISSION_MESSAGES) expect(shipped).toContain(`message: ${message}`);
  });
});
