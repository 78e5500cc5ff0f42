/**
 * The four ways the EKS incident-response practice finds a finding's pods, most specific first: the pod
 * by name, the workload's own pods (through its selector and owner references), the pods of a service
 * account, the pods of the finding's namespace that run its image. Pods are never listed cluster-wide.
 */
import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import type { Controller, Kubernetes } from '../clients/kubernetes.js';
import { isKubernetesName, labelSelectorQuery, normalizeImage } from '../core/selectors.js';
import type { NamedWorkload } from '../core/sequence.js';
import type { Targets } from '../core/targets.js';
import { type Findings, podFacts } from './identification.js';

const ownedBy =
  (uids: ReadonlySet<string>) => (object: { metadata?: { ownerReferences?: V1OwnerReference[] } }) =>
    (object.metadata?.ownerReferences ?? []).some((owner) => uids.has(owner.uid));

async function podsOfController(kube: Kubernetes, controller: Controller): Promise<V1Pod[]> {
  const { namespace } = controller;
  if (controller.kind === 'CronJob') {
    const jobs = (await kube.listJobs(namespace)).filter(ownedBy(new Set([controller.uid])));
    const pods: V1Pod[] = [];
    for (const job of jobs) {
      if (!job.spec?.selector || !job.metadata?.uid) continue;
      const jobPods = await kube.listPods(namespace, {
        labelSelector: labelSelectorQuery(job.spec.selector),
      });
      pods.push(...jobPods.filter(ownedBy(new Set([job.metadata.uid]))));
    }
    return pods;
  }
  if (!controller.selector)
    throw new Error(`${controller.kind} ${namespace}/${controller.name} has no selector`);
  const labelSelector = labelSelectorQuery(controller.selector);
  let owners = new Set([controller.uid]);
  if (controller.kind === 'Deployment') {
    // A Deployment's pods belong to its ReplicaSets; the selector alone could also match another owner's pods.
    const replicaSets = (await kube.listReplicaSets(namespace, labelSelector)).filter(ownedBy(owners));
    owners = new Set(replicaSets.flatMap((rs) => (rs.metadata?.uid ? [rs.metadata.uid] : [])));
    if (owners.size === 0) return [];
  }
  return (await kube.listPods(namespace, { labelSelector })).filter(ownedBy(owners));
}

/** A pod by name, or a controller's pods; the first controller found is the identification's workload. */
async function resolveWorkload(kube: Kubernetes, named: NamedWorkload, found: Findings): Promise<void> {
  const { namespace, kind, name } = named;
  if (!isKubernetesName(namespace)) {
    found.missing('namespace', namespace, 'not a valid Kubernetes namespace name');
    return;
  }
  if (kind === 'Pod') {
    const pod = isKubernetesName(name) ? await kube.readPod(namespace, name) : null;
    if (pod) found.addPods([pod]);
    else found.missing('pod', `${namespace}/${name}`, 'no such pod (already deleted, or not a valid name)');
    return;
  }
  const controller = isKubernetesName(name) ? await kube.readController(kind, namespace, name) : null;
  if (!controller) {
    found.missing('workload', `${kind} ${namespace}/${name}`, 'no such workload');
    return;
  }
  found.result.workload ??= { kind, name, namespace, uid: controller.uid };
  const pods = await podsOfController(kube, controller);
  if (pods.length === 0) found.missing('pod', `${kind} ${namespace}/${name}`, 'the workload has no pods');
  found.addPods(pods);
}

/** The finding's pods, then those of the further workloads an attack sequence names. */
export async function resolvePods(kube: Kubernetes, targets: Targets, found: Findings): Promise<void> {
  await resolveFindingPods(kube, targets, found);
  for (const workload of targets.otherWorkloads) await resolveWorkload(kube, workload, found);
}

async function resolveFindingPods(kube: Kubernetes, targets: Targets, found: Findings): Promise<void> {
  const namespace = targets.namespace;
  const result = found.result;
  if (namespace === null) {
    found.missing(
      'namespace',
      '(none)',
      'the finding names no namespace, so its workload cannot be looked up',
    );
    return;
  }
  if (!isKubernetesName(namespace)) {
    found.missing('namespace', namespace, 'not a valid Kubernetes namespace name');
    return;
  }
  if (targets.pods.length > 0) {
    result.matchedBy = 'pod';
    for (const name of targets.pods) await resolveWorkload(kube, { namespace, kind: 'Pod', name }, found);
  } else if (targets.workload) {
    result.matchedBy = 'workload';
    await resolveWorkload(kube, { namespace, ...targets.workload }, found);
  } else if (targets.serviceAccount) {
    result.matchedBy = 'service-account';
    const account = targets.serviceAccount;
    const pods = isKubernetesName(account)
      ? await kube.listPods(namespace, { fieldSelector: `spec.serviceAccountName=${account}` })
      : [];
    if (pods.length === 0)
      found.missing('pod', `${namespace}/${account}`, 'no pod runs as this service account');
    found.addPods(pods);
  } else if (targets.images.length > 0) {
    result.matchedBy = 'image';
    // No server-side selector exists for images: list the finding's namespace (never the whole cluster).
    const wanted = new Set(targets.images.map(normalizeImage));
    const pods = (await kube.listPods(namespace, {})).filter((pod) =>
      podFacts(pod).images.some((image) => wanted.has(normalizeImage(image))),
    );
    if (pods.length === 0)
      found.missing('pod', `${namespace} (${targets.images.join(', ')})`, 'no pod runs this image');
    found.addPods(pods);
  }
}
