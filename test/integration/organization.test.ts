/**
 * An organization in the replay simulation: the responder in its account (111122223333, us-east-1), a
 * finding's world in a member account or in another region. Each simulated account answers only calls
 * signed as itself and, for regional services, for its region: a response that used the wrong
 * credentials or region would find nothing to contain.
 */
import { describe, expect, it } from 'vitest';
import { type FindingEvent, parseFindingEvent } from '../../lambdas/core/finding.js';
import { QUARANTINE_LABEL } from '../../lambdas/core/quarantine.js';
import { targetsOf } from '../../lambdas/core/targets.js';
import type { FunctionName } from '../../lambdas/permissions.js';
import { releaseIncident } from '../../lambdas/release/release.js';
import { settingsOf } from '../../lib/config.js';
import { parseConfig, type ResponderConfig } from '../../simulation/cdk-json.js';
import { functionAccessKey } from '../../simulation/eks-token.js';
import { runLocally, synthesizedDefinition } from '../../simulation/runner.js';
import {
  type OrganizationOptions,
  type Simulation,
  simulatedHandlers,
  simulatedReleasePorts,
} from '../../simulation/simulation.js';
import { worldFor } from '../../simulation/world.js';
import { loadEvent, RESPONDER } from '../support/events.js';
import { useSimulation } from '../support/simulated.js';

const MEMBER = '444455556666';
const EXTERNAL_ID = 'guardduty-responder-7c1e';
/** Where the responder is deployed, as the configuration of an organization names it. */
const HOME = { account: RESPONDER.accountId, region: RESPONDER.region };
const ORGANIZATION: OrganizationOptions = {
  home: RESPONDER,
  memberAccess: { roleName: 'GuardDutyResponderMemberAccess', externalId: EXTERNAL_ID },
};

/** The runtime sample, moved to another account and region. */
function findingIn(accountId: string, region: string): FindingEvent {
  const text = JSON.stringify(loadEvent('eks-runtime-new-binary-executed.json'))
    .replaceAll('111122223333', accountId)
    .replaceAll('us-east-1', region);
  return parseFindingEvent(JSON.parse(text));
}

const { start } = useSimulation();

async function respond(event: FindingEvent, config: ResponderConfig, organization?: OrganizationOptions) {
  const simulation = await start(
    worldFor(event.detail, targetsOf(event.detail)),
    event.detail.region,
    [],
    organization,
  );
  const run = await runLocally(
    synthesizedDefinition(config, RESPONDER),
    event,
    simulatedHandlers(simulation, config, RESPONDER),
  );
  return { run, sim: simulation };
}

const quarantined = (sim: Simulation) =>
  sim.kube.list('pods').filter((p) => p.metadata.labels?.[QUARANTINE_LABEL]).length;

describe('a finding from a member account', () => {
  const memberConfig = (externalId = EXTERNAL_ID) =>
    parseConfig({ ...HOME, members: [{ accountId: MEMBER, clusters: ['prod-eks'] }], externalId });

  it('is contained in that account, through its MemberAccess role, and released there', async () => {
    const config = memberConfig();
    const { run, sim } = await respond(findingIn(MEMBER, 'us-east-1'), config, ORGANIZATION);

    expect(run.status).toBe('SUCCEEDED');
    expect(sim.account.accountId).toBe(MEMBER);
    expect(sim.home.accountId).toBe(RESPONDER.accountId);
    expect(quarantined(sim)).toBeGreaterThan(0);
    const cordoned = sim.kube.list('nodes').filter((n) => n.spec?.unschedulable);
    expect(cordoned.length).toBeGreaterThan(0);
    // The member's instances are protected and snapshotted; the responder's own account is untouched.
    expect(sim.account.state.instances.filter((i) => i.terminationProtection)).toHaveLength(cordoned.length);
    expect(sim.account.state.snapshots.length).toBeGreaterThan(0);
    expect(sim.home.state.instances).toEqual([]);
    // Every function that acts assumed the role with the external id, as itself.
    expect(new Set(sim.account.state.assumed.map((a) => a.sessionName))).toEqual(
      new Set(
        [
          'identify',
          'isolate-pods',
          'cordon-nodes',
          'protect-instances',
          'harden-imds',
          'revoke-iam',
          'snapshot-volumes',
          'collect-pod-evidence',
          // What the pods' IRSA role did, from the member's CloudTrail.
          'collect-credential-activity',
        ].map((name) => `guardduty-responder-${name}`),
      ),
    );
    expect(sim.account.state.assumed.every((a) => a.by === RESPONDER.accountId)).toBe(true);
    // Each function assumed its own role there, which holds its part alone.
    for (const assumed of sim.account.state.assumed)
      expect(assumed.roleArn).toBe(
        `arn:aws:iam::${MEMBER}:role/GuardDutyResponderMemberAccess-${assumed.sessionName.replace('guardduty-responder-', '')}`,
      );
    // The notification goes to the responder's topic.
    const notice = sim.home.state.published.at(-1);
    expect(notice?.MessageAttributes?.outcome?.StringValue).toBe('contained');
    expect(notice?.Message).toContain(
      `is in member account ${MEMBER}: the host capture writes from the instance`,
    );

    const report = await releaseIncident(
      { findingId: findingIn(MEMBER, 'us-east-1').detail.id, dryRun: false, requestedBy: 'test' },
      simulatedReleasePorts(sim, 'release', settingsOf(config)),
    );
    expect(report.steps.filter((s) => s.status === 'failed')).toEqual([]);
    expect(report.state).toBe('released');
    expect(quarantined(sim)).toBe(0);
    expect(sim.account.state.instances.filter((i) => i.terminationProtection)).toEqual([]);
  });

  it('fails, and says why, when the role does not trust the external id', async () => {
    const { run, sim } = await respond(
      findingIn(MEMBER, 'us-east-1'),
      memberConfig('another-id'),
      ORGANIZATION,
    );

    expect(run.events.at(-1)).toMatchObject({ type: 'ExecutionFailed', error: 'ResponseFailed' });
    expect(quarantined(sim)).toBe(0);
    const notice = sim.home.state.published.at(-1);
    expect(notice?.MessageAttributes?.outcome?.StringValue).toBe('not-contained');
    expect(notice?.Subject).toMatch(/^\[guardduty-responder\] NOT CONTAINED \(failed\): /);
    expect(notice?.Message).toContain('sts:AssumeRole');
    expect(notice?.Message).toContain('the external id does not match');
  });

  it("lets a function assume only its own member role: another function's is refused", async () => {
    const event = findingIn(MEMBER, 'us-east-1');
    const sim = await start(worldFor(event.detail, targetsOf(event.detail)), 'us-east-1', [], ORGANIZATION);
    const assume = (as: string, roleOf: string) =>
      sim.account.call('AssumeRole', {
        RoleArn: `arn:aws:iam::${MEMBER}:role/GuardDutyResponderMemberAccess-${roleOf}`,
        RoleSessionName: `guardduty-responder-${as}`,
        ExternalId: EXTERNAL_ID,
        CallerAccount: RESPONDER.accountId,
        CallerAccessKey: functionAccessKey(as as FunctionName),
      });

    expect(() => assume('identify', 'revoke-iam')).toThrow(/the role does not trust the caller/);
    expect(() => assume('identify', 'identify')).not.toThrow();
  });

  it('is reported, never acted on, when the account is not a configured member', async () => {
    const { run, sim } = await respond(findingIn(MEMBER, 'us-east-1'), parseConfig({}), ORGANIZATION);

    expect(run.status).toBe('SUCCEEDED');
    expect(quarantined(sim)).toBe(0);
    expect(sim.account.state.assumed).toEqual([]);
    const notice = sim.home.state.published.at(-1);
    expect(notice?.MessageAttributes?.outcome?.StringValue).toBe('identified');
    expect(notice?.Message).toContain(
      `the finding is for account ${MEMBER}, which is neither this responder's (${RESPONDER.accountId}) nor a configured member: reported only`,
    );
  });
});

describe('a finding from another region', () => {
  it("is contained with that region's clients when the region is configured", async () => {
    const config = parseConfig({ ...HOME, clusters: ['prod-eks'], regions: ['eu-west-1'] });
    // The responder in us-east-1, the finding's world in eu-west-1 of the same account.
    const { run, sim } = await respond(findingIn(RESPONDER.accountId, 'eu-west-1'), config, ORGANIZATION);

    expect(run.status).toBe('SUCCEEDED');
    expect(quarantined(sim)).toBeGreaterThan(0);
    expect(sim.account.state.instances.filter((i) => i.terminationProtection).length).toBeGreaterThan(0);
    const regional = sim.aws.requests.filter((r) => ['ec2', 'autoscaling', 'eks'].includes(r.service));
    expect(regional.length).toBeGreaterThan(0);
    expect(new Set(regional.map((r) => r.region))).toEqual(new Set(['eu-west-1']));
    // What the pods' role did: CloudTrail of the finding's region, and of us-east-1, where global
    // services' calls are recorded (the responder covers it).
    const trails = sim.aws.requests.filter((r) => r.operation === 'LookupEvents');
    expect(new Set(trails.map((r) => r.region))).toEqual(new Set(['eu-west-1', 'us-east-1']));
    // The responder's own resources stay in its region.
    const own = sim.aws.requests.filter((r) => ['dynamodb', 'sns', 'kms'].includes(r.service));
    expect(new Set(own.map((r) => r.region))).toEqual(new Set(['us-east-1']));
  });

  it('is reported only when the region is not configured', async () => {
    const { sim } = await respond(
      findingIn(RESPONDER.accountId, 'eu-west-1'),
      parseConfig({ clusters: ['prod-eks'] }),
      ORGANIZATION,
    );

    expect(quarantined(sim)).toBe(0);
    expect(sim.home.state.published.at(-1)?.Message).toContain(
      'the finding is from eu-west-1, not a region this responder covers (us-east-1)',
    );
  });
});
