/**
 * npm run replay -- <event.json> [options]
 *
 * Replays a GuardDuty finding event through the response, and prints a timeline and the notification.
 *   (default)              simulation: a local Kubernetes API and AWS endpoint built for the finding
 *   --kubeconfig PATH      local: this machine runs the state machine against a real cluster and the AWS
 *                          account of the usual credential chain (--endpoint-url for an AWS-compatible one)
 *   --deployed STACK|ARN   deployed: StartExecution of the deployed state machine, then follow it
 *   --dry-run              plan and identify, report what would be done, change nothing
 *   --rerun                run the actions again for a finding the incident table already holds
 *   --resume               simulation: start from the simulation the last replay or release left
 *                          instead of a fresh one, to rehearse a repeat
 *   --state PATH           simulation: where it is saved for `npm run release` (.replay/simulation.json)
 *   --table NAME           local: the incident table at the AWS endpoint (default: a table in memory)
 *   --record-key KEY       local, with --table: the KMS HMAC key that signs its entries (RecordKeyId)
 *   --evidence-bucket NAME local: the evidence bucket at the AWS endpoint (default: kept in memory)
 *   --host-output-bucket NAME local, with --evidence-bucket: where the hosts write the capture's output
 *                          (HostOutputBucketName); without it, no host capture
 *   --world FILE           simulation: a copy of your cluster (kubectl get -o yaml) instead of the generated one
 *   --member               simulation: the finding's account is a member of an organization whose responder
 *                          runs in another account, reached through the member's MemberAccess role
 *   --require-approval A,B simulation: these actions wait for a person's approval, which the simulation
 *                          gives (--approve) or refuses (--deny) as soon as it is asked
 *   --forged               simulation: GuardDuty holds no such finding, as for an event someone made up
 *                          (the response is refused: nothing is done)
 *   --cluster, --namespace, --pod, --instance   aim the finding at a test workload
 * Exit code 0 when the response succeeded, 1 when it did not, 2 for bad input.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { KubeConfig, loadAllYaml } from '@kubernetes/client-node';
import { ACTION_NAMES } from '../lambdas/actions/registry.js';
import { AwsReader, awsClients, type ClientOverrides } from '../lambdas/clients/aws.js';
import { clientConfig } from '../lambdas/clients/config.js';
import { Kubernetes } from '../lambdas/clients/kubernetes.js';
import { reach } from '../lambdas/clients/reach.js';
import { type FindingEvent, FindingValidationError, parseFindingEvent } from '../lambdas/core/finding.js';
import type { ActionName, ResponderLocation } from '../lambdas/core/plan.js';
import { detectorOf } from '../lambdas/core/provenance.js';
import { DEFAULT_MEMBER_ROLE_NAME, EXECUTION_OPTIONS_KEY } from '../lambdas/core/settings.js';
import { targetsOf } from '../lambdas/core/targets.js';
import { evidenceClients } from '../lambdas/evidence/clients.js';
import { securityHubIntakeHandler } from '../lambdas/handlers/security-hub-intake.js';
import { kmsRecordKey } from '../lambdas/incident/signature.js';
import { IncidentStore } from '../lambdas/incident/store.js';
import {
  type CustomActionEvent,
  CustomActionEventSchema,
  requestedFindings,
} from '../lambdas/intake/security-hub.js';
import { reportKey } from '../lambdas/report/build.js';
import { reportCommand } from '../lambdas/report/store.js';

/** Where a local replay keeps its evidence when no bucket is given (in memory, on this machine). */
const LOCAL_EVIDENCE_BUCKET = 'guardduty-responder-replay-evidence';
const LOCAL_HOST_OUTPUT_BUCKET = `guardduty-responder-replay${HOST_OUTPUT_SUFFIX}`;

import { simulatedAccount } from '../simulation/account.js';
import { localTokens } from '../simulation/aws/kms.js';
import { HOST_OUTPUT_SUFFIX } from '../simulation/aws/s3.js';
import type { SimulatedObject } from '../simulation/aws/state.js';
import { AwsApiServer } from '../simulation/aws-api-server.js';
import {
  CONTEXT_KEY,
  cdkJsonContext,
  parseConfig,
  type ResponderConfig,
  settingsOf,
} from '../simulation/cdk-json.js';
import { LocalIncidentTable } from '../simulation/incident-table.js';
import { type KubeObject, RESOURCES } from '../simulation/kube-api-server.js';
import { type ExecutionRun, runLocally, synthesizedDefinition, taskHandlers } from '../simulation/runner.js';
import {
  loadSimulation,
  type OrganizationOptions,
  respondInSimulation,
  SAVED_SIMULATION,
  type Simulation,
  saveSimulation,
  simulatedOrganization,
} from '../simulation/simulation.js';
import { exitCodeOf, InputError, type Out, parseCommandLine } from './cli.js';
import { localCluster } from './kubeconfig.js';
import { deployedClients, runDeployed, stateMachineArn } from './replay/deployed.js';
import { type Rewrites, rewriteEvent } from './replay/rewrite.js';
import { timeline } from './replay/timeline.js';
import { safeName } from './report.js';

export type ReplayOptions = {
  file: string;
  dryRun: boolean;
  /** Simulate the finding's account as a member of an organization whose responder is elsewhere. */
  member: boolean;
  /** Actions that wait for approval in the simulation, and the simulated person's answer. */
  approval: { actions: ActionName[]; approve: boolean } | null;
  rerun: boolean;
  resume: boolean;
  /** The simulated GuardDuty does not hold the finding: rehearse a forged one. */
  forged: boolean;
  state: string;
  table?: string;
  /** The KMS HMAC key that signs the table's entries. */
  recordKey?: string;
  rewrites: Rewrites;
  mode: 'simulation' | 'local' | 'deployed';
  kubeconfig?: string;
  context?: string;
  endpointUrl?: string;
  region?: string;
  deployed?: string;
  topicArn?: string;
  evidenceBucket?: string;
  hostOutputBucket?: string;
  world?: string;
};

export function parseReplayArgs(argv: readonly string[]): ReplayOptions {
  const { values, positionals } = parseCommandLine(
    argv,
    {
      'dry-run': { type: 'boolean', default: false },
      member: { type: 'boolean', default: false },
      'require-approval': { type: 'string' },
      approve: { type: 'boolean', default: false },
      deny: { type: 'boolean', default: false },
      rerun: { type: 'boolean', default: false },
      resume: { type: 'boolean', default: false },
      forged: { type: 'boolean', default: false },
      state: { type: 'string', default: SAVED_SIMULATION },
      table: { type: 'string' },
      'record-key': { type: 'string' },
      cluster: { type: 'string' },
      namespace: { type: 'string' },
      pod: { type: 'string' },
      instance: { type: 'string' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      'endpoint-url': { type: 'string' },
      region: { type: 'string' },
      deployed: { type: 'string' },
      'topic-arn': { type: 'string' },
      'evidence-bucket': { type: 'string' },
      'host-output-bucket': { type: 'string' },
      world: { type: 'string' },
    },
    { name: 'replay', positional: '<event.json>' },
  );
  if (positionals.length !== 1)
    throw new InputError('give exactly one event file: npm run replay -- <event.json> [options]');
  if (values.deployed && (values.kubeconfig || values['endpoint-url'])) {
    throw new InputError('--deployed runs in the account; it does not take --kubeconfig or --endpoint-url');
  }
  if (values.resume && (values.deployed || values.kubeconfig)) {
    throw new InputError('--resume is for the simulation; it does not take --deployed or --kubeconfig');
  }
  if (values.table && !values.kubeconfig) {
    throw new InputError('--table is for the local mode: give --kubeconfig as well');
  }
  if (Boolean(values.table) !== Boolean(values['record-key'])) {
    throw new InputError(
      '--table and --record-key go together: the entries written to the table are signed with the key',
    );
  }
  const requireApproval = (values['require-approval'] ?? '').split(',').filter(Boolean);
  for (const action of requireApproval) {
    if (!ACTION_NAMES.includes(action))
      throw new InputError(
        `--require-approval takes actions among ${ACTION_NAMES.join(', ')}: not ${action}`,
      );
  }
  if (requireApproval.length > 0 && (values.deployed || values.kubeconfig))
    throw new InputError('--require-approval is for the simulation; deployed, the configuration decides');
  if (requireApproval.length > 0 && values.approve === values.deny)
    throw new InputError('--require-approval needs the simulated person to answer: give --approve or --deny');
  if (requireApproval.length === 0 && (values.approve || values.deny))
    throw new InputError('--approve and --deny answer the actions --require-approval names: give it');
  if (values.member && (values.deployed || values.kubeconfig || values.resume)) {
    throw new InputError(
      '--member is for a fresh simulation; it does not take --deployed, --kubeconfig or --resume',
    );
  }
  if (values.world && (values.deployed || values.kubeconfig || values.resume)) {
    throw new InputError(
      '--world is for a fresh simulation; it does not take --deployed, --kubeconfig or --resume',
    );
  }
  if (values.forged && (values.deployed || values.kubeconfig)) {
    throw new InputError(
      '--forged is for the simulation: deployed or local, GuardDuty (or this machine) answers for itself',
    );
  }
  if (values['evidence-bucket'] && !values.kubeconfig) {
    throw new InputError('--evidence-bucket is for the local mode: give --kubeconfig as well');
  }
  if (values['host-output-bucket'] && !values['evidence-bucket']) {
    throw new InputError(
      '--host-output-bucket goes with --evidence-bucket: the output is taken into that bucket',
    );
  }
  if (values['endpoint-url'] && !values.kubeconfig) {
    throw new InputError('--endpoint-url is for the local mode: give --kubeconfig as well');
  }
  return {
    file: positionals[0] ?? '',
    dryRun: values['dry-run'] ?? false,
    member: values.member ?? false,
    approval:
      requireApproval.length > 0
        ? { actions: requireApproval as ActionName[], approve: values.approve === true }
        : null,
    rerun: values.rerun ?? false,
    resume: values.resume ?? false,
    forged: values.forged ?? false,
    state: values.state ?? SAVED_SIMULATION,
    table: values.table,
    recordKey: values['record-key'],
    rewrites: {
      cluster: values.cluster,
      namespace: values.namespace,
      pod: values.pod,
      instance: values.instance,
    },
    mode: values.deployed ? 'deployed' : values.kubeconfig ? 'local' : 'simulation',
    kubeconfig: values.kubeconfig,
    context: values.context,
    endpointUrl: values['endpoint-url'],
    region: values.region,
    deployed: values.deployed,
    topicArn: values['topic-arn'],
    evidenceBucket: values['evidence-bucket'],
    hostOutputBucket: values['host-output-bucket'],
    world: values.world,
  };
}

/** The file's Security Hub custom action event, or null when it holds something else. */
function customActionIn(file: string): CustomActionEvent | null {
  try {
    const parsed = CustomActionEventSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Reads, rewrites and validates the event; any problem is an InputError naming the file. */
export function loadEvent(options: ReplayOptions): FindingEvent {
  let text: string;
  try {
    text = readFileSync(options.file, 'utf8');
  } catch (error) {
    throw new InputError(
      `${options.file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${options.file}: not JSON (${(error as Error).message})`);
  }
  try {
    return parseFindingEvent(rewriteEvent(raw, options.rewrites));
  } catch (error) {
    if (!(error instanceof FindingValidationError)) throw error;
    const more = error.problems.length > 1 ? ` (and ${error.problems.length - 1} more)` : '';
    throw new InputError(`${options.file}: not a GuardDuty finding event: ${error.problems[0]}${more}`);
  }
}

/**
 * The objects of a `--world` file: what `kubectl get -o yaml` (or `-o json`) prints, a List or single
 * objects, in YAML or JSON; each must be of a kind the simulated API server serves.
 */
export function loadWorld(file: string): { resource: string; object: KubeObject }[] {
  let documents: unknown[];
  try {
    documents = loadAllYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InputError(`${file}: not YAML or JSON (${(error as Error).message.split('\n')[0]})`);
  }
  const objects = documents.flatMap((doc) => {
    const object = doc as { kind?: string; items?: unknown[] } | null;
    return object?.kind === 'List' || (object?.kind ?? '').endsWith('List')
      ? (object?.items ?? [])
      : object
        ? [object]
        : [];
  }) as KubeObject[];
  return objects.map((object, index) => {
    const resource = Object.entries(RESOURCES).find(([, type]) => type.kind === object.kind)?.[0];
    if (!resource || !object.metadata?.name)
      throw new InputError(
        `${file}: object ${index + 1} (${object.kind ?? 'no kind'} ${object.metadata?.name ?? ''}) is not one the simulation serves`,
      );
    return { resource, object };
  });
}

/** The timeline, then the notification as a person receives it: its subject, then its text. */
function report(
  run: ExecutionRun,
  notification: { Subject?: string; Message?: string } | undefined,
  out: Out,
): number {
  for (const line of timeline(run.events)) out(line);
  out('');
  out(
    notification?.Message
      ? `Notification: ${notification.Subject ?? '(no subject)'}\n\n${notification.Message}`
      : 'No notification was published.',
  );
  return run.status === 'SUCCEEDED' ? 0 : 1;
}

/**
 * The incident report Notify wrote to the (simulated) evidence bucket, kept on this machine beside the
 * saved simulation; its path is printed.
 */
function keepReport(objects: readonly SimulatedObject[], findingId: string, dir: string, out: Out): void {
  const key = reportKey(findingId);
  const latest = objects.filter((o) => o.key === key && !o.deleteMarker).at(-1);
  if (!latest) {
    out(
      `No incident report is in the evidence bucket at ${key} (identification did not run, or it could not be written).`,
    );
    return;
  }
  const path = join(dir, 'reports', `incident-${safeName(findingId)}.html`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, Buffer.from(latest.body, 'base64'));
  out(`Incident report: ${path}`);
}

/** The configuration cdk.json deploys, acting on the finding's cluster, for a replay on this machine. */
function replayConfig(cluster: string | null, dryRun: boolean) {
  const configured = parseConfig(cdkJsonContext()[CONTEXT_KEY]);
  const clusters =
    cluster && !configured.clusters.includes(cluster)
      ? [...configured.clusters, cluster]
      : configured.clusters;
  return { ...configured, clusters, dryRun: configured.dryRun || dryRun };
}

/** The configuration of a responder in another account that has the finding's account as a member. */
function asMemberOf(
  organization: OrganizationOptions,
  config: ResponderConfig,
  event: FindingEvent,
): ResponderConfig {
  return {
    ...config,
    account: organization.home.accountId,
    region: organization.home.region,
    clusters: [],
    members: [{ accountId: event.detail.accountId, clusters: config.clusters }],
    memberRoleName: organization.memberAccess.roleName,
    externalId: organization.memberAccess.externalId,
  };
}

/** Lets a caller (the tests, the benchmark) look at the simulation after a replay. */
export type ReplayHooks = { onSimulation?: (simulation: Simulation) => void };

/** The execution input: the event, and beside it what this replay asks of the execution. */
function executionInput(event: FindingEvent, options: ReplayOptions): unknown {
  if (!options.dryRun && !options.rerun) return event;
  return { ...event, [EXECUTION_OPTIONS_KEY]: { dryRun: options.dryRun, rerun: options.rerun } };
}

async function replaySimulation(
  event: FindingEvent,
  options: ReplayOptions,
  out: Out,
  hooks: ReplayHooks,
): Promise<number> {
  const from = options.resume ? loadSimulation(options.state) : undefined;
  if (from === null)
    throw new InputError(`no saved simulation at ${options.state}: replay without --resume first`);
  const organization = options.member ? simulatedOrganization(event) : from?.organization;
  const configured = replayConfig(targetsOf(event.detail).cluster, options.dryRun);
  const base = options.approval ? { ...configured, requireApproval: options.approval.actions } : configured;
  const config = organization ? asMemberOf(organization, base, event) : base;
  const { run, simulation, saved } = await respondInSimulation(event, config, {
    input: executionInput(event, options),
    from,
    forged: options.forged,
    save: true,
    clusterObjects: options.world ? loadWorld(options.world) : undefined,
    organization,
    answer: options.approval
      ? { approve: options.approval.approve, by: 'the replay (--approve / --deny)' }
      : undefined,
  });
  if (saved) saveSimulation(saved, options.state);
  hooks.onSimulation?.(simulation);
  const where = organization
    ? `the responder in account ${organization.home.accountId} ${organization.home.region}, the finding in member account ${event.detail.accountId} ${event.detail.region} (its ${organization.memberAccess.roleName} role assumed ${simulation.account.state.assumed.length} time(s))`
    : `account ${event.detail.accountId} ${event.detail.region}`;
  out(
    `Simulation: ${where}, cluster ${simulation.cluster ?? 'none'}, on this machine${from ? `, resumed from ${options.state}` : ''}`,
  );
  const code = report(run, simulation.home.state.published.at(-1), out);
  out('');
  keepReport(simulation.home.state.evidence.objects, event.detail.id, dirname(options.state), out);
  out(
    options.dryRun || config.dryRun
      ? `The simulation is saved in ${options.state}; a dry run changed nothing, so there is nothing to undo.`
      : `The simulation is saved in ${options.state}: npm run release -- ${event.detail.id} undoes it.`,
  );
  return code;
}

/** The incident table of a local replay: the one named at the endpoint, or one in memory for this run. */
async function localStore(options: ReplayOptions, overrides: ClientOverrides, out: Out) {
  if (options.table) {
    const key = kmsRecordKey(new KMSClient(overrides), options.recordKey ?? '');
    return {
      store: IncidentStore.dynamodb(new DynamoDBClient(overrides), options.table, key),
      stop: async () => {},
    };
  }
  out('Incident records: a table in memory for this replay only (--table NAME keeps them).');
  const table = await LocalIncidentTable.start();
  return { store: table.store(), stop: () => table.stop() };
}

async function replayLocal(event: FindingEvent, options: ReplayOptions, out: Out): Promise<number> {
  const overrides: ClientOverrides = { endpoint: options.endpointUrl, region: options.region };
  const clients = awsClients(overrides);
  const region = await clients.ec2.config.region();
  const identity = await new STSClient(overrides).send(new GetCallerIdentityCommand({}));
  const location: ResponderLocation = { accountId: identity.Account ?? '', region };
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(options.kubeconfig ?? '');
  if (options.context) kubeConfig.setCurrentContext(options.context);
  const clusterAt = localCluster(options.kubeconfig ?? '', options.context);
  const cluster = options.rewrites.cluster ?? targetsOf(event.detail).cluster;
  // The notification, and the evidence without --evidence-bucket, stay here, in a simulated account;
  // so does GuardDuty, which holds the replayed finding (a rehearsal: it is no finding of the account's).
  const captured = simulatedAccount({ guardDuty: { findings: [event.detail] } });
  const capture = new AwsApiServer(captured);
  const captureOverrides: ClientOverrides = {
    endpoint: await capture.start(),
    region,
    credentials: { accessKeyId: 'AKIASIMULATION00000', secretAccessKey: 'simulation' },
  };
  const sns = new SNSClient(options.topicArn ? overrides : captureOverrides);
  if (!options.evidenceBucket)
    out(
      `Evidence: kept on this machine for this replay only (--evidence-bucket NAME writes it to that bucket).`,
    );
  const records = await localStore(options, overrides, out);
  try {
    const config = replayConfig(cluster, options.dryRun);
    out(
      `Local: cluster ${kubeConfig.getCurrentCluster()?.server} as ${cluster}, account ${location.accountId} ${region}`,
    );
    out(`Kubernetes: ${clusterAt.describe()}`);
    out(
      'GuardDuty: the replayed finding is read back from this machine, where it is held for this rehearsal.',
    );
    const run = await runLocally(
      synthesizedDefinition(config, location),
      executionInput(event, options),
      taskHandlers({
        settings: settingsOf(config),
        location,
        reach: (fn) =>
          reach({
            home: location,
            settings: settingsOf(config),
            sessionName: fn,
            overrides,
            // A client per invocation, as in Lambda: an outage seen by one step does not outlive it.
            kubernetes: async () => new Kubernetes(clusterAt.apisOf(fn)),
          }),
        store: records.store,
        evidence: {
          s3: evidenceClients(options.evidenceBucket ? overrides : captureOverrides).s3,
          bucket: options.evidenceBucket ?? LOCAL_EVIDENCE_BUCKET,
          hostOutput: options.evidenceBucket ? (options.hostOutputBucket ?? null) : LOCAL_HOST_OUTPUT_BUCKET,
        },
        sns,
        topicArn:
          options.topicArn ?? `arn:aws:sns:${region}:${location.accountId}:guardduty-responder-replay`,
        // The finding in the account's own Security Hub, as the deployed stack notes it.
        securityHub: (findingRegion) =>
          new SecurityHubClient(clientConfig({ ...overrides, region: findingRegion })),
        // Task tokens, encrypted under this machine's simulated approval key for the rehearsal.
        tokens: localTokens(captured.state.macKey),
        findingSource: async (finding) =>
          new AwsReader(awsClients({ ...captureOverrides, region: finding.region })).heldFinding(
            detectorOf(finding.arn) ?? '',
            finding.id,
          ),
      }),
    );
    const code = report(run, options.topicArn ? undefined : captured.state.published.at(-1), out);
    if (!options.evidenceBucket)
      keepReport(captured.state.evidence.objects, event.detail.id, dirname(options.state), out);
    else
      out(
        `Incident report: ${reportCommand(options.evidenceBucket, event.detail.id)} (in the evidence bucket)`,
      );
    return code;
  } finally {
    await Promise.all([capture.stop(), records.stop()]);
  }
}

async function replayDeployed(event: FindingEvent, options: ReplayOptions, out: Out): Promise<number> {
  const clients = deployedClients(options.region);
  const arn = await stateMachineArn(options.deployed ?? '', clients);
  const input = executionInput(event, options);
  const name = `replay-${event.detail.id.slice(0, 32)}-${Date.now()}`
    .replace(/[^A-Za-z0-9-_]/g, '-')
    .slice(0, 80);
  out(`Deployed: starting ${name} on ${arn}`);
  const result = await runDeployed(arn, input, clients, { name });
  for (const line of timeline(result.events)) out(line);
  out('');
  out(`Execution ${result.executionArn}: ${result.status}; the notification went to the stack's topic.`);
  return result.status === 'SUCCEEDED' ? 0 : 1;
}

/** The sample GuardDuty findings of `events/`, by finding id: what a custom action may select here. */
function sampleFindings(): Map<string, FindingEvent> {
  const dir = new URL('../events/', import.meta.url);
  const found = new Map<string, FindingEvent>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
    const event = parseFindingEvent(JSON.parse(readFileSync(new URL(file, dir), 'utf8')));
    found.set(event.detail.id, event);
  }
  return found;
}

/**
 * A Security Hub custom action event, in the simulation: the real intake function reads each selected
 * finding from a GuardDuty that holds the sample findings of `events/`, and each response it starts runs
 * as any replay does, with the input the intake gave it.
 */
async function replayCustomAction(
  event: CustomActionEvent,
  options: ReplayOptions,
  out: Out,
  hooks: ReplayHooks,
): Promise<number> {
  if (options.mode !== 'simulation')
    throw new InputError('a Security Hub custom action event replays in the simulation only');
  const samples = sampleFindings();
  const { requests } = requestedFindings(event);
  const held = requests.flatMap((r) => samples.get(r.findingId)?.detail ?? []);
  const capture = new AwsApiServer(simulatedAccount({ guardDuty: { findings: held } }));
  const started: string[] = [];
  try {
    const overrides: ClientOverrides = {
      endpoint: await capture.start(),
      region: requests[0]?.region ?? 'us-east-1',
      credentials: { accessKeyId: 'AKIASIMULATION00000', secretAccessKey: 'simulation' },
    };
    const sfn = {
      send: async (command: { input: { input?: string } }) => {
        started.push(command.input.input ?? '{}');
        return {
          executionArn: `arn:aws:states:${overrides.region}:111122223333:execution:simulation:${started.length}`,
        };
      },
    } as unknown as SFNClient;
    const intake = securityHubIntakeHandler(
      (location) =>
        reach({
          home: location,
          settings: { members: [], memberRoleName: DEFAULT_MEMBER_ROLE_NAME, externalId: null },
          sessionName: 'security-hub-intake',
          overrides: { ...overrides, region: location.region },
        })(location),
      sfn,
      'arn:aws:states:us-east-1:111122223333:stateMachine:simulation',
    );
    const report = await intake(event);
    out(
      `Security Hub custom action "${report.action}"${report.dryRun ? ' (a dry run)' : ''}: ${requests.length} GuardDuty finding(s) selected, ${report.started.length} response(s) started`,
    );
    for (const refusal of report.refused) out(`  refused: ${refusal}`);
  } finally {
    await capture.stop();
  }
  let code = started.length > 0 ? 0 : 1;
  for (const input of started) {
    const parsed = JSON.parse(input) as Record<string, unknown>;
    const finding = parseFindingEvent(parsed);
    const config = replayConfig(targetsOf(finding.detail).cluster, false);
    const { run, simulation, saved } = await respondInSimulation(finding, config, {
      input: parsed,
      save: true,
    });
    if (saved) saveSimulation(saved, options.state);
    hooks.onSimulation?.(simulation);
    out('');
    out(
      `Simulation: account ${finding.detail.accountId} ${finding.detail.region}, finding ${finding.detail.id}`,
    );
    code = Math.max(code, report(run, simulation.home.state.published.at(-1), out));
    keepReport(simulation.home.state.evidence.objects, finding.detail.id, dirname(options.state), out);
  }
  return code;
}

export async function replay(
  argv: readonly string[],
  out: Out,
  err: Out,
  hooks: ReplayHooks = {},
): Promise<number> {
  return exitCodeOf(
    'replay',
    err,
    async () => {
      const options = parseReplayArgs(argv);
      const custom = customActionIn(options.file);
      if (custom) return await replayCustomAction(custom, options, out, hooks);
      const event = loadEvent(options);
      if (options.mode === 'deployed') return await replayDeployed(event, options, out);
      if (options.mode === 'local') return await replayLocal(event, options, out);
      return await replaySimulation(event, options, out, hooks);
    },
    out,
  );
}
