/**
 * A person's request (release, recover) checked at the edge: its shape, then who asked and who
 * countersigned, as STS authenticates them (caller.ts). One line on anything wrong; nothing is done.
 */
import { type PersonRequest, PersonRequestSchema } from '../incident/record.js';
import { CallerRefusedError, requestDigest, type StsEndpoint, verifiedCaller } from './caller.js';

/** Authenticates a proof for the request of this digest: the caller's ARN, or CallerRefusedError. */
export type CallerCheck = (proof: string, digest: string) => Promise<string>;

/** STS of the function's own region. */
export const stsCallers =
  (at: StsEndpoint): CallerCheck =>
  (proof, digest) =>
    verifiedCaller(proof, digest, at);

export async function checkedRequest(
  command: 'release' | 'recover',
  input: unknown,
  callers: CallerCheck,
): Promise<PersonRequest> {
  const parsed = PersonRequestSchema.safeParse(input);
  if (!parsed.success)
    throw new CallerRefusedError(
      `${command} input is not valid (${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('; ')}); nothing was done`,
    );
  const { findingId, dryRun, caller, countersignedBy } = parsed.data;
  const digest = requestDigest(command, { findingId, dryRun });
  const requestedBy = await callers(caller, digest);
  const second = countersignedBy ? await callers(countersignedBy, digest) : null;
  if (second === requestedBy)
    throw new CallerRefusedError(
      `the countersignature is ${requestedBy}'s own: a second, different person must countersign; nothing was done`,
    );
  return { findingId, dryRun, requestedBy, countersignedBy: second };
}
