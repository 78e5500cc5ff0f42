/**
 * The notification for chat: the custom notification format that Amazon Q Developer in chat applications
 * (formerly AWS Chatbot) reads from an SNS topic, published to a topic of its own (`chatNotifications`)
 * so the e-mail stays plain text. The event schema: `version` "1.0", `source` "custom", and `content`
 * with a `description` (required), a `title`, `nextSteps` and `keywords`; `metadata` threads the updates
 * of one finding and carries a summary.
 */
import type { Notification } from './message.js';

export type ChatNotification = {
  version: '1.0';
  source: 'custom';
  id: string;
  content: {
    textType: 'client-markdown';
    title: string;
    description: string;
    nextSteps: string[];
    keywords: string[];
  };
  metadata: {
    threadId: string;
    summary: string;
    eventType: string;
    additionalContext: Record<string, string>;
  };
};

/** Kept well under what a chat message shows; the e-mail has the whole report. */
export const CHAT_DESCRIPTION_LIMIT = 3500;

export function chatNotification(notification: Notification, findingId: string | null): ChatNotification {
  const { subject, message, attributes } = notification;
  const body =
    message.length > CHAT_DESCRIPTION_LIMIT
      ? `${message.slice(0, CHAT_DESCRIPTION_LIMIT - 60)}\n… (cut: the e-mail has the whole report)`
      : message;
  const id = findingId ?? 'unknown';
  return {
    version: '1.0',
    source: 'custom',
    id: `${id}:${attributes.outcome}`,
    content: {
      textType: 'client-markdown',
      title: subject.replace(/^\[guardduty-responder\] /, ''),
      description: `\`\`\`\n${body}\n\`\`\``,
      nextSteps: [
        `List the open incidents: npm run incidents -- --deployed <stack>`,
        `A false positive: npm run release -- ${id} --deployed <stack>`,
        `Confirmed, once the snapshots completed: npm run recover -- ${id} --deployed <stack>`,
      ],
      keywords: ['guardduty-responder', attributes.outcome, attributes.findingType].filter(Boolean),
    },
    metadata: {
      threadId: `guardduty-responder-${id}`,
      summary: subject,
      eventType: `guardduty-responder ${attributes.outcome}`,
      additionalContext: {
        outcome: attributes.outcome,
        findingType: attributes.findingType,
        severity: attributes.severity === null ? 'unknown' : String(attributes.severity),
      },
    },
  };
}
