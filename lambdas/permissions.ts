/**
 * What each Lambda may do, declared next to the code that does it and read by the CDK side (IAM policies,
 * EKS access entries) and by the RBAC manifest generator. Data only: no imports, nothing to bundle.
 *
 * IAM scopes name where an action applies; `lib/` turns each into ARNs of the deploying account:
 * - `any`: the action supports no resource-level permission (the `why` says so), so `*`;
 * - `clusters`: the configured EKS clusters;
 * - `pod-identity-associations`: Pod Identity associations of the configured clusters;
 * - `instance-profiles`: any instance profile of the account.
 */
export type IamScope = 'any' | 'clusters' | 'pod-identity-associations' | 'instance-profiles';

export type IamNeed = { actions: readonly string[]; scope: IamScope; why: string };

export type RbacRule = {
  apiGroups: readonly string[];
  resources: readonly string[];
  verbs: readonly string[];
};

export type FunctionNeeds = {
  /** Kubernetes group the function's EKS access entry maps to; the RBAC manifest binds it. */
  kubernetesGroup?: string;
  iam: readonly IamNeed[];
  rbac: readonly RbacRule[];
};

export const NEEDS = {
  identify: {
    kubernetesGroup: 'guardduty-responder-identify',
    iam: [
      {
        actions: ['eks:DescribeCluster', 'eks:ListPodIdentityAssociations'],
        scope: 'clusters',
        why: 'cluster endpoint and CA for the Kubernetes client; pod roles from Pod Identity',
      },
      {
        actions: ['eks:DescribePodIdentityAssociation'],
        scope: 'pod-identity-associations',
        why: 'the role of each Pod Identity association of a pod service account',
      },
      {
        actions: ['ec2:DescribeInstances'],
        scope: 'any',
        why: 'instances, their tags and volumes; EC2 Describe actions support no resource-level permissions',
      },
      {
        actions: ['autoscaling:DescribeAutoScalingInstances'],
        scope: 'any',
        why: 'Auto Scaling group of each instance; Describe actions support no resource-level permissions',
      },
      {
        actions: ['iam:GetInstanceProfile'],
        scope: 'instance-profiles',
        why: 'the role in an instance profile',
      },
    ],
    rbac: [
      {
        apiGroups: [''],
        resources: ['pods', 'nodes', 'serviceaccounts', 'replicationcontrollers'],
        verbs: ['get', 'list'],
      },
      {
        apiGroups: ['apps'],
        resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'],
        verbs: ['get', 'list'],
      },
      { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ['get', 'list'] },
    ],
  },
  notify: { iam: [], rbac: [] },
} as const satisfies Record<string, FunctionNeeds>;

export type FunctionName = keyof typeof NEEDS;
