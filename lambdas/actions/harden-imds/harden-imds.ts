/**
 * aws:harden-imds. Closes the instance metadata door a compromised pod or process reads the instance
 * role's credentials through: IMDSv2 required (session tokens, so a plain GET gets nothing) with a PUT
 * response hop limit of 1 (so no container off the host network reaches it). The endpoint stays on: the
 * host's own agents, the SSM agent and the kubelet included, use IMDSv2 from the host. The options before
 * are recorded first and signed; release puts them back, recover keeps them (the instance is replaced).
 */
import {
  DescribeInstancesCommand,
  type EC2Client,
  type InstanceMetadataOptionsResponse,
  ModifyInstanceMetadataOptionsCommand,
} from '@aws-sdk/client-ec2';
import { z } from 'zod';
import {
  type ActionItem,
  type ActionResult,
  item,
  skippedResult,
  unlessPlanned,
} from '../../core/action-result.js';
import type { IdentifiedInstance, TargetInput } from '../../identify/identify.js';
import { type Journal, journaled } from '../../incident/journal.js';
import { settle } from '../../shared/errors.js';

export type HardenInput = TargetInput<IdentifiedInstance>;

/** What the action sets: tokens required, one hop. */
export const HARDENED = { httpTokens: 'required', hopLimit: 1 } as const;

/** An instance's metadata options before containment, as recorded. */
export const MetadataBeforeSchema = z.strictObject({
  instanceId: z.string().min(1),
  httpTokens: z.enum(['optional', 'required']),
  hopLimit: z.number().int().min(1).max(64),
  httpEndpoint: z.enum(['enabled', 'disabled']),
});
export type MetadataBefore = z.infer<typeof MetadataBeforeSchema>;

const GONE = new Set(['shutting-down', 'terminated']);

/** The instance's metadata options as EC2 reports them now; null when the instance is gone. */
async function readOptions(ec2: EC2Client, instanceId: string): Promise<MetadataBefore | null> {
  const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = Reservations?.[0]?.Instances?.[0];
  if (!instance || GONE.has(instance.State?.Name ?? '')) return null;
  const options: InstanceMetadataOptionsResponse = instance.MetadataOptions ?? {};
  return {
    instanceId,
    httpTokens: options.HttpTokens === 'required' ? 'required' : 'optional',
    hopLimit: options.HttpPutResponseHopLimit ?? 1,
    httpEndpoint: options.HttpEndpoint === 'disabled' ? 'disabled' : 'enabled',
  };
}

const hardened = (options: MetadataBefore) =>
  options.httpTokens === HARDENED.httpTokens && options.hopLimit <= HARDENED.hopLimit;

const describe = (options: MetadataBefore) =>
  options.httpEndpoint === 'disabled'
    ? 'IMDS off'
    : `IMDSv1 ${options.httpTokens === 'required' ? 'refused' : 'allowed'}, hop limit ${options.hopLimit}`;

export async function hardenImds(
  input: HardenInput,
  ports: { ec2: EC2Client },
  journal: Journal,
): Promise<ActionResult> {
  const notPlanned = unlessPlanned(input.plan, 'harden-imds');
  if (notPlanned) return notPlanned;
  const instance = input.target;
  const target = `instance ${instance.instanceId}`;
  if (GONE.has(instance.state)) return skippedResult('harden-imds', `${target} is ${instance.state}`);
  const done = await settle(async (): Promise<ActionItem> => {
    const current = await readOptions(ports.ec2, instance.instanceId);
    if (!current) return item(target, 'skipped', 'the instance no longer exists');
    if (current.httpEndpoint === 'disabled')
      return item(target, 'ok', 'the metadata endpoint is off: no credentials to read from it', {
        verified: true,
      });
    const at = { action: 'harden-imds', cluster: null, target };
    return journaled(journal, at, current, async (before) => {
      if (!hardened(current)) {
        await ports.ec2.send(
          new ModifyInstanceMetadataOptionsCommand({
            InstanceId: instance.instanceId,
            HttpTokens: HARDENED.httpTokens,
            HttpPutResponseHopLimit: HARDENED.hopLimit,
            HttpEndpoint: 'enabled',
          }),
        );
      }
      const after = await readOptions(ports.ec2, instance.instanceId);
      const verified = after !== null && hardened(after);
      const detail = hardened(before)
        ? `already hardened (${describe(before)})`
        : `IMDSv2 required, hop limit ${HARDENED.hopLimit} (was: ${describe(before)})`;
      return {
        item: item(target, verified ? 'ok' : 'failed', detail, {
          verified,
          caveats: [
            'credentials already read from the metadata service stay valid until they expire; revoke the role or its sessions to cut them',
          ],
          restore: before,
        }),
        after: after ? { httpTokens: after.httpTokens, hopLimit: after.hopLimit } : null,
      };
    });
  });
  return {
    action: 'harden-imds',
    skipped: null,
    items: [done.ok ? done.value : item(target, 'failed', done.error)],
  };
}

/** Release: the metadata options back as recorded; an instance hardened before the incident is left so. */
export async function restoreImds(ec2: EC2Client, before: MetadataBefore): Promise<ActionItem> {
  const target = `instance ${before.instanceId}`;
  if (hardened(before))
    return item(target, 'skipped', `was hardened before the incident (${describe(before)}); left so`);
  const current = await readOptions(ec2, before.instanceId);
  if (!current) return item(target, 'skipped', 'the instance no longer exists');
  await ec2.send(
    new ModifyInstanceMetadataOptionsCommand({
      InstanceId: before.instanceId,
      HttpTokens: before.httpTokens,
      HttpPutResponseHopLimit: before.hopLimit,
    }),
  );
  const after = await readOptions(ec2, before.instanceId);
  const verified = after?.httpTokens === before.httpTokens && after.hopLimit === before.hopLimit;
  return item(target, verified ? 'ok' : 'failed', `metadata options put back (${describe(before)})`, {
    verified,
  });
}
