/** k8s/rbac.yaml is generated from the functions' declared needs and grants nothing else. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RBAC_MANIFEST_PATH, rbacManifest } from '../bin/rbac.js';

describe('RBAC manifest', () => {
  const shipped = readFileSync(RBAC_MANIFEST_PATH, 'utf8');

  it('is current (regenerate with `npm run rbac`)', () => {
    expect(shipped).toBe(rbacManifest());
  });

  it('binds the identify group to a read-only ClusterRole', () => {
    expect(shipped).toContain('kind: ClusterRoleBinding\nmetadata:\n  name: guardduty-responder-identify');
    expect(shipped).toContain('    kind: Group\n    name: guardduty-responder-identify');
    const verbs = [...shipped.matchAll(/verbs: \[(.*)\]/g)].flatMap((m) => (m[1] ?? '').split(', '));
    expect(new Set(verbs)).toEqual(new Set(['"get"', '"list"']));
    expect(shipped).not.toMatch(/secrets|"\*"/);
  });
});
