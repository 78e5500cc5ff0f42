/**
 * Host evidence through Systems Manager Run Command (`AWS-RunShellScript`), for each instance the response
 * acts on that runs the SSM agent (EKS-optimized AMIs do): the process tree, sockets, the container
 * runtime's view of the affected containers (crictl ps/inspect/logs, ctr tasks), their processes' /proc
 * details, logged-in users, kernel modules, recent system logs, and the operator's memory capture command
 * when one is configured. The host writes its output only where it may (its own prefix of the host output
 * bucket, host-output.ts); the responder then copies each object into the evidence bucket, hashes and
 * records it, and removes it there: nothing the host's credentials can write ever is evidence. Bounded in time: a command that does not finish is reported, never a reason to
 * stop containment. It runs before host isolation and IAM revocation, which both cut the agent off.
 */

import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { type ActionItem, item } from '../core/action-result.js';
import { isKubernetesName } from '../core/selectors.js';
import type { EvidenceSettings } from '../core/settings.js';
import type { IdentifiedInstance, IdentifiedPod, TargetInput } from '../identify/identify.js';
import type { Journal } from '../incident/journal.js';
import { messageOf } from '../shared/errors.js';
import type { EvidenceClients } from './clients.js';
import { type HostClients, hostOutputPrefix, takeStaged } from './host-output.js';
import type { EvidenceResult } from './pods.js';
import type { EvidenceWriter } from './writer.js';

export type HostEvidenceInput = TargetInput<IdentifiedInstance> & {
  executionArn: string;
  /** The pods the response acts on: those on this instance get their containers inspected. */
  pods: IdentifiedPod[];
};

/** Outputs up to this size are read and hashed by the responder; larger ones (a memory image) S3 copies. */
const HASHED_BYTES = 64 * 1024 * 1024;

const TERMINAL = new Set(['Success', 'Cancelled', 'TimedOut', 'Failed', 'Cancelling']);

/**
 * The capture script, pure. Pod names and namespaces are Kubernetes names (checked), so quoting them is
 * enough; the memory command is the operator's own configuration.
 */
const validPods = (pods: readonly { namespace: string; name: string }[]) =>
  pods.filter((pod) => isKubernetesName(pod.namespace) && isKubernetesName(pod.name));

/** A shell loop over the containers of these pods (pod names are checked Kubernetes names). */
const forEachContainer = (pods: readonly { namespace: string; name: string }[], body: string) =>
  validPods(pods).map(
    (pod) => `for p in $(crictl pods --namespace '${pod.namespace}' --name '${pod.name}' -q); do
  for c in $(crictl ps -a --pod "$p" -q); do ${body}; done
done`,
  );

/** Pauses (or resumes) the containers' tasks in containerd, saying which. */
export const pauseScript = (pods: readonly { namespace: string; name: string }[], verb: 'pause' | 'resume') =>
  forEachContainer(pods, `ctr -n k8s.io tasks ${verb} "$c" && echo "${verb}d $c"`);

export function hostEvidenceScript(
  pods: readonly { namespace: string; name: string }[],
  memoryCaptureCommand: string | null,
  pause = false,
): string[] {
  const safe = validPods(pods);
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
    ...(pause && safe.length > 0 ? ["section 'pause'", ...pauseScript(safe, 'pause')] : []),
  ];
}

/** The containers paused on a host, as recorded before the pause, for release to resume them. */
export const PausedBeforeSchema = z.strictObject({
  instanceId: z.string().min(1),
  pods: z.array(z.strictObject({ namespace: z.string().min(1), name: z.string().min(1) })),
});
export type PausedBefore = z.infer<typeof PausedBeforeSchema>;

/** Runs a script on one instance through Run Command and waits, within `seconds`, for how it ends. */
async function runCommand(
  ssm: EvidenceClients['ssm'],
  instanceId: string,
  commands: string[],
  seconds: number,
  sleep: (ms: number) => Promise<void>,
  output?: { bucket: string; prefix: string },
): Promise<{ commandId: string; status: string }> {
  const sent = await ssm.send(
    new SendCommandCommand({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [instanceId],
      Parameters: { commands, executionTimeout: [String(seconds)] },
      TimeoutSeconds: Math.max(30, seconds),
      ...(output ? { OutputS3BucketName: output.bucket, OutputS3KeyPrefix: output.prefix } : {}),
    }),
  );
  const commandId = sent.Command?.CommandId ?? '';
  let status = 'Pending';
  const deadline = Date.now() + (seconds + 15) * 1000;
  while (!TERMINAL.has(status) && Date.now() < deadline) {
    await sleep(2000);
    try {
      const invocation = await ssm.send(
        new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }),
      );
      status = invocation.Status ?? 'Pending';
    } catch (error) {
      // Right after SendCommand the invocation may not exist yet.
      if (!(error instanceof Error && error.name === 'InvocationDoesNotExist')) throw error;
    }
  }
  return { commandId, status };
}

/** Release of paused containers: resumed through Run Command, once the host is reachable again. */
export async function resumeContainers(
  before: PausedBefore,
  ssm: EvidenceClients['ssm'],
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<ActionItem> {
  const target = `containers on ${before.instanceId}`;
  const { commandId, status } = await runCommand(
    ssm,
    before.instanceId,
    pauseScript(before.pods, 'resume'),
    60,
    sleep,
  );
  return item(
    target,
    status === 'Success' ? 'ok' : 'failed',
    status === 'Success' ? `resumed (command ${commandId})` : `resume ended ${status} (command ${commandId})`,
    { verified: status === 'Success' },
  );
}

/** Where the host capture writes and how long it polls: the host output bucket, and the pause between polls. */
export type HostCapturePlace = {
  /** The bucket each host may write only its own prefix of (lib/evidence-bucket.ts); null: none given. */
  hostOutput: string | null;
  sleep?: (ms: number) => Promise<void>;
  /** Staged objects up to this size are read and hashed by the responder; larger ones copied by S3. */
  hashedBytes?: number;
};

export async function collectHostEvidence(
  input: HostEvidenceInput,
  clients: HostClients,
  writer: EvidenceWriter,
  settings: Pick<EvidenceSettings, 'hostCaptureSeconds' | 'memoryCaptureCommand' | 'pauseContainers'>,
  journal: Journal,
  place: HostCapturePlace,
): Promise<EvidenceResult> {
  const { hostOutput, hashedBytes = HASHED_BYTES } = place;
  const sleep = place.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const { instanceId } = input.target;
  const result: EvidenceResult = {
    step: 'collect-host-evidence',
    skipped: null,
    bucket: writer.bucket,
    objects: [],
    problems: [],
  };
  if (input.target.state === 'terminated') return { ...result, skipped: `host ${instanceId} is terminated` };
  if (!hostOutput)
    return {
      ...result,
      skipped: `no host output bucket given (--host-output-bucket NAME): host evidence of ${instanceId} not collected`,
    };
  try {
    const { InstanceInformationList } = await clients.ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }),
    );
    const agent = InstanceInformationList?.find((i) => i.InstanceId === instanceId);
    if (agent?.PingStatus !== 'Online')
      return { ...result, skipped: `no SSM agent on ${instanceId}: host evidence not collected` };

    const own = await hostOutputPrefix(input.target, clients.iam);
    if ('skipped' in own) return { ...result, skipped: own.skipped };
    const onHost = input.pods.filter((pod) => pod.nodeName && pod.nodeName === input.target.nodeName);
    // Where the host may write: its own prefix of the host output bucket, named by its role session.
    const staged = `${own.prefix}${writer.prefix}host`;
    const seconds = settings.hostCaptureSeconds;
    const pods = validPods(onHost).map(({ namespace, name }) => ({ namespace, name }));
    const pause = settings.pauseContainers && pods.length > 0;
    const target = `containers on ${instanceId}`;
    // Pausing changes the host: recorded first, so release resumes them.
    if (pause)
      await journal.intend('collect-host-evidence', null, target, {
        instanceId,
        pods,
      } satisfies PausedBefore);
    const { commandId, status } = await runCommand(
      clients.ssm,
      instanceId,
      hostEvidenceScript(onHost, settings.memoryCaptureCommand, pause),
      seconds,
      sleep,
      { bucket: hostOutput, prefix: staged },
    );
    if (pause)
      await journal.settle('collect-host-evidence', null, target, {
        status: status === 'Success' ? 'ok' : 'failed',
        detail: `capture and pause ended ${status} (command ${commandId})`,
      });
    if (status !== 'Success')
      result.problems.push(
        TERMINAL.has(status)
          ? `host capture on ${instanceId} failed: the command ended ${status} (command ${commandId})`
          : `host capture on ${instanceId} failed: still ${status} after ${seconds + 15} s (command ${commandId}), timed out`,
      );
    const note = status === 'Success' ? null : `the command ended ${status}: output may be partial`;
    const taken = await takeStaged(clients.s3, hostOutput, `${staged}/${commandId}/`, writer, {
      name: `host/${instanceId}/${commandId}/`,
      subject: (rest) => `host ${instanceId} (${rest.split('/').at(-1)})`,
      note,
      hashedBytes,
    });
    result.objects.push(...taken.objects);
    result.problems.push(...taken.problems.map((problem) => `host capture on ${instanceId}: ${problem}`));
    if (taken.objects.length === 0 && status === 'Success')
      result.problems.push(
        `host capture on ${instanceId}: the command succeeded but left no output under its prefix of ${hostOutput} (the instance role may not write there: see docs/design.md, Evidence)`,
      );
  } catch (error) {
    result.problems.push(`host capture on ${instanceId}: ${messageOf(error)}`);
  }
  return result;
}
