/** isolate-pods behind the one shape every action has (lambdas/actions/action.ts). */
import { z } from 'zod';
import { QUARANTINE_POLICY } from '../../core/quarantine.js';
import type { Action, Entry } from '../action.js';
import {
  isolatePods as contain,
  type IsolateInput,
  type PodBefore,
  PodBeforeSchema,
  type PolicyBefore,
  PolicyBeforeSchema,
  releasePod,
  releasePolicy,
} from './isolate-pods.js';
import { spec } from './spec.js';

/** A pod's labels, or its namespace's quarantine policy. */
type Before = PodBefore | PolicyBefore;
const isPolicy = (before: Before): before is PolicyBefore => !('pod' in before);

function clusterOf(entry: Entry<Before>): string {
  if (!entry.cluster) throw new Error(`${entry.target} was recorded without its cluster`);
  return entry.cluster;
}

export const isolatePods: Action<IsolateInput, Before> = {
  spec,
  targets: (identification) => identification.pods.map((pod) => `pod ${pod.namespace}/${pod.name}`),
  contain: (input, { clients, settings }, journal) => contain(input, clients.kubernetes, settings, journal),
  before: z.union([PodBeforeSchema, PolicyBeforeSchema]),
  resourceOf: ({ before }) =>
    isPolicy(before)
      ? `networkpolicy ${before.namespace}/${QUARANTINE_POLICY}`
      : `pod ${before.namespace}/${before.pod}`,
  undo: async (entry, clients) => {
    const kube = await clients.kubernetes(clusterOf(entry));
    return isPolicy(entry.before) ? releasePolicy(kube, entry.before) : releasePod(kube, entry.before);
  },
  // The pods go (their controllers start clean ones), then the namespace's policy as release would.
  recover: (entry) =>
    isPolicy(entry.before)
      ? [{ kind: 'undo' }]
      : [
          {
            kind: 'pod',
            target: entry.target,
            cluster: clusterOf(entry),
            namespace: entry.before.namespace,
            pod: entry.before.pod,
          },
        ],
};
