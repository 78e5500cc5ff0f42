/**
 * Where a finding comes from: the responder acts only on a finding GuardDuty holds as the event describes
 * it. Identify reads the finding back from GuardDuty (GetFindings, in the finding's account and region)
 * and compares what the response would act on; these are the pure parts of that check.
 */
import type { Finding } from './finding.js';
import { targetsOf } from './targets.js';

/** The detector that holds a finding, from its ARN (`…:detector/<detector id>/finding/<finding id>`). */
export function detectorOf(findingArn: string): string | null {
  const match = /:detector\/([^/]+)\/finding\/[^/]+$/.exec(findingArn);
  return match?.[1] ?? null;
}

/**
 * How the event's finding differs from the one GuardDuty holds, in what the response acts on or decides
 * by: its id, type, account, region, severity, the targets it names, and its time (GuardDuty's copy may
 * have been updated since the event, never the other way). Empty when they agree.
 */
export function differences(event: Finding, held: Finding): string[] {
  const found: string[] = [];
  const same = (what: string, a: unknown, b: unknown) => {
    if (a !== b) found.push(`${what}: the event says ${JSON.stringify(a)}, GuardDuty ${JSON.stringify(b)}`);
  };
  same('id', event.id, held.id);
  same('type', event.type, held.type);
  same('account', event.accountId, held.accountId);
  same('region', event.region, held.region);
  same('severity', event.severity, held.severity);
  if (Date.parse(event.updatedAt) > Date.parse(held.updatedAt))
    found.push(`updatedAt: the event says ${event.updatedAt}, later than GuardDuty's ${held.updatedAt}`);
  // Both from the same function: the same targets give the same JSON, key order included.
  if (JSON.stringify(targetsOf(event)) !== JSON.stringify(targetsOf(held)))
    found.push('the resources it names (cluster, workload, pods, instances, access key) are not the same');
  return found;
}
