/**
 * Security Hub: the GuardDuty finding there is noted with the outcome and the incident id, and set
 * NOTIFIED once something is contained; an account without Security Hub gets a line, not a failure.
 * The response runs in the replay simulation, whose account serves Security Hub's REST API.
 */
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { clientConfig } from '../../lambdas/clients/config.js';
import { parseFindingEvent } from '../../lambdas/core/finding.js';
import { targetsOf } from '../../lambdas/core/targets.js';
import { recoverHandler } from '../../lambdas/handlers/recover.js';
import { releaseHandler } from '../../lambdas/handlers/release.js';
import { findingUpdate, NOTE_LIMIT } from '../../lambdas/notify/security-hub.js';
import { parseConfig } from '../../simulation/cdk-json.js';
import { runLocally, synthesizedDefinition } from '../../simulation/runner.js';
import { simulatedHandlers, simulatedReleasePorts } from '../../simulation/simulation.js';
import { worldFor } from '../../simulation/world.js';
import { loadEvent, RESPONDER } from '../support/events.js';
import { asked, callersOf } from '../support/persons.js';
import { useSimulation } from '../support/simulated.js';

const event = parseFindingEvent(loadEvent('eks-audit-privileged-container.json'));
const config = parseConfig({ clusters: ['prod-eks'] });
const definition = synthesizedDefinition(config, RESPONDER);

const { start } = useSimulation();

async function respond(securityHub: boolean) {
  const world = worldFor(event.detail, targetsOf(event.detail));
  world.account.securityHub = securityHub;
  world.account.snapshotSeconds = 0;
  const simulation = await start(world, event.detail.region);
  const run = await runLocally(definition, event, simulatedHandlers(simulation, config, RESPONDER), {
    executionArn: 'arn:aws:states:us-east-1:111122223333:execution:responder:e-1',
  });
  return { run, sim: simulation, notice: simulation.home.state.published.at(-1) };
}

describe('Security Hub', () => {
  it('notes the outcome and the incident on the contained finding, and sets it NOTIFIED', async () => {
    const { run, sim, notice } = await respond(true);

    expect(run.status).toBe('SUCCEEDED');
    expect(sim.home.state.securityHubUpdates).toEqual([
      {
        FindingIdentifiers: [
          { Id: event.detail.arn, ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty' },
        ],
        Note: {
          Text: `guardduty-responder: contained. Incident ${event.detail.id} (the incident record's key; npm run incidents lists it), execution arn:aws:states:us-east-1:111122223333:execution:responder:e-1.`,
          UpdatedBy: 'guardduty-responder',
        },
        Workflow: { Status: 'NOTIFIED' },
      },
    ]);
    expect(notice?.Message).toContain(
      'Security Hub: noted, workflow status NOTIFIED on the finding in us-east-1',
    );
  });

  it('says so in one line when the account has no Security Hub, and the response still succeeds', async () => {
    const { run, notice } = await respond(false);

    expect(run.status).toBe('SUCCEEDED');
    expect(notice?.MessageAttributes?.outcome?.StringValue).toBe('contained');
    expect(notice?.Message).toContain(
      'Security Hub: not enabled in us-east-1 for this account: nothing noted',
    );
  });

  it('sets RESOLVED when the incident is recovered (a dry run notes nothing)', async () => {
    const { sim } = await respond(true);
    const topic = 'arn:aws:sns:us-east-1:111122223333:responder';
    const hub = (region: string) => new SecurityHubClient(clientConfig({ ...sim.overrides, region }));
    const findingId = event.detail.id;
    const last = () => sim.home.state.securityHubUpdates.at(-1);

    await releaseHandler(
      simulatedReleasePorts(sim),
      new SNSClient(sim.overrides),
      topic,
      callersOf(sim),
      hub,
    )(await asked(sim, 'release', { findingId, dryRun: true }));
    expect(sim.home.state.securityHubUpdates).toHaveLength(1); // a dry run notes nothing

    const recovered = await recoverHandler(
      simulatedReleasePorts(sim, 'recover'),
      new SNSClient(sim.overrides),
      topic,
      callersOf(sim),
      hub,
    )(await asked(sim, 'recover', { findingId }));
    expect(recovered.state).toBe('recovered');
    expect(last()).toMatchObject({
      Note: {
        Text: 'guardduty-responder: recover requested by arn:aws:iam::111122223333:user/alice; the incident is recovered.',
      },
      Workflow: { Status: 'RESOLVED' },
    });
    expect(sim.home.state.published.at(-1)?.Message).toContain(
      'Security Hub: noted, workflow status RESOLVED on the finding in us-east-1',
    );
  });

  it.each([
    [false, undefined],
    [true, { Status: 'SUPPRESSED' }],
  ])(
    'on the release of a false positive, suppressOnRelease %s sets %j',
    async (suppressOnRelease, workflow) => {
      const { sim } = await respond(true);
      const hub = (region: string) => new SecurityHubClient(clientConfig({ ...sim.overrides, region }));
      const released = await releaseHandler(
        simulatedReleasePorts(sim),
        new SNSClient(sim.overrides),
        'arn:aws:sns:us-east-1:111122223333:responder',
        callersOf(sim),
        hub,
        { suppressOnRelease },
      )(await asked(sim, 'release', { findingId: event.detail.id }));
      expect(released.state).toBe('released');
      const update = sim.home.state.securityHubUpdates.at(-1);
      expect(update?.Note?.Text).toBe(
        'guardduty-responder: release requested by arn:aws:iam::111122223333:user/alice; the incident is released.',
      );
      expect(update?.Workflow).toEqual(workflow);
    },
  );

  it('keeps the note within Security Hub’s limit', () => {
    const update = findingUpdate({ arn: 'arn:x', region: 'eu-west-1' }, 'x'.repeat(600), null);
    expect(update.Note.Text).toHaveLength(NOTE_LIMIT);
    expect(update.FindingIdentifiers[0]?.ProductArn).toBe(
      'arn:aws:securityhub:eu-west-1::product/aws/guardduty',
    );
    expect('Workflow' in update).toBe(false);
  });
});
