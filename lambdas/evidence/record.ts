/** Evidence into the incident record (the chain of custody); a failure to record is itself reported. */
import type { IncidentStore } from '../incident/store.js';
import { messageOf } from '../shared/errors.js';
import type { EvidenceResult } from './pods.js';

export async function recordEvidence(
  store: IncidentStore,
  findingId: string,
  result: EvidenceResult,
): Promise<EvidenceResult> {
  try {
    await store.recordEvidence(findingId, result.objects, new Date().toISOString());
    return result;
  } catch (error) {
    return {
      ...result,
      problems: [...result.problems, `not written to the incident record: ${messageOf(error)}`],
    };
  }
}
