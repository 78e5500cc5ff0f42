/**
 * Release: once the investigation is over, undoes an incident's containment from its record. Each
 * resource goes back to the state recorded before the first change (the undo of each action lives in the
 * action's own file); a resource that another open incident also holds stays contained and its original
 * state passes to that incident; snapshots are evidence and stay. Every release, dry runs included, is
 * appended to the record.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { type NodeBefore, uncordonNode } from '../actions/cordon-nodes.js';
import { type HostBefore, releaseHost } from '../actions/isolate-host.js';
import { type PodBefore, type PolicyBefore, releasePod, releasePolicy } from '../actions/isolate-pods.js';
import { type InstanceBefore, unprotectInstance } from '../actions/protect-instances.js';
import {
  type ProfileBefore,
  type RoleRecord,
  reassociateProfile,
  restoreRole,
} from '../actions/revoke-iam.js';
import type { Kubernetes } from '../clients/kubernetes.js';
import type { ActionItem } from '../core/action-result.js';
import { type PausedBefore, resumeContainers } from '../evidence/hosts.js';
import {
  type IncidentState,
  type PersonRequest,
  type ReleaseStep,
  type ReleaseStepRecord,
  releasePlan,
} from '../incident/record.js';
import type { IncidentStore } from '../incident/store.js';
import { messageOf } from '../shared/errors.js';

export type ReleasePorts = {
  store: IncidentStore;
  kubernetes: (cluster: string) => Promise<Kubernetes>;
  ec2: EC2Client;
  autoScaling: AutoScalingClient;
  iam: IAMClient;
  elbv2: ElasticLoadBalancingV2Client;
  elb: ElasticLoadBalancingClient;
  /** Run Command, to resume paused containers; `sleep` paces its polling. */
  ssm: SSMClient;
  sleep?: (ms: number) => Promise<void>;
};

export type ReleaseReport = {
  findingId: string;
  dryRun: boolean;
  /** The incident's state after the release. */
  state: IncidentState;
  steps: ReleaseStepRecord[];
};

/** A release that cannot start: unknown finding, already released. */
export class ReleaseError extends Error {
  override readonly name = 'ReleaseError';
}

function clusterOf(step: ReleaseStep): string {
  if (!step.entry.cluster) throw new Error(`${step.entry.target} was recorded without its cluster`);
  return step.entry.cluster;
}

/** The undo of one entry, by the action that made it. */
async function undo(step: ReleaseStep, ports: ReleasePorts): Promise<ActionItem> {
  const { entry } = step;
  const before = entry.before;
  switch (entry.action) {
    case 'isolate-pods': {
      const kube = await ports.kubernetes(clusterOf(step));
      return entry.target.startsWith('networkpolicy ')
        ? releasePolicy(kube, before as PolicyBefore)
        : releasePod(kube, before as PodBefore);
    }
    case 'cordon-nodes':
      return uncordonNode(await ports.kubernetes(clusterOf(step)), before as NodeBefore);
    case 'isolate-host':
      return releaseHost(before as HostBefore, ports);
    case 'protect-instances':
      return unprotectInstance(before as InstanceBefore, ports);
    case 'revoke-iam':
      return entry.target.startsWith('role ')
        ? restoreRole(ports.iam, before as RoleRecord)
        : reassociateProfile(ports.ec2, before as ProfileBefore);
    case 'collect-host-evidence':
      return resumeContainers(before as PausedBefore, ports.ssm, ports.sleep);
    case 'snapshot-volumes':
    case 'collect-pod-evidence':
      throw new Error('evidence is never undone');
  }
}

const stepRecord = (
  step: ReleaseStep,
  status: ReleaseStepRecord['status'],
  detail: string,
): ReleaseStepRecord => ({
  key: step.key,
  action: step.entry.action,
  target: step.entry.target,
  decision: step.decision,
  status,
  detail,
  before: step.entry.before,
});

async function carryOut(step: ReleaseStep, ports: ReleasePorts): Promise<ReleaseStepRecord> {
  if (step.decision === 'evidence') {
    const snapshot = step.entry.after?.snapshotId;
    return stepRecord(step, 'skipped', `kept as evidence${snapshot ? `: ${snapshot}` : ''}`);
  }
  if (step.decision === 'keep') {
    const handedTo: string[] = [];
    for (const other of step.heldBy) {
      if (await ports.store.handOver(other, step.key, step.entry.before, step.entry.intendedAt))
        handedTo.push(other);
    }
    const handed =
      handedTo.length > 0 ? `; its state before containment passed to ${handedTo.join(', ')}` : '';
    return stepRecord(step, 'skipped', `kept contained: ${step.reason}${handed}`);
  }
  try {
    const done = await undo(step, ports);
    return stepRecord(step, done.status, done.detail);
  } catch (error) {
    return stepRecord(step, 'failed', messageOf(error));
  }
}

export async function releaseIncident(
  request: PersonRequest,
  ports: ReleasePorts,
  now: () => string = () => new Date().toISOString(),
): Promise<ReleaseReport> {
  const { findingId, dryRun } = request;
  const record = await ports.store.get(findingId);
  if (!record) throw new ReleaseError(`no incident record for finding ${findingId}`);
  if (record.state === 'released') {
    const last = record.releases.filter((release) => !release.dryRun).at(-1);
    throw new ReleaseError(`finding ${findingId} was already released${last ? ` at ${last.at}` : ''}`);
  }
  if (record.state === 'recovered' || record.state === 'recovering') {
    throw new ReleaseError(
      `finding ${findingId} is ${record.state}: its pods and hosts were replaced, there is nothing to put back`,
    );
  }
  const steps = releasePlan(record, await ports.store.inState('open'));
  if (dryRun) {
    const planned = steps.map((step) =>
      stepRecord(step, step.decision === 'undo' ? 'planned' : 'skipped', step.reason),
    );
    await ports.store.recordRelease(
      findingId,
      { at: now(), requestedBy: request.requestedBy, dryRun: true, steps: planned },
      false,
    );
    return { findingId, dryRun, state: record.state, steps: planned };
  }
  if (!(await ports.store.startRelease(findingId, now()))) {
    throw new ReleaseError(`finding ${findingId} is not open; another release may have ended it`);
  }
  const done: ReleaseStepRecord[] = [];
  for (const step of steps) done.push(await carryOut(step, ports));
  const finished = done.every((step) => step.status !== 'failed');
  await ports.store.recordRelease(
    findingId,
    { at: now(), requestedBy: request.requestedBy, dryRun: false, steps: done },
    finished,
  );
  return { findingId, dryRun, state: finished ? 'released' : 'open', steps: done };
}

/** The release as text, for the CLI and the notice. */
export function describeRelease(report: ReleaseReport): string[] {
  const verb = report.dryRun ? 'would' : 'did';
  const lines = [
    `${report.dryRun ? 'Dry run of the release' : 'Release'} of finding ${report.findingId}: the incident is ${report.state}.`,
  ];
  if (report.steps.length === 0) lines.push('  The record holds no change to undo.');
  for (const step of report.steps) {
    const what =
      step.status === 'planned' ? `${verb} undo (${step.detail})` : `${step.status}: ${step.detail}`;
    lines.push(`  ${step.action} ${step.target}: ${what}`);
  }
  if (!report.dryRun && report.state === 'open') {
    lines.push('Some steps failed: the incident stays open; fix the cause and release again.');
  }
  return lines;
}
