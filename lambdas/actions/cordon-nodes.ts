/**
 * kubernetes:cordon-nodes. Sets `spec.unschedulable` on a node (a JSON merge patch), so nothing new is
 * scheduled on a compromised host; running pods stay, as evidence. Records whether the node was already
 * cordoned, so release leaves alone a node someone else cordoned.
 */
import type { Kubernetes } from '../clients/kubernetes.js';
import { type ActionResult, item, skippedResult, unlessPlanned } from '../core/action-result.js';
import type { ResponsePlan } from '../core/plan.js';
import type { Identification, IdentifiedNode } from '../identify/identify.js';
import { settle } from '../shared/errors.js';

export type CordonInput = { plan: ResponsePlan; cluster: Identification['cluster']; target: IdentifiedNode };

export async function cordonNode(
  input: CordonInput,
  kubernetes: (cluster: string) => Promise<Kubernetes>,
): Promise<ActionResult> {
  const notPlanned = unlessPlanned(input.plan, 'cordon-nodes');
  if (notPlanned) return notPlanned;
  if (!input.cluster?.managed) return skippedResult('cordon-nodes', 'no cluster the responder may act on');
  const name = input.target.name;
  const target = `node ${name}`;
  if (input.target.heldBack) {
    return {
      action: 'cordon-nodes',
      skipped: null,
      items: [item(target, 'skipped', `held back: ${input.target.heldBack}`)],
    };
  }
  const done = await settle(async () => {
    const kube = await kubernetes(input.cluster?.name ?? '');
    const node = await kube.readNode(name);
    if (!node) return item(target, 'skipped', 'the node no longer exists');
    const alreadyCordoned = node.spec?.unschedulable === true;
    if (!alreadyCordoned) await kube.patchNode(name, { spec: { unschedulable: true } });
    const verified = (await kube.readNode(name))?.spec?.unschedulable === true;
    return item(target, verified ? 'ok' : 'failed', alreadyCordoned ? 'already cordoned' : 'cordoned', {
      verified,
      restore: { node: name, alreadyCordoned },
    });
  });
  return {
    action: 'cordon-nodes',
    skipped: null,
    items: [done.ok ? done.value : item(target, 'failed', done.error)],
  };
}
