/**
 * The simulated API server's side of k8s/admission-policy.yaml: the same three rules, for requests of
 * the responder's groups, as the ValidatingAdmissionPolicy states them in CEL (the real API server here,
 * v1.20, has no ValidatingAdmissionPolicy; a test checks both name the same rules).
 */

import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { QUARANTINE_POLICY } from '../lambdas/core/quarantine.js';
import { groupsOfToken, shippedAccessEntries } from './eks-token.js';
import type { Admission, Admit, KubeApiServer } from './kube-api-server.js';

export const ADMISSION_POLICY_PATH = fileURLToPath(new URL('../k8s/admission-policy.yaml', import.meta.url));

const POD = 'the responder may change only the labels and annotations of a pod';
const NODE = 'the responder may change only spec.unschedulable and the annotations of a node';
const POLICY = 'the responder may write only its quarantine NetworkPolicy';
export const ADMISSION_MESSAGES = [POD, NODE, POLICY];

type Fields = Record<string, unknown> | undefined;
const field = (object: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Fields)?.[key], object);
const same = (change: Admission, ...path: string[]) =>
  isDeepStrictEqual(field(change.old, ...path), field(change.object, ...path));

/** Why a change of the responder's groups is refused, or null: the policy's validations, in order. */
export function responderLimits(change: Admission): string | null {
  if (change.resource === 'pods' && change.operation === 'UPDATE')
    return same(change, 'spec') &&
      same(change, 'metadata', 'ownerReferences') &&
      same(change, 'metadata', 'finalizers')
      ? null
      : POD;
  if (change.resource === 'nodes' && change.operation === 'UPDATE')
    return ['taints', 'providerID', 'podCIDR', 'podCIDRs'].every((key) => same(change, 'spec', key)) &&
      same(change, 'metadata', 'labels')
      ? null
      : NODE;
  if (change.resource === 'networkpolicies') {
    const name = field(change.operation === 'DELETE' ? change.old : change.object, 'metadata', 'name');
    return name === QUARANTINE_POLICY ? null : POLICY;
  }
  return null;
}

/** The policy as bound: for a request whose user is in a responder group (`guardduty-responder-*`). */
export const responderAdmission =
  (groupsOf: (token: string) => readonly string[]): Admit =>
  (token, change) =>
    groupsOf(token).some((group) => group.startsWith('guardduty-responder-'))
      ? responderLimits(change)
      : null;

/**
 * What a cluster the responder acts on enforces, as this repository ships it: the access entries and
 * k8s/rbac.yaml, then k8s/admission-policy.yaml.
 */
export function applyShippedPolicies(server: KubeApiServer): void {
  server.authorizeWith(shippedAccessEntries());
  server.admitWith(responderAdmission(groupsOfToken));
}
