#!/usr/bin/env node
/** `npm run rbac`: writes k8s/rbac.yaml from the functions' declared needs (commands/rbac.ts). */
import { writeRbacManifest } from '../commands/rbac.js';

console.log(`wrote ${writeRbacManifest()}`);
