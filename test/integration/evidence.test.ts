/**
 * Evidence, in the synthesized state machine with the real handlers: the Kubernetes objects, logs and
 * events of the affected pods and the host capture through Systems Manager, in the evidence bucket of the
 * simulated account behind aws-sdk-client-mock, with a chain of custody in the incident record.
 */
import { createHash } from 'node:crypto';
import { CopyObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendCommandCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QUARANTINE_LABEL } from '../../lambdas/core/quarantine.js';
import { evidenceClients } from '../../lambdas/evidence/clients.js';
import { takeStaged } from '../../lambdas/evidence/host-output.js';
import { hostEvidenceScript } from '../../lambdas/evidence/hosts.js';
import { EvidenceWriter } from '../../lambdas/evidence/writer.js';
import { memoryClosures } from '../../lambdas/incident/closures.js';
import { releaseIncident } from '../../lambdas/release/release.js';
import { applyShippedPolicies } from '../../simulation/admission.js';
import { hostAccessKey } from '../../simulation/aws/function-keys.js';
import { roleIdOf } from '../../simulation/aws/iam.js';
import { parseConfig } from '../../simulation/cdk-json.js';
import { isEksToken } from '../../simulation/eks-token.js';
import { KubeApiServer } from '../../simulation/kube-api-server.js';
import { runLocally, synthesizedDefinition } from '../../simulation/runner.js';
import { type FakeAccount, mockAccount, nodeInstance } from '../support/aws-account.js';
import { addDeployment, addSampleNode, enforceNetworkPolicy } from '../support/cluster.js';
import { loadEvent, RESPONDER } from '../support/events.js';
import { useIncidentTable } from '../support/incidents.js';
import { EVIDENCE_BUCKET, HOST_OUTPUT_BUCKET, reachAs, responderHandlers } from '../support/responder.js';

const definition = synthesizedDefinition(parseConfig({ clusters: ['prod-eks'] }), RESPONDER);
const sns = mockClient(SNSClient);
const incidents = useIncidentTable();
let server: KubeApiServer;
let account: ReturnType<typeof mockAccount>;

beforeEach(async () => {
  server = new KubeApiServer(isEksToken);
  applyShippedPolicies(server);
  enforceNetworkPolicy(server);
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
  account = mockAccount({
    clusters: { 'prod-eks': server.url },
    // The nodes' instance profile: its role's session is where the host capture may write.
    instanceProfiles: { 'eks-node-profile': 'eks-node-role' },
    ...fake,
  });
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
    // (The incident report beside them is no evidence: it is drawn from the record.)
    expect(custody.length).toBe(stored().filter((o) => !o.key.endsWith('/report.html')).length);
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
    // The notification counts them with the bucket and prefix; the report lists each with its hash.
    const id = custody[0]?.key.split('/')[1];
    expect(message()).toContain(
      `  evidence           ${custody.length} object(s) in s3://${EVIDENCE_BUCKET}/incidents/${id}/ (each with its SHA-256 in the report)`,
    );
    const report = body(keyEndingWith('/report.html')).toString();
    for (const object of custody)
      expect(report).toContain(
        `s3://${EVIDENCE_BUCKET}/${object.key}</td><td>${object.size}</td><td class="mono">${object.sha256}</td>`,
      );
  });

  it('captures an SSM-managed host through Run Command before isolating it, and the responder takes its output into the evidence', async () => {
    cluster();
    withAccount({ instances: [{ ...nodeInstance(INSTANCE, NODE, 'vol-0c1'), ssm: 'managed' }] });

    const execution = await run({ isolateClusterNodes: true });

    expect(execution.status).toBe('SUCCEEDED');
    const sent = account.ssm.commandCalls(SendCommandCommand)[0]?.args[0].input;
    // The host writes only where it may: its own prefix of the host output bucket, never the evidence bucket.
    const own = `hosts/${roleIdOf('eks-node-role')}:${INSTANCE}/`;
    expect(sent).toMatchObject({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [INSTANCE],
      OutputS3BucketName: HOST_OUTPUT_BUCKET,
    });
    expect(sent?.OutputS3KeyPrefix?.startsWith(own)).toBe(true);
    expect((sent?.Parameters?.commands ?? []).join('\n')).toContain(
      "crictl pods --namespace 'payments' --name 'payments-api-",
    );
    // The responder wrote it into the evidence bucket, hashed as it wrote, and left nothing behind.
    const output = stored().find(
      (o) =>
        o.bucket === EVIDENCE_BUCKET && o.key.includes(`/host/${INSTANCE}/`) && o.key.endsWith('/stdout'),
    );
    const bytes = Buffer.from(output?.body ?? '', 'base64');
    expect(bytes.toString()).toContain("=== 'process tree'");
    expect(stored().filter((o) => o.bucket === HOST_OUTPUT_BUCKET)).toEqual([]);
    const written = account.s3
      .commandCalls(PutObjectCommand)
      .map((call) => call.args[0].input)
      .find((input) => input.Key === output?.key);
    expect(written).toMatchObject({ Bucket: EVIDENCE_BUCKET, IfNoneMatch: '*' });
    // The capture ended before the host was cut off and its role touched.
    const order = execution.events.filter((e) => e.type === 'StateExited').map((e) => e.state);
    expect(order.indexOf('CollectHostEvidenceItem')).toBeLessThan(order.indexOf('IsolateHostsItem'));
    expect(order.indexOf('CollectHostEvidenceItem')).toBeLessThan(order.indexOf('RevokeIam'));
    const [record] = await incidents.table().records();
    expect(record?.evidence?.find((o) => o.key === output?.key)?.sha256).toBe(
      createHash('sha256').update(bytes).digest('hex'),
    );
    // The notification counts the evidence; the report lists each object with its hash.
    expect(message()).toMatch(
      /^ {2}evidence +\d+ object\(s\) in s3:\/\/\S+ \(each with its SHA-256 in the report\)$/m,
    );
    const report = body(stored().find((o) => o.key.endsWith('/report.html'))?.key ?? '').toString();
    expect(report).toMatch(
      /host\/i-0f1e2d3c4b5a69788\/.*\/stdout<\/td><td>\d+<\/td><td class="mono">[0-9a-f]{64}/,
    );
  });

  it('never lets a host write evidence: not into the evidence bucket, not under another host, and what it leaves beside its command is not taken', async () => {
    cluster();
    withAccount({
      instances: [
        { ...nodeInstance(INSTANCE, NODE, 'vol-0c1'), ssm: 'managed' },
        { ...nodeInstance('i-0aaaaaaaaaaaaaaaa', 'ip-10-0-99-1.ec2.internal', 'vol-0c2'), ssm: 'managed' },
      ],
    });
    const asHost = (instance: string, bucket: string, key: string) => () =>
      account.ec2Call('PutObject', {
        Bucket: bucket,
        Key: key,
        Body: 'planted',
        CallerAccessKey: hostAccessKey(instance),
      });
    const own = `hosts/${roleIdOf('eks-node-role')}:${INSTANCE}/`;
    const other = `hosts/${roleIdOf('eks-node-role')}:i-0aaaaaaaaaaaaaaaa/`;
    // The compromised host, with its own role session: the evidence bucket and another host are refused.
    expect(asHost(INSTANCE, EVIDENCE_BUCKET, 'incidents/x/host/stdout')).toThrow(/Access Denied/);
    expect(asHost(INSTANCE, HOST_OUTPUT_BUCKET, `${other}planted`)).toThrow(/Access Denied/);
    // Its own prefix it may write, but only its command's output is taken.
    asHost(INSTANCE, HOST_OUTPUT_BUCKET, `${own}incidents/planted/stdout`)();

    await run();

    expect(stored().filter((o) => o.bucket === EVIDENCE_BUCKET && o.key.includes('planted'))).toEqual([]);
    const [record] = await incidents.table().records();
    expect(record?.evidence?.some((o) => o.key.includes('planted'))).toBe(false);
    expect(record?.evidence?.some((o) => o.key.includes(`/host/${INSTANCE}/`))).toBe(true);
  });

  it('has S3 copy and hash an output too large to read (a memory image), and records S3’s SHA-256', async () => {
    withAccount({ instances: [nodeInstance(INSTANCE, NODE, 'vol-0c1')] });
    const own = `hosts/${roleIdOf('eks-node-role')}:${INSTANCE}/`;
    const image = Buffer.from('a memory image, larger than the bound');
    account.ec2Call('PutObject', {
      Bucket: HOST_OUTPUT_BUCKET,
      Key: `${own}incidents/f/c/host/cmd-1/i-1/awsrunShellScript/0.awsrunShellScript/stdout`,
      Body: image,
      CallerAccessKey: hostAccessKey(INSTANCE),
    });
    const writer = new EvidenceWriter(
      { s3: evidenceClients().s3, bucket: EVIDENCE_BUCKET },
      'incidents/f/c/',
    );
    const taken = await takeStaged(
      evidenceClients().s3,
      HOST_OUTPUT_BUCKET,
      `${own}incidents/f/c/host/cmd-1/`,
      writer,
      {
        name: 'host/i-1/cmd-1/',
        subject: (rest) => `host i-1 (${rest})`,
        note: null,
        hashedBytes: 8,
      },
    );

    expect(taken.problems).toEqual([]);
    expect(account.s3.commandCalls(CopyObjectCommand)[0]?.args[0].input).toMatchObject({
      Bucket: EVIDENCE_BUCKET,
      Key: 'incidents/f/c/host/i-1/cmd-1/i-1/awsrunShellScript/0.awsrunShellScript/stdout',
      ChecksumAlgorithm: 'SHA256',
    });
    expect(taken.objects).toEqual([
      expect.objectContaining({
        key: 'incidents/f/c/host/i-1/cmd-1/i-1/awsrunShellScript/0.awsrunShellScript/stdout',
        sha256: createHash('sha256').update(image).digest('hex'),
        note: 'larger than 8 bytes: copied and hashed by S3',
      }),
    ]);
    expect(stored().filter((o) => o.bucket === HOST_OUTPUT_BUCKET)).toEqual([]);
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
