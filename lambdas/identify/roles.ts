/**
 * The pods' own IAM roles (the IRSA annotation of their service accounts, EKS Pod Identity associations)
 * and whether those roles are used outside the incident. When that cannot be told, a role counts as
 * shared: revoke-iam then leaves it alone unless `revokeSharedRoles` is set.
 *
 * An IRSA annotation is a claim, not a proof: anyone who may edit a ServiceAccount can write any ARN in
 * it. Its role is the pod's only when the ARN names the finding's account and the role's trust policy
 * lets this cluster's OIDC provider give it to this ServiceAccount (lambdas/core/trust.ts); otherwise the
 * role is reported and never revoked. Pod Identity associations are read from EKS, which decides them.
 */
import { type AwsReader, nameFromArn, type PodIdentityAssociation, type RoleRef } from '../clients/aws.js';
import type { Kubernetes } from '../clients/kubernetes.js';
import { trustsServiceAccount } from '../core/trust.js';
import { type Findings, NOT_REVOKED } from './identification.js';

/** The cluster the pods run in, and the account of the finding (the only one an IRSA role may be in). */
export type PodCluster = { name: string; accountId: string };

const ROLE_ARN = /^arn:(aws[\w-]*):iam::(\d{12}):role\/(?:[^/]+\/)*([\w+=,.@-]+)$/;

/**
 * Why the role an IRSA annotation names is not one the ServiceAccount's pods can assume, or null when
 * its trust policy lets this cluster's OIDC provider give it to `namespace/serviceAccount`.
 */
async function irsaRefusal(
  aws: AwsReader,
  arn: string,
  cluster: PodCluster,
  account: { namespace: string; name: string },
  issuer: () => Promise<string | null>,
): Promise<string | null> {
  const match = ROLE_ARN.exec(arn);
  if (!match) return `${arn} is not a role ARN`;
  const [, partition = 'aws', accountId = '', roleName = ''] = match;
  if (accountId !== cluster.accountId)
    return `${arn} is in account ${accountId}, not the finding's ${cluster.accountId}`;
  const url = await issuer();
  if (!url) return `cluster ${cluster.name} has no OIDC issuer`;
  const host = url.replace(/^https:\/\//, '');
  const trust = await aws.roleTrustPolicy(roleName);
  if (trust === null) return `role ${roleName} does not exist`;
  const subject = `system:serviceaccount:${account.namespace}:${account.name}`;
  const provider = `arn:${partition}:iam::${accountId}:oidc-provider/${host}`;
  return trustsServiceAccount(trust, { provider, issuer: host, subject })
    ? null
    : `the trust policy of role ${roleName} does not give it to ${subject} through ${provider}`;
}

const IRSA_ANNOTATION = 'eks.amazonaws.com/role-arn';
const TREATED_AS_SHARED = 'roles are treated as shared';

export async function resolvePodRoles(
  kube: Kubernetes,
  aws: AwsReader,
  cluster: PodCluster,
  found: Findings,
): Promise<void> {
  const clusterName = cluster.name;
  let issuer: Promise<string | null> | undefined;
  const issuerOnce = () => {
    issuer ??= aws.oidcIssuer(clusterName);
    return issuer;
  };
  const result = found.result;
  const incidentPods = new Set(result.pods.map((pod) => pod.uid));
  const accounts = new Set(
    result.pods.flatMap((pod) => (pod.serviceAccount ? [`${pod.namespace}/${pod.serviceAccount}`] : [])),
  );
  if (accounts.size === 0) return;
  // One list of the cluster's Pod Identity associations serves both the pods' roles and who else uses them.
  let associations: PodIdentityAssociation[] | null = null;
  await found.attempt(
    'pod identity associations',
    ['roles'],
    async () => {
      associations = await aws.podIdentityAssociations(clusterName);
    },
    `${TREATED_AS_SHARED}; a Pod Identity role of the pods may be missed`,
  );
  for (const key of accounts) {
    const [namespace = '', name = ''] = key.split('/');
    const users = result.pods.filter((p) => p.namespace === namespace && p.serviceAccount === name);
    const usedBy = (role: RoleRef, source: 'irsa' | 'pod-identity', heldBack: string | null = null) => {
      for (const pod of users) found.addRole(role, source, `pod ${pod.namespace}/${pod.name}`, heldBack);
    };
    await found.attempt(`service account ${key}`, ['roles'], async () => {
      const account = await kube.readServiceAccount(namespace, name);
      if (!account) return found.missing('service-account', key, 'no such service account');
      const roleArn = account.metadata?.annotations?.[IRSA_ANNOTATION];
      if (!roleArn) return;
      const refusal = await irsaRefusal(aws, roleArn, cluster, { namespace, name }, issuerOnce);
      usedBy(
        { name: nameFromArn(roleArn), arn: roleArn },
        'irsa',
        refusal
          ? `${NOT_REVOKED}the annotation names a role that does not trust this ServiceAccount (${refusal})`
          : null,
      );
    });
    for (const association of (associations as PodIdentityAssociation[] | null) ?? []) {
      if (`${association.namespace}/${association.serviceAccount}` === key)
        usedBy(association.role, 'pod-identity');
    }
  }
  await podRoleSharing(kube, accounts, incidentPods, associations, found);
}

/**
 * Whether the pods' roles are used outside the incident: by other pods of the same service account, or
 * by other service accounts (IRSA annotation anywhere in the cluster, or a Pod Identity association).
 */
async function podRoleSharing(
  kube: Kubernetes,
  incidentAccounts: ReadonlySet<string>,
  incidentPods: ReadonlySet<string>,
  associations: PodIdentityAssociation[] | null,
  found: Findings,
): Promise<void> {
  const podRoles = found.result.roles.filter(
    (role) => role.arn && (role.sources.includes('irsa') || role.sources.includes('pod-identity')),
  );
  if (podRoles.length === 0) return;
  const unknown = () => {
    for (const role of podRoles) found.sharedWith(role.arn ?? '', null);
  };
  const sameAccount = await found.attempt(
    'pods sharing the service accounts',
    [],
    async () => {
      for (const key of incidentAccounts) {
        const [namespace = '', name = ''] = key.split('/');
        const others = (await kube.listPods(namespace, { fieldSelector: `spec.serviceAccountName=${name}` }))
          .filter((pod) => !incidentPods.has(pod.metadata?.uid ?? ''))
          .map((pod) => `pod ${namespace}/${pod.metadata?.name}`);
        for (const role of podRoles) {
          const viaAccount = found.result.pods.some(
            (pod) =>
              `${pod.namespace}/${pod.serviceAccount}` === key &&
              role.usedBy.includes(`pod ${pod.namespace}/${pod.name}`),
          );
          if (viaAccount) found.sharedWith(role.arn ?? '', others);
        }
      }
    },
    TREATED_AS_SHARED,
  );
  const otherAccounts = await found.attempt(
    'service accounts sharing the roles',
    [],
    async () => {
      for (const account of await kube.listServiceAccounts()) {
        const key = `${account.metadata?.namespace}/${account.metadata?.name}`;
        const arn = account.metadata?.annotations?.[IRSA_ANNOTATION];
        if (arn && !incidentAccounts.has(key)) found.sharedWith(arn, [`service account ${key}`]);
      }
    },
    TREATED_AS_SHARED,
  );
  for (const association of associations ?? []) {
    const key = `${association.namespace}/${association.serviceAccount}`;
    if (!incidentAccounts.has(key)) found.sharedWith(association.role.arn, [`service account ${key}`]);
  }
  if (!sameAccount || !otherAccounts || associations === null) unknown();
}
