#!/usr/bin/env node
/** `npm run replay`: Replays a finding event (commands/replay.ts). */
import { replay } from '../commands/replay.js';

process.exitCode = await replay(
  process.argv.slice(2),
  (line) => console.log(line),
  (line) => console.error(line),
);
