/**
 * What identification found but the response must not touch: protected workloads (identified and
 * reported, never isolated, their roles never stripped) and what lies beyond the blast-radius limits
 * (pods isolated and nodes cordoned per execution). Held-back targets stay in the identification, with
 * why, so the notification lists them for a person to decide. Pure.
 */
import { matchesLabelSelector } from '../core/selectors.js';
import type { ResponderSettings } from '../core/settings.js';
import type { Identification } from './identify.js';

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

export function applyGuards(
  found: Identification,
  settings: Pick<ResponderSettings, 'protectedWorkloads' | 'limits'>,
): Identification {
  const { maxPodsIsolated, maxNodesCordoned } = settings.limits;
  let isolating = 0;
  const pods = found.pods.map((pod) => {
    const protectedBy = protectionOf(pod, settings.protectedWorkloads);
    if (protectedBy) return { ...pod, heldBack: `${protectedBy}: identified and reported, never isolated` };
    isolating++;
    return isolating > maxPodsIsolated
      ? { ...pod, heldBack: `over the limit of ${maxPodsIsolated} pods isolated per execution` }
      : { ...pod, heldBack: null };
  });

  // Nodes that run the most pods of the incident come first; a node named by the finding counts as one.
  const weight = (name: string) => pods.filter((pod) => pod.nodeName === name).length;
  const ranked = [...found.nodes].sort(
    (a, b) => weight(b.name) - weight(a.name) || a.name.localeCompare(b.name),
  );
  const allowed = new Set(ranked.slice(0, maxNodesCordoned).map((node) => node.name));
  const nodes = found.nodes.map((node) => ({
    ...node,
    heldBack: allowed.has(node.name)
      ? null
      : `over the limit of ${maxNodesCordoned} nodes cordoned per execution`,
  }));

  const protectedUsers = new Set(
    pods
      .filter((pod) => pod.heldBack?.startsWith('protected'))
      .map((pod) => `pod ${pod.namespace}/${pod.name}`),
  );
  const roles = found.roles.map((role) => {
    const users = role.usedBy.filter((user) => protectedUsers.has(user));
    return {
      ...role,
      heldBack: users.length > 0 ? `used by a protected workload (${users.join(', ')})` : null,
    };
  });
  return { ...found, pods, nodes, roles };
}
