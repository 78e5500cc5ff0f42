/**
 * S3: the evidence bucket, versioned: PutObject with the SHA-256 S3 checks and `If-None-Match: *`,
 * CopyObject with the SHA-256 S3 computes, GetObject, HeadObject, ListObjectsV2, DeleteObject that leaves
 * a delete marker, ListObjectVersions. A bucket named `…-host-output` is a host output bucket, not
 * versioned, whose policy (lib/evidence-bucket.ts) lets a host write only under `hosts/<its aws:userid>/`;
 * the evidence bucket refuses any write by a host's credentials. REST, path-style (`/bucket/key`), served
 * by `serveS3`.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  CopyObjectCommandInput,
  DeleteObjectCommandInput,
  GetObjectCommandInput,
  HeadObjectCommandInput,
  ListObjectsV2CommandInput,
  ListObjectVersionsCommandInput,
  PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { hostUserId } from './iam.js';
import type { EvidenceState, SimulatedObject } from './state.js';
import { escapeXml, type Out, type SimulatedService, text } from './wire.js';
export const s3Error = (code: string, message: string, status: number) =>
  Object.assign(new Error(message), { name: code, $metadata: { httpStatusCode: status } });

const bytesOf = (body: unknown): Buffer =>
  Buffer.isBuffer(body)
    ? body
    : body instanceof Uint8Array
      ? Buffer.from(body)
      : Buffer.from(String(body ?? ''), 'utf8');

/** The latest version of an object, unless it is a delete marker; and a new version. */
export function objects(state: EvidenceState) {
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
  return { current, put };
}

/** A bucket the hosts write the capture's output to, each under its own prefix. */
export const HOST_OUTPUT_SUFFIX = '-host-output';
const isHostOutput = (bucket: string | undefined) => (bucket ?? '').endsWith(HOST_OUTPUT_SUFFIX);

/** Who writes: the responder (any caller but a host), or a host, by its role session's `aws:userid`. */
export type S3Writer = { host: string | null };

/**
 * The two bucket policies, as S3 would apply them to a write: a host writes only under its own prefix of
 * a host output bucket and never to the evidence bucket; the responder writes the evidence bucket and
 * only deletes in a host output bucket. Throws AccessDenied otherwise.
 */
export function authorizeWrite(bucket: string, key: string, writer: S3Writer, operation: string): void {
  const denied = () => s3Error('AccessDenied', `${operation} on ${bucket}/${key}: Access Denied`, 403);
  if (writer.host !== null) {
    if (!isHostOutput(bucket) || operation !== 'PutObject' || !key.startsWith(`hosts/${writer.host}/`))
      throw denied();
    return;
  }
  if (isHostOutput(bucket) && operation !== 'DeleteObject') throw denied();
}

export const s3: SimulatedService = {
  operations: (account) => {
    const { evidence: state } = account;
    const { current, put } = objects(state);
    const writerOf = (input: { CallerAccessKey?: string }): S3Writer => ({
      host: hostUserId(account, input.CallerAccessKey),
    });
    return {
      PutObject: (input: PutObjectCommandInput & { CallerAccessKey?: string }) => {
        authorizeWrite(input.Bucket ?? '', input.Key ?? '', writerOf(input), 'PutObject');
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
      CopyObject: (input: CopyObjectCommandInput & { CallerAccessKey?: string }) => {
        authorizeWrite(input.Bucket ?? '', input.Key ?? '', writerOf(input), 'PutObject');
        const [sourceBucket = '', ...rest] = decodeURIComponent(input.CopySource ?? '').split('/');
        const source = current(sourceBucket, rest.join('/'));
        if (!source) throw s3Error('NoSuchKey', 'The specified key does not exist.', 404);
        const bytes = Buffer.from(source.body, 'base64');
        const object = put(input.Bucket ?? '', input.Key ?? '', bytes, source.contentType);
        return {
          VersionId: object.versionId,
          CopyObjectResult: {
            ETag: `"${createHash('md5').update(bytes).digest('hex')}"`,
            ChecksumSHA256:
              input.ChecksumAlgorithm === 'SHA256'
                ? createHash('sha256').update(bytes).digest('base64')
                : undefined,
          },
        };
      },
      /**
       * A versioned bucket: a delete adds a delete marker, and every earlier version stays; a host output
       * bucket is not versioned: the object is gone.
       */
      DeleteObject: (input: DeleteObjectCommandInput & { CallerAccessKey?: string }) => {
        authorizeWrite(input.Bucket ?? '', input.Key ?? '', writerOf(input), 'DeleteObject');
        if (isHostOutput(input.Bucket)) {
          state.objects = state.objects.filter((o) => !(o.bucket === input.Bucket && o.key === input.Key));
          return {};
        }
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
    };
  },
};

/**
 * S3's REST protocol, path-style (`/bucket/key`), for the operations the evidence functions use: the
 * operation read from the method and query, its answer written as S3 writes it.
 */
export function serveS3(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  body: string,
  answer: (operation: string, input: unknown) => Out,
  record: (operation: string, status: number) => void,
  callerAccessKey = '',
): void {
  const [bucket = '', ...rest] = url.pathname.split('/').filter(Boolean);
  const key = rest.map(decodeURIComponent).join('/');
  const method = request.method ?? 'GET';
  const operation =
    method === 'PUT'
      ? request.headers['x-amz-copy-source']
        ? 'CopyObject'
        : 'PutObject'
      : method === 'HEAD'
        ? 'HeadObject'
        : method === 'DELETE'
          ? 'DeleteObject'
          : url.searchParams.has('versions')
            ? 'ListObjectVersions'
            : url.searchParams.get('list-type') === '2'
              ? 'ListObjectsV2'
              : 'GetObject';
  const header = (name: string) => {
    const value = request.headers[name];
    return value === undefined ? undefined : String(value);
  };
  try {
    const input: Record<string, unknown> = { Bucket: bucket, Key: key, CallerAccessKey: callerAccessKey };
    if (operation === 'CopyObject')
      Object.assign(input, {
        CopySource: header('x-amz-copy-source'),
        ChecksumAlgorithm: header('x-amz-checksum-algorithm'),
      });
    if (operation === 'PutObject')
      Object.assign(input, {
        Body: Buffer.from(body, 'utf8'),
        ContentType: header('content-type'),
        ChecksumSHA256: header('x-amz-checksum-sha256'),
        IfNoneMatch: header('if-none-match'),
      });
    if (operation === 'ListObjectsV2' || operation === 'ListObjectVersions')
      input.Prefix = url.searchParams.get('prefix') ?? '';
    const out = answer(operation, input);
    record(operation, 200);
    if (operation === 'ListObjectsV2') {
      const xml = `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${text('Name', bucket)}${text('Prefix', input.Prefix)}${text('KeyCount', out.KeyCount)}${text('IsTruncated', false)}${(out.Contents ?? []).map((o: Out) => `<Contents>${text('Key', o.Key)}${text('Size', o.Size)}</Contents>`).join('')}</ListBucketResult>`;
      response.writeHead(200, { 'content-type': 'application/xml' });
      response.end(`<?xml version="1.0" encoding="UTF-8"?>${xml}`);
      return;
    }
    if (operation === 'ListObjectVersions') {
      const version = (tag: string, o: Out) =>
        `<${tag}>${text('Key', o.Key)}${text('VersionId', o.VersionId)}${text('IsLatest', o.IsLatest)}${text('LastModified', o.LastModified)}${tag === 'Version' ? text('Size', o.Size) : ''}</${tag}>`;
      const xml = `<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${text('Name', bucket)}${text('Prefix', input.Prefix)}${text('IsTruncated', false)}${(out.Versions ?? []).map((o: Out) => version('Version', o)).join('')}${(out.DeleteMarkers ?? []).map((o: Out) => version('DeleteMarker', o)).join('')}</ListVersionsResult>`;
      response.writeHead(200, { 'content-type': 'application/xml' });
      response.end(`<?xml version="1.0" encoding="UTF-8"?>${xml}`);
      return;
    }
    if (operation === 'CopyObject') {
      const result = out.CopyObjectResult as Out;
      const xml = `<CopyObjectResult>${text('ETag', result.ETag)}${result.ChecksumSHA256 ? text('ChecksumSHA256', result.ChecksumSHA256) : ''}</CopyObjectResult>`;
      response.writeHead(200, { 'content-type': 'application/xml', 'x-amz-version-id': out.VersionId });
      response.end(`<?xml version="1.0" encoding="UTF-8"?>${xml}`);
      return;
    }
    if (operation === 'DeleteObject') {
      response.writeHead(
        204,
        out.VersionId ? { 'x-amz-version-id': out.VersionId, 'x-amz-delete-marker': 'true' } : {},
      );
      response.end();
      return;
    }
    const headers: Record<string, string> = { 'x-amz-version-id': out.VersionId ?? 'null' };
    if (out.ETag) headers.etag = out.ETag;
    if (out.ChecksumSHA256) headers['x-amz-checksum-sha256'] = out.ChecksumSHA256;
    if (operation === 'HeadObject') headers['content-length'] = String(out.ContentLength);
    if (operation === 'GetObject') headers['content-type'] = out.ContentType;
    response.writeHead(200, headers);
    response.end(operation === 'GetObject' ? out.Body : undefined);
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode ?? 400;
    record(operation, status);
    response.writeHead(status, { 'content-type': 'application/xml' });
    response.end(
      method === 'HEAD'
        ? undefined
        : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${escapeXml(e.name)}</Code><Message>${escapeXml(e.message)}</Message></Error>`,
    );
  }
}
