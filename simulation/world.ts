/**
 * A simulated cluster and account shaped on what a finding references: its cluster, namespace, workload
 * (with its controller chain and two pods, or as many as asked), service account (with an IRSA role), nodes with provider ids,
 * (two, or as many as asked) instances in an Auto Scaling group sharing a node role with a bystander node, instance-profile roles
 * with policies, and EBS volumes. A standalone EC2 finding gets its instance with its instance profile;
 * a finding that names credentials, their calls in CloudTrail's event history.
 * Names a finding gives that Kubernetes would not accept are left out, so identification reports them.
 */
import { createHash } from 'node:crypto';
import type { Finding } from '../lambdas/core/finding.js';
import { isKubernetesName } from '../lambdas/core/selectors.js';
import type { Targets } from '../lambdas/core/targets.js';
import {
  type AccountDescription,
  irsaTrust,
  oidcIssuerOf,
  type SimulatedInstance,
  type SimulatedTrailEvent,
} from './account.js';
import type { KubeObject } from './kube-api-server.js';

export type World = {
  cluster: string | null;
  objects: { resource: string; object: KubeObject }[];
  account: AccountDescription;
};

const id = (seed: string, length: number) => createHash('sha256').update(seed).digest('hex').slice(0, length);
const uid = (seed: string) => {
  const h = id(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
/** The controller reference an owner puts on what it creates. */
const ownedBy = (owner: KubeObject | undefined) =>
  owner
    ? [
        {
          apiVersion: owner.apiVersion ?? '',
          kind: owner.kind ?? '',
          name: owner.metadata.name,
          uid: owner.metadata.uid ?? '',
          controller: true,
        },
      ]
    : undefined;

const POLICIES = [
  'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
  'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
];

/** How large a cluster to simulate: nodes behind the workload, and pods of a workload (a DaemonSet has one a node). */
export type WorldScale = { nodes?: number; pods?: number };

/** The labels (and host network) that EKS's system pods really carry, by the name they are given. */
const SYSTEM_PODS: { prefix: string; labels: Record<string, string>; hostNetwork?: boolean }[] = [
  { prefix: 'coredns-', labels: { 'k8s-app': 'kube-dns', 'eks.amazonaws.com/component': 'coredns' } },
  { prefix: 'kube-proxy-', labels: { 'k8s-app': 'kube-proxy' }, hostNetwork: true },
  {
    prefix: 'aws-node-',
    labels: { 'k8s-app': 'aws-node', 'app.kubernetes.io/name': 'aws-node' },
    hostNetwork: true,
  },
  {
    prefix: 'ebs-csi-node-',
    labels: { app: 'ebs-csi-node', 'app.kubernetes.io/name': 'aws-ebs-csi-driver' },
  },
  {
    prefix: 'ebs-csi-controller-',
    labels: { app: 'ebs-csi-controller', 'app.kubernetes.io/name': 'aws-ebs-csi-driver' },
  },
  {
    prefix: 'eks-pod-identity-agent-',
    labels: { 'app.kubernetes.io/name': 'eks-pod-identity-agent' },
    hostNetwork: true,
  },
  {
    prefix: 'aws-load-balancer-controller-',
    labels: { 'app.kubernetes.io/name': 'aws-load-balancer-controller' },
  },
  { prefix: 'karpenter-', labels: { 'app.kubernetes.io/name': 'karpenter' } },
];

export function systemPod(namespace: string, name: string) {
  if (namespace !== 'kube-system') return null;
  return SYSTEM_PODS.find((system) => name.startsWith(system.prefix)) ?? null;
}

/**
 * The calls an attacker makes with stolen credentials, between the finding's first and last sighting,
 * from the address the finding names: discovery, a few refused, as a real trail of them looks.
 */
function trailOf(finding: Finding, key: NonNullable<Targets['accessKey']>): SimulatedTrailEvent[] {
  const first = Date.parse(finding.service.eventFirstSeen ?? finding.createdAt);
  const last = Date.parse(finding.service.eventLastSeen ?? finding.updatedAt) || first;
  const calls: [string, string, string?][] = [
    ['sts.amazonaws.com', 'GetCallerIdentity'],
    ['s3.amazonaws.com', 'ListBuckets'],
    ['ec2.amazonaws.com', 'DescribeInstances'],
    ['ec2.amazonaws.com', 'DescribeInstances'],
    ['iam.amazonaws.com', 'ListUsers', 'AccessDenied'],
    ['secretsmanager.amazonaws.com', 'ListSecrets', 'AccessDenied'],
    ['s3.amazonaws.com', 'GetObject'],
  ];
  const address = '198.51.100.77';
  return calls.map(([eventSource, eventName, errorCode], index) => ({
    eventSource,
    eventName,
    eventTime: new Date(first + ((last - first) * index) / Math.max(1, calls.length - 1)).toISOString(),
    accessKeyId: key.accessKeyId ?? 'AKIAUNKNOWN',
    userName: key.userName ?? 'unknown',
    sourceIPAddress: address,
    ...(errorCode ? { errorCode } : {}),
  }));
}

/** The VPC CNI with its network policy agent on, as the vpc-cni add-on runs it with enableNetworkPolicy. */
export function vpcCni(nodes: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'aws-node', namespace: 'kube-system', uid: uid('aws-node') },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'aws-node' } },
      template: {
        metadata: { labels: { 'k8s-app': 'aws-node' } },
        spec: {
          hostNetwork: true,
          containers: [
            {
              name: 'aws-node',
              image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.19.2',
            },
            {
              name: 'aws-eks-nodeagent',
              image: '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon/aws-network-policy-agent:v1.1.6',
              args: ['--enable-ipv6=false', '--enable-network-policy=true'],
            },
          ],
        },
      },
    },
    status: { desiredNumberScheduled: nodes, numberReady: nodes },
  };
}

export function worldFor(finding: Finding, targets: Targets, scale: WorldScale = {}): World {
  const nodeCount = Math.max(1, scale.nodes ?? 2);
  const objects: World['objects'] = [];
  const add = (resource: string, object: KubeObject) => {
    objects.push({ resource, object });
    return object;
  };
  const account: Required<Pick<AccountDescription, 'instances' | 'instanceProfiles' | 'roles'>> &
    AccountDescription = {
    // The finding's own account: a member's, in an organization (simulation.ts).
    accountId: finding.accountId,
    instances: [],
    instanceProfiles: {},
    roles: {},
    // Its GuardDuty holds the finding, as GuardDuty made it (Identify reads it back).
    guardDuty: { findings: [JSON.parse(JSON.stringify(finding))] },
  };
  // The role the finding's access key names (its own policies; an instance role is given its profile's below).
  if (targets.roleName) {
    account.roles[targets.roleName] = {
      attached: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      inline: {},
    };
  }
  // What the finding's credentials did, as CloudTrail's event history holds it.
  if (targets.accessKey?.accessKeyId || targets.accessKey?.userName)
    account.cloudTrail = trailOf(finding, targets.accessKey);
  const region = finding.region;
  const details = finding.resource.instanceDetails;
  /** The instance's interfaces as the finding describes them (EC2 findings name their groups). */
  const interfacesOf = (instanceId: string): SimulatedInstance['networkInterfaces'] => {
    const named = (details?.networkInterfaces ?? []).filter((eni) => eni.networkInterfaceId && eni.vpcId);
    if (instanceId !== details?.instanceId || named.length === 0) return undefined;
    return named.map((eni) => ({
      networkInterfaceId: eni.networkInterfaceId ?? '',
      vpcId: eni.vpcId ?? '',
      groups: (eni.securityGroups ?? []).flatMap((g) => (g.groupId ? [g.groupId] : [])),
    }));
  };
  const cluster = targets.cluster;

  // ------------------------------------------------------------ standalone instance (EC2 finding, no cluster)
  if (!cluster) {
    for (const instanceId of targets.instanceIds) {
      const profile = details?.iamInstanceProfile?.arn?.split('/').pop() ?? `${instanceId}-profile`;
      account.instanceProfiles[profile] = `${profile}-role`;
      account.roles[`${profile}-role`] = {
        attached: ['arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore'],
        inline: {
          'app-data':
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}',
        },
      };
      account.instances.push({
        instanceId,
        ssm: 'managed',
        networkInterfaces: interfacesOf(instanceId),
        privateDnsName: details?.networkInterfaces?.[0]?.privateDnsName ?? undefined,
        tags: Object.fromEntries((details?.tags ?? []).map((tag) => [tag.key, tag.value ?? ''])),
        instanceProfile: profile,
        volumes: [
          {
            volumeId: `vol-${id(`${instanceId}root`, 17)}`,
            deviceName: '/dev/xvda',
            deleteOnTermination: true,
          },
          {
            volumeId: `vol-${id(`${instanceId}data`, 17)}`,
            deviceName: '/dev/sdf',
            deleteOnTermination: false,
          },
        ],
      });
    }
    // A standalone server behind a load balancer's target group, as an application server is.
    account.targetGroups = [
      {
        arn: `arn:aws:elasticloadbalancing:${region}:${finding.accountId}:targetgroup/app/${id('app', 16)}`,
        targets: targets.instanceIds.map((instanceId) => ({ id: instanceId, port: 8080 })),
      },
    ];
    return { cluster: null, objects, account };
  }

  // ------------------------------------------------------------ nodes and their instances
  const group = `eks-${cluster}-nodes`.slice(0, 255);
  const nodeInstance = (instanceId: string, dns: string): SimulatedInstance => ({
    instanceId,
    // EKS-optimized AMIs run the SSM agent.
    ssm: 'managed',
    networkInterfaces: interfacesOf(instanceId),
    privateDnsName: dns,
    tags: {
      'eks:cluster-name': cluster,
      'aws:autoscaling:groupName': group,
      [`kubernetes.io/cluster/${cluster}`]: 'owned',
    },
    instanceProfile: 'eks-node-profile',
    autoScalingGroup: group,
    volumes: [
      { volumeId: `vol-${id(`${instanceId}root`, 17)}`, deviceName: '/dev/xvda', deleteOnTermination: true },
    ],
  });
  account.instanceProfiles['eks-node-profile'] = 'eks-node-role';
  account.roles['eks-node-role'] = { attached: [...POLICIES] };
  const nodes: string[] = [];
  const named = targets.instanceIds[0];
  const namedDns = details?.networkInterfaces?.[0]?.privateDnsName ?? undefined;
  for (let index = 0; index <= nodeCount; index++) {
    const instanceId = index === 0 && named ? named : `i-0${id(`${finding.id}node${index}`, 16)}`;
    const address = `10-0-${1 + Math.floor(index / 200)}-${10 + (index % 200)}`;
    const dns = index === 0 && named && namedDns ? namedDns : `ip-${address}.${region}.compute.internal`;
    account.instances.push(nodeInstance(instanceId, dns));
    // The last instance is a bystander: it shares the node role, so the role is not stripped.
    if (index < nodeCount) {
      nodes.push(dns);
      add('nodes', {
        metadata: {
          name: dns,
          labels: { 'kubernetes.io/hostname': dns, 'eks.amazonaws.com/nodegroup': 'general' },
        },
        spec: { providerID: `aws:///${region}a/${instanceId}` },
      });
    }
  }

  add('daemonsets', vpcCni(nodeCount));

  // ------------------------------------------------------------ the workload
  // A host finding names no namespace: its node runs a couple of pods in default, reported, not isolated.
  const namespace = targets.namespace ?? (named ? 'default' : null);
  if (!namespace || !isKubernetesName(namespace)) return { cluster, objects, account };
  add('namespaces', { metadata: { name: namespace } });
  const serviceAccount =
    targets.serviceAccount && isKubernetesName(targets.serviceAccount) ? targets.serviceAccount : 'app';
  const roleName = `${namespace}-${serviceAccount}-irsa`.slice(0, 64);
  // Trusted as EKS documents it: the cluster's OIDC provider, for this ServiceAccount only.
  account.roles[roleName] = {
    attached: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'],
    trust: irsaTrust(finding.accountId, oidcIssuerOf(cluster ?? '', finding.region), [
      `${namespace}/${serviceAccount}`,
    ]),
  };
  add('serviceaccounts', {
    metadata: {
      name: serviceAccount,
      namespace,
      annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${finding.accountId}:role/${roleName}` },
    },
  });
  const image = targets.images[0] ?? 'public.ecr.aws/docker/library/busybox:1.36';
  // The pod as the finding describes it: its containers, host network, and a system pod's real labels.
  const workload = finding.resource.kubernetesDetails?.kubernetesWorkloadDetails;
  const containers = (workload?.containers ?? [])
    .filter((c) => c.name && isKubernetesName(c.name))
    .map((c) => ({ name: c.name ?? 'main', image: c.image ?? image }));
  const pod = (name: string, labels: Record<string, string>, nodeName: string, owner?: KubeObject) => {
    const system = systemPod(namespace, name);
    return add('pods', {
      metadata: {
        name,
        namespace,
        uid: uid(`${namespace}/${name}`),
        labels: { ...labels, ...system?.labels },
        ownerReferences: ownedBy(owner),
      },
      spec: {
        nodeName,
        serviceAccountName: serviceAccount,
        hostNetwork: workload?.hostNetwork === true || system?.hostNetwork === true || undefined,
        containers: containers.length > 0 ? containers : [{ name: 'main', image }],
      },
      status: { phase: 'Running' },
    });
  };
  const controller = (
    resource: string,
    kind: string,
    apiVersion: string,
    name: string,
    labels: Record<string, string>,
    owner?: KubeObject,
  ) =>
    add(resource, {
      apiVersion,
      kind,
      metadata: {
        name,
        namespace,
        uid: uid(`${kind}/${namespace}/${name}`),
        labels,
        ownerReferences: ownedBy(owner),
      },
      spec: { selector: { matchLabels: labels }, template: { metadata: { labels } } },
    });

  const [first = 'node-0', second = first] = nodes;
  /** A workload's pods: two by default (on the first two nodes), `scale.pods` spread over the nodes. */
  const podsOf = (owner: KubeObject, podLabels: Record<string, string>, prefix: string, count: number) => {
    for (let index = 0; index < count; index++) {
      // Two pods keep the names they always had; more get a counter, unique however many there are.
      const suffix =
        index < 2 ? id(`${prefix}${['a', 'b'][index]}`, 5) : `x${index.toString(36).padStart(4, '0')}`;
      pod(`${prefix}-${suffix}`, podLabels, nodes[index % nodes.length] ?? first, owner);
    }
  };
  if (targets.pods.length > 0) {
    for (const name of targets.pods.filter(isKubernetesName)) pod(name, { app: name.slice(0, 63) }, first);
  } else if (targets.workload && isKubernetesName(targets.workload.name)) {
    const { kind, name } = targets.workload;
    const labels = { app: name.slice(0, 63) };
    const hash = id(name, 9);
    const count = kind === 'DaemonSet' ? nodes.length : (scale.pods ?? 2);
    const workloadPods = (owner: KubeObject, podLabels: Record<string, string>, prefix: string) =>
      podsOf(owner, podLabels, prefix, count);
    switch (kind) {
      case 'Deployment': {
        const deployment = controller('deployments', 'Deployment', 'apps/v1', name, labels);
        const rsLabels = { ...labels, 'pod-template-hash': hash };
        const replicaSet = controller(
          'replicasets',
          'ReplicaSet',
          'apps/v1',
          `${name}-${hash}`,
          rsLabels,
          deployment,
        );
        workloadPods(replicaSet, rsLabels, `${name}-${hash}`);
        break;
      }
      case 'CronJob': {
        const cronJob = add('cronjobs', {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          metadata: { name, namespace, uid: uid(`CronJob/${namespace}/${name}`) },
          spec: { schedule: '*/30 * * * *', jobTemplate: { spec: {} } },
        });
        const jobName = `${name}-29000000`;
        const jobLabels = { 'batch.kubernetes.io/controller-uid': uid(`Job/${namespace}/${jobName}`) };
        const job = controller('jobs', 'Job', 'batch/v1', jobName, jobLabels, cronJob);
        job.metadata.uid = jobLabels['batch.kubernetes.io/controller-uid'];
        workloadPods(job, jobLabels, jobName);
        break;
      }
      case 'Job':
        workloadPods(controller('jobs', 'Job', 'batch/v1', name, labels), labels, name);
        break;
      case 'ReplicationController': {
        const rc = add('replicationcontrollers', {
          apiVersion: 'v1',
          kind: 'ReplicationController',
          metadata: { name, namespace, uid: uid(`RC/${namespace}/${name}`), labels },
          spec: { selector: labels },
        });
        workloadPods(rc, labels, name);
        break;
      }
      default: {
        const resource = { ReplicaSet: 'replicasets', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' }[
          kind
        ];
        workloadPods(controller(resource, kind, 'apps/v1', name, labels), labels, name);
      }
    }
  } else if (targets.serviceAccount || targets.images.length > 0) {
    pod(`${serviceAccount}-1`, { app: serviceAccount }, first);
    pod(`${serviceAccount}-2`, { app: serviceAccount }, second);
  } else if (named) {
    pod('web-1', { app: 'web' }, first);
    pod('worker-1', { app: 'worker' }, first);
  }
  return { cluster, objects, account };
}

/**
 * A world whose cluster is a copy of one's own: the objects of a `kubectl get -o yaml` (or JSON) list,
 * with the finding's generated nodes only where the copy has none (they carry the instances' provider ids).
 */
export function withClusterObjects(world: World, objects: { resource: string; object: KubeObject }[]): World {
  const hasNodes = objects.some((o) => o.resource === 'nodes');
  const generatedNodes = world.objects.filter((o) => o.resource === 'nodes');
  return { ...world, objects: [...objects, ...(hasNodes ? [] : generatedNodes)] };
}
