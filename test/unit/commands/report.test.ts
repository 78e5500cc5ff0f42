/** Where a command keeps the incident report on this machine: inside the reports folder, whatever the id. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localReportPath, safeName } from '../../../commands/report.js';

describe('the local incident report', () => {
  it('sits beside the saved simulation, one per command', () => {
    expect(localReportPath('.replay/simulation.json', 'a40b6e451d346c734d1ed1b874607990', 'recover')).toBe(
      join('.replay', 'reports', 'incident-a40b6e451d346c734d1ed1b874607990.recover.html'),
    );
  });

  it('cannot leave the reports folder for a finding id that is a path', () => {
    expect(safeName('../../../../tmp/planted')).toBe('____________tmp_planted');
    expect(localReportPath('/work/.replay/simulation.json', '../../etc/x', 'release')).toBe(
      '/work/.replay/reports/incident-______etc_x.release.html',
    );
  });
});
