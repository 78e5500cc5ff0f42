/** EKS: a cluster's endpoint, CA and OIDC issuer; Pod Identity associations. REST-JSON. */
import {
  type DescribeClusterCommandInput,
  type DescribePodIdentityAssociationCommandInput,
  type ListPodIdentityAssociationsCommandInput,
  ResourceNotFoundException,
} from '@aws-sdk/client-eks';
import { TEST_CA_PEM } from '../kube-api-server.js';
import { oidcIssuerOf, roleArn } from './state.js';
import type { SimulatedService } from './wire.js';

function eksOperation(method: string, url: URL): { operation: string; input: unknown } {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (method === 'GET' && parts[0] === 'clusters' && parts.length === 2) {
    return { operation: 'DescribeCluster', input: { name: parts[1] } };
  }
  if (method === 'GET' && parts[0] === 'clusters' && parts[2] === 'pod-identity-associations') {
    if (parts.length === 4)
      return {
        operation: 'DescribePodIdentityAssociation',
        input: { clusterName: parts[1], associationId: parts[3] },
      };
    return {
      operation: 'ListPodIdentityAssociations',
      input: {
        clusterName: parts[1],
        namespace: url.searchParams.get('namespace') ?? undefined,
        serviceAccount: url.searchParams.get('serviceAccount') ?? undefined,
      },
    };
  }
  throw Object.assign(new Error(`no EKS operation at ${method} ${url.pathname}`), {
    name: 'NotFoundException',
  });
}

export const eks: SimulatedService = {
  operations: (s) => {
    const { account, accountId, podIdentity } = s;
    return {
      DescribeCluster: (input: DescribeClusterCommandInput) => {
        const endpoint = account.clusters?.[input.name ?? ''];
        if (!endpoint)
          throw new ResourceNotFoundException({
            message: `No cluster found for name: ${input.name}.`,
            $metadata: {},
          });
        return {
          cluster: {
            name: input.name,
            endpoint,
            status: 'ACTIVE',
            identity: { oidc: { issuer: oidcIssuerOf(input.name ?? '', account.region ?? 'us-east-1') } },
            certificateAuthority: { data: Buffer.from(TEST_CA_PEM).toString('base64') },
          },
        };
      },
      ListPodIdentityAssociations: (input: ListPodIdentityAssociationsCommandInput) => ({
        associations: podIdentity
          .filter(
            (a) =>
              a.cluster === input.clusterName &&
              (!input.namespace || a.namespace === input.namespace) &&
              (!input.serviceAccount || a.serviceAccount === input.serviceAccount),
          )
          .map((a) => ({
            associationId: a.associationId,
            clusterName: a.cluster,
            namespace: a.namespace,
            serviceAccount: a.serviceAccount,
          })),
      }),
      DescribePodIdentityAssociation: (input: DescribePodIdentityAssociationCommandInput) => {
        const found = podIdentity.find((a) => a.associationId === input.associationId);
        return {
          association: {
            associationId: found?.associationId,
            roleArn: found ? roleArn(found.roleName, accountId) : undefined,
          },
        };
      },
    };
  },
  route: eksOperation,
};
