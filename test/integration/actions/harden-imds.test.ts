/** harden-imds over the wire: the EC2 calls it makes, the instance's options afterwards, its record and undo. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hardenImds, restoreImds } from '../../../lambdas/actions/harden-imds/harden-imds.js';
import { awsClients } from '../../../lambdas/clients/aws.js';
import { entryKey } from '../../../lambdas/incident/record.js';
import { type SimulatedInstance, simulatedAccount } from '../../../simulation/account.js';
import { AwsApiServer } from '../../../simulation/aws-api-server.js';
import { identifiedInstance, planFor } from '../../support/incident.js';
import { claimedJournal, useIncidentTable } from '../../support/incidents.js';

const ID = 'i-0f1e2d3c4b5a69788';
const plan = planFor('ec2-backdoor-cc-activity.json');
const incidents = useIncidentTable();

let server: AwsApiServer;
let account: ReturnType<typeof simulatedAccount>;
const start = async (instance: Partial<SimulatedInstance> = {}) => {
  account = simulatedAccount({ instances: [{ instanceId: ID, ...instance }] });
  server = new AwsApiServer(account);
  return awsClients({
    endpoint: await server.start(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIASIMULATION00000', secretAccessKey: 'simulation' },
  });
};
beforeEach(() => {
  server = undefined as unknown as AwsApiServer;
});
afterEach(async () => {
  await server?.stop();
});

const calls = () => server.requests.map((r) => r.operation).filter((op) => op !== 'DescribeInstances');
const entryOf = async () =>
  (await incidents.store().get(plan.finding.id))?.entries[entryKey('harden-imds', null, `instance ${ID}`)];

describe('harden-imds', () => {
  it('requires IMDSv2 with one hop, after recording the options it found, and reads them back', async () => {
    const clients = await start();

    const result = await hardenImds(
      { plan, cluster: null, target: identifiedInstance(ID) },
      clients,
      await claimedJournal(incidents.store(), plan),
    );

    expect(calls()).toEqual(['ModifyInstanceMetadataOptions']);
    expect(account.state.instances[0]?.metadataOptions).toEqual({
      httpTokens: 'required',
      hopLimit: 1,
      httpEndpoint: 'enabled',
    });
    expect(result.items).toEqual([
      expect.objectContaining({
        target: `instance ${ID}`,
        status: 'ok',
        verified: true,
        detail: 'IMDSv2 required, hop limit 1 (was: IMDSv1 allowed, hop limit 2)',
      }),
    ]);
    expect(await entryOf()).toMatchObject({
      status: 'ok',
      before: { instanceId: ID, httpTokens: 'optional', hopLimit: 2, httpEndpoint: 'enabled' },
      after: { httpTokens: 'required', hopLimit: 1 },
    });
  });

  it('fails the instance, saying why, when EC2 refuses to change its options, and keeps the state recorded first', async () => {
    const clients = await start();
    account.fail(
      'ModifyInstanceMetadataOptions',
      Object.assign(new Error('You are not authorized to perform this operation.'), {
        name: 'UnauthorizedOperation',
        $metadata: { httpStatusCode: 403 },
      }),
    );

    const result = await hardenImds(
      { plan, cluster: null, target: identifiedInstance(ID) },
      clients,
      await claimedJournal(incidents.store(), plan),
    );

    expect(result.items).toEqual([
      expect.objectContaining({
        target: `instance ${ID}`,
        status: 'failed',
        detail: expect.stringContaining('not authorized'),
      }),
    ]);
    // The door is as it was, and the options found are recorded for a retry or a release.
    expect(account.state.instances[0]?.metadataOptions?.httpTokens ?? 'optional').toBe('optional');
    expect(await entryOf()).toMatchObject({
      status: 'intended',
      before: { instanceId: ID, httpTokens: 'optional', hopLimit: 2 },
    });
  });

  it('changes nothing on an instance already hardened, and release leaves it so', async () => {
    const clients = await start({
      metadataOptions: { httpTokens: 'required', hopLimit: 1, httpEndpoint: 'enabled' },
    });

    const result = await hardenImds(
      { plan, cluster: null, target: identifiedInstance(ID) },
      clients,
      await claimedJournal(incidents.store(), plan),
    );
    const undone = await restoreImds(clients.ec2, {
      instanceId: ID,
      httpTokens: 'required',
      hopLimit: 1,
      httpEndpoint: 'enabled',
    });

    expect(calls()).toEqual([]);
    expect(result.items[0]).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('already hardened'),
    });
    expect(undone).toMatchObject({ status: 'skipped', detail: expect.stringContaining('left so') });
  });

  it('records nothing when the metadata endpoint is off: there is no door to close', async () => {
    const clients = await start({
      metadataOptions: { httpTokens: 'optional', hopLimit: 2, httpEndpoint: 'disabled' },
    });

    const result = await hardenImds(
      { plan, cluster: null, target: identifiedInstance(ID) },
      clients,
      await claimedJournal(incidents.store(), plan),
    );

    expect(calls()).toEqual([]);
    expect(result.items[0]).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('endpoint is off'),
    });
    expect(await entryOf()).toBeUndefined();
  });

  it('puts the recorded options back on release', async () => {
    const clients = await start({
      metadataOptions: { httpTokens: 'required', hopLimit: 1, httpEndpoint: 'enabled' },
    });

    const undone = await restoreImds(clients.ec2, {
      instanceId: ID,
      httpTokens: 'optional',
      hopLimit: 3,
      httpEndpoint: 'enabled',
    });

    expect(calls()).toEqual(['ModifyInstanceMetadataOptions']);
    expect(account.state.instances[0]?.metadataOptions).toMatchObject({
      httpTokens: 'optional',
      hopLimit: 3,
    });
    expect(undone).toMatchObject({ status: 'ok', verified: true });
  });
});
