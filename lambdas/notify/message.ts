/**
 * The notification, composed from whatever the execution reached, to be read in ten seconds: a subject
 * and a first line that say what happened, to what, what was done and what was not (verdict.ts); then
 * what GuardDuty saw; then the compromised targets and one line per action; then the next steps as
 * commands that work. Everything else (each item, each evidence object with its hash, the record) is in
 * the incident report (lambdas/report/). Pure: the handler only publishes it.
 */
import { z } from 'zod';
import { SPECS } from '../actions/registry.js';
import type { MetadataDoor } from '../clients/aws.js';
import { resultKeyOf } from '../core/action-spec.js';
import { NOT_A_CREDENTIAL_FINDING } from '../core/credentials.js';
import { type Observed, observedRows } from '../core/observed.js';
import type { ActionName, ResponsePlan } from '../core/plan.js';
import { executionOptions } from '../core/settings.js';
import type { EvidenceReport } from '../evidence/pods.js';
import type { HeldBack, Identification, IdentifyOutput } from '../identify/identify.js';
import type { ClaimOutput, EvidenceObject } from '../incident/record.js';
import {
  type ActionOutcome,
  actionOutcomes,
  clean,
  type ExecutionState,
  StepError,
  stepError,
} from './results.js';
import { leadingReason, type Outcome, type Verdict, verdictOf } from './verdict.js';

export type { Outcome };
export { clean };

export type Notification = {
  subject: string;
  message: string;
  /** The first line: what happened, to what, what was done and what was not (chat shows it alone). */
  summary: string;
  attributes: { severity: number | null; findingType: string; outcome: Outcome; sample: boolean };
  /** How each planned action ended, for the metrics; held-back actions with the plan's reason. */
  actions?: {
    action: ActionName;
    status: 'ok' | 'failed' | 'skipped' | 'held-back';
    reason: string | null;
  }[];
  /** The next steps as commands, for chat. */
  nextSteps: string[];
  /** What the verdict was made of, for the incident report; absent when identification did not run. */
  incident?: { verdict: Verdict; outcomes: ActionOutcome[]; plan: ResponsePlan; found: Identification };
};

/** Where the commands of the next steps point, and where the incident report is. */
export type NotificationContext = {
  /** The deployed stack the commands name (`--deployed`); null: the commands of a local replay. */
  stackName: string | null;
  /** Where the incident report is kept, when it was written. */
  report: string | null;
};

export const LOCAL: NotificationContext = { stackName: null, report: null };

/** SNS takes at most 256 KiB per message; a larger incident's text is cut, saying so. */
export const MAX_MESSAGE_BYTES = 250 * 1024;

export function withinSnsLimit(message: string): string {
  if (Buffer.byteLength(message) <= MAX_MESSAGE_BYTES) return message;
  const note = '\n… (cut to fit an SNS message; the incident report has everything)';
  let cut = message.slice(0, MAX_MESSAGE_BYTES - note.length);
  while (Buffer.byteLength(cut) + Buffer.byteLength(note) > MAX_MESSAGE_BYTES) cut = cut.slice(0, -1024);
  return cut + note;
}

const list = (items: readonly string[], max = 3): string =>
  items.length > max ? `${items.slice(0, max).join(', ')} and ${items.length - max} more` : items.join(', ');

/**
 * The instance metadata door in words: open to a pod when IMDSv1 is answered or a token may travel more
 * than one hop; shut otherwise (harden-imds shuts it).
 */
export function metadataDoor(metadata: MetadataDoor | null): string {
  if (!metadata) return 'IMDS: not described';
  if (metadata.endpoint === 'disabled') return 'IMDS: endpoint disabled';
  const hops = metadata.hopLimit ?? '?';
  const open = metadata.imdsv1 || (metadata.hopLimit ?? 2) > 1;
  return `IMDS: ${metadata.imdsv1 ? 'IMDSv1 allowed' : 'IMDSv2 required'}, hop limit ${hops}${open ? ' (pods can reach the instance role’s credentials)' : ''}`;
}

const OUTCOME_WORDS: Record<Outcome, string> = {
  contained: 'CONTAINED',
  'partly-contained': 'PARTLY CONTAINED',
  'not-contained': 'NOT CONTAINED',
  identified: 'IDENTIFIED',
  refused: 'REFUSED',
  'seen-again': 'SEEN AGAIN',
};

/** The outcome and the reason that leads it: `PARTLY CONTAINED (held back)`, `DRY RUN: would be CONTAINED`. */
export function headline(verdict: Verdict): string {
  const lead = leadingReason(verdict);
  if (verdict.wouldBe)
    return `${verdict.rehearsal}, would be ${OUTCOME_WORDS[verdict.wouldBe]}${lead ? ` (${lead.reason})` : ''}`;
  return `${OUTCOME_WORDS[verdict.outcome]}${lead && verdict.outcome !== 'identified' ? ` (${lead.reason})` : ''}`;
}

const subjectLine = (text: string) => clean(text, 100).replace(/[^\x20-\x7e]/g, '?');

/** The commands that work for this incident: with `--deployed <the stack>` once deployed. */
export function nextSteps(findingId: string, context: NotificationContext, dryRun: boolean): string[] {
  const where = context.stackName ? ` --deployed ${context.stackName}` : '';
  const steps = context.report ? [`The incident report: ${context.report}`] : [];
  if (!dryRun)
    steps.push(
      `A false positive, undo the containment: npm run release -- ${findingId}${where}`,
      `Confirmed, replace what is compromised (once the snapshots completed): npm run recover -- ${findingId}${where}`,
    );
  steps.push(`The open incidents: npm run incidents${where ? ` --${where}` : ''}`);
  return steps;
}

/** What GuardDuty saw, one line each. */
const observedLines = (observed: Observed | undefined): string[] =>
  observedRows(observed).map(([label, value]) => `  ${`${label}:`.padEnd(10)} ${clean(value, 400)}`);

const STATUS_WORDS: Record<ActionOutcome['status'], string> = {
  ok: 'ok',
  failed: 'FAILED',
  skipped: 'skipped',
  'held-back': 'held back',
  'not-applicable': 'not applicable',
  would: 'not taken, would act on',
  'not-run': 'NOT RUN',
};

/** One line per action, then its failures, the reasons it left targets alone (once each) and caveats. */
function actionLines(outcome: ActionOutcome): string[] {
  const name = outcome.action.padEnd(18);
  const ok = outcome.items.filter((i) => i.status === 'ok');
  let status = STATUS_WORDS[outcome.status];
  let what: string;
  if (outcome.status === 'ok') {
    // One target: what was done to it; several: how many, and which.
    const verified = ok.every((i) => i.verified === true) ? ', verified' : '';
    if (ok.length > 1) status = `ok (${ok.length})`;
    what = `${ok.length === 1 ? `${clean(ok[0]?.detail, 160)}: ` : ''}${list(ok.map((i) => clean(i.target, 80)))}${verified}`;
  } else if (outcome.status === 'would') {
    const targets = outcome.wouldActOn;
    what = targets.length > 0 ? list(targets.map((t) => clean(t, 80))) : 'nothing identified';
  } else what = clean(outcome.why ?? '', 300);
  const lines = [`  ${name} ${status}${what ? `: ${what}` : ''}`];
  if (outcome.status === 'ok' || outcome.status === 'failed' || outcome.status === 'skipped') {
    for (const failed of outcome.items.filter((i) => i.status === 'failed'))
      lines.push(`    FAILED ${clean(failed.target, 100)}: ${clean(failed.detail, 300)}`);
    for (const error of outcome.errors) lines.push(`    FAILED: ${error}`);
    for (const incomplete of outcome.incomplete) lines.push(`    incomplete: ${incomplete}`);
    const skipped = new Map<string, string[]>();
    for (const i of outcome.items.filter((item) => item.status === 'skipped'))
      skipped.set(i.detail, [...(skipped.get(i.detail) ?? []), i.target]);
    for (const [why, targets] of skipped)
      lines.push(`    left alone: ${list(targets.map((t) => clean(t, 80)))}: ${clean(why, 240)}`);
    // What a person must know (traffic still allowed, credentials valid a while), once each.
    for (const caveat of new Set(outcome.items.flatMap((i) => i.caveats)))
      lines.push(`    caveat: ${clean(caveat, 300)}`);
  }
  return lines;
}

/** One line per group the identification held back, once each. */
const heldBackLine = (held: HeldBack): string => {
  const shown = held.names.slice(0, 2).map((n) => clean(n, 80));
  const more = held.count > shown.length ? ` and ${held.count - shown.length} more` : '';
  return `  held back ${held.count} ${held.kind}(s): ${shown.join(', ')}${more}: ${clean(held.reason, 240)}`;
};

function foundLine(found: Identification): string {
  const { cluster } = found;
  const where = cluster
    ? `cluster ${clean(cluster.name)} (${!cluster.managed ? 'not one the responder may act on: reported only' : cluster.error ? `NOT reached: ${clean(cluster.error, 300)}` : 'reached'})`
    : 'no cluster';
  const workload = found.workload
    ? `, ${found.workload.kind} ${found.workload.namespace}/${found.workload.name}`
    : '';
  const open = found.instances.filter(
    (i) => i.metadata && (i.metadata.imdsv1 || (i.metadata.hopLimit ?? 2) > 1),
  );
  const imds =
    open.length > 0
      ? `; ${metadataDoor(open[0]?.metadata ?? null)} on ${open.length} of ${found.instances.length} instance(s)`
      : '';
  return `Found: ${where}${workload}, ${found.pods.length} pod(s), ${found.nodes.length} node(s), ${found.instances.length} instance(s), ${found.roles.length} role(s)${imds}`;
}

const isEvidence = (value: unknown): value is EvidenceReport =>
  typeof value === 'object' && value !== null && 'step' in value && 'count' in value;

/** The finding's chain of custody as the incident record holds it, or why it could not be read. */
export type Custody =
  | { objects: EvidenceObject[]; refused?: { key: string; why: string }[] }
  | { error: string };

/** What the evidence steps left unsaid elsewhere: what they could not collect, what the credentials did. */
export function evidenceProblems(state: ExecutionState): { lines: string[]; activity: string[] } {
  const phase = state.contain as Record<string, unknown> | undefined;
  const steps = ['collect-pod-evidence', 'collect-credential-activity', 'collect-host-evidence'] as const;
  const lines: string[] = [];
  const activity: string[] = [];
  for (const step of steps) {
    for (const value of [phase?.[resultKeyOf(SPECS, step)]].flat()) {
      if (value === undefined) continue;
      const error = stepError(value);
      if (error) lines.push(`${step}: FAILED: ${error}`);
      else if (isEvidence(value)) {
        if (value.skipped && value.skipped !== NOT_A_CREDENTIAL_FINDING)
          lines.push(`${step}: ${clean(value.skipped)}`);
        activity.push(...(value.summary ?? []).map((line) => clean(line, 300)));
        for (const problem of value.problems) lines.push(`${step}: not collected: ${clean(problem, 400)}`);
      }
    }
  }
  return { lines, activity };
}

/** The evidence in one line (the report lists each object and its SHA-256), then what went wrong. */
function evidenceLines(state: ExecutionState, custody: Custody | null, findingId: string): string[] {
  const { lines, activity } = evidenceProblems(state);
  const out: string[] = [];
  if (custody && 'error' in custody)
    out.push(
      `    the chain of custody could not be read from the incident record: ${clean(custody.error, 400)}`,
    );
  const objects = custody && 'objects' in custody ? custody.objects : [];
  const refused = custody && 'objects' in custody ? (custody.refused ?? []) : [];
  if (refused.length > 0)
    out.push(
      `    ${refused.length} object(s) in the record failed verification (written or changed by someone else) and are not evidence: ${list(refused.map((r) => `${clean(r.key, 400)} (${r.why})`))}`,
    );
  for (const line of lines) out.push(`    ${line}`);
  if (activity.length > 0)
    out.push(
      '  What the credentials did (CloudTrail event history):',
      ...activity.slice(0, 8).map((line) => `    ${line}`),
    );
  if (objects.length === 0 && out.length === 0) return [];
  const buckets = [...new Set(objects.map((o) => o.bucket))];
  const where = buckets.length > 0 ? ` in s3://${buckets[0]}/incidents/${findingId}/` : '';
  return [
    `  ${'evidence'.padEnd(18)} ${objects.length} object(s)${where} (each with its SHA-256 in the report)`,
    ...out,
  ];
}

/** The short notice for a finding already handled: what changed, and that nothing was done again. */
export function composeSeenAgain(
  claim: Extract<ClaimOutput, { claimed: false }>,
  type: string,
  context: NotificationContext = LOCAL,
): Notification {
  const { previous, now } = claim;
  const summary = `SEEN AGAIN: ${clean(type)}: nothing was done again; the incident is ${claim.state}${claim.dryRun ? ' (dry run)' : ''}.`;
  const lines = [
    summary,
    `Finding id ${claim.findingId}`,
    `First handled by ${claim.firstExecutionArn} at ${claim.firstSeenAt}.`,
    `Count ${previous.count} -> ${now.count}, severity ${previous.severity} -> ${now.severity}, updated ${previous.updatedAt} -> ${now.updatedAt}; sighting ${claim.sightings} since.`,
  ];
  if (now.count > previous.count) lines.push('GuardDuty counted new activity since the last sighting.');
  if (now.severity > previous.severity) lines.push('The severity went up.');
  const where = context.stackName ? ` --deployed ${context.stackName}` : '';
  lines.push(
    claim.state === 'released'
      ? `The incident was released: nothing is contained now. To contain again: npm run replay -- <the event file>${where} --rerun`
      : `The actions were not repeated: the ${claim.entries} recorded change(s) of the incident stand.`,
  );
  return {
    subject: subjectLine(`[guardduty-responder] SEEN AGAIN: ${type}`),
    summary,
    message: withinSnsLimit(lines.join('\n')),
    attributes: { severity: now.severity, findingType: type, outcome: 'seen-again', sample: claim.sample },
    nextSteps: nextSteps(claim.findingId, context, claim.dryRun),
  };
}

/** The first line: what happened, to what, what was done and what was not. */
function summaryLine(verdict: Verdict, plan: ResponsePlan, outcomes: ActionOutcome[]): string {
  const lead = leadingReason(verdict);
  const what = `${plan.finding.type} (${plan.finding.severityLabel} ${plan.finding.severity})`;
  const on =
    verdict.targets.length > 0
      ? ` on ${list(
          verdict.targets.map((t) => t.target),
          2,
        )}`
      : '';
  const done = outcomes.filter((o) => o.status === 'ok').map((o) => o.action);
  const notDone = outcomes.filter(
    (o) => o.status === 'failed' || o.status === 'held-back' || o.status === 'not-run',
  );
  const why = lead
    ? ` ${lead.reason}: ${lead.target ? `${lead.target}: ` : ''}${clean(lead.detail, 240)}.`
    : verdict.outcome === 'identified' && !verdict.wouldBe
      ? plan.outside
        ? ` Reported only: ${clean(plan.outside, 300)}.`
        : plan.actions.length === 0
          ? ` The playbook rule ${plan.rule} reports only.`
          : ' The finding names nothing the responder cuts off.'
      : '';
  const did = verdict.wouldBe
    ? ' Nothing was changed.'
    : ` Done: ${done.length > 0 ? done.join(', ') : 'nothing'}.${notDone.length > 0 ? ` Not done: ${notDone.map((o) => `${o.action} (${STATUS_WORDS[o.status]})`).join(', ')}.` : ''}`;
  return `${headline(verdict)}: ${what}${on}.${why}${did}`;
}

export function composeNotification(
  state: ExecutionState,
  custody: Custody | null = null,
  context: NotificationContext = LOCAL,
): Notification {
  const claim = state.claim as ClaimOutput | undefined;
  const claimError = StepError.safeParse(state.claim);
  const identifyError = StepError.safeParse(state.identify);
  const identified = !identifyError.success && state.identify ? (state.identify as IdentifyOutput) : null;
  const detail = z
    .looseObject({
      type: z.string().catch('unknown'),
      severity: z.number().nullable().catch(null),
      id: z.string().catch(''),
    })
    .catch({ type: 'unknown', severity: null, id: '' })
    .parse(state.detail);
  if (claim && !claimError.success && claim.claimed === false)
    return composeSeenAgain(claim, detail.type, context);

  const refused = identifyError.success && identifyError.data.Error === 'FindingRefused';
  if (!identified) {
    const failure = claimError.success
      ? `the claim failed: ${stepError(state.claim)}`
      : identifyError.success
        ? `${refused ? 'GuardDuty does not hold the finding as the event said' : 'identification failed'}: ${clean(identifyError.data.Cause, 1500)}`
        : 'identification did not run';
    const outcome: Outcome = refused ? 'refused' : 'not-contained';
    const summary = `${OUTCOME_WORDS[outcome]}${refused ? '' : ' (failed)'}: ${clean(detail.type)} (${detail.id || 'no id'}): ${failure}. Nothing was done.`;
    const lines = [summary];
    if (refused)
      lines.push(
        'If GuardDuty should hold this finding, check its id and detector; if it should not, someone started a response with a finding of their own: see who (CloudTrail: states:StartExecution, events:PutEvents).',
      );
    return {
      subject: subjectLine(
        `[guardduty-responder] ${OUTCOME_WORDS[outcome]}${refused ? '' : ' (failed)'}: ${detail.type}`,
      ),
      summary,
      message: withinSnsLimit(lines.join('\n')),
      attributes: { severity: detail.severity, findingType: detail.type, outcome, sample: false },
      actions: [],
      nextSteps: [],
    };
  }

  const { plan, identification: found } = identified;
  const { finding } = plan;
  const outcomes = actionOutcomes(plan, found, state);
  const verdict = verdictOf(plan, found, outcomes);
  const summary = summaryLine(verdict, plan, outcomes);
  const dryRun = verdict.wouldBe !== null;
  const steps = nextSteps(finding.id, context, dryRun || verdict.outcome === 'identified');

  const lines = [summary, ''];
  lines.push(
    `What GuardDuty saw: ${clean(finding.title, 200)}`,
    `  ${'Finding:'.padEnd(10)} ${finding.id}, ${finding.severityLabel} (${finding.severity}), seen ${finding.count} time(s), updated ${finding.updatedAt}`,
    `  ${'Where:'.padEnd(10)} account ${finding.accountId}, ${finding.region}${plan.targets.cluster ? `, cluster ${clean(plan.targets.cluster)}` : ''}${plan.targets.namespace ? `, namespace ${clean(plan.targets.namespace)}` : ''}`,
    ...observedLines(finding.observed),
  );
  if (plan.sample) lines.push('  This is a GuardDuty sample finding.');
  const { requestedFrom } = executionOptions(state);
  if (requestedFrom) lines.push(`  Requested from ${clean(requestedFrom)}`);
  const signals = finding.signals ?? [];
  if (signals.length > 0)
    lines.push(
      `  Signals: ${list(
        signals.map((s) => clean(s, 120)),
        4,
      )}`,
    );
  for (const note of plan.targets.notes) lines.push(`  Note: ${clean(note, 300)}`);
  const retried = claim?.claimed === true && !claim.rerun ? claim.previous : null;
  if (retried && !retried.dryRun)
    lines.push(`  Responded again: the previous response (${retried.at}) ended ${retried.outcome}.`);

  if (verdict.targets.length > 0) {
    lines.push('', 'Compromised:');
    for (const target of verdict.targets)
      lines.push(
        `  ${target.cut ? (dryRun ? 'would be cut off' : 'cut off') : `NOT cut off (${target.reason})`}: ${target.target}: ${clean(target.detail, 400)}`,
      );
  }
  lines.push('', foundLine(found));
  for (const missing of found.notFound)
    lines.push(`  not found: ${missing.kind} ${clean(missing.name)}: ${clean(missing.detail)}`);
  for (const held of found.heldBack) lines.push(heldBackLine(held));
  for (const error of found.errors)
    lines.push(
      `  LOOKUP FAILED: ${clean(error.step)}: ${clean(error.message, 600)}${error.consequence ? `: ${clean(error.consequence)}` : ''}`,
    );

  lines.push('', `Actions (playbook rule ${plan.rule}):`);
  if (outcomes.length === 0) lines.push('  none: this rule identifies and notifies only');
  for (const outcome of outcomes) lines.push(...actionLines(outcome));
  lines.push(...evidenceLines(state, custody, finding.id));
  const budgetHeld = outcomes.flatMap((o) => o.held);
  if (budgetHeld.length > 0)
    lines.push(
      `  The budget across findings held back ${budgetHeld.length} target(s): the next sighting after it frees responds again.`,
    );

  lines.push('', 'Next steps:', ...steps.map((step) => `  ${step}`));
  lines.push(
    `  GuardDuty: https://console.aws.amazon.com/guardduty/home?region=${finding.region}#/findings?macros=current&fId=${finding.id}`,
  );

  return {
    subject: subjectLine(`[guardduty-responder] ${headline(verdict)}: ${finding.type}`),
    summary,
    message: withinSnsLimit(lines.join('\n')),
    attributes: {
      severity: finding.severity,
      findingType: finding.type,
      outcome: verdict.outcome,
      sample: plan.sample,
    },
    actions: outcomes.map((o) =>
      o.status === 'ok' || o.status === 'failed' || o.status === 'skipped' || o.status === 'not-run'
        ? { action: o.action, status: o.status === 'not-run' ? 'failed' : o.status, reason: null }
        : { action: o.action, status: 'held-back', reason: o.why },
    ),
    nextSteps: steps,
    incident: { verdict, outcomes, plan, found },
  };
}

/**
 * The notification of an execution whose state could not be read as a response (a state shape this
 * version does not know, a defect): still published, saying so, and never claiming anything was
 * contained. The execution's history holds every step's result.
 */
export function composeUnreadable(state: ExecutionState, error: string): Notification {
  const detail = z
    .looseObject({ type: z.string().catch('unknown'), id: z.string().catch('') })
    .catch({ type: 'unknown', id: '' })
    .parse(state.detail);
  const summary = `NOT CONTAINED (failed): ${clean(detail.type)} (${clean(detail.id) || 'no id'}): the notification could not be composed (${clean(error, 500)}); every step's result is in the execution's history.`;
  return {
    subject: subjectLine(`[guardduty-responder] NOT CONTAINED (failed): ${detail.type}`),
    summary,
    message: summary,
    attributes: { severity: null, findingType: detail.type, outcome: 'not-contained', sample: false },
    actions: [],
    nextSteps: [],
  };
}
