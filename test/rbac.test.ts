/** k8s/rbac.yaml is generated from the functions' declared needs and grants nothing else. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RBAC_MANIFEST_PATH, rbacManifest } from '../bin/rbac.js';

type Rule = { group: string; apiGroups: string; resources: string; verbs: string };

/** The manifest's ClusterRole rules, one line per rule. */
function rules(manifest: string): Rule[] {
  return manifest
    .split('---\n')
    .filter((doc) => doc.includes('kind: ClusterRole\n'))
    .flatMap((doc) => {
      const group = /name: (\S+)/.exec(doc)?.[1] ?? '';
      return [...doc.matchAll(/apiGroups: \[(.*)\]\n\s+resources: \[(.*)\]\n\s+verbs: \[(.*)\]/g)].map(
        (m) => ({
          group,
          apiGroups: m[1] ?? '',
          resources: m[2] ?? '',
          verbs: m[3] ?? '',
        }),
      );
    });
}

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
      {
        group: 'guardduty-responder-isolate',
        apiGroups: '"networking.k8s.io"',
        resources: '"networkpolicies"',
        verbs: '"get", "list", "create", "update"',
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
        apiGroups: '""',
        resources: '"nodes"',
        verbs: '"get", "patch"',
      },
      {
        group: 'guardduty-responder-release',
        apiGroups: '"networking.k8s.io"',
        resources: '"networkpolicies"',
        verbs: '"get", "create", "update", "delete"',
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
        verbs: '"get", "create", "update", "delete"',
      },
    ]);
    expect(shipped).not.toMatch(/secrets|"\*"|escalate|bind|impersonate/);
    // Release deletes only the quarantine NetworkPolicy; recover also deletes pods.
    expect(rules(shipped).filter((rule) => rule.verbs.includes('delete'))).toEqual([
      expect.objectContaining({ group: 'guardduty-responder-release', resources: '"networkpolicies"' }),
      expect.objectContaining({ group: 'guardduty-responder-recover', resources: '"pods"' }),
      expect.objectContaining({ group: 'guardduty-responder-recover', resources: '"networkpolicies"' }),
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
