/**
 * The finding is verified at its source before anything is planned: Identify reads it back from GuardDuty
 * (GetFindings, the detector from the finding's ARN, in the finding's account and region, through the
 * member role there) and refuses one GuardDuty does not hold, or holds otherwise than the event says in
 * what the response acts on (lambdas/core/provenance.ts). Whoever can start an execution, or put an
 * event on the bus, cannot make the responder act on a finding of their own. A GuardDuty that cannot be
 * asked (access denied) fails the identification instead: unverified is not refused, and not acted on.
 */
import { AwsReader } from '../clients/aws.js';
import type { Reach } from '../clients/reach.js';
import { type Finding, FindingSchema } from '../core/finding.js';
import { detectorOf, differences } from '../core/provenance.js';
import { isTransient, messageOf, TransientError } from '../shared/errors.js';

/** A finding the responder does not act on: the message says why, and nothing was done. */
export class FindingRefusedError extends Error {
  override readonly name = 'FindingRefused';
}

/** The finding as GuardDuty holds it (the event's JSON shape), or null when it holds none with that id. */
export type FindingSource = (finding: Finding) => Promise<unknown | null>;

/** GuardDuty of the finding's account and region, reached as the function is (its member role there). */
export const guardDutySource =
  (reach: Reach): FindingSource =>
  async (finding) => {
    const detector = detectorOf(finding.arn);
    if (!detector)
      throw new FindingRefusedError(
        `finding ${finding.id} names no GuardDuty detector in its ARN (${finding.arn}): nothing is done`,
      );
    return new AwsReader(reach(finding)).heldFinding(detector, finding.id);
  };

/** Resolves when GuardDuty holds the finding as the event says; a FindingRefusedError otherwise. */
export async function verifyAtSource(finding: Finding, source: FindingSource): Promise<void> {
  const where = `account ${finding.accountId}, ${finding.region}`;
  let held: unknown;
  try {
    held = await source(finding);
  } catch (error) {
    if (error instanceof FindingRefusedError) throw error;
    // Throttling or an outage is retried by the state machine; anything else (access denied, a role that
    // cannot be assumed) fails the identification: the finding is unverified, and nothing is done.
    if (isTransient(error)) throw new TransientError(`GuardDuty GetFindings: ${messageOf(error)}`);
    throw new Error(
      `finding ${finding.id} could not be read back from GuardDuty (${where}): ${messageOf(error)}; nothing is done until it can`,
    );
  }
  if (held === null)
    throw new FindingRefusedError(
      `GuardDuty does not hold finding ${finding.id} (detector ${detectorOf(finding.arn)}, ${where}): nothing is done; only a finding GuardDuty holds is answered`,
    );
  const parsed = FindingSchema.safeParse(held);
  if (!parsed.success)
    throw new FindingRefusedError(
      `GuardDuty's copy of finding ${finding.id} could not be read (${parsed.error.issues[0]?.message ?? 'invalid'}): nothing is done`,
    );
  const found = differences(finding, parsed.data);
  if (found.length > 0)
    throw new FindingRefusedError(
      `finding ${finding.id} differs from what GuardDuty holds (${found.join('; ')}): nothing is done`,
    );
}
