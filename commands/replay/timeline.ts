/** The replay's timeline: each state, what it found or did, how long it took. */

import { ACTION_NAMES, SPECS } from '../../lambdas/actions/registry.js';
import type { ActionResult } from '../../lambdas/core/action-result.js';
import { EVIDENCE_STEPS, resultKeyOf } from '../../lambdas/core/action-spec.js';
import type { EvidenceReport } from '../../lambdas/evidence/pods.js';
import type { IdentifyOutput } from '../../lambdas/identify/identify.js';
import { approvalState, TASK_STATES, taskStateOf } from '../../lib/response-workflow.js';
import type { ExecutionEvent } from '../../simulation/runner.js';

const ms = (value: number) => `${value.toFixed(0).padStart(6)} ms`;

/** Task state → the key of its result; a Map iteration's output is the result itself. */
const STATE_RESULT_KEYS: Record<string, string> = Object.fromEntries(
  [...ACTION_NAMES, ...EVIDENCE_STEPS].map((step) => [taskStateOf(step), resultKeyOf(SPECS, step)]),
);

function summarize(state: string, output: unknown): string[] {
  if (typeof output !== 'object' || output === null) return [];
  const value = output as Record<string, unknown>;
  if (typeof value.Error === 'string')
    return [`error ${value.Error}: ${String(value.Cause ?? '').slice(0, 300)}`];
  if (state === 'Identify' && 'identify' in value) {
    const step = value.identify as IdentifyOutput | { Error: string; Cause?: string };
    if ('Error' in step) return [`failed: ${step.Error}: ${String(step.Cause ?? '').slice(0, 300)}`];
    const { plan, identification: found } = step;
    return [
      `${plan.finding.type} (severity ${plan.finding.severity}), rule ${plan.rule}, planned: ${step.planned.join(', ') || 'nothing'}`,
      `found ${found.pods.length} pod(s), ${found.nodes.length} node(s), ${found.instances.length} instance(s), ${found.roles.length} role(s); kept ${found.evidenceKept} pod and node object(s) as evidence`,
      ...plan.actions
        .filter((a) => a.decision !== 'planned')
        .map((a) => `${a.action}: ${a.decision} (${a.reason})`),
      ...found.notFound.map((missing) => `not found: ${missing.kind} ${missing.name}`),
      ...found.errors.map((error) => `lookup failed: ${error.step}: ${error.message}`),
    ];
  }
  // An approval state's answer: who approved or denied it, and when.
  const waited = ACTION_NAMES.find((action) => approvalState(action) === state);
  if (waited) {
    const answer = (value.approval as Record<string, { reason?: string }> | undefined)?.[
      resultKeyOf(SPECS, waited)
    ];
    return answer?.reason ? [answer.reason] : [];
  }
  if (state === 'Notify' && 'notify' in value) {
    const notify = value.notify as { outcome?: string; messageId?: string; Error?: string };
    return notify.Error
      ? [`failed: ${notify.Error}`]
      : [`published ${notify.messageId}, outcome ${notify.outcome}`];
  }
  // Map iterations return the result itself; the other actions put it under their own key.
  const key = STATE_RESULT_KEYS[state];
  const result = (key && key in value ? value[key] : value) as ActionResult | { Error: string } | undefined;
  if (result && 'Error' in result) return [`failed: ${result.Error}`];
  if (result && 'count' in result) {
    const evidence = result as unknown as EvidenceReport;
    if (evidence.skipped) return [`skipped: ${evidence.skipped}`];
    return [
      `${evidence.count} evidence object(s) in s3://${evidence.bucket}`,
      ...evidence.problems.map((problem) => `not collected: ${problem}`),
    ];
  }
  if (result && 'items' in result) {
    if (result.skipped) return [`skipped: ${result.skipped}`];
    return result.items.map((i) => `${i.status} ${i.target}: ${i.detail}${i.verified ? ' (verified)' : ''}`);
  }
  return [];
}

const TASKS = new Set([...Object.values(TASK_STATES), ...ACTION_NAMES.map(approvalState)]);

/** An error with its cause, as Step Functions reports both: `States.Runtime: Path expression …`. */
const failure = (event: ExecutionEvent) => {
  const cause =
    typeof event.cause === 'string' ? event.cause : event.cause ? JSON.stringify(event.cause) : '';
  return `${event.error ?? 'an error'}${cause ? `: ${cause.slice(0, 500)}` : ''}`;
};

export function timeline(events: readonly ExecutionEvent[]): string[] {
  const lines: string[] = [];
  const entered = new Map<string, number[]>();
  for (const event of events) {
    const state = event.state ?? '';
    if (event.type === 'StateEntered') entered.set(state, [...(entered.get(state) ?? []), event.at]);
    if (event.type === 'StateRetried')
      lines.push(`${ms(event.at)}  ${state.padEnd(21)} retrying after ${failure(event)}`);
    if (event.type === 'StateExited' || event.type === 'StateFailed') {
      const start = entered.get(state)?.shift() ?? event.at;
      // Tasks say what they found or did; Choice, Parallel and Map states only how long they took.
      const detail =
        event.type === 'StateFailed'
          ? [`failed: ${failure(event)}`]
          : TASKS.has(state)
            ? summarize(state, event.output)
            : [];
      lines.push(
        `${ms(event.at)}  ${state.padEnd(21)} ${(event.at - start).toFixed(0).padStart(5)} ms  ${detail[0] ?? ''}`.trimEnd(),
      );
      for (const more of detail.slice(1)) lines.push(`${' '.repeat(46)}${more}`);
    }
    if (event.type === 'ExecutionSucceeded' || event.type === 'ExecutionFailed') {
      lines.push(
        `${ms(event.at)}  ${event.type === 'ExecutionSucceeded' ? 'execution succeeded' : `execution failed: ${failure(event)}`}`,
      );
    }
  }
  return lines;
}
