/**
 * A real Kubernetes API server for the suite that runs against one (test/integration/real-api-server.test.ts):
 * `../shared/kube-apiserver` started for the test (v1.20.2 with etcd, RBAC on, an audit log), or a
 * cluster of the user's own: `GDR_CLUSTER_DIR` names a directory laid out as that script lays it out
 * (`admin.kubeconfig`, one `<group>.kubeconfig` per group of k8s/rbac.yaml, optionally `run/audit.log`).
 * Neither present: the suite is skipped and says why.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KubeConfig, KubernetesObjectApi, loadAllYaml } from '@kubernetes/client-node';
import { FUNCTION_NAMES, needsOf } from '../../lambdas/permissions.js';
import { RBAC_MANIFEST_PATH } from '../../lib/rbac-manifest.js';

/** Where the shared API server's scripts are: beside the project root. */
export const SHARED_API_SERVER = resolve(import.meta.dirname, '../../../shared/kube-apiserver');

/** Every Kubernetes group the functions are mapped to. */
export const GROUPS = [
  ...new Set(
    FUNCTION_NAMES.flatMap((fn) =>
      needsOf(fn).kubernetesGroup ? [needsOf(fn).kubernetesGroup as string] : [],
    ),
  ),
];

/** What a real cluster offers a test. */
export type RealCluster = {
  dir: string;
  admin: KubeConfig;
  /** One kubeconfig with a context per group, named as the group: the local mode's layout. */
  kubeconfig: string;
  /** The audit log's completed requests (empty for a cluster without one). */
  audit(): AuditEvent[];
  /** Stops the shared server and removes its directory (a user's cluster is left alone). */
  stop(): void;
  /** The shared server stops answering (SIGSTOP) until `resume`: requests hang mid-response. */
  pause(): void;
  resume(): void;
  shared: boolean;
};

export type AuditEvent = {
  verb: string;
  requestURI: string;
  user: { username: string; groups?: string[] };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
  stage: string;
};

/** Why there is no cluster to run against, or null when there is. */
export function unavailable(): string | null {
  if (process.env.GDR_CLUSTER_DIR) return null;
  if (existsSync(join(SHARED_API_SERVER, 'start'))) return null;
  return `no real API server: ${SHARED_API_SERVER} is absent and GDR_CLUSTER_DIR is not set`;
}

/** Starts (or opens) the cluster and applies k8s/rbac.yaml as its administrator. */
export async function realCluster(): Promise<RealCluster> {
  const own = process.env.GDR_CLUSTER_DIR;
  const dir = own ?? mkdtempSync(join(tmpdir(), 'kube-apiserver-'));
  if (!own) execFileSync(join(SHARED_API_SERVER, 'start'), [dir, ...GROUPS], { stdio: 'pipe' });
  const admin = new KubeConfig();
  admin.loadFromFile(join(dir, 'admin.kubeconfig'));
  await applyManifest(admin, readFileSync(RBAC_MANIFEST_PATH, 'utf8'));
  const signal = (name: NodeJS.Signals) => {
    if (own) return;
    process.kill(Number(readFileSync(join(dir, 'run', 'kube-apiserver.pid'), 'utf8').trim()), name);
  };
  const kubeconfig = join(dir, 'responder-groups.kubeconfig');
  writeFileSync(kubeconfig, mergedKubeconfig(dir), { mode: 0o600 });
  return {
    dir,
    admin,
    kubeconfig,
    shared: !own,
    audit: () => {
      const path = join(dir, 'run', 'audit.log');
      if (!existsSync(path)) return [];
      return readFileSync(path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as AuditEvent)
        .filter((event) => event.stage === 'ResponseComplete');
    },
    stop: () => {
      if (own) return;
      execFileSync(join(SHARED_API_SERVER, 'stop'), [dir], { stdio: 'pipe' });
      // Its etcd data and its copy of the server binary (about 170 MB) go with it.
      rmSync(dir, { recursive: true, force: true });
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
  };
}

/** Creates every object of a manifest (an existing one is replaced). */
export async function applyManifest(admin: KubeConfig, yaml: string): Promise<void> {
  const client = KubernetesObjectApi.makeApiClient(admin);
  for (const object of loadAllYaml(yaml) as { metadata: { name: string; namespace?: string } }[]) {
    try {
      await client.create(object);
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
      await client.replace(object);
    }
  }
}

/** The groups' kubeconfigs as one, each context named as its group. */
function mergedKubeconfig(dir: string): string {
  const merged = new KubeConfig();
  const clusters = new Map<string, ReturnType<KubeConfig['getClusters']>[number]>();
  const users: ReturnType<KubeConfig['getUsers']> = [];
  const contexts: ReturnType<KubeConfig['getContexts']> = [];
  for (const group of GROUPS) {
    const one = new KubeConfig();
    one.loadFromFile(join(dir, `${group}.kubeconfig`));
    const cluster = one.getCurrentCluster();
    const user = one.getCurrentUser();
    if (!cluster || !user) throw new Error(`${group}.kubeconfig has no current cluster or user`);
    clusters.set(cluster.name, cluster);
    users.push({ ...user, name: group });
    contexts.push({ name: group, cluster: cluster.name, user: group });
  }
  merged.loadFromOptions({
    clusters: [...clusters.values()],
    users,
    contexts,
    currentContext: GROUPS[0] ?? '',
  });
  return merged.exportConfig();
}
