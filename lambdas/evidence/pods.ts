/**
 * Kubernetes evidence of the pods the response acts on, collected beside isolation (it changes nothing):
 * each pod's owner chain (ReplicaSet → Deployment, Job → CronJob, StatefulSet, DaemonSet, …), its events,
 * the logs of every container (current and previous instance, each bounded: the first
 * `logBytesPerContainer` bytes kept, and the cut marked), its service account, the NetworkPolicies of its
 * namespace, and the nodes to be cordoned. The pod and node objects themselves are captured by Identify,
 * before anything changes them (identify/capture.ts). Every object goes to the evidence bucket with its
 * SHA-256, and into the incident record.
 */
import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import type { Kubernetes } from '../clients/kubernetes.js';
import type { ResponsePlan } from '../core/plan.js';
import type { EvidenceSettings } from '../core/settings.js';
import type { Identification } from '../identify/identify.js';
import type { EvidenceObject } from '../incident/record.js';
import { messageOf } from '../shared/errors.js';
import type { EvidenceWriter } from './writer.js';

export type PodEvidenceInput = { plan: ResponsePlan; identification: Identification; executionArn: string };

/** What one evidence step wrote, and what it could not collect (never a reason to stop containment). */
export type EvidenceResult = {
  step: 'collect-pod-evidence' | 'collect-host-evidence' | 'collect-credential-activity';
  /** What a person reads of it in the notification (what the credentials did); absent for the others. */
  summary?: string[];
  /** Why nothing was collected at all; null when it ran. */
  skipped: string | null;
  bucket: string | null;
  objects: EvidenceObject[];
  problems: string[];
};

/**
 * What an evidence step leaves in the execution state: counts and problems. The objects themselves are
 * in the incident record (the chain of custody), which the notification reads, so the state stays small.
 */
export type EvidenceReport = Omit<EvidenceResult, 'objects'> & { count: number };

const controllerOf = (object: { metadata?: { ownerReferences?: V1OwnerReference[] } } | null) =>
  object?.metadata?.ownerReferences?.find((owner) => owner.controller) ?? null;

/** The owners of a pod up to the top (ReplicaSet, Deployment), each as the API returns it. */
async function ownerChain(kube: Kubernetes, pod: V1Pod, namespace: string) {
  const chain: { kind: string; name: string; object: unknown }[] = [];
  let owner = controllerOf(pod);
  while (owner && chain.length < 5) {
    const object = await kube.readWorkload(owner.kind, namespace, owner.name);
    chain.push({ kind: owner.kind, name: owner.name, object });
    owner = controllerOf(object);
  }
  return chain;
}

async function collectLogs(
  kube: Kubernetes,
  writer: EvidenceWriter,
  pod: V1Pod,
  bound: number,
  problems: string[],
): Promise<void> {
  const namespace = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map(
    (c) => c.name,
  );
  for (const container of containers) {
    for (const previous of [false, true]) {
      const which = previous ? 'previous' : 'current';
      const subject = `logs ${namespace}/${name} ${container} (${which})`;
      try {
        // One byte more than the bound tells whether the log was longer.
        const log = await kube.readPodLog(namespace, name, container, { previous, limitBytes: bound + 1 });
        if (log === null) {
          await writer.put(`kubernetes/logs/${namespace}/${name}/${container}.${which}.log`, '', subject, {
            contentType: 'text/plain',
            note: 'no previous instance of the container: nothing to keep',
          });
          continue;
        }
        const bytes = Buffer.from(log, 'utf8');
        const cut = bytes.length > bound;
        await writer.put(
          `kubernetes/logs/${namespace}/${name}/${container}.${which}.log`,
          cut ? bytes.subarray(0, bound) : bytes,
          subject,
          { contentType: 'text/plain', note: cut ? `cut at ${bound} bytes (the first ${bound} kept)` : null },
        );
      } catch (error) {
        problems.push(`${subject}: ${messageOf(error)}`);
      }
    }
  }
}

export async function collectPodEvidence(
  input: PodEvidenceInput,
  kubernetes: (cluster: string) => Promise<Kubernetes>,
  writer: EvidenceWriter,
  settings: Pick<EvidenceSettings, 'logBytesPerContainer'>,
): Promise<EvidenceResult> {
  const { cluster, pods, nodes } = input.identification;
  const result: EvidenceResult = {
    step: 'collect-pod-evidence',
    skipped: null,
    bucket: writer.bucket,
    objects: writer.written,
    problems: [],
  };
  if (!cluster?.managed) return { ...result, skipped: 'no cluster the responder may act on' };
  if (!cluster.reachable) return { ...result, skipped: `cluster ${cluster.name} not reached` };
  if (pods.length === 0 && nodes.length === 0) return { ...result, skipped: 'no pod or node identified' };
  const kube = await kubernetes(cluster.name);
  const attempt = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      result.problems.push(`${what}: ${messageOf(error)}`);
    }
  };

  for (const identified of pods) {
    const { namespace, name } = identified;
    const pod = await kube.readPod(namespace, name).catch((error: unknown) => {
      result.problems.push(`pod ${namespace}/${name}: ${messageOf(error)}`);
      return null;
    });
    if (!pod) {
      result.problems.push(`pod ${namespace}/${name}: gone before its evidence could be collected`);
      continue;
    }
    const base = `kubernetes/pods/${namespace}/${name}`;
    await attempt(`owners of ${namespace}/${name}`, async () => {
      for (const owner of await ownerChain(kube, pod, namespace))
        await writer.putJson(
          `${base}/owner.${owner.kind}.${owner.name}.json`,
          owner.object,
          `${owner.kind} ${namespace}/${owner.name}`,
          owner.object ? null : 'gone',
        );
    });
    await attempt(`events of ${namespace}/${name}`, async () => {
      const events = await kube.listEvents(namespace, `involvedObject.uid=${identified.uid}`);
      await writer.putJson(`${base}/events.json`, events, `events of pod ${namespace}/${name}`);
    });
    await collectLogs(kube, writer, pod, settings.logBytesPerContainer, result.problems);
    const account = pod.spec?.serviceAccountName;
    if (account)
      await attempt(`service account ${namespace}/${account}`, async () => {
        const object = await kube.readServiceAccount(namespace, account);
        await writer.putJson(
          `${base}/serviceaccount.${account}.json`,
          object,
          `service account ${namespace}/${account}`,
          object ? null : 'gone',
        );
      });
  }
  for (const namespace of [...new Set(pods.map((pod) => pod.namespace))]) {
    await attempt(`NetworkPolicies of ${namespace}`, async () => {
      const policies = await kube.listNetworkPolicies(namespace);
      await writer.putJson(
        `kubernetes/namespaces/${namespace}/networkpolicies.json`,
        policies,
        `NetworkPolicies of ${namespace}`,
      );
    });
  }
  return result;
}
