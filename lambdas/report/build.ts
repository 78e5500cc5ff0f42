/**
 * The incident report's data (render.ts draws it): from an execution, as Notify has it (the plan, the
 * identification, every action's results, the record), or from the incident record alone, as release
 * and recover have it. Pure.
 */
import { FindingSchema } from '../core/finding.js';
import { observedOf } from '../core/observed.js';
import type { Identification } from '../identify/identify.js';
import type { EvidenceObject, IncidentRecord, RecordEntry } from '../incident/record.js';
import type { Notification } from '../notify/message.js';
import type { ActionOutcome } from '../notify/results.js';
import type { Verdict } from '../notify/verdict.js';
import type { GraphNode, Mark, ReportData, TimelineStep } from './render.js';

/** Where Notify keeps the report: beside the incident's evidence (each response a new version). */
export const reportKey = (findingId: string): string => `incidents/${findingId}/report.html`;

/** The graph node of an entry or item target: `pod ns/name`, `node n`, `instance i-…`, `role r`. */
function kindOf(target: string): { kind: GraphNode['kind']; label: string } | null {
  const [word, ...rest] = target.split(' ');
  const label = rest.join(' ');
  const kinds: Record<string, GraphNode['kind']> = {
    pod: 'pod',
    node: 'node',
    instance: 'instance',
    role: 'role',
    volume: 'volume',
  };
  const kind = kinds[word ?? ''];
  return kind && label ? { kind, label: kind === 'volume' ? (label.split(' ')[0] ?? label) : label } : null;
}

class Graph {
  readonly nodes = new Map<string, GraphNode>();
  readonly edges: [string, string][] = [];

  add(kind: GraphNode['kind'], label: string): string {
    const id = `${kind}:${label}`;
    if (!this.nodes.has(id)) this.nodes.set(id, { id, kind, label, marks: [] });
    return id;
  }

  link(from: string | null, to: string | null): void {
    if (from && to && !this.edges.some(([a, b]) => a === from && b === to)) this.edges.push([from, to]);
  }

  mark(target: string, mark: Mark): void {
    const known = kindOf(target);
    if (!known) return;
    const id = this.add(known.kind, known.label);
    this.nodes.get(id)?.marks.push(mark);
  }

  data(): ReportData['graph'] {
    return { nodes: [...this.nodes.values()], edges: this.edges };
  }
}

/** The graph of what identification found, marked with what each action did to each object. */
function graphOf(found: Identification, outcomes: readonly ActionOutcome[]): ReportData['graph'] {
  const graph = new Graph();
  const cluster = found.cluster ? graph.add('cluster', found.cluster.name) : null;
  const workload = found.workload
    ? graph.add('workload', `${found.workload.kind} ${found.workload.namespace}/${found.workload.name}`)
    : null;
  graph.link(cluster, workload);
  const nodeIds = new Map<string, string>();
  for (const node of found.nodes) nodeIds.set(node.name, graph.add('node', node.name));
  for (const pod of found.pods) {
    const id = graph.add('pod', `${pod.namespace}/${pod.name}`);
    graph.link(workload ?? cluster, id);
    if (pod.nodeName) graph.link(id, nodeIds.get(pod.nodeName) ?? graph.add('node', pod.nodeName));
  }
  for (const instance of found.instances) {
    const id = graph.add('instance', instance.instanceId);
    if (instance.nodeName) graph.link(nodeIds.get(instance.nodeName) ?? null, id);
    else graph.link(cluster, id);
    if (instance.role) graph.link(id, graph.add('role', instance.role.name));
    for (const volume of instance.volumes) graph.link(id, graph.add('volume', volume.volumeId));
  }
  for (const role of found.roles) {
    const id = graph.add('role', role.name);
    for (const user of role.usedBy) {
      const known = kindOf(user);
      if (known) graph.link(graph.add(known.kind, known.label), id);
    }
  }
  for (const outcome of outcomes) {
    for (const item of outcome.items)
      graph.mark(item.target, { action: outcome.action, status: item.status });
  }
  for (const held of found.heldBack)
    for (const name of held.names)
      graph.mark(`${held.kind} ${name}`, { action: 'identify', status: `held back: ${held.reason}` });
  return graph.data();
}

/** The steps on a time axis: the claim, each action's entries from intended to settled, Notify. */
function timelineOf(
  record: IncidentRecord | null,
  checked: CheckedEntries,
  executionArn: string | null,
  outcomes: readonly ActionOutcome[],
  end: string,
): TimelineStep[] {
  const start = record?.claimedAt ?? end;
  const steps: TimelineStep[] = [{ step: 'claim', start, end: start, status: 'ok' }];
  const entries = [...checked.verified.values()].filter(
    (entry) => executionArn === null || entry.executionArn === executionArn,
  );
  const byAction = byActionOf(entries);
  const seen = new Set<string>();
  for (const outcome of outcomes) {
    seen.add(outcome.action);
    const mine = byAction.get(outcome.action) ?? [];
    const first = mine.map((e) => e.intendedAt).sort()[0];
    const last =
      mine
        .map((e) => e.settledAt ?? '')
        .sort()
        .at(-1) || null;
    const status = outcome.status === 'would' ? 'dry run: would act' : outcome.status;
    steps.push({
      step: outcome.action,
      start: first ?? start,
      end: first ? last : start,
      status,
      note: outcome.why ?? undefined,
    });
  }
  for (const [action, mine] of byAction) {
    if (seen.has(action)) continue;
    const failed = mine.some((e) => e.status === 'failed');
    steps.push({
      step: action,
      start: mine.map((e) => e.intendedAt).sort()[0] ?? start,
      end:
        mine
          .map((e) => e.settledAt ?? '')
          .sort()
          .at(-1) || null,
      status: failed ? 'failed' : 'ok',
    });
  }
  return steps;
}

/** The entries of each action. */
function byActionOf(entries: readonly RecordEntry[]): Map<string, RecordEntry[]> {
  const byAction = new Map<string, RecordEntry[]>();
  for (const entry of entries) byAction.set(entry.action, [...(byAction.get(entry.action) ?? []), entry]);
  return byAction;
}

const evidenceOf = (objects: readonly EvidenceObject[]): ReportData['evidence'] =>
  objects.map(({ bucket, key, size, sha256, versionId, note }) => ({
    bucket,
    key,
    size,
    sha256,
    versionId,
    note,
  }));

/**
 * The record's entries as checked against the responder's key (signature.ts verifyRecord): only those that
 * verified are drawn; those that did not are listed as refused, nothing of theirs shown as done.
 */
export type CheckedEntries = {
  verified: ReadonlyMap<string, RecordEntry>;
  refused: ReadonlyMap<string, string>;
};

export const NO_ENTRIES: CheckedEntries = { verified: new Map(), refused: new Map() };

const entriesOf = (checked: CheckedEntries): ReportData['entries'] => [
  ...[...checked.verified].map(([key, entry]) => ({
    key,
    status: entry.status,
    intendedAt: entry.intendedAt,
    settledAt: entry.settledAt,
    before: entry.before,
  })),
  ...[...checked.refused].map(([key, why]) => ({
    key,
    status: `refused: failed verification (${why})`,
    intendedAt: '',
    settledAt: null,
    before: null,
  })),
];

/** The report of an execution, as Notify has it. */
export function reportOfExecution(input: {
  notification: Notification;
  verdict: Verdict;
  outcomes: readonly ActionOutcome[];
  found: Identification;
  plan: { finding: ReportData['finding'] & { observed?: ReportData['finding']['observed'] } };
  record: IncidentRecord | null;
  entries: CheckedEntries;
  executionArn: string | null;
  evidence: readonly EvidenceObject[];
  generatedAt: string;
}): ReportData {
  const { notification, verdict, outcomes, found, plan, record } = input;
  const timeline = timelineOf(record, input.entries, input.executionArn, outcomes, input.generatedAt);
  timeline.push({
    step: 'notify',
    start: input.generatedAt,
    end: input.generatedAt,
    status: notification.attributes.outcome,
  });
  return {
    title: notification.subject,
    summary: notification.summary,
    generatedAt: input.generatedAt,
    finding: plan.finding,
    targets: verdict.targets,
    timeline,
    graph: graphOf(found, outcomes),
    actions: outcomes.map((o) => ({
      action: o.action,
      status: o.status,
      why: o.why,
      items: o.items.map(({ target, status, detail, verified, caveats }) => ({
        target,
        status,
        detail,
        verified,
        caveats,
      })),
    })),
    evidence: evidenceOf(input.evidence),
    entries: entriesOf(input.entries),
    sections: [],
    nextSteps: notification.nextSteps,
  };
}

/**
 * The report of an incident from its record alone, as release and recover have it, with what they did
 * as a section. The finding is shown as the record keeps it (read back from GuardDuty by Identify).
 */
export function reportOfRecord(input: {
  record: IncidentRecord;
  entries: CheckedEntries;
  title: string;
  summary: string;
  sections: ReportData['sections'];
  evidence: readonly EvidenceObject[];
  nextSteps: string[];
  generatedAt: string;
}): ReportData {
  const { record } = input;
  const parsed = FindingSchema.safeParse(safeJson(record.finding.json));
  const finding = parsed.success ? parsed.data : null;
  const graph = new Graph();
  const entries = [...input.entries.verified.values()];
  for (const entry of entries) {
    const cluster = entry.cluster ? graph.add('cluster', entry.cluster) : null;
    graph.mark(entry.target, { action: entry.action, status: entry.status });
    const known = kindOf(entry.target);
    if (known && (known.kind === 'pod' || known.kind === 'node'))
      graph.link(cluster, `${known.kind}:${known.label}`);
  }
  for (const release of record.releases ?? [])
    for (const step of release.steps) graph.mark(step.target, { action: 'release', status: step.status });
  for (const recovery of record.recoveries ?? [])
    for (const step of recovery.steps) graph.mark(step.target, { action: 'recover', status: step.status });
  const byAction = byActionOf(entries);
  const timeline = timelineOf(record, input.entries, null, [], input.generatedAt);
  for (const release of record.releases ?? [])
    timeline.push({
      step: `release${release.dryRun ? ' (dry run)' : ''}`,
      start: release.at,
      end: release.at,
      status: release.steps.some((s) => s.status === 'failed') ? 'failed' : 'done',
    });
  for (const recovery of record.recoveries ?? [])
    timeline.push({
      step: `recover${recovery.dryRun ? ' (dry run)' : ''}`,
      start: recovery.at,
      end: recovery.at,
      status: recovery.steps.some((s) => s.status === 'failed')
        ? 'failed'
        : recovery.steps.some((s) => s.status === 'manual')
          ? 'left for a person'
          : 'done',
    });
  return {
    title: input.title,
    summary: input.summary,
    generatedAt: input.generatedAt,
    finding: {
      id: record.findingId,
      type: record.finding.type,
      severity: record.finding.first.severity,
      title: finding?.title ?? '',
      accountId: record.finding.accountId,
      region: record.finding.region,
      observed: finding ? observedOf(finding) : undefined,
    },
    targets: [],
    timeline,
    graph: graph.data(),
    actions: [...byAction].map(([action, mine]) => ({
      action,
      status: mine.some((e) => e.status === 'failed') ? 'failed' : 'ok',
      why: null,
      items: mine.map((e) => ({
        target: e.target,
        status: e.status,
        detail: e.detail ?? '',
        verified: null,
        caveats: [],
      })),
    })),
    evidence: evidenceOf(input.evidence),
    entries: entriesOf(input.entries),
    sections: input.sections,
    nextSteps: input.nextSteps,
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
