/**
 * A finding that reaches a large part of the cluster, in the replay simulation with the default limits:
 * the response acts within its bounds on both sides (Kubernetes and AWS), lists what it held back, and
 * every state the execution carries stays under Step Functions' 256 KiB.
 */
import { describe, expect, it } from 'vitest';
import { parseFindingEvent } from '../../lambdas/core/finding.js';
import { QUARANTINE_LABEL } from '../../lambdas/core/quarantine.js';
import { instanceIdFromProviderId } from '../../lambdas/core/selectors.js';
import { parseConfig } from '../../simulation/cdk-json.js';
import { largestStateBytes, STATE_LIMIT_BYTES } from '../../simulation/runner.js';
import { respondInSimulation } from '../../simulation/simulation.js';
import { loadEvent } from '../support/events.js';

const CONFIG = parseConfig({ clusters: ['prod-eks'] });

function workloadFinding(kind: string, name: string) {
  const raw = loadEvent('eks-audit-privileged-container.json');
  Object.assign(raw.detail.resource.kubernetesDetails.kubernetesWorkloadDetails, { type: kind, name });
  return parseFindingEvent(raw);
}

describe('a finding over a large workload, default limits', () => {
  it('isolates 20 pods of a DaemonSet over 120 nodes, cordons 3 nodes, protects and snapshots only the instances behind them, and calls that partly contained', async () => {
    const { run, simulation } = await respondInSimulation(
      workloadFinding('daemonsets', 'log-agent'),
      CONFIG,
      {
        scale: { nodes: 120 },
      },
    );

    // The limits hold 100 pods of the compromised DaemonSet back: not all of it is cut off.
    expect(run.status).toBe('FAILED');
    expect(simulation.account.state.published[0]?.MessageAttributes?.outcome?.StringValue).toBe(
      'partly-contained',
    );
    const pods = simulation.kube.list('pods');
    const isolated = pods.filter((p) => p.metadata.labels?.[QUARANTINE_LABEL]);
    expect(pods).toHaveLength(120);
    expect(isolated).toHaveLength(20);
    const nodes = simulation.kube.list('nodes');
    const cordoned = nodes.filter((n) => n.spec?.unschedulable);
    expect(cordoned).toHaveLength(3);
    // The cordoned nodes run isolated pods: containment is on the same hosts.
    const hosts = new Set(isolated.map((p) => p.spec?.nodeName as string));
    expect(cordoned.every((n) => hosts.has(n.metadata.name))).toBe(true);

    // The AWS side follows the same bound: the instances behind the isolated pods, and no other.
    const instanceOf = new Map(
      nodes.map((n) => [n.metadata.name, instanceIdFromProviderId(n.spec?.providerID as string)]),
    );
    const behind = [...hosts].map((name) => instanceOf.get(name)).sort();
    const { instances, snapshots } = simulation.account.state;
    expect(
      instances
        .filter((i) => i.terminationProtection)
        .map((i) => i.instanceId)
        .sort(),
    ).toEqual(behind);
    expect(
      instances
        .filter((i) => i.scaleInProtected)
        .map((i) => i.instanceId)
        .sort(),
    ).toEqual(behind);
    const volumesBehind = instances
      .filter((i) => behind.includes(i.instanceId))
      .flatMap((i) => (i.volumes ?? []).map((v) => v.volumeId))
      .sort();
    expect(snapshots.map((s) => s.VolumeId).sort()).toEqual(volumesBehind);

    // The rest is listed as held back, and the notification is published.
    const published = simulation.account.state.published;
    expect(published).toHaveLength(1);
    const text = published[0]?.Message ?? '';
    expect(text).toMatch(
      /^ {2}held back 100 pod\(s\): \S+, \S+ and 98 more: over the limit of 20 pods isolated per execution$/m,
    );
    expect(text).toMatch(
      /^ {2}held back 117 node\(s\): \S+, \S+ and 115 more: over the limit of 3 nodes cordoned per execution$/m,
    );
    expect(largestStateBytes(run)).toBeLessThan(STATE_LIMIT_BYTES);
  });

  it('keeps every state under 256 KiB for a Deployment of 1,000 pods', async () => {
    const { run, simulation } = await respondInSimulation(
      workloadFinding('deployments', 'web-frontend'),
      CONFIG,
      {
        scale: { nodes: 50, pods: 1000 },
      },
    );

    expect(run.status).toBe('FAILED');
    expect(simulation.kube.list('pods').filter((p) => p.metadata.labels?.[QUARANTINE_LABEL])).toHaveLength(
      20,
    );
    expect(simulation.account.state.published[0]?.Message).toMatch(
      /^PARTLY CONTAINED \(held back\): .* held back: Deployment shop\/web-frontend: 20 pod\(s\) isolated; held back: .* and 977 more: over the limit of 20 pods isolated per execution\./,
    );
    expect(simulation.account.state.published[0]?.Message).toMatch(
      /^ {2}held back 980 pod\(s\): \S+, \S+ and 978 more: over the limit of 20 pods isolated per execution$/m,
    );
    expect(largestStateBytes(run)).toBeLessThan(STATE_LIMIT_BYTES);
  });
});
