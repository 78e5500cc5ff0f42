#!/usr/bin/env node
/** `npm run release`: Undoes the containment of an incident (commands/release.ts). */
import { release } from '../commands/release.js';

process.exitCode = await release(
  process.argv.slice(2),
  (line) => console.log(line),
  (line) => console.error(line),
);
