/**
 * The notification, composed from whatever the execution reached: the event, the plan and identification
 * when identify ran, and the error of every step that failed. Pure: the handler only publishes it.
 */
import { z } from 'zod';
import { SPECS } from '../actions/registry.js';
import type { MetadataDoor } from '../clients/aws.js';
import type { ActionItem, ActionResult } from '../core/action-result.js';
import { phaseOf, resultKeyOf } from '../core/action-spec.js';
import { NOT_A_CREDENTIAL_FINDING } from '../core/credentials.js';
import { type ActionName, type ResponsePlan, specOf } from '../core/plan.js';
import { executionOptions } from '../core/settings.js';
import type { EvidenceReport } from '../evidence/pods.js';
import {
  type HeldBack,
  type Identification,
  type IdentifyOutput,
  leavesIncomplete,
} from '../identify/identify.js';
import type { ClaimOutput, EvidenceObject } from '../incident/record.js';

/** A step's output in the execution state, or the error its Catch put in the same place. */
const StepError = z.looseObject({ Error: z.string(), Cause: z.string().nullish() });
export type StepError = z.infer<typeof StepError>;

/**
 * refused: GuardDuty does not hold the finding as the event said (lambdas/identify/source.ts);
 * not-contained: the budget across findings held a target back, so the incident is not contained (the
 * execution fails, and the next sighting after the budget frees takes the finding again).
 */
export type Outcome = 'identified' | 'contained' | 'not-contained' | 'failed' | 'refused' | 'seen-again';

export type Notification = {
  subject: string;
  message: string;
  attributes: { severity: number | null; findingType: string; outcome: Outcome; sample: boolean };
  /** How each planned action ended, for the metrics; held-back actions with the plan's reason. */
  actions?: {
    action: ActionName;
    status: 'ok' | 'failed' | 'skipped' | 'held-back';
    reason: string | null;
  }[];
};

/** SNS takes at most 256 KiB per message; a larger incident's text is cut, saying so. */
export const MAX_MESSAGE_BYTES = 250 * 1024;

export function withinSnsLimit(message: string): string {
  if (Buffer.byteLength(message) <= MAX_MESSAGE_BYTES) return message;
  const note = '\n… (cut to fit an SNS message; the full results are in the execution history)';
  let cut = message.slice(0, MAX_MESSAGE_BYTES - note.length);
  while (Buffer.byteLength(cut) + Buffer.byteLength(note) > MAX_MESSAGE_BYTES) cut = cut.slice(0, -1024);
  return cut + note;
}

/** Runtime findings carry attacker-controlled strings: no control characters, bounded length. */
export function clean(value: unknown, max = 300): string {
  const text = String(value ?? '')
    .replace(/\p{Cc}+/gu, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const list = (items: readonly string[], empty = 'none'): string =>
  items.length > 0 ? items.join(', ') : empty;

function describeIdentification(found: Identification): string[] {
  const lines: string[] = [];
  const { cluster } = found;
  if (cluster) {
    const state = !cluster.managed
      ? 'not one the responder may act on: reported only'
      : cluster.error
        ? `managed by the responder; NOT reached: ${clean(cluster.error, 1000)}`
        : cluster.reachable
          ? 'managed by the responder'
          : `managed by the responder, API ${cluster.endpoint ?? ''} answered, lookups failed (below)`;
    lines.push(`Cluster: ${clean(cluster.name)} (${state})`);
  }
  if (found.workload)
    lines.push(`Workload: ${found.workload.kind} ${found.workload.namespace}/${found.workload.name}`);
  if (found.matchedBy) lines.push(`Pods found by: ${found.matchedBy}`);
  lines.push(
    `Pods (${found.pods.length}): ${list(
      found.pods.map(
        (pod) =>
          `${pod.namespace}/${pod.name} on ${pod.nodeName ?? 'no node'}${pod.hostNetwork ? ' [hostNetwork]' : ''}`,
      ),
    )}`,
  );
  if (found.podsOnNodes.length > 0) {
    lines.push(
      `Other pods on the affected nodes (${found.podsOnNodes.length}): ${list(
        found.podsOnNodes.map((pod) => `${pod.namespace}/${pod.name}`),
      )}`,
    );
  }
  lines.push(
    `Nodes (${found.nodes.length}): ${list(
      found.nodes.map(
        (node) =>
          `${node.name} (${node.instanceId ?? 'no EC2 instance'}${node.unschedulable ? ', already cordoned' : ''}${node.karpenter ? ', Karpenter' : ''})`,
      ),
    )}`,
  );
  lines.push(
    `Instances (${found.instances.length}): ${list(
      found.instances.map((instance) => {
        const parts = [instance.state];
        parts.push(
          instance.autoScalingGroup
            ? `Auto Scaling group ${instance.autoScalingGroup}`
            : 'no Auto Scaling group',
        );
        if (instance.role) parts.push(`role ${instance.role.name}`);
        parts.push(metadataDoor(instance.metadata));
        parts.push(
          `volumes ${list(instance.volumes.map((v) => `${v.volumeId}${v.deviceName ? ` (${v.deviceName})` : ''}`))}`,
        );
        return `${instance.instanceId} (${parts.join('; ')})`;
      }),
    )}`,
  );
  lines.push(
    `IAM roles (${found.roles.length}): ${list(
      found.roles.map(
        (role) => `${role.arn ?? role.name} [${role.sources.join(', ')}] used by ${list(role.usedBy)}`,
      ),
    )}`,
  );
  for (const missing of found.notFound)
    lines.push(`Not found: ${missing.kind} ${clean(missing.name)}: ${missing.detail}`);
  for (const held of found.heldBack) lines.push(`Held back: ${describeHeldBack(held)}`);
  for (const error of found.errors) {
    const consequence = error.consequence ? `: ${error.consequence}` : '';
    lines.push(`Lookup failed: ${clean(error.step)}: ${clean(error.message, 1000)}${consequence}`);
  }
  return lines;
}

function describeHeldBack(held: HeldBack): string {
  const more = held.count > held.names.length ? ` … and ${held.count - held.names.length} more` : '';
  const names = held.names.map((name) => clean(name, 120)).join(', ');
  return `${held.count} ${held.kind}(s), ${held.reason}: ${names}${more}`;
}

const isResult = (value: unknown): value is ActionResult =>
  typeof value === 'object' && value !== null && 'action' in value && 'items' in value;

type ActionReport = {
  action: ActionName;
  lines: string[];
  failed: boolean;
  acted: boolean;
  restore: string[];
  /** Targets the budget across findings held back, `target: reason`: not contained. */
  held?: string[];
};

function reportAction(
  plan: ResponsePlan,
  found: Identification,
  action: ActionName,
  contain: unknown,
): ActionReport {
  const decision = plan.actions.find((entry) => entry.action === action);
  if (!decision) return { action, lines: [], failed: false, acted: false, restore: [] };
  if (decision.decision !== 'planned') {
    return {
      action,
      lines: [`  ${action}: ${decision.decision} (${decision.reason})`],
      failed: false,
      acted: false,
      restore: [],
    };
  }
  // A lookup that failed leaves the action's targets unknown: it cannot be complete, whatever it did.
  const blind = found.errors.filter((error) => leavesIncomplete(error, specOf(SPECS, action).targetKind));
  const heldBack = found.heldBack
    .filter((held) => held.kind === specOf(SPECS, action).heldBack)
    .map((held) => `    held back: ${held.count} ${held.kind}(s), ${held.reason} (listed above)`);
  const unknown = blind.map((error) => `    incomplete: the lookup of ${clean(error.step)} failed (above)`);
  const report = reportResults(action, contain, blind.length > 0);
  return { ...report, lines: [...report.lines, ...heldBack, ...unknown] };
}

/** What the action's results say; `incomplete` (a lookup of its targets failed) makes it failed. */
function reportResults(action: ActionName, contain: unknown, incomplete: boolean): ActionReport {
  const containError = StepError.safeParse(contain);
  if (contain === undefined)
    return { action, lines: [`  ${action}: not run`], failed: incomplete, acted: false, restore: [] };
  if (containError.success) {
    const why = `${clean(containError.data.Error)}: ${clean(containError.data.Cause, 500)}`;
    return {
      action,
      lines: [`  ${action}: failed (containment step failed: ${why})`],
      failed: true,
      acted: false,
      restore: [],
    };
  }
  const raw = (contain as Record<string, unknown>)[resultKeyOf(SPECS, action)];
  const entries = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const items: ActionItem[] = [];
  const skipped: string[] = [];
  const errors: string[] = [];
  for (const entry of entries) {
    const error = StepError.safeParse(entry);
    if (error.success) errors.push(`${clean(error.data.Error)}: ${clean(error.data.Cause, 500)}`);
    else if (isResult(entry)) {
      items.push(...entry.items);
      if (entry.skipped) skipped.push(entry.skipped);
    }
  }
  const failed = incomplete || errors.length > 0 || items.some((i) => i.status === 'failed');
  const acted = items.some((i) => i.status === 'ok');
  const status = failed ? 'failed' : acted ? 'ok' : 'skipped';
  const nothing = incomplete ? 'its targets could not be looked up' : 'nothing identified to act on';
  const why = [...new Set(skipped)].join('; ') || (entries.length === 0 ? nothing : '');
  const lines = [`  ${action}: ${status}${status !== 'ok' && why ? ` (${why})` : ''}`];
  for (const i of items) {
    const verified = i.verified === null ? '' : i.verified ? ', verified' : ', NOT verified';
    lines.push(`    ${clean(i.target)}: ${i.status}${verified}: ${clean(i.detail, 600)}`);
    for (const caveat of i.caveats) lines.push(`      caveat: ${clean(caveat, 400)}`);
  }
  for (const error of errors) lines.push(`    error: ${error}`);
  const restore = items
    .filter((i) => i.restore !== null && i.status !== 'skipped')
    .map((i) => `  ${action} ${clean(i.target)}: ${JSON.stringify(i.restore)}`);
  const held = items.flatMap((i) =>
    i.held ? [`${clean(i.target)} (${action}): ${clean(i.held, 400)}`] : [],
  );
  return { action, lines, failed, acted, restore, held };
}

type ExecutionState = {
  detail?: unknown;
  claim?: unknown;
  identify?: unknown;
  /** The phases' outputs (lambdas/core/action-spec.ts phasesFor): `contain`, `cut`, then `approved`. */
  contain?: unknown;
  cut?: unknown;
  approved?: unknown;
};

const isEvidence = (value: unknown): value is EvidenceReport =>
  typeof value === 'object' && value !== null && 'step' in value && 'count' in value;

/** The finding's chain of custody as the incident record holds it, or why it could not be read. */
export type Custody =
  | { objects: EvidenceObject[]; refused?: { key: string; why: string }[] }
  | { error: string };

/**
 * The chain of custody: every evidence object of the finding with its bucket, key, version, size and
 * SHA-256 (from the incident record), and what could not be collected. Missing evidence is said, but does
 * not make the response fail.
 */
function describeEvidence(state: ExecutionState, custody: Custody | null): string[] {
  const phase = state.contain as Record<string, unknown> | undefined;
  const results: { step: string; value: unknown }[] = [
    { step: 'collect-pod-evidence', value: phase?.[resultKeyOf(SPECS, 'collect-pod-evidence')] },
    {
      step: 'collect-credential-activity',
      value: phase?.[resultKeyOf(SPECS, 'collect-credential-activity')],
    },
    ...[phase?.[resultKeyOf(SPECS, 'collect-host-evidence')]]
      .flat()
      .map((value) => ({ step: 'collect-host-evidence', value })),
  ];
  const lines: string[] = [];
  for (const { step, value } of results) {
    if (value === undefined) continue;
    const error = StepError.safeParse(value);
    if (error.success)
      lines.push(`  ${step}: failed: ${clean(error.data.Error)}: ${clean(error.data.Cause, 500)}`);
    else if (isEvidence(value)) {
      // A step that found nothing to do (not a credential finding) says nothing.
      if (value.skipped && value.skipped !== NOT_A_CREDENTIAL_FINDING)
        lines.push(`  ${step}: ${clean(value.skipped)}`);
      if (value.summary && value.summary.length > 0)
        lines.push(
          '  What the credentials did (CloudTrail event history):',
          ...value.summary.map((line) => `    ${clean(line, 300)}`),
        );
      for (const problem of value.problems) lines.push(`  ${step}: not collected: ${clean(problem, 500)}`);
    }
  }
  if (custody && 'error' in custody)
    lines.push(
      `  the chain of custody could not be read from the incident record: ${clean(custody.error, 500)}`,
    );
  const objects = custody && 'objects' in custody ? custody.objects : [];
  const refused = custody && 'objects' in custody ? (custody.refused ?? []) : [];
  if (refused.length > 0)
    lines.push(
      `  ${refused.length} object(s) in the record's evidence list failed verification (written or changed in the incident table by someone else) and are not evidence: ${refused
        .slice(0, 5)
        .map((r) => `${clean(r.key, 200)} (${r.why})`)
        .join('; ')}${refused.length > 5 ? `; and ${refused.length - 5} more` : ''}`,
    );
  if (objects.length === 0 && lines.length === 0) return [];
  const buckets = [...new Set(objects.map((o) => o.bucket))];
  return [
    '',
    `Evidence (${objects.length} object(s)${buckets.length > 0 ? ` in s3://${buckets.join(', s3://')}` : ''}):`,
    ...objects.map(
      (o) =>
        `  ${clean(o.key, 400)} (${o.size} bytes, sha256 ${o.sha256}, version ${o.versionId ?? 'none'})${o.note ? `: ${clean(o.note)}` : ''}`,
    ),
    ...lines,
  ];
}

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

const subjectLine = (text: string) => clean(text, 100).replace(/[^\x20-\x7e]/g, '?');

/** The short notice for a finding already handled: what changed, and that nothing was done again. */
export function composeSeenAgain(
  claim: Extract<ClaimOutput, { claimed: false }>,
  type: string,
): Notification {
  const { previous, now } = claim;
  const lines = [
    `GuardDuty finding ${clean(type)} seen again`,
    `Finding id ${claim.findingId}`,
    `First handled by ${claim.firstExecutionArn} at ${claim.firstSeenAt}; the incident is ${claim.state}${claim.dryRun ? ' (dry run)' : ''}.`,
    `Count ${previous.count} -> ${now.count}, severity ${previous.severity} -> ${now.severity}, updated ${previous.updatedAt} -> ${now.updatedAt}; sighting ${claim.sightings} since.`,
  ];
  if (now.count > previous.count) lines.push('GuardDuty counted new activity since the last sighting.');
  if (now.severity > previous.severity) lines.push('The severity went up.');
  lines.push(
    claim.state === 'released'
      ? 'The incident was released: nothing is contained now. To contain again, start the response with the rerun option (npm run replay -- <event> --deployed <stack> --rerun).'
      : `The actions were not repeated: the ${claim.entries} recorded change(s) of the incident stand.`,
  );
  return {
    subject: subjectLine(`[guardduty-responder] seen-again: ${type}`),
    message: withinSnsLimit(lines.join('\n')),
    attributes: { severity: now.severity, findingType: type, outcome: 'seen-again', sample: claim.sample },
  };
}

export function composeNotification(state: ExecutionState, custody: Custody | null = null): Notification {
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
  if (claim && !claimError.success && claim.claimed === false) return composeSeenAgain(claim, detail.type);

  const reports = identified
    ? identified.plan.actions.map((entry) =>
        reportAction(
          identified.plan,
          identified.identification,
          entry.action,
          // An action that waited for approval ran in the last phase (phasesFor).
          state.approved && resultKeyOf(SPECS, entry.action) in (state.approved as object)
            ? state.approved
            : state[phaseOf(SPECS, entry.action).key],
        ),
      )
    : [];
  const refused = identifyError.success && identifyError.data.Error === 'FindingRefused';
  const held = reports.flatMap((r) => r.held ?? []);
  const outcome: Outcome = refused
    ? 'refused'
    : !identified || reports.some((r) => r.failed)
      ? 'failed'
      : held.length > 0
        ? 'not-contained'
        : reports.some((r) => r.acted)
          ? 'contained'
          : 'identified';
  const plan = identified?.plan;
  const finding = plan?.finding;
  const lines: string[] = [];
  if (finding) {
    lines.push(
      `GuardDuty finding ${finding.type}`,
      `Severity: ${finding.severityLabel} (${finding.severity})`,
      `Title: ${clean(finding.title)}`,
      `Account ${finding.accountId}, region ${finding.region}`,
      `Finding id ${finding.id}, seen ${finding.count} time(s), updated ${finding.updatedAt}`,
      `Console: https://console.aws.amazon.com/guardduty/home?region=${finding.region}#/findings?macros=current&fId=${finding.id}`,
    );
    if (plan.sample) lines.push('This is a GuardDuty sample finding.');
    const { requestedFrom } = executionOptions(state);
    if (requestedFrom) lines.push(`Requested from ${clean(requestedFrom)}`);
    // A plan made before signals were summarised (an execution under way across an upgrade) has none.
    const signals = finding.signals ?? [];
    if (signals.length > 0)
      lines.push(`Attack sequence signals: ${signals.map((signal) => clean(signal)).join('; ')}`);
    if (plan.targets.namespace) lines.push(`Namespace: ${clean(plan.targets.namespace)}`);
    if (plan.targets.kubernetesUser) lines.push(`Kubernetes user: ${clean(plan.targets.kubernetesUser)}`);
    for (const note of plan.targets.notes) lines.push(`Note: ${clean(note)}`);
    const retried = claim?.claimed === true && !claim.rerun ? claim.previous : null;
    if (retried && !retried.dryRun) {
      lines.push(
        `Contained again on this sighting: the previous response (${retried.executionArn}, ${retried.at}) ended ${retried.outcome}.`,
      );
    }
  } else {
    lines.push(`GuardDuty finding ${clean(detail.type)} (${detail.id || 'no id'})`);
  }
  const failedActions = reports.filter((r) => r.failed).map((r) => r.action);
  if (refused && identifyError.success) {
    lines.push(
      `Outcome: REFUSED: ${clean(identifyError.data.Cause, 2000)}`,
      'Nothing was done. If GuardDuty should hold this finding, check its id and detector; if it should not, someone started a response with a finding of their own: see who (CloudTrail: states:StartExecution, events:PutEvents).',
    );
  }
  if (outcome === 'not-contained') {
    lines.push(
      `Outcome: NOT CONTAINED: the budget across findings held back ${held.join('; ')}. The next sighting after that contains ${held.length === 1 ? 'it' : 'them'}.`,
    );
  }
  if (outcome === 'failed') {
    const what = !identified
      ? `the ${claimError.success ? 'claim' : 'identification'} step failed (below)`
      : `${failedActions.join(', ') || 'a step'} did not complete (below)`;
    lines.push(`Outcome: FAILED: ${what}`);
  }
  if (identified) {
    lines.push('', 'What was found:', ...describeIdentification(identified.identification));
    lines.push('', `What was done (playbook rule ${identified.plan.rule}):`);
    if (identified.plan.actions.length === 0) lines.push('  nothing: this rule identifies and notifies only');
    for (const report of reports) lines.push(...report.lines);
    lines.push(...describeEvidence(state, custody));
    const restore = reports.flatMap((report) => report.restore);
    if (restore.length > 0) {
      lines.push(
        '',
        'Recorded for restore:',
        ...restore,
        `Release once the investigation is over: npm run release -- ${identified.plan.finding.id} --deployed <stack>`,
      );
    }
  }
  if (claimError.success) {
    lines.push('', `Claim failed: ${clean(claimError.data.Error)}: ${clean(claimError.data.Cause, 2000)}`);
  }
  if (identifyError.success && !refused) {
    lines.push(
      '',
      `Identification failed: ${clean(identifyError.data.Error)}: ${clean(identifyError.data.Cause, 2000)}`,
    );
  }

  const severity = finding?.severity ?? detail.severity;
  const subject = subjectLine(
    `[guardduty-responder] ${outcome}: ${finding ? `${finding.severityLabel} ` : ''}${finding?.type ?? detail.type}`,
  );
  return {
    subject,
    message: withinSnsLimit(lines.join('\n')),
    attributes: {
      severity,
      findingType: finding?.type ?? detail.type,
      outcome,
      sample: plan?.sample ?? false,
    },
    actions: (identified?.plan.actions ?? []).map((entry) => {
      const report = reports.find((r) => r.action === entry.action);
      if (entry.decision !== 'planned')
        return { action: entry.action, status: 'held-back', reason: entry.reason };
      const status = report?.failed ? 'failed' : report?.acted ? 'ok' : 'skipped';
      return { action: entry.action, status, reason: null };
    }),
  };
}
