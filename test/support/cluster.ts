/** Builders for the Kubernetes objects a test cluster holds, shaped as the API server returns them. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INCIDENT_TABLE } from '../../simulation/incident-table.js';
import { type KubeApiServer, type KubeObject, TEST_CA_PEM } from '../../simulation/kube-api-server.js';
import { vpcCni } from '../../simulation/world.js';

type Owner = { kind: string; name: string; uid: string };

export function pod(options: {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  nodeName?: string;
  serviceAccount?: string;
  image?: string;
  owner?: Owner;
  hostNetwork?: boolean;
}): KubeObject {
  return {
    metadata: {
      name: options.name,
      namespace: options.namespace,
      uid: randomUUID(),
      labels: options.labels ?? {},
      ownerReferences: options.owner
        ? [
            {
              apiVersion: 'apps/v1',
              kind: options.owner.kind,
              name: options.owner.name,
              uid: options.owner.uid,
              controller: true,
            },
          ]
        : undefined,
    },
    spec: {
      nodeName: options.nodeName,
      serviceAccountName: options.serviceAccount ?? 'default',
      hostNetwork: options.hostNetwork,
      containers: [{ name: 'main', image: options.image ?? 'public.ecr.aws/docker/library/busybox:1.36' }],
    },
    status: { phase: 'Running' },
  };
}

export function node(name: string, instanceId: string, labels: Record<string, string> = {}): KubeObject {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: { providerID: `aws:///us-east-1a/${instanceId}` },
    status: {},
  };
}

export function serviceAccount(namespace: string, name: string, roleArn?: string): KubeObject {
  return {
    metadata: { name, namespace, annotations: roleArn ? { 'eks.amazonaws.com/role-arn': roleArn } : {} },
  };
}

/** A Deployment with one ReplicaSet and its pods, spread over the given nodes. */
export function addDeployment(
  server: KubeApiServer,
  options: { namespace: string; name: string; nodes: string[]; serviceAccount?: string; image?: string },
): { deployment: KubeObject; replicaSet: KubeObject; pods: KubeObject[] } {
  const labels = { app: options.name };
  const deployment = server.add('deployments', {
    metadata: { name: options.name, namespace: options.namespace, labels },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels } } },
  });
  const hash = '5d8f7c9b6';
  const replicaSet = server.add('replicasets', {
    metadata: {
      name: `${options.name}-${hash}`,
      namespace: options.namespace,
      labels: { ...labels, 'pod-template-hash': hash },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: options.name,
          uid: deployment.metadata.uid ?? '',
          controller: true,
        },
      ],
    },
    spec: { selector: { matchLabels: { ...labels, 'pod-template-hash': hash } } },
  });
  const pods = options.nodes.map((nodeName, index) =>
    server.add(
      'pods',
      pod({
        name: `${replicaSet.metadata.name}-p${index}`,
        namespace: options.namespace,
        labels: { ...labels, 'pod-template-hash': hash },
        nodeName,
        serviceAccount: options.serviceAccount,
        image: options.image,
        owner: { kind: 'ReplicaSet', name: replicaSet.metadata.name, uid: replicaSet.metadata.uid ?? '' },
      }),
    ),
  );
  return { deployment, replicaSet, pods };
}

/** The node that the sample runtime and EC2 events name (instanceDetails of events/eks-runtime-*.json). */
export const SAMPLE_NODE = { name: 'ip-10-0-12-34.ec2.internal', instanceId: 'i-0f1e2d3c4b5a69788' } as const;

export const addSampleNode = (server: KubeApiServer) =>
  server.add('nodes', node(SAMPLE_NODE.name, SAMPLE_NODE.instanceId));

/** A kubeconfig file for a cluster at `server` that trusts the simulation's CA, as the user of `token`. */
export function kubeconfigFor(server: string, caPem: string, token = 'operator-token'): string {
  const path = join(mkdtempSync(join(tmpdir(), 'kubeconfig-')), 'kubeconfig.yaml');
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'test',
          cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') },
        },
      ],
      users: [{ name: 'operator', user: { token } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: 'operator' } }],
      'current-context': 'test',
    }),
  );
  return path;
}

/** The options of the local mode (replay, release, recover) for an API server, an AWS endpoint and the local table. */
export const localModeArgs = (server: string, endpointUrl: string, recordKey: string): string[] => [
  '--kubeconfig',
  kubeconfigFor(server, TEST_CA_PEM),
  '--endpoint-url',
  endpointUrl,
  '--region',
  'us-east-1',
  '--table',
  INCIDENT_TABLE,
  '--record-key',
  recordKey,
];

/** The cluster enforces NetworkPolicy, as an EKS cluster with the VPC CNI's policy agent on does. */
export const enforceNetworkPolicy = (server: KubeApiServer, nodes = 2) =>
  server.add('daemonsets', vpcCni(nodes));
