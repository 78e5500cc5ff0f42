#!/usr/bin/env node
/** `npm run rbac`: writes k8s/rbac.yaml from the functions' declared needs (commands/rbac.ts). */
import { rbac } from '../commands/rbac.js';

process.exitCode = await rbac(
  process.argv.slice(2),
  (line) => console.log(line),
  (line) => console.error(line),
);
