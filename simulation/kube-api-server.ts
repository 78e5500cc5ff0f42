/**
 * A local HTTP server that behaves like the Kubernetes API for the resources the responder uses: real
 * paths, label and field selectors (400 for unsupported fields), pagination with limit/continue,
 * Status bodies with 404/409/415/422 codes, and merge, strategic-merge and JSON patches by content type.
 * It records every request so tests can assert exactly what was sent.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import {
  parseLabelSelector,
  type Requirement,
  SelectorError,
  splitTerms,
} from '../lambdas/core/selectors.js';
import { type RequestAttributes, requestAttributes } from './kube-rbac.js';
import { close, listenOnLoopback, readBody } from './loopback.js';

/**
 * The server speaks TLS, as an EKS endpoint does, with a certificate for 127.0.0.1 issued by a test CA
 * (simulation/tls/, valid until 2125; the CA key was discarded). Clients trust it through the CA bundle that
 * DescribeCluster returns, exactly as in production.
 */
const TLS_DIR = new URL('./tls/', import.meta.url);
export const TEST_CA_PEM = readFileSync(new URL('ca.crt', TLS_DIR), 'utf8');

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    resourceVersion?: string;
    creationTimestamp?: string;
    /** Set by a graceful deletion: the object goes at this time, once nothing holds it. */
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    finalizers?: string[];
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
};

export type RecordedRequest = {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | null;
  body: unknown;
  status: number;
  /** When it was answered (performance.now()), to order it against other systems' calls. */
  at: number;
};

type ResourceType = { group: string; version: string; kind: string; namespaced: boolean; fields: string[] };

const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
const POD_FIELDS = [
  ...COMMON_FIELDS,
  'spec.nodeName',
  'spec.serviceAccountName',
  'spec.restartPolicy',
  'spec.schedulerName',
  'spec.hostNetwork',
  'status.phase',
  'status.podIP',
  'status.nominatedNodeName',
];

export const RESOURCES: Record<string, ResourceType> = {
  pods: { group: '', version: 'v1', kind: 'Pod', namespaced: true, fields: POD_FIELDS },
  nodes: {
    group: '',
    version: 'v1',
    kind: 'Node',
    namespaced: false,
    fields: [...COMMON_FIELDS, 'spec.unschedulable'],
  },
  namespaces: {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    namespaced: false,
    fields: [...COMMON_FIELDS, 'status.phase'],
  },
  serviceaccounts: {
    group: '',
    version: 'v1',
    kind: 'ServiceAccount',
    namespaced: true,
    fields: COMMON_FIELDS,
  },
  replicationcontrollers: {
    group: '',
    version: 'v1',
    kind: 'ReplicationController',
    namespaced: true,
    fields: COMMON_FIELDS,
  },
  deployments: { group: 'apps', version: 'v1', kind: 'Deployment', namespaced: true, fields: COMMON_FIELDS },
  replicasets: { group: 'apps', version: 'v1', kind: 'ReplicaSet', namespaced: true, fields: COMMON_FIELDS },
  statefulsets: {
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    namespaced: true,
    fields: COMMON_FIELDS,
  },
  daemonsets: { group: 'apps', version: 'v1', kind: 'DaemonSet', namespaced: true, fields: COMMON_FIELDS },
  jobs: {
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    namespaced: true,
    fields: [...COMMON_FIELDS, 'status.successful'],
  },
  cronjobs: { group: 'batch', version: 'v1', kind: 'CronJob', namespaced: true, fields: COMMON_FIELDS },
  events: {
    group: '',
    version: 'v1',
    kind: 'Event',
    namespaced: true,
    fields: [
      ...COMMON_FIELDS,
      'involvedObject.kind',
      'involvedObject.name',
      'involvedObject.namespace',
      'involvedObject.uid',
      'reason',
      'type',
    ],
  },
  nodeclaims: {
    group: 'karpenter.sh',
    version: 'v1',
    kind: 'NodeClaim',
    namespaced: false,
    fields: COMMON_FIELDS,
  },
  poddisruptionbudgets: {
    group: 'policy',
    version: 'v1',
    kind: 'PodDisruptionBudget',
    namespaced: true,
    fields: COMMON_FIELDS,
  },
  networkpolicies: {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'NetworkPolicy',
    namespaced: true,
    fields: COMMON_FIELDS,
  },
};

/** Seconds a pod's kubelet takes to stop it unless the pod says otherwise (`terminationGracePeriodSeconds`). */
const DEFAULT_GRACE_SECONDS = 30;

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------- selectors

function fieldValue(object: KubeObject, path: string): string {
  let value: unknown = object;
  for (const part of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
  if (value === undefined || value === null)
    return path === 'spec.hostNetwork' || path === 'spec.unschedulable' ? 'false' : '';
  return String(value);
}

function parseFieldSelector(selector: string, type: ResourceType): ((object: KubeObject) => boolean)[] {
  return splitTerms(selector).map((term) => {
    const match = /^([^!=]+)(==|=|!=)(.*)$/.exec(term);
    if (!match) throw new HttpError(400, 'BadRequest', `invalid field selector: "${term}"`);
    const [, field = '', operator, value = ''] = match;
    if (!type.fields.includes(field)) {
      throw new HttpError(400, 'BadRequest', `field label not supported: ${field}`);
    }
    return operator === '!=' ? (o) => fieldValue(o, field) !== value : (o) => fieldValue(o, field) === value;
  });
}

// ---------------------------------------------------------------- patches

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function pointerParts(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new HttpError(422, 'Invalid', `invalid JSON pointer ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function jsonPatch(target: KubeObject, operations: unknown): KubeObject {
  if (!Array.isArray(operations)) throw new HttpError(400, 'BadRequest', 'a JSON patch must be an array');
  const document = structuredClone(target) as unknown as Record<string, unknown>;
  for (const operation of operations as { op: string; path: string; value?: unknown }[]) {
    const parts = pointerParts(operation.path);
    const last = parts.pop();
    let parent: Record<string, unknown> = document;
    for (const part of parts) {
      const next = parent[part];
      if (typeof next !== 'object' || next === null) {
        throw new HttpError(422, 'Invalid', `doc is missing path: ${operation.path}`);
      }
      parent = next as Record<string, unknown>;
    }
    if (last === undefined) throw new HttpError(422, 'Invalid', 'cannot patch the document root');
    switch (operation.op) {
      case 'add':
      case 'replace':
        if (operation.op === 'replace' && !(last in parent)) {
          throw new HttpError(
            422,
            'Invalid',
            `replace operation does not apply: doc is missing key: ${operation.path}`,
          );
        }
        parent[last] = operation.value;
        break;
      case 'remove':
        if (!(last in parent)) {
          throw new HttpError(
            422,
            'Invalid',
            `remove operation does not apply: doc is missing path: ${operation.path}`,
          );
        }
        delete parent[last];
        break;
      case 'test':
        if (JSON.stringify(parent[last]) !== JSON.stringify(operation.value)) {
          throw new HttpError(422, 'Invalid', `testing value ${operation.path} failed`);
        }
        break;
      default:
        throw new HttpError(400, 'BadRequest', `unsupported JSON patch operation ${operation.op}`);
    }
  }
  return document as unknown as KubeObject;
}

// ---------------------------------------------------------------- server

type Route = { resource: string; type: ResourceType; namespace: string | null; name: string | null };

function route(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean);
  let rest: string[];
  let group: string;
  if (parts[0] === 'api' && parts[1] === 'v1') {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1] ?? '';
    rest = parts.slice(3);
  } else {
    throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
  }
  let namespace: string | null = null;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1] ?? null;
    rest = rest.slice(2);
  }
  const [resource = '', name = null, ...subresource] = rest;
  const type = RESOURCES[resource];
  if (!type || type.group !== group || subresource.length > 0 || (namespace !== null && !type.namespaced)) {
    throw new HttpError(404, 'NotFound', 'the server could not find the requested resource');
  }
  return { resource, type, namespace, name };
}

/** 409 for a write whose resourceVersion precondition names an older version. */
const modified = (resource: string, name: string) =>
  new HttpError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
  );

/**
 * A fault the server injects, the way real API servers and networks fail: an HTTP status (429, 5xx, a
 * 403 from RBAC), a connection reset before any answer (`reset`), or no answer at all (`hang`).
 */
export type Fault = { method?: string; path?: RegExp; status: number | 'reset' | 'hang'; times: number };

/** One change as admission sees it: the operation, the resource, the object before and after. */
export type Admission = {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  resource: string;
  old: KubeObject | null;
  object: KubeObject | null;
};
/** Why admission refuses a change by the holder of `token`, or null to let it through. */
export type Admit = (token: string, change: Admission) => string | null;

export class KubeApiServer {
  readonly requests: RecordedRequest[] = [];
  private readonly objects = new Map<string, KubeObject>();
  private readonly logs = new Map<string, { current: string; previous?: string }>();
  private readonly faults: Fault[] = [];
  private server: Server | undefined;
  private version = 1000;
  private authorize: ((token: string, request: RequestAttributes) => boolean) | undefined;
  private admit: Admit | undefined;
  /** Nodes deleted because their instance went: pod GC removes the pods still bound to them. */
  private readonly goneNodes = new Set<string>();
  /** How far the server's clock was moved forward (`elapse`), in ms. */
  private skew = 0;
  /**
   * Whether the kubelet of a node answers: it confirms its pods' deletion and serves their logs. The
   * simulation cuts off the kubelets of isolated hosts.
   */
  kubeletReachable: (node: string) => boolean = () => true;
  /** Whether a node's instance is gone: the cloud controller then deletes the Node, and pod GC its pods. */
  instanceGone: (node: string) => boolean = () => false;
  url = '';

  constructor(private readonly acceptToken: (token: string) => boolean = (token) => token.length > 0) {}

  /** Authorizes every request from here on, as RBAC does: a denied one is answered 403 Forbidden. */
  /** Validating admission after authorization (simulation/admission.ts), as a ValidatingAdmissionPolicy does. */
  admitWith(admit: Admit): void {
    this.admit = admit;
  }

  authorizeWith(authorize: (token: string, request: RequestAttributes) => boolean): void {
    this.authorize = authorize;
  }

  private key(resource: string, namespace: string | null | undefined, name: string): string {
    return `${resource}/${namespace ?? ''}/${name}`;
  }

  /** Now, on the server's clock. */
  private now(): number {
    return Date.now() + this.skew;
  }

  /** Moves the server's clock forward: grace periods run out, kubelets confirm what they stopped. */
  elapse(seconds: number): void {
    this.skew += seconds * 1000;
    this.confirmDeletions();
  }

  /**
   * What kubelets and controllers confirm: a terminating pod whose grace period ran out goes, unless a
   * finalizer holds it or its node's kubelet does not answer (it goes with its node); a Node whose
   * instance is gone is deleted, and with it (pod GC) the pods bound to it. An unscheduled pod has no
   * kubelet.
   */
  private confirmDeletions(): void {
    for (const [key, object] of this.objects)
      if (key.startsWith('nodes/') && this.instanceGone(object.metadata.name)) {
        this.objects.delete(key);
        this.goneNodes.add(object.metadata.name);
      }
    for (const [key, object] of this.objects) {
      if (!key.startsWith('pods/')) continue;
      const { deletionTimestamp, finalizers } = object.metadata;
      if ((finalizers ?? []).length > 0) continue;
      const node = object.spec?.nodeName as string | undefined;
      const orphaned = node !== undefined && this.goneNodes.has(node);
      if (orphaned) {
        this.objects.delete(key);
        continue;
      }
      if (!deletionTimestamp) continue;
      if (Date.parse(deletionTimestamp) > this.now() || (node && !this.kubeletReachable(node))) continue;
      this.objects.delete(key);
    }
  }

  /**
   * A graceful deletion, as the API server makes it: a pod on a node is marked (deletionTimestamp = now +
   * its grace period) and stays until its kubelet confirms; without a node or a grace period it goes at
   * once, unless a finalizer holds it. Anything else is deleted at once.
   */
  private deleteObject(
    resource: string,
    key: string,
    existing: KubeObject,
    grace: number | null,
  ): KubeObject {
    if (resource !== 'pods') {
      this.objects.delete(key);
      return existing;
    }
    if (existing.metadata.deletionTimestamp) return existing;
    const seconds =
      grace ?? (existing.spec?.terminationGracePeriodSeconds as number | undefined) ?? DEFAULT_GRACE_SECONDS;
    const scheduled = Boolean(existing.spec?.nodeName);
    const marked = this.stamp(resource, structuredClone(existing));
    marked.metadata.deletionTimestamp = new Date(this.now() + (scheduled ? seconds : 0) * 1000).toISOString();
    marked.metadata.deletionGracePeriodSeconds = scheduled ? seconds : 0;
    this.objects.set(key, marked);
    this.confirmDeletions();
    return marked;
  }

  /**
   * POST …/pods/{name}/eviction (policy/v1): refused with 429 while a PodDisruptionBudget of the pod's
   * namespace that selects it allows no disruption now; otherwise the pod is deleted gracefully.
   */
  private evict(namespace: string, name: string, token: string): KubeObject {
    const key = this.key('pods', namespace, name);
    const pod = this.objects.get(key);
    if (!pod) throw new HttpError(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
    const refusal = this.admit?.(token, { operation: 'DELETE', resource: 'pods', old: pod, object: null });
    if (refusal) throw new HttpError(403, 'Forbidden', `pods "${name}" is forbidden: ${refusal}`);
    if (!pod.metadata.deletionTimestamp) {
      const labels = pod.metadata.labels ?? {};
      for (const budget of this.list('poddisruptionbudgets', namespace)) {
        const selector = budget.spec?.selector as { matchLabels?: Record<string, string> } | undefined;
        const selected = Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
        if (!selected || !selector) continue;
        const pods = this.list('pods', namespace).filter((p) =>
          Object.entries(selector.matchLabels ?? {}).every(([k, v]) => p.metadata.labels?.[k] === v),
        );
        const healthy = pods.filter((p) => !p.metadata.deletionTimestamp).length;
        const minAvailable = budget.spec?.minAvailable as number | undefined;
        const maxUnavailable = budget.spec?.maxUnavailable as number | undefined;
        const allowed =
          minAvailable !== undefined
            ? healthy - minAvailable
            : (maxUnavailable ?? 0) - (pods.length - healthy);
        if (allowed <= 0)
          throw new HttpError(
            429,
            'TooManyRequests',
            "Cannot evict pod as it would violate the pod's disruption budget.",
            {
              causes: [
                {
                  reason: 'DisruptionBudget',
                  message: `The disruption budget ${budget.metadata.name} needs ${minAvailable ?? pods.length - (maxUnavailable ?? 0)} healthy pods and has ${healthy} currently`,
                },
              ],
            },
          );
      }
    }
    return this.deleteObject('pods', key, pod, null);
  }

  /** Puts an object in the store, as if created earlier (no request recorded). */
  add(resource: string, object: KubeObject): KubeObject {
    const type = RESOURCES[resource];
    if (!type) throw new Error(`unknown resource ${resource}`);
    const stored = this.stamp(resource, structuredClone(object));
    this.objects.set(this.key(resource, stored.metadata.namespace, stored.metadata.name), stored);
    return stored;
  }

  get(resource: string, namespace: string | null, name: string): KubeObject | undefined {
    this.confirmDeletions();
    return this.peek(resource, namespace, name);
  }

  /** An object as stored now, before kubelets and controllers confirm anything (for the hooks they use). */
  peek(resource: string, namespace: string | null, name: string): KubeObject | undefined {
    const object = this.objects.get(this.key(resource, namespace, name));
    return object ? structuredClone(object) : undefined;
  }

  list(resource: string, namespace?: string): KubeObject[] {
    this.confirmDeletions();
    return [...this.objects.entries()]
      .filter(([key]) =>
        key.startsWith(namespace === undefined ? `${resource}/` : `${resource}/${namespace}/`),
      )
      .map(([, object]) => structuredClone(object));
  }

  /** Every object with its resource, as `add` takes them: a saved simulation starts again from these. */
  all(): { resource: string; object: KubeObject }[] {
    this.confirmDeletions();
    return [...this.objects.entries()].map(([key, object]) => ({
      resource: key.slice(0, key.indexOf('/')),
      object: structuredClone(object),
    }));
  }

  remove(resource: string, namespace: string | null, name: string): void {
    this.objects.delete(this.key(resource, namespace, name));
  }

  /**
   * A container's log (and that of its previous instance, if it restarted). Without one, a container's
   * log is a line saying it is simulated; a previous log exists only when set.
   */
  setLog(
    namespace: string,
    pod: string,
    container: string,
    log: { current: string; previous?: string },
  ): void {
    this.logs.set(`${namespace}/${pod}/${container}`, log);
  }

  /** GET …/pods/{name}/log as the API answers it: text, 400 for an ambiguous container or no previous one. */
  private podLog(namespace: string, name: string, query: URLSearchParams): string {
    const pod = this.objects.get(this.key('pods', namespace, name));
    if (!pod) throw new HttpError(404, 'NotFound', `pods "${name}" not found`);
    const containers = ((pod.spec?.containers ?? []) as { name: string }[]).map((c) => c.name);
    const container = query.get('container') ?? (containers.length === 1 ? containers[0] : undefined);
    if (!container)
      throw new HttpError(
        400,
        'BadRequest',
        `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`,
      );
    if (!containers.includes(container))
      throw new HttpError(400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
    const node = pod.spec?.nodeName as string | undefined;
    if (node && !this.kubeletReachable(node))
      throw new HttpError(
        500,
        'InternalError',
        `Get "https://${node}:10250/containerLogs/${namespace}/${name}/${container}": dial tcp: i/o timeout`,
      );
    const log = this.logs.get(`${namespace}/${name}/${container}`) ?? {
      current: `2026-11-20T09:14:02.117Z simulated log of ${namespace}/${name} ${container}\n`,
    };
    const previous = query.get('previous') === 'true';
    if (previous && log.previous === undefined)
      throw new HttpError(
        400,
        'BadRequest',
        `previous terminated container "${container}" in pod "${name}" not found`,
      );
    const text = Buffer.from(previous ? (log.previous ?? '') : log.current, 'utf8');
    const limit = query.get('limitBytes');
    return (limit ? text.subarray(0, Number(limit)) : text).toString('utf8');
  }

  /** The next `times` requests matching method and path get `status` instead of an answer. */
  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  private stamp(resource: string, object: KubeObject): KubeObject {
    const type = RESOURCES[resource] as ResourceType;
    object.apiVersion = type.group ? `${type.group}/${type.version}` : type.version;
    object.kind = type.kind;
    object.metadata.uid ??= randomUUID();
    object.metadata.creationTimestamp ??= new Date(0).toISOString();
    object.metadata.resourceVersion = String(++this.version);
    return object;
  }

  /** Listens on a free loopback port, or on `port` (the same one again after `stop`, for an outage). */
  async start(port = 0): Promise<string> {
    const tls = {
      key: readFileSync(new URL('server.key', TLS_DIR)),
      cert: readFileSync(new URL('server.crt', TLS_DIR)),
    };
    this.server = createServer(tls, (request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        this.reply(response, request, null, null, 500, this.status(500, 'InternalError', String(error)));
      });
    });
    this.url = `https://127.0.0.1:${await listenOnLoopback(this.server, port)}`;
    return this.url;
  }

  /** Stops listening and drops every open connection: clients then get ECONNREFUSED. */
  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return close(this.server);
  }

  private status(code: number, reason: string, message: string, details?: Record<string, unknown>) {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      details,
      code,
    };
  }

  private reply(
    response: ServerResponse,
    request: IncomingMessage,
    url: URL | null,
    body: unknown,
    code: number,
    payload: unknown,
  ): void {
    this.requests.push({
      method: request.method ?? '',
      path: url?.pathname ?? request.url ?? '',
      query: url ? Object.fromEntries(url.searchParams) : {},
      contentType: request.headers['content-type'] ?? null,
      body,
      status: code,
      at: performance.now(),
    });
    response.writeHead(code, { 'content-type': 'application/json' });
    response.end(JSON.stringify(payload));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const raw = await readBody(request);
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      // kept as text; the handler answers 400 where JSON was needed
    }
    const method = request.method ?? 'GET';
    const fault = this.faults.find(
      (f) => f.times > 0 && (!f.method || f.method === method) && (!f.path || f.path.test(url.pathname)),
    );
    if (fault) {
      fault.times--;
      if (fault.status === 'reset' || fault.status === 'hang') {
        const unanswered = { method, path: url.pathname, query: {}, contentType: null, body, status: 0 };
        this.requests.push({ ...unanswered, at: performance.now() });
        // A reset drops the connection; a hang leaves it open with no answer, until the client gives up.
        if (fault.status === 'reset') request.socket.destroy();
        return;
      }
      const reasons: Record<number, string> = {
        401: 'Unauthorized',
        403: 'Forbidden',
        429: 'TooManyRequests',
        503: 'ServiceUnavailable',
      };
      const reason = reasons[fault.status] ?? 'InternalError';
      this.reply(
        response,
        request,
        url,
        body,
        fault.status,
        this.status(fault.status, reason, `injected ${fault.status}`),
      );
      return;
    }
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token || !this.acceptToken(token)) {
      this.reply(response, request, url, body, 401, this.status(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    const attributes = requestAttributes(method, url);
    if (this.authorize && !this.authorize(token, attributes)) {
      const { verb, apiGroup, resource, namespace, name } = attributes;
      const where = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
      const message = `${resource}${apiGroup ? `.${apiGroup}` : ''}${name ? ` "${name}"` : ''} is forbidden: User "${token.slice(0, 24)}" cannot ${verb} resource "${resource}" in API group "${apiGroup}"${where}`;
      this.reply(
        response,
        request,
        url,
        body,
        403,
        this.status(403, 'Forbidden', message, { name, group: apiGroup, kind: resource }),
      );
      return;
    }
    try {
      this.confirmDeletions();
      const eviction = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/.exec(url.pathname);
      if (eviction && method === 'POST') {
        this.evict(decodeURIComponent(eviction[1] ?? ''), decodeURIComponent(eviction[2] ?? ''), token);
        this.reply(response, request, url, body, 201, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          code: 201,
        });
        return;
      }
      const log = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(url.pathname);
      if (log && method === 'GET') {
        const text = this.podLog(
          decodeURIComponent(log[1] ?? ''),
          decodeURIComponent(log[2] ?? ''),
          url.searchParams,
        );
        this.requests.push({
          method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          contentType: null,
          body,
          status: 200,
          at: performance.now(),
        });
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end(text);
        return;
      }
      const [code, payload] = this.dispatch(method, url, request.headers['content-type'] ?? '', body, token);
      this.reply(response, request, url, body, code, payload);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      this.reply(
        response,
        request,
        url,
        body,
        error.code,
        this.status(error.code, error.reason, error.message, error.details),
      );
    }
  }

  private dispatch(
    method: string,
    url: URL,
    contentType: string,
    body: unknown,
    token = '',
  ): [number, unknown] {
    const target = route(url.pathname);
    const { resource, type, namespace, name } = target;
    /** Admission, before anything is stored: a refusal is a 403 with the policy's message, nothing changes. */
    const admitted = (
      operation: Admission['operation'],
      old: KubeObject | null,
      object: KubeObject | null,
    ) => {
      const refusal = this.admit?.(token, { operation, resource, old, object });
      if (refusal)
        throw new HttpError(
          403,
          'Forbidden',
          `${resource} "${object?.metadata?.name ?? old?.metadata?.name}" is forbidden: ValidatingAdmissionPolicy 'guardduty-responder-limits' with binding 'guardduty-responder-limits' denied request: ${refusal}`,
        );
    };
    const notFound = (n: string) =>
      new HttpError(404, 'NotFound', `${resource} "${n}" not found`, {
        name: n,
        group: type.group,
        kind: resource,
      });

    if (name === null) {
      if (method === 'GET') return [200, this.listObjects(target, url.searchParams)];
      if (method === 'POST') {
        admitted('CREATE', null, body as KubeObject);
        return [201, this.create(target, body)];
      }
      throw new HttpError(405, 'MethodNotAllowed', `method ${method} not allowed on a collection`);
    }
    const key = this.key(resource, namespace, name);
    const existing = this.objects.get(key);
    if (method === 'GET') {
      if (!existing) throw notFound(name);
      return [200, existing];
    }
    if (method === 'DELETE') {
      if (!existing) throw notFound(name);
      admitted('DELETE', existing, null);
      const options = body as { gracePeriodSeconds?: number } | null;
      const query = url.searchParams.get('gracePeriodSeconds');
      const grace = query !== null ? Number(query) : (options?.gracePeriodSeconds ?? null);
      return [200, this.deleteObject(resource, key, existing, grace)];
    }
    if (method === 'PATCH') {
      if (!existing) throw notFound(name);
      const mediaType = contentType.split(';')[0]?.trim();
      let patched: KubeObject;
      if (
        mediaType === 'application/merge-patch+json' ||
        mediaType === 'application/strategic-merge-patch+json'
      ) {
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          throw new HttpError(400, 'BadRequest', 'the patch body must be a JSON object');
        }
        const precondition = (body as { metadata?: { resourceVersion?: unknown } }).metadata?.resourceVersion;
        if (precondition !== undefined && precondition !== existing.metadata.resourceVersion) {
          throw modified(resource, name);
        }
        patched = mergePatch(existing, body) as KubeObject;
      } else if (mediaType === 'application/json-patch+json') {
        patched = jsonPatch(existing, body);
      } else {
        throw new HttpError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
        );
      }
      if (patched.metadata?.name !== name)
        throw new HttpError(422, 'Invalid', 'metadata.name cannot be changed');
      admitted('UPDATE', existing, patched);
      const stored = this.stamp(resource, patched);
      this.objects.set(key, stored);
      return [200, stored];
    }
    if (method === 'PUT') {
      if (!existing) throw notFound(name);
      const replacement = body as KubeObject;
      if (
        replacement?.metadata?.resourceVersion &&
        replacement.metadata.resourceVersion !== existing.metadata.resourceVersion
      ) {
        throw modified(resource, name);
      }
      admitted('UPDATE', existing, replacement);
      const stored = this.stamp(resource, {
        ...replacement,
        metadata: { ...replacement.metadata, uid: existing.metadata.uid },
      });
      this.objects.set(key, stored);
      return [200, stored];
    }
    throw new HttpError(405, 'MethodNotAllowed', `method ${method} not allowed`);
  }

  private create(target: Route, body: unknown): KubeObject {
    const object = body as KubeObject | null;
    const name = object?.metadata?.name;
    if (!name)
      throw new HttpError(422, 'Invalid', `${target.type.kind} is invalid: metadata.name: Required value`);
    if (target.namespace && object.metadata.namespace && object.metadata.namespace !== target.namespace) {
      throw new HttpError(
        400,
        'BadRequest',
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const key = this.key(target.resource, target.namespace, name);
    if (this.objects.has(key)) {
      throw new HttpError(
        409,
        'AlreadyExists',
        `${target.resource}${target.type.group ? `.${target.type.group}` : ''} "${name}" already exists`,
        {
          name,
          group: target.type.group,
          kind: target.resource,
        },
      );
    }
    const stored = this.stamp(target.resource, {
      ...structuredClone(object),
      metadata: { ...object.metadata, namespace: target.namespace ?? undefined },
    });
    this.objects.set(key, stored);
    return stored;
  }

  private listObjects(target: Route, query: URLSearchParams) {
    let labelRequirements: Requirement[];
    try {
      labelRequirements = parseLabelSelector(query.get('labelSelector') ?? '');
    } catch (error) {
      if (error instanceof SelectorError) throw new HttpError(400, 'BadRequest', error.message);
      throw error;
    }
    const fieldRequirements = parseFieldSelector(query.get('fieldSelector') ?? '', target.type);
    const matching = [...this.objects.entries()]
      .filter(([key]) =>
        key.startsWith(`${target.resource}/${target.namespace === null ? '' : `${target.namespace}/`}`),
      )
      .map(([, object]) => object)
      .filter((object) => labelRequirements.every((matches) => matches(object.metadata.labels ?? {})))
      .filter((object) => fieldRequirements.every((matches) => matches(object)))
      .sort((a, b) =>
        `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(
          `${b.metadata.namespace ?? ''}/${b.metadata.name}`,
        ),
      );
    const offset = query.get('continue')
      ? Number(Buffer.from(query.get('continue') ?? '', 'base64').toString())
      : 0;
    const limit = Number(query.get('limit') ?? 0) || matching.length;
    const page = matching.slice(offset, offset + limit);
    const next =
      offset + limit < matching.length ? Buffer.from(String(offset + limit)).toString('base64') : undefined;
    return {
      kind: `${target.type.kind}List`,
      apiVersion: target.type.group ? `${target.type.group}/${target.type.version}` : target.type.version,
      metadata: { resourceVersion: String(this.version), ...(next ? { continue: next } : {}) },
      items: page,
    };
  }
}
