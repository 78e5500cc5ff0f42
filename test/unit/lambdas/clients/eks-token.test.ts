/** The EKS bearer token: a presigned STS GetCallerIdentity URL naming the cluster, as `aws eks get-token` makes. */
import { describe, expect, it } from 'vitest';
import { EKS_TOKEN_PREFIX, eksToken } from '../../../../lambdas/clients/eks-token.js';

const credentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const decode = (token: string) =>
  new URL(Buffer.from(token.slice(EKS_TOKEN_PREFIX.length), 'base64url').toString());

describe('eksToken', () => {
  it('presigns GetCallerIdentity on the regional STS endpoint for 60 seconds, signing the cluster header', async () => {
    const token = await eksToken({ clusterName: 'prod-eks', region: 'eu-west-1', credentials });
    expect(token.startsWith('k8s-aws-v1.')).toBe(true);
    expect(token).not.toMatch(/[=+/]/);
    const url = decode(token);
    expect(url.origin).toBe('https://sts.eu-west-1.amazonaws.com');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Credential': expect.stringMatching(
        /^AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/sts\/aws4_request$/,
      ),
    });
  });

  it('signs each cluster differently, and carries a session token when the credentials have one', async () => {
    const a = decode(await eksToken({ clusterName: 'a', region: 'us-east-1', credentials }));
    const b = decode(await eksToken({ clusterName: 'b', region: 'us-east-1', credentials }));
    expect(a.searchParams.get('X-Amz-Signature')).not.toBe(b.searchParams.get('X-Amz-Signature'));
    const session = decode(
      await eksToken({
        clusterName: 'a',
        region: 'us-east-1',
        credentials: { ...credentials, sessionToken: 'FwoGZX' },
      }),
    );
    expect(session.searchParams.get('X-Amz-Security-Token')).toBe('FwoGZX');
  });

  it('uses the China partition endpoint in China regions', async () => {
    const url = decode(await eksToken({ clusterName: 'a', region: 'cn-north-1', credentials }));
    expect(url.hostname).toBe('sts.cn-north-1.amazonaws.com.cn');
  });
});
