/**
 * Kubernetes RBAC for the local API server, evaluated as the API server's authorizer evaluates it: the
 * request's attributes (verb from the method and path, API group, resource and subresource, namespace,
 * name) against the ClusterRoles bound to the caller's groups in a manifest such as k8s/rbac.yaml. A rule
 * with resourceNames matches only requests that name an object: never create, and list or watch only
 * through a `metadata.name` field selector.
 */
import { loadAllYaml } from '@kubernetes/client-node';

export type RequestAttributes = {
  verb: string;
  apiGroup: string;
  /** `pods`, or `pods/log` for a subresource. */
  resource: string;
  namespace: string | null;
  /** Empty when the request names no object (create, list). */
  name: string;
};

type PolicyRule = {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
};

/** What a request asks, read off its method, path and query. */
export function requestAttributes(method: string, url: URL): RequestAttributes {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
  const apiGroup = parts[0] === 'api' ? '' : (parts[1] ?? '');
  const namespaced = rest[0] === 'namespaces' && rest.length >= 3;
  const namespace = namespaced ? (rest[1] ?? null) : null;
  const [resource = '', name = '', subresource] = namespaced ? rest.slice(2) : rest;
  const byField = /(?:^|,)metadata\.name=([^,]+)/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
  const collection = name === '';
  const verb =
    method === 'GET'
      ? collection
        ? url.searchParams.get('watch') === 'true'
          ? 'watch'
          : 'list'
        : 'get'
      : method === 'POST'
        ? 'create'
        : method === 'PUT'
          ? 'update'
          : method === 'PATCH'
            ? 'patch'
            : method === 'DELETE'
              ? collection
                ? 'deletecollection'
                : 'delete'
              : method.toLowerCase();
  return {
    verb,
    apiGroup,
    resource: subresource ? `${resource}/${subresource}` : resource,
    namespace,
    name:
      verb === 'create' ? '' : collection && (verb === 'list' || verb === 'watch') ? (byField ?? '') : name,
  };
}

const covers = (values: readonly string[] | undefined, value: string) =>
  (values ?? []).some((v) => v === '*' || v === value);

export function ruleAllows(rule: PolicyRule, request: RequestAttributes): boolean {
  return (
    covers(rule.verbs, request.verb) &&
    covers(rule.apiGroups, request.apiGroup) &&
    covers(rule.resources, request.resource) &&
    ((rule.resourceNames ?? []).length === 0 ||
      (request.name !== '' && (rule.resourceNames ?? []).includes(request.name)))
  );
}

/**
 * The authorizer of a manifest's ClusterRoles and ClusterRoleBindings (Group subjects): whether a caller
 * in these groups may make the request.
 */
export function rbacAuthorizer(
  manifest: string,
): (groups: readonly string[], request: RequestAttributes) => boolean {
  type Doc = {
    kind?: string;
    metadata?: { name?: string };
    rules?: PolicyRule[];
    roleRef?: { kind?: string; name?: string };
    subjects?: { kind?: string; name?: string }[];
  };
  const docs = loadAllYaml(manifest) as Doc[];
  const roles = new Map(
    docs.filter((d) => d.kind === 'ClusterRole').map((d) => [d.metadata?.name ?? '', d.rules ?? []]),
  );
  const bindings = docs.filter((d) => d.kind === 'ClusterRoleBinding' && d.roleRef?.kind === 'ClusterRole');
  return (groups, request) =>
    bindings
      .filter((b) => (b.subjects ?? []).some((s) => s.kind === 'Group' && groups.includes(s.name ?? '')))
      .flatMap((b) => roles.get(b.roleRef?.name ?? '') ?? [])
      .some((rule) => ruleAllows(rule, request));
}
