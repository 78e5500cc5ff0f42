/**
 * The outcome, by one rule: a response is `contained` only when every compromised target the finding
 * names is cut off as the playbook wants and nothing failed; otherwise it is `partly-contained` (some
 * are) or `not-contained` (none is), and the first reason leads: protected, not found, not enforced, held
 * back, failed. The compromised targets: the workload of a Kubernetes finding (cut off when its pods
 * are isolated by a NetworkPolicy the cluster enforces), the host of an EC2 finding (cut off when it is
 * isolated), and the credentials of an access-key finding (cut off when the role's sessions are revoked
 * or its permissions detached). A dry run is judged the same way, as if it had taken what it holds back.
 * Pure.
 */
import type { ActionItem } from '../core/action-result.js';
import type { ResponsePlan } from '../core/plan.js';
import { namesKubernetesWorkload } from '../core/targets.js';
import type { Identification } from '../identify/identify.js';
import { type ActionOutcome, clean } from './results.js';

/**
 * refused: GuardDuty does not hold the finding as the event said (lambdas/identify/source.ts);
 * identified: the finding names nothing to cut off, or its rule only reports, or it is a dry run.
 */
export type Outcome =
  | 'contained'
  | 'partly-contained'
  | 'not-contained'
  | 'identified'
  | 'refused'
  | 'seen-again';

/** The outcomes that fail the execution (and fire the alarm), and that a later sighting responds to again. */
export const UNFINISHED: readonly Outcome[] = ['partly-contained', 'not-contained', 'refused'];

export type Reason = 'protected' | 'not found' | 'not enforced' | 'held back' | 'failed';

export type TargetVerdict = {
  /** `Deployment payments/api`, `instance i-0…`, `role web`. */
  target: string;
  cut: boolean;
  /** Not cut off, but part of it is (some of its pods isolated). */
  partly?: boolean;
  /** What cut it off, or why it is not. */
  detail: string;
  reason: Reason | null;
};

export type Verdict = {
  outcome: Outcome;
  /** For a dry run or a sample finding: what a real run would end with. */
  wouldBe: Outcome | null;
  rehearsal: 'DRY RUN' | 'SAMPLE FINDING' | null;
  targets: TargetVerdict[];
  /** What failed or was held back beyond the targets (evidence, other actions), `reason: detail`. */
  problems: { reason: Reason; detail: string }[];
};

const cut = (target: string, detail: string): TargetVerdict => ({ target, cut: true, detail, reason: null });
const notCut = (target: string, reason: Reason, detail: string): TargetVerdict => ({
  target,
  cut: false,
  detail,
  reason,
});

const itemsAbout = (outcome: ActionOutcome | undefined, name: string): ActionItem[] =>
  (outcome?.items ?? []).filter((item) => item.target.split(' ').includes(name));

/** Why an action the target needs did not run, or null when it ran (or a dry run would run it). */
function notTaken(target: string, action: string, outcome: ActionOutcome | undefined, rule: string) {
  if (!outcome) return notCut(target, 'held back', `the playbook rule ${rule} does not ${action}`);
  if (outcome.status === 'held-back') return notCut(target, 'held back', `${outcome.action}: ${outcome.why}`);
  if (outcome.status === 'not-run') return notCut(target, 'failed', `${outcome.action}: ${outcome.why}`);
  return null;
}

function workloadName(plan: ResponsePlan): string {
  const { targets } = plan;
  const ns = targets.namespace ?? '(no namespace)';
  const first = targets.workload
    ? `${targets.workload.kind} ${ns}/${targets.workload.name}`
    : targets.pods[0]
      ? `pod ${ns}/${targets.pods[0]}`
      : targets.serviceAccount
        ? `the pods of service account ${ns}/${targets.serviceAccount}`
        : `the pods running ${targets.images[0] ?? 'the image'} in ${ns}`;
  const more = targets.otherWorkloads.length;
  return clean(more > 0 ? `${first} and ${more} more workload(s)` : first, 200);
}

const namesWorkload = (plan: ResponsePlan) =>
  plan.targets.workload !== null ||
  plan.targets.pods.length > 0 ||
  plan.targets.otherWorkloads.length > 0 ||
  (plan.finding.resourceType === 'EKSCluster' && namesKubernetesWorkload(plan.targets));

function workloadVerdict(
  plan: ResponsePlan,
  found: Identification,
  outcomes: ActionOutcome[],
): TargetVerdict {
  const target = workloadName(plan);
  const { targets } = plan;
  if (!namesKubernetesWorkload(targets))
    return notCut(
      target,
      'not found',
      `the finding names no ${targets.cluster ? 'namespace' : 'cluster'} for it: it cannot be looked up`,
    );
  const isolate = outcomes.find((o) => o.action === 'isolate-pods');
  const taken = notTaken(target, 'isolate pods', isolate, plan.rule);
  if (taken) return taken;
  const lookup = found.errors.find((error) => error.affects.includes('pods') || error.affects.includes('*'));
  if (lookup)
    return notCut(
      target,
      'failed',
      `the lookup of ${clean(lookup.step)} failed: ${clean(lookup.message, 400)}`,
    );
  const heldPods = found.heldBack.filter((held) => held.kind === 'pod');
  const names = (held: (typeof heldPods)[number]) =>
    `${held.names.slice(0, 3).join(', ')}${held.count > 3 ? ` and ${held.count - 3} more` : ''}`;
  /** The reason, and the pods it holds unless the target names the one pod already. */
  const heldSaid = (held: (typeof heldPods)[number]) =>
    held.count === 1 && target.endsWith(`/${held.names[0]?.split('/').at(-1)}`)
      ? held.reason
      : `${names(held)}: ${held.reason}`;
  if (found.pods.length === 0) {
    const guarded = heldPods.find((held) => held.reason.startsWith('protected'));
    if (guarded) return notCut(target, 'protected', heldSaid(guarded));
    if (heldPods[0]) return notCut(target, 'held back', heldSaid(heldPods[0]));
    const missing = found.notFound.find((n) =>
      ['pod', 'workload', 'namespace', 'service-account'].includes(n.kind),
    );
    return notCut(
      target,
      'not found',
      !missing
        ? `no pod of it was found in cluster ${clean(targets.cluster)}`
        : target.includes(missing.name)
          ? clean(missing.detail)
          : `${missing.kind} ${clean(missing.name)}: ${clean(missing.detail)}`,
    );
  }
  if (isolate?.status === 'failed') return notCut(target, 'failed', `isolate-pods: ${isolate.why}`);
  const held = isolate?.held[0];
  if (held) return notCut(target, 'held back', held);
  const enforcement = found.cluster?.networkPolicy;
  if (enforcement && enforcement.enforced !== true) return notCut(target, 'not enforced', enforcement.detail);
  // Every pod the workload runs must be cut off: a hostNetwork pod, labelled, is not.
  if (isolate?.status !== 'would') {
    const left = found.pods.filter(
      (pod) => !itemsAbout(isolate, `${pod.namespace}/${pod.name}`).some((i) => i.status === 'ok'),
    );
    const first = left[0];
    if (first) {
      const said = itemsAbout(isolate, `${first.namespace}/${first.name}`)[0]?.detail ?? 'not isolated';
      return {
        ...notCut(
          target,
          first.hostNetwork ? 'not enforced' : 'held back',
          `${found.pods.length - left.length} of ${found.pods.length} pod(s) isolated; pod ${first.namespace}/${first.name}: ${clean(said, 300)}`,
        ),
        partly: left.length < found.pods.length,
      };
    }
  }
  const isolated = `${found.pods.length} pod(s) ${isolate?.status === 'would' ? 'would be ' : ''}isolated`;
  const also = heldPods[0] ? `; held back: ${names(heldPods[0])}: ${heldPods[0].reason}` : '';
  if (also) return { ...notCut(target, 'held back', `${isolated}${also}`), partly: true };
  return cut(target, `${isolated}${enforcement ? `, ${enforcement.detail}` : ''}`);
}

function hostVerdict(
  plan: ResponsePlan,
  found: Identification,
  outcomes: ActionOutcome[],
  instanceId: string,
): TargetVerdict {
  const target = `instance ${clean(instanceId, 40)}`;
  const isolate = outcomes.find((o) => o.action === 'isolate-host');
  const taken = notTaken(target, 'isolate hosts', isolate, plan.rule);
  if (taken) return taken;
  if (!found.hosts.some((host) => host.instanceId === instanceId)) {
    const held = found.heldBack.find((h) => h.kind === 'instance' && h.names.includes(instanceId));
    if (held) return notCut(target, 'held back', held.reason);
    const missing = found.notFound.find((n) => n.name === instanceId);
    return notCut(target, 'not found', missing ? clean(missing.detail) : 'not found in the account');
  }
  const items = itemsAbout(isolate, instanceId);
  const failed = items.find((i) => i.status === 'failed');
  if (failed || (isolate?.status === 'failed' && items.length === 0))
    return notCut(target, 'failed', `isolate-host: ${failed ? clean(failed.detail, 400) : isolate?.why}`);
  const held = items.find((i) => i.held);
  if (held) return notCut(target, 'held back', clean(held.held, 400));
  if (isolate?.status === 'would')
    return isolate.wouldActOn.includes(target)
      ? cut(target, 'would be isolated')
      : notCut(target, 'held back', 'isolate-host would not act on it');
  if (items.some((i) => i.status === 'ok')) return cut(target, 'isolated');
  return notCut(target, 'held back', clean(items[0]?.detail ?? isolate?.why ?? 'not isolated', 400));
}

function credentialsVerdict(plan: ResponsePlan, outcomes: ActionOutcome[]): TargetVerdict {
  const { roleName, accessKey } = plan.targets;
  if (!roleName) {
    const key = accessKey?.accessKeyId ?? accessKey?.userName ?? 'the access key';
    return notCut(
      `access key ${clean(key, 60)}`,
      'held back',
      `no action of the responder disables an IAM user's access key: deactivate ${clean(key, 60)} (iam update-access-key --status Inactive)`,
    );
  }
  const target = `role ${clean(roleName, 64)}`;
  const revoking = outcomes.filter((o) => o.action === 'revoke-sessions' || o.action === 'revoke-iam');
  if (revoking.length === 0)
    return notCut(target, 'held back', `the playbook rule ${plan.rule} revokes no credentials`);
  const items = revoking.flatMap((o) => itemsAbout(o, roleName));
  const done = revoking.find((o) => itemsAbout(o, roleName).some((i) => i.status === 'ok'));
  if (done) return cut(target, `${done.action}: ${clean(itemsAbout(done, roleName)[0]?.detail, 200)}`);
  const would = revoking.filter((o) => o.status === 'would');
  const revokes = would.find((o) => o.wouldActOn.includes(target));
  if (revokes) return cut(target, `${revokes.action} would revoke it`);
  if (would[0]) return notCut(target, 'held back', `${would[0].action} would leave it alone`);
  const failed = items.find((i) => i.status === 'failed');
  if (failed) return notCut(target, 'failed', clean(failed.detail, 400));
  const stepFailed = revoking.find((o) => o.status === 'failed');
  if (stepFailed) return notCut(target, 'failed', `${stepFailed.action}: ${stepFailed.why}`);
  const held = items.find((i) => i.held);
  if (held) return notCut(target, 'held back', clean(held.held, 400));
  const skipped = items[0];
  if (skipped) return notCut(target, 'held back', clean(skipped.detail, 400));
  const heldBack = revoking.find((o) => o.status === 'held-back' || o.status === 'not-run');
  return notCut(
    target,
    heldBack?.status === 'not-run' ? 'failed' : 'held back',
    `${revoking[0]?.action}: ${heldBack?.why ?? revoking[0]?.why ?? 'not revoked'}`,
  );
}

/** The compromised targets the finding names, each with whether it is cut off. */
export function targetVerdicts(
  plan: ResponsePlan,
  found: Identification,
  outcomes: ActionOutcome[],
): TargetVerdict[] {
  const verdicts: TargetVerdict[] = [];
  if (namesWorkload(plan)) verdicts.push(workloadVerdict(plan, found, outcomes));
  const hostFinding =
    plan.finding.resourceType === 'Instance' || plan.finding.type.startsWith('AttackSequence:EC2/');
  if (hostFinding)
    for (const instanceId of plan.targets.instanceIds)
      verdicts.push(hostVerdict(plan, found, outcomes, instanceId));
  if (plan.finding.resourceType === 'AccessKey' || plan.targets.roleName)
    verdicts.push(credentialsVerdict(plan, outcomes));
  return verdicts;
}

/** What failed or was held back among the other actions: an unfinished response all the same. */
function problemsOf(outcomes: ActionOutcome[], verdicts: TargetVerdict[]): Verdict['problems'] {
  const said = verdicts.map((v) => v.detail).join('\n');
  const problems: Verdict['problems'] = [];
  for (const outcome of outcomes) {
    if (outcome.status === 'failed' && outcome.why && !said.includes(outcome.why))
      problems.push({ reason: 'failed', detail: `${outcome.action}: ${outcome.why}` });
    for (const held of outcome.held)
      if (!said.includes(held)) problems.push({ reason: 'held back', detail: `${outcome.action}: ${held}` });
  }
  return problems;
}

export function verdictOf(plan: ResponsePlan, found: Identification, outcomes: ActionOutcome[]): Verdict {
  // A rule without actions reports only, and a finding outside the responder's reach is reported, never
  // acted on: nothing is the responder's to cut off.
  if (plan.actions.length === 0 || plan.outside)
    return { outcome: 'identified', wouldBe: null, rehearsal: null, targets: [], problems: [] };
  const targets = targetVerdicts(plan, found, outcomes);
  const problems = problemsOf(outcomes, targets);
  const anyCut = targets.some((t) => t.cut || t.partly);
  const judged: Outcome =
    targets.length === 0
      ? problems.length > 0
        ? 'not-contained'
        : 'identified'
      : targets.every((t) => t.cut) && problems.length === 0
        ? 'contained'
        : anyCut
          ? 'partly-contained'
          : 'not-contained';
  if (!outcomes.some((o) => o.status === 'would'))
    return { outcome: judged, wouldBe: null, rehearsal: null, targets, problems };
  const rehearsal = plan.sample ? 'SAMPLE FINDING' : 'DRY RUN';
  return { outcome: 'identified', wouldBe: judged, rehearsal, targets, problems };
}

/** The first reason, which leads the subject and the first line: what to look at first. */
export function leadingReason(
  verdict: Verdict,
): { reason: Reason; detail: string; target: string | null } | null {
  const target = verdict.targets.find((t) => !t.cut);
  if (target?.reason) return { reason: target.reason, detail: target.detail, target: target.target };
  const problem = verdict.problems[0];
  return problem ? { ...problem, target: null } : null;
}
