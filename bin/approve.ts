#!/usr/bin/env node
/** `npm run approve`: Answers an action that waits for approval (commands/approve.ts). */
import { approve } from '../commands/approve.js';

process.exitCode = await approve(
  process.argv.slice(2),
  (line) => console.log(line),
  (line) => console.error(line),
);
