#!/usr/bin/env node
/**
 * npm run release -- <finding id> [options]
 *
 * Undoes an incident's containment from its record once the investigation is over (see
 * lambdas/release/release.ts), and prints what was undone, kept and left as evidence.
 *   (default)              simulation: the one the last `npm run replay` saved (--state PATH)
 *   --deployed STACK       invokes the deployed stack's release function (--region)
 *   --kubeconfig PATH --table NAME [--context C] [--endpoint-url URL] [--region R]
 *                          local: undoes a local replay's rehearsal from this machine
 *   --dry-run              shows what would be undone; changes nothing (the dry run is recorded)
 * Exit code 0 when everything was undone (or would be), 1 when a step failed, 2 for bad input.
 */
import { fileURLToPath } from 'node:url';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { KubeConfig } from '@kubernetes/client-node';
import { awsClients } from '../lambdas/clients/aws.js';
import { type ClientOverrides, clientConfig } from '../lambdas/clients/config.js';
import { apisFromKubeConfig, Kubernetes } from '../lambdas/clients/kubernetes.js';
import { evidenceClients } from '../lambdas/evidence/clients.js';
import { releaseHandler } from '../lambdas/handlers/release.js';
import { IncidentStore } from '../lambdas/incident/store.js';
import {
  describeRelease,
  ReleaseError,
  type ReleasePorts,
  type ReleaseReport,
  releaseIncident,
} from '../lambdas/release/release.js';
import { exitCodeOf, InputError, type Out, parseCommandLine } from './cli.js';
import { stackOutput } from './replay/deployed.js';
import {
  loadSimulation,
  resumeSimulation,
  SAVED_SIMULATION,
  saveable,
  saveSimulation,
  simulatedReleasePorts,
} from './simulation/simulation.js';

export type ReleaseOptions = {
  findingId: string;
  dryRun: boolean;
  state: string;
  deployed?: string;
  region?: string;
  kubeconfig?: string;
  context?: string;
  endpointUrl?: string;
  table?: string;
};

export function parseReleaseArgs(argv: readonly string[]): ReleaseOptions {
  const { values, positionals } = parseCommandLine(argv, {
    'dry-run': { type: 'boolean', default: false },
    state: { type: 'string', default: SAVED_SIMULATION },
    deployed: { type: 'string' },
    region: { type: 'string' },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    'endpoint-url': { type: 'string' },
    table: { type: 'string' },
  });
  if (positionals.length !== 1 || !positionals[0])
    throw new InputError('give exactly one finding id: npm run release -- <finding id> [options]');
  if (values.kubeconfig && values.deployed)
    throw new InputError('--deployed releases in the account; it does not take --kubeconfig');
  if (values.kubeconfig && !values.table)
    throw new InputError('--kubeconfig releases from the table the local replay used: give --table NAME');
  if ((values.table || values['endpoint-url']) && !values.kubeconfig)
    throw new InputError('--table and --endpoint-url are for the local mode: give --kubeconfig as well');
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
  };
}

const exitCode = (report: ReleaseReport) => (report.steps.some((step) => step.status === 'failed') ? 1 : 0);

async function releaseInSimulation(options: ReleaseOptions, out: Out): Promise<number> {
  const saved = loadSimulation(options.state);
  if (!saved)
    throw new InputError(`no simulation at ${options.state}: run npm run replay -- <event.json> first`);
  const simulation = await resumeSimulation(saved);
  try {
    const release = releaseHandler(
      simulatedReleasePorts(simulation),
      new SNSClient(simulation.overrides),
      `arn:aws:sns:${saved.location.region}:${saved.location.accountId}:guardduty-responder-simulation`,
    );
    let report: ReleaseReport;
    try {
      report = await release({
        findingId: options.findingId,
        dryRun: options.dryRun,
        requestedBy: 'npm run release',
      });
    } catch (error) {
      if (!(error instanceof ReleaseError)) throw error;
      const open = saved.incidents
        .filter((record) => record.state === 'open')
        .map((record) => record.findingId);
      throw new InputError(
        `${error.message} (open incidents in the simulation: ${open.join(', ') || 'none'})`,
      );
    }
    out(`Simulation: ${options.state}, account ${saved.location.accountId} ${saved.location.region}`);
    for (const line of describeRelease(report)) out(line);
    saveSimulation(await saveable(simulation, saved.location), options.state);
    return exitCode(report);
  } finally {
    await simulation.stop();
  }
}

async function releaseDeployed(options: ReleaseOptions, out: Out): Promise<number> {
  const functionName = await stackOutput(
    options.deployed ?? '',
    'ReleaseFunctionName',
    new CloudFormationClient({ region: options.region }),
  );
  const caller = await new STSClient({ region: options.region }).send(new GetCallerIdentityCommand({}));
  const answer = await new LambdaClient({ region: options.region }).send(
    new InvokeCommand({
      FunctionName: functionName,
      Payload: JSON.stringify({
        findingId: options.findingId,
        dryRun: options.dryRun,
        requestedBy: caller.Arn ?? 'unknown',
      }),
    }),
  );
  const payload = JSON.parse(Buffer.from(answer.Payload ?? new Uint8Array()).toString('utf8') || 'null');
  if (answer.FunctionError) {
    const message = `${payload?.errorType ?? answer.FunctionError}: ${payload?.errorMessage ?? ''}`;
    if (payload?.errorType === 'ReleaseError') throw new InputError(message);
    throw new Error(message);
  }
  out(`Deployed: ${functionName}`);
  for (const line of describeRelease(payload as ReleaseReport)) out(line);
  return exitCode(payload as ReleaseReport);
}

/**
 * Local mode: the release of a rehearsal that `npm run replay -- … --kubeconfig` contained, from this
 * machine, against the same cluster, account (or AWS-compatible endpoint) and incident table.
 */
async function releaseLocal(options: ReleaseOptions, out: Out): Promise<number> {
  const overrides: ClientOverrides = { endpoint: options.endpointUrl, region: options.region };
  const clients = awsClients(overrides);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(options.kubeconfig ?? '');
  if (options.context) kubeConfig.setCurrentContext(options.context);
  const apis = apisFromKubeConfig(kubeConfig);
  const ports: ReleasePorts = {
    ...clients,
    store: new IncidentStore(new DynamoDBClient(clientConfig(overrides)), options.table ?? ''),
    kubernetes: async () => new Kubernetes(apis),
    ssm: evidenceClients(overrides).ssm,
  };
  let report: ReleaseReport;
  try {
    report = await releaseIncident(
      { findingId: options.findingId, dryRun: options.dryRun, requestedBy: 'npm run release (local)' },
      ports,
    );
  } catch (error) {
    if (error instanceof ReleaseError) throw new InputError(error.message);
    throw error;
  }
  out(`Local: cluster ${apis.server}, table ${options.table}`);
  for (const line of describeRelease(report)) out(line);
  return exitCode(report);
}

export async function release(argv: readonly string[], out: Out, err: Out): Promise<number> {
  return exitCodeOf('release', err, async () => {
    const options = parseReleaseArgs(argv);
    if (options.deployed) return await releaseDeployed(options, out);
    if (options.kubeconfig) return await releaseLocal(options, out);
    return await releaseInSimulation(options, out);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await release(
    process.argv.slice(2),
    (line) => console.log(line),
    (line) => console.error(line),
  );
}
