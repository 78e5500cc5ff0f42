/**
 * The simulated AWS account behind the replay simulation and the tests: its state (aws/state.ts) and
 * the operations of every simulated service (aws/services.ts, one file per service). Each operation takes
 * and returns the SDK's own input and output shapes, answers and changes state as the API does, and fails
 * with the API's error codes. Tests reach it through aws-sdk-client-mock; the replay simulation serves it
 * over HTTP (aws-api-server.ts), so the responder's SDK clients only have a different endpoint.
 */
import { SERVICES } from './aws/services.js';
import { type AccountDescription, accountState } from './aws/state.js';
import type { Operation } from './aws/wire.js';

export * from './aws/state.js';
export type { Operation } from './aws/wire.js';

/** A simulated account: its state, open to inspection, and its operations by API name. */
export function simulatedAccount(
  description: AccountDescription,
  /** Operations served beside the account's own (the simulation's Step Functions task tokens). */
  extra: Record<string, Operation> = {},
) {
  const account = description;
  const state = accountState(description);
  const { accountId, instances, roles, associations, snapshots, findings, network, evidence, macKey } = state;
  const { assumed, securityHubUpdates, published } = state;
  const operations: Record<string, Operation> = Object.assign(
    {},
    ...Object.values(SERVICES).map((service) => service.operations(state)),
    extra,
  );

  /** Errors to throw on the next calls of an operation, before it does anything: throttling, outages. */
  const faults = new Map<string, Error[]>();
  return {
    accountId,
    region: account.region ?? null,
    state: {
      instances,
      roles,
      associations,
      snapshots,
      published,
      network,
      evidence,
      macKey,
      assumed,
      securityHubUpdates,
    },
    /** The account as it is now, as a description another simulation can start from. */
    describe: (): AccountDescription => ({
      ...structuredClone(account),
      instances: structuredClone(instances),
      roles: structuredClone(roles),
      associations: structuredClone(associations),
      snapshots: structuredClone(snapshots),
      ...structuredClone(network),
      evidence: structuredClone(evidence),
      guardDuty: { findings: structuredClone(findings) },
      macKey,
    }),
    operations,
    call(operation: string, input: unknown): unknown {
      const error = faults.get(operation)?.shift();
      if (error) throw error;
      const run = operations[operation];
      if (!run) throw new Error(`the simulated account does not answer ${operation}`);
      return run(input as never);
    },
    /**
     * GuardDuty holds this finding too (its JSON, the event's `detail`), as it would once it made it; a
     * finding with the same id is updated in place.
     */
    hold(finding: unknown) {
      const id = (finding as { id?: unknown }).id;
      const known = findings.findIndex((held) => (held as { id?: unknown }).id === id);
      if (known >= 0) findings.splice(known, 1);
      findings.push(structuredClone(finding));
    },
    /** The next `times` calls of `operation` (e.g. 'CreateSnapshot') throw `error`. */
    fail(operation: string, error: Error, times = 1) {
      faults.set(operation, [...(faults.get(operation) ?? []), ...Array<Error>(times).fill(error)]);
    },
  };
}

export type SimulatedAccount = ReturnType<typeof simulatedAccount>;
