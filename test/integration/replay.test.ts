/** The replay command: argument handling, rewriting, bad input, the simulation, dry-run, deployed mode. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { incidents } from '../../commands/incidents.js';
import { recover } from '../../commands/recover.js';
import { release } from '../../commands/release.js';
import {
  deployedClients,
  historyToEvents,
  runDeployed,
  stateMachineArn,
} from '../../commands/replay/deployed.js';
import { rewriteEvent } from '../../commands/replay/rewrite.js';
import { timeline } from '../../commands/replay/timeline.js';
import { parseReplayArgs, replay } from '../../commands/replay.js';
import { QUARANTINE_LABEL } from '../../lambdas/core/quarantine.js';
import { loadSimulation, type Simulation } from '../../simulation/simulation.js';
import { kubeconfigFor, localModeArgs } from '../support/cluster.js';
import { EVENTS_DIR, eventFiles, loadEvent } from '../support/events.js';

/** Where these replays save their simulation, instead of the working directory. */
const STATE = join(mkdtempSync(join(tmpdir(), 'replay-')), 'simulation.json');

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let simulation: Simulation | undefined;
  const code = await replay(
    [...args, '--state', STATE],
    (l) => out.push(l),
    (l) => err.push(l),
    { onSimulation: (s) => (simulation = s) },
  );
  return { code, out: out.join('\n'), err, simulation };
}
const tmp = mkdtempSync(join(tmpdir(), 'replay-'));
const file = (name: string, content: string) => {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
};

describe('replay arguments', () => {
  it('chooses the mode from the options', () => {
    expect(parseReplayArgs(['e.json']).mode).toBe('simulation');
    expect(
      parseReplayArgs(['e.json', '--kubeconfig', 'k', '--endpoint-url', 'http://localhost:4566']),
    ).toMatchObject({
      mode: 'local',
      kubeconfig: 'k',
      endpointUrl: 'http://localhost:4566',
    });
    expect(parseReplayArgs(['e.json', '--deployed', 'GuardDutyResponder', '--dry-run'])).toMatchObject({
      mode: 'deployed',
      deployed: 'GuardDutyResponder',
      dryRun: true,
    });
    expect(
      parseReplayArgs(['e.json', '--cluster', 'c', '--namespace', 'n', '--pod', 'p', '--instance', 'i-1'])
        .rewrites,
    ).toEqual({
      cluster: 'c',
      namespace: 'n',
      pod: 'p',
      instance: 'i-1',
    });
  });

  it.each([
    [[], 'give exactly one event file'],
    [['a.json', 'b.json'], 'give exactly one event file'],
    [['a.json', '--deployed', 's', '--kubeconfig', 'k'], '--deployed runs in the account'],
    [['a.json', '--endpoint-url', 'http://x'], '--endpoint-url is for the local mode'],
    [['a.json', '--bogus'], "Unknown option '--bogus'"],
  ])('rejects %j with exit code 2', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toContain(message);
  });

  it('ends an unknown option’s line with the usage, and prints the usage for --help, exit code 0', async () => {
    const bad = await run(['a.json', '--bogus']);
    expect(bad.err[0]).toMatch(
      /^replay: Unknown option '--bogus'; usage: npm run replay -- <event\.json> \[--dry-run\]/,
    );
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.err).toEqual([]);
    expect(help.out).toMatch(/^usage: npm run replay -- <event\.json> .*\[--kubeconfig KUBECONFIG\]/);
  });
});

describe('rewriting a sample onto a test workload', () => {
  it('points cluster, namespace, pod and instance at the canary', () => {
    const event = loadEvent('eks-runtime-new-binary-executed.json');
    const rewritten = rewriteEvent(event, {
      cluster: 'staging',
      namespace: 'canary',
      pod: 'canary-0',
      instance: 'i-0canary',
    }) as typeof event;
    expect(rewritten.detail.resource.eksClusterDetails.name).toBe('staging');
    expect(rewritten.detail.resource.kubernetesDetails.kubernetesWorkloadDetails).toMatchObject({
      namespace: 'canary',
      name: 'canary-0',
      type: 'pods',
    });
    expect(rewritten.detail.resource.instanceDetails.instanceId).toBe('i-0canary');
    expect(rewritten.detail.resource.instanceDetails.tags).toContainEqual({
      key: 'eks:cluster-name',
      value: 'staging',
    });
    expect(event.detail.resource.eksClusterDetails.name).toBe('prod-eks');
  });

  it('replays the rewritten finding against the canary', async () => {
    const result = await run([
      `${EVENTS_DIR}eks-runtime-fileless-execution.json`,
      '--cluster',
      'staging',
      '--namespace',
      'canary',
      '--pod',
      'canary-0',
    ]);
    expect(result.code).toBe(0);
    expect(result.out).toContain('ok pod canary/canary-0: labelled guardduty-responder/quarantine=');
    expect(result.out).toContain('Found: cluster staging (reached)');
    expect(result.out).toContain('  cut off: pod canary/canary-0: 1 pod(s) isolated');
  });
});

describe('bad input', () => {
  it.each([
    ['not JSON', file('broken.json', '{"detail": '), /^replay: .*broken\.json: not JSON \(/],
    [
      'a field of the wrong type',
      file(
        'typed.json',
        JSON.stringify({
          ...loadEvent('eks-audit-privileged-container.json'),
          detail: { ...loadEvent('eks-audit-privileged-container.json').detail, severity: 'high' },
        }),
      ),
      /^replay: .*typed\.json: not a GuardDuty finding event: detail\.severity: Invalid input: expected number, received string$/,
    ],
    [
      'not a GuardDuty finding',
      file('other.json', JSON.stringify({ source: 'aws.s3', detail: {} })),
      /^replay: .*other\.json: not a GuardDuty finding event: .* \(and \d+ more\)$/,
    ],
    ['a missing file', join(tmp, 'missing.json'), /^replay: .*missing\.json: cannot be read \(ENOENT\)$/],
  ])('answers %s with one line naming the file, and exit code 2', async (_what, path, message) => {
    const result = await run([path]);
    expect(result.code).toBe(2);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(message);
  });
});

describe('simulation', () => {
  /**
   * What each sample ends with in the default configuration, said first. Contained only where every
   * compromised target is cut off; the exit code (and the execution) fails otherwise.
   */
  const OUTCOMES: Record<string, string> = {
    'attack-sequence-eks-compromised-cluster.json': 'NOT CONTAINED (held back)', // severity 9: outside 4–8.9
    'attack-sequence-iam-compromised-credentials.json': 'IDENTIFIED', // names nothing to cut off
    'ec2-backdoor-cc-activity.json': 'CONTAINED',
    'ec2-bitcoin-tool-dns-on-eks-node.json': 'NOT CONTAINED (held back)', // a node: isolateClusterNodes
    'ec2-ssh-brute-force-inbound-low-severity.json': 'NOT CONTAINED (held back)', // severity 2
    'ec2-ssh-brute-force-outbound.json': 'CONTAINED',
    'eks-audit-admin-access-to-default-service-account.json': 'IDENTIFIED', // report-only
    'eks-audit-anonymous-access-granted.json': 'IDENTIFIED',
    'eks-audit-container-with-sensitive-mount.json': 'CONTAINED',
    'eks-audit-discovery-successful-anonymous-access.json': 'IDENTIFIED',
    'eks-audit-exec-in-kube-system-pod.json': 'NOT CONTAINED (protected)', // kube-proxy
    'eks-audit-exposed-dashboard.json': 'IDENTIFIED',
    'eks-audit-impact-successful-anonymous-access.json': 'IDENTIFIED',
    'eks-audit-privileged-container.json': 'CONTAINED',
    'eks-runtime-bitcoin-tool-dns.json': 'CONTAINED',
    'eks-runtime-fileless-execution.json': 'CONTAINED',
    'eks-runtime-new-binary-executed.json': 'CONTAINED',
    'eks-runtime-new-library-loaded.json': 'CONTAINED',
    'guardduty-sample-privileged-container.json': 'SAMPLE FINDING, would be NOT CONTAINED (not found)',
    'iam-instance-credential-exfiltration-outside-aws.json': 'CONTAINED',
  };

  it.each(eventFiles())('replays %s to a short notification that says its outcome first', async (name) => {
    const result = await run([`${EVENTS_DIR}${name}`]);
    const outcome = OUTCOMES[name];
    expect(outcome).toBeDefined();
    const fine = outcome === 'CONTAINED' || outcome === 'IDENTIFIED' || outcome?.startsWith('SAMPLE');
    expect(result.code).toBe(fine ? 0 : 1);
    const subject = /^Notification: \[guardduty-responder\] (.*)$/m.exec(result.out)?.[1] ?? '';
    expect(subject.startsWith(`${outcome}: `)).toBe(true);
    const message =
      result.out.split(/^Notification: .*\n\n/m)[1]?.split(/\n\n(Security Hub|Incident report)/)[0] ?? '';
    expect(message.startsWith(`${outcome}: `)).toBe(true);
    expect(message.split('\n').length).toBeLessThanOrEqual(45);
    expect(Buffer.byteLength(message)).toBeLessThan(4500);
    expect(result.out).toMatch(/^Incident report: .*\.html$/m);
  });

  it('shows the whole response in the timeline', async () => {
    const result = await run([`${EVENTS_DIR}eks-audit-privileged-container.json`]);
    for (const pattern of [
      /IsolatePods .* ok networkpolicy shop\/guardduty-responder-quarantine/,
      /ok pod shop\/web-frontend-\w+-\w+: labelled guardduty-responder\/quarantine=/,
      /CordonNodesItem .* ok node ip-10-0-1-1\d\.us-east-1\.compute\.internal: cordoned \(verified\)/,
      /ProtectInstancesItem .* ok instance i-\w+: termination protection on; .*scale-in protection on/,
      /ok role shop-app-irsa: detached 1 managed policy/,
      /skipped role eks-node-role: the instance-profile role of nodes that run the affected pods/,
      /SnapshotVolumesItem .* ok volume vol-\w+ \(i-\w+ \/dev\/xvda\): snapshot snap-\d+ started/,
      /Notify .* outcome contained/,
    ]) {
      expect(result.out).toMatch(pattern);
    }
  });

  it('lists the evidence objects of a runtime finding in the notification', async () => {
    const result = await run([`${EVENTS_DIR}eks-runtime-new-binary-executed.json`]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      /CollectPodEvidence .* \d+ evidence object\(s\) in s3:\/\/guardduty-responder-evidence-simulation/,
    );
    // One line in the notification; each object, with its hash, in the report.
    expect(result.out).toMatch(
      /^ {2}evidence +19 object\(s\) in s3:\/\/guardduty-responder-evidence-simulation\/incidents\/a40b6e451d346c734d1ed1b874607990\/ \(each with its SHA-256 in the report\)$/m,
    );
    const report = readFileSync(/^Incident report: (.*)$/m.exec(result.out)?.[1] ?? '', 'utf8');
    for (const kind of [
      '/pod.json',
      '/owner.Deployment.payments-api.json',
      '/events.json',
      '.current.log',
      '/stdout',
    ])
      expect(report).toMatch(
        new RegExp(
          `incidents/\\w+/\\S+${kind.replace(/\./g, '\\.')}</td><td>\\d+</td><td class="mono">[0-9a-f]{64}</td>`,
        ),
      );
  });

  it('shows the interfaces of a standalone instance isolated in the timeline', async () => {
    const result = await run([`${EVENTS_DIR}ec2-backdoor-cc-activity.json`]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      /IsolateHostsItem .* ok instance i-0c1d2e3f4a5b60718: eni-0a1b2c3d4e5f60718 through allow-all group sg-\w+ first \(open connections untracked\); interfaces eni-0a1b2c3d4e5f60718 in quarantine group sg-\w+ \(created\); deregistered from arn:aws:elasticloadbalancing:\S+; tagged guardduty-responder:quarantined=\w+ \(verified\)/,
    );
    const saved = loadSimulation(STATE);
    const instance = saved?.world.account.instances?.find((i) => i.instanceId === 'i-0c1d2e3f4a5b60718');
    const quarantine = saved?.world.account.securityGroups?.find((g) =>
      g.GroupName.startsWith('guardduty-responder-quarantine-'),
    );
    expect(instance?.networkInterfaces?.map((eni) => eni.groups)).toEqual([[quarantine?.GroupId]]);
  });

  it('simulates the pod as the finding describes it: a system pod protected, a hostNetwork pod not isolated', async () => {
    const coredns = loadEvent('eks-audit-exec-in-kube-system-pod.json');
    coredns.detail.resource.kubernetesDetails.kubernetesWorkloadDetails.name = 'coredns-6d4b75cb6d-x2x8n';
    const protectedRun = await run([file('coredns.json', JSON.stringify(coredns))]);
    expect(protectedRun.code).toBe(1);
    expect(protectedRun.out).toContain(
      '  NOT cut off (protected): pod kube-system/coredns-6d4b75cb6d-x2x8n: protected workload (kube-system k8s-app in (kube-dns,aws-node,kube-proxy,ebs-csi-node,ebs-csi-controller)): identified and reported, never isolated',
    );
    expect(
      protectedRun.simulation?.kube.get('pods', 'kube-system', 'coredns-6d4b75cb6d-x2x8n')?.metadata.labels,
    ).toEqual({
      app: 'coredns-6d4b75cb6d-x2x8n',
      'k8s-app': 'kube-dns',
      'eks.amazonaws.com/component': 'coredns',
    });

    const host = loadEvent('eks-audit-container-with-sensitive-mount.json');
    Object.assign(host.detail.resource.kubernetesDetails.kubernetesWorkloadDetails, { hostNetwork: true });
    const hostRun = await run([file('host-network.json', JSON.stringify(host))]);
    // A NetworkPolicy does not apply to a pod on the node's network: not cut off, and said so.
    expect(hostRun.code).toBe(1);
    expect(hostRun.out).toContain(
      '  NOT cut off (not enforced): pod ops/backup-agent: 0 of 1 pod(s) isolated; pod ops/backup-agent: labelled, but NOT isolated: a hostNetwork pod uses the node network',
    );
    // The containers are the finding's own.
    expect(hostRun.simulation?.kube.get('pods', 'ops', 'backup-agent')?.spec?.containers).toEqual([
      { name: 'agent', image: 'busybox:1.36' },
    ]);
  });

  it('rehearses against a copy of a cluster given with --world', async () => {
    const owner = (kind: string, name: string, uid: string) => [
      { apiVersion: 'apps/v1', kind, name, uid, controller: true },
    ];
    const labels = { app: 'web-frontend', 'pod-template-hash': '7c9d' };
    const world = [
      'apiVersion: v1',
      'kind: List',
      'items:',
      ...[
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'web-frontend', namespace: 'shop', uid: 'd-1' },
          spec: { selector: { matchLabels: { app: 'web-frontend' } } },
        },
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: {
            name: 'web-frontend-7c9d',
            namespace: 'shop',
            uid: 'rs-1',
            labels,
            ownerReferences: owner('Deployment', 'web-frontend', 'd-1'),
          },
          spec: { selector: { matchLabels: labels } },
        },
        ...[0, 1, 2].map((i) => ({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: `web-frontend-7c9d-${i}`,
            namespace: 'shop',
            uid: `p-${i}`,
            labels,
            ownerReferences: owner('ReplicaSet', 'web-frontend-7c9d', 'rs-1'),
          },
          spec: {
            nodeName: 'ip-10-0-1-10.us-east-1.compute.internal',
            containers: [{ name: 'web', image: 'nginx:1.27' }],
          },
          status: { phase: 'Running' },
        })),
      ].map((item) => `- ${JSON.stringify(item)}`),
    ].join('\n');

    const result = await run([
      `${EVENTS_DIR}eks-audit-privileged-container.json`,
      '--world',
      file('world.yaml', world),
    ]);

    // This copy of a cluster runs no NetworkPolicy engine: the pods are labelled, not cut off.
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/^Notification: \[guardduty-responder\] NOT CONTAINED \(not enforced\)/m);
    expect(result.out).toContain(
      'cluster prod-eks does not enforce NetworkPolicy (no NetworkPolicy engine runs): turn on the VPC CNI network policy agent',
    );
    const pods = result.simulation?.kube.list('pods', 'shop') ?? [];
    expect(pods.map((p) => p.metadata.name).sort()).toEqual([
      'web-frontend-7c9d-0',
      'web-frontend-7c9d-1',
      'web-frontend-7c9d-2',
    ]);
    expect(pods.every((p) => p.metadata.labels?.[QUARANTINE_LABEL])).toBe(true);
    expect(
      (
        await run([
          `${EVENTS_DIR}eks-audit-privileged-container.json`,
          '--world',
          file('bad.yaml', 'kind: Secret\nmetadata: {name: x}'),
        ])
      ).err.at(-1),
    ).toMatch(/^replay: .*bad\.yaml: object 1 \(Secret x\) is not one the simulation serves$/);
  });

  it('changes nothing with --dry-run, shown by the requests the simulation received', async () => {
    const result = await run([`${EVENTS_DIR}eks-audit-privileged-container.json`, '--dry-run']);
    expect(result.code).toBe(0);
    // The real decision, targets named, nothing claimed and nothing to undo.
    expect(result.out).toMatch(/^Notification: \[guardduty-responder\] DRY RUN, would be CONTAINED: /m);
    expect(result.out).toMatch(/^ {2}isolate-pods +not taken, would act on: pod shop\/web-frontend-/m);
    expect(result.out).toContain(
      '  would be cut off: Deployment shop/web-frontend: 2 pod(s) would be isolated',
    );
    expect(result.out).not.toContain('npm run release');
    expect(result.out).toContain('a dry run changed nothing, so there is nothing to undo');
    const kube = result.simulation?.kube.requests ?? [];
    const aws = result.simulation?.aws.requests ?? [];
    expect(kube.length).toBeGreaterThan(0);
    expect(kube.filter((r) => r.method !== 'GET')).toEqual([]);
    const writes = aws.filter((r) => !/^(Describe|List|Get)/.test(r.operation));
    // The only writes: the notification, and the incident record (claim and its signed header, plan and
    // signed plan, outcome), which holds no change; the signatures are the responder's own key's (KMS).
    // … and the incident report, the dry run's decision for a person to look at.
    expect(
      writes.filter((r) => r.service !== 'dynamodb' && r.service !== 'kms').map((r) => r.operation),
    ).toEqual(['PutObject', 'Publish']);
    expect(result.simulation?.home.state.evidence.objects.map((o) => o.key)).toEqual([
      'incidents/3f6775ab9e14d3f990f5d6c7c18fb7cf/report.html',
    ]);
    expect(writes.filter((r) => r.service === 'dynamodb').map((r) => r.operation)).toEqual(
      Array(5).fill('UpdateItem'),
    );
    const [record] = loadSimulation(STATE)?.incidents ?? [];
    expect(record).toMatchObject({ dryRun: true, state: 'open', entries: {}, outcome: 'identified' });
  });
});

describe('deployed', () => {
  const sfn = mockClient(SFNClient);
  const cloudFormation = mockClient(CloudFormationClient);
  afterEach(() => {
    sfn.reset();
    cloudFormation.reset();
  });
  const arn = 'arn:aws:states:us-east-1:111122223333:stateMachine:Responder';
  const at = (s: number) => new Date(Date.UTC(2026, 10, 23, 9, 0, s));

  it('finds the state machine from the stack outputs, or takes an ARN as it is', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'GuardDutyResponder' }).resolves({
      Stacks: [
        {
          StackName: 'GuardDutyResponder',
          CreationTime: at(0),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [{ OutputKey: 'StateMachineArn', OutputValue: arn }],
        },
      ],
    });
    expect(await stateMachineArn('GuardDutyResponder', deployedClients('us-east-1'))).toBe(arn);
    expect(await stateMachineArn(arn, deployedClients('us-east-1'))).toBe(arn);
  });

  it('starts an execution with the event, polls it, and builds the timeline from its history', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${arn}:replay-1`, startDate: at(0) });
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' } as never)
      .resolves({ status: 'SUCCEEDED' } as never);
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 1, timestamp: at(0), type: 'ExecutionStarted' },
        { id: 2, timestamp: at(1), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Identify' } },
        {
          id: 3,
          timestamp: at(2),
          type: 'TaskStateExited',
          stateExitedEventDetails: { name: 'Identify', output: '{"identify":{"Error":"X","Cause":"y"}}' },
        },
        {
          id: 4,
          timestamp: at(3),
          type: 'ExecutionFailed',
          executionFailedEventDetails: {
            error: 'States.Runtime',
            cause: "Path expression '$[0].cordonNodes' does not point to a value",
          },
        },
      ],
    });
    const event = {
      ...loadEvent('eks-audit-privileged-container.json'),
      'guardduty-responder': { dryRun: true },
    };

    const result = await runDeployed(arn, event, deployedClients('us-east-1'), {
      name: 'replay-1',
      pollMs: 1,
    });

    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual({
      stateMachineArn: arn,
      name: 'replay-1',
      input: JSON.stringify(event),
    });
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(2);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.events).toEqual([
      { type: 'StateEntered', at: 1000, state: 'Identify' },
      { type: 'StateExited', at: 2000, state: 'Identify', output: { identify: { Error: 'X', Cause: 'y' } } },
      {
        type: 'ExecutionFailed',
        at: 3000,
        error: 'States.Runtime',
        cause: "Path expression '$[0].cordonNodes' does not point to a value",
      },
    ]);
    expect(timeline(result.events).at(-1)).toBe(
      "  3000 ms  execution failed: States.Runtime: Path expression '$[0].cordonNodes' does not point to a value",
    );
    expect(historyToEvents([])).toEqual([]);
  });

  it('passes --dry-run to the deployed state machine in the execution input', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'S',
          CreationTime: at(0),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [{ OutputKey: 'StateMachineArn', OutputValue: arn }],
        },
      ],
    });
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${arn}:x`, startDate: at(0) });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' } as never);
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });

    const result = await run([
      `${EVENTS_DIR}eks-audit-privileged-container.json`,
      '--deployed',
      'S',
      '--dry-run',
      '--region',
      'us-east-1',
    ]);

    expect(result.code).toBe(0);
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input['guardduty-responder']).toEqual({ dryRun: true, rerun: false });
    expect(input.detail.id).toBe(loadEvent('eks-audit-privileged-container.json').detail.id);
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.name).toMatch(
      /^replay-[0-9a-f]{32}-\d+$/,
    );
  });
});

describe('local mode', () => {
  it('runs the state machine here against the cluster of a kubeconfig and an AWS-compatible endpoint', async () => {
    const { simulatedAccount } = await import('../../simulation/account.js');
    const { AwsApiServer } = await import('../../simulation/aws-api-server.js');
    const { KubeApiServer, TEST_CA_PEM } = await import('../../simulation/kube-api-server.js');
    const { enforceNetworkPolicy, pod } = await import('../support/cluster.js');
    const kube = new KubeApiServer();
    enforceNetworkPolicy(kube);
    await kube.start();
    kube.add('pods', pod({ name: 'backup-agent', namespace: 'ops' }));
    const account = simulatedAccount({});
    const aws = new AwsApiServer(account);
    await aws.start();
    const kubeconfig = kubeconfigFor(kube.url, TEST_CA_PEM);
    try {
      const result = await run([
        `${EVENTS_DIR}eks-audit-container-with-sensitive-mount.json`,
        '--kubeconfig',
        kubeconfig,
        '--endpoint-url',
        aws.url,
        '--region',
        'us-east-1',
      ]);
      expect(result.err).toEqual([]);
      expect(result.code).toBe(0);
      expect(result.out).toContain(`Local: cluster ${kube.url} as prod-eks, account 111122223333 us-east-1`);
      expect(
        kube.get('pods', 'ops', 'backup-agent')?.metadata.labels?.['guardduty-responder/quarantine'],
      ).toBeDefined();
      expect(kube.requests.every((r) => r.status !== 401)).toBe(true);
      expect(result.out).toContain(
        'Notification: [guardduty-responder] CONTAINED: Persistence:Kubernetes/ContainerWithSensitiveMount',
      );
      expect(aws.requests.map((r) => r.operation)).toContain('GetCallerIdentity');
    } finally {
      await Promise.all([kube.stop(), aws.stop()]);
    }
  });

  it('fails loudly when the API server is gone (every connection cut), and contains the finding on its next sighting', async () => {
    const { simulatedAccount } = await import('../../simulation/account.js');
    const { AwsApiServer } = await import('../../simulation/aws-api-server.js');
    const { LocalIncidentTable } = await import('../../simulation/incident-table.js');
    const { KubeApiServer } = await import('../../simulation/kube-api-server.js');
    const { enforceNetworkPolicy, pod } = await import('../support/cluster.js');
    // The API server's port, with nothing listening on it: connections are refused.
    const kube = new KubeApiServer();
    const endpoint = await kube.start();
    await kube.stop();
    // Held while the API server is down, so that no other test's server takes the port meanwhile: every
    // connection is cut at once, as a server going away does.
    const { createServer } = await import('node:net');
    const holder = createServer((socket) => socket.destroy());
    await new Promise<void>((done) => holder.listen(Number(new URL(endpoint).port), '127.0.0.1', done));
    enforceNetworkPolicy(kube);
    kube.add('pods', pod({ name: 'backup-agent', namespace: 'ops' }));
    const table = await LocalIncidentTable.start();
    const aws = new AwsApiServer(simulatedAccount({ macKey: table.macKey }), table.url);
    await aws.start();
    const event = loadEvent('eks-audit-container-with-sensitive-mount.json');
    const sighting = (count: number) => {
      const repeat = structuredClone(event);
      repeat.detail.service.count = count;
      return file(`sighting-${count}.json`, JSON.stringify(repeat));
    };
    const args = localModeArgs(endpoint, aws.url, table.macKey.keyId);
    const quarantined = () => kube.get('pods', 'ops', 'backup-agent')?.metadata.labels?.[QUARANTINE_LABEL];
    try {
      const down = await run([sighting(1), ...args]);
      expect(down.code).toBe(1);
      expect(down.out).toMatch(/^Notification: \[guardduty-responder\] NOT CONTAINED \(failed\): /m);
      expect(down.out).toMatch(
        new RegExp(
          `Found: cluster prod-eks \\(NOT reached: API server ${endpoint} not reached after \\d+ attempt\\(s\\) over [\\d.]+ s: TypeError: fetch failed: `,
        ),
      );
      expect(down.out).toMatch(/^ {2}isolate-pods +FAILED: /m);
      expect(down.out).not.toContain('already gone');
      expect(down.out).toMatch(/ResponseFailed/);

      await new Promise((done) => holder.close(done));
      await kube.start(Number(new URL(endpoint).port));
      const up = await run([sighting(2), ...args]);
      expect(up.code).toBe(0);
      expect(quarantined()).toBeDefined();
      expect(up.out).toMatch(/Responded again: the previous response \(\S+\) ended not-contained\./);

      const again = await run([sighting(3), ...args]);
      expect(again.code).toBe(0);
      expect(again.out).toContain('SEEN AGAIN');
      expect(again.out).toContain('The actions were not repeated');

      const [record] = await table.records();
      expect(record?.outcomes.map((o) => o.outcome)).toEqual(['not-contained', 'contained']);
      expect(record?.executions).toHaveLength(2);
      expect(record?.sightings.map((s) => s.count)).toEqual([3]);
      expect(record?.outcome).toBe('contained');
    } finally {
      // Settled: the API server may be down still when an expectation above failed.
      await Promise.allSettled([
        new Promise((done) => holder.close(done)),
        kube.stop(),
        aws.stop(),
        table.stop(),
      ]);
    }
  });
});

describe('release in local mode', () => {
  it('undoes from this machine what a local replay contained in a kubeconfig cluster', async () => {
    const { simulatedAccount } = await import('../../simulation/account.js');
    const { AwsApiServer } = await import('../../simulation/aws-api-server.js');
    const { LocalIncidentTable } = await import('../../simulation/incident-table.js');
    const { KubeApiServer } = await import('../../simulation/kube-api-server.js');
    const { enforceNetworkPolicy, pod } = await import('../support/cluster.js');
    const kube = new KubeApiServer();
    enforceNetworkPolicy(kube);
    await kube.start();
    kube.add('pods', pod({ name: 'backup-agent', namespace: 'ops', labels: { app: 'backup' } }));
    const table = await LocalIncidentTable.start();
    const aws = new AwsApiServer(simulatedAccount({ macKey: table.macKey }), table.url);
    await aws.start();
    const local = localModeArgs(kube.url, aws.url, table.macKey.keyId);
    const id = loadEvent('eks-audit-container-with-sensitive-mount.json').detail.id;
    try {
      expect((await run([`${EVENTS_DIR}eks-audit-container-with-sensitive-mount.json`, ...local])).code).toBe(
        0,
      );
      expect(kube.get('pods', 'ops', 'backup-agent')?.metadata.labels?.[QUARANTINE_LABEL]).toBeDefined();

      const lines: string[] = [];
      const errors: string[] = [];
      const code = await release(
        [id, ...local],
        (l) => lines.push(l),
        (l) => errors.push(l),
      );

      expect(errors).toEqual([]);
      expect(code).toBe(0);
      expect(lines.join('\n')).toContain(`Release of finding ${id}: the incident is released.`);
      expect(kube.get('pods', 'ops', 'backup-agent')?.metadata.labels).toEqual({ app: 'backup' });
      expect(kube.list('networkpolicies', 'ops')).toEqual([]);
      const [record] = await table.records();
      expect(record?.state).toBe('released');
      expect(
        await release(
          [id, '--kubeconfig', 'k'],
          () => {},
          (l) => errors.push(l),
        ),
      ).toBe(2);
      expect(errors.at(-1)).toBe(
        'release: --kubeconfig works from the table the local replay used and the key that signed it: give --table NAME and --record-key KEY',
      );
    } finally {
      await Promise.all([kube.stop(), aws.stop(), table.stop()]);
    }
  });
});

describe('incidents', () => {
  it('lists the open incidents newest first, and with --all the released ones', async () => {
    const state = join(mkdtempSync(join(tmpdir(), 'incidents-')), 'simulation.json');
    const quiet = () => {};
    expect(
      await replay([`${EVENTS_DIR}eks-runtime-new-binary-executed.json`, '--state', state], quiet, quiet),
    ).toBe(0);
    // Resumed in the first finding's world, the Deployment of the second is not there: not contained, and
    // listed all the same.
    expect(
      await replay(
        [`${EVENTS_DIR}eks-audit-privileged-container.json`, '--state', state, '--resume'],
        quiet,
        quiet,
      ),
    ).toBe(1);
    const list = async (args: string[]) => {
      const lines: string[] = [];
      const errors: string[] = [];
      const code = await incidents(
        [...args, '--state', state],
        (l) => lines.push(l),
        (l) => errors.push(l),
      );
      return { code, text: lines.join('\n'), errors };
    };
    const runtime = loadEvent('eks-runtime-new-binary-executed.json').detail.id;
    const audit = loadEvent('eks-audit-privileged-container.json').detail.id;

    const open = await list([]);
    expect(open.errors).toEqual([]);
    expect(open.code).toBe(0);
    expect(open.text.indexOf(audit)).toBeLessThan(open.text.indexOf(runtime));
    expect(open.text).toMatch(new RegExp(`${runtime} {2}open .* Execution:Runtime/NewBinaryExecuted`));
    expect(open.text).toMatch(
      /cluster prod-eks; contained: .*isolate-pods \d.*; last response contained; \d+ evidence object\(s\)/,
    );
    expect(open.text).toMatch(new RegExp(`${audit} {2}open .*\n.*last response not-contained`));

    const said: string[] = [];
    const released = await release(
      [audit, '--state', state],
      (l) => said.push(l),
      (l) => said.push(l),
    );
    expect(released, said.join('\n')).toBe(0);
    expect((await list([])).text).not.toContain(audit);
    const all = await list(['--all', '--json']);
    expect(all.errors).toEqual([]);
    expect(
      JSON.parse(all.text).map((i: { findingId: string; state: string }) => [i.findingId, i.state]),
    ).toEqual([
      [audit, 'released'],
      [runtime, 'open'],
    ]);
    expect((await list(['extra'])).code).toBe(2);

    // As a person types it: npm's own banners go to stderr (.npmrc), the JSON alone to stdout.
    const { execFileSync } = await import('node:child_process');
    const stdout = execFileSync('npm', ['run', 'incidents', '--', '--all', '--json', '--state', state], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(JSON.parse(stdout).map((i: { findingId: string }) => i.findingId)).toEqual([audit, runtime]);
  });
});

/** A replay of the Deployment sample saved to a state of its own, for a test to change as an attacker. */
async function replayedToTamper(prefix: string) {
  const state = join(mkdtempSync(join(tmpdir(), prefix)), 'simulation.json');
  const id = loadEvent('eks-audit-privileged-container.json').detail.id;
  const code = await replay(
    [`${EVENTS_DIR}eks-audit-privileged-container.json`, '--state', state],
    () => {},
    () => {},
  );
  expect(code).toBe(0);
  return { state, id, saved: loadSimulation(state) };
}

describe('release after a replay', () => {
  it('undoes in a second command what the replay contained, after a dry run that changes nothing', async () => {
    const state = join(mkdtempSync(join(tmpdir(), 'release-')), 'simulation.json');
    const id = loadEvent('eks-audit-privileged-container.json').detail.id;
    const replayed = await replay(
      [`${EVENTS_DIR}eks-audit-privileged-container.json`, '--state', state],
      () => {},
      () => {},
    );
    expect(replayed).toBe(0);
    const contained = loadSimulation(state);
    const labelled = (saved: typeof contained) =>
      saved?.world.objects.filter(
        (o) => o.resource === 'pods' && o.object.metadata.labels?.[QUARANTINE_LABEL],
      ).length;
    expect(labelled(contained)).toBe(2);

    const lines: string[] = [];
    const errors: string[] = [];
    const call = (args: string[]) =>
      release(
        [...args, '--state', state],
        (l) => lines.push(l),
        (l) => errors.push(l),
      );

    expect(await call([id, '--dry-run'])).toBe(0);
    expect(lines.join('\n')).toContain('would undo');
    expect(labelled(loadSimulation(state))).toBe(2);

    // It would give IAM back (revoke-iam): one person alone is refused, and so is their own countersignature.
    expect(await call([id])).toBe(2);
    expect(errors.at(-1)).toMatch(
      /^release: releasing finding \w+ would undo revoke-iam role \S+.*: that needs a second person \(secondPerson\)\. Another person runs the same npm run release with --countersign .*Nothing was changed/,
    );
    expect(labelled(loadSimulation(state))).toBe(2);
    lines.length = 0;
    expect(await call([id, '--countersign'])).toBe(0);
    const own = lines.at(-1)?.replace('--countersigned-by ', '') ?? '';
    expect(await call([id, '--countersigned-by', own])).toBe(1);
    expect(errors.at(-1)).toMatch(
      /^release: CallerRefused|countersignature is arn:aws:iam::\d+:user\/operator's own/,
    );
    // bob countersigns; the operator releases: the record names both, as STS authenticated them.
    lines.length = 0;
    expect(await call([id, '--countersign', '--as', 'bob'])).toBe(0);
    expect(lines[0]).toMatch(
      /^Countersignature for release of finding \w+ \(valid 15 minutes, STS of us-east-1\); nothing was changed/,
    );
    const bob = lines.at(-1)?.replace('--countersigned-by ', '') ?? '';
    lines.length = 0;
    const code = await call([id, '--countersigned-by', bob]);
    expect(code, [...lines, ...errors].join('\n')).toBe(0);
    const text = lines.join('\n');
    expect(text).toContain(`Release of finding ${id}: the incident is released.`);
    expect(
      loadSimulation(state)
        ?.incidents.find((r) => r.findingId === id)
        ?.releases.at(-1),
    ).toMatchObject({
      requestedBy: 'arn:aws:iam::111122223333:user/operator',
      countersignedBy: 'arn:aws:iam::111122223333:user/bob',
    });
    expect(text).toMatch(/cordon-nodes node \S+: ok: uncordoned/);
    expect(text).toMatch(/snapshot-volumes volume \S+ .*: skipped: kept as evidence: snap-/);
    const released = loadSimulation(state);
    expect(labelled(released)).toBe(0);
    expect(released?.world.objects.filter((o) => o.resource === 'networkpolicies')).toEqual([]);
    expect(released?.world.account.snapshots).toHaveLength(2);

    expect(await call([id])).toBe(2);
    expect(errors.at(-1)).toMatch(/^release: finding \w+ was already released at /);
    expect(await call(['unknown-finding'])).toBe(2);
    expect(errors.at(-1)).toBe(
      'release: no incident record for finding unknown-finding (open incidents in the simulation: none)',
    );
    // The same situation, the same exit code, whichever command is asked.
    expect(
      await recover(
        ['unknown-finding', '--state', state],
        () => {},
        (l) => errors.push(l),
      ),
    ).toBe(2);
    expect(errors.at(-1)).toBe(
      'recover: no incident record for finding unknown-finding (open incidents in the simulation: none)',
    );
    expect(
      await release(
        ['x', '--state', join(tmpdir(), 'nothing-here.json')],
        () => {},
        (l) => errors.push(l),
      ),
    ).toBe(2);
    expect(errors.at(-1)).toMatch(/^release: no simulation at .*nothing-here.json: run npm run replay/);
  });

  it('contains a member account’s finding through its role, and releases it there (--member)', async () => {
    const state = join(mkdtempSync(join(tmpdir(), 'member-')), 'simulation.json');
    const id = loadEvent('eks-runtime-new-binary-executed.json').detail.id;
    const lines: string[] = [];
    expect(
      await replay(
        [`${EVENTS_DIR}eks-runtime-new-binary-executed.json`, '--member', '--state', state],
        (l) => lines.push(l),
        () => {},
      ),
    ).toBe(0);
    expect(lines[0]).toBe(
      'Simulation: the responder in account 210987654321 us-east-1, the finding in member account 111122223333 us-east-1 (its GuardDutyResponderMemberAccess role assumed 9 time(s)), cluster prod-eks, on this machine',
    );
    expect(lines.join('\n')).toContain('published message-1, outcome contained');
    expect(loadSimulation(state)?.organization?.home.accountId).toBe('210987654321');

    const released: string[] = [];
    const problems: string[] = [];
    // It gives IAM back: bob countersigns first.
    await release(
      [id, '--state', state, '--countersign', '--as', 'bob'],
      (l) => released.push(l),
      () => {},
    );
    const bob = released.at(-1)?.replace('--countersigned-by ', '') ?? '';
    expect(
      await release(
        [id, '--state', state, '--countersigned-by', bob],
        (l) => released.push(l),
        (l) => problems.push(l),
      ),
      problems.join('\n'),
    ).toBe(0);
    expect(released).toContain(`Release of finding ${id}: the incident is released.`);
    const roles = loadSimulation(state)?.world.account.roles ?? {};
    expect(roles['payments-payments-api-irsa']?.attached).toEqual([
      'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
    ]);
  });

  it('refuses what a tampered saved simulation asks it to attach, and undoes the rest', async () => {
    const { state, id, saved } = await replayedToTamper('tampered-');
    // Someone with write access to the table gives the stripped role AdministratorAccess "back".
    const entry = Object.values(saved?.incidents[0]?.entries ?? {}).find((e) => e.target.startsWith('role '));
    const admin = 'arn:aws:iam::aws:policy/AdministratorAccess';
    if (!entry) throw new Error('the replay stripped no role');
    (entry.before as { attachedPolicyArns: string[] }).attachedPolicyArns = [admin];
    writeFileSync(state, JSON.stringify(saved));

    const lines: string[] = [];
    const code = await release(
      [id, '--state', state],
      (l) => lines.push(l),
      () => {},
    );

    expect(code).toBe(1);
    expect(lines).toContain(
      `Release of finding ${id}: the incident is open. 1 record entry failed verification and was not undone: the incident table was changed outside the responder.`,
    );
    expect(lines).toContain(
      `  revoke-iam ${entry.target}: refused: record entry failed verification: not undone (its MAC does not match)`,
    );
    expect(lines.join('\n')).toMatch(/cordon-nodes node \S+: ok: uncordoned/);
    const after = loadSimulation(state);
    const roles = Object.values(after?.world.account.roles ?? {});
    expect(roles.filter((role) => role.attached?.includes(admin))).toEqual([]);
  });
  it('refuses in one line, and changes nothing, when the incident header was changed', async () => {
    const { state, id, saved } = await replayedToTamper('header-');
    const record = saved?.incidents[0];
    if (!record?.incident) throw new Error('the replay wrote no incident header');
    record.incident.region = 'eu-west-1';
    writeFileSync(state, JSON.stringify(saved));

    const out: string[] = [];
    const err: string[] = [];
    const code = await release(
      [id, '--state', state],
      (l) => out.push(l),
      (l) => err.push(l),
    );

    expect(code).toBe(1);
    expect(err).toEqual([
      `release: the incident record of ${id} failed verification (the incident header's MAC does not match): the incident table was changed outside the responder; nothing is done`,
    ]);
    expect(loadSimulation(state)?.world).toEqual(saved?.world);
  });
});
