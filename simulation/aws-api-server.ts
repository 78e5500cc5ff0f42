/**
 * The simulated account served over HTTP the way AWS serves it, for the operations the responder calls
 * (each service's wire shapes are in its own file, aws/<service>.ts; this is the framing they share),
 * so the responder's own SDK clients run unchanged with only their endpoint pointed here: EC2's query
 * protocol (XML with `…Set/item` lists), the AWS query protocol of Auto Scaling, IAM, SNS and Elastic
 * Load Balancing (XML with `member` lists; the two ELB APIs share a signing name and differ by Version),
 * the REST-JSON of EKS, Security Hub and GuardDuty, the JSON of Systems Manager, KMS (blobs as base64) and Step Functions,
 * and S3's REST (path-style). The service is read from the SigV4 credential scope; errors come
 * back in each protocol's error format, so the SDK raises its own exception classes. DynamoDB requests
 * go on to the local incident table (incident-table.ts), as one AWS-compatible endpoint serves them all.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { PROOF_HOST_HEADER } from '../lambdas/clients/caller.js';
import type { SimulatedAccount } from './account.js';
import { serveS3 } from './aws/s3.js';
import { SERVICES } from './aws/services.js';
import { escapeXml, unflatten } from './aws/wire.js';
import { close, listenOnLoopback, readBody } from './loopback.js';

/** Every request the server answered, for call counts, with the region it was signed for. */
export type AwsRequest = { service: string; operation: string; status: number; region: string };

/** Who called and where: from the request's SigV4 credential scope. */
export type Caller = { accessKeyId: string; region: string; service: string };

/**
 * Which simulated account answers a request. One account by default; a simulation of an organization
 * answers each call in the caller's own account and region (simulation.ts).
 */
export type AccountRouter = (caller: Caller, operation: string, input: unknown) => SimulatedAccount;

// ---------------------------------------------------------------- server

function errorCode(service: string, error: Error): string {
  // The query protocols name errors by code (IAM's NoSuchEntityException is "NoSuchEntity" on the wire).
  return service === 'iam' || service === 'sns' ? error.name.replace(/Exception$/, '') : error.name;
}

export class AwsApiServer {
  readonly requests: AwsRequest[] = [];
  private server: Server | undefined;
  url = '';

  /** DynamoDB requests are passed to this DynamoDB-compatible endpoint (the local incident table). */
  constructor(
    account: SimulatedAccount,
    private readonly dynamodbUrl?: string,
    private readonly route: AccountRouter = () => account,
  ) {}

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(String(error));
      });
    });
    this.url = `http://127.0.0.1:${await listenOnLoopback(this.server)}`;
    return this.url;
  }

  stop(): Promise<void> {
    return close(this.server);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://localhost');
    // A signed request names its credential scope in its Authorization header; a presigned one (a caller
    // proof: STS GetCallerIdentity) in its query.
    const presigned = !request.headers.authorization && url.searchParams.has('X-Amz-Credential');
    const scope = /Credential=([^/]+)\/[^/]+\/([^/]+)\/([^/]+)\//.exec(
      presigned
        ? `Credential=${url.searchParams.get('X-Amz-Credential')}`
        : (request.headers.authorization ?? ''),
    );
    const service = scope?.[3] ?? 'unknown';
    const caller: Caller = { accessKeyId: scope?.[1] ?? '', region: scope?.[2] ?? '', service };
    const call = (operation: string, input: unknown) =>
      this.route(caller, operation, input).call(operation, input);
    const requestId = randomUUID();

    if (service === 'dynamodb' && this.dynamodbUrl) {
      const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
      const answer = await fetch(`${this.dynamodbUrl}${request.url ?? '/'}`, {
        method: request.method,
        headers: {
          'content-type': String(request.headers['content-type'] ?? 'application/x-amz-json-1.0'),
          'x-amz-target': String(request.headers['x-amz-target'] ?? ''),
          authorization: String(request.headers.authorization ?? ''),
          'x-amz-date': String(request.headers['x-amz-date'] ?? ''),
        },
        body,
      });
      this.requests.push({ service, operation, region: caller.region, status: answer.status });
      response.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'application/x-amz-json-1.0',
        'x-amzn-requestid': answer.headers.get('x-amzn-requestid') ?? requestId,
      });
      response.end(await answer.text());
      return;
    }

    if (service === 's3') {
      serveS3(
        request,
        response,
        url,
        body,
        call,
        (operation, status) => this.requests.push({ service, operation, region: caller.region, status }),
        caller.accessKeyId,
      );
      return;
    }

    if (service === 'ssm' || service === 'kms' || service === 'states' || service === 'cloudtrail') {
      // `AmazonSSM.SendCommand`, `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents`.
      const operation =
        String(request.headers['x-amz-target'] ?? '')
          .split('.')
          .at(-1) || 'unknown';
      try {
        const output = call(operation, JSON.parse(body || '{}'));
        this.requests.push({ service, operation, region: caller.region, status: 200 });
        response.writeHead(200, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': requestId,
        });
        // JSON protocols carry blobs (KMS's Mac) as base64.
        response.end(
          JSON.stringify(output, (_key, value) =>
            value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value,
          ),
        );
      } catch (error) {
        const e = error as Error & { $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode ?? 400;
        this.requests.push({ service, operation, region: caller.region, status });
        response.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': requestId,
        });
        response.end(JSON.stringify({ __type: e.name, message: e.message }));
      }
      return;
    }

    if (service === 'eks' || service === 'securityhub' || service === 'guardduty') {
      let operation = 'unknown';
      try {
        const method = request.method ?? 'GET';
        const route = SERVICES[service]?.route;
        if (!route) throw new Error(`${service} is not simulated`);
        const parsed = route(method, url, body);
        operation = parsed.operation;
        const output = call(operation, parsed.input);
        this.requests.push({ service, operation, region: caller.region, status: 200 });
        response.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': requestId });
        response.end(JSON.stringify(output));
      } catch (error) {
        const e = error as Error & { $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode ?? (e.name === 'ResourceNotFoundException' ? 404 : 400);
        this.requests.push({ service, operation, region: caller.region, status });
        response.writeHead(status, {
          'content-type': 'application/json',
          'x-amzn-errortype': e.name,
          'x-amzn-requestid': requestId,
        });
        response.end(JSON.stringify({ message: e.message }));
      }
      return;
    }

    const form = presigned ? url.searchParams : new URLSearchParams(body);
    const operation = form.get('Action') ?? 'unknown';
    const simulated = SERVICES[service];
    const wire = simulated?.query?.[operation];
    const decode = wire?.input;
    const encode = wire?.output;
    const xmlns =
      typeof simulated?.xmlns === 'string'
        ? simulated.xmlns
        : (simulated?.xmlns?.[form.get('Version') ?? ''] ?? '');
    try {
      if (!decode || !encode)
        throw Object.assign(new Error(`${operation} is not simulated`), { name: 'InvalidAction' });
      const input = decode(unflatten(form)) as Record<string, unknown>;
      // STS tells who signed: the key of a signed request, or a presigned request verified as it arrived.
      if (operation === 'GetCallerIdentity') {
        input.CallerAccessKey = caller.accessKeyId;
        if (presigned)
          input.Presigned = {
            // The host the proof was signed for: the simulation's stable one when it says so.
            url: `http://${request.headers[PROOF_HOST_HEADER] ?? request.headers.host ?? 'localhost'}${request.url ?? '/'}`,
            headers: Object.fromEntries(
              Object.entries(request.headers).map(([k, v]) => [k, v === undefined ? undefined : String(v)]),
            ),
          };
      }
      const output = call(operation, input);
      const xml =
        service === 'ec2'
          ? `<${operation}Response xmlns="${xmlns}"><requestId>${requestId}</requestId>${encode(output)}</${operation}Response>`
          : `<${operation}Response xmlns="${xmlns}"><${operation}Result>${encode(output)}</${operation}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
      this.requests.push({ service, operation, region: caller.region, status: 200 });
      response.writeHead(200, { 'content-type': 'text/xml' });
      response.end(`<?xml version="1.0" encoding="UTF-8"?>${xml}`);
    } catch (error) {
      const e = error as Error & { $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode ?? (e.name.startsWith('NoSuchEntity') ? 404 : 400);
      const code = escapeXml(errorCode(service, e));
      const message = escapeXml(e.message);
      const xml =
        service === 'ec2'
          ? `<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
          : `<ErrorResponse xmlns="${xmlns}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      this.requests.push({ service, operation, region: caller.region, status });
      response.writeHead(status, { 'content-type': 'text/xml' });
      response.end(`<?xml version="1.0" encoding="UTF-8"?>${xml}`);
    }
  }
}
