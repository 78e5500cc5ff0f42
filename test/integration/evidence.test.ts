/**
 * Evidence, in the synthesized state machine with the real handlers: the Kubernetes objects, logs and
 * events of the affected pods and the host capture through Systems Manager, in the evidence bucket of the
 * simulated account behind aws-sdk-client-mock, with a chain of custody in the incident record.
 */
import { createHash } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendCommandCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QUARANTINE_LABEL } from '../../lambdas/core/quarantine.js';
import { hostEvidenceScript } from '../../lambdas/evidence/hosts.js';
import { memoryClosures } from '../../lambdas/incident/closures.js';
import { releaseIncident } from '../../lambdas/release/release.js';
import { applyShippedPolicies } from '../../simulation/admission.js';
import { parseConfig } from '../../simulation/cdk-json.js';
import { isEksToken } from '../../simulation/eks-token.js';
import { KubeApiServer } from '../../simulation/kube-api-server.js';
import { runLocally, synthesizedDefinition } from '../../simulation/runner.js';
import { type FakeAccount, mockAccount, nodeInstance } from '../support/aws-account.js';
import { addDeployment, addSampleNode } from '../support/cluster.js';
import { loadEvent, RESPONDER } from '../support/events.js';
import { useIncidentTable } from '../support/incidents.js';
import { EVIDENCE_BUCKET, reachAs, responderHandlers } from '../support/responder.js';

const definition = synthesizedDefinition(parseConfig({ clusters: ['prod-eks'] }), RESPONDER);
const sns = mockClient(SNSClient);
const incidents = useIncidentTable();
let server: KubeApiServer;
let account: ReturnType<typeof mockAccount>;

beforeEach(async () => {
  server = new KubeApiServer(isEksToken);
  applyShippedPolicies(server);
  await server.start();
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
});
afterEach(async () => {
  account?.restore();
  await server.stop();
});

const NODE = 'ip-10-0-12-34.ec2.internal';
const INSTANCE = 'i-0f1e2d3c4b5a69788';

/** A Deployment's two pods on the sample node, one of which restarted (its previous container logged). */
function cluster() {
  addSampleNode(server);
  addDeployment(server, {
    namespace: 'payments',
    name: 'payments-api',
    nodes: [NODE, NODE],
    serviceAccount: 'payments-api',
  });
  const [first, second] = server.list('pods', 'payments');
  const log = (n: number) => `${'x'.repeat(n - 1)}\n`;
  server.setLog('payments', first?.metadata.name ?? '', 'main', { current: log(300), previous: log(200) });
  server.setLog('payments', second?.metadata.name ?? '', 'main', { current: log(5000) });
  return [first?.metadata.name ?? '', second?.metadata.name ?? ''];
}

function withAccount(fake: FakeAccount) {
  account = mockAccount({ clusters: { 'prod-eks': server.url }, ...fake });
}

async function run(settings: Record<string, unknown> = {}, findingId?: string) {
  const event = loadEvent('eks-runtime-new-binary-executed.json');
  if (findingId) event.detail.id = findingId;
  return runLocally(
    definition,
    event,
    responderHandlers(
      { clusters: ['prod-eks'], evidence: { logBytesPerContainer: 1024 }, ...settings },
      incidents.store(),
    ),
  );
}

const stored = () => account.state.evidence.objects;
const body = (key: string) => Buffer.from(stored().find((o) => o.key === key)?.body ?? '', 'base64');
const keyEndingWith = (suffix: string) => stored().find((o) => o.key.endsWith(suffix))?.key ?? '';
const message = () => sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';

describe('evidence', () => {
  it('keeps each pod as read before it was relabelled, its owners, events and bounded logs, with SHA-256 in the record', async () => {
    const [first, second] = cluster();
    withAccount({ instances: [{ ...nodeInstance(INSTANCE, NODE, 'vol-0c1'), ssm: 'managed' }] });
    // When each write and each relabelling happened, on one clock.
    const writes: { key: string; at: number }[] = [];
    account.s3.on(PutObjectCommand).callsFake((input) => {
      writes.push({ key: input.Key ?? '', at: performance.now() });
      return account.ec2Call('PutObject', input);
    });

    const execution = await run();

    expect(execution.status).toBe('SUCCEEDED');
    for (const pod of [first, second]) {
      const objectKey = keyEndingWith(`kubernetes/pods/payments/${pod}/pod.json`);
      // The object as it was: no quarantine label yet.
      const kept = JSON.parse(body(objectKey).toString());
      expect(kept.metadata.name).toBe(pod);
      expect(kept.metadata.labels[QUARANTINE_LABEL]).toBeUndefined();
      const relabelled = server.requests.find((r) => r.method === 'PATCH' && r.path.endsWith(`/pods/${pod}`));
      expect(relabelled).toBeDefined();
      expect(writes.find((w) => w.key === objectKey)?.at).toBeLessThan(relabelled?.at ?? 0);
      for (const suffix of [
        `pods/payments/${pod}/owner.ReplicaSet.${kept.metadata.ownerReferences[0].name}.json`,
        `pods/payments/${pod}/owner.Deployment.payments-api.json`,
        `pods/payments/${pod}/events.json`,
        `pods/payments/${pod}/serviceaccount.payments-api.json`,
        `logs/payments/${pod}/main.current.log`,
        `logs/payments/${pod}/main.previous.log`,
      ])
        expect(keyEndingWith(suffix)).not.toBe('');
    }
    expect(keyEndingWith(`kubernetes/nodes/${NODE}.json`)).not.toBe('');
    expect(keyEndingWith('kubernetes/namespaces/payments/networkpolicies.json')).not.toBe('');

    // The chain of custody: every object written is in the record, with the hash of the bytes stored.
    const [record] = await incidents.table().records();
    const custody = record?.evidence ?? [];
    expect(custody.length).toBe(stored().length);
    for (const object of custody) {
      expect(object.bucket).toBe(EVIDENCE_BUCKET);
      expect(object.sha256).toBe(createHash('sha256').update(body(object.key)).digest('hex'));
      expect(object.size).toBe(body(object.key).length);
      expect(object.versionId).toBe(stored().find((o) => o.key === object.key)?.versionId);
    }
    const note = (suffix: string) => custody.find((o) => o.key.endsWith(suffix))?.note;
    // No previous container is recorded as such, not as an error; a long log is cut at the bound and marked.
    expect(note(`logs/payments/${second}/main.previous.log`)).toBe(
      'no previous instance of the container: nothing to keep',
    );
    expect(body(keyEndingWith(`logs/payments/${first}/main.previous.log`)).length).toBe(200);
    expect(body(keyEndingWith(`logs/payments/${second}/main.current.log`)).length).toBe(1024);
    expect(note(`logs/payments/${second}/main.current.log`)).toBe('cut at 1024 bytes (the first 1024 kept)');
    // The notification lists them with the bucket.
    expect(message()).toContain(`Evidence (${custody.length} object(s) in s3://${EVIDENCE_BUCKET}):`);
    for (const object of custody)
      expect(message()).toContain(`${object.key} (${object.size} bytes, sha256 ${object.sha256}`);
  });

  it('captures an SSM-managed host through Run Command before isolating it, and keeps its output', async () => {
    cluster();
    withAccount({ instances: [{ ...nodeInstance(INSTANCE, NODE, 'vol-0c1'), ssm: 'managed' }] });

    const execution = await run({ isolateClusterNodes: true });

    expect(execution.status).toBe('SUCCEEDED');
    const sent = account.ssm.commandCalls(SendCommandCommand)[0]?.args[0].input;
    expect(sent).toMatchObject({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [INSTANCE],
      OutputS3BucketName: EVIDENCE_BUCKET,
    });
    expect((sent?.Parameters?.commands ?? []).join('\n')).toContain(
      "crictl pods --namespace 'payments' --name 'payments-api-",
    );
    const output = stored().find((o) => o.key.includes(`/host/${INSTANCE}/`) && o.key.endsWith('/stdout'));
    expect(Buffer.from(output?.body ?? '', 'base64').toString()).toContain("=== 'process tree'");
    // The capture ended before the host was cut off and its role touched.
    const order = execution.events.filter((e) => e.type === 'StateExited').map((e) => e.state);
    expect(order.indexOf('CollectHostEvidenceItem')).toBeLessThan(order.indexOf('IsolateHostsItem'));
    expect(order.indexOf('CollectHostEvidenceItem')).toBeLessThan(order.indexOf('RevokeIam'));
    const [record] = await incidents.table().records();
    expect(record?.evidence?.some((o) => o.key === output?.key)).toBe(true);
    expect(message()).toMatch(/host\/i-0f1e2d3c4b5a69788\/.*\/stdout \(\d+ bytes, sha256 [0-9a-f]{64}/);
  });

  it('reports an instance without the agent, and a capture that times out, without failing the containment', async () => {
    cluster();
    withAccount({ instances: [{ ...nodeInstance(INSTANCE, NODE, 'vol-0c1'), ssm: 'unmanaged' }] });
    await run();
    expect(message()).toContain(
      `  collect-host-evidence: no SSM agent on ${INSTANCE}: host evidence not collected`,
    );
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.MessageAttributes?.outcome?.StringValue).toBe(
      'contained',
    );

    account.restore();
    sns.resetHistory();
    withAccount({ instances: [{ ...nodeInstance(INSTANCE, NODE, 'vol-0c1'), ssm: 'times-out' }] });
    const execution = await run({}, 'b51d7e2c9f0a4e6b8c3d1f5a7e9b2c4d');
    expect(execution.status).toBe('SUCCEEDED');
    expect(message()).toMatch(
      / {2}collect-host-evidence: not collected: host capture on i-0f1e2d3c4b5a69788 failed: the command ended TimedOut/,
    );
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.MessageAttributes?.outcome?.StringValue).toBe(
      'contained',
    );
  });

  it('pauses the affected containers after the capture when asked, recorded first, and release resumes them', async () => {
    cluster();
    withAccount({ instances: [{ ...nodeInstance(INSTANCE, NODE, 'vol-0c1'), ssm: 'managed' }] });

    await run({ evidence: { pauseContainers: true } });

    const capture = (
      account.ssm.commandCalls(SendCommandCommand)[0]?.args[0].input.Parameters?.commands ?? []
    ).join('\n');
    expect(capture.indexOf("section 'pause'")).toBeGreaterThan(capture.indexOf("section 'memory'"));
    expect(capture).toContain('ctr -n k8s.io tasks pause "$c"');
    const [record] = await incidents.table().records();
    const entry = record?.entries[`collect-host-evidence|-|containers on ${INSTANCE}`];
    expect(entry).toMatchObject({
      status: 'ok',
      before: { instanceId: INSTANCE, pods: [{ namespace: 'payments' }, { namespace: 'payments' }] },
    });

    const report = await releaseIncident(
      { findingId: record?.findingId ?? '', dryRun: false, requestedBy: 'test' },
      {
        store: incidents.store(),
        reach: reachAs('release'),
        closures: memoryClosures(),
        sleep: async () => {},
      },
    );
    const resumed = report.steps.find((step) => step.action === 'collect-host-evidence');
    expect(resumed).toMatchObject({ status: 'ok', target: `containers on ${INSTANCE}` });
    // Resumed last, once the host is reachable: after everything else was undone.
    expect(report.steps.at(-1)?.action).toBe('collect-host-evidence');
    const resume = account.ssm.commandCalls(SendCommandCommand)[1]?.args[0].input;
    expect(resume?.InstanceIds).toEqual([INSTANCE]);
    expect((resume?.Parameters?.commands ?? []).join('\n')).toContain('ctr -n k8s.io tasks resume "$c"');
  });

  it('builds a capture script that quotes only valid names and says when memory capture is not configured', () => {
    const script = hostEvidenceScript(
      [
        { namespace: 'payments', name: 'api-1' },
        { namespace: 'payments', name: "x'; rm -rf / #" },
      ],
      null,
    ).join('\n');
    expect(script).toContain("--namespace 'payments' --name 'api-1'");
    expect(script).not.toContain('rm -rf');
    expect(script).toContain('memory capture not configured (evidence.memoryCaptureCommand)');
    expect(hostEvidenceScript([], '/usr/local/bin/avml /dev/stdout').at(-1)).toBe(
      '/usr/local/bin/avml /dev/stdout',
    );
  });
});
