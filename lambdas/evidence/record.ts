/** Evidence into the incident record (the chain of custody); a failure to record is itself reported. */
import type { IncidentStore } from '../incident/store.js';
import { messageOf } from '../shared/errors.js';
import type { EvidenceReport, EvidenceResult } from './pods.js';

/** Writes the step's objects to the record, and reports the step for the execution state. */
export async function recordEvidence(
  store: IncidentStore,
  findingId: string,
  result: EvidenceResult,
): Promise<EvidenceReport> {
  const { objects, ...report } = result;
  try {
    await store.recordEvidence(findingId, objects, new Date().toISOString());
    return { ...report, count: objects.length };
  } catch (error) {
    const problem = `${objects.length} object(s) not written to the incident record: ${messageOf(error)}`;
    return { ...report, count: objects.length, problems: [...report.problems, problem] };
  }
}
