/** Every function bundles with the local esbuild (no Docker, no network) into an ES module Node can load. */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { synthesize } from '../support/synth.js';

describe('bundling', () => {
  const { app, template } = synthesize({ clusters: ['prod-eks'] }, { bundle: true });
  const outdir = app.synth().directory;
  const functions = Object.values(template.findResources('AWS::Lambda::Function'));

  it.each(functions.map((fn) => [String(fn.Properties.Description), fn]))('%s', (_name, fn) => {
    const assetPath = fn.Metadata?.['aws:asset:path'];
    const entry = join(outdir, assetPath, 'index.mjs');
    expect(existsSync(entry)).toBe(true);
    expect(statSync(entry).size).toBeGreaterThan(10_000);
    const exported = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(pathToFileURL(entry).href)}); console.log(typeof m.handler)`,
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } },
    );
    expect(exported.trim()).toBe('function');
  });
});
