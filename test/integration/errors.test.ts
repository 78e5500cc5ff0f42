/**
 * Errors for people: one line that names the call, the status and the cause, whatever the endpoint
 * answered (an HTML page instead of the protocol, a refused connection, a Kubernetes Status).
 */
import { createServer } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { AwsReader, awsClients } from '../../lambdas/clients/aws.js';
import { apisFromKubeConfig, Kubernetes } from '../../lambdas/clients/kubernetes.js';
import { isTransient, messageOf } from '../../lambdas/shared/errors.js';
import { KubeApiServer, TEST_CA_PEM } from '../../simulation/kube-api-server.js';
import { close, listenOnLoopback } from '../../simulation/loopback.js';
import { FAST_RETRY } from '../support/responder.js';

const credentials = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'example' };
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

/** An endpoint that answers every request with a web server's HTML 404 page, as a proxy or a wrong URL does. */
async function htmlEndpoint(status: number): Promise<string> {
  const server = createServer((_, response) => {
    response.writeHead(status, { 'content-type': 'text/html' });
    response.end('<html><body><h1>Not Found</h1></body></html>');
  });
  const port = await listenOnLoopback(server);
  stops.push(() => close(server));
  return `http://127.0.0.1:${port}`;
}

function kubernetesAt(server: string): Kubernetes {
  const config = new KubeConfig();
  config.loadFromClusterAndUser(
    { name: 'c', server, caData: Buffer.from(TEST_CA_PEM).toString('base64'), skipTLSVerify: false },
    { name: 'u', token: 'token' },
  );
  return new Kubernetes(apisFromKubeConfig(config, 500), FAST_RETRY);
}

describe('error messages', () => {
  it('names the AWS service, operation and status when the answer is not the protocol (an HTML page)', async () => {
    const endpoint = await htmlEndpoint(404);
    const reader = new AwsReader(awsClients({ endpoint, region: 'us-east-1', credentials }));

    const error = await reader.podIdentityAssociations('prod-eks').catch((e: unknown) => e);

    expect(messageOf(error)).toBe(
      'EKS ListPodIdentityAssociations: HTTP 404, the answer is not an AWS response (text/html)',
    );
  });

  it('names the AWS call of an ordinary error too, with its status', async () => {
    const endpoint = await htmlEndpoint(503);
    const reader = new AwsReader(awsClients({ endpoint, region: 'us-east-1', credentials }));
    const error = await reader.describeInstances(['i-0123456789abcdef0']).catch((e: unknown) => e);
    expect(messageOf(error)).toBe(
      'EC2 DescribeInstances: HTTP 503, the answer is not an AWS response (text/html)',
    );
    expect(isTransient(error)).toBe(true);
  });

  it('gives the socket cause of a refused connection and the endpoint it could not reach', async () => {
    const kube = new KubeApiServer();
    const url = await kube.start();
    await kube.stop();

    const error = await kubernetesAt(url)
      .readPod('ns', 'p')
      .catch((e: unknown) => e);

    expect(messageOf(error)).toMatch(
      new RegExp(
        `^ClusterUnreachableError: API server ${url} not reached after \\d+ attempt\\(s\\) over [\\d.]+ s: TypeError: fetch failed: connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+$`,
      ),
    );
  });

  it('gives up on an API server that accepts connections and never answers, within the request timeout', async () => {
    const kube = new KubeApiServer();
    const url = await kube.start();
    stops.push(() => kube.stop());
    kube.inject({ status: 'hang', times: 100 });
    const client = kubernetesAt(url);

    const error = await client.readPod('ns', 'p').catch((e: unknown) => e);

    expect(messageOf(error)).toContain(`API server ${url} not reached after`);
    expect(messageOf(error)).toContain('TimeoutError');
    // Later calls of the same invocation fail at once with the same error instead of waiting again.
    const started = Date.now();
    await expect(client.listNodes()).rejects.toBe(error);
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('retries a reset connection and a 429, then answers', async () => {
    const kube = new KubeApiServer();
    const url = await kube.start();
    stops.push(() => kube.stop());
    kube.add('nodes', { metadata: { name: 'n1' } });
    kube.inject({ status: 'reset', times: 1 });
    kube.inject({ status: 429, times: 1 });

    const node = await kubernetesAt(url).readNode('n1');

    expect(node?.metadata?.name).toBe('n1');
    expect(kube.requests.map((r) => r.status)).toEqual([0, 429, 200]);
  });

  it('says what a Kubernetes Status says, not the client library headers', async () => {
    const kube = new KubeApiServer();
    const url = await kube.start();
    stops.push(() => kube.stop());
    kube.inject({ status: 403, times: 1 });
    const error = await kubernetesAt(url)
      .readPod('ns', 'p')
      .catch((e: unknown) => e);
    expect(messageOf(error)).toBe('Kubernetes API: HTTP 403: injected 403');
  });
});
