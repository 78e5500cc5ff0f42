/**
 * The responder is not a way in (docs/threat-model.md): each test is one attacker capability, tried the
 * way the security review tried it, through the simulation (the synthesized state machine, the real
 * handlers, the record signed with the simulated account's KMS key over HTTP):
 * 1. table write: an entry planted in an open incident's record, or before a rerun;
 * 2. table write: the record's account changed; a genuine entry put back after a release;
 * 3. a tenant's ServiceAccount annotation naming a role the pod does not use;
 * 4. tagging: a production security group tagged as the responder's;
 * 5. StartExecution with a finding GuardDuty does not hold; InvokeFunction with other targets, or with
 *    the real ones before the approval the plan asks for;
 * 6. InvokeFunction on Release naming someone else, reusing another request's proof, pointing the proof at
 *    a host of one's own, or releasing IAM alone;
 * 7. table write: an evidence object planted in the record's chain of custody, or its hash changed;
 * 8. table write: budget spending planted to hold back every containment.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { release as releaseCommand } from '../../commands/release.js';
import { replay } from '../../commands/replay.js';
import { answerApproval } from '../../lambdas/approval/approval.js';
import { AwsReader, awsClients, type ClientOverrides } from '../../lambdas/clients/aws.js';
import { callerProof, requestDigest } from '../../lambdas/clients/caller.js';
import { budgetKey } from '../../lambdas/core/budget.js';
import { type FindingEvent, FindingSchema, parseFindingEvent } from '../../lambdas/core/finding.js';
import { detectorOf, differences } from '../../lambdas/core/provenance.js';
import { QUARANTINE_LABEL } from '../../lambdas/core/quarantine.js';
import { targetsOf } from '../../lambdas/core/targets.js';
import { releaseHandler } from '../../lambdas/handlers/release.js';
import type { IdentifyOutput } from '../../lambdas/identify/identify.js';
import { budgetView } from '../../lambdas/incident/budgets.js';
import type { IncidentRecord, RecordEntry } from '../../lambdas/incident/record.js';
import { recoverIncident } from '../../lambdas/recover/recover.js';
import { releaseIncident } from '../../lambdas/release/release.js';
import { APP_GROUP, SIMULATED_VPC, simulatedAccount } from '../../simulation/account.js';
import { AwsApiServer } from '../../simulation/aws-api-server.js';
import { parseConfig } from '../../simulation/cdk-json.js';
import { INCIDENT_TABLE, LocalIncidentTable } from '../../simulation/incident-table.js';
import { KubeApiServer } from '../../simulation/kube-api-server.js';
import { runLocally, synthesizedDefinition, type TaskHandler } from '../../simulation/runner.js';
import {
  approvalTokens,
  loadSimulation,
  type Simulation,
  simulatedHandlers,
  simulatedReleasePorts,
} from '../../simulation/simulation.js';
import { type World, worldFor } from '../../simulation/world.js';
import { enforceNetworkPolicy, localModeArgs, pod } from '../support/cluster.js';
import { EVENTS_DIR, eventFiles, loadEvent, RESPONDER } from '../support/events.js';
import { asked, callersOf, personArn } from '../support/persons.js';
import { useSimulation } from '../support/simulated.js';

const ADMIN = 'arn:aws:iam::aws:policy/AdministratorAccess';
const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const CONFIG = parseConfig({ clusters: ['prod-eks'] });
const definition = synthesizedDefinition(CONFIG, RESPONDER);
const podEvent: FindingEvent = parseFindingEvent(loadEvent('eks-audit-privileged-container.json'));
const hostEvent: FindingEvent = parseFindingEvent(loadEvent('ec2-backdoor-cc-activity.json'));

const { start } = useSimulation();

type Run = { sim: Simulation; identified: IdentifyOutput | null; status: string };

/** The finding's world, changed as the attacker needs, then the response; the Identify output kept. */
async function respond(
  event: FindingEvent,
  options: {
    change?: (world: World) => void;
    sim?: Simulation;
    input?: unknown;
  } = {},
): Promise<Run> {
  let sim = options.sim;
  if (!sim) {
    const world = worldFor(event.detail, targetsOf(event.detail));
    options.change?.(world);
    sim = await start(world, event.detail.region);
  }
  const { handlers, identified } = watchingIdentify(sim, CONFIG);
  const run = await runLocally(definition, options.input ?? event, handlers, { tokens: sim.tokens });
  return { sim, identified: identified(), status: run.status };
}

/** The real handlers, with what Identify returned kept: the input an attacker would see in the logs. */
function watchingIdentify(sim: Simulation, config: ReturnType<typeof parseConfig>) {
  const handlers = simulatedHandlers(sim, config, RESPONDER);
  let identified: IdentifyOutput | null = null;
  const identify = handlers.Identify as TaskHandler;
  handlers.Identify = async (input) => {
    identified = (await identify(input)) as IdentifyOutput;
    return identified;
  };
  return { handlers, identified: () => identified };
}

/** The incident table as anyone with write access to it reaches it: no key involved. */
/** Where the table is: a simulation's endpoint, or the local mode's. */
type TableAt = { overrides: ClientOverrides };
const tableOf = (at: TableAt) => DynamoDBDocumentClient.from(new DynamoDBClient(at.overrides));
async function recordOf(sim: TableAt, findingId: string): Promise<IncidentRecord> {
  const { Item } = await tableOf(sim).send(
    new GetCommand({ TableName: INCIDENT_TABLE, Key: { findingId }, ConsistentRead: true }),
  );
  return Item as IncidentRecord;
}
const putRecord = (at: TableAt, record: IncidentRecord) =>
  tableOf(at).send(new PutCommand({ TableName: INCIDENT_TABLE, Item: record }));

const roleEntry = (record: IncidentRecord) =>
  Object.entries(record.entries).find(([, entry]) => entry.target.startsWith('role ')) as [
    string,
    RecordEntry,
  ];
const lastNotice = (sim: Simulation) =>
  sim.home.state.published.filter((p) => p.Subject?.startsWith('[guardduty-responder] ')).at(-1);
const release = (sim: Simulation, findingId: string) =>
  releaseIncident({ findingId, dryRun: false, requestedBy: 'test' }, simulatedReleasePorts(sim));

describe('1. a record entry planted in the table', () => {
  it('is refused on a rerun, never signed, and its policies are not attached by the release', async () => {
    const findingId = podEvent.detail.id;
    const { sim } = await respond(podEvent);
    const record = await recordOf(sim, findingId);
    const [key, genuine] = roleEntry(record);
    const roleName = String(genuine.before.roleName);
    // The attacker rewrites what the role had before containment: AdministratorAccess and `*:*` inline.
    const planted: RecordEntry = {
      ...genuine,
      before: {
        roleName,
        attachedPolicyArns: [ADMIN],
        inlinePolicies: [
          {
            name: 'all',
            document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
          },
        ],
      },
    };
    record.entries[key] = planted;
    await putRecord(sim, record);

    await respond(podEvent, { sim, input: { ...podEvent, 'guardduty-responder': { rerun: true } } });

    const after = await recordOf(sim, findingId);
    // The planted entry was not adopted (nor signed): the entry now records the role as it was read.
    expect(after.entries[key]?.before.attachedPolicyArns).not.toContain(ADMIN);
    expect(after.refusals?.map((refusal) => refusal.key)).toEqual([key]);
    expect(lastNotice(sim)?.Message).toContain('failed verification');
    const report = await release(sim, findingId);
    expect(report.steps.filter((step) => step.status === 'failed')).toEqual([]);
    expect(sim.account.state.roles[roleName]?.attached).not.toContain(ADMIN);
    expect(sim.account.state.roles[roleName]?.inline).not.toHaveProperty('all');
  });
});

describe('2. the record moved to another account, or set back after a release', () => {
  it('releases only in the signed account and region, whatever the record says', async () => {
    const findingId = podEvent.detail.id;
    const { sim } = await respond(podEvent);
    const record = await recordOf(sim, findingId);
    const roleName = String(roleEntry(record)[1].before.roleName);
    record.finding = { ...record.finding, accountId: '999999999999', region: 'eu-west-1' };
    await putRecord(sim, record);

    const report = await release(sim, findingId);

    expect(report.steps.filter((step) => step.status === 'failed')).toEqual([]);
    expect(report.state).toBe('released');
    expect(sim.account.state.roles[roleName]?.attached).toEqual([S3_READ]);
  });

  it('refuses a genuine entry put back after the release: what an administrator removed since stays removed', async () => {
    const findingId = podEvent.detail.id;
    const { sim } = await respond(podEvent);
    const contained = await recordOf(sim, findingId);
    const roleName = String(roleEntry(contained)[1].before.roleName);
    expect((await release(sim, findingId)).state).toBe('released');
    // The administrator then takes the policy off the role for good.
    sim.account.state.roles[roleName] = { attached: [], inline: {} };
    // The attacker puts the contained record back as it was, open, genuine entries and all.
    await putRecord(sim, contained);

    const report = await release(sim, findingId);

    expect(report.steps.filter((step) => step.status === 'ok')).toEqual([]);
    expect(report.steps.map((step) => step.status)).toContain('refused');
    expect(report.state).toBe('open');
    expect(sim.account.state.roles[roleName]?.attached).toEqual([]);
    await expect(
      recoverIncident(
        { findingId, dryRun: false, requestedBy: 'test' },
        simulatedReleasePorts(sim, 'recover'),
      ),
    ).rejects.toThrow(/closed/);
  });
});

describe('2b. the incident header changed in the table', () => {
  it('refuses the whole record: release changes nothing and says why', async () => {
    const findingId = podEvent.detail.id;
    const { sim } = await respond(podEvent);
    const record = await recordOf(sim, findingId);
    const roleName = String(roleEntry(record)[1].before.roleName);
    // The attacker points the incident at another account; its MAC no longer matches.
    record.incident = {
      ...(record.incident as NonNullable<IncidentRecord['incident']>),
      accountId: '999999999999',
    };
    await putRecord(sim, record);

    await expect(release(sim, findingId)).rejects.toThrow(
      /failed verification \(the incident header's MAC does not match\)/,
    );
    expect(sim.account.state.roles[roleName]).toEqual({ attached: [], inline: {} });
    expect((await recordOf(sim, findingId)).state).toBe('open');
  });
});

describe("3. a ServiceAccount annotation naming a role the pod's ServiceAccount cannot assume", () => {
  const annotate = (arn: string) => (world: World) => {
    for (const { resource, object } of world.objects) {
      if (resource === 'serviceaccounts' && object.metadata.annotations?.['eks.amazonaws.com/role-arn'])
        object.metadata.annotations['eks.amazonaws.com/role-arn'] = arn;
    }
    world.account.roles = { ...world.account.roles, 'ci-deployer': { attached: [ADMIN] } };
  };

  it.each([
    ['in another account', 'arn:aws:iam::999999999999:role/ci-deployer'],
    [
      'whose trust policy does not name this cluster and ServiceAccount',
      `arn:aws:iam::${podEvent.detail.accountId}:role/ci-deployer`,
    ],
  ])('is not revoked: a role %s', async (_, arn) => {
    const { sim } = await respond(podEvent, { change: annotate(arn) });

    expect(sim.account.state.roles['ci-deployer']?.attached).toEqual([ADMIN]);
    expect(lastNotice(sim)?.Message).toContain(
      'not revoked: the annotation names a role that does not trust this ServiceAccount',
    );
  });
});

describe('4. a security group tagged as the responder’s', () => {
  it.each(['untrack', 'quarantine'])('changes nothing when tagged %s', async (purpose) => {
    const production = {
      GroupId: 'sg-0prod000000000001',
      GroupName: 'production-db',
      VpcId: SIMULATED_VPC,
      Description: 'production database',
      Tags: [{ Key: 'guardduty-responder:purpose', Value: purpose }],
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: '10.0.0.0/16' }] },
      ],
      IpPermissionsEgress: [
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/16' }] },
      ],
    };
    const { sim } = await respond(hostEvent, {
      change: (world) => {
        world.account.securityGroups = [...(world.account.securityGroups ?? []), structuredClone(production)];
      },
    });

    const groups = sim.account.state.network.securityGroups;
    expect(groups.find((group) => group.GroupId === production.GroupId)).toEqual(production);
    const interfaces = sim.account.state.instances.flatMap((i) => i.networkInterfaces ?? []);
    expect(interfaces.flatMap((eni) => eni.groups)).not.toContain(production.GroupId);
    expect(interfaces.flatMap((eni) => eni.groups)).not.toContain(APP_GROUP);
  });
});

describe('4b. a registry item naming a production group', () => {
  it('is refused: a new group of the responder’s is made and the production group is untouched', async () => {
    const production = {
      GroupId: 'sg-0prod000000000002',
      GroupName: 'production-api',
      VpcId: SIMULATED_VPC,
      Description: 'production API',
      Tags: [],
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      IpPermissionsEgress: [],
    };
    const world = worldFor(hostEvent.detail, targetsOf(hostEvent.detail));
    world.account.securityGroups = [...(world.account.securityGroups ?? []), structuredClone(production)];
    const sim = await start(world, hostEvent.detail.region);
    // Planted before the first isolation: the registry item of the VPC's quarantine group, without a MAC.
    await tableOf(sim).send(
      new PutCommand({
        TableName: INCIDENT_TABLE,
        Item: {
          findingId: `security-group|${hostEvent.detail.accountId}|${hostEvent.detail.region}|${SIMULATED_VPC}|quarantine`,
          groupId: production.GroupId,
        },
      }),
    );

    const { status } = await respond(hostEvent, { sim });

    expect(status).toBe('SUCCEEDED');
    expect(sim.account.state.network.securityGroups.find((g) => g.GroupId === production.GroupId)).toEqual(
      production,
    );
    const interfaces = sim.account.state.instances.flatMap((i) => i.networkInterfaces ?? []);
    expect(interfaces.flatMap((eni) => eni.groups)).not.toContain(production.GroupId);
    expect(lastNotice(sim)?.Message).toContain('the registered quarantine group of');
  });
});

describe('5. input the responder did not make', () => {
  it.each(eventFiles())(
    'GuardDuty as simulated holds %s as its event says: read back through the SDK, nothing differs',
    async (file) => {
      const { detail } = parseFindingEvent(loadEvent(file));
      const account = simulatedAccount({ region: detail.region, guardDuty: { findings: [detail] } });
      const server = new AwsApiServer(account);
      try {
        const reader = new AwsReader(
          awsClients({
            endpoint: await server.start(),
            region: detail.region,
            credentials: { accessKeyId: 'AKIASIMULATION00000', secretAccessKey: 'simulation' },
          }),
        );
        const held = await reader.heldFinding(detectorOf(detail.arn) ?? '', detail.id);
        expect(differences(detail, FindingSchema.parse(held))).toEqual([]);
        expect(await reader.heldFinding(detectorOf(detail.arn) ?? '', 'f'.repeat(32))).toBeNull();
      } finally {
        await server.stop();
      }
    },
  );

  it('npm run replay -- --forged rehearses a finding GuardDuty does not hold: refused, exit 1', async () => {
    const state = join(mkdtempSync(join(tmpdir(), 'forged-')), 'simulation.json');
    const lines: string[] = [];
    const code = await replay(
      [`${EVENTS_DIR}eks-audit-privileged-container.json`, '--forged', '--state', state],
      (line) => lines.push(line),
      (line) => lines.push(line),
    );

    expect(code).toBe(1);
    expect(lines.join('\n')).toMatch(
      /^REFUSED: .*: GuardDuty does not hold the finding as the event said: GuardDuty does not hold finding/m,
    );
    expect(
      loadSimulation(state)?.world.objects.some((o) => o.object.metadata.labels?.[QUARANTINE_LABEL]),
    ).toBe(false);
  });

  it('a finding GuardDuty does not hold is refused: nothing changes, the notification says why, the execution fails', async () => {
    const { sim, status } = await respond(podEvent, {
      change: (world) => {
        world.account.guardDuty = { findings: [] };
      },
    });

    expect(status).toBe('FAILED');
    expect(sim.kube.list('pods').filter((p) => p.metadata.labels?.[QUARANTINE_LABEL])).toEqual([]);
    expect(sim.kube.list('nodes').filter((n) => n.spec?.unschedulable)).toEqual([]);
    const notice = lastNotice(sim);
    expect(notice?.Subject).toMatch(/^\[guardduty-responder\] REFUSED: /);
    expect(notice?.Message).toContain('GuardDuty does not hold finding');
    expect((await recordOf(sim, podEvent.detail.id)).outcome).toBe('refused');
  });

  it('a finding that differs from what GuardDuty holds (another workload) is refused', async () => {
    const { sim, status } = await respond(podEvent, {
      change: (world) => {
        const held = structuredClone(loadEvent('eks-audit-privileged-container.json').detail);
        held.resource.kubernetesDetails.kubernetesWorkloadDetails.name = 'something-else';
        world.account.guardDuty = { findings: [held] };
      },
    });

    expect(status).toBe('FAILED');
    expect(sim.kube.list('pods').filter((p) => p.metadata.labels?.[QUARANTINE_LABEL])).toEqual([]);
    expect(lastNotice(sim)?.Message).toContain('differs from what GuardDuty holds');
  });

  it('an action invoked directly with a target the plan does not name is refused, and changes nothing', async () => {
    const { sim, identified } = await respond(podEvent);
    const handlers = simulatedHandlers(sim, CONFIG, RESPONDER);
    const plan = identified?.plan;
    const record = await recordOf(sim, podEvent.detail.id);
    // A node of the same cluster that the finding has nothing to do with.
    const node = sim.kube.add('nodes', {
      metadata: { name: 'ip-10-0-9-9.ec2.internal' },
      spec: { providerID: 'aws:///us-east-1a/i-0bystander0000000' },
    });

    await expect(
      (handlers.CordonNodesItem as TaskHandler)({
        plan,
        cluster: identified?.identification.cluster,
        target: { name: node?.metadata.name, instanceId: null },
        executionArn: record.executionArn,
      }),
    ).rejects.toThrow(/not in the signed plan/);
    expect(sim.kube.get('nodes', null, node?.metadata.name ?? '')?.spec?.unschedulable).not.toBe(true);
  });

  it('an action that waits for approval, invoked directly with the real plan before any answer, is refused', async () => {
    const config = parseConfig({
      clusters: ['prod-eks'],
      requireApproval: ['revoke-iam'],
      approvalTimeoutMinutes: 1,
    });
    const world = worldFor(podEvent.detail, targetsOf(podEvent.detail));
    const sim = await start(world, podEvent.detail.region);
    const { handlers, identified } = watchingIdentify(sim, config);
    const running = runLocally(synthesizedDefinition(config, RESPONDER), podEvent, handlers, {
      tokens: sim.tokens,
    });
    const asked = () => sim.home.state.published.find((p) => p.Subject?.includes('approval needed'));
    for (let waited = 0; !asked(); waited += 20) {
      if (waited > 20_000) throw new Error('no approval was requested');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const before = structuredClone(sim.account.state.roles);
    const record = await recordOf(sim, podEvent.detail.id);
    const output = identified() as IdentifyOutput;

    await expect(
      (handlers.RevokeIam as TaskHandler)({
        plan: output.plan,
        identification: output.identification,
        executionArn: record.executionArn,
      }),
    ).rejects.toThrow(/approval/);
    expect(sim.account.state.roles).toEqual(before);
    // The request in the table moved to another execution: a person's approval is not signed for it.
    await tableOf(sim).send(
      new UpdateCommand({
        TableName: INCIDENT_TABLE,
        Key: { findingId: podEvent.detail.id },
        UpdateExpression: 'SET approvals.#action.executionArn = :forged',
        ExpressionAttributeNames: { '#action': 'revoke-iam' },
        ExpressionAttributeValues: { ':forged': `${record.executionArn}-forged` },
      }),
    );
    const answer = await answerApproval(
      { findingId: podEvent.detail.id, action: 'revoke-iam', approve: true, requestedBy: 'alice' },
      { store: sim.store(), sfn: new SFNClient(sim.overrides), tokens: approvalTokens(sim) },
    );
    expect(answer.answers.map((a) => a.effect)).toEqual([
      expect.stringMatching(/^nothing changed: the request is not one the signed plan of the execution/),
    ]);
    expect((await recordOf(sim, podEvent.detail.id)).approvals?.['revoke-iam']?.state).toBe('waiting');
    // The execution still waits: its approval state times out.
    // (The token is kept encrypted: the simulation's Step Functions is told by the real one.)
    const token = await approvalTokens(sim).open(Object.values(record.approvals ?? {})[0]?.token ?? '', {
      findingId: podEvent.detail.id,
      action: 'revoke-iam',
      executionArn: record.executionArn,
    });
    sim.tokens.fail(token, 'States.Timeout', 'test');
    await running;
    expect(sim.account.state.roles).toEqual(before);
  });

  it('a claim made directly for another account does not get the real finding planned under it', async () => {
    const sim = await start(worldFor(podEvent.detail, targetsOf(podEvent.detail)), podEvent.detail.region);
    const handlers = simulatedHandlers(sim, CONFIG, RESPONDER);
    const forged = loadEvent('eks-audit-privileged-container.json');
    forged.detail.accountId = '444455556666';
    const executionArn = 'arn:aws:states:us-east-1:111122223333:execution:responder:forged';
    await (handlers.Claim as TaskHandler)({ event: forged, executionArn });

    await expect(
      (handlers.Identify as TaskHandler)({ ...podEvent, claim: { executionArn } }),
    ).rejects.toThrow(/was claimed for 444455556666 us-east-1, not the finding's 111122223333/);
    expect((await recordOf(sim, podEvent.detail.id)).signedPlan).toBeUndefined();
  });
});

describe('6. who asks: a request that names someone else, or carries another request’s proof', () => {
  const releaseFn = (sim: Simulation) =>
    releaseHandler(
      { ...simulatedReleasePorts(sim), secondPerson: ['revoke-iam', 'revoke-sessions'] },
      new SNSClient(sim.overrides),
      'arn:aws:sns:us-east-1:111122223333:responder',
      callersOf(sim),
    );
  const contained = async () => {
    const { sim } = await respond(podEvent);
    return { sim, findingId: podEvent.detail.id };
  };
  const stillOpen = async (sim: Simulation, findingId: string) => {
    const record = await recordOf(sim, findingId);
    expect(record.state).toBe('open');
    expect(record.releases.filter((r) => !r.dryRun)).toEqual([]);
  };

  it('refuses a requestedBy field: the record names only whom STS authenticated', async () => {
    const { sim, findingId } = await contained();
    const mallory = await asked(sim, 'release', { findingId }, 'mallory');

    await expect(releaseFn(sim)({ ...mallory, requestedBy: personArn('alice') })).rejects.toThrow(
      /^release input is not valid \(input: Unrecognized key: "requestedBy"\); nothing was done$/,
    );
    await stillOpen(sim, findingId);
    // Without the field, her release is hers: a dry run records her, and no one else.
    await releaseFn(sim)(await asked(sim, 'release', { findingId, dryRun: true }, 'mallory'));
    expect((await recordOf(sim, findingId)).releases.map((r) => r.requestedBy)).toEqual([
      personArn('mallory'),
    ]);
  });

  it('refuses a proof made for another request (alice’s dry run reused for a release)', async () => {
    const { sim, findingId } = await contained();
    const aliceDryRun = await asked(sim, 'release', { findingId, dryRun: true }, 'alice');

    await expect(releaseFn(sim)({ ...aliceDryRun, dryRun: false })).rejects.toThrow(
      /^the caller could not be authenticated: STS refused the proof \(SignatureDoesNotMatch\)/,
    );
    await stillOpen(sim, findingId);
  });

  it('refuses a proof that sends the function to a host of the attacker’s', async () => {
    const { sim, findingId } = await contained();
    const forged = await callerProof({
      digest: requestDigest('release', { findingId, dryRun: false }),
      at: { region: 'us-east-1', endpoint: 'https://sts.attacker.example' },
      credentials: { accessKeyId: 'AKIAPERSONALICE', secretAccessKey: 'anything' },
    });

    await expect(releaseFn(sim)({ findingId, dryRun: false, caller: forged })).rejects.toThrow(
      /names https:\/\/sts\.attacker\.example, not STS; nothing was done$/,
    );
    await stillOpen(sim, findingId);
  });

  it('gives IAM back only with a second, different person: alone, or countersigned by herself, changes nothing', async () => {
    const { sim, findingId } = await contained();
    await expect(releaseFn(sim)(await asked(sim, 'release', { findingId }, 'mallory'))).rejects.toThrow(
      /would undo revoke-iam role .*: that needs a second person \(secondPerson\)/,
    );
    await expect(
      releaseFn(sim)(await asked(sim, 'release', { findingId }, 'mallory', 'mallory')),
    ).rejects.toThrow(/the countersignature is arn:aws:iam::111122223333:user\/mallory's own/);
    await stillOpen(sim, findingId);

    const report = await releaseFn(sim)(await asked(sim, 'release', { findingId }, 'mallory', 'alice'));
    expect(report.state).toBe('released');
    expect((await recordOf(sim, findingId)).releases.at(-1)).toMatchObject({
      requestedBy: personArn('mallory'),
      countersignedBy: personArn('alice'),
    });
  });
});

describe('7. the chain of custody changed in the table', () => {
  it('lists only evidence the responder signed: a planted object and a changed hash are named as not evidence', async () => {
    const findingId = podEvent.detail.id;
    const { sim } = await respond(podEvent);
    const record = await recordOf(sim, findingId);
    const [first, ...rest] = record.evidence ?? [];
    if (!first) throw new Error('the response kept no evidence');
    const changed = { ...first, sha256: '0'.repeat(64) };
    const planted = { ...first, key: `${first.key}.planted`, subject: 'planted', mac: first.mac };
    record.evidence = [changed, ...rest, planted];
    // And an entry of a node the finding never touched, "cordoned" with another entry's signature.
    const [signed] = Object.values(record.entries);
    if (!signed) throw new Error('the response recorded no entry');
    const plantedKey = 'cordon-nodes|prod-eks|node ip-10-9-9-9.planted.internal';
    record.entries[plantedKey] = {
      ...signed,
      action: 'cordon-nodes',
      target: 'node ip-10-9-9-9.planted.internal',
    };
    await putRecord(sim, record);

    await respond(podEvent, { sim, input: { ...podEvent, 'guardduty-responder': { rerun: true } } });

    const message = lastNotice(sim)?.Message ?? '';
    expect(message).toContain(
      '2 object(s) in the record failed verification (written or changed by someone else) and are not evidence',
    );
    expect(message).toContain(`${first.key} (its MAC does not match)`);
    expect(message).toContain(`${first.key}.planted (its MAC does not match)`);
    expect(message).not.toContain('0'.repeat(64));
    // Every other object, and the rerun's own, are listed with their hashes in the report; not the two.
    const report = Buffer.from(
      sim.home.state.evidence.objects.filter((o) => o.key.endsWith('/report.html')).at(-1)?.body ?? '',
      'base64',
    ).toString();
    for (const object of rest)
      expect(report).toContain(
        `${object.key}</td><td>${object.size}</td><td class="mono">${object.sha256}</td>`,
      );
    expect(report).not.toContain('0'.repeat(64));
    expect(report).not.toContain(`${first.key}.planted`);
    // The planted entry is listed refused, never drawn as a node the responder cordoned.
    expect(report).toMatch(
      new RegExp(
        `${plantedKey.replace(/[.|]/g, '\\$&')}</td><td><span class="badge" [^>]*>refused: failed verification`,
      ),
    );
    expect(report).not.toContain('data-kind="node" data-status="ok"><title>ip-10-9-9-9.planted.internal');
    expect(report).not.toMatch(/<text[^>]*class="label">ip-10-9-9-9\.planted/);
  });
});

describe('8. budget spending written into the table', () => {
  it('does not hold back a containment: spending the responder did not sign is set aside, and the item says so', async () => {
    const { accountId, region } = podEvent.detail;
    const cluster = targetsOf(podEvent.detail).cluster ?? '';
    const key = budgetKey('nodes', `cluster ${accountId}/${region}/${cluster}`);
    const now = new Date().toISOString();
    const world = worldFor(podEvent.detail, targetsOf(podEvent.detail));
    const sim = await start(world, podEvent.detail.region);
    // The attacker fills the hour's budget of the cluster with nodes nobody cordoned.
    const fake = Array.from({ length: 10 }, (_, index) => ({
      target: `node fake-${index}`,
      findingId: 'f',
      at: now,
    }));
    await tableOf(sim).send(
      new PutCommand({
        TableName: INCIDENT_TABLE,
        Item: { findingId: key, spent: fake, version: 7, mac: 'AAAA' },
      }),
    );

    await respond(podEvent, { sim });

    const cordoned = sim.kube.list('nodes').filter((node) => node.spec?.unschedulable);
    expect(cordoned.length).toBeGreaterThan(0);
    const message = lastNotice(sim)?.Message ?? '';
    expect(message).not.toContain('NOT CONTAINED');
    expect(message).toContain(
      `the spending of ${key} in the incident table (version 7) failed verification: set aside`,
    );
    // The item is the responder's again: signed, without the planted spending.
    const { Item } = await tableOf(sim).send(
      new GetCommand({ TableName: INCIDENT_TABLE, Key: { findingId: key } }),
    );
    expect(((Item?.spent ?? []) as { target: string }[]).map((s) => s.target)).not.toContain('node fake-0');
    expect(await sim.store().key.verify(budgetView(key, Item?.version, Item?.spent), Item?.mac)).toBe(true);
  });
});

describe('the checks under faults', () => {
  const throttled = () =>
    Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });

  it('retries a throttled KMS and GuardDuty: the response is contained, not failed', async () => {
    const world = worldFor(podEvent.detail, targetsOf(podEvent.detail));
    const sim = await start(world, podEvent.detail.region);
    // Past the SDK's own attempts (3): only the state machine's retry of the step gets through.
    sim.home.fail('VerifyMac', throttled(), 3);
    sim.account.fail('GetFindings', throttled(), 3);

    const { status } = await respond(podEvent, { sim });

    expect(status).toBe('SUCCEEDED');
    expect(lastNotice(sim)?.MessageAttributes?.outcome?.StringValue).toBe('contained');
    const statuses = (operation: string) =>
      sim.aws.requests.filter((r) => r.operation === operation).map((r) => r.status);
    expect(statuses('VerifyMac').slice(0, 4)).toEqual([400, 400, 400, 200]);
    expect(statuses('GetFindings')).toEqual([400, 400, 400, 200]);
  });
});

describe('in the local mode: a kubeconfig cluster, an AWS-compatible endpoint, its table and bucket', () => {
  it('refuses a planted entry, and a record set back after its release, with the closure in the bucket', async () => {
    const kube = new KubeApiServer();
    enforceNetworkPolicy(kube);
    await kube.start();
    kube.add('pods', pod({ name: 'backup-agent', namespace: 'ops', labels: { app: 'backup' } }));
    // A node someone cordoned by hand, which the finding has nothing to do with.
    kube.add('nodes', { metadata: { name: 'ip-10-0-1-10.ec2.internal' }, spec: { unschedulable: true } });
    const table = await LocalIncidentTable.start();
    const account = simulatedAccount({ macKey: table.macKey });
    const aws = new AwsApiServer(account, table.url);
    await aws.start();
    const local = [...localModeArgs(kube.url, aws.url, table.macKey.keyId), '--evidence-bucket', 'evidence'];
    const file = 'eks-audit-container-with-sensitive-mount.json';
    const id = loadEvent(file).detail.id;
    const quiet = () => {};
    const at: TableAt = { overrides: { endpoint: aws.url, region: 'us-east-1' } };
    /** `npm run release -- <id> --kubeconfig … --evidence-bucket evidence`, its lines kept. */
    const releaseLocally = (lines: string[] = []) =>
      releaseCommand(
        [id, ...local],
        (l) => lines.push(l),
        (l) => lines.push(l),
      );
    try {
      expect(await replay([`${EVENTS_DIR}${file}`, ...local], quiet, quiet)).toBe(0);
      const contained = (await table.records())[0] as IncidentRecord;
      // A planted entry: a node the finding never touched, "cordoned before" by the responder.
      const planted = structuredClone(contained);
      planted.entries['cordon-nodes|prod-eks|node ip-10-0-1-10.ec2.internal'] = {
        ...(Object.values(contained.entries)[0] as RecordEntry),
        action: 'cordon-nodes',
        target: 'node ip-10-0-1-10.ec2.internal',
        before: { node: 'ip-10-0-1-10.ec2.internal', unschedulable: false },
      };
      await putRecord(at, planted);
      const first: string[] = [];
      expect(await releaseLocally(first)).toBe(1);
      expect(first.join('\n')).toContain(
        'cordon-nodes node ip-10-0-1-10.ec2.internal: refused: record entry failed verification',
      );
      expect(kube.get('nodes', null, 'ip-10-0-1-10.ec2.internal')?.spec?.unschedulable).toBe(true);

      // The genuine record alone is released, and closed in the bucket; put back, it is refused whole.
      await putRecord(at, contained);
      expect(await releaseLocally()).toBe(0);
      expect(kube.get('pods', 'ops', 'backup-agent')?.metadata.labels).toEqual({ app: 'backup' });
      expect(account.state.evidence.objects.map((o) => o.key)).toContain(
        `incidents/${id}/closed/${contained.incident?.incidentId}.json`,
      );
      await putRecord(at, contained);
      const again: string[] = [];
      expect(await releaseLocally(again)).toBe(1);
      expect(again.join('\n')).toMatch(/refused: .*was closed at .*the record was set back/);
      expect(kube.get('pods', 'ops', 'backup-agent')?.metadata.labels).toEqual({ app: 'backup' });
    } finally {
      await Promise.all([kube.stop(), aws.stop(), table.stop()]);
    }
  });
});
