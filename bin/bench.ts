#!/usr/bin/env node
/** `npm run bench`: the benchmark's figures (commands/bench.ts). */
import { benchCommand } from '../commands/bench.js';

process.exitCode = await benchCommand(
  process.argv.slice(2),
  (line) => console.log(line),
  (line) => console.error(line),
);
