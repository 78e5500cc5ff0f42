/**
 * People in the simulation: each signs what they ask with their own simulated credentials
 * (`AKIAPERSON<NAME>`, the IAM user `<name>`), and the functions learn who from the simulated STS.
 */
import { answerDigest } from '../../lambdas/approval/approval.js';
import { callerProof, requestDigest, type StsEndpoint } from '../../lambdas/clients/caller.js';
import { type CallerCheck, stsCallers } from '../../lambdas/clients/caller-check.js';

type Reachable = { overrides: { region?: string; endpoint?: string } };

const stsOf = (sim: Reachable): StsEndpoint => ({
  region: String(sim.overrides.region ?? 'us-east-1'),
  endpoint: sim.overrides.endpoint,
});

/** The ARN the simulated STS gives a person. */
export const personArn = (name: string, accountId = '111122223333') =>
  `arn:aws:iam::${accountId}:user/${name}`;

/** How the functions authenticate callers in this simulation: its STS. */
export const callersOf = (sim: Reachable): CallerCheck => stsCallers(stsOf(sim));

const proofBy = (sim: Reachable, name: string, digest: string) =>
  callerProof({
    digest,
    at: stsOf(sim),
    credentials: { accessKeyId: `AKIAPERSON${name.toUpperCase()}`, secretAccessKey: 'simulation' },
  });

/** A release or recovery as `name` asks it, countersigned by `second` when given. */
export async function asked(
  sim: Reachable,
  command: 'release' | 'recover',
  request: { findingId: string; dryRun?: boolean },
  name = 'alice',
  second?: string,
): Promise<Record<string, unknown>> {
  const digest = requestDigest(command, { findingId: request.findingId, dryRun: request.dryRun ?? false });
  return {
    findingId: request.findingId,
    dryRun: request.dryRun ?? false,
    caller: await proofBy(sim, name, digest),
    ...(second ? { countersignedBy: await proofBy(sim, second, digest) } : {}),
  };
}

/** An approval answer as `name` gives it. */
export async function answered(
  sim: Reachable,
  answer: { findingId: string; action?: string; approve: boolean },
  name = 'alice',
): Promise<Record<string, unknown>> {
  return { ...answer, caller: await proofBy(sim, name, answerDigest(answer)) };
}
