/**
 * Aims a sample finding at a test workload: rewrites the references of the raw event (before it is
 * validated) so the response acts on a canary cluster, namespace, pod or instance instead.
 */
export type Rewrites = { cluster?: string; namespace?: string; pod?: string; instance?: string };

type Json = Record<string, unknown>;
const object = (parent: Json, key: string): Json => {
  const value = parent[key];
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Json;
  const created: Json = {};
  parent[key] = created;
  return created;
};

export function rewriteEvent(raw: unknown, rewrites: Rewrites): unknown {
  if (Object.values(rewrites).every((value) => value === undefined)) return raw;
  if (typeof raw !== 'object' || raw === null) return raw;
  const event = structuredClone(raw) as Json;
  const detail = object(event, 'detail');
  const resource = object(detail, 'resource');
  const service = object(detail, 'service');

  if (rewrites.cluster !== undefined) {
    const cluster = object(resource, 'eksClusterDetails');
    cluster.name = rewrites.cluster;
    const instance = resource.instanceDetails as Json | undefined;
    if (Array.isArray(instance?.tags)) {
      instance.tags = (instance.tags as { key: string; value: string }[]).map((tag) =>
        tag.key === 'eks:cluster-name' ? { ...tag, value: rewrites.cluster } : tag,
      );
    }
  }
  const kubernetes = () => object(object(resource, 'kubernetesDetails'), 'kubernetesWorkloadDetails');
  if (rewrites.namespace !== undefined) {
    kubernetes().namespace = rewrites.namespace;
    const apiCall = (service.action as Json | undefined)?.kubernetesApiCallAction as Json | undefined;
    if (apiCall) apiCall.namespace = rewrites.namespace;
  }
  if (rewrites.pod !== undefined) {
    const workload = kubernetes();
    workload.name = rewrites.pod;
    workload.type = 'pods';
  }
  if (rewrites.instance !== undefined) object(resource, 'instanceDetails').instanceId = rewrites.instance;
  return event;
}
