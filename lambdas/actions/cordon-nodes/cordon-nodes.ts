/**
 * kubernetes:cordon-nodes. Sets `spec.unschedulable` on a node (a JSON merge patch), so nothing new is
 * scheduled on a compromised host; running pods stay, as evidence. Whether the node was already cordoned
 * is written to the incident record before the patch, so release leaves alone a node someone else
 * cordoned, and a retry after a crash still knows the node's state before the incident.
 */
import { z } from 'zod';
import type { Kubernetes } from '../../clients/kubernetes.js';
import {
  type ActionItem,
  type ActionResult,
  heldBack,
  item,
  skippedResult,
  unlessPlanned,
} from '../../core/action-result.js';
import type { IdentifiedNode, TargetInput } from '../../identify/identify.js';
import { type Journal, journaled } from '../../incident/journal.js';
import { settle } from '../../shared/errors.js';

export type CordonInput = TargetInput<IdentifiedNode>;

/** A node's state before containment, as recorded. */
export const NodeBeforeSchema = z.strictObject({ node: z.string().min(1), unschedulable: z.boolean() });
export type NodeBefore = z.infer<typeof NodeBeforeSchema>;

export async function cordonNode(
  input: CordonInput,
  kubernetes: (cluster: string) => Promise<Kubernetes>,
  journal: Journal,
): Promise<ActionResult> {
  const notPlanned = unlessPlanned(input.plan, 'cordon-nodes');
  if (notPlanned) return notPlanned;
  const cluster = input.cluster;
  if (!cluster?.managed) return skippedResult('cordon-nodes', 'no cluster the responder may act on');
  const name = input.target.name;
  const target = `node ${name}`;
  const done = await settle(async () => {
    const kube = await kubernetes(cluster.name);
    const node = await kube.readNode(name);
    if (!node) return item(target, 'skipped', 'the node no longer exists');
    if (node.spec?.unschedulable !== true) {
      const { accountId, region } = input.plan.finding;
      const held = await journal.spend(
        'cordon-nodes',
        'nodes',
        `cluster ${accountId}/${region}/${cluster.name}`,
        target,
      );
      if (held) return heldBack(target, held);
    }
    const current: NodeBefore = { node: name, unschedulable: node.spec?.unschedulable === true };
    return journaled(
      journal,
      { action: 'cordon-nodes', cluster: cluster.name, target },
      current,
      async (before) => {
        if (node.spec?.unschedulable !== true) await kube.patchNode(name, { spec: { unschedulable: true } });
        const verified = (await kube.readNode(name))?.spec?.unschedulable === true;
        const detail = before.unschedulable ? 'already cordoned' : 'cordoned';
        return { item: item(target, verified ? 'ok' : 'failed', detail, { verified, restore: before }) };
      },
    );
  });
  return {
    action: 'cordon-nodes',
    skipped: null,
    items: [done.ok ? done.value : item(target, 'failed', done.error)],
  };
}

/** Release: uncordons a node the responder cordoned; one that was cordoned before is left so. */
export async function uncordonNode(kube: Kubernetes, before: NodeBefore): Promise<ActionItem> {
  const target = `node ${before.node}`;
  if (before.unschedulable) return item(target, 'skipped', 'was cordoned before the incident; left cordoned');
  const node = await kube.readNode(before.node);
  if (!node) return item(target, 'skipped', 'the node no longer exists');
  if (node.spec?.unschedulable === true) await kube.patchNode(before.node, { spec: { unschedulable: null } });
  const verified = (await kube.readNode(before.node))?.spec?.unschedulable !== true;
  return item(target, verified ? 'ok' : 'failed', 'uncordoned', { verified });
}
