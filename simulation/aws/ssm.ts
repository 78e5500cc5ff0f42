/**
 * Systems Manager Run Command: DescribeInstanceInformation, SendCommand, GetCommandInvocation. A command
 * "runs" on a managed instance by writing a transcript of its script to the bucket as SSM writes stdout,
 * with the instance's credentials (a write its bucket policy refuses leaves no output, as SSM's does);
 * an instance can be simulated without the agent, or with a command that runs into its timeout. JSON.
 */
import { randomUUID } from 'node:crypto';
import type {
  DescribeInstanceInformationCommandInput,
  GetCommandInvocationCommandInput,
  SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import { instanceUserId } from './iam.js';
import { authorizeWrite, objects, s3Error } from './s3.js';
import type { SsmAgent } from './state.js';
import type { SimulatedService } from './wire.js';
export const ssm: SimulatedService = {
  operations: (account) => {
    const { evidence: state, instances } = account;
    const { put } = objects(state);
    const agentOf = (id: string): SsmAgent | null => {
      const found = instances.find((i) => i.instanceId === id);
      return found ? (found.ssm ?? 'unmanaged') : null;
    };
    return {
      DescribeInstanceInformation: (input: DescribeInstanceInformationCommandInput) => {
        const ids = input.Filters?.find((f) => f.Key === 'InstanceIds')?.Values ?? [];
        return {
          InstanceInformationList: ids
            .filter((id) => {
              const agent = agentOf(id);
              return agent !== null && agent !== 'unmanaged';
            })
            .map((id) => ({ InstanceId: id, PingStatus: 'Online', PlatformType: 'Linux' })),
        };
      },
      SendCommand: (input: SendCommandCommandInput) => {
        const commandId = randomUUID();
        for (const instanceId of input.InstanceIds ?? []) {
          const agent = agentOf(instanceId);
          if (agent === null || agent === 'unmanaged')
            throw s3Error(
              'InvalidInstanceId',
              `Instances [[${instanceId}]] not in a valid state for account`,
              400,
            );
          const commands = (input.Parameters?.commands ?? []) as string[];
          let outputKey: string | null = null;
          if (agent === 'managed' && input.OutputS3BucketName) {
            // What SSM writes: the script's stdout under <prefix>/<command>/<instance>/<plugin>/stdout.
            outputKey = `${input.OutputS3KeyPrefix ?? ''}/${commandId}/${instanceId}/awsrunShellScript/0.awsrunShellScript/stdout`;
            const transcript = commands
              .join('\n')
              .split('\n')
              .filter((line) => line.startsWith('section '))
              .map((line) => `=== ${line.slice('section '.length)}\n(simulated output)\n`)
              .join('');
            try {
              // Uploaded as the instance: where its bucket policy lets it, or not at all.
              const host = instanceUserId(account, instanceId) ?? `no-role:${instanceId}`;
              authorizeWrite(input.OutputS3BucketName, outputKey, { host }, 'PutObject');
              put(input.OutputS3BucketName, outputKey, Buffer.from(transcript, 'utf8'), 'text/plain');
            } catch {
              outputKey = null;
            }
          }
          state.commands.push({
            commandId,
            instanceId,
            commands,
            status: agent === 'managed' ? 'Success' : 'TimedOut',
            outputKey,
          });
        }
        return { Command: { CommandId: commandId, DocumentName: input.DocumentName, Status: 'Pending' } };
      },
      GetCommandInvocation: (input: GetCommandInvocationCommandInput) => {
        const command = state.commands.find(
          (c) => c.commandId === input.CommandId && c.instanceId === input.InstanceId,
        );
        if (!command) throw s3Error('InvocationDoesNotExist', 'the invocation does not exist', 400);
        return {
          CommandId: command.commandId,
          InstanceId: command.instanceId,
          Status: command.status,
          StatusDetails: command.status === 'TimedOut' ? 'DeliveryTimedOut' : command.status,
          ResponseCode: command.status === 'Success' ? 0 : -1,
        };
      },
    };
  },
};
