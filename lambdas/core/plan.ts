/** From a finding to a response plan: what it points at and, per action, whether to run it and why not. */
import type { ActionSpec, AppliesTo } from './action-spec.js';
import { type Finding, isSampleFinding } from './finding.js';
import { type Observed, observedOf } from './observed.js';
import { ruleFor } from './playbook.js';
import {
  clustersOf,
  describeSeverityRange,
  inSeverityRange,
  outsideReach,
  type ResponderSettings,
} from './settings.js';
import { type SeverityLabel, severityLabel } from './severity.js';
import { namesKubernetesWorkload, type Targets, targetsOf } from './targets.js';

/** The reason a sample finding gives for every action: it is planned and reported, never taken. */
export const SAMPLE = 'GuardDuty sample finding: planned and reported, nothing is changed';

/** The reason a dry run gives for an action a real run would take. */
export const DRY_RUN = 'dry run: a real run takes this action; nothing is changed';

export type ActionDecision = 'planned' | 'held-back' | 'not-applicable';

/** An action's name (lambdas/actions/registry.ts lists them). */
export type ActionName = string;

export type PlannedAction = { action: ActionName; decision: ActionDecision; reason: string | null };

export type FindingSummary = {
  id: string;
  arn: string;
  type: string;
  severity: number;
  severityLabel: SeverityLabel;
  title: string;
  accountId: string;
  region: string;
  resourceType: string;
  createdAt: string;
  updatedAt: string;
  count: number;
  /** An attack sequence's signals, `name (severity s, count c)`, at most MAX_SIGNALS; empty otherwise. */
  signals: string[];
  /** What GuardDuty saw (observed.ts); absent in a plan signed before it was summarised. */
  observed?: Observed;
};

const MAX_SIGNALS = 20;

function signalsOf(finding: Finding): string[] {
  const signals = (finding.service.detection?.sequence?.signals ?? []).map((signal) => {
    const facts = [
      signal.severity != null ? `severity ${signal.severity}` : null,
      signal.count != null ? `count ${signal.count}` : null,
    ].filter(Boolean);
    const name = signal.name ?? signal.type ?? signal.uid ?? 'unnamed signal';
    return facts.length > 0 ? `${name} (${facts.join(', ')})` : name;
  });
  return signals.length > MAX_SIGNALS
    ? [...signals.slice(0, MAX_SIGNALS), `… and ${signals.length - MAX_SIGNALS} more`]
    : signals;
}

export type ResponsePlan = {
  finding: FindingSummary;
  sample: boolean;
  /** The playbook rule that chose the actions. */
  rule: string;
  targets: Targets;
  actions: PlannedAction[];
  /**
   * Why the finding is outside the responder's reach (another account or region than those it covers):
   * it is reported, never acted on. Absent or null within reach.
   */
  outside?: string | null;
};

/**
 * Where the responder itself runs: it acts on findings from its own account and its member accounts, in
 * its own region and the configured ones (settings.ts outsideReach).
 */
export type ResponderLocation = { accountId: string; region: string };

function summarize(finding: Finding): FindingSummary {
  return {
    id: finding.id,
    arn: finding.arn,
    type: finding.type,
    severity: finding.severity,
    severityLabel: severityLabel(finding.severity),
    title: finding.title,
    accountId: finding.accountId,
    region: finding.region,
    resourceType: finding.resource.resourceType,
    createdAt: finding.createdAt,
    updatedAt: finding.updatedAt,
    count: finding.service.count ?? 1,
    signals: signalsOf(finding),
    observed: observedOf(finding),
  };
}

/** Whether the finding names something of each kind an action can apply to. */
function named(targets: Targets): Record<AppliesTo, boolean> {
  const instances = targets.instanceIds.length > 0;
  return {
    workload: namesKubernetesWorkload(targets),
    instances,
    'cluster-instances': instances && targets.cluster !== null,
    role: targets.roleName !== null,
  };
}

function decide(
  spec: ActionSpec,
  targets: Targets,
  context: {
    settings: ResponderSettings;
    severity: number;
    sample: boolean;
    foreign: string | null;
    /** The clusters of the finding's account the responder may act on. */
    clusters: string[];
  },
): PlannedAction {
  const action = spec.name;
  const held = (reason: string): PlannedAction => ({ action, decision: 'held-back', reason });
  if (!context.settings.enabledActions.includes(action))
    return held('disabled in the responder configuration');
  const names = named(targets);
  if (!spec.appliesTo.some((kind) => names[kind])) {
    return { action, decision: 'not-applicable', reason: 'the finding names nothing this action applies to' };
  }
  if (context.sample && !context.settings.actOnSampleFindings) {
    return held(SAMPLE);
  }
  if (context.foreign) return held(context.foreign);
  if (!inSeverityRange(context.severity, context.settings.severity)) {
    return held(
      `severity ${context.severity} is outside the responder's range (${describeSeverityRange(context.settings.severity)})`,
    );
  }
  if (spec.changesCluster && targets.cluster !== null && !context.clusters.includes(targets.cluster)) {
    return held(`cluster ${targets.cluster} is not one the responder may act on`);
  }
  if (spec.cutsClusterNodes && targets.cluster !== null && !context.settings.isolateClusterNodes) {
    return held(
      `the instance is a node of cluster ${targets.cluster}: isolating it cuts every pod on it and its kubelet off the API server (set isolateClusterNodes to isolate nodes)`,
    );
  }
  // Last, so that a dry run holds back only what a real run would do, and says every other reason as it.
  if (context.settings.dryRun) return held(DRY_RUN);
  return { action, decision: 'planned', reason: null };
}

/** The plan for a finding, with the registered actions' specs (lambdas/actions/registry.ts). */
export function planResponse(
  finding: Finding,
  settings: ResponderSettings,
  location: ResponderLocation,
  specs: readonly ActionSpec[],
): ResponsePlan {
  const targets = targetsOf(finding);
  const rule = ruleFor(settings.playbook, finding.type);
  const sample = isSampleFinding(finding);
  const foreign = outsideReach(settings, finding, location);
  return {
    finding: summarize(finding),
    sample,
    rule: rule.name,
    targets,
    outside: foreign,
    actions: rule.actions.map((action) =>
      decide(specOf(specs, action), targets, {
        settings,
        severity: finding.severity,
        sample,
        foreign,
        clusters: clustersOf(settings, finding.accountId, location.accountId),
      }),
    ),
  };
}

export const plannedActions = (plan: ResponsePlan): ActionName[] =>
  plan.actions.filter((entry) => entry.decision === 'planned').map((entry) => entry.action);

/** The spec of a registered action; a name the settings schema let through is always one. */
export function specOf(specs: readonly ActionSpec[], action: ActionName): ActionSpec {
  const spec = specs.find((candidate) => candidate.name === action);
  if (!spec) throw new Error(`no action is registered as ${action}`);
  return spec;
}
