/**
 * Runs a synthesized state machine definition with aws-local-stepfunctions, each Lambda task bound to the
 * real handler. Handler results pass through JSON, as a Lambda's would.
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

type Handler = (input: unknown) => Promise<unknown>;

export type ExecutionEvent = { type: string; state?: string; error?: string };

export type ExecutionRun = {
  status: 'SUCCEEDED' | 'FAILED';
  output: Record<string, unknown> | null;
  error: string | null;
  events: ExecutionEvent[];
};

export async function runExecution(
  definition: StateMachineDefinition,
  input: unknown,
  handlers: Record<string, Handler>,
): Promise<ExecutionRun> {
  const machine = new StateMachine(definition);
  const taskResourceLocalHandlers = Object.fromEntries(
    Object.entries(handlers).map(([state, handler]) => [
      state,
      async (payload: unknown) => JSON.parse(JSON.stringify(await handler(payload))),
    ]),
  );
  const noWait = Object.fromEntries(Object.keys(handlers).map((state) => [state, 0]));
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers, retryIntervalOverrides: noWait },
  });
  const events: ExecutionEvent[] = [];
  const logging = (async () => {
    for await (const event of execution.eventLogs) {
      const entry: ExecutionEvent = { type: event.type };
      if ('state' in event) entry.state = event.state.name;
      if ('Error' in event) entry.error = event.Error;
      events.push(entry);
    }
  })();
  try {
    const output = (await execution.result) as Record<string, unknown>;
    await logging;
    return { status: 'SUCCEEDED', output, error: null, events };
  } catch (error) {
    await logging;
    return {
      status: 'FAILED',
      output: null,
      error: error instanceof Error ? error.message : String(error),
      events,
    };
  }
}
