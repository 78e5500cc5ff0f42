/** Writes the RBAC manifest the functions' declared needs call for (lib/rbac-manifest.ts) to k8s/rbac.yaml. */
import { writeFileSync } from 'node:fs';
import { RBAC_MANIFEST_PATH, rbacManifest } from '../lib/rbac-manifest.js';

/** Writes k8s/rbac.yaml (bin/rbac.ts). */
export function writeRbacManifest(): string {
  writeFileSync(RBAC_MANIFEST_PATH, rbacManifest());
  return RBAC_MANIFEST_PATH;
}
