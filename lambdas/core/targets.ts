/**
 * What a finding points at, read from the finding alone (no API calls): the starting points that
 * identification resolves against the cluster and the account.
 */
import type { Finding } from './finding.js';
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

  return {
    cluster: resource.eksClusterDetails?.name ?? clusterFromInstanceTags(instanceTags),
    namespace,
    workload,
    pods,
    serviceAccount,
    images,
    instanceIds: unique([resource.instanceDetails?.instanceId]),
    kubernetesUser: user,
    roleName,
    accessKey,
    notes,
  };
}

/** Whether the finding names anything inside the cluster that pods can be resolved from. */
export function namesKubernetesWorkload(targets: Targets): boolean {
  if (targets.cluster === null) return false;
  return (
    targets.pods.length > 0 ||
    targets.workload !== null ||
    targets.serviceAccount !== null ||
    (targets.images.length > 0 && targets.namespace !== null)
  );
}
