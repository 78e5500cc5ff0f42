/**
 * Identification: resolve a plan's targets against the cluster and the account. The four ways the EKS
 * incident-response practice names (pod name, workload, service account, image), then pods → nodes →
 * EC2 instances → Auto Scaling groups, instance-profile roles and EBS volumes, and each pod's own IAM
 * role (IRSA annotation or EKS Pod Identity). EC2 findings start from the instance and, when it is a node
 * of a cluster the responder may act on, find its node and the pods on it.
 * Whatever is gone is reported in `notFound`; a failing lookup is reported in `errors`, never thrown.
 */
import type { V1Node, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import {
  type AttachedVolume,
  type AwsReader,
  type InstanceDescription,
  nameFromArn,
  type PodIdentityAssociation,
  type RoleRef,
} from '../clients/aws.js';
import type { Controller, Kubernetes } from '../clients/kubernetes.js';
import type { ActionName } from '../core/actions.js';
import type { ResponsePlan } from '../core/plan.js';
import {
  instanceIdFromProviderId,
  isKubernetesName,
  labelSelectorQuery,
  normalizeImage,
} from '../core/selectors.js';
import type { ResponderSettings } from '../core/settings.js';
import { clusterFromInstanceTags, type Targets } from '../core/targets.js';
import { messageOf } from '../shared/errors.js';
import { applyGuards } from './guards.js';

export type MatchedBy = 'pod' | 'workload' | 'service-account' | 'image';

export type IdentifiedPod = {
  name: string;
  namespace: string;
  uid: string;
  nodeName: string | null;
  serviceAccount: string | null;
  hostNetwork: boolean;
  phase: string;
  labels: Record<string, string>;
  images: string[];
  owner: { kind: string; name: string } | null;
  /** Why the response leaves this pod alone (protected workload, over the limit); null when it may act. */
  heldBack: string | null;
};

export type IdentifiedNode = {
  name: string;
  providerId: string | null;
  instanceId: string | null;
  unschedulable: boolean;
  karpenter: boolean;
  /** Why cordon-nodes leaves this node alone (over the limit); null when it may act. */
  heldBack: string | null;
};

export type IdentifiedInstance = {
  instanceId: string;
  state: string;
  nodeName: string | null;
  cluster: string | null;
  autoScalingGroup: string | null;
  karpenter: boolean;
  instanceProfileArn: string | null;
  role: RoleRef | null;
  volumes: AttachedVolume[];
};

export type RoleSource = 'irsa' | 'pod-identity' | 'instance-profile' | 'access-key';
export type IdentifiedRole = {
  name: string;
  arn: string | null;
  sources: RoleSource[];
  /** Pods and instances of the incident that use the role. */
  usedBy: string[];
  /**
   * Who else uses it: other pods of the same service account, other service accounts (IRSA annotation or
   * Pod Identity), other instances with the same instance profile. Null when that could not be told.
   */
  usedOutsideIncident: string[] | null;
  /** Why revoke-iam leaves this role alone (a protected workload uses it); null when it may act. */
  heldBack: string | null;
};

export type NotFound = {
  kind: 'pod' | 'workload' | 'service-account' | 'node' | 'instance' | 'instance-profile' | 'namespace';
  name: string;
  detail: string;
};

export type Identification = {
  cluster: { name: string; managed: boolean; reachable: boolean } | null;
  matchedBy: MatchedBy | null;
  workload: { kind: Controller['kind']; name: string; namespace: string; uid: string } | null;
  /** The pods the finding is about: what isolation acts on. */
  pods: IdentifiedPod[];
  /** Other pods on a node named by an EC2 finding: reported, not isolated. */
  podsOnNodes: { name: string; namespace: string; nodeName: string }[];
  nodes: IdentifiedNode[];
  instances: IdentifiedInstance[];
  roles: IdentifiedRole[];
  notFound: NotFound[];
  errors: { step: string; message: string }[];
};

/** What the Identify step hands to the rest of the state machine; `planned` drives its first choice. */
export type IdentifyOutput = { plan: ResponsePlan; planned: ActionName[]; identification: Identification };

/** What a Map iteration gives an action that works on one identified target (a node, an instance). */
export type TargetInput<T> = { plan: ResponsePlan; cluster: Identification['cluster']; target: T };

export type IdentifyPorts = {
  /** The cluster's API, for a cluster the responder may act on. */
  kubernetes: (clusterName: string) => Promise<Kubernetes>;
  aws: AwsReader;
};

const IRSA_ANNOTATION = 'eks.amazonaws.com/role-arn';
const KARPENTER_KEYS = ['karpenter.sh/nodepool', 'karpenter.sh/provisioner-name', 'karpenter.sh/managed-by'];

const ownedBy =
  (uids: ReadonlySet<string>) => (object: { metadata?: { ownerReferences?: V1OwnerReference[] } }) =>
    (object.metadata?.ownerReferences ?? []).some((owner) => uids.has(owner.uid));

function podFacts(pod: V1Pod): IdentifiedPod {
  const controller = pod.metadata?.ownerReferences?.find((owner) => owner.controller) ?? null;
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    uid: pod.metadata?.uid ?? '',
    nodeName: pod.spec?.nodeName ?? null,
    serviceAccount: pod.spec?.serviceAccountName ?? null,
    hostNetwork: pod.spec?.hostNetwork === true,
    phase: pod.status?.phase ?? 'Unknown',
    labels: pod.metadata?.labels ?? {},
    images: [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].flatMap((c) =>
      c.image ? [c.image] : [],
    ),
    owner: controller ? { kind: controller.kind, name: controller.name } : null,
    heldBack: null,
  };
}

function nodeFacts(node: V1Node): IdentifiedNode {
  const providerId = node.spec?.providerID ?? null;
  const labels = node.metadata?.labels ?? {};
  return {
    name: node.metadata?.name ?? '',
    providerId,
    instanceId: instanceIdFromProviderId(providerId),
    unschedulable: node.spec?.unschedulable === true,
    karpenter: KARPENTER_KEYS.some((key) => key in labels),
    heldBack: null,
  };
}

export const emptyIdentification = (): Identification => ({
  cluster: null,
  matchedBy: null,
  workload: null,
  pods: [],
  podsOnNodes: [],
  nodes: [],
  instances: [],
  roles: [],
  notFound: [],
  errors: [],
});

/** Collects the identification while the lookups run; each lookup adds to it and records its own failure. */
class Findings {
  readonly result: Identification = emptyIdentification();

  missing(kind: NotFound['kind'], name: string, detail: string): void {
    this.result.notFound.push({ kind, name, detail });
  }

  /** Records who else uses a role; `null` (could not be told) wins over any list. */
  sharedWith(arn: string, users: string[] | null): void {
    const role = this.result.roles.find((r) => r.arn === arn);
    if (!role || role.usedOutsideIncident === null) return;
    role.usedOutsideIncident = users === null ? null : [...new Set([...role.usedOutsideIncident, ...users])];
  }

  async attempt(step: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.result.errors.push({ step, message: messageOf(error) });
    }
  }

  addPods(pods: V1Pod[]): void {
    for (const pod of pods) {
      const facts = podFacts(pod);
      if (!this.result.pods.some((known) => known.uid === facts.uid)) this.result.pods.push(facts);
    }
  }

  addNode(node: V1Node): void {
    const facts = nodeFacts(node);
    if (!this.result.nodes.some((known) => known.name === facts.name)) this.result.nodes.push(facts);
  }

  addRole(role: RoleRef | { name: string; arn: null }, source: RoleSource, user: string): void {
    const known = this.result.roles.find((r) => (role.arn ? r.arn === role.arn : r.name === role.name));
    if (!known) {
      this.result.roles.push({
        name: role.name,
        arn: role.arn,
        sources: [source],
        usedBy: [user],
        usedOutsideIncident: [],
        heldBack: null,
      });
      return;
    }
    if (!known.sources.includes(source)) known.sources.push(source);
    if (!known.usedBy.includes(user)) known.usedBy.push(user);
  }
}

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

async function resolvePods(kube: Kubernetes, targets: Targets, found: Findings): Promise<void> {
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
    for (const name of targets.pods) {
      const pod = isKubernetesName(name) ? await kube.readPod(namespace, name) : null;
      if (pod) found.addPods([pod]);
      else found.missing('pod', `${namespace}/${name}`, 'no such pod (already deleted, or not a valid name)');
    }
  } else if (targets.workload) {
    result.matchedBy = 'workload';
    const { kind, name } = targets.workload;
    const controller = isKubernetesName(name) ? await kube.readController(kind, namespace, name) : null;
    if (!controller) {
      found.missing('workload', `${kind} ${namespace}/${name}`, 'no such workload');
      return;
    }
    result.workload = { kind, name, namespace, uid: controller.uid };
    const pods = await podsOfController(kube, controller);
    if (pods.length === 0) found.missing('pod', `${kind} ${namespace}/${name}`, 'the workload has no pods');
    found.addPods(pods);
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

async function nodeOfInstance(kube: Kubernetes, instance: InstanceDescription): Promise<V1Node | null> {
  const isIt = (node: V1Node | null) =>
    instanceIdFromProviderId(node?.spec?.providerID) === instance.instanceId;
  // EKS names nodes after the instance's private DNS name unless the subnet uses resource-based names.
  const byName = instance.privateDnsName ? await kube.readNode(instance.privateDnsName) : null;
  if (isIt(byName)) return byName;
  return (await kube.listNodes()).find(isIt) ?? null;
}

async function resolveCluster(
  kube: Kubernetes,
  plan: ResponsePlan,
  nodeInstances: InstanceDescription[],
  aws: AwsReader,
  found: Findings,
): Promise<void> {
  const result = found.result;
  // A failed pod lookup (a denied read, a deleted namespace) must not keep the named node from being found.
  const before = result.errors.length;
  await found.attempt('pods', () => resolvePods(kube, plan.targets, found));
  if (result.cluster && result.errors.length === before) result.cluster.reachable = true;

  for (const nodeName of new Set(result.pods.flatMap((pod) => (pod.nodeName ? [pod.nodeName] : [])))) {
    const node = await kube.readNode(nodeName);
    if (node) found.addNode(node);
    else found.missing('node', nodeName, 'no such node (scaled in or replaced)');
  }

  for (const instance of nodeInstances) {
    if (result.nodes.some((node) => node.instanceId === instance.instanceId)) continue;
    const node = await nodeOfInstance(kube, instance);
    if (!node) {
      found.missing(
        'node',
        instance.instanceId,
        'the instance is tagged as a node of this cluster but no node has it',
      );
      continue;
    }
    found.addNode(node);
    if (result.cluster) result.cluster.reachable = true;
    if (result.matchedBy === null && node.metadata?.name) {
      const onNode = await kube.listPods(null, { fieldSelector: `spec.nodeName=${node.metadata.name}` });
      result.podsOnNodes.push(
        ...onNode.map((pod) => ({
          name: pod.metadata?.name ?? '',
          namespace: pod.metadata?.namespace ?? '',
          nodeName: node.metadata?.name ?? '',
        })),
      );
    }
  }

  const clusterName = result.cluster?.name ?? '';
  const incidentPods = new Set(result.pods.map((pod) => pod.uid));
  const accounts = new Set(
    result.pods.flatMap((pod) => (pod.serviceAccount ? [`${pod.namespace}/${pod.serviceAccount}`] : [])),
  );
  if (accounts.size === 0) return;
  // One list of the cluster's Pod Identity associations serves both the pods' roles and who else uses them.
  const associations = await aws.podIdentityAssociations(clusterName).catch((error: unknown) => {
    found.result.errors.push({ step: 'pod identity associations', message: messageOf(error) });
    return null;
  });
  for (const key of accounts) {
    const [namespace = '', name = ''] = key.split('/');
    const users = result.pods.filter((p) => p.namespace === namespace && p.serviceAccount === name);
    const usedBy = (role: RoleRef, source: 'irsa' | 'pod-identity') => {
      for (const pod of users) found.addRole(role, source, `pod ${pod.namespace}/${pod.name}`);
    };
    await found.attempt(`service account ${key}`, async () => {
      const account = await kube.readServiceAccount(namespace, name);
      if (!account) return found.missing('service-account', key, 'no such service account');
      const roleArn = account.metadata?.annotations?.[IRSA_ANNOTATION];
      if (roleArn) usedBy({ name: nameFromArn(roleArn), arn: roleArn }, 'irsa');
    });
    for (const association of associations ?? []) {
      if (`${association.namespace}/${association.serviceAccount}` === key)
        usedBy(association.role, 'pod-identity');
    }
  }
  await podRoleSharing(kube, accounts, incidentPods, associations, found);
}

/**
 * Whether the pods' roles are used outside the incident: by other pods of the same service account, or
 * by other service accounts (IRSA annotation anywhere in the cluster, or a Pod Identity association).
 */
async function podRoleSharing(
  kube: Kubernetes,
  incidentAccounts: ReadonlySet<string>,
  incidentPods: ReadonlySet<string>,
  associations: PodIdentityAssociation[] | null,
  found: Findings,
): Promise<void> {
  const podRoles = found.result.roles.filter(
    (role) => role.arn && (role.sources.includes('irsa') || role.sources.includes('pod-identity')),
  );
  if (podRoles.length === 0) return;
  const fail = () => {
    for (const role of podRoles) found.sharedWith(role.arn ?? '', null);
  };
  await found
    .attempt('pods sharing the service accounts', async () => {
      for (const key of incidentAccounts) {
        const [namespace = '', name = ''] = key.split('/');
        const others = (await kube.listPods(namespace, { fieldSelector: `spec.serviceAccountName=${name}` }))
          .filter((pod) => !incidentPods.has(pod.metadata?.uid ?? ''))
          .map((pod) => `pod ${namespace}/${pod.metadata?.name}`);
        for (const role of podRoles) {
          const viaAccount = found.result.pods.some(
            (pod) =>
              `${pod.namespace}/${pod.serviceAccount}` === key &&
              role.usedBy.includes(`pod ${pod.namespace}/${pod.name}`),
          );
          if (viaAccount) found.sharedWith(role.arn ?? '', others);
        }
      }
    })
    .catch(fail);
  await found.attempt('service accounts sharing the roles', async () => {
    for (const account of await kube.listServiceAccounts()) {
      const key = `${account.metadata?.namespace}/${account.metadata?.name}`;
      const arn = account.metadata?.annotations?.[IRSA_ANNOTATION];
      if (arn && !incidentAccounts.has(key)) found.sharedWith(arn, [`service account ${key}`]);
    }
  });
  if (associations === null) fail();
  for (const association of associations ?? []) {
    const key = `${association.namespace}/${association.serviceAccount}`;
    if (!incidentAccounts.has(key)) found.sharedWith(association.role.arn, [`service account ${key}`]);
  }

  if (found.result.errors.some((error) => / sharing the /.test(error.step))) fail();
}

async function resolveInstances(
  aws: AwsReader,
  findingInstanceIds: readonly string[],
  described: Map<string, InstanceDescription>,
  found: Findings,
): Promise<void> {
  const result = found.result;
  const nodeInstanceIds = result.nodes.flatMap((node) => (node.instanceId ? [node.instanceId] : []));
  const wanted = [...new Set([...findingInstanceIds, ...nodeInstanceIds])];
  const toDescribe = nodeInstanceIds.filter((id) => !described.has(id));
  for (const instance of await aws.describeInstances(toDescribe))
    described.set(instance.instanceId, instance);

  const live = wanted.filter((id) => described.get(id) && described.get(id)?.state !== 'terminated');
  let groups = new Map<string, string>();
  await found.attempt('auto scaling groups', async () => {
    groups = await aws.autoScalingGroups(live);
  });

  const profileRoles = new Map<string, RoleRef | null>();
  for (const instanceId of wanted) {
    const instance = described.get(instanceId);
    if (!instance) {
      found.missing(
        'instance',
        instanceId,
        'no such instance (terminated and gone, or never in this account)',
      );
      continue;
    }
    const profile = instance.instanceProfileArn;
    if (profile && !profileRoles.has(profile)) {
      await found.attempt(`instance profile ${profile}`, async () => {
        const role = await aws.instanceProfileRole(profile);
        profileRoles.set(profile, role);
        if (!role)
          found.missing('instance-profile', profile, 'no such instance profile, or it holds no role');
      });
    }
    const role = profile ? (profileRoles.get(profile) ?? null) : null;
    if (role) found.addRole(role, 'instance-profile', `instance ${instanceId}`);
    const node = result.nodes.find((n) => n.instanceId === instanceId);
    result.instances.push({
      instanceId,
      state: instance.state,
      nodeName: node?.name ?? null,
      cluster: clusterFromInstanceTags(instance.tags),
      autoScalingGroup: groups.get(instanceId) ?? null,
      karpenter: (node?.karpenter ?? false) || instance.tags.some((tag) => KARPENTER_KEYS.includes(tag.key)),
      instanceProfileArn: profile,
      role,
      volumes: instance.volumes,
    });
  }
  for (const [profile, role] of profileRoles) {
    if (!role) continue;
    await found.attempt(`instances sharing ${profile}`, async () => {
      const others = await aws.otherInstancesWithProfile(profile, wanted);
      found.sharedWith(
        role.arn,
        others.map((id) => `instance ${id}`),
      );
    });
    if (found.result.errors.some((error) => error.step === `instances sharing ${profile}`)) {
      found.sharedWith(role.arn, null);
    }
  }
}

export async function identify(
  plan: ResponsePlan,
  settings: Pick<ResponderSettings, 'clusters' | 'protectedWorkloads' | 'limits'>,
  ports: IdentifyPorts,
): Promise<Identification> {
  const { clusters } = settings;
  const found = new Findings();
  const result = found.result;
  const { targets } = plan;

  // The finding's own instances come first: for an EC2 finding their tags tell which cluster they serve.
  const described = new Map<string, InstanceDescription>();
  await found.attempt('describe instances', async () => {
    for (const instance of await ports.aws.describeInstances(targets.instanceIds)) {
      described.set(instance.instanceId, instance);
    }
  });
  const taggedCluster =
    [...described.values()].map((i) => clusterFromInstanceTags(i.tags)).find(Boolean) ?? null;
  const clusterName = targets.cluster ?? taggedCluster;

  if (clusterName) {
    const managed = clusters.includes(clusterName);
    result.cluster = { name: clusterName, managed, reachable: false };
    if (managed) {
      const nodeInstances = [...described.values()].filter(
        (i) => clusterFromInstanceTags(i.tags) === clusterName,
      );
      await found.attempt(`kubernetes ${clusterName}`, async () =>
        resolveCluster(await ports.kubernetes(clusterName), plan, nodeInstances, ports.aws, found),
      );
    }
  }

  await found.attempt('instances', () => resolveInstances(ports.aws, targets.instanceIds, described, found));
  if (targets.roleName) {
    found.addRole({ name: targets.roleName, arn: null }, 'access-key', "the finding's access key");
    // Who else holds credentials for a role named by an access key cannot be told from here.
    const role = result.roles.find((r) => r.name === targets.roleName && r.arn === null);
    if (role) role.usedOutsideIncident = null;
  }
  return applyGuards(result, settings);
}
