/**
 * Whether the cluster enforces NetworkPolicy. An API server accepts a NetworkPolicy whether or not
 * anything enforces it: on EKS that is the VPC CNI's network policy agent (the `aws-eks-nodeagent`
 * container of the `aws-node` DaemonSet, started with `--enable-network-policy=true`, which the vpc-cni
 * add-on's `enableNetworkPolicy: "true"` sets), or another engine's DaemonSet (Calico, Cilium, …). Pure,
 * but for the listing.
 */
import type { V1DaemonSet } from '@kubernetes/client-node';
import type { Kubernetes } from '../clients/kubernetes.js';
import { messageOf } from '../shared/errors.js';

export type NetworkPolicyEnforcement = {
  /** null: it could not be told (the listing failed). */
  enforced: boolean | null;
  /** What enforces it, or why it is not (and what to turn on), or why it could not be told. */
  detail: string;
};

/**
 * Engines that enforce NetworkPolicy, by the name of the DaemonSet that runs their agent on each node and
 * the namespaces they install it in: a DaemonSet of that name elsewhere (which anyone who may create one
 * in their own namespace could make) proves nothing.
 */
const ENGINES: Record<string, { name: string; namespaces: string[] }> = {
  'calico-node': { name: 'Calico', namespaces: ['kube-system', 'calico-system'] },
  cilium: { name: 'Cilium', namespaces: ['kube-system', 'cilium'] },
  'antrea-agent': { name: 'Antrea', namespaces: ['kube-system'] },
  'kube-router': { name: 'kube-router', namespaces: ['kube-system'] },
  'weave-net': { name: 'Weave Net', namespaces: ['kube-system'] },
  canal: { name: 'Canal', namespaces: ['kube-system'] },
};

export const TURN_ON =
  'turn on the VPC CNI network policy agent (vpc-cni add-on configuration {"enableNetworkPolicy": "true"}) or install Calico or Cilium';

/** A DaemonSet none of whose pods is ready enforces nothing; one without a status yet is taken at its word. */
const runs = (set: V1DaemonSet): boolean => (set.status?.numberReady ?? 1) > 0;

function vpcCniAgent(set: V1DaemonSet): 'enabled' | 'disabled' | null {
  if (set.metadata?.name !== 'aws-node' || set.metadata.namespace !== 'kube-system') return null;
  const agent = set.spec?.template?.spec?.containers?.find(
    (container) => container.name === 'aws-eks-nodeagent',
  );
  if (!agent) return 'disabled';
  return (agent.args ?? []).includes('--enable-network-policy=true') ? 'enabled' : 'disabled';
}

export function enforcementOf(cluster: string, sets: readonly V1DaemonSet[]): NetworkPolicyEnforcement {
  for (const set of sets) {
    if (vpcCniAgent(set) === 'enabled' && runs(set))
      return { enforced: true, detail: 'enforced by the VPC CNI network policy agent' };
    const engine = ENGINES[set.metadata?.name ?? ''];
    if (engine?.namespaces.includes(set.metadata?.namespace ?? '') && runs(set))
      return {
        enforced: true,
        detail: `enforced by ${engine.name} (DaemonSet ${set.metadata?.namespace}/${set.metadata?.name})`,
      };
  }
  const cni = sets.some((set) => vpcCniAgent(set) === 'disabled')
    ? "the VPC CNI's network policy agent is off"
    : 'no NetworkPolicy engine runs';
  return {
    enforced: false,
    detail: `cluster ${cluster} does not enforce NetworkPolicy (${cni}): ${TURN_ON}`,
  };
}

export async function checkEnforcement(kube: Kubernetes, cluster: string): Promise<NetworkPolicyEnforcement> {
  try {
    return enforcementOf(cluster, await kube.listDaemonSets());
  } catch (error) {
    return {
      enforced: null,
      detail: `whether cluster ${cluster} enforces NetworkPolicy could not be told (the DaemonSets could not be listed: ${messageOf(error)})`,
    };
  }
}
