/** The command-line conventions every command shares: exit codes, one line per problem, --help. */
import { describe, expect, it } from 'vitest';
import { exitCodeOf, InputError, parseCommandLine } from '../../../commands/cli.js';

const run = async (work: () => Promise<number>) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await exitCodeOf(
    'demo',
    (l) => err.push(l),
    work,
    (l) => out.push(l),
  );
  return { code, out, err };
};
const OPTIONS = { region: { type: 'string' }, 'dry-run': { type: 'boolean' } } as const;
const parse = (argv: string[]) => async () => {
  parseCommandLine(argv, OPTIONS, { name: 'demo', positional: '<id>' });
  return 0;
};

describe('the command line', () => {
  it('prints the usage for --help on standard output, exit code 0', async () => {
    expect(await run(parse(['--help']))).toEqual({
      code: 0,
      out: [
        'usage: npm run demo -- <id> [--region REGION] [--dry-run] (docs/operations.md says what each does)',
      ],
      err: [],
    });
  });

  it('says an unknown option on one line that ends with the usage, exit code 2', async () => {
    const { code, err } = await run(parse(['x', '--bogus']));
    expect(code).toBe(2);
    expect(err).toEqual([
      "demo: Unknown option '--bogus'; usage: npm run demo -- <id> [--region REGION] [--dry-run] (docs/operations.md says what each does)",
    ]);
  });

  it('names what to set when AWS has no region or no credentials, exit code 2, not the SDK’s words', async () => {
    const noRegion = await run(async () => {
      throw new Error('Region is missing');
    });
    expect(noRegion).toMatchObject({
      code: 2,
      err: ['demo: no AWS region: give --region REGION, or set AWS_REGION (or a profile with a region)'],
    });
    const noCredentials = await run(async () => {
      throw Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      });
    });
    expect(noCredentials.code).toBe(2);
    expect(noCredentials.err[0]).toMatch(/^demo: no AWS credentials: set AWS_PROFILE/);
  });

  it('keeps exit code 1, with the error named, for anything else', async () => {
    expect(
      await run(async () => {
        throw new TypeError('boom');
      }),
    ).toMatchObject({ code: 1, err: ['demo: TypeError: boom'] });
    expect(
      await run(async () => {
        throw new InputError('bad');
      }),
    ).toMatchObject({ code: 2, err: ['demo: bad'] });
  });
});
