/**
 * What identification found but the response must not touch: protected workloads (identified and
 * reported, never isolated, their roles never stripped) and what lies beyond the blast-radius limits
 * (pods isolated, nodes cordoned, instances protected and snapshotted per execution). Instance actions
 * follow the pods and nodes actually contained. Held-back targets are summarised with why, so the
 * notification lists them for a person to decide and the execution state stays small. Pure.
 */
import { matchesLabelSelector } from '../core/selectors.js';
import type { ResponderSettings } from '../core/settings.js';
import type { HeldBack, IdentifiedPod, IdentifiedRole } from './identification.js';

type Limits = ResponderSettings['limits'];

export function protectionOf(
  pod: { namespace: string; labels: Record<string, string> },
  workloads: ResponderSettings['protectedWorkloads'],
): string | null {
  const rule = workloads.find(
    (workload) =>
      workload.namespace === pod.namespace &&
      (workload.labelSelector === undefined || matchesLabelSelector(workload.labelSelector, pod.labels)),
  );
  if (!rule) return null;
  return `protected workload (${rule.namespace}${rule.labelSelector ? ` ${rule.labelSelector}` : ''})`;
}

export type Decided<T> = { acting: T[]; heldBack: { target: T; reason: string }[] };

/** Protected pods are held back; of the others, the first `maxPodsIsolated` are isolated. */
export function scopePods(
  pods: readonly IdentifiedPod[],
  settings: Pick<ResponderSettings, 'protectedWorkloads' | 'limits'>,
): Decided<IdentifiedPod> {
  const { maxPodsIsolated } = settings.limits;
  const decided: Decided<IdentifiedPod> = { acting: [], heldBack: [] };
  for (const pod of pods) {
    const protectedBy = protectionOf(pod, settings.protectedWorkloads);
    if (protectedBy)
      decided.heldBack.push({
        target: pod,
        reason: `${protectedBy}: identified and reported, never isolated`,
      });
    else if (decided.acting.length >= maxPodsIsolated)
      decided.heldBack.push({
        target: pod,
        reason: `over the limit of ${maxPodsIsolated} pods isolated per execution`,
      });
    else decided.acting.push(pod);
  }
  return decided;
}

export type NodeScope = {
  /** Nodes to cordon. */
  cordon: string[];
  /** Nodes whose instances are in scope: those cordoned and those that run an isolated pod. */
  hosts: string[];
  /** Nodes not cordoned, with why. */
  heldBack: { target: string; reason: string }[];
};

/**
 * Which nodes to cordon: those the finding names first, then those that run the most isolated pods, then
 * the most pods of the incident (by name on a tie), up to `maxNodesCordoned`.
 */
export function scopeNodes(
  named: readonly string[],
  pods: { acting: readonly IdentifiedPod[]; all: readonly IdentifiedPod[] },
  limits: Pick<Limits, 'maxNodesCordoned'>,
): NodeScope {
  const count = (list: readonly IdentifiedPod[], name: string) =>
    list.filter((p) => p.nodeName === name).length;
  const candidates = [
    ...new Set([...named, ...pods.all.flatMap((pod) => (pod.nodeName ? [pod.nodeName] : []))]),
  ];
  const ranked = [...candidates].sort(
    (a, b) =>
      Number(named.includes(b)) - Number(named.includes(a)) ||
      count(pods.acting, b) - count(pods.acting, a) ||
      count(pods.all, b) - count(pods.all, a) ||
      a.localeCompare(b),
  );
  const cordon = ranked.slice(0, limits.maxNodesCordoned);
  const hosts = [
    ...new Set([...cordon, ...pods.acting.flatMap((pod) => (pod.nodeName ? [pod.nodeName] : []))]),
  ];
  const reason = `over the limit of ${limits.maxNodesCordoned} nodes cordoned per execution`;
  return {
    cordon,
    hosts,
    heldBack: ranked.slice(limits.maxNodesCordoned).map((target) => ({ target, reason })),
  };
}

/** The instances to act on, in order of priority (named by the finding first), up to `maxInstances`. */
export function scopeInstances(
  ids: readonly string[],
  limits: Pick<Limits, 'maxInstances'>,
): Decided<string> {
  const unique = [...new Set(ids)];
  const reason = `over the limit of ${limits.maxInstances} instances protected and snapshotted per execution`;
  return {
    acting: unique.slice(0, limits.maxInstances),
    heldBack: unique.slice(limits.maxInstances).map((target) => ({ target, reason })),
  };
}

/**
 * A role that a protected pod uses is held back from revocation; one held back already (an IRSA
 * annotation its role does not back, roles.ts) stays so.
 */
export function guardRoles(
  roles: readonly IdentifiedRole[],
  protectedPods: readonly string[],
): IdentifiedRole[] {
  const users = new Set(protectedPods);
  return roles.map((role) => {
    const protectedUsers = role.usedBy.filter((user) => users.has(user));
    return {
      ...role,
      heldBack:
        role.heldBack ??
        (protectedUsers.length > 0 ? `used by a protected workload (${protectedUsers.join(', ')})` : null),
    };
  });
}

/** How many names a held-back group or a role's list of users keeps; the count is always exact. */
export const LISTED = 50;

/** Lists longer than LISTED end with "… and N more". */
export function capped(names: readonly string[], max = LISTED): string[] {
  return names.length <= max ? [...names] : [...names.slice(0, max), `… and ${names.length - max} more`];
}

/** Held-back targets grouped by why, in the order first seen. */
export function summarise(
  kind: HeldBack['kind'],
  entries: readonly { target: string; reason: string }[],
): HeldBack[] {
  const groups = new Map<string, string[]>();
  for (const { target, reason } of entries) groups.set(reason, [...(groups.get(reason) ?? []), target]);
  return [...groups].map(([reason, names]) => ({
    kind,
    reason,
    count: names.length,
    names: names.slice(0, LISTED),
  }));
}
