/**
 * Kubernetes API access: typed API clients for one cluster, built in code (no kubeconfig file in Lambda),
 * and a narrow reader over them that turns 404 into "not found" and pages through lists.
 */
import { DescribeClusterCommand, type EKSClient } from '@aws-sdk/client-eks';
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  type CoreV1Event,
  CustomObjectsApi,
  createConfiguration,
  type HttpLibrary,
  KubeConfig,
  NetworkingV1Api,
  PatchStrategy,
  PolicyV1Api,
  ServerConfiguration,
  setHeaderOptions,
  type V1DaemonSet,
  type V1Job,
  type V1LabelSelector,
  type V1NetworkPolicy,
  type V1Node,
  type V1OwnerReference,
  type V1Pod,
  type V1PodDisruptionBudget,
  type V1ReplicaSet,
  type V1ServiceAccount,
} from '@kubernetes/client-node';
import type { WorkloadKind } from '../core/workload.js';
import {
  ClusterUnreachableError,
  isConnectionFailure,
  isTransientKubernetesError,
  messageOf,
} from '../shared/errors.js';
import { eksToken } from './eks-token.js';
import { KUBERNETES_REQUEST_TIMEOUT_MS, KUBERNETES_RETRY, type RetryPolicy, retrying } from './retry.js';

export type KubernetesApis = {
  /** The API server's URL, to name it when it cannot be reached. */
  server: string;
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  networking: NetworkingV1Api;
  policy: PolicyV1Api;
  custom: CustomObjectsApi;
};

/** A Karpenter NodeClaim (karpenter.sh/v1), as far as recover reads it. */
export type NodeClaim = {
  metadata?: { name?: string };
  status?: { nodeName?: string; providerID?: string };
};

/**
 * The typed clients of the kubeconfig's current cluster, as `makeApiClient` builds them, except that
 * every request is aborted when no answer came within `requestTimeoutMs` (undici waits 300 s for headers).
 */
export function apisFromKubeConfig(
  config: KubeConfig,
  requestTimeoutMs = KUBERNETES_REQUEST_TIMEOUT_MS,
): KubernetesApis {
  const server = config.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster');
  const fetching = createConfiguration().httpApi;
  const httpApi: HttpLibrary = {
    send(request) {
      request.setSignal(AbortSignal.timeout(requestTimeoutMs));
      return fetching.send(request);
    },
  };
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(server, {}),
    authMethods: { default: config },
    httpApi,
  });
  return {
    server,
    core: new CoreV1Api(configuration),
    apps: new AppsV1Api(configuration),
    batch: new BatchV1Api(configuration),
    networking: new NetworkingV1Api(configuration),
    policy: new PolicyV1Api(configuration),
    custom: new CustomObjectsApi(configuration),
  };
}

/** How an eviction ended: the pod leaves (or was gone), or a PodDisruptionBudget forbids it now (429). */
export type Eviction =
  | { evicted: true }
  | { evicted: false; gone: true }
  | { evicted: false; blocked: string };

/**
 * An answer of the API server that it proxied from a kubelet (a pod's log): a failure of that request
 * alone, not of the API server, which answered.
 */
export class KubeletError extends Error {
  override readonly name = 'KubeletError';
}

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Tokens last 15 minutes; a warm Lambda renews them well before that. */
const TOKEN_LIFETIME_MS = 10 * 60 * 1000;

/**
 * Reaches EKS clusters by name: endpoint and CA from DescribeCluster (cached for the life of the Lambda
 * container), a fresh token from the function's own credentials when the cached one is ten minutes old.
 */
export class EksClusters {
  private readonly connections = new Map<string, { apis: KubernetesApis; madeAt: number }>();
  private readonly endpoints = new Map<string, { server: string; caData: string | undefined }>();

  constructor(
    private readonly eks: EKSClient,
    private readonly now: () => number = Date.now,
  ) {}

  async apis(clusterName: string): Promise<KubernetesApis> {
    const cached = this.connections.get(clusterName);
    if (cached && this.now() - cached.madeAt < TOKEN_LIFETIME_MS) return cached.apis;
    const endpoint = await this.endpoint(clusterName);
    const token = await eksToken({
      clusterName,
      region: await this.eks.config.region(),
      credentials: this.eks.config.credentials,
    });
    const config = new KubeConfig();
    config.loadFromClusterAndUser(
      { name: clusterName, server: endpoint.server, caData: endpoint.caData, skipTLSVerify: false },
      { name: 'guardduty-responder', token },
    );
    const apis = apisFromKubeConfig(config);
    this.connections.set(clusterName, { apis, madeAt: this.now() });
    return apis;
  }

  private async endpoint(clusterName: string): Promise<{ server: string; caData: string | undefined }> {
    const known = this.endpoints.get(clusterName);
    if (known) return known;
    const { cluster } = await this.eks.send(new DescribeClusterCommand({ name: clusterName }));
    if (!cluster?.endpoint)
      throw new Error(`EKS cluster ${clusterName} has no API endpoint (status ${cluster?.status})`);
    const endpoint = { server: cluster.endpoint, caData: cluster.certificateAuthority?.data };
    this.endpoints.set(clusterName, endpoint);
    return endpoint;
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

/** The message of a Kubernetes Status an API error carries (messageOf without its prefix). */
const kubernetesMessage = (error: ApiException<unknown>): string =>
  messageOf(error).replace(/^Kubernetes API: HTTP \d+(: )?/, '') || `HTTP ${error.code}`;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** 409: the object changed since it was read (a resourceVersion precondition failed), or already exists. */
export function isConflict(error: unknown): boolean {
  return error instanceof ApiException && error.code === 409;
}

type Page<T> = { items: T[]; metadata?: { _continue?: string } };
const PAGE_SIZE = 500;

export type Controller = {
  kind: Exclude<WorkloadKind, 'Pod'>;
  name: string;
  namespace: string;
  uid: string;
  /** `spec.selector` (null for a CronJob, whose Jobs carry their own). */
  selector: V1LabelSelector | null;
};

export type PodQuery = { labelSelector?: string; fieldSelector?: string };

/** Any object with metadata and owner references (a workload in a pod's owner chain). */
export type OwnedObject = { metadata?: { name?: string; ownerReferences?: V1OwnerReference[] } };

/** The calls the responder makes to a cluster's API: reads for identification, patches for containment. */
export class Kubernetes {
  /** Set once a call has spent the retry budget: later calls fail at once with the same error. */
  private unreachable: ClusterUnreachableError | null = null;
  /** The Eviction version the server takes: policy/v1 (1.22+), else policy/v1beta1. */
  private evictionVersion: 'policy/v1' | 'policy/v1beta1' = 'policy/v1';

  constructor(
    private readonly apis: KubernetesApis,
    private readonly retry: RetryPolicy = KUBERNETES_RETRY,
  ) {}

  /** The API server's URL. */
  get server(): string {
    return this.apis.server;
  }

  /** Why the API server counts as unreachable (a call spent the retry budget); null while it answers. */
  get failure(): ClusterUnreachableError | null {
    return this.unreachable;
  }

  /**
   * A call, retried within the policy's bound on 429, 5xx and connection failures (refused, reset, timed
   * out, TLS). Past the bound the cluster counts as unreachable for the life of this client: the error
   * names the endpoint, the attempts and the last cause.
   */
  private async call<T>(
    request: () => Promise<T>,
    transient: (error: unknown) => boolean = isTransientKubernetesError,
  ): Promise<T> {
    if (this.unreachable) throw this.unreachable;
    return retrying(request, transient, this.retry, (error, attempts, elapsed) => {
      const how = isConnectionFailure(error) ? 'not reached' : 'not usable (it kept failing)';
      this.unreachable = new ClusterUnreachableError(
        `API server ${this.server} ${how} after ${attempts} attempt(s) over ${seconds(elapsed)}: ${messageOf(error)}`,
      );
      return this.unreachable;
    });
  }

  /** Reads are retried; a 404 is an answer: null. */
  private async orNull<T>(read: () => Promise<T>): Promise<T | null> {
    try {
      return await this.call(read);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private async allPages<T>(fetchPage: (cont: string | undefined) => Promise<Page<T>>): Promise<T[]> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const token = cont;
      const page = await this.call(() => fetchPage(token));
      items.push(...page.items);
      cont = page.metadata?._continue || undefined;
    } while (cont);
    return items;
  }

  readPod(namespace: string, name: string): Promise<V1Pod | null> {
    return this.orNull(() => this.apis.core.readNamespacedPod({ namespace, name }));
  }

  /** Pods in one namespace, or in all namespaces when `namespace` is null (only with a field selector). */
  listPods(namespace: string | null, query: PodQuery): Promise<V1Pod[]> {
    return this.allPages((cont) =>
      namespace === null
        ? this.apis.core.listPodForAllNamespaces({ ...query, limit: PAGE_SIZE, _continue: cont })
        : this.apis.core.listNamespacedPod({ namespace, ...query, limit: PAGE_SIZE, _continue: cont }),
    );
  }

  readServiceAccount(namespace: string, name: string): Promise<V1ServiceAccount | null> {
    return this.orNull(() => this.apis.core.readNamespacedServiceAccount({ namespace, name }));
  }

  readNode(name: string): Promise<V1Node | null> {
    return this.orNull(() => this.apis.core.readNode({ name }));
  }

  listNodes(): Promise<V1Node[]> {
    return this.allPages((cont) => this.apis.core.listNode({ limit: PAGE_SIZE, _continue: cont }));
  }

  listServiceAccounts(): Promise<V1ServiceAccount[]> {
    return this.allPages((cont) =>
      this.apis.core.listServiceAccountForAllNamespaces({ limit: PAGE_SIZE, _continue: cont }),
    );
  }

  listReplicaSets(namespace: string, labelSelector: string): Promise<V1ReplicaSet[]> {
    return this.allPages((cont) =>
      this.apis.apps.listNamespacedReplicaSet({
        namespace,
        labelSelector,
        limit: PAGE_SIZE,
        _continue: cont,
      }),
    );
  }

  /** Every DaemonSet of the cluster: what runs on each node (the NetworkPolicy engine among them). */
  listDaemonSets(): Promise<V1DaemonSet[]> {
    return this.allPages((cont) =>
      this.apis.apps.listDaemonSetForAllNamespaces({ limit: PAGE_SIZE, _continue: cont }),
    );
  }

  listJobs(namespace: string): Promise<V1Job[]> {
    return this.allPages((cont) =>
      this.apis.batch.listNamespacedJob({ namespace, limit: PAGE_SIZE, _continue: cont }),
    );
  }

  async readController(
    kind: Controller['kind'],
    namespace: string,
    name: string,
  ): Promise<Controller | null> {
    const params = { namespace, name };
    type Read = Promise<{ metadata?: { uid?: string }; selector?: V1LabelSelector }>;
    const withSelector = (
      read: Promise<{ metadata?: { uid?: string }; spec?: { selector?: V1LabelSelector } }>,
    ): Read => read.then((object) => ({ metadata: object.metadata, selector: object.spec?.selector }));
    const reads: Record<Controller['kind'], () => Read> = {
      Deployment: () => withSelector(this.apis.apps.readNamespacedDeployment(params)),
      ReplicaSet: () => withSelector(this.apis.apps.readNamespacedReplicaSet(params)),
      StatefulSet: () => withSelector(this.apis.apps.readNamespacedStatefulSet(params)),
      DaemonSet: () => withSelector(this.apis.apps.readNamespacedDaemonSet(params)),
      Job: () => withSelector(this.apis.batch.readNamespacedJob(params)),
      CronJob: () =>
        this.apis.batch.readNamespacedCronJob(params).then((job) => ({ metadata: job.metadata })),
      ReplicationController: () =>
        this.apis.core
          .readNamespacedReplicationController(params)
          .then((rc) => ({ metadata: rc.metadata, selector: { matchLabels: rc.spec?.selector } })),
    };
    const object = await this.orNull(reads[kind]);
    if (!object) return null;
    return { kind, name, namespace, uid: object.metadata?.uid ?? '', selector: object.selector ?? null };
  }

  /**
   * A container's log, at most `limitBytes` from its start; `previous` for the instance before a restart.
   * Null when there is no previous instance (the API answers 400 for that).
   */
  async readPodLog(
    namespace: string,
    name: string,
    container: string,
    options: { previous: boolean; limitBytes: number },
  ): Promise<string | null> {
    try {
      // Only failing to reach the API server is the cluster's failure; a 5xx it answers is the kubelet's.
      return await this.call(
        () => this.apis.core.readNamespacedPodLog({ namespace, name, container, ...options }),
        (error) => isConnectionFailure(error) || (error instanceof ApiException && error.code === 429),
      );
    } catch (error) {
      if (options.previous && error instanceof ApiException && error.code === 400) return null;
      if (error instanceof ApiException && error.code >= 500)
        throw new KubeletError(
          `the API server could not get the log from the pod's kubelet (HTTP ${error.code}: ${kubernetesMessage(error)})`,
        );
      throw error;
    }
  }

  /** The events of a namespace that a field selector picks (`involvedObject.uid=…`). */
  listEvents(namespace: string, fieldSelector: string): Promise<CoreV1Event[]> {
    return this.allPages((cont) =>
      this.apis.core.listNamespacedEvent({ namespace, fieldSelector, limit: PAGE_SIZE, _continue: cont }),
    );
  }

  /** A workload object as the API returns it (for the owner chain of a pod), or null when gone. */
  readWorkload(kind: string, namespace: string, name: string): Promise<OwnedObject | null> {
    const params = { namespace, name };
    const reads: Record<string, () => Promise<OwnedObject>> = {
      ReplicaSet: () => this.apis.apps.readNamespacedReplicaSet(params),
      Deployment: () => this.apis.apps.readNamespacedDeployment(params),
      StatefulSet: () => this.apis.apps.readNamespacedStatefulSet(params),
      DaemonSet: () => this.apis.apps.readNamespacedDaemonSet(params),
      Job: () => this.apis.batch.readNamespacedJob(params),
      CronJob: () => this.apis.batch.readNamespacedCronJob(params),
      ReplicationController: () => this.apis.core.readNamespacedReplicationController(params),
    };
    const read = reads[kind];
    return read ? this.orNull(read) : Promise.resolve(null);
  }

  listNetworkPolicies(namespace: string): Promise<V1NetworkPolicy[]> {
    return this.allPages((cont) =>
      this.apis.networking.listNamespacedNetworkPolicy({ namespace, limit: PAGE_SIZE, _continue: cont }),
    );
  }

  readNetworkPolicy(namespace: string, name: string): Promise<V1NetworkPolicy | null> {
    return this.orNull(() => this.apis.networking.readNamespacedNetworkPolicy({ namespace, name }));
  }

  /** Creates the policy; null when one of that name already exists (409), so the caller reads it. */
  async createNetworkPolicy(namespace: string, body: V1NetworkPolicy): Promise<V1NetworkPolicy | null> {
    try {
      return await this.call(() => this.apis.networking.createNamespacedNetworkPolicy({ namespace, body }));
    } catch (error) {
      if (error instanceof ApiException && error.code === 409) return null;
      throw error;
    }
  }

  replaceNetworkPolicy(namespace: string, name: string, body: V1NetworkPolicy): Promise<V1NetworkPolicy> {
    return this.call(() => this.apis.networking.replaceNamespacedNetworkPolicy({ namespace, name, body }));
  }

  /** Deletes the policy; false when it was already gone. */
  async deleteNetworkPolicy(namespace: string, name: string): Promise<boolean> {
    return (
      (await this.orNull(() => this.apis.networking.deleteNamespacedNetworkPolicy({ namespace, name }))) !==
      null
    );
  }

  /**
   * Deletes a pod (its controller, if any, starts a new one); false when it was gone already. The pod
   * stays, terminating (`metadata.deletionTimestamp`), until its kubelet has stopped it: read it back.
   */
  async deletePod(namespace: string, name: string): Promise<boolean> {
    return (await this.orNull(() => this.apis.core.deleteNamespacedPod({ namespace, name }))) !== null;
  }

  /**
   * Evicts a pod through the Eviction API (policy/v1), as `kubectl drain` does: the API server refuses
   * with 429 while a PodDisruptionBudget forbids the disruption, which is an answer here, not a reason to
   * retry at once; the caller tries again later.
   */
  async evictPod(namespace: string, name: string): Promise<Eviction> {
    const evict = (apiVersion: string) =>
      this.call(
        () =>
          this.apis.core.createNamespacedPodEviction({
            namespace,
            name,
            body: { apiVersion, kind: 'Eviction', metadata: { namespace, name } },
          }),
        (error) =>
          isTransientKubernetesError(error) && !(error instanceof ApiException && error.code === 429),
      );
    try {
      try {
        await evict(this.evictionVersion);
      } catch (error) {
        // A server older than 1.22 takes only policy/v1beta1 evictions: used from then on, as kubectl does.
        const older =
          error instanceof ApiException &&
          error.code === 400 &&
          /no kind "Eviction" is registered for version "policy\/v1"/.test(kubernetesMessage(error));
        if (!older || this.evictionVersion !== 'policy/v1') throw error;
        this.evictionVersion = 'policy/v1beta1';
        await evict(this.evictionVersion);
      }
      return { evicted: true };
    } catch (error) {
      if (isNotFound(error)) return { evicted: false, gone: true };
      if (error instanceof ApiException && error.code === 429)
        return { evicted: false, blocked: kubernetesMessage(error) };
      throw error;
    }
  }

  /** Karpenter's NodeClaims (karpenter.sh/v1); none where Karpenter is not installed. */
  async listNodeClaims(): Promise<NodeClaim[]> {
    const list = await this.orNull(
      () =>
        this.apis.custom.listClusterCustomObject({
          group: 'karpenter.sh',
          version: 'v1',
          plural: 'nodeclaims',
        }) as Promise<{ items?: NodeClaim[] }>,
    );
    return list?.items ?? [];
  }

  /** Deletes a NodeClaim: Karpenter drains its node and terminates its instance. False when gone. */
  async deleteNodeClaim(name: string): Promise<boolean> {
    const deleted = await this.orNull(() =>
      this.apis.custom.deleteClusterCustomObject({
        group: 'karpenter.sh',
        version: 'v1',
        plural: 'nodeclaims',
        name,
      }),
    );
    return deleted !== null;
  }

  /** The PodDisruptionBudgets of a namespace (policy/v1). */
  listPodDisruptionBudgets(namespace: string): Promise<V1PodDisruptionBudget[]> {
    return this.allPages((cont) =>
      this.apis.policy.listNamespacedPodDisruptionBudget({ namespace, limit: PAGE_SIZE, _continue: cont }),
    );
  }

  /**
   * A JSON merge patch (RFC 7386) of a pod's labels and annotations: a null value removes the key. The
   * client's default content type for an object body is JSON Patch, which would not take this body. With
   * a resourceVersion the patch applies only to that version of the pod, and a 409 (isConflict) says it
   * changed in between.
   */
  patchPod(
    namespace: string,
    name: string,
    metadata: { labels?: Record<string, string | null>; annotations?: Record<string, string | null> },
    resourceVersion?: string,
  ): Promise<V1Pod | null> {
    const body = { metadata: resourceVersion ? { ...metadata, resourceVersion } : metadata };
    return this.orNull(() => this.apis.core.patchNamespacedPod({ namespace, name, body }, MERGE_PATCH));
  }

  /** A JSON merge patch of a node: `spec.unschedulable` (null removes it), annotations. Null when the node is gone. */
  patchNode(
    name: string,
    body: {
      spec?: { unschedulable?: boolean | null };
      metadata?: { annotations?: Record<string, string | null> };
    },
  ): Promise<V1Node | null> {
    return this.orNull(() => this.apis.core.patchNode({ name, body }, MERGE_PATCH));
  }
}

/** The Kubernetes API of any cluster by name, reached through EKS (see EksClusters). */
export function eksKubernetes(
  eks: EKSClient,
  retry: RetryPolicy = KUBERNETES_RETRY,
): (clusterName: string) => Promise<Kubernetes> {
  const clusters = new EksClusters(eks);
  return async (clusterName) => new Kubernetes(await clusters.apis(clusterName), retry);
}
