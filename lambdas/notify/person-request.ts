/**
 * What the release and recover Lambdas share: the person's request parsed at the edge, and the notice of
 * what was done, published to the responder's topic (not for a dry run).
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type PersonRequest, PersonRequestSchema } from '../incident/record.js';
import { logger } from '../shared/logger.js';
import { clean } from './message.js';

/** A release or recovery as it ended: the incident's state is the notice's `outcome` attribute. */
type PersonReport = { findingId: string; dryRun: boolean; state: string };

export function personRequestHandler<Report extends PersonReport>(
  command: 'release' | 'recover',
  run: (request: PersonRequest) => Promise<Report>,
  describe: (report: Report) => string[],
  sns: SNSClient,
  topicArn: string,
): (input: unknown) => Promise<Report> {
  return async (input) => {
    const parsed = PersonRequestSchema.safeParse(input);
    if (!parsed.success) throw new Error(`${command} input is not valid: ${parsed.error.message}`);
    const report = await run(parsed.data);
    logger.info(command, { ...report });
    if (!report.dryRun) {
      await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: clean(`[guardduty-responder] ${command}: ${report.state}: ${report.findingId}`, 100),
          Message: [...describe(report), `Requested by ${parsed.data.requestedBy}.`].join('\n'),
          MessageAttributes: { outcome: { DataType: 'String', StringValue: report.state } },
        }),
      );
    }
    return report;
  };
}
