/**
 * Security Hub custom actions: an analyst's selection starts one response per GuardDuty finding, read
 * from GuardDuty first, through the same state machine; recorded and said as asked from Security Hub;
 * any severity; what is not a GuardDuty finding, or not held by GuardDuty, is refused with why. Through
 * `npm run replay` of a custom action event, which runs the real intake function against a simulated
 * GuardDuty holding the sample findings, then each response it started.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replay } from '../../commands/replay.js';
import { loadSimulation } from '../../simulation/simulation.js';
import { EVENTS_DIR } from '../support/events.js';

const SAMPLE = `${EVENTS_DIR}security-hub/custom-action-contain.json`;
const dir = mkdtempSync(join(tmpdir(), 'custom-action-'));

async function run(file: string) {
  const state = join(dir, `${Math.random()}.json`);
  const lines: string[] = [];
  const errors: string[] = [];
  const code = await replay(
    [file, '--state', state],
    (l) => lines.push(l),
    (l) => errors.push(l),
  );
  return { code, text: lines.join('\n'), errors, state };
}

/** The sample event, changed as a test needs, in a file of its own. */
function variant(change: (event: ReturnType<typeof JSON.parse>) => void): string {
  const event = JSON.parse(readFileSync(SAMPLE, 'utf8'));
  change(event);
  const file = join(dir, `${Math.random()}.json`);
  writeFileSync(file, JSON.stringify(event));
  return file;
}

describe('a Security Hub custom action', () => {
  it('contains a Low finding an analyst selected, recorded and said as asked from Security Hub', async () => {
    const { code, text, state } = await run(SAMPLE);

    expect(code).toBe(0);
    expect(text).toContain(
      'Security Hub custom action "Contain": 1 GuardDuty finding(s) selected, 1 response(s) started',
    );
    expect(text).toMatch(/^CONTAINED: UnauthorizedAccess:EC2\/SSHBruteForce \(Low 2\) on instance /m);
    expect(text).toContain('  Requested from Security Hub custom action "Contain"');
    expect(text).toMatch(/^ {2}isolate-host +ok( \(\d+\))?: /m);
    expect(text).not.toContain('outside the responder');
    const record = loadSimulation(state)?.incidents.find(
      (r) => r.findingId === 'e87ada85155d25a3b0ee22d73ba924d7',
    );
    expect(record?.finding.first.requestedFrom).toBe('Security Hub custom action "Contain"');
  });

  it('plans without changing anything for "Dry run"', async () => {
    const file = variant((event) => {
      event.resources = ['arn:aws:securityhub:us-east-1:111122223333:action/custom/GdrDryRun'];
      event.detail.actionName = 'Dry run';
    });
    const { code, text } = await run(file);
    expect(code).toBe(0);
    expect(text).toContain('Security Hub custom action "Dry run" (a dry run)');
    expect(text).toMatch(/^DRY RUN, would be CONTAINED: /m);
    expect(text).toMatch(/^ {2}isolate-host +not taken, would act on: instance i-/m);
  });

  it('refuses what GuardDuty does not hold, and what is not a GuardDuty finding, starting nothing for them', async () => {
    const file = variant((event) => {
      const [finding] = event.detail.findings;
      event.detail.findings = [
        { ...finding, Id: finding.Id.replace(/finding\/\w+$/, 'finding/0123456789abcdef0123456789abcdef') },
        {
          ...finding,
          Id: 'arn:aws:inspector2:us-east-1:111122223333:finding/abc',
          ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/inspector',
        },
      ];
    });
    const { code, text } = await run(file);
    expect(code).toBe(1);
    expect(text).toContain('1 GuardDuty finding(s) selected, 0 response(s) started');
    expect(text).toContain(
      'refused: 0123456789abcdef0123456789abcdef: GuardDuty holds no such finding (archived or deleted): nothing started',
    );
    expect(text).toContain(
      'refused: arn:aws:inspector2:us-east-1:111122223333:finding/abc: not a GuardDuty finding (arn:aws:securityhub:us-east-1::product/aws/inspector); only GuardDuty findings are answered',
    );
    expect(text).not.toContain('Simulation: account');
  });
});
