/**
 * Recover: after a replay contained a confirmed incident, the quarantined pods and the compromised hosts
 * are replaced once the evidence is complete, in the simulation and in local mode.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { incidents } from '../../commands/incidents.js';
import { recover } from '../../commands/recover.js';
import { release } from '../../commands/release.js';
import { replay } from '../../commands/replay.js';
import { QUARANTINE_LABEL } from '../../lambdas/core/quarantine.js';
import { simulatedAccount } from '../../simulation/account.js';
import { AwsApiServer } from '../../simulation/aws-api-server.js';
import { LocalIncidentTable } from '../../simulation/incident-table.js';
import { KubeApiServer } from '../../simulation/kube-api-server.js';
import { loadSimulation, type SavedSimulation } from '../../simulation/simulation.js';
import { enforceNetworkPolicy, localModeArgs, node, pod } from '../support/cluster.js';
import { mockDeployedStack, payloadOf } from '../support/deployed.js';
import { EVENTS_DIR, loadEvent } from '../support/events.js';
import { asked, callersOf } from '../support/persons.js';

const quiet = () => {};
/** A Lambda answer's payload as the SDK hands it over (its blob adapter only adds helpers). */

function command(run: typeof recover, state?: string) {
  const lines: string[] = [];
  const errors: string[] = [];
  const call = (args: string[]) =>
    run(
      state ? [...args, '--state', state] : args,
      (l) => lines.push(l),
      (l) => errors.push(l),
    );
  return { call, lines, errors, text: () => lines.join('\n') };
}

const quarantinedPods = (saved: SavedSimulation | null) =>
  (saved?.world.objects ?? []).filter(
    (o) => o.resource === 'pods' && QUARANTINE_LABEL in (o.object.metadata.labels ?? {}),
  );

/** What EBS does some time after a snapshot started: every pending snapshot of the saved account completes. */
function completeSnapshots(state: string) {
  const saved = JSON.parse(readFileSync(state, 'utf8'));
  for (const snapshot of saved.world.account.snapshots) snapshot.CompletesAt = new Date(0).toISOString();
  writeFileSync(state, JSON.stringify(saved));
}

describe('recover after a replay', () => {
  it('refuses while a snapshot is pending, then replaces the pods and hosts and keeps IAM revoked', async () => {
    const state = join(mkdtempSync(join(tmpdir(), 'recover-')), 'simulation.json');
    const event = 'eks-runtime-new-binary-executed.json';
    const id = loadEvent(event).detail.id;
    expect(await replay([`${EVENTS_DIR}${event}`, '--state', state], quiet, quiet)).toBe(0);
    const contained = readFileSync(state, 'utf8');
    expect(quarantinedPods(loadSimulation(state))).toHaveLength(2);

    const refused = command(recover, state);
    expect(await refused.call([id])).toBe(1);
    expect(refused.errors.at(-1)).toMatch(
      /^recover: snapshots not completed yet: snap-\d+ pending, snap-\d+ pending; nothing changed/,
    );
    expect(readFileSync(state, 'utf8')).toBe(contained);

    completeSnapshots(state);
    const dry = command(recover, state);
    expect(await dry.call([id, '--dry-run'])).toBe(0);
    expect(dry.text()).toContain(`Dry run of the recovery of finding ${id}: the incident is open.`);
    expect(quarantinedPods(loadSimulation(state))).toHaveLength(2);

    const done = command(recover, state);
    expect(await done.call([id]), [...done.lines, ...done.errors].join('\n')).toBe(0);
    const text = done.text();
    expect(text).toContain(`Recovery of finding ${id}: the incident is recovered.`);
    // A deleted pod stays, terminating, until its kubelet confirms: success, said as such.
    expect(text).toMatch(
      /pod payments\/payments-api-\S+: ok: deleted, terminating: its kubelet stops it by \S+ \(or it goes with its node\) \(owned by ReplicaSet: its controller starts a fresh pod\)/,
    );
    expect(text).toMatch(/node ip-10-0-12-34\.ec2\.internal: ok: drained/);
    expect(text).toMatch(
      /instance i-0f1e2d3c4b5a69788: ok: terminated in eks-prod-eks-nodes after snapshots snap-\d+ completed/,
    );
    expect(text).toContain('IAM stays revoked. Rotate the credentials of role payments-payments-api-irsa');
    // Pods first, then nodes, then instances.
    expect(text.indexOf('pod payments/')).toBeLessThan(text.indexOf('node ip-'));
    expect(text.indexOf('node ip-')).toBeLessThan(text.indexOf('instance i-'));

    const recovered = loadSimulation(state);
    expect(quarantinedPods(recovered)).toEqual([]);
    const replicaSets = recovered?.world.objects.filter((o) => o.resource === 'replicasets') ?? [];
    expect(replicaSets.length).toBeGreaterThan(0);
    for (const replicaSet of replicaSets) {
      const selector = (replicaSet.object.spec as { selector: { matchLabels: Record<string, string> } })
        .selector.matchLabels;
      const selected = (recovered?.world.objects ?? []).filter(
        (o) =>
          o.resource === 'pods' &&
          Object.entries(selector).every(([key, value]) => o.object.metadata.labels?.[key] === value),
      );
      expect(selected.filter((o) => QUARANTINE_LABEL in (o.object.metadata.labels ?? {}))).toEqual([]);
    }
    const instances = recovered?.world.account.instances ?? [];
    for (const instanceId of ['i-0f1e2d3c4b5a69788', 'i-0d721f99a2035b0b2']) {
      expect(instances.find((i) => i.instanceId === instanceId)).toMatchObject({
        state: 'terminated',
        terminationProtection: false,
        scaleInProtected: false,
      });
    }
    expect(recovered?.world.account.snapshots?.every((s) => s.State === 'completed')).toBe(true);
    expect(recovered?.world.account.roles?.['payments-payments-api-irsa']).toEqual({
      attached: [],
      inline: {},
    });
    const record = recovered?.incidents.find((r) => r.findingId === id);
    expect(record?.state).toBe('recovered');
    expect(record?.recovery).toBeUndefined();
    expect(record?.recoveries?.map((r) => r.dryRun)).toEqual([true, false]);
    expect(record?.recoveries?.[1]?.steps.map((s) => s.status)).not.toContain('failed');

    const listed = command(incidents, state);
    expect(await listed.call(['--all'])).toBe(0);
    expect(listed.text()).toMatch(new RegExp(`${id} {2}recovered`));

    const again = command(recover, state);
    expect(await again.call([id])).toBe(1);
    expect(again.errors.at(-1)).toMatch(
      /^recover: finding \w+ is recovered: only an open incident is recovered/,
    );
    const released = command(release, state);
    expect(await released.call([id])).toBe(2);
    expect(released.errors.at(-1)).toMatch(
      /^release: finding \w+ is recovered: its pods and hosts were replaced/,
    );
  });
});

describe('what recover leaves to a person', () => {
  it('reports an instance in no Auto Scaling group as left for a person, keeps the incident open and listed until it is dealt with', async () => {
    const state = join(mkdtempSync(join(tmpdir(), 'recover-')), 'simulation.json');
    const event = 'ec2-backdoor-cc-activity.json';
    const id = loadEvent(event).detail.id;
    expect(await replay([`${EVENTS_DIR}${event}`, '--state', state], quiet, quiet)).toBe(0);
    completeSnapshots(state);
    const done = command(recover, state);
    expect(await done.call([id])).toBe(0);
    expect(done.text()).toContain(
      'instance i-0c1d2e3f4a5b60718: manual: in no Auto Scaling group: nothing would launch a replacement',
    );
    expect(done.text()).toContain(
      'Left for a person (nothing here can replace them): instance i-0c1d2e3f4a5b60718.',
    );
    const instance = loadSimulation(state)?.world.account.instances?.find(
      (i) => i.instanceId === 'i-0c1d2e3f4a5b60718',
    );
    expect(instance?.state ?? 'running').toBe('running');
    expect(instance?.terminationProtection).toBe(true);
    // Not "recovered" while something is left for a person: open, and listed.
    expect(done.text()).toContain(`Recovery of finding ${id}: the incident is open.`);
    expect(done.text()).toContain('The incident stays open (npm run incidents lists it)');
    const listed = command(incidents, state);
    expect(await listed.call([])).toBe(0);
    expect(listed.text()).toMatch(new RegExp(`${id} {2}open`));

    // The person terminates it by hand; the next recovery finds it gone and closes the incident.
    const saved = JSON.parse(readFileSync(state, 'utf8'));
    const own = saved.world.account.instances.find(
      (i: { instanceId: string }) => i.instanceId === 'i-0c1d2e3f4a5b60718',
    );
    own.state = 'terminated';
    writeFileSync(state, JSON.stringify(saved));
    const after = command(recover, state);
    expect(await after.call([id])).toBe(0);
    expect(after.text()).toContain(`Recovery of finding ${id}: the incident is recovered.`);
    expect(after.text()).toContain(
      'instance i-0c1d2e3f4a5b60718: skipped: already terminated (by hand): nothing left to replace',
    );
    const closed = command(incidents, state);
    await closed.call([]);
    expect(closed.text()).not.toContain(id);
  });
});

/** A local replay of an audit finding against a kubeconfig cluster, an AWS-compatible endpoint and table. */
async function localRehearsal(options: { karpenter?: boolean; graceSeconds?: number } = {}) {
  const kube = new KubeApiServer();
  enforceNetworkPolicy(kube);
  await kube.start();
  const nodeName = 'ip-10-0-9-9.ec2.internal';
  if (options.karpenter)
    kube.add('nodeclaims', {
      metadata: { name: 'default-x7k2p' },
      status: { nodeName, providerID: 'aws:///us-east-1a/i-0aaaaaaaaaaaaaaa1' },
    });
  const uid = 'rs-uid';
  kube.add('replicasets', {
    metadata: { name: 'backup-agent-7f', namespace: 'ops', uid, labels: { app: 'backup' } },
    spec: { selector: { matchLabels: { app: 'backup' } } },
  });
  const agent = pod({
    name: 'backup-agent',
    namespace: 'ops',
    labels: { app: 'backup' },
    nodeName,
    owner: { kind: 'ReplicaSet', name: 'backup-agent-7f', uid },
  });
  kube.add(
    'pods',
    options.graceSeconds === undefined
      ? agent
      : { ...agent, spec: { ...agent.spec, terminationGracePeriodSeconds: options.graceSeconds } },
  );
  kube.add('pods', pod({ name: 'web-1', namespace: 'shop', nodeName }));
  kube.add(
    'pods',
    pod({
      name: 'aws-node-x',
      namespace: 'kube-system',
      nodeName,
      owner: { kind: 'DaemonSet', name: 'aws-node', uid: 'ds' },
    }),
  );
  kube.add(
    'nodes',
    node(nodeName, 'i-0aaaaaaaaaaaaaaa1', options.karpenter ? { 'karpenter.sh/nodepool': 'default' } : {}),
  );
  const table = await LocalIncidentTable.start();
  const account = simulatedAccount({
    macKey: table.macKey,
    snapshotSeconds: 0,
    instances: [
      {
        instanceId: 'i-0aaaaaaaaaaaaaaa1',
        privateDnsName: nodeName,
        // A Karpenter node is in no group: Karpenter replaces it when its NodeClaim goes.
        ...(options.karpenter
          ? {}
          : {
              autoScalingGroup: 'nodes',
              // As host isolation leaves an instance of a group: out of service. Auto Scaling refuses to
              // terminate it there (as the simulated group does), so recover takes it out of Standby first.
              lifecycleState: 'Standby',
            }),
        volumes: [{ volumeId: 'vol-0aaaaaaaaaaaaaaa1', deviceName: '/dev/xvda' }],
      },
    ],
  });
  const aws = new AwsApiServer(account, table.url);
  await aws.start();
  const local = localModeArgs(kube.url, aws.url, table.macKey.keyId);
  const event = 'eks-audit-container-with-sensitive-mount.json';
  const replayed = command(replay as typeof recover);
  const code = await replayed.call([`${EVENTS_DIR}${event}`, ...local]);
  return {
    kube,
    aws,
    table,
    local,
    code,
    id: loadEvent(event).detail.id,
    // Settled, not all: a test may have stopped the API server already, on purpose.
    stop: () => Promise.allSettled([kube.stop(), aws.stop(), table.stop()]),
  };
}

describe('recover in local mode', () => {
  it('replaces from this machine what a local replay contained in a kubeconfig cluster', async () => {
    const { kube, aws, table, local, code, id, stop } = await localRehearsal();
    try {
      expect(code).toBe(0);
      expect(kube.get('pods', 'ops', 'backup-agent')?.metadata.labels?.[QUARANTINE_LABEL]).toBeDefined();

      const done = command(recover);
      expect(await done.call([id, ...local]), [...done.lines, ...done.errors].join('\n')).toBe(0);
      expect(done.text()).toContain(`Recovery of finding ${id}: the incident is recovered.`);
      // Deleted and evicted pods terminate: they stay until their kubelet confirms, within their grace period.
      expect(kube.get('pods', 'ops', 'backup-agent')?.metadata.deletionTimestamp).toBeDefined();
      expect(kube.get('pods', 'shop', 'web-1')?.metadata.deletionTimestamp).toBeDefined();
      expect(done.text()).toContain('pod ops/backup-agent: ok: deleted, terminating');
      expect(done.text()).toMatch(/node ip-10-0-9-9\.ec2\.internal: ok: drained: evicted 1 pod\(s\)/);
      const evictions = kube.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/eviction'));
      expect(evictions.map((r) => r.path)).toEqual(['/api/v1/namespaces/shop/pods/web-1/eviction']);
      // The quarantine policy stays while its pods still run; the DaemonSet pod is the node's.
      expect(done.text()).toContain('networkpolicy ops/guardduty-responder-quarantine: skipped: kept');
      kube.elapse(31);
      expect(kube.get('pods', 'ops', 'backup-agent')).toBeUndefined();
      expect(kube.get('pods', 'shop', 'web-1')).toBeUndefined();
      expect(kube.get('pods', 'kube-system', 'aws-node-x')?.metadata.deletionTimestamp).toBeUndefined();
      const operations = aws.requests.map((r) => r.operation);
      expect(operations.filter((o) => o === 'TerminateInstanceInAutoScalingGroup')).toHaveLength(1);
      expect(operations.lastIndexOf('ExitStandby')).toBeGreaterThan(-1);
      expect(operations.lastIndexOf('ExitStandby')).toBeLessThan(
        operations.indexOf('TerminateInstanceInAutoScalingGroup'),
      );
      expect(done.text()).toContain(
        'instance i-0aaaaaaaaaaaaaaa1: ok: terminated in nodes after snapshots snap-00000000000000001 completed',
      );
      const [record] = await table.records();
      expect(record?.state).toBe('recovered');
    } finally {
      await stop();
    }
  });

  it('watches the deleted pod from this machine with --wait, until its kubelet confirms', async () => {
    const { local, code, id, stop } = await localRehearsal({ graceSeconds: 1 });
    try {
      expect(code).toBe(0);
      const done = command(recover);
      expect(await done.call([id, ...local, '--wait']), [...done.lines, ...done.errors].join('\n')).toBe(0);
      expect(done.text()).toMatch(/1 deleted pod\(s\) still terminating until their kubelets confirm/);
      expect(done.lines.at(-1)).toBe(`The recovery of finding ${id} watched 1 deleted pod(s): 1 gone.`);
    } finally {
      await stop();
    }
  });

  it('replaces a Karpenter node by deleting its NodeClaim, its termination protection lifted first', async () => {
    const { kube, aws, local, code, id, stop } = await localRehearsal({ karpenter: true });
    try {
      expect(code).toBe(0);
      const done = command(recover);
      expect(await done.call([id, ...local]), [...done.lines, ...done.errors].join('\n')).toBe(0);
      expect(done.text()).toContain(
        'instance i-0aaaaaaaaaaaaaaa1: ok: NodeClaim default-x7k2p deleted after snapshots snap-00000000000000001 completed: Karpenter drains node ip-10-0-9-9.ec2.internal, terminates the instance and launches a replacement',
      );
      expect(kube.list('nodeclaims')).toEqual([]);
      const operations = aws.requests.map((r) => r.operation);
      expect(operations).not.toContain('TerminateInstanceInAutoScalingGroup');
      expect(operations.lastIndexOf('ModifyInstanceAttribute')).toBeGreaterThan(-1);
      const deletion = kube.requests.find((r) => r.method === 'DELETE' && r.path.includes('/nodeclaims/'));
      expect(deletion?.path).toBe('/apis/karpenter.sh/v1/nodeclaims/default-x7k2p');
    } finally {
      await stop();
    }
  });

  it('fails loudly when the API server is gone: nothing terminated, the incident stays open', async () => {
    const { kube, aws, table, local, code, id, stop } = await localRehearsal();
    try {
      expect(code).toBe(0);
      await kube.stop();
      const failed = command(recover);
      expect(await failed.call([id, ...local])).toBe(1);
      const text = failed.text();
      expect(text).toContain(`Recovery of finding ${id}: the incident is open.`);
      expect(text).toMatch(
        /pod ops\/backup-agent: failed: ClusterUnreachableError: API server https:\/\/\S+ not reached .*ECONNREFUSED/,
      );
      expect(text).toMatch(/node ip-10-0-9-9\.ec2\.internal: failed: /);
      expect(text).toContain(
        'instance i-0aaaaaaaaaaaaaaa1: skipped: its node (or a node it may be) was not drained',
      );
      expect(text).toContain('Some steps failed: the incident stays open; fix the cause and recover again.');
      expect(aws.requests.map((r) => r.operation)).not.toContain('TerminateInstanceInAutoScalingGroup');
      const [record] = await table.records();
      expect(record?.state).toBe('open');
      expect(record?.recoveries?.at(-1)?.steps.map((step) => step.status)).toContain('failed');
    } finally {
      await stop();
    }
  });
});

describe('recover through the deployed stack', () => {
  it('invokes the function the stack names with the caller as requester, and exits 1 on a refusal', async () => {
    const { InvokeCommand } = await import('@aws-sdk/client-lambda');
    const { lambda, restore } = mockDeployedStack(
      { RecoverFunctionName: 'responder-recover' },
      'arn:aws:sts::111122223333:assumed-role/ir/alice',
    );
    try {
      const report = {
        findingId: 'f1',
        dryRun: false,
        state: 'recovered',
        steps: [{ kind: 'pod', target: 'pod shop/web-1', status: 'ok', detail: 'deleted' }],
        kept: [
          {
            action: 'revoke-iam',
            targets: ['role web'],
            advice: 'IAM stays revoked. Rotate the credentials of role web and review their policies.',
          },
        ],
      };
      lambda.on(InvokeCommand).resolves({ Payload: payloadOf(report) });
      const done = command(recover);
      expect(await done.call(['f1', '--deployed', 'GuardDutyResponder', '--region', 'us-east-1'])).toBe(0);
      expect(lambda.commandCalls(InvokeCommand)[0]?.args[0].input).toMatchObject({
        FunctionName: 'responder-recover',
      });
      const payload = lambda.commandCalls(InvokeCommand)[0]?.args[0].input.Payload;
      expect(JSON.parse(String(payload))).toEqual({
        findingId: 'f1',
        dryRun: false,
        caller: expect.stringMatching(/^gdr-caller-v1\./),
      });
      expect(done.text()).toContain('Deployed: responder-recover');
      expect(done.text()).toContain('pod shop/web-1: ok: deleted');
      expect(done.text()).toContain('Rotate the credentials of role web');

      lambda.on(InvokeCommand).resolves({
        FunctionError: 'Unhandled',
        Payload: payloadOf({
          errorType: 'RecoverError',
          errorMessage: 'snapshots not completed yet: snap-1 pending',
        }),
      });
      const refused = command(recover);
      expect(await refused.call(['f1', '--deployed', 'GuardDutyResponder'])).toBe(1);
      expect(refused.errors).toEqual(['recover: RecoverError: snapshots not completed yet: snap-1 pending']);
    } finally {
      restore();
    }
  });
});

describe('the notice of a release or recovery', () => {
  it('publishes the state the incident is in afterwards and who asked, nothing for a dry run', async () => {
    const { PublishCommand, SNSClient } = await import('@aws-sdk/client-sns');
    const { mockClient } = await import('aws-sdk-client-mock');
    const { personRequestHandler } = await import('../../lambdas/notify/person-request.js');
    const { describeRecovery } = await import('../../lambdas/recover/recover.js');
    const sns = mockClient(SNSClient);
    // Who asked comes from STS: the simulated one here.
    const { simulatedAccount } = await import('../../simulation/account.js');
    const { AwsApiServer } = await import('../../simulation/aws-api-server.js');
    const sts = new AwsApiServer(simulatedAccount({}));
    const at = { overrides: { region: 'us-east-1', endpoint: await sts.start() } };
    try {
      sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
      const handle = personRequestHandler(
        'recover',
        async (request) => ({
          findingId: request.findingId,
          dryRun: request.dryRun,
          state: 'open' as const,
          steps: [
            {
              kind: 'drain' as const,
              target: 'node n1',
              status: 'failed' as const,
              detail: 'API server not reached',
            },
          ],
          kept: [],
          watch: null,
        }),
        describeRecovery,
        new SNSClient({ region: 'us-east-1' }),
        'arn:aws:sns:us-east-1:111122223333:responder',
        callersOf(at),
      );
      await handle(await asked(at, 'recover', { findingId: 'f1' }));
      const [publish] = sns.commandCalls(PublishCommand).map((call) => call.args[0].input);
      expect(publish?.Subject).toBe('[guardduty-responder] recover: open: f1');
      expect(publish?.MessageAttributes?.outcome?.StringValue).toBe('open');
      expect(publish?.Message).toContain('node n1: failed: API server not reached');
      expect(publish?.Message).toContain('Some steps failed: the incident stays open');
      expect(publish?.Message).toContain('Requested by arn:aws:iam::111122223333:user/alice.');

      await handle(await asked(at, 'recover', { findingId: 'f1', dryRun: true }));
      expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
      await expect(handle({ findingId: '' })).rejects.toThrow(/^recover input is not valid/);
      // A name in the request is no proof: refused in one line, nothing run.
      await expect(
        handle({ findingId: 'f1', requestedBy: 'arn:aws:iam::111122223333:user/alice' }),
      ).rejects.toThrow(/^recover input is not valid \(.*requestedBy.*\); nothing was done$/);
      expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    } finally {
      sns.restore();
      await sts.stop();
    }
  });
});
