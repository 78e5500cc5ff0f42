/**
 * Notify Lambda: publish one SNS message per execution, whatever the earlier steps reached, after
 * writing the outcome to the incident record (a failed response is contained again on its next sighting).
 */

import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { type MessageAttributeValue, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { namedCalls } from '../clients/named-calls.js';
import { evidenceClients } from '../evidence/clients.js';
import type { IdentifyOutput } from '../identify/identify.js';
import { verifyCustody } from '../incident/custody.js';
import type { ClaimOutput, IncidentRecord } from '../incident/record.js';
import { verifyRecord } from '../incident/signature.js';
import { IncidentStore } from '../incident/store.js';
import { chatNotification } from '../notify/chat.js';
import {
  type Custody,
  composeNotification,
  composeUnreadable,
  type Notification,
  type NotificationContext,
  type Outcome,
  withinSnsLimit,
} from '../notify/message.js';
import { emitResponseMetrics, responderMetrics } from '../notify/metrics.js';
import { lambdaSecurityHub, noteInSecurityHub } from '../notify/security-hub.js';
import { type CheckedEntries, NO_ENTRIES, reportOfExecution } from '../report/build.js';
import { renderReport } from '../report/render.js';
import { putReport, type ReportBucket, reportCommand } from '../report/store.js';
import { requireEnv } from '../shared/env.js';
import { messageOf } from '../shared/errors.js';
import { lazyHandler } from '../shared/handler.js';
import { logger } from '../shared/logger.js';

export type NotifyOutput = { messageId: string; outcome: Outcome };

/** Records how this execution's response ended; a line for the message when that could not be done. */
async function recordOutcome(store: IncidentStore, claim: unknown, outcome: Outcome): Promise<string | null> {
  const claimed = claim as ClaimOutput | undefined;
  if (claimed?.claimed !== true || !claimed.executionArn || outcome === 'seen-again') return null;
  try {
    await store.recordOutcome(claimed.findingId, claimed.executionArn, outcome, new Date().toISOString());
    return null;
  } catch (error) {
    logger.error('outcome not recorded', { findingId: claimed.findingId, error: messageOf(error) });
    return `The outcome could not be written to the incident record (${messageOf(error)}): a sighting of the finding after the state machine's timeout (30 minutes, and the approval deadline when actions wait for one) runs the response again.`;
  }
}

/**
 * The incident record, once anything ran: its evidence (the chain of custody, each object's MAC checked
 * for the incident) for the message, its entries checked for the report, its entries and holds for the
 * metrics. Read once.
 */
async function recordOf(
  store: IncidentStore,
  state: Record<string, unknown>,
): Promise<{ custody: Custody | null; record: IncidentRecord | null; entries: CheckedEntries }> {
  const findingId = (state.identify as IdentifyOutput | undefined)?.plan?.finding?.id;
  if (!findingId || state.contain === undefined) return { custody: null, record: null, entries: NO_ENTRIES };
  try {
    const { record, seal } = await store.sealed(findingId);
    const { verified, refused } = await verifyCustody(store.key, seal, record.evidence ?? []);
    // The report draws only the entries the responder signed: one planted in the table is listed refused.
    const entries = await verifyRecord(store.key, seal, record.entries ?? {});
    return { custody: { objects: verified, refused }, record, entries };
  } catch (error) {
    return { custody: { error: messageOf(error) }, record: null, entries: NO_ENTRIES };
  }
}

/**
 * The finding in Security Hub gets the outcome and the incident id, and NOTIFIED once something is
 * contained; the line says what happened. Nothing for a repeat, a dry run, or when identification did
 * not run.
 */
async function noteOutcome(
  securityHub: (region: string) => SecurityHubClient,
  state: Record<string, unknown>,
  outcome: Outcome,
): Promise<string | null> {
  const plan = (state.identify as IdentifyOutput | undefined)?.plan;
  const claim = state.claim as ClaimOutput | undefined;
  // A dry run changes nothing, Security Hub included.
  if (!plan?.finding?.arn || claim?.claimed !== true || claim.dryRun) return null;
  const { executionArn } = claim;
  const { finding } = plan;
  const note = `guardduty-responder: ${outcome}. Incident ${finding.id} (the incident record's key; npm run incidents lists it), execution ${executionArn}.`;
  return noteInSecurityHub(
    securityHub(finding.region),
    { arn: finding.arn, region: finding.region },
    note,
    outcome === 'contained' ? 'NOTIFIED' : null,
  );
}

/**
 * The chat message, published before the e-mail one so that the e-mail can say when it could not be: a
 * retry of Notify after the e-mail would send it twice.
 */
async function publishChat(
  sns: SNSClient,
  topicArn: string,
  notification: Notification,
  state: Record<string, unknown>,
): Promise<string | null> {
  const findingId = (state.identify as IdentifyOutput | undefined)?.plan?.finding?.id ?? null;
  try {
    await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Message: JSON.stringify(chatNotification(notification, findingId)),
      }),
    );
    return null;
  } catch (error) {
    logger.error('chat notification not published', { error: messageOf(error) });
    return `The chat notification could not be published (${messageOf(error)}).`;
  }
}

/**
 * The incident report, written to the evidence bucket beside the evidence; a line for the message when
 * it could not be.
 */
async function writeReport(
  ports: ReportBucket,
  notification: Notification,
  state: Record<string, unknown>,
  record: IncidentRecord | null,
  entries: CheckedEntries,
  custody: Custody | null,
): Promise<string | null> {
  const { incident } = notification;
  if (!incident) return null;
  const claim = state.claim as ClaimOutput | undefined;
  try {
    const report = reportOfExecution({
      notification,
      ...incident,
      record,
      entries,
      executionArn: claim?.claimed === true ? claim.executionArn : null,
      evidence: custody && 'objects' in custody ? custody.objects : [],
      generatedAt: new Date().toISOString(),
    });
    await putReport(ports, incident.plan.finding.id, renderReport(report));
    return null;
  } catch (error) {
    logger.error('report not written', { error: messageOf(error) });
    return `The incident report could not be written to s3://${ports.bucket} (${messageOf(error)}).`;
  }
}

/** The notification; one that says it could not be composed, rather than none, should composing fail. */
function composeOrSayWhy(
  state: Record<string, unknown>,
  custody: Custody | null,
  context: NotificationContext,
): Notification {
  try {
    return composeNotification(state, custody, context);
  } catch (error) {
    logger.error('notification not composed', { error: messageOf(error) });
    return composeUnreadable(state, messageOf(error));
  }
}

export type NotifyPorts = {
  sns: SNSClient;
  topicArn: string;
  store: IncidentStore;
  securityHub: (region: string) => SecurityHubClient;
  /** The chat topic (`chatNotifications`), which gets the Amazon Q Developer format; null: none. */
  chatTopicArn: string | null;
  /** Where the incident report is kept: the evidence bucket; `shownAs` says where a person finds it. */
  report: ReportBucket & { shownAs?: (findingId: string) => string };
  /** The stack the next steps' commands name (`--deployed`); null for a local replay. */
  stackName: string | null;
  metrics?: Metrics;
};

export function notifyHandler(ports: NotifyPorts): (state: unknown) => Promise<NotifyOutput> {
  const { sns, topicArn, store, securityHub, chatTopicArn } = ports;
  const metrics = ports.metrics ?? responderMetrics();
  return async (state) => {
    const execution = typeof state === 'object' && state !== null ? (state as Record<string, unknown>) : {};
    const { custody, record, entries } = await recordOf(store, execution);
    const findingId = (execution.identify as IdentifyOutput | undefined)?.plan?.finding?.id;
    const notification = composeOrSayWhy(execution, custody, {
      stackName: ports.stackName,
      report: findingId
        ? (ports.report.shownAs ?? reportCommand.bind(null, ports.report.bucket))(findingId)
        : null,
    });
    const reportLine = await writeReport(ports.report, notification, execution, record, entries, custody);
    emitResponseMetrics(
      metrics,
      notification,
      (execution.identify as IdentifyOutput | undefined)?.plan?.finding?.updatedAt,
      record,
    );
    const { subject, message, attributes } = notification;
    const securityHubLine = await noteOutcome(securityHub, execution, attributes.outcome);
    const outcomeProblem = await recordOutcome(store, execution.claim, attributes.outcome);
    const chatLine = chatTopicArn ? await publishChat(sns, chatTopicArn, notification, execution) : null;
    const problem =
      [reportLine, securityHubLine, outcomeProblem, chatLine].filter(Boolean).join('\n\n') || null;
    const messageAttributes: Record<string, MessageAttributeValue> = {
      findingType: { DataType: 'String', StringValue: attributes.findingType },
      outcome: { DataType: 'String', StringValue: attributes.outcome },
      sample: { DataType: 'String', StringValue: String(attributes.sample) },
    };
    if (attributes.severity !== null) {
      messageAttributes.severity = { DataType: 'Number', StringValue: String(attributes.severity) };
    }
    const published = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: subject,
        Message: problem ? withinSnsLimit(`${message}\n\n${problem}`) : message,
        MessageAttributes: messageAttributes,
      }),
    );
    logger.info('notified', { subject, outcome: attributes.outcome, messageId: published.MessageId });
    return { messageId: published.MessageId ?? '', outcome: attributes.outcome };
  };
}

export const handler = lazyHandler(() =>
  notifyHandler({
    sns: namedCalls(new SNSClient({})),
    topicArn: requireEnv('TOPIC_ARN'),
    store: IncidentStore.fromEnvironment(),
    securityHub: lambdaSecurityHub(),
    chatTopicArn: process.env.CHAT_TOPIC_ARN || null,
    report: { s3: evidenceClients().s3, bucket: requireEnv('EVIDENCE_BUCKET') },
    stackName: requireEnv('STACK_NAME'),
  }),
);
