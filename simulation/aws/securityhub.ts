/** Security Hub: BatchUpdateFindings, every update kept; an account without Security Hub refuses it. REST-JSON. */
import { type BatchUpdateFindingsCommandInput, InvalidAccessException } from '@aws-sdk/client-securityhub';
import type { SimulatedService } from './wire.js';

/** Security Hub's REST-JSON: the one operation the responder calls. */
function securityHubOperation(method: string, url: URL, body: string): { operation: string; input: unknown } {
  if (method === 'PATCH' && url.pathname === '/findings/batchupdate')
    return { operation: 'BatchUpdateFindings', input: JSON.parse(body || '{}') };
  throw Object.assign(new Error(`no Security Hub operation at ${method} ${url.pathname}`), {
    name: 'InvalidInputException',
  });
}

export const securityhub: SimulatedService = {
  operations: (s) => {
    const { account, accountId, securityHubUpdates } = s;
    return {
      BatchUpdateFindings: (input: BatchUpdateFindingsCommandInput) => {
        if (account.securityHub === false)
          throw new InvalidAccessException({
            message: `Account ${accountId} is not subscribed to AWS Security Hub`,
            $metadata: { httpStatusCode: 401 },
          });
        securityHubUpdates.push(structuredClone(input));
        return { ProcessedFindings: input.FindingIdentifiers ?? [], UnprocessedFindings: [] };
      },
    };
  },
  route: securityHubOperation,
};
