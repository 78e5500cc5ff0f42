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

/** Kept well under what a chat message shows; the e-mail and the incident report have the rest. */
export const CHAT_DESCRIPTION_LIMIT = 3500;

/**
 * The same summary as the e-mail: its first line, what GuardDuty saw and what is compromised (the text
 * up to the list of what was found), and the same next steps.
 */
export function chatNotification(notification: Notification, findingId: string | null): ChatNotification {
  const { subject, message, summary, attributes, nextSteps } = notification;
  const head = message.split('\n\nFound:')[0] ?? summary;
  const body =
    head.length > CHAT_DESCRIPTION_LIMIT
      ? `${head.slice(0, CHAT_DESCRIPTION_LIMIT - 60)}\n… (cut: the e-mail has the whole summary)`
      : head;
  const id = findingId ?? 'unknown';
  return {
    version: '1.0',
    source: 'custom',
    id: `${id}:${attributes.outcome}`,
    content: {
      textType: 'client-markdown',
      title: subject.replace(/^\[guardduty-responder\] /, ''),
      description: `\`\`\`\n${body}\n\`\`\``,
      nextSteps,
      keywords: ['guardduty-responder', attributes.outcome, attributes.findingType].filter(Boolean),
    },
    metadata: {
      threadId: `guardduty-responder-${id}`,
      summary,
      eventType: `guardduty-responder ${attributes.outcome}`,
      additionalContext: {
        outcome: attributes.outcome,
        findingType: attributes.findingType,
        severity: attributes.severity === null ? 'unknown' : String(attributes.severity),
      },
    },
  };
}
