/** What the command-line tools share: argument parsing, one line per problem, exit codes 0, 1 and 2. */
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';

export type Out = (line: string) => void;

/** Input the command cannot use: reported on one line, exit code 2. */
export class InputError extends Error {}

/** Runs a command's work; a problem becomes one line on `err`, exit code 2 for input, 1 for the rest. */
export async function exitCodeOf(name: string, err: Out, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof InputError) {
      err(`${name}: ${error.message}`);
      return 2;
    }
    err(`${name}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    return 1;
  }
}

/** The options and positionals of a command line; an unknown or malformed option is an InputError. */
export function parseCommandLine<T extends ParseArgsOptionsConfig>(argv: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options });
  } catch (error) {
    throw new InputError((error as Error).message);
  }
}
