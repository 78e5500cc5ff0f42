/**
 * The house's layout, read from the imports (relative ones; packages are not the house): `bin/` (entry
 * points) uses `commands/` uses `simulation/` uses `lib/` uses `lambdas/`, never the other way;
 * `lambdas/core/` (pure decisions) imports nothing outside itself; `lambdas/shared/` nothing but itself
 * and core; an action's folder imports no other action's; only the registry and the functions above it
 * name every action; and no module reaches itself again through its imports, type imports included.
 * Unit speed: it reads files, nothing else.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sources(folder: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) found.push(relative(ROOT, path));
    }
  };
  walk(join(ROOT, folder));
  return found;
}

/** The floors, top first: each may import only the floors below it. */
const FLOORS = ['bin', 'commands', 'simulation', 'lib', 'lambdas'];
const FILES = FLOORS.flatMap(sources);

/** A file's relative imports and re-exports, as files of the repository. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/^(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)].map((match) =>
    relative(ROOT, resolve(ROOT, dirname(file), (match[1] ?? '').replace(/\.js$/, '.ts'))),
  );
}

const GRAPH = new Map(FILES.map((file) => [file, importsOf(file)]));
const edges = [...GRAPH].flatMap(([file, imports]) => imports.map((to) => [file, to] as const));
const inside = (folder: string) => (file: string) => file.startsWith(`${folder}/`);

describe('the layout', () => {
  it('reads the modules it checks', () => {
    expect(FILES.length).toBeGreaterThan(100);
    expect(GRAPH.get('lambdas/handlers/identify.ts')).toContain('lambdas/core/plan.ts');
  });

  it('keeps lambdas/core/ the ground floor: it imports nothing outside itself', () => {
    expect(edges.filter(([from, to]) => inside('lambdas/core')(from) && !inside('lambdas/core')(to))).toEqual(
      [],
    );
  });

  it('keeps lambdas/shared/ on core alone', () => {
    const allowed = (to: string) => inside('lambdas/shared')(to) || inside('lambdas/core')(to);
    expect(edges.filter(([from, to]) => inside('lambdas/shared')(from) && !allowed(to))).toEqual([]);
  });

  it('runs one way: bin/ uses commands/ uses simulation/ uses lib/ uses lambdas/, never back', () => {
    const floorOf = (file: string) => FLOORS.findIndex((floor) => inside(floor)(file));
    const upward = edges.filter(([from, to]) => floorOf(to) < floorOf(from));
    expect(upward).toEqual([]);
  });

  it('keeps bin/ to entry points: each file only hands the command line to its command', () => {
    const long = sources('bin')
      .filter((file) => file.endsWith('.ts'))
      .map((file) => [file, readFileSync(join(ROOT, file), 'utf8').split('\n').length] as const)
      .filter(([file, lines]) => file !== 'bin/app.ts' && lines > 12);
    expect(long).toEqual([]);
  });

  it('keeps each action in its folder: no action imports another', () => {
    const actionOf = (file: string) => /^lambdas\/actions\/([^/]+)\//.exec(file)?.[1] ?? null;
    const across = edges.filter(
      ([from, to]) => actionOf(from) !== null && actionOf(to) !== null && actionOf(from) !== actionOf(to),
    );
    expect(across).toEqual([]);
  });

  it('has no import circle', () => {
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'open');
      path.push(file);
      for (const next of GRAPH.get(file) ?? []) {
        if (state.get(next) === 'open') circles.push([...path.slice(path.indexOf(next)), next].join(' -> '));
        else if (!state.has(next) && GRAPH.has(next)) visit(next);
      }
      path.pop();
      state.set(file, 'done');
    };
    for (const file of FILES) if (!state.has(file)) visit(file);
    expect(circles).toEqual([]);
  });
});
