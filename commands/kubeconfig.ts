/**
 * The local mode's cluster: one kubeconfig, and for each function the context named as its Kubernetes
 * group (`guardduty-responder-isolate`, …) when the kubeconfig has one, so a rehearsal makes every request
 * with the identity that function will have; otherwise `--context`, or the current context, for all.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { apisFromKubeConfig, type KubernetesApis } from '../lambdas/clients/kubernetes.js';
import { type FunctionName, needsOf } from '../lambdas/permissions.js';

export type LocalCluster = {
  /** The API of the cluster as `fn` reaches it. */
  apisOf(fn: FunctionName): KubernetesApis;
  /** One line for the output: which identities the functions use. */
  describe(): string;
};

export function localCluster(path: string, context: string | undefined): LocalCluster {
  const base = new KubeConfig();
  base.loadFromFile(path);
  if (context) base.setCurrentContext(context);
  const named = new Set(base.getContexts().map((c) => c.name));
  const contextOf = (fn: FunctionName): string => {
    const group = needsOf(fn).kubernetesGroup;
    return group && named.has(group) ? group : base.getCurrentContext();
  };
  const built = new Map<string, KubernetesApis>();
  const used = new Set<string>();
  return {
    apisOf(fn) {
      const chosen = contextOf(fn);
      used.add(chosen);
      let apis = built.get(chosen);
      if (!apis) {
        const config = new KubeConfig();
        config.loadFromFile(path);
        config.setCurrentContext(chosen);
        apis = apisFromKubeConfig(config);
        built.set(chosen, apis);
      }
      return apis;
    },
    describe() {
      const groups = [...named].filter((name) => name.startsWith('guardduty-responder-'));
      return groups.length > 0
        ? `each function as its own group's context where the kubeconfig has one (${groups.length}: ${groups.join(', ')}), else ${base.getCurrentContext()}`
        : `every function as context ${base.getCurrentContext()} (a context named as a function's group, e.g. guardduty-responder-isolate, is used for that function)`;
    },
  };
}
