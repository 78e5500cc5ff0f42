/**
 * A DynamoDB-compatible store with other return semantics, as some compatible implementations have (moto
 * among them): an UpdateItem that asks for UPDATED_NEW gets back only the top-level attributes whose
 * value the update changed, so an `if_not_exists` that kept an existing entry leaves `entries` out of the
 * answer. A proxy in front of the local table (dynalite) that rewrites those answers; everything else
 * passes through unchanged.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { close, listenOnLoopback, readBody } from '../../simulation/loopback.js';

type Attributes = Record<string, unknown>;

export class ChangedOnlyStore {
  /** UpdateItem answers that left out an attribute the update expression sets, because it kept its value. */
  omitted = 0;
  private server: Server | undefined;
  url = '';

  constructor(private readonly tableUrl: string) {}

  private async forward(target: string, headers: IncomingHttpHeaders, body: string) {
    const answer = await fetch(this.tableUrl, {
      method: 'POST',
      headers: {
        'content-type': String(headers['content-type'] ?? 'application/x-amz-json-1.0'),
        authorization: String(headers.authorization ?? ''),
        'x-amz-date': String(headers['x-amz-date'] ?? ''),
        'x-amz-target': target,
      },
      body,
    });
    return { status: answer.status, type: answer.headers.get('content-type'), text: await answer.text() };
  }

  async start(): Promise<string> {
    this.server = createServer(async (request, response) => {
      const body = await readBody(request);
      const target = String(request.headers['x-amz-target'] ?? '');
      const input = JSON.parse(body || '{}') as {
        TableName?: string;
        Key?: Attributes;
        ReturnValues?: string;
        UpdateExpression?: string;
        ExpressionAttributeNames?: Record<string, string>;
      };
      let answer: { status: number; type: string | null; text: string };
      if (target.endsWith('.UpdateItem') && input.ReturnValues === 'UPDATED_NEW') {
        const get = target.replace('UpdateItem', 'GetItem');
        const old = await this.forward(
          get,
          request.headers,
          JSON.stringify({ TableName: input.TableName, Key: input.Key, ConsistentRead: true }),
        );
        const before = (JSON.parse(old.text) as { Item?: Attributes }).Item ?? {};
        answer = await this.forward(
          target,
          request.headers,
          JSON.stringify({ ...input, ReturnValues: 'ALL_NEW' }),
        );
        if (answer.status === 200) {
          const after = (JSON.parse(answer.text) as { Attributes?: Attributes }).Attributes ?? {};
          const changed = Object.fromEntries(
            Object.entries(after).filter(
              ([name, value]) => JSON.stringify(before[name]) !== JSON.stringify(value),
            ),
          );
          const named = [
            input.UpdateExpression ?? '',
            ...Object.values(input.ExpressionAttributeNames ?? {}),
          ].join(' ');
          const set = Object.keys(after).filter((name) => new RegExp(`\\b${name}\\b`).test(named));
          if (set.some((name) => !(name in changed))) this.omitted++;
          answer.text = JSON.stringify(Object.keys(changed).length > 0 ? { Attributes: changed } : {});
        }
      } else {
        answer = await this.forward(target, request.headers, body);
      }
      response.writeHead(answer.status, { 'content-type': answer.type ?? 'application/x-amz-json-1.0' });
      response.end(answer.text);
    });
    this.url = `http://127.0.0.1:${await listenOnLoopback(this.server)}`;
    return this.url;
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return close(this.server);
  }
}
