/** Synthesizes the stack as `cdk synth` does, from the cdk.json context, with per-test config overrides. */
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ResponderStack } from '../../lib/responder-stack.js';
import { CONTEXT_KEY, cdkJsonContext, parseConfig, type ResponderConfig } from '../../simulation/cdk-json.js';

const context = cdkJsonContext();

export type Synthesized = { app: App; stack: ResponderStack; template: Template; config: ResponderConfig };

export function synthesize(
  overrides: Record<string, unknown> = {},
  options: { bundle?: boolean; nag?: boolean; extend?: (stack: ResponderStack) => void } = {},
): Synthesized {
  const merged = { ...context, [CONTEXT_KEY]: { ...(context[CONTEXT_KEY] as object), ...overrides } };
  // Skipping bundling keeps template tests fast; `cdk synth` in CI bundles for real.
  const app = new App({
    context: options.bundle
      ? { ...merged, 'aws:cdk:enable-asset-metadata': true }
      : { ...merged, 'aws:cdk:bundling-stacks': [] },
  });
  const config = parseConfig(app.node.tryGetContext(CONTEXT_KEY));
  const stack = new ResponderStack(app, config.stackName, {
    config,
    env: { account: '111122223333', region: 'us-east-1' },
  });
  options.extend?.(stack);
  // With the AwsSolutions pack added, synthesis (Template.fromStack) fails on any unacknowledged finding.
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, template: Template.fromStack(stack), config };
}

/** The one resource of a type, with its logical id. */
export function only(
  template: Template,
  type: string,
): { id: string; resource: { Properties: Record<string, unknown> } } {
  const resources = Object.entries(template.findResources(type));
  if (resources.length !== 1) throw new Error(`expected one ${type}, found ${resources.length}`);
  const [id, resource] = resources[0] as [string, { Properties: Record<string, unknown> }];
  return { id, resource };
}
