/**
 * The incident report on this machine after a release or a recovery: drawn again from the incident
 * record (lambdas/report/), with what the command did as a section, beside the saved simulation
 * (`<state dir>/reports/incident-<finding id>.<command>.html`); its path is printed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { verifyCustody } from '../lambdas/incident/custody.js';
import { verifyRecord } from '../lambdas/incident/signature.js';
import type { IncidentStore } from '../lambdas/incident/store.js';
import { reportOfRecord } from '../lambdas/report/build.js';
import { renderReport } from '../lambdas/report/render.js';
import { messageOf } from '../lambdas/shared/errors.js';
import type { Out } from './cli.js';

/** Beside the replay's report (`incident-<id>.html`), one per command: `incident-<id>.recover.html`. */
export const localReportPath = (stateFile: string, findingId: string, command: string): string =>
  join(dirname(stateFile), 'reports', `incident-${safeName(findingId)}.${command}.html`);

/** A finding id as a file name: GuardDuty's are hex; anything else (`../`, `/`) cannot leave the folder. */
export const safeName = (findingId: string): string => findingId.replace(/[^A-Za-z0-9_-]/g, '_');

export async function writeClosingReport(
  command: 'release' | 'recover',
  lines: readonly string[],
  store: IncidentStore,
  findingId: string,
  path: string,
  out: Out,
): Promise<void> {
  try {
    const { record, seal } = await store.sealed(findingId);
    const { verified } = await verifyCustody(store.key, seal, record.evidence ?? []);
    // Only what the responder signed is drawn; an entry planted in the table is listed refused.
    const entries = await verifyRecord(store.key, seal, record.entries ?? {});
    const heading = command === 'release' ? 'Release' : 'Recovery';
    const report = reportOfRecord({
      record,
      entries,
      title: `[guardduty-responder] ${record.state.toUpperCase()}: ${record.finding.type}`,
      summary: lines[0] ?? `${heading} of finding ${findingId}`,
      sections: [{ heading: `${heading}, ${new Date().toISOString()}`, lines: [...lines] }],
      evidence: verified,
      nextSteps: [`The open incidents: npm run incidents`],
      generatedAt: new Date().toISOString(),
    });
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, renderReport(report));
    out(`Incident report: ${path}`);
  } catch (error) {
    out(`The incident report could not be written: ${messageOf(error)}`);
  }
}
