#!/usr/bin/env node
/**
 * npm run release -- <finding id> [options]
 *
 * Undoes an incident's containment from its record once the investigation is over (see
 * lambdas/release/release.ts), and prints what was undone, kept and left as evidence.
 *   (default)              simulation: the one the last `npm run replay` saved (--state PATH)
 *   --deployed STACK       invokes the deployed stack's release function (--region)
 *   --dry-run              shows what would be undone; changes nothing (the dry run is recorded)
 * Exit code 0 when everything was undone (or would be), 1 when a step failed, 2 for bad input.
 */
import { fileURLToPath } from 'node:url';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { releaseHandler } from '../lambdas/handlers/release.js';
import { describeRelease, ReleaseError, type ReleaseReport } from '../lambdas/release/release.js';
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
};

export function parseReleaseArgs(argv: readonly string[]): ReleaseOptions {
  const { values, positionals } = parseCommandLine(argv, {
    'dry-run': { type: 'boolean', default: false },
    state: { type: 'string', default: SAVED_SIMULATION },
    deployed: { type: 'string' },
    region: { type: 'string' },
  });
  if (positionals.length !== 1 || !positionals[0])
    throw new InputError('give exactly one finding id: npm run release -- <finding id> [options]');
  return {
    findingId: positionals[0],
    dryRun: values['dry-run'] ?? false,
    state: values.state ?? SAVED_SIMULATION,
    deployed: values.deployed,
    region: values.region,
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

export async function release(argv: readonly string[], out: Out, err: Out): Promise<number> {
  return exitCodeOf('release', err, async () => {
    const options = parseReleaseArgs(argv);
    return options.deployed ? await releaseDeployed(options, out) : await releaseInSimulation(options, out);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await release(
    process.argv.slice(2),
    (line) => console.log(line),
    (line) => console.error(line),
  );
}
