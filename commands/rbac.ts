/** Writes the RBAC manifest the functions' declared needs call for (lib/rbac-manifest.ts) to k8s/rbac.yaml. */
import { writeFileSync } from 'node:fs';
import { RBAC_MANIFEST_PATH, rbacManifest } from '../lib/rbac-manifest.js';
import { exitCodeOf, noArguments, type Out } from './cli.js';

/** Writes k8s/rbac.yaml (bin/rbac.ts). */
export function writeRbacManifest(): string {
  writeFileSync(RBAC_MANIFEST_PATH, rbacManifest());
  return RBAC_MANIFEST_PATH;
}

/** `npm run rbac`: writes the manifest; it takes no arguments (`--help` says what it does). */
export const rbac = (argv: readonly string[], out: Out, err: Out): Promise<number> =>
  exitCodeOf(
    'rbac',
    err,
    async () => {
      noArguments(argv, { name: 'rbac' }, "writes k8s/rbac.yaml from the functions' declared needs");
      out(`wrote ${writeRbacManifest()}`);
      return 0;
    },
    out,
  );
