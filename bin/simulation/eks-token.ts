import { EKS_TOKEN_PREFIX } from '../../lambdas/clients/eks-token.js';

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
