#!/usr/bin/env node
/** `npm run bench`: the benchmark's figures (commands/bench.ts). */
import { bench } from '../commands/bench.js';

await bench();
