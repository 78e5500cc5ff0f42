/**
 * The chat format: with `chatNotifications`, each response's notification also goes, in the custom
 * notification format of Amazon Q Developer in chat applications, to a chat topic of its own.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseFindingEvent } from '../../lambdas/core/finding.js';
import { parseConfig } from '../../simulation/cdk-json.js';
import { respondInSimulation } from '../../simulation/simulation.js';
import { loadEvent } from '../support/events.js';
import { synthesize } from '../support/synth.js';

/**
 * The documented event schema of custom notifications: `version` "1.0", `source` "custom" and
 * `content.description` are required; the rest, when given, has these types.
 */
const CustomNotificationSchema = z.object({
  version: z.literal('1.0'),
  source: z.literal('custom'),
  id: z.string().optional(),
  content: z.object({
    textType: z.literal('client-markdown').optional(),
    title: z.string().optional(),
    description: z.string().min(1),
    nextSteps: z.array(z.string()).optional(),
    keywords: z.array(z.string()).optional(),
  }),
  metadata: z
    .object({
      threadId: z.string().optional(),
      summary: z.string().optional(),
      eventType: z.string().optional(),
      relatedResources: z.array(z.string()).optional(),
      additionalContext: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
});

describe('the chat notification', () => {
  it('goes to the chat topic in the custom notification format, the e-mail staying text', async () => {
    const event = parseFindingEvent(loadEvent('eks-audit-privileged-container.json'));
    // The simulation is stopped once the response ended; its account stays readable.
    const { simulation: sim } = await respondInSimulation(
      event,
      parseConfig({ clusters: ['prod-eks'], chatNotifications: true }),
    );
    const published = sim.home.state.published;
    const chat = published.filter((p) => p.TopicArn?.endsWith(':guardduty-responder-simulation-chat'));
    const email = published.filter((p) => p.TopicArn?.endsWith(':guardduty-responder-simulation'));
    expect([chat.length, email.length]).toEqual([1, 1]);

    const message = CustomNotificationSchema.parse(JSON.parse(chat[0]?.Message ?? '{}'));
    // The same summary as the e-mail: its subject, its first lines, its next steps.
    expect(message.content.title).toBe('CONTAINED: PrivilegeEscalation:Kubernetes/PrivilegedContainer');
    const first = email[0]?.Message?.split('\n')[0] ?? '';
    expect(first).toMatch(/^CONTAINED: PrivilegeEscalation:Kubernetes\/PrivilegedContainer \(Medium 5\) on /);
    expect(message.content.description).toContain(first);
    expect(message.content.description).toContain(
      '  cut off: Deployment shop/web-frontend: 2 pod(s) isolated',
    );
    expect(message.metadata?.summary).toBe(first);
    expect(message.content.nextSteps).toContain(
      `A false positive, undo the containment: npm run release -- ${event.detail.id}`,
    );
    expect(message.metadata?.threadId).toBe(`guardduty-responder-${event.detail.id}`);
    expect(message.metadata?.additionalContext).toEqual({
      outcome: 'contained',
      findingType: 'PrivilegeEscalation:Kubernetes/PrivilegedContainer',
      severity: '5',
    });
    expect(email[0]?.Message?.startsWith('{')).toBe(false);
  });

  it('has a topic of its own in the stack, only when configured', () => {
    const { template } = synthesize({ chatNotifications: true }, { nag: true });
    const topics = Object.entries(template.findResources('AWS::SNS::Topic'));
    expect(topics.map(([, t]) => t.Properties.DisplayName).sort()).toEqual([
      'GuardDuty responder',
      'GuardDuty responder (chat)',
    ]);
    const [chatId] = topics.find(([, t]) => t.Properties.DisplayName === 'GuardDuty responder (chat)') ?? [
      '',
    ];
    const notify = Object.values(template.findResources('AWS::Lambda::Function')).find((fn) =>
      String(fn.Properties.Description).startsWith('Publishes what'),
    );
    expect(notify?.Properties.Environment.Variables.CHAT_TOPIC_ARN).toEqual({ Ref: chatId });
    expect(Object.keys(template.findOutputs('ChatTopicArn'))).toEqual(['ChatTopicArn']);

    const plain = synthesize({}).template;
    expect(Object.keys(plain.findResources('AWS::SNS::Topic'))).toHaveLength(1);
  });
});
