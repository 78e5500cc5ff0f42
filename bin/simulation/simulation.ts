/**
 * The replay's simulation: a local Kubernetes API server and a local AWS API endpoint, both holding the
 * world built for the finding. The responder's real clients reach them through their endpoints only:
 * EKS DescribeCluster answers with the local API server and its CA, exactly as EKS would.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { awsClients, type ClientOverrides } from '../../lambdas/clients/aws.js';
import { eksKubernetes } from '../../lambdas/clients/kubernetes.js';
import type { Finding, FindingEvent } from '../../lambdas/core/finding.js';
import type { ResponderLocation } from '../../lambdas/core/plan.js';
import { type Targets, targetsOf } from '../../lambdas/core/targets.js';
import { type ResponderConfig, settingsOf } from '../config.js';
import { type ExecutionRun, runLocally, synthesizedDefinition, taskHandlers } from '../runner.js';
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

/**
 * One response in a fresh simulation: the finding's world, the synthesized definition, the real
 * handlers. The servers are stopped afterwards; their request logs and the account stay readable.
 */
export async function respondInSimulation(
  event: FindingEvent,
  config: ResponderConfig,
  definition: StateMachineDefinition = synthesizedDefinition(config, locationOf(event)),
): Promise<{ run: ExecutionRun; simulation: Simulation }> {
  const finding = event.detail;
  const location = locationOf(event);
  const simulation = await startSimulation(finding, targetsOf(finding));
  try {
    const clients = awsClients(simulation.overrides);
    const run = await runLocally(
      definition,
      event,
      taskHandlers({
        settings: settingsOf(config),
        location,
        clients,
        kubernetes: eksKubernetes(clients.eks),
        sns: new SNSClient(simulation.overrides),
        topicArn: `arn:aws:sns:${location.region}:${location.accountId}:guardduty-responder-simulation`,
      }),
    );
    return { run, simulation };
  } finally {
    await simulation.stop();
  }
}

/** A simulation is the finding's own account and region. */
export const locationOf = (event: FindingEvent): ResponderLocation => ({
  accountId: event.detail.accountId,
  region: event.detail.region,
});
