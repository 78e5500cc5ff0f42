/** cordon-nodes behind the one shape every action has (lambdas/actions/action.ts). */
import type { Action } from '../action.js';
import {
  type CordonInput,
  cordonNode,
  type NodeBefore,
  NodeBeforeSchema,
  uncordonNode,
} from './cordon-nodes.js';
import { spec } from './spec.js';

export const cordonNodes: Action<CordonInput, NodeBefore> = {
  spec,
  targets: (identification) => identification.nodes.map((node) => `node ${node.name}`),
  contain: (input, { clients }, journal) => cordonNode(input, clients.kubernetes, journal),
  before: NodeBeforeSchema,
  resourceOf: ({ before }) => `node ${before.node}`,
  undo: async (entry, clients) => {
    if (!entry.cluster) throw new Error(`${entry.target} was recorded without its cluster`);
    return uncordonNode(await clients.kubernetes(entry.cluster), entry.before);
  },
  // A cordoned node is drained before its instance is replaced.
  recover: (entry) => [
    {
      kind: 'drain',
      target: `node ${entry.before.node}`,
      cluster: entry.cluster ?? '',
      node: entry.before.node,
    },
  ],
};
