import { readFileSync } from 'node:fs';
import { EKS_TOKEN_PREFIX } from '../lambdas/clients/eks-token.js';
import { FUNCTION_NAMES, type FunctionName, needsOf } from '../lambdas/permissions.js';
import { RBAC_MANIFEST_PATH } from '../lib/rbac-manifest.js';
import { accountOfAccessKey } from './account.js';
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

/** The access key of a function's role in the simulation: the identity its EKS tokens are signed with. */
export const functionAccessKey = (name: FunctionName): string =>
  `AKIA${name.replace(/-/g, '').toUpperCase()}`;

const FUNCTION_OF_KEY = new Map(FUNCTION_NAMES.map((name) => [functionAccessKey(name), name]));

/** The access key that signed an EKS token (its credential scope), or null. */
function accessKeyOf(token: string): string | null {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) return null;
  const url = new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  return (url.searchParams.get('X-Amz-Credential') ?? '').split('/')[0] ?? null;
}

/** Every responder group: a member cluster's access entry maps the MemberAccess role to all of them. */
const ALL_GROUPS = FUNCTION_NAMES.map(needsOf).flatMap((needs) =>
  needs.kubernetesGroup ? [needs.kubernetesGroup] : [],
);

/**
 * What EKS does once a token is authenticated, then RBAC: the caller's role is mapped to the Kubernetes
 * groups of its access entry (one per function in the responder's account, as the stack creates them;
 * the MemberAccess role of a member account, whose temporary keys name it, to every responder group, as
 * the member stack creates it) and the request is checked against the ClusterRoles of `manifest`
 * (k8s/rbac.yaml) bound to those groups. An identity with no entry has no group, and is allowed nothing.
 */
export function accessEntryAuthorizer(
  manifest: string,
): (token: string, request: RequestAttributes) => boolean {
  const allows = rbacAuthorizer(manifest);
  return (token, request) => {
    const key = accessKeyOf(token) ?? '';
    if (accountOfAccessKey(key)) return allows(ALL_GROUPS, request);
    const name = FUNCTION_OF_KEY.get(key);
    const group = name ? needsOf(name).kubernetesGroup : undefined;
    return group !== undefined && allows([group], request);
  };
}

/** The access entries and the RBAC this repository ships (k8s/rbac.yaml), as a cluster would apply them. */
export const shippedAccessEntries = () => accessEntryAuthorizer(readFileSync(RBAC_MANIFEST_PATH, 'utf8'));
