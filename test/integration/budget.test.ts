/**
 * The budget across findings: what all findings together may do in a sliding hour. The decision is pure;
 * the burst runs 20 executions of the synthesized state machine at once in the replay simulation, over
 * the one incident table they share, as a compromised image reported on every pod would.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { rewriteEvent } from '../../commands/replay/rewrite.js';
import {
  BUDGET_WINDOW_MS,
  budgetKey,
  DEFAULT_BUDGET,
  decide,
  type Spend,
} from '../../lambdas/core/budget.js';
import { type FindingEvent, parseFindingEvent } from '../../lambdas/core/finding.js';
import { QUARANTINE_LABEL } from '../../lambdas/core/quarantine.js';
import { instanceIdFromProviderId } from '../../lambdas/core/selectors.js';
import { targetsOf } from '../../lambdas/core/targets.js';
import { budgetView } from '../../lambdas/incident/budgets.js';
import { incidentJournal } from '../../lambdas/incident/journal.js';
import { logger } from '../../lambdas/shared/logger.js';
import { parseConfig } from '../../simulation/cdk-json.js';
import { INCIDENT_TABLE } from '../../simulation/incident-table.js';
import { runLocally, synthesizedDefinition } from '../../simulation/runner.js';
import { simulatedHandlers, startSimulation } from '../../simulation/simulation.js';
import { worldFor } from '../../simulation/world.js';
import { pod } from '../support/cluster.js';
import { loadEvent, RESPONDER } from '../support/events.js';
import { planFor } from '../support/incident.js';
import { claimedJournal, EXECUTION, useIncidentTable } from '../support/incidents.js';

describe('the budget decision', () => {
  const now = new Date('2026-12-02T12:00:00.000Z');
  const ago = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();
  const request = (target: string, limit = 2) => ({
    kind: 'nodes' as const,
    scope: 'cluster 111122223333/us-east-1/prod-eks',
    target,
    findingId: 'f-new',
    limit,
    now,
  });
  const spent: Spend[] = [
    { target: 'node a', findingId: 'f1', at: ago(50) },
    { target: 'node b', findingId: 'f2', at: ago(10) },
  ];

  it('holds back a new target once the hour holds the limit, and says when room comes back', () => {
    const decision = decide(spent, request('node c'));
    expect(decision).toEqual({
      granted: false,
      reason:
        'budget: 2 nodes of cluster 111122223333/us-east-1/prod-eks acted on in the last hour by 2 finding(s), the limit of budget.nodesPerHour (2); room again at 2026-12-02T12:10:00.000Z',
    });
  });

  it('lets a target already spent on go again for free, and forgets what left the hour', () => {
    expect(decide(spent, request('node a'))).toEqual({ granted: true, spent, changed: false });
    const later = [{ ...spent[0], at: ago(61) } as Spend, spent[1] as Spend];
    expect(decide(later, request('node c'))).toEqual({
      granted: true,
      spent: [spent[1], { target: 'node c', findingId: 'f-new', at: now.toISOString() }],
      changed: true,
    });
    expect(BUDGET_WINDOW_MS).toBe(3_600_000);
  });
});

/**
 * Moves a budget's spending back in time, as an hour passing would (the item is the table's), signed again
 * with the record key as the responder would have signed it then.
 */
async function ageSpending(
  simulation: Awaited<ReturnType<typeof startSimulation>>,
  key: string,
  ms: number,
): Promise<void> {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient(simulation.overrides));
  const { Item } = await db.send(new GetCommand({ TableName: INCIDENT_TABLE, Key: { findingId: key } }));
  const spent = ((Item?.spent ?? []) as Spend[]).map((s) => ({
    ...s,
    at: new Date(Date.parse(s.at) - ms).toISOString(),
  }));
  const mac = await simulation.store().key.sign(budgetView(key, Number(Item?.version), spent));
  await db.send(new PutCommand({ TableName: INCIDENT_TABLE, Item: { ...Item, spent, mac } }));
}

describe('a burst of findings on one cluster', () => {
  it('cordons no more nodes than the hourly budget, ends partly contained where it held a node back, and contains it on a sighting once the budget frees', async () => {
    const NODES = 10;
    const BUDGET = 4;
    const config = parseConfig({ clusters: ['prod-eks'], budget: { nodesPerHour: BUDGET } });
    const base = loadEvent('eks-runtime-new-binary-executed.json');
    const first = parseFindingEvent(rewriteEvent(base, { pod: 'burst-0' }));
    const simulation = await startSimulation(
      worldFor(first.detail, targetsOf(first.detail), { nodes: NODES }),
      first.detail.region,
    );
    try {
      const nodes = simulation.kube.list('nodes');
      expect(nodes).toHaveLength(NODES);
      // 20 pods, two on each node, each named by its own finding with its node's instance.
      const events: FindingEvent[] = Array.from({ length: 20 }, (_, index) => {
        const node = nodes[index % NODES];
        simulation.kube.add(
          'pods',
          pod({ name: `burst-${index}`, namespace: 'payments', nodeName: node?.metadata.name }),
        );
        const raw = rewriteEvent(base, {
          pod: `burst-${index}`,
          instance: instanceIdFromProviderId(String(node?.spec?.providerID)) ?? '',
        }) as typeof base;
        raw.detail.id = `burst${String(index).padStart(2, '0')}${'0'.repeat(26)}`;
        const event = parseFindingEvent(raw);
        // GuardDuty made each of these findings: it holds them, as Identify reads them back.
        simulation.account.hold(event.detail);
        return event;
      });
      const definition = synthesizedDefinition(config, RESPONDER);

      const runs = await Promise.all(
        events.map((event) =>
          runLocally(definition, event, simulatedHandlers(simulation, config, RESPONDER)),
        ),
      );

      const statuses = new Map(events.map((event, index) => [event.detail.id, runs[index]?.status]));
      // Containment of the pods is not budgeted: all 20 are isolated.
      expect(simulation.kube.list('pods').filter((p) => p.metadata.labels?.[QUARANTINE_LABEL])).toHaveLength(
        20,
      );
      const cordoned = simulation.kube
        .list('nodes')
        .filter((n) => n.spec?.unschedulable)
        .map((n) => `node ${n.metadata.name}`)
        .sort();
      expect(cordoned).toHaveLength(BUDGET);
      // The spending counts exactly the nodes cordoned, though 20 executions wrote it at once.
      const items = await simulation.table.items();
      const scope = `cluster ${first.detail.accountId}/${first.detail.region}/prod-eks`;
      const spending = items.find((item) => item.findingId === budgetKey('nodes', scope));
      expect(((spending?.spent ?? []) as Spend[]).map((s) => s.target).sort()).toEqual(cordoned);

      // Every finding whose node was not cordoned says so, in its record and its notification.
      const reason = `held back: budget: ${BUDGET} nodes of ${scope} acted on in the last hour`;
      const records = await simulation.table.records();
      const held = records.filter((record) => (record.holds ?? []).length > 0);
      const onCordoned = events.filter((event) =>
        cordoned.includes(`node ${nodes[Number(event.detail.id.slice(5, 7)) % NODES]?.metadata.name}`),
      );
      expect(onCordoned).toHaveLength(2 * BUDGET);
      expect(held).toHaveLength(20 - 2 * BUDGET);
      for (const record of held) {
        expect(record.holds).toEqual([
          expect.objectContaining({
            action: 'cordon-nodes',
            reason: expect.stringContaining(reason.slice(12)),
          }),
        ]);
      }
      const notices = simulation.account.state.published;
      expect(notices).toHaveLength(20);
      expect(notices.filter((n) => n.Message?.includes(reason))).toHaveLength(20 - 2 * BUDGET);
      // A budget never hides an uncontained incident: a finding whose node was held back is not contained,
      // its execution fails (the alarm fires) and its notice says the budget and when it frees.
      const heldIds = new Set(held.map((record) => record.findingId));
      const outcomeOf = (id: string) =>
        notices.find((n) => n.Message?.includes(`Finding:   ${id}`))?.MessageAttributes?.outcome?.StringValue;
      for (const event of events) {
        const id = event.detail.id;
        expect([outcomeOf(id), statuses.get(id)]).toEqual(
          heldIds.has(id) ? ['partly-contained', 'FAILED'] : ['contained', 'SUCCEEDED'],
        );
      }
      // The workload is cut off; its node is not cordoned: partly contained, the budget's hold first.
      const heldNotice = notices.find(
        (n) => n.MessageAttributes?.outcome?.StringValue === 'partly-contained',
      );
      expect(heldNotice?.Subject).toMatch(/^\[guardduty-responder\] PARTLY CONTAINED \(held back\): /);
      expect(heldNotice?.Message).toMatch(
        /^PARTLY CONTAINED \(held back\): .* held back: cordon-nodes: node \S+: budget: 4 nodes .*; room again at \S+\./,
      );
      expect(heldNotice?.Message).toContain(
        'The budget across findings held back 1 target(s): the next sighting after it frees responds again.',
      );

      // An hour later the budget has room again: the next sighting of a held finding contains it.
      await ageSpending(simulation, budgetKey('nodes', scope), BUDGET_WINDOW_MS + 60_000);
      const again = events.find((event) => heldIds.has(event.detail.id)) as FindingEvent;
      const rerun = await runLocally(definition, again, simulatedHandlers(simulation, config, RESPONDER));
      expect(rerun.status).toBe('SUCCEEDED');
      expect(simulation.account.state.published.at(-1)?.MessageAttributes?.outcome?.StringValue).toBe(
        'contained',
      );
      expect(simulation.kube.list('nodes').filter((n) => n.spec?.unschedulable)).toHaveLength(BUDGET + 1);
    } finally {
      await simulation.stop();
    }
  });
});

describe('the alarm on a spent budget', () => {
  const incidents = useIncidentTable();

  it('logs the line the stack’s metric filter counts ({ $.message = "budget exhausted" }), and keeps the hold', async () => {
    const plan = planFor('eks-audit-privileged-container.json');
    const journal = await claimedJournal(incidents.store(), plan);
    const held = incidentJournal(incidents.store(), plan.finding.id, EXECUTION, {
      ...DEFAULT_BUDGET,
      nodesPerHour: 0,
    });
    const lines: string[] = [];
    // Powertools writes warnings to stderr, as Lambda's console does.
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    logger.setLogLevel('WARN');
    try {
      expect(await journal.spend('cordon-nodes', 'nodes', 'cluster c', 'node a')).toBeNull();
      expect(await held.spend('cordon-nodes', 'nodes', 'cluster c', 'node b')).toMatch(
        /^budget: 1 nodes of cluster c /,
      );
    } finally {
      logger.setLogLevel('SILENT');
      write.mockRestore();
    }
    const logged = lines
      .flatMap((line) => line.split('\n'))
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    // The metric filter's pattern, as CloudWatch Logs evaluates it on a JSON log event.
    expect(logged.filter((event) => event.message === 'budget exhausted')).toEqual([
      expect.objectContaining({ level: 'WARN', kind: 'nodes', scope: 'cluster c', target: 'node b' }),
    ]);
    const record = await incidents.store().get(plan.finding.id);
    expect(record?.holds).toEqual([expect.objectContaining({ action: 'cordon-nodes', target: 'node b' })]);
  });
});
