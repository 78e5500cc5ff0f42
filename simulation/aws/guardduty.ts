/** GuardDuty: GetFindings answers from the findings the account's detectors hold. REST-JSON, members in camelCase, timestamps below the finding as epoch seconds. */
import type { SimulatedService } from './wire.js';

/**
 * The members GuardDuty's model types as timestamps below the finding itself (whose own createdAt and
 * updatedAt are strings): ProcessDetails, LineageObject, Signal, EksClusterDetails, EcsTaskDetails,
 * LambdaDetails, RuntimeContext, Session, S3 buckets and malware scans.
 */
const WIRE_TIMESTAMPS = new Set([
  'createdAt',
  'updatedAt',
  'startedAt',
  'startTime',
  'endTime',
  'modifiedAt',
  'lastModifiedAt',
  'createdTime',
  'firstSeenAt',
  'lastSeenAt',
  'launchedAt',
  'scanStartedAt',
  'scanCompletedAt',
]);

/** A finding as GetFindings puts it on the wire: the event's JSON with timestamp members as epoch seconds. */
function guardDutyWire(value: unknown, root = false): unknown {
  if (Array.isArray(value)) return value.map((item) => guardDutyWire(item));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => {
      const epoch = typeof field === 'string' && !root && WIRE_TIMESTAMPS.has(key) ? Date.parse(field) : NaN;
      return [key, Number.isNaN(epoch) ? guardDutyWire(field) : epoch / 1000];
    }),
  );
}

/** GuardDuty's REST-JSON: the one operation the responder calls. */
function guardDutyOperation(method: string, url: URL, body: string): { operation: string; input: unknown } {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (method === 'POST' && parts[0] === 'detector' && parts[2] === 'findings' && parts[3] === 'get')
    return { operation: 'GetFindings', input: { detectorId: parts[1], ...JSON.parse(body || '{}') } };
  throw Object.assign(new Error(`no GuardDuty operation at ${method} ${url.pathname}`), {
    name: 'BadRequestException',
  });
}

export const guardduty: SimulatedService = {
  operations: (s) => {
    const { findings } = s;
    return {
      /**
       * GuardDuty's REST-JSON names its members in camelCase, as the event does; its timestamp members
       * (a process's start, a signal's first sighting) are epoch seconds where the event has ISO strings.
       */
      GetFindings: (input: { detectorId?: string; findingIds?: string[] }) => ({
        findings: findings
          .filter((finding) => {
            const { id, arn } = finding as { id?: string; arn?: string };
            return (
              (input.findingIds ?? []).includes(id ?? '') &&
              (arn ?? '').includes(`:detector/${input.detectorId}/finding/`)
            );
          })
          .map((finding) => guardDutyWire(finding, true)),
      }),
    };
  },
  route: guardDutyOperation,
};
