/** Evidence into the incident record (the chain of custody, signed); a failure to record is itself reported. */
import type { Seal } from '../incident/signature.js';
import type { IncidentStore } from '../incident/store.js';
import { messageOf } from '../shared/errors.js';
import type { EvidenceReport, EvidenceResult } from './pods.js';

/** Writes the step's objects to the record, and reports the step for the execution state. */
export async function recordEvidence(
  store: IncidentStore,
  seal: Seal,
  result: EvidenceResult,
): Promise<EvidenceReport> {
  const { objects, ...report } = result;
  try {
    await store.recordEvidence(seal, objects, new Date().toISOString());
    return { ...report, count: objects.length };
  } catch (error) {
    const problem = `${objects.length} object(s) not written to the incident record: ${messageOf(error)}`;
    return { ...report, count: objects.length, problems: [...report.problems, problem] };
  }
}
