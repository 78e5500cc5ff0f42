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

import type { V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { isConflict, type Kubernetes } from '../../clients/kubernetes.js';
import {
  type ActionItem,
  type ActionResult,
  item,
  skippedResult,
  unlessPlanned,
} from '../../core/action-result.js';
import type { ResponsePlan } from '../../core/plan.js';
import {
  allowingPoliciesFor,
  isQuarantinePolicy,
  labelValue,
  QUARANTINE_LABEL,
  QUARANTINE_POLICY,
  quarantinePolicy,
  selects,
} from '../../core/quarantine.js';
import type { Identification, IdentifiedPod } from '../../identify/identify.js';
import { type Journal, journaled } from '../../incident/journal.js';
import { settle } from '../../shared/errors.js';

/** Annotation holding the labels removed from a pod by the stronger tactic, as JSON, for release. */
export const REMOVED_LABELS_ANNOTATION = 'guardduty-responder/removed-labels';

export type IsolateInput = { plan: ResponsePlan; identification: Identification };

/** A pod's labels before containment, as recorded. */
export const PodBeforeSchema = z.strictObject({
  namespace: z.string().min(1),
  pod: z.string().min(1),
  labels: z.record(z.string(), z.string()),
});
export type PodBefore = z.infer<typeof PodBeforeSchema>;
/** The namespace's quarantine policy before containment (null: there was none), as recorded. */
export const PolicyBeforeSchema = z.strictObject({
  namespace: z.string().min(1),
  policy: z
    .strictObject({ spec: z.custom<V1NetworkPolicy['spec']>((spec) => typeof spec === 'object') })
    .nullable(),
});
export type PolicyBefore = z.infer<typeof PolicyBeforeSchema>;

/** Makes sure the namespace's quarantine policy exists as the responder writes it; says what it did. */
async function ensurePolicy(
  kube: Kubernetes,
  namespace: string,
  existing: V1NetworkPolicy | null,
): Promise<{ created: boolean; note: string }> {
  const wanted = quarantinePolicy(namespace) as V1NetworkPolicy;
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

/** Concurrent executions label the same pod: a patch is conditional on the version read, and re-read on 409. */
const PATCH_ATTEMPTS = 5;

/**
 * Labels the pod, as read, unless it carries the label; after a 409 it reads the pod again. Says which
 * value it found there (undefined: none); null when the pod is gone.
 */
async function labelPod(
  kube: Kubernetes,
  read: V1Pod,
  incident: string,
  stripLabels: boolean,
): Promise<{ value: string; found: string | undefined } | null> {
  const namespace = read.metadata?.namespace ?? '';
  const name = read.metadata?.name ?? '';
  let current: V1Pod | null = read;
  for (let attempt = 1; current; attempt++) {
    const labels = current.metadata?.labels ?? {};
    const found = labels[QUARANTINE_LABEL];
    const value = found ?? labelValue(incident);
    const ownLabels = Object.fromEntries(Object.entries(labels).filter(([key]) => key !== QUARANTINE_LABEL));
    const strip = stripLabels && Object.keys(ownLabels).length > 0;
    if (found && !strip) return { value, found };
    const patch: Record<string, string | null> = { [QUARANTINE_LABEL]: value };
    if (strip) for (const key of Object.keys(ownLabels)) patch[key] = null;
    const annotations = strip ? { [REMOVED_LABELS_ANNOTATION]: JSON.stringify(ownLabels) } : undefined;
    try {
      const patched = await kube.patchPod(
        namespace,
        name,
        { labels: patch, annotations },
        current.metadata?.resourceVersion,
      );
      return patched ? { value, found } : null;
    } catch (error) {
      if (!isConflict(error) || attempt >= PATCH_ATTEMPTS) throw error;
    }
    current = await kube.readPod(namespace, name);
  }
  return null;
}

async function isolatePod(
  kube: Kubernetes,
  pod: IdentifiedPod,
  cluster: string,
  incident: string,
  policies: V1NetworkPolicy[],
  stripLabels: boolean,
  journal: Journal,
): Promise<ActionItem> {
  const target = `pod ${pod.namespace}/${pod.name}`;
  const current = await kube.readPod(pod.namespace, pod.name);
  if (!current) return item(target, 'skipped', 'the pod no longer exists');
  const recorded: PodBefore = {
    namespace: pod.namespace,
    pod: pod.name,
    labels: current.metadata?.labels ?? {},
  };
  return journaled(journal, { action: 'isolate-pods', cluster, target }, recorded, async (before) => {
    const labelled = await labelPod(kube, current, incident, stripLabels);
    if (!labelled) return { item: item(target, 'skipped', 'the pod no longer exists') };

    // Read back: the pod carries the label and the namespace's quarantine policy selects it.
    const after = await kube.readPod(pod.namespace, pod.name);
    const policy = await kube.readNetworkPolicy(pod.namespace, QUARANTINE_POLICY);
    const afterLabels = after?.metadata?.labels ?? {};
    const verified =
      afterLabels[QUARANTINE_LABEL] === labelled.value &&
      isQuarantinePolicy(policy) &&
      selects(policy?.spec?.podSelector, afterLabels);
    const caveats = allowingPoliciesFor(policies, afterLabels).map(
      (name) => `NetworkPolicy ${name} also selects the pod and allows traffic the deny-all does not cut`,
    );
    const earlier = labelled.found;
    const removed = Object.keys(before.labels).filter(
      (key) => key !== QUARANTINE_LABEL && !(key in afterLabels),
    );
    const how = !earlier
      ? `labelled ${QUARANTINE_LABEL}=${labelled.value}`
      : earlier === labelValue(incident)
        ? 'already quarantined'
        : `already quarantined by incident ${earlier}`;
    const stripped = removed.length > 0 ? `; removed its labels ${removed.join(', ')}` : '';
    const result = pod.hostNetwork
      ? item(
          target,
          'skipped',
          'labelled, but NOT isolated: a hostNetwork pod uses the node network, which NetworkPolicy does not govern; contain the node (isolate-host, with isolateClusterNodes set)',
          { verified: false, caveats, restore: before },
        )
      : item(target, verified ? 'ok' : 'failed', `${how}${stripped}`, { verified, caveats, restore: before });
    return { item: result, after: { labels: afterLabels } };
  });
}

export async function isolatePods(
  input: IsolateInput,
  kubernetes: (cluster: string) => Promise<Kubernetes>,
  options: { stripPodLabels: boolean },
  journal: Journal,
): Promise<ActionResult> {
  const notPlanned = unlessPlanned(input.plan, 'isolate-pods');
  if (notPlanned) return notPlanned;
  const { cluster, pods } = input.identification;
  if (!cluster?.managed) return skippedResult('isolate-pods', 'no cluster the responder may act on');
  if (!cluster.reachable) return skippedResult('isolate-pods', `cluster ${cluster.name} not reached`);
  if (pods.length === 0) return skippedResult('isolate-pods', 'no pod to isolate was identified');
  const kube = await kubernetes(cluster.name);

  const items: ActionItem[] = [];
  for (const namespace of [...new Set(pods.map((pod) => pod.namespace))]) {
    const inNamespace = pods.filter((pod) => pod.namespace === namespace);
    const policyTarget = `networkpolicy ${namespace}/${QUARANTINE_POLICY}`;
    const prepared = await settle(async () => {
      const policies = await kube.listNetworkPolicies(namespace);
      const existing = policies.find((policy) => policy.metadata?.name === QUARANTINE_POLICY) ?? null;
      const recorded: PolicyBefore = { namespace, policy: existing ? { spec: existing.spec } : null };
      const done = await journaled(
        journal,
        { action: 'isolate-pods', cluster: cluster.name, target: policyTarget },
        recorded,
        async (before) => {
          const { note } = await ensurePolicy(kube, namespace, existing);
          return {
            item: item(policyTarget, 'ok', note, { restore: before }),
            after: { name: QUARANTINE_POLICY },
          };
        },
      );
      return { policies, done };
    });
    if (!prepared.ok) {
      items.push(
        ...inNamespace.map((pod) =>
          item(`pod ${namespace}/${pod.name}`, 'failed', `quarantine policy: ${prepared.error}`),
        ),
      );
      continue;
    }
    items.push(prepared.value.done);
    for (const pod of inNamespace) {
      const isolated = await settle(() =>
        isolatePod(
          kube,
          pod,
          cluster.name,
          input.plan.finding.id,
          prepared.value.policies,
          options.stripPodLabels,
          journal,
        ),
      );
      items.push(
        isolated.ok ? isolated.value : item(`pod ${namespace}/${pod.name}`, 'failed', isolated.error),
      );
    }
  }
  return { action: 'isolate-pods', skipped: null, items };
}

/**
 * Release of a pod: the quarantine label comes off, labels removed from it are put back, the annotation
 * that kept them goes. A label someone changed since is left as it is now.
 */
export async function releasePod(kube: Kubernetes, before: PodBefore): Promise<ActionItem> {
  const target = `pod ${before.namespace}/${before.pod}`;
  const current = await kube.readPod(before.namespace, before.pod);
  if (!current) return item(target, 'skipped', 'the pod no longer exists');
  const labels = current.metadata?.labels ?? {};
  const patch: Record<string, string | null> = {};
  if (QUARANTINE_LABEL in labels) patch[QUARANTINE_LABEL] = null;
  const restored = Object.entries(before.labels).filter(
    ([key]) => key !== QUARANTINE_LABEL && !(key in labels),
  );
  for (const [key, value] of restored) patch[key] = value;
  const annotated = REMOVED_LABELS_ANNOTATION in (current.metadata?.annotations ?? {});
  if (Object.keys(patch).length > 0 || annotated) {
    await kube.patchPod(before.namespace, before.pod, {
      labels: patch,
      annotations: annotated ? { [REMOVED_LABELS_ANNOTATION]: null } : undefined,
    });
  }
  const after = (await kube.readPod(before.namespace, before.pod))?.metadata?.labels ?? {};
  const verified = !(QUARANTINE_LABEL in after) && restored.every(([key, value]) => after[key] === value);
  const detail = `removed ${QUARANTINE_LABEL}${restored.length > 0 ? `; put back labels ${restored.map(([key]) => key).join(', ')}` : ''}`;
  return item(target, verified ? 'ok' : 'failed', detail, { verified });
}

/**
 * Release of a namespace's quarantine policy, once no pod in the namespace carries the quarantine label:
 * deleted when the responder created it, put back as it was when the responder had rewritten it.
 */
export async function releasePolicy(kube: Kubernetes, before: PolicyBefore): Promise<ActionItem> {
  const target = `networkpolicy ${before.namespace}/${QUARANTINE_POLICY}`;
  const quarantined = await kube.listPods(before.namespace, { labelSelector: QUARANTINE_LABEL });
  if (quarantined.length > 0) {
    const names = quarantined.map((pod) => pod.metadata?.name).join(', ');
    return item(target, 'skipped', `kept: pods still quarantined in the namespace (${names})`);
  }
  if (before.policy === null || isQuarantinePolicy(before.policy)) {
    const deleted = await kube.deleteNetworkPolicy(before.namespace, QUARANTINE_POLICY);
    const verified = (await kube.readNetworkPolicy(before.namespace, QUARANTINE_POLICY)) === null;
    return item(target, verified ? 'ok' : 'failed', deleted ? 'deleted' : 'already gone', { verified });
  }
  const existing = await kube.readNetworkPolicy(before.namespace, QUARANTINE_POLICY);
  const body = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: QUARANTINE_POLICY, namespace: before.namespace },
    spec: before.policy.spec,
  } as V1NetworkPolicy;
  if (existing) {
    await kube.replaceNetworkPolicy(before.namespace, QUARANTINE_POLICY, {
      ...body,
      metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion },
    });
  } else {
    await kube.createNetworkPolicy(before.namespace, body);
  }
  return item(target, 'ok', 'put back as it was before the incident', { verified: null });
}
