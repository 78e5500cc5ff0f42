/**
 * What identification hands to the rest of the response, and the collector each lookup adds to. A
 * lookup that fails is recorded with the actions whose targets it would have found: "could not look" is
 * never the same answer as "found nothing".
 */

import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { AttachedVolume, MetadataDoor, RoleRef } from '../clients/aws.js';
import type { Controller } from '../clients/kubernetes.js';
import type { TargetKind } from '../core/action-spec.js';
import type { ActionName, ResponsePlan } from '../core/plan.js';
import { instanceIdFromProviderId } from '../core/selectors.js';
import { messageOf } from '../shared/errors.js';
import type { NetworkPolicyEnforcement } from './enforcement.js';

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
};

export type IdentifiedNode = {
  name: string;
  providerId: string | null;
  instanceId: string | null;
  unschedulable: boolean;
  karpenter: boolean;
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
  /** Its instance metadata options as found (null: not described): reported whatever the playbook. */
  metadata: MetadataDoor | null;
};

export type RoleSource = 'irsa' | 'pod-identity' | 'instance-profile' | 'access-key';
export type IdentifiedRole = {
  name: string;
  arn: string | null;
  sources: RoleSource[];
  /** Pods and instances of the incident that use the role (at most LISTED, then "… and N more"). */
  usedBy: string[];
  /**
   * Who else uses it: other pods of the same service account, other service accounts (IRSA annotation or
   * Pod Identity), other instances with the same instance profile. Null when that could not be told.
   */
  usedOutsideIncident: string[] | null;
  /**
   * Why revoke-iam leaves this role alone (a protected workload uses it; an IRSA annotation names it but
   * it does not trust the ServiceAccount: NOT_REVOKED); null when it may act.
   */
  heldBack: string | null;
};

/** The start of why a role an IRSA annotation names is not the pod's to revoke (roles.ts). */
export const NOT_REVOKED = 'not revoked: ';

/**
 * Why no action may change a role (a protected workload uses it; it is service-linked, which only AWS
 * may change), or null.
 */
export function roleLeftAlone(role: IdentifiedRole): string | null {
  if (role.heldBack)
    return role.heldBack.startsWith(NOT_REVOKED) ? role.heldBack : `held back: ${role.heldBack}`;
  const serviceLinked =
    (role.arn ?? '').includes(':role/aws-service-role/') || role.name.startsWith('AWSServiceRoleFor');
  return serviceLinked ? 'a service-linked role, which only AWS may change' : null;
}

/** The roles whose credentials the finding says someone else uses: those its access key names. */
export const rolesOfAccessKey = (identification: Identification): IdentifiedRole[] =>
  identification.roles.filter((role) => role.sources.includes('access-key'));

export type NotFound = {
  kind: 'pod' | 'workload' | 'service-account' | 'node' | 'instance' | 'instance-profile' | 'namespace';
  name: string;
  detail: string;
};

/** Targets the response found but leaves alone, grouped by why: a count, and the first names. */
export type HeldBack = { kind: 'pod' | 'node' | 'instance'; reason: string; count: number; names: string[] };

/**
 * A lookup that failed, the kinds of targets it would have found (the actions on them cannot be complete,
 * so the response has failed; `*`: every kind), and what the response did about it instead.
 */
export type LookupError = {
  step: string;
  message: string;
  affects: Affected[];
  consequence: string | null;
};

export type IdentifiedCluster = {
  name: string;
  managed: boolean;
  /** Whether its API answered the lookups of the finding's pods and nodes. */
  reachable: boolean;
  /** The API server's URL, once known (from DescribeCluster or the kubeconfig). */
  endpoint: string | null;
  /** Why it was not reached: the last cause after the retries. */
  error: string | null;
  /** Whether it enforces NetworkPolicy (enforcement.ts), once pods to isolate were found in it. */
  networkPolicy?: NetworkPolicyEnforcement;
};

/**
 * What the response acts on. `pods`, `nodes` and `instances` hold only targets within the blast-radius
 * limits and outside protected workloads; everything else found is summarised in `heldBack`, so the
 * execution state stays small whatever the size of the workload.
 */
export type Identification = {
  cluster: IdentifiedCluster | null;
  matchedBy: MatchedBy | null;
  workload: { kind: Controller['kind']; name: string; namespace: string; uid: string } | null;
  /** The pods the finding is about that isolation acts on. */
  pods: IdentifiedPod[];
  /** Other pods on a node named by an EC2 finding: reported, not isolated. */
  podsOnNodes: { name: string; namespace: string; nodeName: string }[];
  /** The nodes cordon-nodes acts on. */
  nodes: IdentifiedNode[];
  /** The instances protect-instances and snapshot-volumes act on. */
  instances: IdentifiedInstance[];
  /** Of those, the ones the finding names: the hosts isolate-host acts on. */
  hosts: IdentifiedInstance[];
  roles: IdentifiedRole[];
  heldBack: HeldBack[];
  notFound: NotFound[];
  errors: LookupError[];
  /** How many pod and node objects, as read before anything changed them, went to the evidence bucket. */
  evidenceKept: number;
};

/** What the Identify step hands to the rest of the state machine; `planned` drives its first choice. */
export type IdentifyOutput = {
  plan: ResponsePlan;
  planned: ActionName[];
  identification: Identification;
  /** The planned actions that wait for a person's approval, by their result key (the workflow's gates). */
  approvals: Record<string, true>;
};

/** What a Map iteration gives an action that works on one identified target (a node, an instance). */
export type TargetInput<T> = { plan: ResponsePlan; cluster: Identification['cluster']; target: T };

export const emptyIdentification = (): Identification => ({
  cluster: null,
  matchedBy: null,
  workload: null,
  pods: [],
  podsOnNodes: [],
  nodes: [],
  instances: [],
  hosts: [],
  roles: [],
  heldBack: [],
  notFound: [],
  errors: [],
  evidenceKept: 0,
});

const KARPENTER_KEYS = ['karpenter.sh/nodepool', 'karpenter.sh/provisioner-name', 'karpenter.sh/managed-by'];
export const isKarpenterKey = (key: string): boolean => KARPENTER_KEYS.includes(key);

export function podFacts(pod: V1Pod): IdentifiedPod {
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
  };
}

export function nodeFacts(node: V1Node): IdentifiedNode {
  const providerId = node.spec?.providerID ?? null;
  const labels = node.metadata?.labels ?? {};
  return {
    name: node.metadata?.name ?? '',
    providerId,
    instanceId: instanceIdFromProviderId(providerId),
    unschedulable: node.spec?.unschedulable === true,
    karpenter: Object.keys(labels).some(isKarpenterKey),
  };
}

/** The kinds of targets a failed lookup leaves unknown; `*`: every kind. */
export type Affected = TargetKind | '*';

/** Every kind (`*`): a lookup that decides what the finding touches at all. */
export const EVERY_ACTION: Affected[] = ['*'];

/** Whether a failed lookup leaves an action on targets of this kind incomplete. */
export const leavesIncomplete = (error: LookupError, kind: TargetKind): boolean =>
  error.affects.includes(kind) || error.affects.includes('*');

/**
 * Collects the identification while the lookups run; each lookup adds to it and records its own
 * failure. `pods` holds every pod found until the guards choose the ones to act on.
 */
export class Findings {
  readonly result: Identification = emptyIdentification();
  /** The objects as the API returned them, for the evidence: pods by uid, nodes by name. */
  readonly raw = { pods: new Map<string, V1Pod>(), nodes: new Map<string, V1Node>() };

  missing(kind: NotFound['kind'], name: string, detail: string): void {
    this.result.notFound.push({ kind, name, detail });
  }

  /** Records who else uses a role; `null` (could not be told) wins over any list. */
  sharedWith(arn: string, users: string[] | null): void {
    const role = this.result.roles.find((r) => r.arn === arn);
    if (!role || role.usedOutsideIncident === null) return;
    role.usedOutsideIncident = users === null ? null : [...new Set([...role.usedOutsideIncident, ...users])];
  }

  failed(step: string, error: unknown, affects: Affected[], consequence: string | null = null): void {
    this.result.errors.push({ step, message: messageOf(error), affects, consequence });
  }

  /** Runs a lookup; its failure is recorded with the actions it leaves incomplete. True when it worked. */
  async attempt(
    step: string,
    affects: Affected[],
    work: () => Promise<void>,
    consequence: string | null = null,
  ): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (error) {
      this.failed(step, error, affects, consequence);
      return false;
    }
  }

  addPods(pods: V1Pod[]): void {
    for (const pod of pods) {
      const facts = podFacts(pod);
      this.raw.pods.set(facts.uid, pod);
      if (!this.result.pods.some((known) => known.uid === facts.uid)) this.result.pods.push(facts);
    }
  }

  addRole(
    role: RoleRef | { name: string; arn: null },
    source: RoleSource,
    user: string,
    heldBack: string | null = null,
  ): void {
    const known = this.result.roles.find((r) => (role.arn ? r.arn === role.arn : r.name === role.name));
    if (!known) {
      this.result.roles.push({
        name: role.name,
        arn: role.arn,
        sources: [source],
        usedBy: [user],
        usedOutsideIncident: [],
        heldBack,
      });
      return;
    }
    if (heldBack && !known.heldBack) known.heldBack = heldBack;
    if (!known.sources.includes(source)) known.sources.push(source);
    if (!known.usedBy.includes(user)) known.usedBy.push(user);
  }
}
