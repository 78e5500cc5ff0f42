/**
 * The replay's simulation: a local Kubernetes API server and a local AWS API endpoint, both holding the
 * world built for the finding. The responder's real clients reach them through their endpoints only:
 * EKS DescribeCluster answers with the local API server and its CA, exactly as EKS would.
 */
import type { ClientOverrides } from '../../lambdas/clients/aws.js';
import type { Finding } from '../../lambdas/core/finding.js';
import type { Targets } from '../../lambdas/core/targets.js';
import { type SimulatedAccount, simulatedAccount } from './account.js';
import { AwsApiServer } from './aws-api-server.js';
import { isEksToken } from './eks-token.js';
import { KubeApiServer } from './kube-api-server.js';
import { worldFor } from './world.js';

export type Simulation = {
  cluster: string | null;
  kube: KubeApiServer;
  aws: AwsApiServer;
  account: SimulatedAccount;
  /** Client settings that point the SDK at the simulation. */
  overrides: ClientOverrides;
  stop: () => Promise<void>;
};

export async function startSimulation(finding: Finding, targets: Targets): Promise<Simulation> {
  const world = worldFor(finding, targets);
  const kube = new KubeApiServer(isEksToken);
  await kube.start();
  for (const { resource, object } of world.objects) kube.add(resource, object);
  const account = simulatedAccount({
    ...world.account,
    clusters: world.cluster ? { [world.cluster]: kube.url } : {},
  });
  const aws = new AwsApiServer(account);
  await aws.start();
  return {
    cluster: world.cluster,
    kube,
    aws,
    account,
    overrides: {
      endpoint: aws.url,
      region: finding.region,
      credentials: { accessKeyId: 'AKIASIMULATION00000', secretAccessKey: 'simulation' },
    },
    stop: async () => {
      await Promise.all([kube.stop(), aws.stop()]);
    },
  };
}
