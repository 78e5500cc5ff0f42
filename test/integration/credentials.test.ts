/**
 * What the credentials did: for a credential finding, CloudTrail's event history of its access key is
 * read in the finding's account, kept as evidence (JSON, hashed, signed in the record) and summarised in
 * the notification; bounded by pages, with what was left out said; a lookup CloudTrail keeps refusing is
 * reported and changes nothing of the containment. Through the simulation: the synthesized state machine,
 * the real handlers, CloudTrail's JSON protocol over HTTP.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { targetsOf } from '../../lambdas/core/targets.js';
import { parseConfig } from '../../simulation/cdk-json.js';
import { runLocally, synthesizedDefinition } from '../../simulation/runner.js';
import { type Simulation, simulatedHandlers } from '../../simulation/simulation.js';
import { worldFor } from '../../simulation/world.js';
import { RESPONDER } from '../support/events.js';
import { eventOf, useSimulation } from '../support/simulated.js';

const EVENT = 'iam-instance-credential-exfiltration-outside-aws.json';
const { simulate, start } = useSimulation();

async function respond(sim: Simulation, settings: Record<string, unknown> = {}) {
  const config = parseConfig({ clusters: [], ...settings });
  const event = eventOf(EVENT);
  const run = await runLocally(
    synthesizedDefinition(config, RESPONDER),
    event,
    simulatedHandlers(sim, config, RESPONDER),
  );
  const notice = sim.account.state.published
    .filter((p) => p.Subject?.startsWith('[guardduty-responder] '))
    .at(-1);
  const [record] = await sim.table.records();
  return {
    run,
    message: notice?.Message ?? '',
    outcome: notice?.MessageAttributes?.outcome?.StringValue,
    record,
  };
}

const lookups = (sim: Simulation) => sim.aws.requests.filter((r) => r.operation === 'LookupEvents');

describe('what the credentials did', () => {
  it('reads the access key’s event history, keeps it as evidence and says what it did', async () => {
    const sim = await simulate(eventOf(EVENT));

    const { run, message, record } = await respond(sim);

    expect(run.status).toBe('SUCCEEDED');
    expect(lookups(sim)).toHaveLength(1);
    expect(message).toContain('What the credentials did (CloudTrail event history):');
    expect(message).toMatch(
      /AccessKeyId ASIAEXAMPLEWEBSERVER \(the access key the finding names\) in us-east-1, 2026-11-19T11:25:\S+ to \S+:/,
    );
    expect(message).toContain('7 call(s), first 2026-11-20T11:21:05.000Z, last 2026-11-20T11:39:51.000Z');
    expect(message).toContain('actions: DescribeInstances (2), GetCallerIdentity (1), GetObject (1)');
    expect(message).toContain('source addresses: 198.51.100.77 (7)');
    expect(message).toContain('errors: 2 (AccessDenied (2))');
    // Kept as evidence: the bytes in the bucket are the hash the record holds, signed.
    const kept = record?.evidence?.find((o) =>
      o.key.includes('/cloudtrail/us-east-1/AccessKeyId-ASIAEXAMPLEWEBSERVER.json'),
    );
    const stored = sim.account.state.evidence.objects.find((o) => o.key === kept?.key);
    const bytes = Buffer.from(stored?.body ?? '', 'base64');
    expect(kept?.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(kept?.mac).toBeDefined();
    expect(JSON.parse(bytes.toString()).events).toHaveLength(7);
  });

  it('stops at the page bound and says what was left out', async () => {
    const event = eventOf(EVENT);
    const world = worldFor(event.detail, targetsOf(event.detail));
    const trail = world.account.cloudTrail ?? [];
    const first = trail[0];
    if (!first) throw new Error('the world holds no trail');
    for (let i = 0; i < 120; i++)
      trail.push({
        ...first,
        eventName: 'ListObjects',
        eventTime: new Date(Date.parse(first.eventTime) + i * 1000).toISOString(),
      });
    const sim = await start(world, event.detail.region);

    const { message, record } = await respond(sim, { evidence: { credentialPages: 2 } });

    expect(lookups(sim)).toHaveLength(2);
    expect(message).toContain(
      'more events than 2 page(s) (100 kept; evidence.credentialPages): the oldest left out',
    );
    expect(message).toContain('100 call(s)');
    expect(record?.evidence?.find((o) => o.key.includes('/cloudtrail/'))?.note).toMatch(
      /^more events than 2 page/,
    );
  });

  it('reports a lookup CloudTrail keeps refusing, and contains all the same', async () => {
    const sim = await simulate(eventOf(EVENT));
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    sim.account.fail('LookupEvents', throttled, 20);

    const { run, message, outcome } = await respond(sim);

    expect(run.status).toBe('SUCCEEDED');
    expect(outcome).toBe('contained');
    expect(message).toMatch(
      /collect-credential-activity: not collected: CloudTrail lookup failed after 0 page\(s\): AccessKeyId ASIAEXAMPLEWEBSERVER in us-east-1: .*Rate exceeded/,
    );
    expect(message).not.toContain('What the credentials did');
  });

  it('looks nothing up for a finding without credentials, and says nothing of it', async () => {
    const event = eventOf('ec2-backdoor-cc-activity.json');
    const sim = await simulate(event);
    const config = parseConfig({ clusters: [] });
    await runLocally(
      synthesizedDefinition(config, RESPONDER),
      event,
      simulatedHandlers(sim, config, RESPONDER),
    );
    expect(lookups(sim)).toEqual([]);
    expect(sim.account.state.published.at(-1)?.Message ?? '').not.toContain('collect-credential-activity');
  });
});
