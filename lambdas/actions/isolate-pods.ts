/**
 * kubernetes:isolate-pods. Labels each affected pod with the quarantine label (value: the incident id)
 * and ensures, in each namespace, the one deny-all NetworkPolicy that selects that label
 * (policyTypes Ingress and Egress, no rules). Idempotent: a second run changes nothing.
 *
 * NetworkPolicies are a union of allows, so a policy that already selects the pod and allows traffic
 * keeps allowing it: such policies are reported as caveats, and with `stripPodLabels` the pod's own
 * labels are removed (kept in an annotation for release) so that only the quarantine policy selects it.
 * A hostNetwork pod shares the node's network and is not governed by NetworkPolicy: reported, not isolated.
 */
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import type { Kubernetes } from '../clients/kubernetes.js';
import {
  type ActionItem,
  type ActionResult,
  item,
  skippedResult,
  unlessPlanned,
} from '../core/action-result.js';
import type { ResponsePlan } from '../core/plan.js';
import {
  allowingPoliciesFor,
  isQuarantinePolicy,
  labelValue,
  QUARANTINE_LABEL,
  QUARANTINE_POLICY,
  quarantinePolicy,
  selects,
} from '../core/quarantine.js';
import type { Identification, IdentifiedPod } from '../identify/identify.js';
import { settle } from '../shared/errors.js';

/** Annotation holding the labels removed from a pod by the stronger tactic, as JSON, for release. */
export const REMOVED_LABELS_ANNOTATION = 'guardduty-responder/removed-labels';

export type IsolateInput = { plan: ResponsePlan; identification: Identification };

/** Makes sure the namespace's quarantine policy exists as the responder writes it; says what it did. */
async function ensurePolicy(
  kube: Kubernetes,
  namespace: string,
): Promise<{ created: boolean; note: string }> {
  const wanted = quarantinePolicy(namespace) as V1NetworkPolicy;
  const existing = await kube.readNetworkPolicy(namespace, QUARANTINE_POLICY);
  if (isQuarantinePolicy(existing)) return { created: false, note: 'quarantine policy already in place' };
  if (existing) {
    await kube.replaceNetworkPolicy(namespace, QUARANTINE_POLICY, {
      ...wanted,
      metadata: { ...wanted.metadata, resourceVersion: existing.metadata?.resourceVersion },
    });
    return { created: false, note: 'quarantine policy had been modified; restored to deny-all' };
  }
  // Another execution may create it between our read and our create: 409 means it is there.
  const created = await kube.createNetworkPolicy(namespace, wanted);
  return {
    created: created !== null,
    note: created ? 'quarantine policy created' : 'quarantine policy created concurrently',
  };
}

async function isolatePod(
  kube: Kubernetes,
  pod: IdentifiedPod,
  incident: string,
  policies: V1NetworkPolicy[],
  stripLabels: boolean,
): Promise<ActionItem> {
  const target = `pod ${pod.namespace}/${pod.name}`;
  const current = await kube.readPod(pod.namespace, pod.name);
  if (!current) return item(target, 'skipped', 'the pod no longer exists');
  const labels = current.metadata?.labels ?? {};
  const existingIncident = labels[QUARANTINE_LABEL];
  const value = existingIncident ?? labelValue(incident);

  const ownLabels = Object.fromEntries(Object.entries(labels).filter(([key]) => key !== QUARANTINE_LABEL));
  const strip = stripLabels && Object.keys(ownLabels).length > 0;
  if (!existingIncident || strip) {
    const patch: Record<string, string | null> = { [QUARANTINE_LABEL]: value };
    if (strip) for (const key of Object.keys(ownLabels)) patch[key] = null;
    const annotations = strip ? { [REMOVED_LABELS_ANNOTATION]: JSON.stringify(ownLabels) } : undefined;
    const patched = await kube.patchPod(pod.namespace, pod.name, { labels: patch, annotations });
    if (!patched) return item(target, 'skipped', 'the pod no longer exists');
  }

  // Read back: the pod carries the label and the namespace's quarantine policy selects it.
  const after = await kube.readPod(pod.namespace, pod.name);
  const policy = await kube.readNetworkPolicy(pod.namespace, QUARANTINE_POLICY);
  const afterLabels = after?.metadata?.labels ?? {};
  const verified =
    afterLabels[QUARANTINE_LABEL] === value &&
    isQuarantinePolicy(policy) &&
    selects(policy?.spec?.podSelector, afterLabels);
  const allowing = allowingPoliciesFor(policies, afterLabels);
  const caveats = allowing.map(
    (name) => `NetworkPolicy ${name} also selects the pod and allows traffic the deny-all does not cut`,
  );
  const restore = {
    namespace: pod.namespace,
    pod: pod.name,
    label: { [QUARANTINE_LABEL]: value },
    addedLabel: !existingIncident,
    removedLabels: strip ? ownLabels : {},
  };
  if (pod.hostNetwork) {
    return item(
      target,
      'skipped',
      'labelled, but NOT isolated: a hostNetwork pod uses the node network, which NetworkPolicy does not govern; contain the node',
      {
        verified: false,
        caveats,
        restore,
      },
    );
  }
  const how = !existingIncident
    ? `labelled ${QUARANTINE_LABEL}=${value}`
    : existingIncident === labelValue(incident)
      ? 'already quarantined'
      : `already quarantined by incident ${existingIncident}`;
  const stripped = strip ? `; removed its labels ${Object.keys(ownLabels).join(', ')}` : '';
  return item(target, verified ? 'ok' : 'failed', `${how}${stripped}`, { verified, caveats, restore });
}

export async function isolatePods(
  input: IsolateInput,
  kubernetes: (cluster: string) => Promise<Kubernetes>,
  options: { stripPodLabels: boolean },
): Promise<ActionResult> {
  const notPlanned = unlessPlanned(input.plan, 'isolate-pods');
  if (notPlanned) return notPlanned;
  const { cluster, pods } = input.identification;
  if (!cluster?.managed) return skippedResult('isolate-pods', 'no cluster the responder may act on');
  if (pods.length === 0) return skippedResult('isolate-pods', 'no pod was identified (already gone?)');
  const kube = await kubernetes(cluster.name);

  const items: ActionItem[] = pods.flatMap((pod) =>
    pod.heldBack ? [item(`pod ${pod.namespace}/${pod.name}`, 'skipped', `held back: ${pod.heldBack}`)] : [],
  );
  const toIsolate = pods.filter((pod) => pod.heldBack === null);
  for (const namespace of [...new Set(toIsolate.map((pod) => pod.namespace))]) {
    const inNamespace = toIsolate.filter((pod) => pod.namespace === namespace);
    const prepared = await settle(async () => {
      const policies = await kube.listNetworkPolicies(namespace);
      return { policies, policy: await ensurePolicy(kube, namespace) };
    });
    if (!prepared.ok) {
      items.push(
        ...inNamespace.map((pod) =>
          item(`pod ${namespace}/${pod.name}`, 'failed', `quarantine policy: ${prepared.error}`),
        ),
      );
      continue;
    }
    items.push(
      item(`networkpolicy ${namespace}/${QUARANTINE_POLICY}`, 'ok', prepared.value.policy.note, {
        restore: { namespace, name: QUARANTINE_POLICY, created: prepared.value.policy.created },
      }),
    );
    for (const pod of inNamespace) {
      const isolated = await settle(() =>
        isolatePod(kube, pod, input.plan.finding.id, prepared.value.policies, options.stripPodLabels),
      );
      items.push(
        isolated.ok ? isolated.value : item(`pod ${namespace}/${pod.name}`, 'failed', isolated.error),
      );
    }
  }
  return { action: 'isolate-pods', skipped: null, items };
}
