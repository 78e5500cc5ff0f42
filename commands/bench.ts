/**
 * npm run bench: replays a set of findings in the simulation and prints, per finding type and overall,
 * the time from execution start to pods isolated and to execution end (p50, p99 over RUNS runs each),
 * the Kubernetes and AWS API calls per finding (incident-record writes to DynamoDB counted apart), and for each Lambda bundle its size and the time to
 * import it in a fresh Node process. The figures are also written to bench-results/latest.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import type { ActionResult } from '../lambdas/core/action-result.js';
import { parseFindingEvent } from '../lambdas/core/finding.js';
import { targetsOf } from '../lambdas/core/targets.js';
import { ResponderStack } from '../lib/responder-stack.js';
import { CONTEXT_KEY, cdkJsonContext, parseConfig } from '../simulation/cdk-json.js';
import {
  type ExecutionRun,
  largestStateBytes,
  STATE_LIMIT_BYTES,
  synthesizedDefinition,
} from '../simulation/runner.js';
import { locationOf, respondInSimulation, type Simulation } from '../simulation/simulation.js';
import type { WorldScale } from '../simulation/world.js';
import { exitCodeOf, noArguments, type Out } from './cli.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const FINDINGS = [
  'eks-audit-privileged-container.json',
  'eks-runtime-new-binary-executed.json',
  'ec2-bitcoin-tool-dns-on-eks-node.json',
  'ec2-backdoor-cc-activity.json',
  'iam-instance-credential-exfiltration-outside-aws.json',
  'attack-sequence-eks-compromised-cluster.json',
];
/** Critical findings, benched with the range taken up to Critical as a deployer would take it. */
const CRITICAL = new Set(['attack-sequence-eks-compromised-cluster.json']);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SCALE_RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 5);
/** Findings over a large part of a cluster: a workload kind and name, and the size of the simulated cluster. */
const SCALES: { label: string; kind: string; name: string; scale: WorldScale }[] = [
  { label: 'DaemonSet over 120 nodes', kind: 'daemonsets', name: 'log-agent', scale: { nodes: 120 } },
  {
    label: 'Deployment of 1,000 pods on 50 nodes',
    kind: 'deployments',
    name: 'web-frontend',
    scale: { nodes: 50, pods: 1000 },
  },
];

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};
const stats = (values: number[]) => ({
  p50: percentile(values, 50),
  p99: percentile(values, 99),
  n: values.length,
});
const fmt = (value: number) => (Number.isNaN(value) ? '     -' : value.toFixed(0).padStart(6));

/**
 * The outcome Notify published, once the execution ran to its end: failing with ResponseFailed is the
 * verdict (an incident not contained, as a sample may be), failing anyhow else a defect the bench stops on.
 */
function outcomeOf(label: string, execution: ExecutionRun, simulation: Simulation): string {
  const last = execution.events.at(-1);
  const verdict = last?.type === 'ExecutionFailed' && last.error === 'ResponseFailed';
  if (execution.status !== 'SUCCEEDED' && !verdict)
    throw new Error(`${label}: execution ${execution.status}: ${execution.error}`);
  return simulation.home.state.published.at(-1)?.MessageAttributes?.outcome?.StringValue ?? 'none';
}

async function benchFinding(file: string) {
  const event = parseFindingEvent(JSON.parse(readFileSync(join(ROOT, 'events', file), 'utf8')));
  const finding = event.detail;
  const configured = parseConfig(cdkJsonContext()[CONTEXT_KEY]);
  const cluster = targetsOf(finding).cluster;
  const config = {
    ...configured,
    clusters: cluster ? [cluster] : [],
    severity: CRITICAL.has(file) ? { ...configured.severity, below: null } : configured.severity,
  };
  const definition = synthesizedDefinition(config, locationOf(event));
  const isolated: number[] = [];
  const total: number[] = [];
  const kubeCalls: number[] = [];
  const awsCalls: number[] = [];
  const recordCalls: number[] = [];
  let outcome = '';
  for (let run = 0; run < RUNS; run++) {
    const { run: execution, simulation } = await respondInSimulation(event, config, { definition });
    outcome = outcomeOf(file, execution, simulation);
    const pods = execution.events.find((e) => e.type === 'StateExited' && e.state === 'IsolatePods');
    const result = (pods?.output as { isolatePods?: ActionResult } | undefined)?.isolatePods;
    if (pods && result?.items?.some((item) => item.target.startsWith('pod ') && item.status === 'ok'))
      isolated.push(pods.at);
    total.push(execution.durationMs);
    kubeCalls.push(simulation.kube.requests.length);
    const record = simulation.aws.requests.filter((r) => r.service === 'dynamodb').length;
    awsCalls.push(simulation.aws.requests.length - record);
    recordCalls.push(record);
  }
  return {
    finding: file,
    type: finding.type,
    outcome,
    toPodsIsolatedMs: stats(isolated),
    toEndMs: stats(total),
    kubernetesCalls: stats(kubeCalls).p50,
    awsCalls: stats(awsCalls).p50,
    incidentRecordCalls: stats(recordCalls).p50,
    all: { isolated, total },
  };
}

/** A finding on a large workload with the configured limits: time, API calls, the largest state carried. */
async function benchScale({ label, kind, name, scale }: (typeof SCALES)[number]) {
  const raw = JSON.parse(readFileSync(join(ROOT, 'events', 'eks-audit-privileged-container.json'), 'utf8'));
  Object.assign(raw.detail.resource.kubernetesDetails.kubernetesWorkloadDetails, { type: kind, name });
  const event = parseFindingEvent(raw);
  const configured = parseConfig(cdkJsonContext()[CONTEXT_KEY]);
  const config = { ...configured, clusters: [targetsOf(event.detail).cluster ?? ''] };
  const definition = synthesizedDefinition(config, locationOf(event));
  const total: number[] = [];
  const largest: number[] = [];
  let calls = { kubernetes: 0, aws: 0, record: 0 };
  let outcome = '';
  for (let run = 0; run < SCALE_RUNS; run++) {
    const { run: execution, simulation } = await respondInSimulation(event, config, { definition, scale });
    outcome = outcomeOf(label, execution, simulation);
    total.push(execution.durationMs);
    largest.push(largestStateBytes(execution));
    const record = simulation.aws.requests.filter((r) => r.service === 'dynamodb').length;
    calls = {
      kubernetes: simulation.kube.requests.length,
      aws: simulation.aws.requests.length - record,
      record,
    };
  }
  return { label, outcome, toEndMs: stats(total), calls, largestStateBytes: Math.max(...largest) };
}

function benchBundles() {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:enable-asset-metadata': true } });
  const config = parseConfig(cdkJsonContext()[CONTEXT_KEY]);
  const stack = new ResponderStack(app, config.stackName, {
    config,
    env: { account: '111122223333', region: 'us-east-1' },
  });
  const assembly = app.synth();
  const template = assembly.getStackArtifact(stack.artifactId).template as {
    Resources: Record<
      string,
      { Type: string; Properties: { Description?: string }; Metadata?: Record<string, string> }
    >;
  };
  return Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::Lambda::Function')
    .map((fn) => {
      const entry = join(assembly.directory, fn.Metadata?.['aws:asset:path'] ?? '', 'index.mjs');
      const importMs = Array.from({ length: 5 }, () =>
        Number(
          execFileSync(
            process.execPath,
            [
              '--input-type=module',
              '-e',
              `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(entry).href)}); console.log(performance.now() - t)`,
            ],
            { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } },
          ),
        ),
      );
      return {
        function: fn.Properties.Description ?? '',
        bytes: statSync(entry).size,
        importMs: percentile(importMs, 50),
      };
    });
}

/** `npm run bench`: takes no arguments (BENCH_RUNS and BENCH_SCALE_RUNS in the environment). */
export const benchCommand = (argv: readonly string[], out: Out, err: Out): Promise<number> =>
  exitCodeOf(
    'bench',
    err,
    async () => {
      noArguments(
        argv,
        { name: 'bench' },
        'replays the sample findings and large workloads in the simulation and prints the figures (BENCH_RUNS, BENCH_SCALE_RUNS)',
      );
      await bench();
      return 0;
    },
    out,
  );

/** Runs the benchmark and prints its figures (bin/bench.ts). */
export async function bench(): Promise<void> {
  const started = performance.now();
  const results = [];
  for (const file of FINDINGS) results.push(await benchFinding(file));
  const scaled = [];
  for (const scale of SCALES) scaled.push(await benchScale(scale));
  const bundles = benchBundles();
  const overall = {
    toPodsIsolatedMs: stats(results.flatMap((r) => r.all.isolated)),
    toEndMs: stats(results.flatMap((r) => r.all.total)),
  };
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;

  console.log(`guardduty-responder benchmark: ${RUNS} runs per finding, simulation on ${machine}\n`);
  const width = Math.max(52, ...results.map((r) => r.type.length));
  console.log(
    `${'finding type'.padEnd(width)} to pods isolated (ms)   to end (ms)     API calls            outcome`,
  );
  console.log(`${''.padEnd(width)}      p50     p99         p50    p99    k8s   AWS  record`);
  for (const r of results) {
    console.log(
      `${r.type.padEnd(width)} ${fmt(r.toPodsIsolatedMs.p50)}  ${fmt(r.toPodsIsolatedMs.p99)}      ${fmt(r.toEndMs.p50)} ${fmt(r.toEndMs.p99)}  ${String(r.kubernetesCalls).padStart(5)} ${String(r.awsCalls).padStart(5)} ${String(r.incidentRecordCalls).padStart(7)}   ${r.outcome}`,
    );
  }
  console.log(
    `${'overall'.padEnd(width)} ${fmt(overall.toPodsIsolatedMs.p50)}  ${fmt(overall.toPodsIsolatedMs.p99)}      ${fmt(overall.toEndMs.p50)} ${fmt(overall.toEndMs.p99)}`,
  );
  console.log(
    `\nscale (${SCALE_RUNS} runs each, limits from cdk.json)     to end p50/p99 (ms)   API calls k8s / AWS / record   largest state (bytes, limit ${STATE_LIMIT_BYTES})`,
  );
  for (const r of scaled) {
    console.log(
      `${r.label.padEnd(40)} ${fmt(r.toEndMs.p50)} ${fmt(r.toEndMs.p99)}          ${String(r.calls.kubernetes).padStart(5)} / ${String(r.calls.aws).padStart(4)} / ${String(r.calls.record).padStart(4)}        ${String(r.largestStateBytes).padStart(8)} ${r.largestStateBytes < STATE_LIMIT_BYTES ? 'under' : 'OVER'} the limit; ${r.outcome}`,
    );
  }
  console.log(
    '\nLambda bundle                                                              size (KiB)   import (ms, p50 of 5)',
  );
  for (const b of bundles)
    console.log(
      `${b.function.padEnd(76)} ${(b.bytes / 1024).toFixed(0).padStart(8)}   ${b.importMs.toFixed(0).padStart(8)}`,
    );
  console.log(`\ntook ${((performance.now() - started) / 1000).toFixed(1)} s`);

  mkdirSync(join(ROOT, 'bench-results'), { recursive: true });
  writeFileSync(
    join(ROOT, 'bench-results', 'latest.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine,
        runsPerFinding: RUNS,
        findings: results.map(({ all: _all, ...r }) => r),
        overall,
        scale: scaled,
        bundles,
      },
      null,
      2,
    )}\n`,
  );
  console.log('wrote bench-results/latest.json');
}
