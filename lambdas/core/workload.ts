/**
 * Kubernetes workload kinds a finding can name. GuardDuty reports `kubernetesWorkloadDetails.type` as the
 * audit-log resource string (`pods`, `deployments`) or as a kind (`Pod`, `Deployment`): match both.
 */
export const WORKLOAD_KINDS = [
  'Pod',
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'ReplicationController',
] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

const BY_LOWERCASE_NAME = new Map<string, WorkloadKind>(
  WORKLOAD_KINDS.map((kind) => [kind.toLowerCase(), kind]),
);

export function workloadKindOf(type: string): WorkloadKind | undefined {
  const name = type.trim().toLowerCase();
  return (
    BY_LOWERCASE_NAME.get(name) ?? (name.endsWith('s') ? BY_LOWERCASE_NAME.get(name.slice(0, -1)) : undefined)
  );
}
