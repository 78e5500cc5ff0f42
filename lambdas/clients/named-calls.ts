/** Names the service and operation on every error of an AWS SDK client, for one-line error messages. */
import type { HandlerExecutionContext, InitializeMiddleware, MetadataBearer } from '@smithy/types';

const NAMED_CALLS = 'guardduty-responder-named-calls';
type AnyClient = { middlewareStack: { add: (middleware: never, options: never) => void } };

/**
 * Every error of the client's calls carries the service and operation (`$service: 'EKS'`,
 * `$operation: 'ListPodIdentityAssociations'`), so messageOf can say which call failed.
 */
export function namedCalls<C extends AnyClient>(client: C): C {
  const middleware: InitializeMiddleware<object, MetadataBearer> =
    (next, context: HandlerExecutionContext) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (error instanceof Error) {
          Object.assign(error, {
            $service: context.clientName?.replace(/Client$/, ''),
            $operation: context.commandName?.replace(/Command$/, ''),
          });
        }
        throw error;
      }
    };
  const add = client.middlewareStack.add as (
    m: typeof middleware,
    o: { step: 'initialize'; name: string },
  ) => void;
  try {
    add.call(client.middlewareStack, middleware, { step: 'initialize', name: NAMED_CALLS });
  } catch {
    // Already added to this client (a store or handler built twice over one client).
  }
  return client;
}
