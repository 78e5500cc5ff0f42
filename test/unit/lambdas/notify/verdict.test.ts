/**
 * The outcome cannot mislead: `contained` only when every compromised target the finding names is cut
 * off; the first reason leads (protected, not found, not enforced, held back, failed); a dry run is judged
 * as the real run would be.
 */
import { describe, expect, it } from 'vitest';
import { item } from '../../../../lambdas/core/action-result.js';
import { DRY_RUN } from '../../../../lambdas/core/plan.js';
import type { Identification } from '../../../../lambdas/identify/identify.js';
import type { ActionOutcome } from '../../../../lambdas/notify/results.js';
import { leadingReason, verdictOf } from '../../../../lambdas/notify/verdict.js';
import { identification, identifiedPod, planFor } from '../../../support/incident.js';

const RUNTIME = 'eks-runtime-new-binary-executed.json';

const done = (action: string, targets: string[], status: 'ok' | 'failed' = 'ok'): ActionOutcome => ({
  action,
  decision: 'planned',
  status,
  why: status === 'failed' ? `${targets[0]}: denied` : null,
  items: targets.map((target) => item(target, status, status === 'ok' ? 'done' : 'denied')),
  errors: [],
  incomplete: [],
  held: [],
  wouldActOn: [],
});

const pods = [identifiedPod('payments-api-1', 'payments'), identifiedPod('payments-api-2', 'payments')];
const enforced = (found: Partial<Identification> = {}): Identification =>
  identification({
    pods,
    cluster: {
      name: 'prod-eks',
      managed: true,
      reachable: true,
      endpoint: 'https://127.0.0.1:6443',
      error: null,
      networkPolicy: { enforced: true, detail: 'enforced by the VPC CNI network policy agent' },
    },
    ...found,
  });
const isolated = done('isolate-pods', ['pod payments/payments-api-1', 'pod payments/payments-api-2']);

describe('verdictOf', () => {
  it('is contained when the workload is isolated under an enforced NetworkPolicy and nothing failed', () => {
    const verdict = verdictOf(planFor(RUNTIME), enforced(), [isolated]);
    expect(verdict.outcome).toBe('contained');
    expect(verdict.targets).toEqual([
      {
        target: 'Deployment payments/payments-api',
        cut: true,
        reason: null,
        detail: '2 pod(s) isolated, enforced by the VPC CNI network policy agent',
      },
    ]);
  });

  it('is not contained when the cluster enforces no NetworkPolicy, and says what to turn on', () => {
    const found = enforced({
      cluster: {
        name: 'prod-eks',
        managed: true,
        reachable: true,
        endpoint: null,
        error: null,
        networkPolicy: {
          enforced: false,
          detail: 'cluster prod-eks does not enforce NetworkPolicy: turn on …',
        },
      },
    });
    const verdict = verdictOf(planFor(RUNTIME), found, [isolated]);
    expect(verdict.outcome).toBe('not-contained');
    expect(leadingReason(verdict)).toMatchObject({ reason: 'not enforced' });
  });

  it('is not contained when the only pod is protected (the kube-proxy exec)', () => {
    const found = identification({
      pods: [],
      heldBack: [
        {
          kind: 'pod',
          reason: 'protected workload (kube-system): identified and reported, never isolated',
          count: 1,
          names: ['kube-system/kube-proxy-7xk2p'],
        },
      ],
    });
    const verdict = verdictOf(planFor('eks-audit-exec-in-kube-system-pod.json'), found, [
      { ...isolated, status: 'skipped', items: [], why: 'no pod to isolate was identified' },
      done('cordon-nodes', ['node n1']),
    ]);
    expect(verdict.outcome).toBe('not-contained');
    expect(leadingReason(verdict)).toEqual({
      reason: 'protected',
      target: 'pod kube-system/kube-proxy-7xk2p',
      detail: 'protected workload (kube-system): identified and reported, never isolated',
    });
  });

  it('is not contained when no pod of the workload exists (a world without its ReplicaSet)', () => {
    const verdict = verdictOf(planFor(RUNTIME), identification({ pods: [] }), [
      { ...isolated, status: 'skipped', items: [], why: 'no pod to isolate was identified' },
    ]);
    expect(verdict.outcome).toBe('not-contained');
    expect(leadingReason(verdict)?.reason).toBe('not found');
  });

  it('is partly contained when the workload is cut off but another action failed', () => {
    const verdict = verdictOf(planFor(RUNTIME), enforced(), [
      isolated,
      done('snapshot-volumes', ['volume vol-1 (i-1 /dev/xvda)'], 'failed'),
    ]);
    expect(verdict.outcome).toBe('partly-contained');
    expect(verdict.problems).toEqual([
      { reason: 'failed', detail: 'snapshot-volumes: volume vol-1 (i-1 /dev/xvda): denied' },
    ]);
  });

  it('holds a dry run to the same decision, without claiming anything was done', () => {
    const plan = planFor(RUNTIME, { dryRun: true });
    const would: ActionOutcome = { ...isolated, decision: 'held-back', status: 'would', items: [] };
    const verdict = verdictOf(plan, enforced(), [would]);
    expect(verdict).toMatchObject({ outcome: 'identified', wouldBe: 'contained' });
    expect(verdict.targets[0]?.detail).toBe(
      '2 pod(s) would be isolated, enforced by the VPC CNI network policy agent',
    );
  });

  it("takes a dry run's targets from the action's own decision: a role it would leave alone is not cut off", () => {
    const plan = planFor('iam-instance-credential-exfiltration-outside-aws.json', { dryRun: true });
    const role = `role ${plan.targets.roleName}`;
    const would = (wouldActOn: string[]): ActionOutcome => ({
      ...done('revoke-sessions', []),
      decision: 'held-back',
      status: 'would',
      why: DRY_RUN,
      wouldActOn,
    });
    expect(verdictOf(plan, identification(), [would([role])])).toMatchObject({ wouldBe: 'contained' });
    const alone = verdictOf(plan, identification(), [would([])]);
    expect(alone.wouldBe).toBe('not-contained');
    expect(alone.targets[0]).toMatchObject({
      reason: 'held back',
      detail: 'revoke-sessions would leave it alone',
    });
  });

  it('does not isolate a node of a cluster by default: an EC2 finding on a node is not contained', () => {
    const plan = planFor('ec2-bitcoin-tool-dns-on-eks-node.json');
    const held = plan.actions.find((a) => a.action === 'isolate-host');
    expect(held?.decision).toBe('held-back');
    const verdict = verdictOf(plan, identification(), [
      { ...done('isolate-host', []), decision: 'held-back', status: 'held-back', why: held?.reason ?? null },
    ]);
    expect(verdict.outcome).toBe('not-contained');
    expect(leadingReason(verdict)?.detail).toContain('isolateClusterNodes');
  });
});
