/** Synthesizes the stack as `cdk synth` does, from the cdk.json context, with per-test config overrides. */
import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CONTEXT_KEY, parseConfig, type ResponderConfig } from '../../bin/config.js';
import { ResponderStack } from '../../lib/responder-stack.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));

export type Synthesized = { app: App; stack: ResponderStack; template: Template; config: ResponderConfig };

export function synthesize(
  overrides: Record<string, unknown> = {},
  options: { bundle?: boolean; nag?: boolean; extend?: (stack: ResponderStack) => void } = {},
): Synthesized {
  const context = { ...cdkJson.context, [CONTEXT_KEY]: { ...cdkJson.context[CONTEXT_KEY], ...overrides } };
  // Skipping bundling keeps template tests fast; `cdk synth` in CI bundles for real.
  const app = new App({
    context: options.bundle
      ? { ...context, 'aws:cdk:enable-asset-metadata': true }
      : { ...context, 'aws:cdk:bundling-stacks': [] },
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

/**
 * The state machine's Amazon States Language, as deployed: the synthesized DefinitionString with each
 * function reference replaced by a Lambda ARN named after the function's logical id.
 */
export function stateMachineDefinition(template: Template): StateMachineDefinition {
  const machine = only(template, 'AWS::StepFunctions::StateMachine').resource.Properties;
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const object = part as Record<string, unknown>;
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
    if ('Fn::GetAtt' in object) {
      const [logicalId] = object['Fn::GetAtt'] as string[];
      return `arn:aws:lambda:us-east-1:111122223333:function:${logicalId}`;
    }
    if ('Ref' in object) return String(object.Ref);
    throw new Error(`cannot render ${JSON.stringify(part)}`);
  };
  return JSON.parse(render(machine.DefinitionString));
}
