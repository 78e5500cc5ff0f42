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
import { KMSClient } from '@aws-sdk/client-kms';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { QUARANTINED_TAG } from '../lambdas/actions/isolate-host/isolate-host.js';
import { answerApproval } from '../lambdas/approval/approval.js';
import { kmsTokens, type TokenVault } from '../lambdas/approval/tokens.js';
import type { ClientOverrides } from '../lambdas/clients/aws.js';
import { clientConfig } from '../lambdas/clients/config.js';
import { type Reach, reach } from '../lambdas/clients/reach.js';
import type { FindingEvent } from '../lambdas/core/finding.js';
import type { ResponderLocation } from '../lambdas/core/plan.js';
import { instanceIdFromProviderId } from '../lambdas/core/selectors.js';
import { DEFAULT_MEMBER_ROLE_NAME, type ResponderSettings } from '../lambdas/core/settings.js';
import { targetsOf } from '../lambdas/core/targets.js';
import { evidenceClients } from '../lambdas/evidence/clients.js';
import { bucketClosures } from '../lambdas/incident/closures.js';
import type { IncidentRecord } from '../lambdas/incident/record.js';
import { kmsRecordKey } from '../lambdas/incident/signature.js';
import type { IncidentStore } from '../lambdas/incident/store.js';
import { isResponderItem } from '../lambdas/incident/table.js';
import type { FunctionName } from '../lambdas/permissions.js';
import type { ReleasePorts } from '../lambdas/release/release.js';
import { ResponderSettingsSchema } from '../lambdas/settings.js';
import {
  ACCOUNT,
  accountOfAccessKey,
  newMacKey,
  type Operation,
  type SimulatedAccount,
  simulatedAccount,
} from './account.js';
import { applyShippedPolicies } from './admission.js';
import { approvalKeyOf } from './aws/kms.js';
import { HOST_OUTPUT_SUFFIX } from './aws/s3.js';
import { type AccountRouter, AwsApiServer } from './aws-api-server.js';
import { type ResponderConfig, settingsOf } from './cdk-json.js';
import { functionAccessKey, isEksToken } from './eks-token.js';
import { LocalIncidentTable } from './incident-table.js';
import { KubeApiServer, type KubeObject } from './kube-api-server.js';
import { type ExecutionRun, runLocally, synthesizedDefinition, TaskTokens, taskHandlers } from './runner.js';
import { type World, type WorldScale, withClusterObjects, worldFor } from './world.js';

/** The evidence bucket of the simulated account. */
export const SIMULATED_EVIDENCE_BUCKET = 'guardduty-responder-evidence-simulation';
/** Where the simulated hosts write the capture's output, each under its own prefix. */
export const SIMULATED_HOST_OUTPUT_BUCKET = `guardduty-responder-simulation${HOST_OUTPUT_SUFFIX}`;

export type Simulation = {
  cluster: string | null;
  kube: KubeApiServer;
  aws: AwsApiServer;
  /** The finding's account: its world. */
  account: SimulatedAccount;
  /** The responder's own account (its topic, record key): the finding's, unless that is a member. */
  home: SimulatedAccount;
  /** The task tokens of the executions run in it, which its Step Functions endpoint answers. */
  tokens: TaskTokens;
  table: LocalIncidentTable;
  /** Client settings that point the SDK at the simulation. */
  overrides: ClientOverrides;
  /** The incident store as the responder reaches it: the table and the record key through the simulation's AWS endpoint. */
  store: () => IncidentStore;
  stop: () => Promise<void>;
};

/** An organization: the responder in its own account, the finding's world in a member account. */
export type OrganizationOptions = {
  home: ResponderLocation;
  /** The member's MemberAccess role, as the member stack creates it. */
  memberAccess: { roleName: string; externalId: string };
};

/** The responder's account in a simulated organization: another than any sample finding's. */
export const SIMULATED_ADMINISTRATOR = '210987654321';

/** An organization for a finding: the responder in another account, the same region, a MemberAccess role. */
export const simulatedOrganization = (event: FindingEvent): OrganizationOptions => ({
  home: { accountId: SIMULATED_ADMINISTRATOR, region: event.detail.region },
  memberAccess: { roleName: DEFAULT_MEMBER_ROLE_NAME, externalId: 'guardduty-responder-simulation' },
});

/** Services whose resources are the responder's own (its table, key, topic, bucket), whoever calls. */
const RESPONDER_SERVICES = new Set(['dynamodb', 'kms', 'sns', 's3', 'states', 'securityhub']);
const GLOBAL_SERVICES = new Set(['iam', 'sts']);

/**
 * Each call answered in the caller's own account (temporary credentials name theirs; the functions' own
 * keys are the responder's account) and, for regional services, region: a call made with the wrong
 * credentials or for the wrong region finds nothing, as in AWS. AssumeRole is answered by the role's
 * account, told who calls.
 */
function organizationRouter(home: SimulatedAccount, accounts: SimulatedAccount[]): AccountRouter {
  const byId = new Map(accounts.map((account) => [account.accountId, account]));
  const nowhere = new Map<string, SimulatedAccount>();
  const empty = (accountId: string, region: string | undefined) => {
    const key = `${accountId}/${region ?? ''}`;
    let account = nowhere.get(key);
    if (!account) {
      account = simulatedAccount({ accountId, region, macKey: home.state.macKey });
      nowhere.set(key, account);
    }
    return account;
  };
  return (caller, operation, input) => {
    if (RESPONDER_SERVICES.has(caller.service)) return home;
    const callerAccount = accountOfAccessKey(caller.accessKeyId) ?? home.accountId;
    if (operation === 'AssumeRole') {
      const request = input as { RoleArn?: string; CallerAccount?: string; CallerAccessKey?: string };
      request.CallerAccount = callerAccount;
      request.CallerAccessKey = caller.accessKeyId;
      const owner = /^arn:[\w-]+:iam::(\d{12}):/.exec(request.RoleArn ?? '')?.[1] ?? '';
      return byId.get(owner) ?? empty(owner, undefined);
    }
    const account = byId.get(callerAccount) ?? empty(callerAccount, caller.region);
    if (GLOBAL_SERVICES.has(caller.service) || !account.region || account.region === caller.region)
      return account;
    return empty(callerAccount, caller.region);
  };
}

export async function startSimulation(
  world: World,
  region: string,
  /** The incident table's items of an earlier run: records and budget spending. */
  items: readonly Record<string, unknown>[] = [],
  organization?: OrganizationOptions,
): Promise<Simulation> {
  const kube = new KubeApiServer(isEksToken);
  // Each function reaches the cluster as its own role, authorized as k8s/rbac.yaml says.
  applyShippedPolicies(kube);
  await kube.start();
  for (const { resource, object } of world.objects) kube.add(resource, object);
  const worldAccount = world.account.accountId ?? ACCOUNT;
  const homeLocation = organization?.home ?? { accountId: worldAccount, region };
  const macKey = world.account.macKey ?? newMacKey(homeLocation.accountId, homeLocation.region);
  const member = homeLocation.accountId !== worldAccount;
  const tokens = new TaskTokens();
  const stepFunctions = {
    SendTaskSuccess: (input: { taskToken: string; output: string }) => {
      tokens.succeed(input.taskToken, input.output);
      return {};
    },
    SendTaskFailure: (input: { taskToken: string; error?: string; cause?: string }) => {
      tokens.fail(input.taskToken, input.error ?? 'TaskFailed', input.cause ?? '');
      return {};
    },
  } as Record<string, Operation>;
  const account = simulatedAccount(
    {
      ...world.account,
      accountId: worldAccount,
      region,
      macKey,
      clusters: world.cluster ? { [world.cluster]: kube.url } : {},
      memberAccess:
        member && organization
          ? { ...organization.memberAccess, trustedAccount: homeLocation.accountId }
          : undefined,
    },
    member ? {} : stepFunctions,
  );
  // A host the responder isolated no longer reaches its kubelet's clients: its pods' logs fail, and a
  // pod deleted there stays terminating until its node goes.
  const hostOf = (node: string) => {
    const providerId = kube.peek('nodes', null, node)?.spec?.providerID;
    const instanceId = typeof providerId === 'string' ? instanceIdFromProviderId(providerId) : null;
    return account.state.instances.find((instance) => instance.instanceId === instanceId);
  };
  kube.kubeletReachable = (node) => {
    const host = hostOf(node);
    return !(host?.tags && QUARANTINED_TAG in host.tags);
  };
  // A terminated instance's Node goes (the cloud controller), and its pods with it (pod GC).
  kube.instanceGone = (node) => hostOf(node)?.state === 'terminated';
  const home = member
    ? simulatedAccount(
        { accountId: homeLocation.accountId, region: homeLocation.region, macKey },
        stepFunctions,
      )
    : account;
  const table = await LocalIncidentTable.start(items, macKey);
  const aws = new AwsApiServer(account, table.url, organizationRouter(home, [home, account]));
  await aws.start();
  const overrides: ClientOverrides = {
    endpoint: aws.url,
    region: homeLocation.region,
    credentials: { accessKeyId: 'AKIASIMULATION00000', secretAccessKey: 'simulation' },
  };
  let stopping: Promise<void> | undefined;
  return {
    cluster: world.cluster,
    kube,
    aws,
    account,
    home,
    tokens,
    table,
    overrides,
    // The record is signed and verified with the account's KMS key, over its endpoint, as in the stack.
    store: () =>
      table.store(new DynamoDBClient(overrides), kmsRecordKey(new KMSClient(overrides), macKey.keyId)),
    // Once: a second stop (a test's own, then its clean-up) finds nothing left to stop.
    stop: async () => {
      stopping ??= Promise.all([kube.stop(), aws.stop(), table.stop()]).then(() => undefined);
      await stopping;
    },
  };
}

/**
 * How a function reaches findings' accounts and regions in the simulation: as its own role (an access key
 * of its own, which the API servers map to the function), through the simulation's endpoint.
 */
export const reachAs = (
  simulation: Simulation,
  fn: FunctionName,
  settings: ResponderSettings,
  home: ResponderLocation,
): Reach =>
  reach({
    home,
    settings,
    sessionName: fn,
    overrides: {
      ...simulation.overrides,
      credentials: { accessKeyId: functionAccessKey(fn), secretAccessKey: 'simulation' },
    },
  });

/** The responder's task handlers over a simulation's endpoints. */
export function simulatedHandlers(
  simulation: Simulation,
  config: ResponderConfig,
  location: ResponderLocation,
  store: IncidentStore = simulation.store(),
) {
  const settings = settingsOf(config);
  return taskHandlers({
    settings,
    location,
    store,
    reach: (fn) => reachAs(simulation, fn, settings, location),
    evidence: {
      s3: evidenceClients(simulation.overrides).s3,
      bucket: SIMULATED_EVIDENCE_BUCKET,
      hostOutput: SIMULATED_HOST_OUTPUT_BUCKET,
      sleep: async () => {},
    },
    sns: new SNSClient(simulation.overrides),
    topicArn: `arn:aws:sns:${location.region}:${location.accountId}:guardduty-responder-simulation`,
    securityHub: (region) => new SecurityHubClient(clientConfig({ ...simulation.overrides, region })),
    chatTopicArn: config.chatNotifications
      ? `arn:aws:sns:${location.region}:${location.accountId}:guardduty-responder-simulation-chat`
      : null,
    tokens: approvalTokens(simulation),
  });
}

/** The simulation's approval key, in the responder's account: task tokens are kept encrypted under it. */
export const approvalTokens = (simulation: Simulation): TokenVault =>
  kmsTokens(new KMSClient(clientConfig(simulation.overrides)), approvalKeyOf(simulation.home.state.macKey));

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
  /** The finding's account as a member of an organization whose responder is in another account. */
  organization?: OrganizationOptions;
  /** A person who answers every approval request as soon as it is published. */
  answer?: { approve: boolean; by: string };
  /**
   * GuardDuty does not hold the finding (a forged one): the response is refused. Otherwise GuardDuty
   * holds it, in a fresh world as in a resumed one, as it holds every finding it made.
   */
  forged?: boolean;
};

/**
 * Answers each approval request of a running execution as it is published, through the simulation's
 * Step Functions endpoint, until `done` settles.
 */
async function answerRequests(
  simulation: Simulation,
  findingId: string,
  answer: { approve: boolean; by: string },
  done: Promise<unknown>,
): Promise<void> {
  let finished = false;
  void done.finally(() => {
    finished = true;
  });
  const sfn = new SFNClient(simulation.overrides);
  let answered = 0;
  while (!finished) {
    const asked = simulation.home.state.published.filter(
      (p) => p.MessageAttributes?.outcome?.StringValue === 'approval-needed',
    ).length;
    if (asked > answered) {
      answered = asked;
      await answerApproval(
        { findingId, approve: answer.approve, requestedBy: answer.by },
        { store: simulation.store(), sfn, tokens: approvalTokens(simulation) },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function respondInSimulation(
  event: FindingEvent,
  config: ResponderConfig,
  options: RespondOptions = {},
): Promise<{ run: ExecutionRun; simulation: Simulation; saved: SavedSimulation | null }> {
  const finding = event.detail;
  const organization = options.organization ?? options.from?.organization;
  const location = organization?.home ?? locationOf(event);
  const simulation = options.from
    ? await resumeSimulation(options.from)
    : await startSimulation(freshWorld(finding, options), finding.region, [], organization);
  if (options.from && !options.forged) simulation.account.hold(finding);
  try {
    const running = runLocally(
      options.definition ?? synthesizedDefinition(config, location),
      options.input ?? event,
      simulatedHandlers(simulation, config, location),
      { tokens: simulation.tokens },
    );
    if (options.answer) await answerRequests(simulation, finding.id, options.answer, running);
    const run = await running;
    return {
      run,
      simulation,
      saved: options.save ? await saveable(simulation, location, organization) : null,
    };
  } finally {
    await simulation.stop();
  }
}

function freshWorld(finding: FindingEvent['detail'], options: RespondOptions): World {
  const world = worldFor(finding, targetsOf(finding), options.scale);
  if (options.forged) world.account.guardDuty = { findings: [] };
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
  /** The organization, when the finding's account is a member of one. */
  organization?: OrganizationOptions;
  /**
   * The table's other items, kept for the next run: what the budget across findings spent
   * (lambdas/incident/budget.ts) and the responder's registered security groups.
   */
  budget?: Record<string, unknown>[];
};

/**
 * What release (or recover) needs, over a simulation's endpoints, as that function; `settings` name the
 * member accounts it may reach (none by default).
 */
export function simulatedReleasePorts(
  simulation: Simulation,
  fn: 'release' | 'recover' = 'release',
  settings: ResponderSettings = ResponderSettingsSchema.parse({}),
): ReleasePorts {
  const home = { accountId: simulation.home.accountId, region: String(simulation.overrides.region) };
  return {
    store: simulation.store(),
    reach: reachAs(simulation, fn, settings, home),
    closures: bucketClosures(evidenceClients(simulation.overrides).s3, SIMULATED_EVIDENCE_BUCKET),
    sleep: async () => {},
  };
}

export async function saveable(
  simulation: Simulation,
  location: ResponderLocation,
  organization?: OrganizationOptions,
): Promise<SavedSimulation> {
  const account = simulation.account.describe();
  delete account.clusters; // the API server's address is the running one's
  return {
    location,
    world: { cluster: simulation.cluster, objects: simulation.kube.all(), account },
    incidents: await simulation.table.records(),
    organization,
    budget: (await simulation.table.items()).filter(isResponderItem),
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
  startSimulation(
    saved.world,
    saved.world.account.region ?? saved.location.region,
    [...saved.incidents, ...(saved.budget ?? [])],
    saved.organization,
  );

/** The settings a saved simulation's release and recover reach its finding's account with. */
export function savedSettings(saved: SavedSimulation): ResponderSettings {
  if (!saved.organization) return ResponderSettingsSchema.parse({});
  return ResponderSettingsSchema.parse({
    members: [
      {
        accountId: saved.world.account.accountId,
        clusters: saved.world.cluster ? [saved.world.cluster] : [],
      },
    ],
    memberRoleName: saved.organization.memberAccess.roleName,
    externalId: saved.organization.memberAccess.externalId,
  });
}
