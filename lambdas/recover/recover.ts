/**
 * Recover: the end of a confirmed incident. Once the evidence the record lists is complete (every
 * snapshot `completed`), the quarantined pods are deleted so their controllers start clean ones, the
 * compromised nodes are drained and their instances terminated so their Auto Scaling groups launch new
 * ones, and revoked IAM stays revoked: its roles need their credentials rotated and their policies
 * reviewed before anything is re-attached. Every step is written to the record before it is taken and
 * settled after; the incident ends `recovered`. Release (lambdas/release/release.ts) stays for false
 * positives. As release does, recover acts only on entries whose MAC verifies (signature.ts): a pod, node
 * or instance named by an entry someone wrote into the table is not deleted, drained or terminated.
 */
import {
  DescribeAutoScalingInstancesCommand,
  ExitStandbyCommand,
  SetInstanceProtectionCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  ModifyInstanceAttributeCommand,
} from '@aws-sdk/client-ec2';
import type { V1Pod } from '@kubernetes/client-node';
import type { Entry, Recovery } from '../actions/action.js';
import { REMOVED_LABELS_ANNOTATION } from '../actions/isolate-pods/isolate-pods.js';
import { ACTION_NAMES, actionNamed } from '../actions/registry.js';
import type { Kubernetes } from '../clients/kubernetes.js';
import type { Reached } from '../clients/reach.js';
import { QUARANTINE_LABEL } from '../core/quarantine.js';
import { labelSelectorQuery, matchesLabelSelector } from '../core/selectors.js';
import { DEFAULT_PROTECTED_WORKLOADS, type ResponderSettings } from '../core/settings.js';
import { protectionOf } from '../identify/guards.js';
import type {
  IncidentRecord,
  IncidentState,
  PersonRequest,
  RecordEntry,
  RecoveryStepRecord,
} from '../incident/record.js';
import { UnknownIncidentError, verifiedIncident } from '../incident/seal.js';
import { closeIncident, type ReleasePorts, refusedWarning } from '../release/release.js';
import { messageOf } from '../shared/errors.js';
import { WATCH_MARGIN_SECONDS, type WatchedPod, type WatchInput } from './watch.js';

/** How a drain goes: what it never evicts, and how long it tries a pod a PodDisruptionBudget protects. */
export type DrainOptions = {
  /** Never evicted (settings `protectedWorkloads`); a node that runs one is drained around it. */
  protectedWorkloads: ResponderSettings['protectedWorkloads'];
  /** How long evictions a PodDisruptionBudget refuses (429) are tried again; then the drain fails. */
  deadlineMs: number;
  /** The pause between two rounds of evictions. */
  pauseMs: number;
};

export const DEFAULT_DRAIN: DrainOptions = {
  protectedWorkloads: DEFAULT_PROTECTED_WORKLOADS,
  deadlineMs: 60_000,
  pauseMs: 5_000,
};

export type RecoverPorts = Pick<ReleasePorts, 'store' | 'reach' | 'closures' | 'sleep'> & {
  drain?: Partial<DrainOptions>;
};

/** What recovering one incident calls: its account and region's clients, the store, the drain's rules. */
type RecoverAt = Reached &
  Pick<ReleasePorts, 'store'> & { drain: DrainOptions; sleep: (ms: number) => Promise<void> };

export type RecoverReport = {
  findingId: string;
  dryRun: boolean;
  state: IncidentState;
  steps: RecoveryStepRecord[];
  /** What stays contained, by action, and what a person does about it (the action's `remains`). */
  kept: { action: string; targets: string[]; advice: string }[];
  /** The deleted pods still terminating, for the watch (watch.ts); null when none is. */
  watch: WatchInput | null;
  /** Who watches them: the RecoveryWatch state machine's execution, or why none does. */
  watching?: string;
};

/** A recovery that cannot start: unknown finding, not open, evidence not complete. Nothing changed. */
export class RecoverError extends Error {
  override readonly name = 'RecoverError';
}

/** One step of a recovery, in the order it is taken. */
export type RecoveryStep =
  | { kind: 'pod'; target: string; cluster: string; namespace: string; pod: string }
  | { kind: 'policy'; target: string; action: string; entry: Entry<unknown> }
  | { kind: 'drain'; target: string; cluster: string; node: string }
  | {
      kind: 'replace';
      target: string;
      instanceId: string;
      autoScalingGroup: string | null;
      /** The Karpenter node it backs, replaced by deleting its NodeClaim when it is in no group. */
      karpenter: { cluster: string; node: string } | null;
      /** The snapshots that must be `completed` before the instance goes. */
      snapshots: string[];
    };

/** Stands for an instance not known, in the set of instances whose node was not drained. */
const ANY_INSTANCE = '*';

const ORDER: Record<RecoveryStep['kind'], number> = { pod: 0, policy: 1, drain: 2, replace: 3 };

/** Each verified entry with what its action says recover does with it (lambdas/actions/<name>/index.ts). */
function recoveriesOf(
  record: IncidentRecord,
): { action: string; entry: Entry<unknown>; parts: Recovery[] }[] {
  return Object.values(record.entries ?? {}).flatMap((recorded) => {
    const action = actionNamed(recorded.action);
    const before = action?.before.safeParse(recorded.before);
    if (!action?.recover || !before?.success) return [];
    const entry: Entry<unknown> = {
      target: recorded.target,
      cluster: recorded.cluster,
      status: recorded.status,
      detail: recorded.detail,
      before: before.data,
      after: recorded.after,
    };
    return [{ action: recorded.action, entry, parts: action.recover(entry) }];
  });
}

/** The snapshots the record lists, by instance; an entry without one is missing evidence. */
export function snapshotsOf(record: IncidentRecord): {
  byInstance: Map<string, string[]>;
  missing: string[];
} {
  const byInstance = new Map<string, string[]>();
  const missing: string[] = [];
  for (const { parts } of recoveriesOf(record)) {
    for (const part of parts) {
      if (part.kind !== 'snapshot') continue;
      if (part.snapshotId === null) missing.push(part.missing);
      else byInstance.set(part.instanceId, [...(byInstance.get(part.instanceId) ?? []), part.snapshotId]);
    }
  }
  return { byInstance, missing };
}

/** What recovering `record` does, step by step. Pure. */
export function recoveryPlan(record: IncidentRecord): RecoveryStep[] {
  const steps: RecoveryStep[] = [];
  const groups = new Map<string, string | null>();
  const karpenter = new Map<string, { cluster: string; node: string }>();
  for (const { action, entry, parts } of recoveriesOf(record)) {
    for (const part of parts) {
      if (part.kind === 'pod') steps.push(part);
      else if (part.kind === 'undo') steps.push({ kind: 'policy', target: entry.target, action, entry });
      else if (part.kind === 'drain') steps.push(part);
      // The first Auto Scaling group an entry records for the instance is the one it is replaced in.
      else if (part.kind === 'instance') {
        groups.set(part.instanceId, groups.get(part.instanceId) ?? part.autoScalingGroup);
        if (part.karpenter && !karpenter.has(part.instanceId)) karpenter.set(part.instanceId, part.karpenter);
      }
    }
  }
  const { byInstance } = snapshotsOf(record);
  for (const instanceId of byInstance.keys()) if (!groups.has(instanceId)) groups.set(instanceId, null);
  for (const [instanceId, autoScalingGroup] of groups) {
    steps.push({
      kind: 'replace',
      target: `instance ${instanceId}`,
      instanceId,
      autoScalingGroup,
      karpenter: karpenter.get(instanceId) ?? null,
      snapshots: byInstance.get(instanceId) ?? [],
    });
  }
  return steps.sort((a, b) => ORDER[a.kind] - ORDER[b.kind]);
}

/** What stays contained after the recovery, by action, with what a person does about it. */
export function keptOf(record: IncidentRecord): RecoverReport['kept'] {
  const targets = new Map<string, string[]>();
  for (const { action, parts } of recoveriesOf(record))
    for (const part of parts)
      if (part.kind === 'stays') targets.set(action, [...(targets.get(action) ?? []), part.target]);
  const order = (action: string) => ACTION_NAMES.indexOf(action);
  return [...targets]
    .sort(([a], [b]) => order(a) - order(b))
    .map(([action, kept]) => ({
      action,
      targets: kept,
      advice: actionNamed(action)?.remains?.(kept) ?? `${action} stays on ${kept.join(', ')}.`,
    }));
}

/** Snapshots not yet `completed`, with their state and progress; an unknown snapshot counts too. */
async function unfinishedSnapshots(ports: RecoverAt, snapshotIds: string[]): Promise<string[]> {
  if (snapshotIds.length === 0) return [];
  const { Snapshots } = await ports.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: snapshotIds }));
  const found = new Map((Snapshots ?? []).map((snapshot) => [snapshot.SnapshotId, snapshot]));
  return snapshotIds.flatMap((id) => {
    const snapshot = found.get(id);
    if (!snapshot) return [`${id} not found`];
    if (snapshot.State === 'completed') return [];
    return [`${id} ${snapshot.State ?? 'unknown'}${snapshot.Progress ? ` (${snapshot.Progress})` : ''}`];
  });
}

const isDaemonSetPod = (pod: V1Pod) =>
  (pod.metadata?.ownerReferences ?? []).some((owner) => owner.kind === 'DaemonSet');
const isMirrorPod = (pod: V1Pod) => 'kubernetes.io/config.mirror' in (pod.metadata?.annotations ?? {});
const nameOf = (pod: V1Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

/** How a step ended; a drain also says which instance runs the node, when the node could be read. */
export type Done = {
  status: 'ok' | 'failed' | 'skipped' | 'manual';
  detail: string;
  instanceId?: string | null;
  /** A deleted pod still terminating: when its kubelet should have stopped it. */
  terminatingUntil?: string;
};

/** A pod a kubelet has not yet confirmed stopping: deleted, with its deletion time and what holds it. */
function terminating(pod: V1Pod): string {
  const until = pod.metadata?.deletionTimestamp;
  const at = until ? new Date(until).toISOString() : 'its grace period';
  const finalizers = pod.metadata?.finalizers ?? [];
  const held = finalizers.length > 0 ? `; finalizer(s) ${finalizers.join(', ')} must also clear` : '';
  return `terminating: its kubelet stops it by ${at} (or it goes with its node)${held}`;
}

/**
 * A quarantined pod is deleted when a controller will start a clean one: it still has an owner, or
 * isolation stripped the labels its controller selects it by (it was orphaned on purpose, and its
 * controller started a replacement then). A bare pod is reported and left quarantined: nothing would
 * recreate it. Deletion is a process: the pod stays, terminating, until its kubelet confirms; that is
 * success, said as such.
 */
async function replacePod(kube: Kubernetes, before: { namespace: string; pod: string }): Promise<Done> {
  const pod = await kube.readPod(before.namespace, before.pod);
  if (!pod) return { status: 'skipped', detail: 'the pod no longer exists' };
  const owned = (pod.metadata?.ownerReferences ?? []).length > 0;
  const stripped = REMOVED_LABELS_ANNOTATION in (pod.metadata?.annotations ?? {});
  if (!owned && !stripped) {
    return {
      status: 'manual',
      detail:
        'bare pod: nothing recreates it, so it stays quarantined; redeploy it from a clean source, then delete it',
    };
  }
  const how = stripped
    ? 'orphaned by isolation: its controller already runs a replacement'
    : `owned by ${pod.metadata?.ownerReferences?.[0]?.kind}: its controller starts a fresh pod`;
  if (!pod.metadata?.deletionTimestamp) await kube.deletePod(before.namespace, before.pod);
  const after = await kube.readPod(before.namespace, before.pod);
  if (!after) return { status: 'ok', detail: `deleted and gone (${how})` };
  return {
    status: 'ok',
    detail: `deleted, ${terminating(after)} (${how})`,
    terminatingUntil: String(after.metadata?.deletionTimestamp ?? new Date().toISOString()),
  };
}

const hasLocalStorage = (pod: V1Pod) => (pod.spec?.volumes ?? []).some((volume) => volume.emptyDir);

/** The PodDisruptionBudgets of the pod's namespace that select it, by name. */
async function budgetsOf(kube: Kubernetes, pod: V1Pod): Promise<string[]> {
  const namespace = pod.metadata?.namespace ?? '';
  const labels = pod.metadata?.labels ?? {};
  const budgets = await kube.listPodDisruptionBudgets(namespace);
  return budgets
    .filter((budget) => {
      const selector = budget.spec?.selector;
      // An empty selector selects every pod of the namespace (policy/v1).
      if (!selector) return false;
      const empty = !selector.matchLabels && (selector.matchExpressions ?? []).length === 0;
      return empty || matchesLabelSelector(labelSelectorQuery(selector), labels);
    })
    .map((budget) => `${namespace}/${budget.metadata?.name}`);
}

/**
 * Drains a cordoned node as `kubectl drain` does: every pod on it leaves through the Eviction API, which
 * honours PodDisruptionBudgets (a refused eviction is tried again until the deadline, then named with
 * the budget that blocked it). DaemonSet and mirror pods belong to the node, protected workloads are
 * never touched, and pods quarantined by another incident are that incident's evidence: all stay (the
 * last make the drain fail, so the instance is not replaced). Pods with local storage (emptyDir) are
 * evicted and named: their data goes with them. An evicted pod is terminating until its kubelet confirms.
 */
export async function drainNode(
  kube: Kubernetes,
  node: string,
  at: Pick<RecoverAt, 'drain' | 'sleep'>,
): Promise<Done> {
  const current = await kube.readNode(node);
  const instanceId = current?.spec?.providerID?.split('/').at(-1) ?? null;
  if (!current) return { status: 'skipped', detail: 'the node no longer exists', instanceId };
  const pods = await kube.listPods(null, { fieldSelector: `spec.nodeName=${node}` });
  // A quarantined pod already deleted (this recovery's own, or its incident's) is leaving: it holds nothing.
  const held = pods.filter(
    (pod) => QUARANTINE_LABEL in (pod.metadata?.labels ?? {}) && !pod.metadata?.deletionTimestamp,
  );
  const protectedPods = pods.filter(
    (pod) =>
      !held.includes(pod) &&
      !isDaemonSetPod(pod) &&
      !isMirrorPod(pod) &&
      protectionOf(
        { namespace: pod.metadata?.namespace ?? '', labels: pod.metadata?.labels ?? {} },
        at.drain.protectedWorkloads,
      ) !== null,
  );
  const stays = (pod: V1Pod) =>
    isDaemonSetPod(pod) ||
    isMirrorPod(pod) ||
    QUARANTINE_LABEL in (pod.metadata?.labels ?? {}) ||
    protectedPods.includes(pod);
  let pending = pods.filter((pod) => !stays(pod) && !pod.metadata?.deletionTimestamp);
  const leaving = pods.filter((pod) => !stays(pod) && pod.metadata?.deletionTimestamp).length;
  const local = pods.filter((pod) => !stays(pod) && hasLocalStorage(pod)).map(nameOf);
  let evicted = 0;
  const blocked = new Map<string, string>();
  const deadline = Date.now() + at.drain.deadlineMs;
  for (;;) {
    const next: V1Pod[] = [];
    for (const pod of pending) {
      const eviction = await kube.evictPod(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
      if (eviction.evicted) evicted++;
      else if ('blocked' in eviction) {
        blocked.set(nameOf(pod), eviction.blocked);
        next.push(pod);
      } else blocked.delete(nameOf(pod));
    }
    for (const pod of pending) if (!next.includes(pod)) blocked.delete(nameOf(pod));
    pending = next;
    if (pending.length === 0 || Date.now() + at.drain.pauseMs > deadline) break;
    await at.sleep(at.drain.pauseMs);
  }
  const notes = [
    protectedPods.length > 0
      ? `protected workload(s) left on it, never evicted: ${protectedPods.map(nameOf).join(', ')}`
      : '',
    local.length > 0 ? `evicted with their local storage (emptyDir data lost): ${local.join(', ')}` : '',
  ].filter(Boolean);
  const what = `evicted ${evicted} pod(s)${leaving > 0 ? `, ${leaving} already terminating` : ''}${notes.length > 0 ? `; ${notes.join('; ')}` : ''}`;
  if (held.length > 0)
    return {
      status: 'failed',
      detail: `still runs quarantined pod(s) ${held.map(nameOf).join(', ')}: release or recover their incident first; ${what}`,
      instanceId,
    };
  if (pending.length > 0) {
    const why = await Promise.all(
      pending.map(async (pod) => {
        const budgets = await budgetsOf(kube, pod).catch(() => []);
        return `${nameOf(pod)} (${budgets.length > 0 ? `PodDisruptionBudget ${budgets.join(', ')}` : 'a disruption budget'}: ${blocked.get(nameOf(pod))})`;
      }),
    );
    return {
      status: 'failed',
      detail: `not drained after ${Math.round(at.drain.deadlineMs / 1000)} s: evictions refused for ${why.join('; ')}; ${what}`,
      instanceId,
    };
  }
  return {
    status: 'ok',
    detail: `drained: ${what}; evicted pods terminate within their grace period`,
    instanceId,
  };
}

/**
 * Replaces an instance: after its snapshots completed, its termination protection, scale-in protection
 * and Standby are lifted and it is terminated in its Auto Scaling group without lowering the desired
 * capacity, so the group launches a new one. Outside any group nothing would replace it: it is left
 * contained and reported.
 */
/** Whether the instance is gone or going: terminated, shutting down, or no longer known to EC2. */
async function terminated(ports: RecoverAt, instanceId: string): Promise<boolean> {
  const answer = await ports.ec2
    .send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }))
    .catch((error) => {
      if ((error as { name?: string }).name === 'InvalidInstanceID.NotFound') return null;
      throw error;
    });
  const state = answer?.Reservations?.[0]?.Instances?.[0]?.State?.Name;
  return answer === null || state === 'terminated' || state === 'shutting-down';
}

async function replaceInstance(
  step: Extract<RecoveryStep, { kind: 'replace' }>,
  ports: RecoverAt,
  undrained: Set<string>,
): Promise<Done> {
  const { instanceId, autoScalingGroup } = step;
  if (undrained.has(instanceId) || undrained.has(ANY_INSTANCE))
    return { status: 'skipped', detail: 'its node (or a node it may be) was not drained: not terminated' };
  if (!autoScalingGroup && step.karpenter) return replaceNodeClaim(step, step.karpenter, ports);
  if (!autoScalingGroup) {
    // Left for a person the first time; once they terminated it, a second recovery finds it gone.
    if (await terminated(ports, instanceId))
      return { status: 'skipped', detail: 'already terminated (by hand): nothing left to replace' };
    return {
      status: 'manual',
      detail:
        'in no Auto Scaling group: nothing would launch a replacement; left contained, replace it by hand',
    };
  }
  const pending = await unfinishedSnapshots(ports, step.snapshots);
  if (pending.length > 0)
    return { status: 'failed', detail: `not terminated: snapshots not completed (${pending.join(', ')})` };
  await ports.ec2.send(
    new ModifyInstanceAttributeCommand({ InstanceId: instanceId, DisableApiTermination: { Value: false } }),
  );
  const { AutoScalingInstances } = await ports.autoScaling.send(
    new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }),
  );
  const membership = AutoScalingInstances?.[0];
  if (!membership) return { status: 'skipped', detail: 'already left its Auto Scaling group' };
  await ports.autoScaling.send(
    new SetInstanceProtectionCommand({
      AutoScalingGroupName: autoScalingGroup,
      InstanceIds: [instanceId],
      ProtectedFromScaleIn: false,
    }),
  );
  if (membership.LifecycleState === 'Standby') {
    await ports.autoScaling.send(
      new ExitStandbyCommand({ AutoScalingGroupName: autoScalingGroup, InstanceIds: [instanceId] }),
    );
  }
  await ports.autoScaling.send(
    new TerminateInstanceInAutoScalingGroupCommand({
      InstanceId: instanceId,
      ShouldDecrementDesiredCapacity: false,
    }),
  );
  const evidence = step.snapshots.length > 0 ? ` after snapshots ${step.snapshots.join(', ')} completed` : '';
  return {
    status: 'ok',
    detail: `terminated in ${autoScalingGroup}${evidence}: the group launches a replacement`,
  };
}

/**
 * Replaces a Karpenter node's instance as Karpenter does: its termination protection lifted, its
 * NodeClaim deleted, so that Karpenter drains the node, terminates the instance and launches a new one.
 */
async function replaceNodeClaim(
  step: Extract<RecoveryStep, { kind: 'replace' }>,
  karpenter: { cluster: string; node: string },
  ports: RecoverAt,
): Promise<Done> {
  const pending = await unfinishedSnapshots(ports, step.snapshots);
  if (pending.length > 0)
    return { status: 'failed', detail: `not replaced: snapshots not completed (${pending.join(', ')})` };
  const kube = await ports.kubernetes(karpenter.cluster);
  const claims = await kube.listNodeClaims();
  const claim = claims.find(
    (c) =>
      c.status?.nodeName === karpenter.node || c.status?.providerID?.split('/').at(-1) === step.instanceId,
  );
  if (!claim?.metadata?.name)
    return {
      status: 'manual',
      detail: `a Karpenter node (${karpenter.node}) whose NodeClaim was not found: replace it by hand`,
    };
  await ports.ec2.send(
    new ModifyInstanceAttributeCommand({
      InstanceId: step.instanceId,
      DisableApiTermination: { Value: false },
    }),
  );
  await kube.deleteNodeClaim(claim.metadata.name);
  const evidence = step.snapshots.length > 0 ? ` after snapshots ${step.snapshots.join(', ')} completed` : '';
  return {
    status: 'ok',
    detail: `NodeClaim ${claim.metadata.name} deleted${evidence}: Karpenter drains node ${karpenter.node}, terminates the instance and launches a replacement`,
  };
}

const planned = (step: RecoveryStep): RecoveryStepRecord => ({
  kind: step.kind,
  target: step.target,
  status: 'planned',
  detail: '',
});

export async function recoverIncident(
  request: PersonRequest,
  ports: RecoverPorts,
  now: () => string = () => new Date().toISOString(),
): Promise<RecoverReport> {
  const { findingId, dryRun } = request;
  const stored = await ports.store.get(findingId);
  if (!stored) throw new UnknownIncidentError(findingId);
  if (stored.state !== 'open' && stored.state !== 'recovering')
    throw new RecoverError(`finding ${findingId} is ${stored.state}: only an open incident is recovered`);
  // Only verified entries are recovered; evidence that fails verification is no evidence.
  const { seal, verified, refused } = await verifiedIncident(ports.store.key, ports.closures, stored);
  const record = { ...stored, entries: Object.fromEntries(verified) };
  const unverified = [...refused].map(([key, why]) => ({
    entry: stored.entries[key] as RecordEntry,
    detail: `record entry failed verification: not recovered (${why})`,
  }));
  const forgedEvidence = unverified.filter(({ entry }) => actionNamed(entry.action)?.spec.evidence === true);
  if (forgedEvidence.length > 0) {
    throw new RecoverError(
      `the evidence is not complete: ${forgedEvidence.map(({ entry, detail }) => `${entry.target}: ${detail}`).join('; ')}`,
    );
  }
  const refusals: RecoveryStepRecord[] = unverified.map(({ entry, detail }) => ({
    kind: 'entry',
    target: entry.target,
    status: 'refused',
    detail,
  }));
  const evidence = snapshotsOf(record);
  if (evidence.missing.length > 0)
    throw new RecoverError(`the evidence is not complete: ${evidence.missing.join('; ')}`);
  // Where the signed header says, never the record's unsigned copy of the finding.
  const at: RecoverAt = {
    ...ports.reach(seal),
    store: ports.store,
    drain: { ...DEFAULT_DRAIN, ...ports.drain },
    sleep: ports.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  };
  const pending = await unfinishedSnapshots(at, [...evidence.byInstance.values()].flat());
  if (pending.length > 0) {
    throw new RecoverError(
      `snapshots not completed yet: ${pending.join(', ')}; nothing changed, recover once they completed`,
    );
  }
  const plan = recoveryPlan(record);
  const kept = keptOf(record);
  const recovery = {
    at: now(),
    requestedBy: request.requestedBy,
    dryRun,
    steps: [...plan.map(planned), ...refusals],
  };
  if (dryRun) {
    await ports.store.finishRecovery(findingId, recovery, false);
    return { findingId, dryRun, state: record.state, steps: recovery.steps, kept, watch: null };
  }
  if (!(await ports.store.startRecovery(findingId, recovery))) {
    throw new RecoverError(
      `finding ${findingId} is not open; a release or another recovery may have ended it`,
    );
  }
  const undrained = new Set<string>();
  const watched: { pod: WatchedPod; until: number }[] = [];
  for (const [index, step] of plan.entries()) {
    await ports.store.recordRecoveryStep(findingId, index, { ...planned(step), status: 'started' });
    let done: Done;
    try {
      done = await carryOut(step, at, undrained);
    } catch (error) {
      done = { status: 'failed', detail: messageOf(error) };
    }
    if (step.kind === 'pod' && done.terminatingUntil)
      watched.push({
        pod: { cluster: step.cluster, namespace: step.namespace, pod: step.pod },
        until: Date.parse(done.terminatingUntil) || Date.now(),
      });
    if (step.kind === 'drain' && done.status === 'failed') {
      // A node whose instance is unknown (it could not be read) holds back every instance.
      undrained.add(done.instanceId ?? ANY_INSTANCE);
    }
    recovery.steps[index] = {
      kind: step.kind,
      target: step.target,
      status: done.status,
      detail: done.detail,
    };
    await ports.store.recordRecoveryStep(findingId, index, recovery.steps[index]);
  }
  // Recovered only when nothing is left: a step left for a person keeps the incident open (and listed).
  const clean = recovery.steps.every(
    (step) => step.status !== 'failed' && step.status !== 'refused' && step.status !== 'manual',
  );
  const unclosed = clean ? await closeIncident(ports.closures, seal, 'recovered', now()) : null;
  if (unclosed)
    recovery.steps.push({
      kind: 'incident',
      target: `incident ${seal.incidentId}`,
      status: 'failed',
      detail: unclosed,
    });
  const finished = clean && !unclosed;
  await ports.store.finishRecovery(findingId, recovery, finished);
  const last = Math.max(0, ...watched.map((w) => w.until));
  return {
    findingId,
    dryRun,
    state: finished ? 'recovered' : 'open',
    steps: recovery.steps,
    kept,
    watch:
      watched.length > 0
        ? {
            findingId,
            location: { accountId: seal.accountId, region: seal.region },
            pods: watched.map((w) => w.pod),
            until: new Date(last + WATCH_MARGIN_SECONDS * 1000).toISOString(),
          }
        : null,
  };
}

async function carryOut(step: RecoveryStep, ports: RecoverAt, undrained: Set<string>): Promise<Done> {
  switch (step.kind) {
    case 'pod':
      return replacePod(await ports.kubernetes(step.cluster), step);
    case 'policy': {
      const undone = await actionNamed(step.action)?.undo?.(step.entry, {
        ...ports,
        ownGroup: () => {
          throw new Error('recover undoes no host isolation');
        },
      });
      if (!undone) throw new Error(`${step.action} has no undo`);
      return undone;
    }
    case 'drain':
      return drainNode(await ports.kubernetes(step.cluster), step.node, ports);
    case 'replace':
      return replaceInstance(step, ports, undrained);
  }
}

/** The recovery as text, for the CLI and the notice. */
export function describeRecovery(report: RecoverReport): string[] {
  const refused = report.steps.filter((step) => step.status === 'refused').length;
  const warning = refusedWarning(refused, report.dryRun, 'recovered');
  const lines = [
    `${report.dryRun ? 'Dry run of the recovery' : 'Recovery'} of finding ${report.findingId}: the incident is ${report.state}.${warning}`,
  ];
  if (report.steps.length === 0) lines.push('  The record holds no pod, node or instance to replace.');
  for (const step of report.steps) {
    const what = step.status === 'planned' ? 'would be recovered' : `${step.status}: ${step.detail}`;
    lines.push(`  ${step.target}: ${what}`);
  }
  for (const kept of report.kept) lines.push(kept.advice);
  if (report.watch)
    lines.push(
      `${report.watch.pods.length} deleted pod(s) still terminating until their kubelets confirm (at the latest ${report.watch.until}): ${report.watching ?? 'not watched by this command (deployed, the RecoveryWatch state machine watches them; locally, --wait)'}.`,
    );
  const manual = report.steps.filter((step) => step.status === 'manual').map((step) => step.target);
  if (manual.length > 0) {
    lines.push(
      `Left for a person (nothing here can replace them): ${manual.join(', ')}. The incident stays open (npm run incidents lists it); once they are dealt with, recover again to close it.`,
    );
  }
  const failed = report.steps.some((step) => step.status === 'failed' || step.status === 'refused');
  if (!report.dryRun && report.state === 'open' && failed) {
    lines.push('Some steps failed: the incident stays open; fix the cause and recover again.');
  }
  return lines;
}
