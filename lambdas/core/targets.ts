/**
 * What a finding points at, read from the finding alone (no API calls): the starting points that
 * identification resolves against the cluster and the account.
 */
import type { Finding } from './finding.js';
import { type NamedWorkload, sequenceTargets } from './sequence.js';
import { type WorkloadKind, workloadKindOf } from './workload.js';

export type AccessKeyTarget = {
  accessKeyId: string | null;
  principalId: string | null;
  userName: string | null;
  userType: string | null;
};

export type Targets = {
  cluster: string | null;
  namespace: string | null;
  /** A controller named by the finding; a finding that names a pod puts it in `pods` instead. */
  workload: { kind: Exclude<WorkloadKind, 'Pod'>; name: string } | null;
  pods: string[];
  /**
   * Further workloads an attack sequence names (its first one is `workload` or `pods`), each with its
   * own namespace; identification resolves them the same way.
   */
  otherWorkloads: NamedWorkload[];
  serviceAccount: string | null;
  images: string[];
  instanceIds: string[];
  /** The Kubernetes user that made the API call (audit-log findings). */
  kubernetesUser: string | null;
  /** The IAM role named by the finding's access key, when the principal is a role. */
  roleName: string | null;
  accessKey: AccessKeyTarget | null;
  /** Things the finding says that could not be turned into a target, with why. */
  notes: string[];
};

const SERVICE_ACCOUNT_USER = /^system:serviceaccount:([^:]+):([^:]+)$/;
const NAMESPACE_IN_URI = /\/namespaces\/([^/?]+)/;
const INSTANCE_CREDENTIALS = /^UnauthorizedAccess:IAMUser\/InstanceCredentialExfiltration\./;
const CLUSTER_TAG_KEYS = ['eks:cluster-name', 'aws:eks:cluster-name', 'eks:eks-cluster-name'];
const CLUSTER_TAG_PREFIX = 'kubernetes.io/cluster/';

/** The EKS cluster an EC2 instance belongs to, from the tags EKS, eksctl and Karpenter put on nodes. */
export function clusterFromInstanceTags(
  tags: readonly { key: string; value?: string | null }[],
): string | null {
  for (const key of CLUSTER_TAG_KEYS) {
    const value = tags.find((tag) => tag.key === key)?.value;
    if (value) return value;
  }
  const owned = tags.find((tag) => tag.key.startsWith(CLUSTER_TAG_PREFIX));
  return owned ? owned.key.slice(CLUSTER_TAG_PREFIX.length) : null;
}

const unique = (values: Iterable<string | null | undefined>): string[] => [
  ...new Set([...values].filter((value): value is string => typeof value === 'string' && value.length > 0)),
];

export function targetsOf(finding: Finding): Targets {
  const { resource, service } = finding;
  const workloadDetails = resource.kubernetesDetails?.kubernetesWorkloadDetails;
  const user = resource.kubernetesDetails?.kubernetesUserDetails?.username ?? null;
  const apiCall = service.action?.kubernetesApiCallAction;
  const serviceAccountUser = user ? SERVICE_ACCOUNT_USER.exec(user) : null;
  const notes: string[] = [];

  const namespace =
    workloadDetails?.namespace ??
    apiCall?.namespace ??
    (apiCall?.requestUri ? NAMESPACE_IN_URI.exec(apiCall.requestUri)?.[1] : undefined) ??
    serviceAccountUser?.[1] ??
    null;

  let workload: Targets['workload'] = null;
  const pods: string[] = [];
  if (workloadDetails?.name && workloadDetails.type) {
    const kind = workloadKindOf(workloadDetails.type);
    if (kind === 'Pod') pods.push(workloadDetails.name);
    else if (kind) workload = { kind, name: workloadDetails.name };
    else
      notes.push(
        `workload type "${workloadDetails.type}" is not a Kubernetes workload kind the responder knows`,
      );
  } else if (workloadDetails?.name) {
    notes.push(`workload "${workloadDetails.name}" has no type; it cannot be resolved`);
  }

  // A service account is a target when the finding names it for the workload, or when the actor is one
  // and the finding names no workload (its token, taken from one of its pods, made the call).
  const serviceAccount =
    workloadDetails?.serviceAccountName ??
    (serviceAccountUser && serviceAccountUser[1] === namespace && !workloadDetails?.name
      ? (serviceAccountUser[2] ?? null)
      : null);

  const images = unique([
    ...(workloadDetails?.containers ?? []).map((container) => container.image),
    resource.containerDetails?.image,
  ]);

  const accessKeyDetails = resource.accessKeyDetails;
  const accessKey: AccessKeyTarget | null = accessKeyDetails
    ? {
        accessKeyId: accessKeyDetails.accessKeyId ?? null,
        principalId: accessKeyDetails.principalId ?? null,
        userName: accessKeyDetails.userName ?? null,
        userType: accessKeyDetails.userType ?? null,
      }
    : null;
  // An instance's credentials are a session of its instance role: the user name is the role's, whatever
  // the user type says (GuardDuty's samples say IAMUser).
  const roleName =
    accessKey?.userName &&
    (accessKey.userType === 'Role' ||
      accessKey.userType === 'AssumedRole' ||
      INSTANCE_CREDENTIALS.test(finding.type))
      ? accessKey.userName
      : null;

  const instanceTags = (resource.instanceDetails?.tags ?? []).map((tag) => ({
    key: tag.key,
    value: tag.value,
  }));

  const targets: Targets = {
    cluster: resource.eksClusterDetails?.name ?? clusterFromInstanceTags(instanceTags),
    namespace,
    workload,
    pods,
    otherWorkloads: [],
    serviceAccount,
    images,
    instanceIds: unique([resource.instanceDetails?.instanceId]),
    kubernetesUser: user,
    roleName,
    accessKey,
    notes,
  };
  const sequence = service.detection?.sequence;
  return sequence ? withSequence(targets, sequenceTargets(sequence, finding)) : targets;
}

/**
 * A finding's targets with what its attack sequence names: the sequence's cluster, instances and role
 * where the finding has none of its own, its first workload as the finding's when the finding names
 * none, the rest as further workloads.
 */
function withSequence(targets: Targets, sequence: ReturnType<typeof sequenceTargets>): Targets {
  const own = targets.workload !== null || targets.pods.length > 0 || targets.namespace !== null;
  const first = own ? null : (sequence.workloads[0] ?? null);
  const rest = own ? sequence.workloads : sequence.workloads.slice(1);
  const cluster = targets.cluster ?? sequence.cluster;
  const clusterNotes =
    targets.cluster && sequence.cluster && sequence.cluster !== targets.cluster
      ? [
          `attack sequence: names cluster ${sequence.cluster}, the finding ${targets.cluster}: only ${targets.cluster} is acted on`,
        ]
      : [];
  return {
    ...targets,
    cluster,
    namespace: first ? first.namespace : targets.namespace,
    workload: first && first.kind !== 'Pod' ? { kind: first.kind, name: first.name } : targets.workload,
    pods: first?.kind === 'Pod' ? [first.name] : targets.pods,
    otherWorkloads: rest,
    instanceIds: unique([...targets.instanceIds, ...sequence.instanceIds]),
    roleName: targets.roleName ?? sequence.roleName,
    notes: [...targets.notes, ...clusterNotes, ...sequence.notes],
  };
}

/** Whether the finding names anything inside the cluster that pods can be resolved from. */
export function namesKubernetesWorkload(targets: Targets): boolean {
  if (targets.cluster === null) return false;
  return (
    targets.pods.length > 0 ||
    targets.workload !== null ||
    targets.otherWorkloads.length > 0 ||
    targets.serviceAccount !== null ||
    (targets.images.length > 0 && targets.namespace !== null)
  );
}
