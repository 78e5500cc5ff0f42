/**
 * The replay's simulation: a local Kubernetes API server, a local AWS API endpoint and a local incident
 * table, holding the world built for the finding. The responder's real clients reach them through their
 * endpoints only: EKS DescribeCluster answers with the local API server and its CA, exactly as EKS would.
 * A simulation can be saved to a file and started again from it, so that `npm run release` undoes what
 * `npm run replay` did, in another process.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EKSClient } from '@aws-sdk/client-eks';
import { KMSClient } from '@aws-sdk/client-kms';
import { SNSClient } from '@aws-sdk/client-sns';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { awsClients, type ClientOverrides } from '../../lambdas/clients/aws.js';
import { clientConfig } from '../../lambdas/clients/config.js';
import { eksKubernetes } from '../../lambdas/clients/kubernetes.js';
import { namedCalls } from '../../lambdas/clients/named-calls.js';
import type { FindingEvent } from '../../lambdas/core/finding.js';
import type { ResponderLocation } from '../../lambdas/core/plan.js';
import { targetsOf } from '../../lambdas/core/targets.js';
import { evidenceClients } from '../../lambdas/evidence/clients.js';
import { isBudgetItem } from '../../lambdas/incident/budget.js';
import type { IncidentRecord } from '../../lambdas/incident/record.js';
import { kmsRecordKey } from '../../lambdas/incident/signature.js';
import type { IncidentStore } from '../../lambdas/incident/store.js';
import type { FunctionName } from '../../lambdas/permissions.js';
import type { ReleasePorts } from '../../lambdas/release/release.js';
import { type ResponderConfig, settingsOf } from '../config.js';
import { type ExecutionRun, runLocally, synthesizedDefinition, taskHandlers } from '../runner.js';
import { ACCOUNT, type SimulatedAccount, simulatedAccount } from './account.js';
import { newMacKey } from './account-kms.js';
import { AwsApiServer } from './aws-api-server.js';
import { functionAccessKey, isEksToken, shippedAccessEntries } from './eks-token.js';
import { LocalIncidentTable } from './incident-table.js';
import { KubeApiServer, type KubeObject } from './kube-api-server.js';
import { type World, type WorldScale, withClusterObjects, worldFor } from './world.js';

/** The evidence bucket of the simulated account. */
export const SIMULATED_EVIDENCE_BUCKET = 'guardduty-responder-evidence-simulation';

export type Simulation = {
  cluster: string | null;
  kube: KubeApiServer;
  aws: AwsApiServer;
  account: SimulatedAccount;
  table: LocalIncidentTable;
  /** Client settings that point the SDK at the simulation. */
  overrides: ClientOverrides;
  /** The incident store as the responder reaches it: the table and the record key through the simulation's AWS endpoint. */
  store: () => IncidentStore;
  stop: () => Promise<void>;
};

export async function startSimulation(
  world: World,
  region: string,
  /** The incident table's items of an earlier run: records and budget spending. */
  items: readonly Record<string, unknown>[] = [],
): Promise<Simulation> {
  const kube = new KubeApiServer(isEksToken);
  // Each function reaches the cluster as its own role, authorized as k8s/rbac.yaml says.
  kube.authorizeWith(shippedAccessEntries());
  await kube.start();
  for (const { resource, object } of world.objects) kube.add(resource, object);
  const macKey = world.account.macKey ?? newMacKey(ACCOUNT, region);
  const account = simulatedAccount({
    ...world.account,
    macKey,
    clusters: world.cluster ? { [world.cluster]: kube.url } : {},
  });
  const table = await LocalIncidentTable.start(items, macKey);
  const aws = new AwsApiServer(account, table.url);
  await aws.start();
  const overrides: ClientOverrides = {
    endpoint: aws.url,
    region,
    credentials: { accessKeyId: 'AKIASIMULATION00000', secretAccessKey: 'simulation' },
  };
  return {
    cluster: world.cluster,
    kube,
    aws,
    account,
    table,
    overrides,
    // The record is signed and verified with the account's KMS key, over its endpoint, as in the stack.
    store: () =>
      table.store(new DynamoDBClient(overrides), kmsRecordKey(new KMSClient(overrides), macKey.keyId)),
    stop: async () => {
      await Promise.all([kube.stop(), aws.stop(), table.stop()]);
    },
  };
}

/** The Kubernetes API of the simulation's cluster as a function reaches it: signed with its own role. */
export const kubernetesAs = (simulation: Simulation, fn: FunctionName) =>
  eksKubernetes(
    namedCalls(
      new EKSClient(
        clientConfig({
          ...simulation.overrides,
          credentials: { accessKeyId: functionAccessKey(fn), secretAccessKey: 'simulation' },
        }),
      ),
    ),
  );

/** The responder's task handlers over a simulation's endpoints. */
export function simulatedHandlers(
  simulation: Simulation,
  config: ResponderConfig,
  location: ResponderLocation,
  store: IncidentStore = simulation.store(),
) {
  const clients = awsClients(simulation.overrides);
  return taskHandlers({
    settings: settingsOf(config),
    location,
    clients,
    store,
    kubernetes: (fn) => kubernetesAs(simulation, fn),
    evidence: {
      ...evidenceClients(simulation.overrides),
      bucket: SIMULATED_EVIDENCE_BUCKET,
      sleep: async () => {},
    },
    sns: new SNSClient(simulation.overrides),
    topicArn: `arn:aws:sns:${location.region}:${location.accountId}:guardduty-responder-simulation`,
  });
}

/**
 * One response in a simulation, fresh (the finding's world) or resumed from a saved one: the
 * synthesized definition, the real handlers. The servers are stopped afterwards; their request logs, the account and the saved state stay
 * readable.
 */
export type RespondOptions = {
  /** The synthesized definition, when the caller already has it (the benchmark runs it many times). */
  definition?: StateMachineDefinition;
  /** Start from a saved simulation instead of the finding's fresh world. */
  from?: SavedSimulation;
  /** The execution input, when it carries execution options beside the event. */
  input?: unknown;
  /** Also return the simulation as it ends, to be saved. */
  save?: boolean;
  /** A larger cluster than the finding's default world (the benchmark's scale runs, the tests). */
  scale?: WorldScale;
  /** A copy of one's own cluster (`--world`), in place of the finding's generated one. */
  clusterObjects?: { resource: string; object: KubeObject }[];
};

export async function respondInSimulation(
  event: FindingEvent,
  config: ResponderConfig,
  options: RespondOptions = {},
): Promise<{ run: ExecutionRun; simulation: Simulation; saved: SavedSimulation | null }> {
  const finding = event.detail;
  const location = locationOf(event);
  const simulation = options.from
    ? await resumeSimulation(options.from)
    : await startSimulation(freshWorld(finding, options), finding.region);
  try {
    const run = await runLocally(
      options.definition ?? synthesizedDefinition(config, location),
      options.input ?? event,
      simulatedHandlers(simulation, config, location),
    );
    return { run, simulation, saved: options.save ? await saveable(simulation, location) : null };
  } finally {
    await simulation.stop();
  }
}

function freshWorld(finding: FindingEvent['detail'], options: RespondOptions): World {
  const world = worldFor(finding, targetsOf(finding), options.scale);
  return options.clusterObjects ? withClusterObjects(world, options.clusterObjects) : world;
}

/** A location is the finding's own account and region. */
export const locationOf = (event: FindingEvent): ResponderLocation => ({
  accountId: event.detail.accountId,
  region: event.detail.region,
});

/** What a simulation holds, as JSON: the cluster's objects, the account and the incident records. */
export type SavedSimulation = {
  location: ResponderLocation;
  world: World;
  incidents: IncidentRecord[];
  /** What the budget across findings spent (lambdas/incident/budget.ts), kept for the next run. */
  budget?: Record<string, unknown>[];
};

/** What release (or recover, which needs less) needs, over a simulation's endpoints, as that function. */
export function simulatedReleasePorts(
  simulation: Simulation,
  fn: 'release' | 'recover' = 'release',
): ReleasePorts {
  const clients = awsClients(simulation.overrides);
  return {
    ...clients,
    store: simulation.store(),
    kubernetes: kubernetesAs(simulation, fn),
    ssm: evidenceClients(simulation.overrides).ssm,
    sleep: async () => {},
  };
}

export async function saveable(
  simulation: Simulation,
  location: ResponderLocation,
): Promise<SavedSimulation> {
  const account = simulation.account.describe();
  delete account.clusters; // the API server's address is the running one's
  return {
    location,
    world: { cluster: simulation.cluster, objects: simulation.kube.all(), account },
    incidents: await simulation.table.records(),
    budget: (await simulation.table.items()).filter(isBudgetItem),
  };
}

/** Where the replay leaves its simulation for `npm run release`. */
export const SAVED_SIMULATION = '.replay/simulation.json';

export function saveSimulation(saved: SavedSimulation, path = SAVED_SIMULATION): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(saved, null, 1)}\n`);
}

/** The saved simulation, or null when there is none. */
export function loadSimulation(path = SAVED_SIMULATION): SavedSimulation | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return JSON.parse(text) as SavedSimulation;
}

/** Starts a saved simulation again. */
export const resumeSimulation = (saved: SavedSimulation): Promise<Simulation> =>
  startSimulation(saved.world, saved.location.region, [...saved.incidents, ...(saved.budget ?? [])]);
