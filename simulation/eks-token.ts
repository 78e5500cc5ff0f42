import { readFileSync } from 'node:fs';
import { EKS_TOKEN_PREFIX } from '../lambdas/clients/eks-token.js';
import { needsOf } from '../lambdas/permissions.js';
import { RBAC_MANIFEST_PATH } from '../lib/rbac-manifest.js';
import { functionOfKey } from './aws/function-keys.js';
import { type RequestAttributes, rbacAuthorizer } from './kube-rbac.js';

/** What EKS checks of a bearer token, short of calling STS: a presigned GetCallerIdentity naming a cluster. */
export function isEksToken(token: string): boolean {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) return false;
  const url = new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  return (
    url.protocol === 'https:' &&
    /^sts\.[a-z0-9-]+\.amazonaws\.com$/.test(url.hostname) &&
    url.searchParams.get('Action') === 'GetCallerIdentity' &&
    url.searchParams.get('X-Amz-Expires') === '60' &&
    (url.searchParams.get('X-Amz-SignedHeaders') ?? '').split(';').includes('x-k8s-aws-id') &&
    /^[0-9a-f]{64}$/.test(url.searchParams.get('X-Amz-Signature') ?? '')
  );
}

export { functionAccessKey } from './aws/function-keys.js';

/** The access key that signed an EKS token (its credential scope), or null. */
function accessKeyOf(token: string): string | null {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) return null;
  const url = new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  return (url.searchParams.get('X-Amz-Credential') ?? '').split('/')[0] ?? null;
}

/**
 * What EKS does once a token is authenticated, then RBAC: the caller's role is mapped to the Kubernetes
 * group of its access entry (one per function, in the responder's account and, for a function's
 * MemberAccess role, in a member account, as the stacks create them) and the request is checked against
 * the ClusterRoles of `manifest` (k8s/rbac.yaml) bound to that group. An identity with no entry has no
 * group, and is allowed nothing.
 */
/** The Kubernetes groups EKS maps a token's identity to: its function's access entry's group, if any. */
export function groupsOfToken(token: string): string[] {
  const name = functionOfKey(accessKeyOf(token) ?? '');
  const group = name ? needsOf(name).kubernetesGroup : undefined;
  return group ? [group] : [];
}

export function accessEntryAuthorizer(
  manifest: string,
): (token: string, request: RequestAttributes) => boolean {
  const allows = rbacAuthorizer(manifest);
  return (token, request) => {
    const groups = groupsOfToken(token);
    return groups.length > 0 && allows(groups, request);
  };
}

/** The access entries and the RBAC this repository ships (k8s/rbac.yaml), as a cluster would apply them. */
export const shippedAccessEntries = () => accessEntryAuthorizer(readFileSync(RBAC_MANIFEST_PATH, 'utf8'));
