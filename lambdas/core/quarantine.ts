/**
 * The names the responder puts into a cluster, valid Kubernetes names whatever the finding id, and the
 * label selector logic needed to tell which NetworkPolicies select a pod.
 */
import { createHash } from 'node:crypto';
import type { LabelSelector } from './selectors.js';

/** Label on a quarantined pod; its value is the incident (finding) id. */
export const QUARANTINE_LABEL = 'guardduty-responder/quarantine';
/** The one deny-all NetworkPolicy per namespace, selecting every pod that carries the quarantine label. */
export const QUARANTINE_POLICY = 'guardduty-responder-quarantine';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'guardduty-responder' } as const;
/** Annotation Karpenter honours: it will not consolidate, drift or expire the node. */
export const KARPENTER_DO_NOT_DISRUPT = 'karpenter.sh/do-not-disrupt';

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);

/**
 * A label value (at most 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric) naming the
 * same thing as `text`: unchanged when already valid, otherwise cleaned and suffixed with a hash of the
 * original so that two different ids never share a value.
 */
export function labelValue(text: string): string {
  if (/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(text)) return text;
  const cleaned = text
    .replace(/[^A-Za-z0-9\-_.]+/g, '-')
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '')
    .slice(0, 54)
    .replace(/[^A-Za-z0-9]+$/, '');
  return cleaned ? `${cleaned}-${shortHash(text)}` : `id-${shortHash(text)}`;
}

/** The deny-all policy: it selects quarantined pods and allows nothing in either direction. */
export function quarantinePolicy(namespace: string) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: QUARANTINE_POLICY, namespace, labels: { ...MANAGED_BY } },
    spec: {
      podSelector: { matchExpressions: [{ key: QUARANTINE_LABEL, operator: 'Exists' }] },
      policyTypes: ['Ingress', 'Egress'],
    },
  };
}

/** Whether a label selector (as in a NetworkPolicy's podSelector) selects these labels. */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  return (
    byLabel &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      switch (operator) {
        case 'In':
          return key in labels && values.includes(labels[key] ?? '');
        case 'NotIn':
          return !(key in labels) || !values.includes(labels[key] ?? '');
        case 'Exists':
          return key in labels;
        case 'DoesNotExist':
          return !(key in labels);
        default:
          return false;
      }
    })
  );
}

type PolicyLike = {
  metadata?: { name?: string };
  spec?: { podSelector?: LabelSelector; policyTypes?: string[]; ingress?: unknown[]; egress?: unknown[] };
};

/**
 * NetworkPolicies are a union of allows: a policy that selects the pod and allows some traffic keeps
 * allowing it next to the deny-all. These are the caveats of isolation by label.
 */
export function allowingPoliciesFor(
  policies: readonly PolicyLike[],
  labels: Record<string, string>,
): string[] {
  return policies
    .filter((policy) => policy.metadata?.name !== QUARANTINE_POLICY)
    .filter((policy) => selects(policy.spec?.podSelector, labels))
    .filter((policy) => (policy.spec?.ingress?.length ?? 0) > 0 || (policy.spec?.egress?.length ?? 0) > 0)
    .map((policy) => policy.metadata?.name ?? '');
}

/** Whether a policy in the cluster is the quarantine policy as the responder would write it. */
export function isQuarantinePolicy(policy: PolicyLike | null): boolean {
  const spec = policy?.spec;
  return (
    JSON.stringify(spec?.podSelector) === JSON.stringify(quarantinePolicy('').spec.podSelector) &&
    JSON.stringify([...(spec?.policyTypes ?? [])].sort()) === JSON.stringify(['Egress', 'Ingress']) &&
    (spec?.ingress?.length ?? 0) === 0 &&
    (spec?.egress?.length ?? 0) === 0
  );
}

/**
 * The inline policy revoke-sessions puts on a role (the console's own, `AWSRevokeOlderSessions`, is left
 * alone); revoke-iam leaves it in place when it strips the role.
 */
export const REVOKE_SESSIONS_POLICY = 'GuardDutyResponderRevokeOlderSessions';
