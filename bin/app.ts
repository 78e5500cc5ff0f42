#!/usr/bin/env node
/** The CDK app: configuration from the cdk.json context, validated, then the stacks it deploys. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addResponder } from '../lib/responder-app.js';
import { CONTEXT_KEY, parseConfig } from '../simulation/cdk-json.js';

const app = new App();
const config = parseConfig(app.node.tryGetContext(CONTEXT_KEY));
addResponder(app, config, {
  account: process.env.CDK_DEFAULT_ACCOUNT,
  region: process.env.CDK_DEFAULT_REGION,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
