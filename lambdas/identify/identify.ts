/**
 * Identification: resolve a plan's targets against the cluster and the account. The finding's pods
 * (pods.ts), then the nodes and EC2 instances behind the pods the response acts on (instances.ts), and
 * each pod's own IAM role (roles.ts). EC2 findings start from the instance and, when it is a node of a
 * cluster the responder may act on, find its node and the pods on it. The guards (guards.ts) decide
 * what lies within the blast-radius limits before the nodes and instances behind it are looked up.
 * Whatever is gone is reported in `notFound`; a failing lookup is reported in `errors` with the actions
 * it leaves incomplete, never thrown.
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { AwsReader, InstanceDescription } from '../clients/aws.js';
import type { Kubernetes } from '../clients/kubernetes.js';
import type { ResponsePlan } from '../core/plan.js';
import { instanceIdFromProviderId } from '../core/selectors.js';
import type { ResponderSettings } from '../core/settings.js';
import { clusterFromInstanceTags } from '../core/targets.js';
import { checkEnforcement } from './enforcement.js';
import {
  capped,
  type Decided,
  guardRoles,
  type NodeScope,
  scopeInstances,
  scopeNodes,
  scopePods,
  summarise,
} from './guards.js';
import {
  EVERY_ACTION,
  Findings,
  type Identification,
  type IdentifiedCluster,
  type IdentifiedNode,
  type IdentifiedPod,
  nodeFacts,
} from './identification.js';
import { resolveInstances } from './instances.js';
import { resolvePods } from './pods.js';
import { resolvePodRoles } from './roles.js';

export * from './identification.js';

export type IdentifyPorts = {
  /** The cluster's API, for a cluster the responder may act on. */
  kubernetes: (clusterName: string) => Promise<Kubernetes>;
  aws: AwsReader;
  /** Keeps the pod and node objects as read, before any action changes them; none without a bucket. */
  capture?: (pods: readonly V1Pod[], nodes: readonly V1Node[]) => Promise<number>;
};

type Settings = Pick<ResponderSettings, 'clusters' | 'protectedWorkloads' | 'limits'>;

async function nodeOfInstance(kube: Kubernetes, instance: InstanceDescription): Promise<V1Node | null> {
  const isIt = (node: V1Node | null) =>
    instanceIdFromProviderId(node?.spec?.providerID) === instance.instanceId;
  // EKS names nodes after the instance's private DNS name unless the subnet uses resource-based names.
  const byName = instance.privateDnsName ? await kube.readNode(instance.privateDnsName) : null;
  if (isIt(byName)) return byName;
  return (await kube.listNodes()).find(isIt) ?? null;
}

/** What the cluster side decided: the pods to isolate, the nodes to cordon and the nodes read. */
type ClusterScope = { pods: Decided<IdentifiedPod>; nodes: NodeScope; read: Map<string, IdentifiedNode> };

const noClusterScope = (): ClusterScope => ({
  pods: { acting: [], heldBack: [] },
  nodes: { cordon: [], hosts: [], heldBack: [] },
  read: new Map(),
});

async function resolveCluster(
  kube: Kubernetes,
  cluster: IdentifiedCluster,
  plan: ResponsePlan,
  nodeInstances: InstanceDescription[],
  settings: Settings,
  aws: AwsReader,
  found: Findings,
): Promise<ClusterScope> {
  const result = found.result;
  // A failed pod lookup (a denied read, a deleted namespace) must not keep the named node from being found.
  const podsLooked = await found.attempt('pods', EVERY_ACTION, () => resolvePods(kube, plan.targets, found));
  if (kube.failure) return noClusterScope();
  cluster.reachable = podsLooked;
  // Never fails the lookups: a refused or failed listing reads as "could not be told" (not enforced).
  if (result.pods.length > 0) cluster.networkPolicy = await checkEnforcement(kube, cluster.name);

  const named: IdentifiedNode[] = [];
  for (const instance of nodeInstances) {
    await found.attempt(`node of instance ${instance.instanceId}`, ['nodes'], async () => {
      const node = await nodeOfInstance(kube, instance);
      if (!node?.metadata?.name) {
        found.missing(
          'node',
          instance.instanceId,
          'the instance is tagged as a node of this cluster but no node has it',
        );
        return;
      }
      named.push(nodeFacts(node));
      found.raw.nodes.set(node.metadata.name, node);
      cluster.reachable = true;
      if (result.matchedBy !== null) return;
      const nodeName = node.metadata.name;
      const onNode = await kube.listPods(null, { fieldSelector: `spec.nodeName=${nodeName}` });
      result.podsOnNodes.push(
        ...onNode.map((pod) => ({
          name: pod.metadata?.name ?? '',
          namespace: pod.metadata?.namespace ?? '',
          nodeName,
        })),
      );
    });
  }

  const pods = scopePods(result.pods, settings);
  const nodes = scopeNodes(
    named.map((node) => node.name),
    { acting: pods.acting, all: result.pods },
    settings.limits,
  );
  const read = new Map(named.map((node) => [node.name, node]));
  for (const name of nodes.hosts) {
    if (read.has(name) || kube.failure) continue;
    await found.attempt(`node ${name}`, ['nodes', 'instances'], async () => {
      const node = await kube.readNode(name);
      if (node) read.set(name, nodeFacts(node));
      else found.missing('node', name, 'no such node (scaled in or replaced)');
    });
  }
  if (!kube.failure)
    await resolvePodRoles(kube, aws, { name: cluster.name, accountId: plan.finding.accountId }, found);
  return { pods, nodes, read };
}

export async function identify(
  plan: ResponsePlan,
  settings: Settings,
  ports: IdentifyPorts,
): Promise<Identification> {
  const found = new Findings();
  const result = found.result;
  const { targets } = plan;

  // The finding's own instances come first: for an EC2 finding their tags tell which cluster they serve.
  const described = new Map<string, InstanceDescription>();
  await found.attempt('instances named by the finding', EVERY_ACTION, async () => {
    for (const instance of await ports.aws.describeInstances(targets.instanceIds)) {
      described.set(instance.instanceId, instance);
    }
  });
  const taggedCluster =
    [...described.values()].map((i) => clusterFromInstanceTags(i.tags)).find(Boolean) ?? null;
  const clusterName = targets.cluster ?? taggedCluster;

  let scope = noClusterScope();
  if (clusterName) {
    const cluster: IdentifiedCluster = {
      name: clusterName,
      managed: settings.clusters.includes(clusterName),
      reachable: false,
      endpoint: null,
      error: null,
    };
    result.cluster = cluster;
    if (cluster.managed) {
      const nodeInstances = [...described.values()].filter(
        (i) => clusterFromInstanceTags(i.tags) === clusterName,
      );
      let kube: Kubernetes | null = null;
      await found.attempt(`cluster ${clusterName}`, EVERY_ACTION, async () => {
        kube = await ports.kubernetes(clusterName);
        cluster.endpoint = kube.server;
        scope = await resolveCluster(kube, cluster, plan, nodeInstances, settings, ports.aws, found);
      });
      const failure = (kube as Kubernetes | null)?.failure ?? null;
      if (failure || kube === null) {
        cluster.reachable = false;
        cluster.error = failure?.message ?? result.errors.at(-1)?.message ?? 'not reached';
      }
    }
  }

  // Instances: those the finding names, then those behind the nodes cordoned and the pods isolated.
  const { pods, nodes, read } = scope;
  const instanceOf = (name: string) => read.get(name)?.instanceId ?? null;
  const behind = [...nodes.cordon, ...nodes.hosts].flatMap((name) => instanceOf(name) ?? []);
  const instances = scopeInstances([...targets.instanceIds, ...behind], settings.limits);
  const nodeOf = (instanceId: string) =>
    [...read.values()].find((node) => node.instanceId === instanceId) ?? null;
  await found.attempt('instances', ['instances', 'roles'], () =>
    resolveInstances(
      ports.aws,
      instances.acting.map((instanceId) => ({ instanceId, node: nodeOf(instanceId) })),
      described,
      found,
    ),
  );

  if (targets.roleName) {
    found.addRole({ name: targets.roleName, arn: null }, 'access-key', "the finding's access key");
    // Who else holds credentials for a role named by an access key cannot be told from here.
    const role = result.roles.find((r) => r.name === targets.roleName && r.arn === null);
    if (role) role.usedOutsideIncident = null;
  }

  const cordon = nodes.cordon.flatMap((name) => read.get(name) ?? []);
  const capture = ports.capture;
  if (capture && (pods.acting.length > 0 || cordon.length > 0)) {
    await found.attempt(
      'evidence: pod and node objects',
      [],
      async () => {
        result.evidenceKept = await capture(
          pods.acting.flatMap((pod) => found.raw.pods.get(pod.uid) ?? []),
          cordon.flatMap((node) => found.raw.nodes.get(node.name) ?? []),
        );
      },
      'not kept as evidence',
    );
  }

  const podName = (pod: IdentifiedPod) => `${pod.namespace}/${pod.name}`;
  const protectedPods = pods.heldBack
    .filter((held) => held.reason.startsWith('protected'))
    .map((held) => `pod ${podName(held.target)}`);
  return {
    ...result,
    pods: pods.acting,
    nodes: cordon,
    hosts: result.instances.filter((instance) => targets.instanceIds.includes(instance.instanceId)),
    roles: guardRoles(result.roles, protectedPods).map((role) => ({
      ...role,
      usedBy: capped(role.usedBy),
      usedOutsideIncident: role.usedOutsideIncident && capped(role.usedOutsideIncident),
    })),
    heldBack: [
      ...summarise(
        'pod',
        pods.heldBack.map(({ target, reason }) => ({ target: podName(target), reason })),
      ),
      ...summarise('node', nodes.heldBack),
      ...summarise('instance', instances.heldBack),
    ],
  };
}
