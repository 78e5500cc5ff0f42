/**
 * The evidence side of the simulated account: an S3 bucket with versioning (PutObject with a SHA-256 S3
 * checks and `If-None-Match: *`, GetObject, HeadObject, ListObjectsV2, DeleteObject that leaves a delete
 * marker, ListObjectVersions) and Systems Manager Run Command
 * (DescribeInstanceInformation, SendCommand, GetCommandInvocation). A command "runs" on a managed instance
 * by writing a transcript of its script to the bucket as SSM writes stdout; an instance can be simulated
 * without the agent, or with a command that runs into its timeout.
 */
import { createHash, randomUUID } from 'node:crypto';
import type {
  DeleteObjectCommandInput,
  GetObjectCommandInput,
  HeadObjectCommandInput,
  ListObjectsV2CommandInput,
  ListObjectVersionsCommandInput,
  PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import type {
  DescribeInstanceInformationCommandInput,
  GetCommandInvocationCommandInput,
  SendCommandCommandInput,
} from '@aws-sdk/client-ssm';

export type SimulatedObject = {
  bucket: string;
  key: string;
  versionId: string;
  /** base64 */
  body: string;
  contentType: string;
  /** When it was written (ISO); absent in a simulation saved before versions were listed. */
  lastModified?: string;
  /** A delete marker: the object reads as absent while this is its latest version. */
  deleteMarker?: boolean;
};

/** Whether an instance runs the SSM agent, and how its commands end. */
export type SsmAgent = 'managed' | 'unmanaged' | 'times-out';

export type SimulatedCommand = {
  commandId: string;
  instanceId: string;
  commands: string[];
  status: string;
  outputKey: string | null;
};

export type EvidenceState = { objects: SimulatedObject[]; commands: SimulatedCommand[] };

const s3Error = (code: string, message: string, status: number) =>
  Object.assign(new Error(message), { name: code, $metadata: { httpStatusCode: status } });

const bytesOf = (body: unknown): Buffer =>
  Buffer.isBuffer(body)
    ? body
    : body instanceof Uint8Array
      ? Buffer.from(body)
      : Buffer.from(String(body ?? ''), 'utf8');

export function evidenceOperations(state: EvidenceState, agentOf: (instanceId: string) => SsmAgent | null) {
  const current = (bucket: string | undefined, key: string | undefined) => {
    const latest = state.objects.filter((o) => o.bucket === bucket && o.key === key).at(-1);
    return latest?.deleteMarker ? undefined : latest;
  };
  const put = (bucket: string, key: string, bytes: Buffer, contentType: string, deleteMarker = false) => {
    const object: SimulatedObject = {
      bucket,
      key,
      versionId: randomUUID().replace(/-/g, ''),
      body: bytes.toString('base64'),
      contentType,
      lastModified: new Date().toISOString(),
      ...(deleteMarker ? { deleteMarker } : {}),
    };
    state.objects.push(object);
    return object;
  };
  return {
    PutObject: (input: PutObjectCommandInput) => {
      const bytes = bytesOf(input.Body);
      if (input.IfNoneMatch === '*' && current(input.Bucket, input.Key))
        throw s3Error(
          'PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold',
          412,
        );
      const sha256 = createHash('sha256').update(bytes).digest('base64');
      if (input.ChecksumSHA256 && input.ChecksumSHA256 !== sha256)
        throw s3Error('BadDigest', 'The SHA256 you specified did not match the calculated checksum.', 400);
      const object = put(
        input.Bucket ?? '',
        input.Key ?? '',
        bytes,
        input.ContentType ?? 'binary/octet-stream',
      );
      return {
        VersionId: object.versionId,
        ETag: `"${createHash('md5').update(bytes).digest('hex')}"`,
        ChecksumSHA256: sha256,
      };
    },
    GetObject: (input: GetObjectCommandInput) => {
      const object = current(input.Bucket, input.Key);
      if (!object) throw s3Error('NoSuchKey', 'The specified key does not exist.', 404);
      return {
        Body: Buffer.from(object.body, 'base64'),
        VersionId: object.versionId,
        ContentType: object.contentType,
      };
    },
    HeadObject: (input: HeadObjectCommandInput) => {
      const object = current(input.Bucket, input.Key);
      if (!object) throw s3Error('NotFound', 'Not Found', 404);
      return { ContentLength: Buffer.from(object.body, 'base64').length, VersionId: object.versionId };
    },
    /** A versioned bucket: a delete adds a delete marker, and every earlier version stays. */
    DeleteObject: (input: DeleteObjectCommandInput) => {
      const marker = put(input.Bucket ?? '', input.Key ?? '', Buffer.alloc(0), '', true);
      return { DeleteMarker: true, VersionId: marker.versionId };
    },
    ListObjectVersions: (input: ListObjectVersionsCommandInput) => {
      const all = state.objects.filter(
        (o) => o.bucket === input.Bucket && o.key.startsWith(input.Prefix ?? ''),
      );
      const shape = (o: SimulatedObject) => ({
        Key: o.key,
        VersionId: o.versionId,
        IsLatest: all.filter((other) => other.key === o.key).at(-1) === o,
        LastModified: o.lastModified ?? new Date(0).toISOString(),
        Size: Buffer.from(o.body, 'base64').length,
      });
      return {
        Versions: all.filter((o) => !o.deleteMarker).map(shape),
        DeleteMarkers: all.filter((o) => o.deleteMarker).map(shape),
      };
    },
    ListObjectsV2: (input: ListObjectsV2CommandInput) => {
      const keys = [
        ...new Set(
          state.objects
            .filter(
              (o) =>
                o.bucket === input.Bucket &&
                o.key.startsWith(input.Prefix ?? '') &&
                current(input.Bucket, o.key) !== undefined,
            )
            .map((o) => o.key),
        ),
      ].sort();
      return {
        Contents: keys.map((key) => ({
          Key: key,
          Size: Buffer.from(current(input.Bucket, key)?.body ?? '', 'base64').length,
        })),
        KeyCount: keys.length,
        IsTruncated: false,
      };
    },
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
          put(input.OutputS3BucketName, outputKey, Buffer.from(transcript, 'utf8'), 'text/plain');
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
}
