/**
 * Nothing lost, safe to re-run: the incident record, deduplication, concurrent findings, a crash between
 * the record and the change, and release. Each test runs the synthesized state machine with the real
 * handlers in the replay simulation: the real SDK clients over HTTP to the local AWS endpoint, the
 * incident table on a local DynamoDB-compatible store behind it, the real Kubernetes client to the local
 * API server.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTION_NAMES as ACTIONS } from '../../lambdas/actions/registry.js';
import type { FindingEvent } from '../../lambdas/core/finding.js';
import { QUARANTINE_LABEL, QUARANTINE_POLICY } from '../../lambdas/core/quarantine.js';
import { DynamoRecordTable } from '../../lambdas/incident/dynamodb-table.js';
import type { RecordEntry } from '../../lambdas/incident/record.js';
import type { Seal } from '../../lambdas/incident/signature.js';
import { IncidentStore } from '../../lambdas/incident/store.js';
import { releaseIncident } from '../../lambdas/release/release.js';
import { parseConfig, type ResponderConfig } from '../../simulation/cdk-json.js';
import { INCIDENT_TABLE } from '../../simulation/incident-table.js';
import {
  type ExecutionRun,
  runLocally,
  synthesizedDefinition,
  type TaskHandler,
} from '../../simulation/runner.js';
import { type Simulation, simulatedHandlers, simulatedReleasePorts } from '../../simulation/simulation.js';
import { ChangedOnlyStore } from '../support/changed-only-store.js';
import { RESPONDER } from '../support/events.js';
import { eventOf, useSimulation } from '../support/simulated.js';

const AUDIT = 'eks-audit-privileged-container.json';
const RUNTIME = 'eks-runtime-new-binary-executed.json';
const HOST = 'ec2-bitcoin-tool-dns-on-eks-node.json';

const CONFIG = parseConfig({ clusters: ['prod-eks'] });
const definitions = new Map<ResponderConfig, ReturnType<typeof synthesizedDefinition>>();
const definitionOf = (config: ResponderConfig) => {
  if (!definitions.has(config)) definitions.set(config, synthesizedDefinition(config, RESPONDER));
  return definitions.get(config) as ReturnType<typeof synthesizedDefinition>;
};

const { simulate } = useSimulation();

function respond(
  sim: Simulation,
  event: FindingEvent,
  options: { config?: ResponderConfig; store?: IncidentStore } = {},
): Promise<ExecutionRun> {
  const config = options.config ?? CONFIG;
  return runLocally(definitionOf(config), event, simulatedHandlers(sim, config, RESPONDER, options.store));
}

/** The cluster and the account as release must put them back: everything containment may change. */
function stateOf(sim: Simulation) {
  return {
    pods: sim.kube.list('pods').map((p) => ({
      pod: `${p.metadata.namespace}/${p.metadata.name}`,
      labels: p.metadata.labels ?? {},
      annotations: p.metadata.annotations ?? {},
    })),
    policies: sim.kube
      .list('networkpolicies')
      .map((p) => ({ policy: `${p.metadata.namespace}/${p.metadata.name}`, spec: p.spec })),
    nodes: sim.kube.list('nodes').map((n) => ({
      node: n.metadata.name,
      unschedulable: n.spec?.unschedulable === true,
      annotations: n.metadata.annotations ?? {},
    })),
    instances: sim.account.state.instances.map((i) => ({
      instance: i.instanceId,
      terminationProtection: i.terminationProtection === true,
      scaleInProtected: i.scaleInProtected === true,
      deleteOnTermination: (i.volumes ?? []).map((v) => [v.deviceName, v.deleteOnTermination ?? true]),
    })),
    roles: structuredClone(sim.account.state.roles),
    profiles: sim.account.state.associations.map((a) => [a.InstanceId, a.IamInstanceProfile.Arn]).sort(),
  };
}

const mutations = (sim: Simulation) => ({
  kubernetes: sim.kube.requests.filter((r) => r.method !== 'GET' && r.status < 300).length,
  // The responder's own records, their signatures and evidence are not changes to the account.
  aws: sim.aws.requests.filter(
    (r) =>
      r.service !== 'dynamodb' &&
      r.service !== 's3' &&
      r.service !== 'kms' &&
      r.status < 300 &&
      !/^(Describe|List|Get|Publish|SendCommand)/.test(r.operation),
  ).length,
});
const published = (sim: Simulation) => sim.account.state.published;
const outcomes = (sim: Simulation) => published(sim).map((p) => p.MessageAttributes?.outcome?.StringValue);
/** A record's entries without times, executions and snapshot ids (numbered in the order taken). */
const entriesOf = (entries: Record<string, RecordEntry>) =>
  Object.fromEntries(
    Object.entries(entries).map(([key, e]) => [
      key,
      {
        action: e.action,
        target: e.target,
        status: e.status,
        before: e.before,
        after: e.after?.snapshotId ? { snapshotId: expect.stringMatching(/^snap-/) } : e.after,
      },
    ]),
  );

describe('deduplication', () => {
  it('contains the same event once, and answers its second delivery with a short seen-again notice', async () => {
    const event = eventOf(AUDIT);
    const sim = await simulate(event);

    const first = await respond(sim, event);
    const afterFirst = { state: stateOf(sim), mutations: mutations(sim) };
    const second = await respond(sim, event);

    expect([first.status, second.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(mutations(sim)).toEqual(afterFirst.mutations);
    expect(stateOf(sim)).toEqual(afterFirst.state);
    expect(second.events.filter((e) => e.type === 'StateEntered').map((e) => e.state)).toEqual([
      'Claim',
      'FirstSighting',
      'Notify',
      'AnyStepFailed',
      'ResponseComplete',
    ]);
    expect(outcomes(sim)).toEqual(['contained', 'seen-again']);
    const notice = published(sim)[1];
    expect(notice?.Subject).toBe(
      '[guardduty-responder] SEEN AGAIN: PrivilegeEscalation:Kubernetes/PrivilegedContainer',
    );
    expect(notice?.Message).toContain(
      'The actions were not repeated: the 12 recorded change(s) of the incident stand.',
    );

    const record = await sim.store().get(event.detail.id);
    expect(record?.sightings).toHaveLength(1);
    expect(record?.executions).toHaveLength(1);
    expect(record?.executionArn).toMatch(/^arn:aws:states:/);
  });

  it('records an update of the same finding (count, severity, updatedAt) without running the actions again', async () => {
    const event = eventOf(AUDIT);
    const update = eventOf(AUDIT, (raw) => {
      raw.detail.service.count = 4;
      raw.detail.severity = 8;
      raw.detail.updatedAt = '2026-11-20T10:14:02.117Z';
    });
    const sim = await simulate(event);
    await respond(sim, event);
    const contained = { state: stateOf(sim), mutations: mutations(sim) };

    await respond(sim, update);

    expect(mutations(sim)).toEqual(contained.mutations);
    expect(stateOf(sim)).toEqual(contained.state);
    expect(outcomes(sim)).toEqual(['contained', 'seen-again']);
    const text = published(sim)[1]?.Message ?? '';
    expect(text).toContain(
      'Count 1 -> 4, severity 5 -> 8, updated 2026-11-20T09:14:02.117Z -> 2026-11-20T10:14:02.117Z',
    );
    expect(text).toContain('GuardDuty counted new activity since the last sighting.');
    expect(text).toContain('The severity went up.');
    const record = await sim.store().get(event.detail.id);
    expect(record?.sightings.map((s) => [s.count, s.severity])).toEqual([[4, 8]]);
    expect(record?.finding.first).toMatchObject({ count: 1, severity: 5 });
  });

  it('lets a real execution take over a finding a dry run claimed, and runs the actions again on request', async () => {
    const event = eventOf(AUDIT);
    const sim = await simulate(event);
    const dry = { ...event, 'guardduty-responder': { dryRun: true } } as FindingEvent;
    await respond(sim, dry);
    expect(mutations(sim)).toEqual({ kubernetes: 0, aws: 0 });

    await respond(sim, event);
    const contained = mutations(sim);
    expect(contained.kubernetes).toBeGreaterThan(0);
    expect(outcomes(sim)).toEqual(['identified', 'contained']);

    const rerun = { ...event, 'guardduty-responder': { rerun: true } } as FindingEvent;
    await respond(sim, rerun);
    expect(outcomes(sim)).toEqual(['identified', 'contained', 'contained']);
    const record = await sim.store().get(event.detail.id);
    expect(record?.executions.map((e) => e.rerun)).toEqual([false, false, true]);
  });
});

describe('concurrent findings', () => {
  it('gives two findings that arrive together for the same pod one quarantine and a consistent record each', async () => {
    const first = eventOf(RUNTIME);
    const second = eventOf(RUNTIME, (raw) => {
      raw.detail.id = 'b51c7f562e457d845e2c985f71cdf2a1';
      raw.detail.arn = raw.detail.arn.replace(raw.detail.arn.split('/').at(-1) ?? '', raw.detail.id);
    });
    const sim = await simulate(first);
    sim.account.hold(second.detail);

    const runs = await Promise.all([respond(sim, first), respond(sim, second)]);

    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(outcomes(sim).sort()).toEqual(['contained', 'contained']);
    const [a, b] = await Promise.all([sim.store().get(first.detail.id), sim.store().get(second.detail.id)]);
    const keys = Object.keys(a?.entries ?? {}).sort();
    expect(Object.keys(b?.entries ?? {}).sort()).toEqual(keys);
    for (const record of [a, b]) {
      for (const entry of Object.values(record?.entries ?? {})) expect(entry.status).not.toBe('intended');
    }
    // The pod carries one quarantine label, of one of the two incidents, and its policy exists once.
    const pods = sim.kube.list('pods', 'payments').filter((p) => p.metadata.labels?.[QUARANTINE_LABEL]);
    expect(pods.length).toBeGreaterThan(0);
    for (const pod of pods)
      expect([first.detail.id, second.detail.id]).toContain(pod.metadata.labels?.[QUARANTINE_LABEL]);
    expect(sim.kube.list('networkpolicies', 'payments').map((p) => p.metadata.name)).toEqual([
      QUARANTINE_POLICY,
    ]);
    // Whichever recorded later saw the node already cordoned or not; one of them holds the original.
    const nodeKey = keys.find((key) => key.startsWith('cordon-nodes|')) ?? '';
    expect([a?.entries[nodeKey]?.before, b?.entries[nodeKey]?.before]).toContainEqual(
      expect.objectContaining({ unschedulable: false }),
    );
  });

  it('keeps what the other open incident still holds when one is released, and undoes it with the last', async () => {
    const first = eventOf(RUNTIME);
    const second = eventOf(RUNTIME, (raw) => {
      raw.detail.id = 'b51c7f562e457d845e2c985f71cdf2a1';
    });
    const sim = await simulate(first);
    sim.account.hold(second.detail);
    const before = stateOf(sim);
    await respond(sim, first);
    await respond(sim, second);
    const contained = stateOf(sim);

    const one = await releaseIncident(
      { findingId: first.detail.id, dryRun: false, requestedBy: 'test' },
      simulatedReleasePorts(sim),
    );
    expect(one.state).toBe('released');
    expect(
      one.steps
        .filter((s) => s.decision === 'keep')
        .map((s) => s.target)
        .sort(),
    ).toEqual(
      Object.values((await sim.store().get(second.detail.id))?.entries ?? {})
        .filter((e) => e.action !== 'snapshot-volumes')
        .map((e) => e.target)
        .sort(),
    );
    expect(stateOf(sim)).toEqual(contained);

    const two = await releaseIncident(
      { findingId: second.detail.id, dryRun: false, requestedBy: 'test' },
      simulatedReleasePorts(sim),
    );
    expect(two.steps.filter((s) => s.status === 'failed')).toEqual([]);
    expect(stateOf(sim)).toEqual(before);
  });
});

describe('a crash between the record and the change', () => {
  /**
   * The store of a Lambda that, once for each of these targets, hangs right after writing the record and
   * before the change: the invocation runs into its timeout and is abandoned, as Lambda abandons one.
   */
  class HangingStore extends IncidentStore {
    readonly hung: string[] = [];
    constructor(
      sim: Simulation,
      private readonly targets: readonly string[],
      endpoint = sim.overrides.endpoint,
    ) {
      super(
        new DynamoRecordTable(new DynamoDBClient({ ...sim.overrides, endpoint }), INCIDENT_TABLE),
        sim.store().key,
      );
    }
    override async intend(
      seal: Seal,
      entry: RecordEntry,
    ): Promise<{ entry: RecordEntry; refused: string | null }> {
      const recorded = await super.intend(seal, entry);
      // Two actions may name one target (protect-instances and harden-imds an instance): one hang each.
      const key = `${entry.action} ${entry.target}`;
      if (!this.targets.includes(key) || this.hung.includes(key)) return recorded;
      this.hung.push(key);
      return new Promise<never>(() => {});
    }
  }

  /** Lambda's timeout: an invocation that has not answered in time fails with Lambda.Unknown. */
  const TIMEOUT_MS = 1000;
  const withTimeout = (handlers: Record<string, TaskHandler>) =>
    Object.fromEntries(
      Object.entries(handlers).map(([state, handler]) => [
        state,
        (input: unknown) =>
          Promise.race([
            handler(input),
            new Promise((_, reject) =>
              setTimeout(
                () => reject(Object.assign(new Error('Task timed out'), { name: 'Lambda.Unknown' })),
                TIMEOUT_MS,
              ).unref(),
            ),
          ]),
      ]),
    );

  let changedOnly: ChangedOnlyStore | undefined;
  afterEach(async () => {
    await changedOnly?.stop();
    changedOnly = undefined;
  });

  it.each([
    ['the table', false],
    ['a compatible store that leaves unchanged attributes out of UPDATED_NEW', true],
  ])(
    'ends, after the retries, in the same cluster, account and record as a clean run (%s)',
    async (_, omits) => {
      const event = eventOf(AUDIT);
      const clean = await simulate(event);
      await respond(clean, event);
      const cleanState = stateOf(clean);
      const cleanEntries = entriesOf((await clean.store().get(event.detail.id))?.entries ?? {});
      const cleanSnapshots = clean.account.state.snapshots.map((s) => s.VolumeId).sort();
      await clean.stop();

      const sim = await simulate(event);
      // One target of each action: a pod (after its namespace policy), a node, an instance (protected, then
      // hardened), a role, a volume.
      // (A Deployment finding names no host, nor an access key: isolate-host and revoke-sessions have no
      // target here.)
      const targets = ACTIONS.filter(
        (action) => action !== 'isolate-host' && action !== 'revoke-sessions',
      ).map((action) => {
        const entry = Object.values(cleanEntries).find(
          (e) => e.action === action && !e.target.startsWith('networkpolicy'),
        );
        return entry ? `${action} ${entry.target}` : '';
      });
      if (omits) {
        changedOnly = new ChangedOnlyStore(sim.table.url);
        await changedOnly.start();
      }
      const hanging = new HangingStore(sim, targets, changedOnly?.url);
      const run = await runLocally(
        definitionOf(CONFIG),
        event,
        withTimeout(simulatedHandlers(sim, CONFIG, RESPONDER, hanging)),
      );

      expect(run.status).toBe('SUCCEEDED');
      expect(hanging.hung.sort()).toEqual([...targets].sort());
      const retried = run.events.filter((e) => e.type === 'TaskFailed' || e.error === 'Lambda.Unknown');
      expect(retried.length).toBeGreaterThan(0);
      expect(targets.every(Boolean)).toBe(true);
      expect(stateOf(sim)).toEqual(cleanState);
      expect(entriesOf((await sim.store().get(event.detail.id))?.entries ?? {})).toEqual(cleanEntries);
      // One snapshot per volume: the retried step found the one it had started.
      expect(sim.account.state.snapshots.map((s) => s.VolumeId).sort()).toEqual(cleanSnapshots);
      // The retried intents did meet the other return semantics, and kept the first `before`.
      if (changedOnly) expect(changedOnly.omitted).toBeGreaterThanOrEqual(targets.length);
    },
  );
});

describe('release', () => {
  it('puts the cluster and the account back as they were before containment, keeping the snapshots', async () => {
    const config = parseConfig({ clusters: ['prod-eks'], stripPodLabels: true });
    const event = eventOf(AUDIT);
    const sim = await simulate(event);
    // A node someone had cordoned before the incident stays cordoned.
    const [someNode] = sim.kube.list('nodes');
    sim.kube.add('nodes', { ...someNode, spec: { ...someNode?.spec, unschedulable: true } } as never);
    // The pod role also has an inline policy, whose document must come back exactly.
    const irsa = sim.account.state.roles['shop-app-irsa'];
    if (irsa)
      irsa.inline.orders =
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}';
    const before = stateOf(sim);

    await respond(sim, event, { config });
    const contained = stateOf(sim);
    expect(contained.roles['shop-app-irsa']).toEqual({ attached: [], inline: {} });
    expect(contained.nodes.every((n) => n.unschedulable)).toBe(true);
    expect(contained.pods.filter((p) => p.labels[QUARANTINE_LABEL]).length).toBeGreaterThan(0);
    const snapshots = sim.account.state.snapshots.map((s) => s.SnapshotId);
    expect(snapshots.length).toBeGreaterThan(0);

    const dry = await releaseIncident(
      { findingId: event.detail.id, dryRun: true, requestedBy: 'test' },
      simulatedReleasePorts(sim),
    );
    expect(stateOf(sim)).toEqual(contained);
    expect(dry.steps.filter((s) => s.status === 'planned').length).toBeGreaterThan(0);

    const report = await releaseIncident(
      { findingId: event.detail.id, dryRun: false, requestedBy: 'test' },
      simulatedReleasePorts(sim),
    );

    expect(report.steps.filter((s) => s.status === 'failed')).toEqual([]);
    expect(report.state).toBe('released');
    expect(stateOf(sim)).toEqual(before);
    expect(sim.account.state.snapshots.map((s) => s.SnapshotId)).toEqual(snapshots);
    const record = await sim.store().get(event.detail.id);
    expect(record?.state).toBe('released');
    expect(record?.releases.map((r) => [r.dryRun, r.requestedBy])).toEqual([
      [true, 'test'],
      [false, 'test'],
    ]);
    await expect(
      releaseIncident(
        { findingId: event.detail.id, dryRun: false, requestedBy: 'test' },
        simulatedReleasePorts(sim),
      ),
    ).rejects.toThrow(/already released/);
  });

  it('associates again the instance profile taken off a compromised node whose role is shared', async () => {
    const event = eventOf(HOST);
    const sim = await simulate(event);
    const before = stateOf(sim);

    await respond(sim, event);
    expect(stateOf(sim).profiles).not.toEqual(before.profiles);

    const report = await releaseIncident(
      { findingId: event.detail.id, dryRun: false, requestedBy: 'test' },
      simulatedReleasePorts(sim),
    );
    expect(report.steps.filter((s) => s.status === 'failed')).toEqual([]);
    expect(report.steps.map((s) => s.target)).toContain(
      `instance profile of ${event.detail.resource.instanceDetails?.instanceId}`,
    );
    expect(stateOf(sim)).toEqual(before);
  });

  it('refuses a finding the table does not hold', async () => {
    const sim = await simulate(eventOf(AUDIT));
    await expect(
      releaseIncident(
        { findingId: 'no-such-finding', dryRun: false, requestedBy: 'test' },
        simulatedReleasePorts(sim),
      ),
    ).rejects.toThrow('no incident record for finding no-such-finding');
  });
});
