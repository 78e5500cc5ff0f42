/**
 * What `npm run release` and `npm run recover` share: the ways to end an incident once the investigation
 * is over, in the saved simulation, through the deployed stack's function, or locally against a
 * kubeconfig cluster and the table a local replay used.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { callerProof, PROOF_SECONDS, requestDigest, type StsEndpoint } from '../lambdas/clients/caller.js';
import { type CallerCheck, stsCallers } from '../lambdas/clients/caller-check.js';
import { type ClientOverrides, clientConfig } from '../lambdas/clients/config.js';
import { Kubernetes } from '../lambdas/clients/kubernetes.js';
import { reach } from '../lambdas/clients/reach.js';
import { DEFAULT_MEMBER_ROLE_NAME } from '../lambdas/core/settings.js';
import { evidenceClients } from '../lambdas/evidence/clients.js';
import { bucketClosures, memoryClosures } from '../lambdas/incident/closures.js';
import type { PersonRequest } from '../lambdas/incident/record.js';
import { RecordRefusedError, UnknownIncidentError } from '../lambdas/incident/seal.js';
import { kmsRecordKey } from '../lambdas/incident/signature.js';
import { IncidentStore } from '../lambdas/incident/store.js';
import type { ReleasePorts } from '../lambdas/release/release.js';
import {
  loadSimulation,
  resumeSimulation,
  SAVED_SIMULATION,
  saveable,
  savedSettings,
  saveSimulation,
  simulatedReleasePorts,
} from '../simulation/simulation.js';
import { exitCodeOf, InputError, type Out, parseCommandLine } from './cli.js';
import { localCluster } from './kubeconfig.js';
import { stackOutput } from './replay/deployed.js';
import { localReportPath, writeClosingReport } from './report.js';

export type ClosingOptions = {
  findingId: string;
  dryRun: boolean;
  state: string;
  deployed?: string;
  region?: string;
  kubeconfig?: string;
  context?: string;
  endpointUrl?: string;
  table?: string;
  /** The KMS HMAC key the table's entries are signed with (the stack's RecordKeyId output). */
  recordKey?: string;
  /** Local mode: the bucket incidents are closed in (lambdas/incident/closures.ts); in memory without. */
  evidenceBucket?: string;
  /** Print a countersignature for this request (a second person's), change nothing. */
  countersign: boolean;
  /** A second person's countersignature (their `--countersign` token). */
  countersignedBy?: string;
  /** The simulation: the person you are (a simulated IAM user); `operator` by default. */
  as: string;
  /** Local mode, recover: watch the deleted pods from this machine until they are gone or held. */
  wait: boolean;
};

/** One way of ending an incident: release or recover. */
/** What the command prints and exits with: 1 when a step failed or a record entry was refused. */
type ClosingReport = { steps: readonly { status: string }[] };

const exitCodeOfReport = (report: ClosingReport) =>
  report.steps.some((step) => step.status === 'failed' || step.status === 'refused') ? 1 : 0;

export type Closing<Report extends ClosingReport> = {
  /** The npm script, which names the command in messages and in the record. */
  command: 'release' | 'recover';
  /** The stack output that names the deployed function. */
  functionOutput: string;
  run: (request: PersonRequest, ports: ReleasePorts) => Promise<Report>;
  /** The same through the Lambda handler, which publishes the notice. */
  handler: (
    ports: ReleasePorts,
    sns: SNSClient,
    topicArn: string,
    callers: CallerCheck,
    hub: (region: string) => SecurityHubClient,
  ) => (input: unknown) => Promise<Report>;
  describe: (report: Report) => string[];
  /** The refusal that changed nothing (unknown finding, not open, evidence incomplete). */
  refusal: new (
    ...args: never[]
  ) => Error;
  /** The exit code of a refusal: 2 (bad input) for release, 1 for a recovery the evidence holds back. */
  refusalExitCode: 1 | 2;
  /** What `--wait` does after the run in local mode (recover: watch the deleted pods); absent: no --wait. */
  waitFor?: (report: Report, kubernetes: (cluster: string) => Promise<Kubernetes>, out: Out) => Promise<void>;
};

/**
 * The request as the function takes it, signed as the person who runs the command (their proof, bound to
 * this very request), with a second person's countersignature when one was given; and the proof alone,
 * which `--countersign` prints.
 */
async function signedRequest(
  closing: { command: 'release' | 'recover' },
  options: ClosingOptions,
  at: StsEndpoint,
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider,
): Promise<{ request: Record<string, unknown>; proof: string }> {
  const digest = requestDigest(closing.command, { findingId: options.findingId, dryRun: options.dryRun });
  const caller = await callerProof({ digest, at, credentials });
  const request = {
    findingId: options.findingId,
    dryRun: options.dryRun,
    caller,
    ...(options.countersignedBy ? { countersignedBy: options.countersignedBy } : {}),
  };
  return { request, proof: caller };
}

/** `--countersign`: the token a second person hands to the one who releases; nothing else happens. */
function countersigned(
  closing: { command: 'release' | 'recover' },
  options: ClosingOptions,
  at: StsEndpoint,
  proof: string,
  out: Out,
): number {
  out(
    `Countersignature for ${closing.command}${options.dryRun ? ' --dry-run' : ''} of finding ${options.findingId} (valid ${PROOF_SECONDS / 60} minutes, STS of ${at.region}); nothing was changed. The person who ${closing.command}s adds:`,
  );
  out(`--countersigned-by ${proof}`);
  return 0;
}

/**
 * The address the simulation's proofs name: stable, so that a countersignature made in one command holds
 * in the next (each resumes the simulation on another port).
 */
const SIMULATED_STS = 'http://sts.simulation.invalid';

/** A refusal, with the exit code the command gives it. */
class Refused extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export function parseClosingArgs(command: string, argv: readonly string[]): ClosingOptions {
  const { values, positionals } = parseCommandLine(
    argv,
    {
      'dry-run': { type: 'boolean', default: false },
      state: { type: 'string', default: SAVED_SIMULATION },
      countersign: { type: 'boolean', default: false },
      'countersigned-by': { type: 'string' },
      as: { type: 'string', default: 'operator' },
      deployed: { type: 'string' },
      region: { type: 'string' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      'endpoint-url': { type: 'string' },
      table: { type: 'string' },
      'record-key': { type: 'string' },
      'evidence-bucket': { type: 'string' },
      wait: { type: 'boolean', default: false },
    },
    { name: command, positional: '<finding id>' },
  );
  if (positionals.length !== 1 || !positionals[0])
    throw new InputError(`give exactly one finding id: npm run ${command} -- <finding id> [options]`);
  if (values.kubeconfig && (values.countersign || values['countersigned-by']))
    throw new InputError(
      '--countersign and --countersigned-by are for the deployed stack and the simulation: the local mode acts with your own credentials',
    );
  if (values.as !== undefined && !/^[a-z0-9]{1,32}$/.test(values.as))
    throw new InputError('--as takes a simulated person name of lowercase letters and digits');
  if (values.kubeconfig && values.deployed)
    throw new InputError('--deployed runs in the account; it does not take --kubeconfig');
  if (values.wait && (command !== 'recover' || !values.kubeconfig))
    throw new InputError(
      '--wait is for npm run recover in local mode (--kubeconfig); deployed, the RecoveryWatch state machine watches',
    );
  if (values.kubeconfig && !(values.table && values['record-key']))
    throw new InputError(
      '--kubeconfig works from the table the local replay used and the key that signed it: give --table NAME and --record-key KEY',
    );
  if (
    (values.table || values['endpoint-url'] || values['record-key'] || values['evidence-bucket']) &&
    !values.kubeconfig
  )
    throw new InputError(
      '--table, --record-key, --evidence-bucket and --endpoint-url are for the local mode: give --kubeconfig as well',
    );
  return {
    findingId: positionals[0],
    dryRun: values['dry-run'] ?? false,
    state: values.state ?? SAVED_SIMULATION,
    deployed: values.deployed,
    region: values.region,
    kubeconfig: values.kubeconfig,
    context: values.context,
    endpointUrl: values['endpoint-url'],
    table: values.table,
    recordKey: values['record-key'],
    evidenceBucket: values['evidence-bucket'],
    countersign: values.countersign ?? false,
    countersignedBy: values['countersigned-by'],
    as: values.as ?? 'operator',
    wait: values.wait ?? false,
  };
}

async function refusing<Report extends ClosingReport>(
  closing: Closing<Report>,
  run: () => Promise<Report>,
  hint = '',
) {
  try {
    return await run();
  } catch (error) {
    // A record that fails verification is no bad input: nothing was done, exit 1.
    if (error instanceof RecordRefusedError) throw new Refused(error.message, 1);
    // No record of the finding: bad input, whichever command was asked.
    if (error instanceof UnknownIncidentError) throw new Refused(`${error.message}${hint}`, 2);
    if (!(error instanceof closing.refusal)) throw error;
    throw new Refused(`${error.message}${hint}`, closing.refusalExitCode);
  }
}

async function inSimulation<Report extends ClosingReport>(
  closing: Closing<Report>,
  options: ClosingOptions,
  out: Out,
) {
  const saved = loadSimulation(options.state);
  if (!saved)
    throw new InputError(`no simulation at ${options.state}: run npm run replay -- <event.json> first`);
  const simulation = await resumeSimulation(saved);
  try {
    // The simulated STS authenticates the simulated person (--as) as STS would the real one.
    const sts: StsEndpoint = {
      region: saved.location.region,
      endpoint: SIMULATED_STS,
      via: simulation.overrides.endpoint,
    };
    const { request, proof } = await signedRequest(closing, options, sts, {
      accessKeyId: `AKIAPERSON${options.as.toUpperCase()}`,
      secretAccessKey: 'simulation',
    });
    if (options.countersign) return countersigned(closing, options, sts, proof, out);
    const settings = savedSettings(saved);
    const run = closing.handler(
      // As the deployed function: a release that would give IAM back needs a second person.
      {
        ...simulatedReleasePorts(simulation, closing.command, settings),
        secondPerson: settings.secondPerson,
      },
      new SNSClient(simulation.overrides),
      `arn:aws:sns:${saved.location.region}:${saved.location.accountId}:guardduty-responder-simulation`,
      stsCallers(sts),
      (region) => new SecurityHubClient(clientConfig({ ...simulation.overrides, region })),
    );
    const open = saved.incidents
      .filter((record) => record.state === 'open')
      .map((record) => record.findingId);
    const report = await refusing(
      closing,
      () => run(request),
      ` (open incidents in the simulation: ${open.join(', ') || 'none'})`,
    );
    out(`Simulation: ${options.state}, account ${saved.location.accountId} ${saved.location.region}`);
    const lines = closing.describe(report);
    for (const line of lines) out(line);
    await writeClosingReport(
      closing.command,
      lines,
      simulation.store(),
      options.findingId,
      localReportPath(options.state, options.findingId, closing.command),
      out,
    );
    saveSimulation(await saveable(simulation, saved.location, saved.organization), options.state);
    return exitCodeOfReport(report);
  } finally {
    await simulation.stop();
  }
}

async function deployed<Report extends ClosingReport>(
  closing: Closing<Report>,
  options: ClosingOptions,
  out: Out,
) {
  const functionName = await stackOutput(
    options.deployed ?? '',
    closing.functionOutput,
    new CloudFormationClient({ region: options.region }),
  );
  // Signed as the caller, with the credentials of the usual chain: the function learns who from STS.
  const sts: StsEndpoint = { region: options.region ?? process.env.AWS_REGION ?? 'us-east-1' };
  const { request, proof } = await signedRequest(
    closing,
    options,
    sts,
    new STSClient({ region: sts.region }).config.credentials,
  );
  if (options.countersign) return countersigned(closing, options, sts, proof, out);
  const answer = await new LambdaClient({ region: options.region }).send(
    new InvokeCommand({ FunctionName: functionName, Payload: JSON.stringify(request) }),
  );
  const payload = JSON.parse(Buffer.from(answer.Payload ?? new Uint8Array()).toString('utf8') || 'null');
  if (answer.FunctionError) {
    const message = `${payload?.errorType ?? answer.FunctionError}: ${payload?.errorMessage ?? ''}`;
    if (payload?.errorType === closing.refusal.name) throw new Refused(message, closing.refusalExitCode);
    if (payload?.errorType === 'UnknownIncident') throw new Refused(message, 2);
    if (payload?.errorType === 'RecordRefused' || payload?.errorType === 'CallerRefused')
      throw new Refused(message, 1);
    throw new Error(message);
  }
  out(`Deployed: ${functionName}`);
  for (const line of closing.describe(payload as Report)) out(line);
  return exitCodeOfReport(payload as Report);
}

/**
 * Local mode: ends a rehearsal that `npm run replay -- … --kubeconfig` contained, from this machine,
 * against the same cluster, account (or AWS-compatible endpoint) and incident table.
 */
async function local<Report extends ClosingReport>(
  closing: Closing<Report>,
  options: ClosingOptions,
  out: Out,
) {
  const overrides: ClientOverrides = { endpoint: options.endpointUrl, region: options.region };
  // As the function's own group where the kubeconfig has its context (commands/kubeconfig.ts).
  const clusterAt = localCluster(options.kubeconfig ?? '', options.context);
  // One client for every step: once the API server has spent the retry budget, later steps fail at once.
  const kube = new Kubernetes(clusterAt.apisOf(closing.command));
  const ports: ReleasePorts = {
    store: IncidentStore.dynamodb(
      new DynamoDBClient(clientConfig(overrides)),
      options.table ?? '',
      kmsRecordKey(new KMSClient(clientConfig(overrides)), options.recordKey ?? ''),
    ),
    // Closed in the bucket the local replay kept its evidence in; in memory (this command only) without.
    closures: options.evidenceBucket
      ? bucketClosures(evidenceClients(overrides).s3, options.evidenceBucket)
      : memoryClosures(),
    // The credentials of the usual chain, in the incident's region; no member account is assumed.
    reach: reach({
      home: { accountId: 'local', region: options.region ?? process.env.AWS_REGION ?? 'us-east-1' },
      settings: { members: [], memberRoleName: DEFAULT_MEMBER_ROLE_NAME, externalId: null },
      sessionName: closing.command,
      overrides,
      kubernetes: async () => kube,
    }),
  };
  const report = await refusing(closing, () =>
    closing.run(
      {
        findingId: options.findingId,
        dryRun: options.dryRun,
        requestedBy: `npm run ${closing.command} (local)`,
      },
      ports,
    ),
  );
  out(
    `Local: cluster ${kube.server} (${clusterAt.describe()}), table ${options.table}, closures ${options.evidenceBucket ? `in bucket ${options.evidenceBucket}` : 'not kept (--evidence-bucket NAME keeps them)'}`,
  );
  const lines = closing.describe(report);
  for (const line of lines) out(line);
  await writeClosingReport(
    closing.command,
    lines,
    ports.store,
    options.findingId,
    localReportPath(options.state, options.findingId, closing.command),
    out,
  );
  if (options.wait && closing.waitFor) await closing.waitFor(report, async () => kube, out);
  return exitCodeOfReport(report);
}

export async function runClosing<Report extends ClosingReport>(
  closing: Closing<Report>,
  argv: readonly string[],
  out: Out,
  err: Out,
): Promise<number> {
  return exitCodeOf(
    closing.command,
    err,
    async () => {
      const options = parseClosingArgs(closing.command, argv);
      try {
        if (options.deployed) return await deployed(closing, options, out);
        if (options.kubeconfig) return await local(closing, options, out);
        return await inSimulation(closing, options, out);
      } catch (error) {
        if (!(error instanceof Refused)) throw error;
        if (error.exitCode === 2) throw new InputError(error.message);
        err(`${closing.command}: ${error.message}`);
        return error.exitCode;
      }
    },
    out,
  );
}
