/**
 * The responder as a construct in someone else's CDK app: imported from the package entry point (the
 * `exports` of package.json), added to a stack of theirs, it synthesizes, passes cdk-nag, and makes the
 * same resources and outputs as the app in bin/ for the same configuration.
 */
import { readFileSync } from 'node:fs';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { CONTEXT_KEY, cdkJsonContext } from '../../../simulation/cdk-json.js';

const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
const entry = new URL(`../../../${packageJson.exports['.']}`, import.meta.url).href;
const env = { account: '111122223333', region: 'us-east-1' };
const configuration = {
  clusters: ['prod-eks'],
  notificationEmail: 'soc@example.com',
  requireApproval: ['revoke-iam'] as const,
  budget: { nodesPerHour: 4 },
};
const context = { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] };

describe('the GuardDutyResponder construct', () => {
  it("synthesizes in another app's stack, passes cdk-nag, and equals the app's template", async () => {
    const { GuardDutyResponder, addResponder, parseConfig } = await import(entry);

    const theirs = new App({ context });
    const stack = new Stack(theirs, 'GuardDutyResponder', { env });
    const responder = new GuardDutyResponder(stack, 'Default', configuration);
    Validations.of(theirs).addPlugins(new AwsSolutionsChecks(theirs));
    const their = Template.fromStack(stack).toJSON();
    expect(responder.config.budget).toEqual({ nodesPerHour: 4, hostsPerHour: 5, rolesPerHour: 5 });

    const ours = new App({ context: { ...context, [CONTEXT_KEY]: configuration } });
    const { responder: app } = addResponder(ours, parseConfig(configuration), env);
    const our = Template.fromStack(app).toJSON();

    expect(their.Resources).toEqual(our.Resources);
    expect(their.Outputs).toEqual(our.Outputs);
    expect(Object.keys(their.Resources).length).toBeGreaterThan(90);
  });

  it('names the field of a bad configuration', async () => {
    const { GuardDutyResponder } = await import(entry);
    const app = new App({ context });
    expect(() => new GuardDutyResponder(new Stack(app, 'S', { env }), 'R', { clusters: 'prod' })).toThrow(
      'guardduty-responder.clusters: Invalid input: expected array, received string',
    );
  });
});
