/**
 * revoke-sessions: an instance role's credentials used outside AWS get the role's sessions revoked (an
 * inline deny on `aws:TokenIssueTime`), its other policies untouched; release removes the deny. Run end
 * to end in the replay simulation: the synthesized state machine, the real handlers and SDK clients over
 * HTTP to the simulated IAM, the incident table and the record key.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REVOKE_SESSIONS_POLICY } from '../../../lambdas/actions/revoke-sessions/revoke-sessions.js';
import { type FindingEvent, parseFindingEvent } from '../../../lambdas/core/finding.js';
import { describeRecovery, recoverIncident } from '../../../lambdas/recover/recover.js';
import { releaseIncident } from '../../../lambdas/release/release.js';
import { plan as planResponse, ResponderSettingsSchema } from '../../../lambdas/settings.js';
import { parseConfig } from '../../../simulation/cdk-json.js';
import { runLocally, synthesizedDefinition } from '../../../simulation/runner.js';
import { type Simulation, simulatedHandlers, simulatedReleasePorts } from '../../../simulation/simulation.js';
import { type loadEvent, PUBLISHED_DIR, RESPONDER } from '../../support/events.js';
import { eventOf as sampleEvent, useSimulation } from '../../support/simulated.js';

const FILE = 'iam-instance-credential-exfiltration-outside-aws.json';
const ROLE = 'web-server-role';
const CONFIG = parseConfig({});
const definition = synthesizedDefinition(CONFIG, RESPONDER);

const { simulate } = useSimulation();
const eventOf = (change: (raw: ReturnType<typeof loadEvent>) => void = () => {}): FindingEvent =>
  sampleEvent(FILE, change);
const respond = (sim: Simulation, event: FindingEvent) =>
  runLocally(definition, event, simulatedHandlers(sim, CONFIG, RESPONDER));
const release = (sim: Simulation, findingId: string) =>
  releaseIncident({ findingId, dryRun: false, requestedBy: 'test' }, simulatedReleasePorts(sim));
const calls = (sim: Simulation, operation: string) =>
  sim.aws.requests.filter((r) => r.operation === operation && r.status < 300).length;

/** The revocation policy's only statement, parsed. */
const denyOf = (sim: Simulation) => {
  const document = sim.account.state.roles[ROLE]?.inline?.[REVOKE_SESSIONS_POLICY];
  return document === undefined ? undefined : JSON.parse(document).Statement;
};

describe('revoke-sessions', () => {
  it("denies the role's sessions issued before the response, leaves its policies, and release removes the deny", async () => {
    const event = eventOf();
    const sim = await simulate(event);
    const before = structuredClone(sim.account.state.roles[ROLE]);
    expect(before?.attached).toEqual(['arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore']);
    expect(Object.keys(before?.inline ?? {})).toEqual(['app-data']);

    const start = Math.floor(Date.now() / 1000) * 1000;
    const execution = await respond(sim, event);
    const end = Date.now();

    expect(execution.status).toBe('SUCCEEDED');
    const statement = denyOf(sim);
    expect(statement).toEqual([
      {
        Sid: 'GuardDutyResponderRevokeOlderSessions',
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: { DateLessThan: { 'aws:TokenIssueTime': expect.stringMatching(/Z$/) } },
      },
    ]);
    const issuedBefore = Date.parse(statement[0].Condition.DateLessThan['aws:TokenIssueTime']);
    expect(issuedBefore).toBeGreaterThanOrEqual(start);
    expect(issuedBefore).toBeLessThanOrEqual(end);
    // Nothing else of the role changed: its managed and inline policies stay, none was detached.
    const role = sim.account.state.roles[ROLE];
    expect(role?.attached).toEqual(before?.attached);
    expect(role?.inline?.['app-data']).toBe(before?.inline?.['app-data']);
    expect(calls(sim, 'DetachRolePolicy') + calls(sim, 'DeleteRolePolicy')).toBe(0);
    expect(sim.account.state.associations.map((a) => a.InstanceId)).toContain('i-0d4e5f6a7b8c90123');

    const record = await sim.store().get(event.detail.id);
    const entry = record?.entries[`revoke-sessions|-|role ${ROLE}`];
    expect(entry).toMatchObject({
      status: 'ok',
      before: { roleName: ROLE, policyName: REVOKE_SESSIONS_POLICY, previousDocument: null },
      after: { policyName: REVOKE_SESSIONS_POLICY },
    });
    expect(entry?.mac).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const notice = sim.account.state.published[0];
    expect(notice?.MessageAttributes?.outcome?.StringValue).toBe('contained');
    expect(notice?.Message).toMatch(
      new RegExp(
        `^ {2}revoke-sessions +ok: denied every session issued before .*: role ${ROLE}, verified$`,
        'm',
      ),
    );
    expect(notice?.Message).toContain(
      `  cut off: role ${ROLE}: revoke-sessions: denied every session issued before`,
    );

    const report = await release(sim, event.detail.id);
    expect(report.state).toBe('released');
    expect(report.steps.map((s) => [s.action, s.target, s.status, s.detail])).toEqual([
      ['revoke-sessions', `role ${ROLE}`, 'ok', `deleted the inline policy ${REVOKE_SESSIONS_POLICY}`],
    ]);
    expect(sim.account.state.roles[ROLE]).toEqual(before);
  });

  it('keeps the deny on recover, and says so', async () => {
    const event = eventOf();
    const sim = await simulate(event);
    await respond(sim, event);
    const deny = sim.account.state.roles[ROLE]?.inline?.[REVOKE_SESSIONS_POLICY];

    const report = await recoverIncident(
      { findingId: event.detail.id, dryRun: false, requestedBy: 'test' },
      simulatedReleasePorts(sim, 'recover'),
    );

    expect(report.kept.map(({ action, targets }) => [action, targets])).toEqual([
      ['revoke-sessions', [`role ${ROLE}`]],
    ]);
    expect(sim.account.state.roles[ROLE]?.inline?.[REVOKE_SESSIONS_POLICY]).toBe(deny);
    expect(describeRecovery(report)).toContain(
      `The sessions issued before the response stay denied on role ${ROLE} (inline policy ${REVOKE_SESSIONS_POLICY}); it can be deleted once no session that old can be alive (36 hours at most).`,
    );
  });

  it('shares the deny between two incidents on one role: the first release keeps it, the last removes it', async () => {
    const first = eventOf();
    const second = eventOf((raw) => {
      raw.detail.id = '4bd0a1e2f3c45d6e7f8091a2b3c4d5e6';
      raw.detail.type = 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS';
    });
    const sim = await simulate(first);
    sim.account.hold(second.detail);
    const before = structuredClone(sim.account.state.roles[ROLE]);
    await respond(sim, first);
    const firstDeny = sim.account.state.roles[ROLE]?.inline?.[REVOKE_SESSIONS_POLICY];
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await respond(sim, second);
    const secondDeny = sim.account.state.roles[ROLE]?.inline?.[REVOKE_SESSIONS_POLICY];
    expect(secondDeny).not.toBe(firstDeny);
    expect(
      (await sim.store().get(second.detail.id))?.entries[`revoke-sessions|-|role ${ROLE}`]?.before,
    ).toEqual({ roleName: ROLE, policyName: REVOKE_SESSIONS_POLICY, previousDocument: firstDeny });

    const one = await release(sim, first.detail.id);
    expect(one.steps.map((s) => [s.decision, s.status])).toEqual([['keep', 'skipped']]);
    expect(sim.account.state.roles[ROLE]?.inline?.[REVOKE_SESSIONS_POLICY]).toBe(secondDeny);

    const two = await release(sim, second.detail.id);
    expect(two.steps.map((s) => [s.decision, s.status, s.detail])).toEqual([
      ['undo', 'ok', `deleted the inline policy ${REVOKE_SESSIONS_POLICY}`],
    ]);
    expect(sim.account.state.roles[ROLE]).toEqual(before);
  });

  it('rides out IAM throttling: the call is retried, the deny is put once, one record entry', async () => {
    const event = eventOf();
    const sim = await simulate(event);
    sim.account.fail(
      'PutRolePolicy',
      Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }),
      2,
    );

    const execution = await respond(sim, event);

    expect(execution.status).toBe('SUCCEEDED');
    const puts = sim.aws.requests.filter((r) => r.operation === 'PutRolePolicy').map((r) => r.status);
    expect(puts).toEqual([400, 400, 200]);
    expect(denyOf(sim)).toHaveLength(1);
    const entries = Object.keys((await sim.store().get(event.detail.id))?.entries ?? {});
    expect(entries).toEqual([`revoke-sessions|-|role ${ROLE}`]);
    expect(sim.account.state.published[0]?.MessageAttributes?.outcome?.StringValue).toBe('contained');
  });

  it('fails the response with the reason when IAM refuses the policy, and publishes the notification', async () => {
    const event = eventOf();
    const sim = await simulate(event);
    sim.account.fail(
      'PutRolePolicy',
      Object.assign(
        new Error(`User is not authorized to perform: iam:PutRolePolicy on resource: role ${ROLE}`),
        {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        },
      ),
      10,
    );

    const execution = await respond(sim, event);

    expect(execution.status).toBe('FAILED');
    expect(denyOf(sim)).toBeUndefined();
    const notice = sim.account.state.published[0];
    // The credentials are the compromised target: not cut off, and the reason first.
    expect(notice?.MessageAttributes?.outcome?.StringValue).toBe('not-contained');
    expect(notice?.Message).toMatch(/^NOT CONTAINED \(failed\): .* failed: role /);
    expect(notice?.Message).toContain(
      `    FAILED role ${ROLE}: IAM PutRolePolicy: AccessDenied: User is not authorized to perform: iam:PutRolePolicy on resource: role ${ROLE} (HTTP 403)`,
    );
  });

  it("plans it for a role's access key only: an IAM user's key and a role's are told apart", () => {
    const settings = ResponderSettingsSchema.parse({});
    const decision = (change: (raw: ReturnType<typeof loadEvent>) => void) =>
      planResponse(eventOf(change).detail, settings, RESPONDER).actions.find(
        (a) => a.action === 'revoke-sessions',
      );
    const tor = (userType: string) => (raw: ReturnType<typeof loadEvent>) => {
      raw.detail.type = 'UnauthorizedAccess:IAMUser/TorIPCaller';
      raw.detail.resource.instanceDetails = undefined;
      raw.detail.resource.accessKeyDetails.userType = userType;
    };
    expect(decision(() => {})?.decision).toBe('planned');
    expect(decision(tor('AssumedRole'))?.decision).toBe('planned');
    expect(decision(tor('IAMUser'))).toEqual({
      action: 'revoke-sessions',
      decision: 'not-applicable',
      reason: 'the finding names nothing this action applies to',
    });
  });

  it("reads the instance role from GuardDuty's published sample, which calls it an IAMUser, and changes nothing for a sample", () => {
    const published = parseFindingEvent(
      JSON.parse(
        readFileSync(
          `${PUBLISHED_DIR}iam-instance-credential-exfiltration-outsideaws-sample-elastic.eventbridge.json`,
          'utf8',
        ),
      ),
    ).detail;
    const plan = planResponse(published, ResponderSettingsSchema.parse({}), RESPONDER);
    expect(plan.rule).toBe('role-credentials-used-elsewhere');
    expect(plan.targets.roleName).toBe('GeneratedFindingUserName');
    expect(plan.actions).toEqual([
      {
        action: 'revoke-sessions',
        decision: 'held-back',
        reason: 'GuardDuty sample finding: planned and reported, nothing is changed',
      },
    ]);
  });
});
