/** Plans and identifications for action tests, from the sample events and a few builders. */
import type { AttachedVolume } from '../../lambdas/clients/aws.js';
import { parseFindingEvent } from '../../lambdas/core/finding.js';
import type { ResponsePlan } from '../../lambdas/core/plan.js';
import {
  emptyIdentification,
  type Identification,
  type IdentifiedInstance,
  type IdentifiedNode,
  type IdentifiedPod,
  type IdentifiedRole,
} from '../../lambdas/identify/identify.js';
import { plan as planResponse, ResponderSettingsSchema } from '../../lambdas/settings.js';
import { loadEvent, RESPONDER } from './events.js';

export const CLUSTER = 'prod-eks';

export function planFor(file: string, settings: Record<string, unknown> = {}): ResponsePlan {
  const parsed = ResponderSettingsSchema.parse({ clusters: [CLUSTER], ...settings });
  return planResponse(parseFindingEvent(loadEvent(file)).detail, parsed, RESPONDER);
}

export const managedCluster: Identification['cluster'] = {
  name: CLUSTER,
  managed: true,
  reachable: true,
  endpoint: 'https://127.0.0.1:6443',
  error: null,
};

export const identification = (partial: Partial<Identification> = {}): Identification => ({
  ...emptyIdentification(),
  cluster: managedCluster,
  matchedBy: 'workload',
  ...partial,
});

export const identifiedPod = (
  name: string,
  namespace: string,
  extra: Partial<IdentifiedPod> = {},
): IdentifiedPod => ({
  name,
  namespace,
  uid: `${namespace}-${name}`,
  nodeName: null,
  serviceAccount: 'default',
  hostNetwork: false,
  phase: 'Running',
  labels: {},
  images: [],
  owner: null,
  ...extra,
});

export const identifiedNode = (
  name: string,
  instanceId: string,
  extra: Partial<IdentifiedNode> = {},
): IdentifiedNode => ({
  name,
  providerId: `aws:///us-east-1a/${instanceId}`,
  instanceId,
  unschedulable: false,
  karpenter: false,
  ...extra,
});

export const identifiedInstance = (
  instanceId: string,
  extra: Partial<IdentifiedInstance> & { volumes?: AttachedVolume[] } = {},
): IdentifiedInstance => ({
  instanceId,
  state: 'running',
  nodeName: null,
  cluster: null,
  autoScalingGroup: null,
  karpenter: false,
  instanceProfileArn: null,
  role: null,
  volumes: [],
  metadata: null,
  ...extra,
});

export const identifiedRole = (name: string, extra: Partial<IdentifiedRole> = {}): IdentifiedRole => ({
  name,
  arn: `arn:aws:iam::111122223333:role/${name}`,
  sources: ['irsa'],
  usedBy: [],
  usedOutsideIncident: [],
  heldBack: null,
  ...extra,
});
