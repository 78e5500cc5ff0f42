/**
 * What the credentials did: for a credential finding, which CloudTrail event-history lookups answer it,
 * over which window, and the summary a person reads (how many calls, which services and actions, from
 * where, which failed, the first and the last). Pure; collect-credential-activity makes the calls.
 */
import type { ResponsePlan } from './plan.js';

/** Why the step has nothing to do: the notification leaves it out. */
export const NOT_A_CREDENTIAL_FINDING =
  'not a credential finding: no access key, user or pod role to look up';

/** One `LookupEvents` lookup attribute, and why the responder asks it. */
export type CredentialLookup = {
  key: 'AccessKeyId' | 'Username' | 'ResourceName';
  value: string;
  why: string;
};

/** A role the identification found for the finding's workload, with where it came from. */
export type RoleOfFinding = { arn: string | null; name: string; sources: readonly string[] };

/**
 * The lookups of a finding: the access key it names (an IAM user's, or an instance role session's, as
 * InstanceCredentialExfiltration names it), else its user name; and every IRSA or Pod Identity role of the
 * pods it touches, by the role as the resource of the calls that assumed it. None: not a credential
 * finding, nothing to look up.
 */
export function credentialLookups(plan: ResponsePlan, roles: readonly RoleOfFinding[]): CredentialLookup[] {
  const lookups: CredentialLookup[] = [];
  const key = plan.targets.accessKey;
  if (key?.accessKeyId)
    lookups.push({ key: 'AccessKeyId', value: key.accessKeyId, why: `the access key the finding names` });
  else if (key?.userName)
    lookups.push({ key: 'Username', value: key.userName, why: `the user the finding names` });
  for (const role of roles) {
    if (!role.arn || !role.sources.some((source) => source === 'irsa' || source === 'pod-identity')) continue;
    lookups.push({
      key: 'ResourceName',
      value: role.arn,
      why: `the role of the pods (${role.sources.join(', ')})`,
    });
  }
  return lookups;
}

/** The window: from `hoursBefore` the finding's first sighting (its creation) to now. */
export function lookupWindow(plan: ResponsePlan, hoursBefore: number, now: Date): { start: Date; end: Date } {
  const first = Date.parse(plan.finding.createdAt) || now.getTime();
  return { start: new Date(first - hoursBefore * 3_600_000), end: now };
}

/** A CloudTrail event as LookupEvents returns it, as far as the summary reads it. */
export type TrailEvent = {
  EventName?: string;
  EventSource?: string;
  EventTime?: Date | string;
  CloudTrailEvent?: string;
};

const top = (counts: Map<string, number>, n: number): string =>
  [...counts]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .slice(0, n)
    .map(([name, count]) => `${name} (${count})`)
    .join(', ');

const count = (values: readonly string[]): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
};

/** What the events say, in a few lines: calls, services, actions, addresses, errors, first and last. */
export function summarizeTrail(events: readonly TrailEvent[]): string[] {
  if (events.length === 0) return ['no calls recorded in the window'];
  const details = events.map((event) => {
    try {
      return JSON.parse(event.CloudTrailEvent ?? '{}') as { sourceIPAddress?: string; errorCode?: string };
    } catch {
      return {};
    }
  });
  const times = events
    .map((event) => new Date(event.EventTime ?? 0).getTime())
    .filter((time) => time > 0)
    .sort((a, b) => a - b);
  const services = count(events.map((event) => (event.EventSource ?? '?').replace(/\.amazonaws\.com$/, '')));
  const actions = count(events.map((event) => event.EventName ?? '?'));
  const addresses = count(details.map((detail) => detail.sourceIPAddress ?? '?'));
  const errors = count(details.flatMap((detail) => (detail.errorCode ? [detail.errorCode] : [])));
  const errorCount = [...errors.values()].reduce((sum, n) => sum + n, 0);
  return [
    `${events.length} call(s), first ${new Date(times[0] ?? 0).toISOString()}, last ${new Date(times.at(-1) ?? 0).toISOString()}`,
    `services: ${top(services, 6)}`,
    `actions: ${top(actions, 8)}`,
    `source addresses: ${top(addresses, 6)}`,
    errorCount > 0 ? `errors: ${errorCount} (${top(errors, 4)})` : 'errors: none',
  ];
}
