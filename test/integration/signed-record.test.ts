/**
 * The incident record is not a way to gain privileges: release and recover act only on entries whose MAC,
 * made by the action function that wrote them with the record key, verifies, and whose recorded state
 * names their own target. Each test contains a finding in the replay simulation (the record signed and
 * verified through the simulated account's KMS over HTTP), then changes the table as an attacker with
 * write access to it could, then releases or recovers.
 */
import { createHmac } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { type FindingEvent, parseFindingEvent } from '../../lambdas/core/finding.js';
import { QUARANTINE_LABEL } from '../../lambdas/core/quarantine.js';
import { targetsOf } from '../../lambdas/core/targets.js';
import { releaseHandler } from '../../lambdas/handlers/release.js';
import { entryKey, type RecordEntry } from '../../lambdas/incident/record.js';
import { kmsRecordKey, macMessage, signedView } from '../../lambdas/incident/signature.js';
import { recoverIncident } from '../../lambdas/recover/recover.js';
import { releaseIncident } from '../../lambdas/release/release.js';
import { newMacKey } from '../../simulation/account.js';
import { parseConfig } from '../../simulation/cdk-json.js';
import { INCIDENT_TABLE } from '../../simulation/incident-table.js';
import { runLocally, synthesizedDefinition } from '../../simulation/runner.js';
import { type Simulation, simulatedHandlers, simulatedReleasePorts } from '../../simulation/simulation.js';
import { type World, worldFor } from '../../simulation/world.js';
import { pod } from '../support/cluster.js';
import { loadEvent, RESPONDER } from '../support/events.js';
import { asked, callersOf } from '../support/persons.js';
import { useSimulation } from '../support/simulated.js';

const ADMIN = 'arn:aws:iam::aws:policy/AdministratorAccess';
const CONFIG = parseConfig({ clusters: ['prod-eks'] });
const definition = synthesizedDefinition(CONFIG, RESPONDER);
const event: FindingEvent = parseFindingEvent(loadEvent('eks-audit-privileged-container.json'));
const findingId = event.detail.id;

const { start } = useSimulation();

/** The finding's world, with a role no incident touches and a pod no incident isolated. */
async function contained(change: (world: World) => void = () => {}): Promise<Simulation> {
  const world = worldFor(event.detail, targetsOf(event.detail));
  world.account.roles = { ...world.account.roles, bystander: { attached: [] } };
  change(world);
  const simulation = await start(world, event.detail.region);
  simulation.kube.add('pods', pod({ name: 'bystander', namespace: 'kube-system' }));
  const run = await runLocally(definition, event, simulatedHandlers(simulation, CONFIG, RESPONDER));
  expect(run.status).toBe('SUCCEEDED');
  return simulation;
}

/** The incident table as anyone with write access to it reaches it: no key involved. */
function table(sim: Simulation) {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient(sim.overrides));
  return {
    set: (key: string, path: string, value: unknown) =>
      db.send(
        new UpdateCommand({
          TableName: INCIDENT_TABLE,
          Key: { findingId },
          UpdateExpression: `SET entries.#key${path} = :value`,
          ExpressionAttributeNames: {
            '#key': key,
            ...Object.fromEntries(
              ['before', 'after'].filter((n) => path.includes(`#${n}`)).map((n) => [`#${n}`, n]),
            ),
          },
          ExpressionAttributeValues: { ':value': value },
        }),
      ),
  };
}

const entries = async (sim: Simulation) => Object.entries((await sim.store().get(findingId))?.entries ?? {});
const attachedAnywhere = (sim: Simulation, arn: string) =>
  Object.entries(sim.account.state.roles)
    .filter(([, role]) => role.attached.includes(arn))
    .map(([name]) => name);

describe('a record entry changed in the table', () => {
  it('is refused and reported; everything else is undone and the incident stays open', async () => {
    const sim = await contained();
    const rolesContained = structuredClone(sim.account.state.roles);
    const [roleKey, roleEntry] = (await entries(sim)).find(([, e]) => e.target.startsWith('role ')) ?? [];
    const roleName = String(roleEntry?.before.roleName);
    expect(roleEntry?.before.attachedPolicyArns).toEqual(['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']);
    expect(rolesContained[roleName]).toEqual({ attached: [], inline: {} });

    await table(sim).set(roleKey ?? '', '.#before.attachedPolicyArns[0]', ADMIN);
    // The same attack on a handler that publishes: the notice's first line says what was refused.
    const handler = releaseHandler(
      simulatedReleasePorts(sim),
      new SNSClient(sim.overrides),
      'arn:aws:sns:us-east-1:111122223333:responder',
      callersOf(sim),
    );

    const dryRun = await releaseIncident(
      { findingId, dryRun: true, requestedBy: 'test' },
      simulatedReleasePorts(sim),
    );
    const report = await handler(await asked(sim, 'release', { findingId }));

    for (const steps of [dryRun.steps, report.steps]) {
      expect(steps.filter((s) => s.status === 'refused')).toEqual([
        expect.objectContaining({
          key: roleKey,
          detail: 'record entry failed verification: not undone (its MAC does not match)',
        }),
      ]);
    }
    expect(report.steps.filter((s) => s.status === 'failed')).toEqual([]);
    expect(report.steps.filter((s) => s.status === 'ok').length).toBeGreaterThan(3);
    expect(report.state).toBe('open');
    expect((await sim.store().get(findingId))?.state).toBe('open');
    // Every other entry was undone: the pods and nodes are back; the role stays stripped.
    expect(sim.kube.list('pods').filter((p) => p.metadata.labels?.[QUARANTINE_LABEL])).toEqual([]);
    expect(sim.kube.list('nodes').filter((n) => n.spec?.unschedulable)).toEqual([]);
    expect(sim.account.state.roles).toEqual(rolesContained);
    expect(attachedAnywhere(sim, ADMIN)).toEqual([]);
    const notice = sim.account.state.published.at(-1);
    expect(notice?.Message?.split('\n')[0]).toBe(
      `Release of finding ${findingId}: the incident is open. 1 record entry failed verification and was not undone: the incident table was changed outside the responder.`,
    );
    expect(notice?.MessageAttributes?.outcome?.StringValue).toBe('open');
  });

  it('refuses an entry written into the table, and one whose state names another resource even with a good MAC', async () => {
    const sim = await contained();
    const forged: RecordEntry = {
      action: 'revoke-iam',
      target: 'role bystander',
      cluster: null,
      status: 'ok',
      before: { roleName: 'bystander', attachedPolicyArns: [ADMIN], inlinePolicies: [] },
      after: null,
      detail: null,
      intendedAt: new Date().toISOString(),
      settledAt: null,
      executionArn: 'arn:aws:states:us-east-1:111122223333:execution:responder:forged',
    };
    const [roleKey, roleEntry] = (await entries(sim)).find(([, e]) => e.target.startsWith('role ')) ?? [];
    // An entry signed by the key (as an action function signs) whose state is of another role than its
    // target: only the scope check stands between it and the bystander role.
    const misdirected: RecordEntry = {
      ...(roleEntry as RecordEntry),
      before: { roleName: 'bystander', attachedPolicyArns: [ADMIN], inlinePolicies: [] },
    };
    const { seal } = await sim.store().sealed(findingId);
    misdirected.mac = await sim.store().key.sign(signedView(seal, misdirected));
    // A MAC made with another key (someone's own HMAC key) for an entry of their choosing.
    const ownKey = newMacKey('444455556666');
    const elsewhere = { ...forged, target: 'instance profile of i-0forged', before: {} };
    await table(sim).set(entryKey('revoke-iam', null, 'role bystander'), '', forged);
    await table(sim).set(roleKey ?? '', '', misdirected);

    const report = await releaseIncident(
      { findingId, dryRun: false, requestedBy: 'test' },
      simulatedReleasePorts(sim),
    );

    expect(report.steps.filter((s) => s.status === 'refused').map((s) => [s.target, s.detail])).toEqual([
      [roleEntry?.target, expect.stringContaining('its recorded state is of role bystander, not of')],
      ['role bystander', 'record entry failed verification: not undone (it has no MAC)'],
    ]);
    expect(attachedAnywhere(sim, ADMIN)).toEqual([]);
    expect(report.state).toBe('open');
    // A MAC of another key does not verify either.
    const key = kmsRecordKey(new KMSClient(sim.overrides), sim.account.state.macKey.keyId);
    const view = signedView(seal, elsewhere);
    const mac = createHmac('sha256', Buffer.from(ownKey.secret, 'base64')).update(macMessage(view)).digest();
    expect(await key.verify(view, mac.toString('base64'))).toBe(false);
    expect(await key.verify(view, await key.sign(view))).toBe(true);
  });

  it('is not recovered: a pod named only by a forged entry is not deleted', async () => {
    const sim = await contained((world) => {
      world.account.snapshotSeconds = 0;
    });
    const forged: RecordEntry = {
      action: 'isolate-pods',
      target: 'pod kube-system/bystander',
      cluster: 'prod-eks',
      status: 'ok',
      before: { namespace: 'kube-system', pod: 'bystander', labels: {} },
      after: null,
      detail: null,
      intendedAt: new Date().toISOString(),
      settledAt: null,
      executionArn: 'arn:aws:states:us-east-1:111122223333:execution:responder:forged',
      mac: Buffer.alloc(32).toString('base64'),
    };
    await table(sim).set(entryKey('isolate-pods', 'prod-eks', forged.target), '', forged);

    const report = await recoverIncident(
      { findingId, dryRun: false, requestedBy: 'test' },
      simulatedReleasePorts(sim, 'recover'),
    );

    expect(report.steps.filter((s) => s.status === 'refused')).toEqual([
      {
        kind: 'entry',
        target: 'pod kube-system/bystander',
        status: 'refused',
        detail: 'record entry failed verification: not recovered (its MAC does not match)',
      },
    ]);
    expect(sim.kube.get('pods', 'kube-system', 'bystander')).toBeDefined();
    // The incident's own pods were recovered all the same.
    expect(report.steps.filter((s) => s.kind === 'pod' && s.status === 'ok').length).toBeGreaterThan(0);
    expect(report.state).toBe('open');
  });

  it('holds back a recovery whose snapshot entry fails verification: forged evidence is no evidence', async () => {
    const sim = await contained((world) => {
      world.account.snapshotSeconds = 0;
    });
    const [snapshotKey] = (await entries(sim)).find(([, e]) => e.action === 'snapshot-volumes') ?? [];
    await table(sim).set(snapshotKey ?? '', '.#after', { snapshotId: 'snap-0forged00000000' });
    await expect(
      recoverIncident(
        { findingId, dryRun: false, requestedBy: 'test' },
        simulatedReleasePorts(sim, 'recover'),
      ),
    ).rejects.toThrow(/the evidence is not complete: volume .*: record entry failed verification/);
    expect(sim.kube.list('pods').filter((p) => p.metadata.labels?.[QUARANTINE_LABEL]).length).toBeGreaterThan(
      0,
    );
  });
});
