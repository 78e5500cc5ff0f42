/**
 * The mandate: the actions act only on the plan the responder itself made. Identify signs its output (the
 * plan, what it identified, which actions wait for a person) for the incident's seal and the execution that
 * holds the finding; every action and evidence step, before it touches anything, reads the record, verifies
 * its header and that signature, and checks that its own input is part of what was signed: the same plan,
 * the same identification, and for a step that runs per target, a target of its own list. An action that
 * waits for a person runs only when the record holds an approval the Approve function signed. Anything
 * else (a direct invoke with other targets, another execution's plan, an approval skipped) is refused with
 * one line that says why, before any change.
 */
import type { ActionResult } from '../core/action-result.js';
import type { ItemList } from '../core/action-spec.js';
import type { BudgetSettings } from '../core/budget.js';
import type { ActionName, ResponsePlan } from '../core/plan.js';
import { retriedWhenTransient } from '../shared/errors.js';
import { incidentJournal, type Journal, type Recorded } from './journal.js';
import type { ApprovalRecord, IncidentRecord } from './record.js';
import { digestOf, type Seal, type Signable } from './signature.js';
import type { IncidentStore } from './store.js';

/** What of Identify's output the plan covers (lambdas/identify/identification.ts IdentifyOutput). */
export type PlanOutput = {
  plan: ResponsePlan;
  identification: {
    cluster: unknown;
    pods: unknown[];
    nodes: unknown[];
    instances: unknown[];
    hosts: unknown[];
  };
};

/** What Identify signs: digests of its output, bound to the incident and the execution. */
export type PlanView = Seal & {
  kind: 'plan';
  executionArn: string;
  plan: string;
  identification: string;
  cluster: string;
  pods: string;
  items: Record<'nodes' | 'instances' | 'hosts', string[]>;
  approvals: string[];
};

export function planView(
  seal: Seal,
  executionArn: string,
  output: PlanOutput,
  approvals: readonly ActionName[],
): PlanView {
  const { identification } = output;
  return {
    kind: 'plan',
    ...seal,
    executionArn,
    plan: digestOf(output.plan),
    identification: digestOf(identification),
    cluster: digestOf(identification.cluster),
    pods: digestOf(identification.pods),
    items: {
      nodes: identification.nodes.map(digestOf),
      instances: identification.instances.map(digestOf),
      hosts: identification.hosts.map(digestOf),
    },
    approvals: [...approvals],
  };
}

/** What Approve signs when a person approves an action of the execution that waits. */
export const approvalView = (
  seal: Seal,
  approval: Pick<ApprovalRecord, 'action' | 'executionArn'>,
  by: string,
): Signable => ({
  kind: 'approval',
  ...seal,
  action: approval.action,
  executionArn: approval.executionArn,
  answer: 'approve',
  by,
});

/** An input the signed plan does not cover. */
export class PlanRefusedError extends Error {
  override readonly name = 'PlanRefused';
}

/** What a step's input may carry of the plan: the whole identification, or its cluster and one target. */
export type Mandated = Recorded & {
  plan: ResponsePlan;
  identification?: unknown;
  cluster?: unknown;
  pods?: unknown;
  target?: unknown;
};

const SEAL_FIELDS = ['findingId', 'incidentId', 'accountId', 'region'] as const;

/** The record's plan, verified for the seal: the view Identify signed, or why there is none to trust. */
export async function signedPlanOf(
  store: IncidentStore,
  record: IncidentRecord,
  seal: Seal,
): Promise<PlanView | string> {
  const signed = record.signedPlan;
  if (!signed) return 'the record holds no signed plan';
  if (!(await store.key.verify(signed.view, signed.mac))) return "the plan's MAC does not match";
  const view = signed.view as unknown as PlanView;
  if (SEAL_FIELDS.some((field) => view[field] !== seal[field]))
    return 'the signed plan is of another incident';
  return view;
}

/** A step as the mandate checks it: its name, and the list of the plan its target must be in (per target). */
export type Step = { name: string; items: ItemList | null };

/** Why the record's plan does not cover this input for `step`, or null. */
async function mandateRefusal(
  store: IncidentStore,
  record: IncidentRecord,
  seal: Seal,
  input: Mandated,
  step: Step,
): Promise<string | null> {
  if (record.state !== 'open') return `the incident is ${record.state}`;
  if (record.executionArn !== input.executionArn)
    return `execution ${input.executionArn} does not hold the finding (${record.executionArn} does)`;
  const signed = await signedPlanOf(store, record, seal);
  if (typeof signed === 'string') return signed;
  const view = signed;
  if (view.executionArn !== input.executionArn) return 'the signed plan is of another execution';
  const differs = (field: 'plan' | 'identification' | 'cluster' | 'pods') =>
    field in input && digestOf(input[field]) !== view[field];
  const changed = (['plan', 'identification', 'cluster', 'pods'] as const).filter(differs);
  if (changed.length > 0) return `its ${changed.join(', ')} differ(s) from what was signed`;
  const list = step.items;
  if (list && !(view.items[list] ?? []).includes(digestOf(input.target)))
    return `its target is not among the ${list} of the plan`;
  if (!list && !('identification' in input)) return 'it names no identification';
  if (view.approvals.includes(step.name)) {
    const approval = record.approvals?.[step.name];
    const approved =
      approval?.state === 'approved' &&
      approval.executionArn === input.executionArn &&
      (await store.key.verify(approvalView(seal, approval, approval.answeredBy ?? ''), approval.mac ?? null));
    if (!approved)
      return `${step.name} waits for a person's approval, and the record holds no signed approval`;
  }
  return null;
}

/**
 * Runs a step under the signed plan: refused (PlanRefusedError, nothing done) unless the plan covers its
 * input; then with a journal bound to the incident's seal. A target whose entry found in the table failed
 * verification fails, saying so, whatever the step did with it: the record was tampered with.
 */
export async function underSignedPlan<R>(
  store: IncidentStore,
  input: Mandated,
  step: Step,
  act: (journal: Journal) => Promise<R>,
  budget?: BudgetSettings,
): Promise<R> {
  const findingId = input.plan?.finding?.id ?? '';
  // Reading the record and checking its MACs: throttled, the step is retried, not failed.
  const { seal, refusal } = await retriedWhenTransient(async () => {
    const { record, seal } = await store.sealed(findingId);
    return { seal, refusal: await mandateRefusal(store, record, seal, input, step) };
  });
  if (refusal)
    throw new PlanRefusedError(
      `${step.name} refused for finding ${findingId}: its input is not in the signed plan of incident ${seal.incidentId} (${refusal}); nothing was done`,
    );
  const journal = incidentJournal(store, findingId, input.executionArn, budget, seal);
  const result = await act(journal);
  return markRefused(result, journal.refusals(), journal.notes());
}

function markRefused<R>(
  result: R,
  refusals: ReadonlyMap<string, string>,
  notes: ReadonlyMap<string, string>,
): R {
  if (refusals.size === 0 && notes.size === 0) return result;
  const items = (result as Partial<ActionResult> | null)?.items;
  for (const item of items ?? []) {
    const note = notes.get(item.target);
    if (note) item.caveats = [...item.caveats, note];
    const why = refusals.get(item.target);
    if (!why) continue;
    item.status = 'failed';
    item.detail += `; the record entry found for it in the incident table failed verification (${why}): refused and kept among the record's refusals, this entry records the state read now; check who changed the table`;
  }
  return result;
}
