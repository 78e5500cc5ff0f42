/**
 * Host evidence through Systems Manager Run Command (`AWS-RunShellScript`), for each instance the response
 * acts on that runs the SSM agent (EKS-optimized AMIs do): the process tree, sockets, the container
 * runtime's view of the affected containers (crictl ps/inspect/logs, ctr tasks), their processes' /proc
 * details, logged-in users, kernel modules, recent system logs, and the operator's memory capture command
 * when one is configured. SSM writes the output to the evidence bucket; each object is then read back,
 * hashed and recorded. Bounded in time: a command that does not finish is reported, never a reason to
 * stop containment. It runs before host isolation and IAM revocation, which both cut the agent off.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { isKubernetesName } from '../core/selectors.js';
import type { EvidenceSettings } from '../core/settings.js';
import type { IdentifiedInstance, IdentifiedPod, TargetInput } from '../identify/identify.js';
import type { EvidenceObject } from '../incident/record.js';
import { messageOf } from '../shared/errors.js';
import type { EvidenceClients } from './clients.js';
import type { EvidenceResult } from './pods.js';
import type { EvidenceWriter } from './writer.js';

export type HostEvidenceInput = TargetInput<IdentifiedInstance> & {
  executionArn: string;
  /** The pods the response acts on: those on this instance get their containers inspected. */
  pods: IdentifiedPod[];
};

const TERMINAL = new Set(['Success', 'Cancelled', 'TimedOut', 'Failed', 'Cancelling']);

/**
 * The capture script, pure. Pod names and namespaces are Kubernetes names (checked), so quoting them is
 * enough; the memory command is the operator's own configuration.
 */
export function hostEvidenceScript(
  pods: readonly { namespace: string; name: string }[],
  memoryCaptureCommand: string | null,
): string[] {
  const safe = pods.filter((pod) => isKubernetesName(pod.namespace) && isKubernetesName(pod.name));
  const containers = safe.map(
    (pod) => `for p in $(crictl pods --namespace '${pod.namespace}' --name '${pod.name}' -q); do
  for c in $(crictl ps -a --pod "$p" -q); do
    echo "--- container $c of pod ${pod.namespace}/${pod.name}"
    crictl inspect "$c"
    crictl logs --tail 5000 "$c" 2>&1
    pid=$(crictl inspect -o go-template --template '{{.info.pid}}' "$c" 2>/dev/null)
    if [ -n "$pid" ] && [ "$pid" != "0" ]; then
      echo "cmdline: $(tr '\\0' ' ' < /proc/$pid/cmdline)"
      echo "exe: $(readlink /proc/$pid/exe) sha256 $(sha256sum /proc/$pid/exe | cut -d' ' -f1)"
      echo "cwd: $(readlink /proc/$pid/cwd)"
      ls -l /proc/$pid/fd
    fi
  done
done`,
  );
  return [
    'section() { printf "\\n=== %s\\n" "$1"; }',
    "section 'process tree'",
    'ps -eo pid,ppid,user,lstart,args --forest',
    "section 'sockets (listening and established)'",
    'ss -tanup',
    "section 'containers (crictl ps -a)'",
    'crictl ps -a 2>&1',
    "section 'tasks (ctr -n k8s.io tasks ls)'",
    'ctr -n k8s.io tasks ls 2>&1',
    "section 'affected containers: inspect, logs, processes'",
    ...(containers.length > 0 ? containers : ["echo 'no affected pod on this host'"]),
    "section 'logged-in users'",
    'who -a; last -n 50 2>&1',
    "section 'kernel modules'",
    'lsmod',
    "section 'system log (last 2 hours)'",
    'journalctl --since "-2h" --no-pager 2>&1 | tail -n 5000',
    "section 'memory'",
    memoryCaptureCommand ?? "echo 'memory capture not configured (evidence.memoryCaptureCommand)'",
  ];
}

async function readAll(body: unknown): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body);
  const stream = body as { transformToByteArray?: () => Promise<Uint8Array> } | undefined;
  if (stream?.transformToByteArray) return Buffer.from(await stream.transformToByteArray());
  return Buffer.from(String(body ?? ''), 'utf8');
}

export async function collectHostEvidence(
  input: HostEvidenceInput,
  clients: EvidenceClients,
  writer: EvidenceWriter,
  settings: Pick<EvidenceSettings, 'hostCaptureSeconds' | 'memoryCaptureCommand'>,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<EvidenceResult> {
  const { instanceId } = input.target;
  const result: EvidenceResult = {
    step: 'collect-host-evidence',
    skipped: null,
    bucket: writer.bucket,
    objects: [],
    problems: [],
  };
  if (input.target.state === 'terminated') return { ...result, skipped: `host ${instanceId} is terminated` };
  try {
    const { InstanceInformationList } = await clients.ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }),
    );
    const agent = InstanceInformationList?.find((i) => i.InstanceId === instanceId);
    if (agent?.PingStatus !== 'Online')
      return { ...result, skipped: `no SSM agent on ${instanceId}: host evidence not collected` };

    const onHost = input.pods.filter((pod) => pod.nodeName && pod.nodeName === input.target.nodeName);
    const prefix = `${writer.prefix}host/${instanceId}`;
    const seconds = settings.hostCaptureSeconds;
    const sent = await clients.ssm.send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [instanceId],
        Comment: `guardduty-responder evidence for finding ${input.plan.finding.id}`.slice(0, 100),
        Parameters: {
          commands: hostEvidenceScript(onHost, settings.memoryCaptureCommand),
          executionTimeout: [String(seconds)],
        },
        TimeoutSeconds: Math.max(30, seconds),
        OutputS3BucketName: writer.bucket,
        OutputS3KeyPrefix: prefix,
      }),
    );
    const commandId = sent.Command?.CommandId ?? '';
    let status = 'Pending';
    const deadline = Date.now() + (seconds + 15) * 1000;
    while (!TERMINAL.has(status) && Date.now() < deadline) {
      await sleep(2000);
      let invocation: { Status?: string };
      try {
        invocation = await clients.ssm.send(
          new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
        );
      } catch (error) {
        // Right after SendCommand the invocation may not exist yet.
        if (!(error instanceof Error && error.name === 'InvocationDoesNotExist')) throw error;
        invocation = { Status: 'Pending' };
      }
      status = invocation.Status ?? 'Pending';
    }
    if (status !== 'Success')
      result.problems.push(
        TERMINAL.has(status)
          ? `host capture on ${instanceId} ended ${status} (command ${commandId})`
          : `host capture on ${instanceId} still ${status} after ${seconds + 15} s (command ${commandId}): timed out`,
      );

    // What SSM wrote, read back and hashed: the chain of custody holds the bytes as stored.
    const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: writer.bucket, Prefix: prefix }));
    for (const entry of listed.Contents ?? []) {
      if (!entry.Key) continue;
      const object = await clients.s3.send(new GetObjectCommand({ Bucket: writer.bucket, Key: entry.Key }));
      const bytes = await readAll(object.Body);
      const recorded: EvidenceObject = {
        bucket: writer.bucket,
        key: entry.Key,
        versionId: object.VersionId ?? null,
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        subject: `host ${instanceId} (${entry.Key.split('/').at(-1)})`,
        note: status === 'Success' ? null : `the command ended ${status}: output may be partial`,
      };
      result.objects.push(recorded);
    }
  } catch (error) {
    result.problems.push(`host capture on ${instanceId}: ${messageOf(error)}`);
  }
  return result;
}
