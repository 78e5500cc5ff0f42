/**
 * S3: the evidence bucket, versioned: PutObject with the SHA-256 S3 checks and `If-None-Match: *`,
 * GetObject, HeadObject, ListObjectsV2, DeleteObject that leaves a delete marker, ListObjectVersions.
 * REST, path-style (`/bucket/key`), served by `serveS3`.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  DeleteObjectCommandInput,
  GetObjectCommandInput,
  HeadObjectCommandInput,
  ListObjectsV2CommandInput,
  ListObjectVersionsCommandInput,
  PutObjectCommandInput,
} from '@aws-sdk/client-s3';
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

export const s3: SimulatedService = {
  operations: ({ evidence: state }) => {
    const { current, put } = objects(state);
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
): void {
  const [bucket = '', ...rest] = url.pathname.split('/').filter(Boolean);
  const key = rest.map(decodeURIComponent).join('/');
  const method = request.method ?? 'GET';
  const operation =
    method === 'PUT'
      ? 'PutObject'
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
    const input: Record<string, unknown> = { Bucket: bucket, Key: key };
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
    if (operation === 'DeleteObject') {
      response.writeHead(204, { 'x-amz-version-id': out.VersionId, 'x-amz-delete-marker': 'true' });
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
