#!/usr/bin/env node
/** `npm run recover`: Recovers a confirmed incident (commands/recover.ts). */
import { recover } from '../commands/recover.js';

process.exitCode = await recover(
  process.argv.slice(2),
  (line) => console.log(line),
  (line) => console.error(line),
);
