import type { Kysely } from 'kysely';
import type { CommandContext } from '../cli.ts';
import type { Database } from '../db/schema.ts';
import type { Granularity } from '@incident-lens/common/report';
import {
  composeReportEmail,
  deliverReport,
  reportToSend,
  unfinishedRecipients,
  type DeliveryRequest,
} from './deliver.ts';
import { slackMessage } from './content.ts';
import { recipientName, recipientsFor } from './targets.ts';

export interface DeliverOptions {
  period: Granularity;
  date: string;
  asOf: Date;
  dryRun: boolean;
}

const kB = (bytes: number) => `${(bytes / 1024).toFixed(0)} kB`;

/** `incident-lens deliver`: a resend on purpose, or with --dry-run what it would send to whom. */
export async function runDeliver(
  db: Kysely<Database>,
  context: CommandContext,
  options: DeliverOptions
): Promise<void> {
  const { config, stdout, logger } = context;
  const request: DeliveryRequest = {
    granularity: options.period,
    date: options.date,
    asOf: options.asOf,
    trigger: 'resend',
  };
  if (options.dryRun) {
    const report = await reportToSend(db, config, request, false);
    const pending = await unfinishedRecipients(db, config, request);
    const frozen =
      report.published === undefined && options.period === 'month' && new Date(report.period.end) <= options.asOf;
    stdout.write(
      `would deliver the ${report.period.granularity} report ${report.period.label} (${report.period.timezone}), figures as of ${report.period.asOf}${frozen ? ', the published (frozen) report' : ''}\n`
    );
    if (pending) {
      stdout.write(
        `an unfinished delivery of this period would be resumed: only ${pending.join(', ')} would be sent\n`
      );
    }
    for (const recipient of recipientsFor(config, options.period)) {
      if (pending && !pending.includes(recipientName(recipient))) {
        continue;
      }
      if (recipient.channel === 'email') {
        const email = await composeReportEmail(db, config, report);
        const images = email.images.reduce((sum, image) => sum + image.content.length, 0);
        stdout.write(
          `  e-mail to ${recipient.address} from ${config.deliveryEnv.smtpFrom}: "${email.subject}"; HTML ${kB(Buffer.byteLength(email.html))}, ` +
            `${email.images.length} PNG charts ${kB(images)}, ${email.csv.filename} with ${email.csv.rows} incidents\n`
        );
      } else {
        stdout.write(`  Slack message via ${recipient.variable}: "${slackMessage(report).text}"\n`);
      }
    }
    stdout.write('nothing was sent (--dry-run)\n');
    return;
  }
  const summary = await deliverReport(db, config, request, { logger, signal: context.signal });
  if (summary.resumed) {
    stdout.write(
      `resumed the unfinished delivery of the ${summary.period} report: recipients already served were not sent again\n`
    );
  }
  for (const outcome of summary.outcomes) {
    stdout.write(
      `${outcome.channel} ${outcome.recipient}: ${outcome.status}${outcome.error ? ` (${outcome.error})` : ''}\n`
    );
  }
  const failed = summary.outcomes.filter((outcome) => outcome.status === 'failed');
  const unsent = summary.outcomes.filter((outcome) => outcome.status === 'pending' || outcome.status === 'sending');
  if (failed.length > 0) {
    throw new Error(
      `the ${summary.period} report could not be delivered to ${failed.map((outcome) => outcome.recipient).join(', ')}`
    );
  }
  if (unsent.length > 0) {
    throw new Error(
      `stopped before delivering the ${summary.period} report to ${unsent.map((outcome) => outcome.recipient).join(', ')}: the next deliver or serve start resumes`
    );
  }
}
