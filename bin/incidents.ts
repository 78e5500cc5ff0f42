#!/usr/bin/env node
/** `npm run incidents`: Lists the incidents of the record (commands/incidents.ts). */
import { incidents } from '../commands/incidents.js';

process.exitCode = await incidents(
  process.argv.slice(2),
  (line) => console.log(line),
  (line) => console.error(line),
);
