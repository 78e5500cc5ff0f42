/** What the command-line tools share: argument parsing, one line per problem, exit codes 0, 1 and 2. */
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';

export type Out = (line: string) => void;

/** Input the command cannot use: reported on one line, exit code 2. */
export class InputError extends Error {}

/**
 * What to set when the AWS SDK found no region or no credentials (a `--deployed` command on a machine
 * not configured for the account); null for any other error.
 */
export function awsSetupProblem(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  if (error.message === 'Region is missing')
    return 'no AWS region: give --region REGION, or set AWS_REGION (or a profile with a region)';
  if (error.name === 'CredentialsProviderError')
    return 'no AWS credentials: set AWS_PROFILE (after aws sso login), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
  return null;
}

/** `--help` (or `-h`): the usage is printed on standard output, exit code 0. */
export class HelpRequested extends Error {}

/** How a command is called, for its usage line: its npm script and what it takes besides options. */
export type CommandName = { name: string; positional?: string };

/** `npm run <name> -- <positional> [--option VALUE] [--flag] …`, from the options the command parses. */
export function usageOf(command: CommandName, options: ParseArgsOptionsConfig): string {
  const flags = Object.entries(options).map(([name, option]) =>
    option.type === 'boolean' ? `[--${name}]` : `[--${name} ${name.toUpperCase().replace(/-/g, '_')}]`,
  );
  return `npm run ${command.name} -- ${[command.positional, ...flags].filter(Boolean).join(' ')} (docs/operations.md says what each does)`;
}

/**
 * Runs a command's work; a problem becomes one line on `err`, exit code 2 for input, 1 for the rest;
 * `--help` prints the usage on `out`, exit code 0.
 */
export async function exitCodeOf(
  name: string,
  err: Out,
  work: () => Promise<number>,
  out: Out = err,
): Promise<number> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof HelpRequested) {
      out(`usage: ${error.message}`);
      return 0;
    }
    if (error instanceof InputError) {
      err(`${name}: ${error.message}`);
      return 2;
    }
    const setup = awsSetupProblem(error);
    if (setup) {
      err(`${name}: ${setup}`);
      return 2;
    }
    err(`${name}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    return 1;
  }
}

/**
 * The options and positionals of a command line; `--help` is a HelpRequested, an unknown or malformed
 * option an InputError that ends with the usage, on one line.
 */
export function parseCommandLine<T extends ParseArgsOptionsConfig>(
  argv: readonly string[],
  options: T,
  command: CommandName,
) {
  if (argv.includes('--help') || argv.includes('-h')) throw new HelpRequested(usageOf(command, options));
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]?.replace(/\.?\s*To specify.*$/, '') ?? '';
    throw new InputError(`${message}; usage: ${usageOf(command, options)}`);
  }
}

/** A command that takes no arguments: `--help` prints what it does, anything else is an InputError. */
export function noArguments(argv: readonly string[], command: CommandName, what: string): void {
  if (argv.includes('--help') || argv.includes('-h'))
    throw new HelpRequested(`npm run ${command.name}: ${what}`);
  if (argv.length > 0)
    throw new InputError(`takes no arguments (${argv.join(' ')}); usage: npm run ${command.name}: ${what}`);
}
