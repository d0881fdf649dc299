import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { UsageError, errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Granularity, ReportJson } from '@incident-lens/common/report';
import { listPeriodIncidents, readReport } from '../metrics/report-data.ts';
import { renderCsv } from '../report/csv.ts';
import { publishReport, readPublishedReport } from '../report/published.ts';
import { composeEmail, slackMessage, type EmailContent } from './content.ts';
import {
  DEFAULT_RETRY,
  PermanentFailure,
  createMailer,
  postToSlack,
  withRetries,
  type Mailer,
  type RetryPolicy,
} from './senders.ts';
import { deliverySecrets, recipientName, recipientsFor, redact, type Recipient } from './targets.ts';

/*
 * Exactly once per period and recipient, and what SMTP allows of it.
 *
 * A run (delivery_runs) is one sending of a period's report; it stores the
 * report, and one delivery_log row per recipient is written with it, in one
 * transaction, before anything is sent. Each recipient's row goes
 * pending -> sending (committed before the message is handed over) -> sent
 * or failed (committed after the server's answer). A per-period advisory
 * lock keeps a second process out of a run while one is sending; the lock
 * dies with the process's connection, so a killed process leaves the run to
 * the next one.
 *
 * A run left unfinished (a crash, a kill, a stop) is resumed by the next
 * `deliver` of that period or by the next start of `serve`: rows already
 * `sent` are never sent again, `pending` ones are sent, and `sending` ones
 * are sent again. That last case is the one window SMTP and webhooks cannot
 * close: a process killed after the server accepted a message and before
 * `sent` was committed (a few milliseconds) causes one duplicate. We chose
 * that over skipping a recipient who may never have received the report; the
 * repeat carries the same Message-ID, which lets mail stores recognise it.
 * So: every recipient receives the report at least once, and more than once
 * only when the process dies inside that window.
 *
 * The scheduled run of a period exists at most once (a unique index), so the
 * report job never sends a period twice, however often it runs. A resend
 * (`deliver`) first finishes an unfinished run of the period; otherwise it
 * is a new run that sends to every recipient again, on purpose, and is
 * recorded as such.
 */

export type DeliveryTrigger = 'schedule' | 'resend';
export type DeliveryOutcomeKind = 'sent' | 'failed' | 'retried';

export interface DeliveryRequest {
  granularity: Granularity;
  /** Any day of the period (YYYY-MM-DD), or YYYY-MM for a month. */
  date: string;
  /** The figures' as-of instant, and the instant that decides whether the period has closed. */
  asOf: Date;
  trigger: DeliveryTrigger;
}

export interface DeliveryHooks {
  logger: Logger;
  /** Each recipient's end (sent, failed) and each try to be repeated (retried), for /metrics. */
  observe?: (channel: Recipient['channel'], outcome: DeliveryOutcomeKind) => void;
  /** Stops between recipients and cuts retry waits short; unsent rows wait for the next start. */
  signal?: AbortSignal;
  retry?: RetryPolicy;
}

export interface RecipientOutcome {
  channel: Recipient['channel'];
  recipient: string;
  status: 'sent' | 'failed' | 'pending' | 'sending';
  error: string | null;
}

export interface DeliverySummary {
  period: string;
  runId: number | null;
  /** An unfinished run was taken up instead of starting one. */
  resumed: boolean;
  /** Nothing to do: the scheduled run of this period had already been made. */
  alreadyDelivered: boolean;
  outcomes: RecipientOutcome[];
}

interface PeriodKey {
  granularity: Granularity;
  label: string;
  timezone: string;
}

interface RunRow {
  id: number;
  report: ReportJson;
}

// Any constant: the first half of the two-key advisory lock of a period's delivery.
const DELIVERY_LOCK_CLASS = 0x1e1c_de11;

/** Sends a period's report to its configured recipients (see the note at the top for the guarantees). */
export async function deliverReport(
  db: Kysely<Database>,
  config: Config,
  request: DeliveryRequest,
  hooks: DeliveryHooks
): Promise<DeliverySummary> {
  const recipients = recipientsFor(config, request.granularity);
  if (recipients.length === 0) {
    throw new UsageError(`no delivery: entry sends the ${request.granularity} report: add one to the configuration`);
  }
  const period = await periodKey(db, config, request);
  const label = `${period.granularity} ${period.label} (${period.timezone})`;
  return withPeriodLock(db, period, async (locked) => {
    if (!locked) {
      if (request.trigger === 'resend') {
        throw new Error(`another process is delivering the ${label} report right now: try again when it has finished`);
      }
      hooks.logger.info({ period: label }, 'another process is delivering this report; leaving it to that one');
      return { period: label, runId: null, resumed: false, alreadyDelivered: false, outcomes: [] };
    }
    let run = await unfinishedRun(db, period);
    const resumed = run !== undefined;
    if (run === undefined) {
      if (request.trigger === 'schedule' && (await scheduledRunExists(db, period))) {
        hooks.logger.debug({ period: label }, 'the scheduled delivery of this report was already made');
        return { period: label, runId: null, resumed: false, alreadyDelivered: true, outcomes: [] };
      }
      const report = await reportToSend(db, config, request, true);
      run = await createRun(db, period, request.trigger, report, recipients);
    } else {
      hooks.logger.info(
        { period: label, run: run.id },
        'resuming an unfinished delivery: recipients already served are not sent again'
      );
    }
    const outcomes = await sendRun(db, config, run, hooks);
    return { period: label, runId: run.id, resumed, alreadyDelivered: false, outcomes };
  });
}

/** serve's start: finishes every run a previous process left unfinished in the last week. */
export async function resumeUnfinishedDeliveries(
  db: Kysely<Database>,
  config: Config,
  hooks: DeliveryHooks
): Promise<void> {
  const periods = await db
    .selectFrom('delivery_runs')
    .select(['granularity', 'period_label as label', 'timezone'])
    .distinct()
    .where('finished_at', 'is', null)
    .where('started_at', '>', sql<Date>`now() - interval '7 days'`)
    .execute();
  for (const period of periods) {
    if (hooks.signal?.aborted) {
      return;
    }
    try {
      await withPeriodLock(db, period, async (locked) => {
        // Not locked: the process holding it is sending this run.
        const run = locked ? await unfinishedRun(db, period) : undefined;
        if (!run) {
          return;
        }
        hooks.logger.info(
          { period: period.label, run: run.id },
          'resuming an unfinished delivery: recipients already served are not sent again'
        );
        await sendRun(db, config, run, hooks);
      });
    } catch (error) {
      hooks.logger.error(
        { period: period.label },
        `could not resume a report delivery: ${redact(errorMessage(error), deliverySecrets(config))}`
      );
    }
  }
}

/**
 * The report a delivery sends: for a closed month the published (frozen)
 * report, published now if it was not yet (`publish`); otherwise the live one.
 */
export async function reportToSend(
  db: Kysely<Database>,
  config: Config,
  request: DeliveryRequest,
  publish: boolean
): Promise<ReportJson> {
  const live = await readReport(db, {
    granularity: request.granularity,
    date: request.date,
    timezone: config.timezone,
    asOf: request.asOf,
  });
  const closed = new Date(live.period.end).getTime() <= request.asOf.getTime();
  if (request.granularity !== 'month' || !closed) {
    return live;
  }
  if (publish) {
    await publishReport(db, live);
  }
  const stored = await readPublishedReport(db, live.period);
  return stored ? stored.report : live;
}

/** The incidents of the report's period as of the report's as-of, as CSV. */
async function incidentsCsv(db: Kysely<Database>, report: ReportJson): Promise<string> {
  const { granularity, start, timezone, asOf } = report.period;
  return renderCsv(
    await listPeriodIncidents(db, { granularity, date: start.slice(0, 10), timezone, asOf: new Date(asOf) })
  );
}

export async function composeReportEmail(
  db: Kysely<Database>,
  config: Config,
  report: ReportJson
): Promise<EmailContent> {
  return composeEmail(report, await incidentsCsv(db, report), config.sla);
}

async function periodKey(db: Kysely<Database>, config: Config, request: DeliveryRequest): Promise<PeriodKey> {
  const report = await readReport(db, {
    granularity: request.granularity,
    date: request.date,
    timezone: config.timezone,
    asOf: request.asOf,
    trendPeriods: 0,
    overdueListLimit: 0,
  });
  return { granularity: request.granularity, label: report.period.label, timezone: report.period.timezone };
}

async function withPeriodLock<T>(
  db: Kysely<Database>,
  period: PeriodKey,
  work: (locked: boolean) => Promise<T>
): Promise<T> {
  const key = `${period.granularity} ${period.label} ${period.timezone}`;
  return db.connection().execute(async (connection) => {
    const { rows } = await sql<{
      locked: boolean;
    }>`SELECT pg_try_advisory_lock(${DELIVERY_LOCK_CLASS}, hashtext(${key})) AS locked`.execute(connection);
    const locked = rows[0]!.locked;
    try {
      return await work(locked);
    } finally {
      if (locked) {
        await sql`SELECT pg_advisory_unlock(${DELIVERY_LOCK_CLASS}, hashtext(${key}))`.execute(connection);
      }
    }
  });
}

function periodRuns(db: Kysely<Database>, period: PeriodKey) {
  return db
    .selectFrom('delivery_runs')
    .where('granularity', '=', period.granularity)
    .where('period_label', '=', period.label)
    .where('timezone', '=', period.timezone);
}

async function unfinishedRun(db: Kysely<Database>, period: PeriodKey): Promise<RunRow | undefined> {
  const row = await periodRuns(db, period)
    .select(['id', 'report'])
    .where('finished_at', 'is', null)
    .orderBy('id')
    .executeTakeFirst();
  return row && { id: row.id, report: row.report as ReportJson };
}

/** For --dry-run: the recipients an unfinished run of the period has yet to serve, if there is one. */
export async function unfinishedRecipients(
  db: Kysely<Database>,
  config: Config,
  request: DeliveryRequest
): Promise<string[] | undefined> {
  const run = await unfinishedRun(db, await periodKey(db, config, request));
  if (!run) {
    return undefined;
  }
  const rows = await db
    .selectFrom('delivery_log')
    .select('recipient')
    .where('run_id', '=', run.id)
    .where('status', 'in', ['pending', 'sending'])
    .orderBy('position')
    .execute();
  return rows.map((row) => row.recipient);
}

async function scheduledRunExists(db: Kysely<Database>, period: PeriodKey): Promise<boolean> {
  return (await periodRuns(db, period).select('id').where('trigger', '=', 'schedule').executeTakeFirst()) !== undefined;
}

async function createRun(
  db: Kysely<Database>,
  period: PeriodKey,
  trigger: DeliveryTrigger,
  report: ReportJson,
  recipients: Recipient[]
): Promise<RunRow> {
  return db.transaction().execute(async (transaction) => {
    const { id } = await transaction
      .insertInto('delivery_runs')
      .values({
        granularity: period.granularity,
        period_label: period.label,
        timezone: period.timezone,
        trigger,
        as_of: report.period.asOf,
        report: JSON.stringify(report),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await transaction
      .insertInto('delivery_log')
      .values(
        recipients.map((recipient, position) => ({
          run_id: id,
          channel: recipient.channel,
          recipient: recipientName(recipient),
          position,
        }))
      )
      .execute();
    return { id, report };
  });
}

/** The same on every try and on a resumed send, so that a mail store can recognise a repeat. */
function messageId(runId: number, recipient: string, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'incident-lens.invalid';
  const hash = createHash('sha256').update(recipient.toLowerCase()).digest('hex').slice(0, 16);
  return `<report-run-${runId}.${hash}@${domain}>`;
}

async function sendRun(
  db: Kysely<Database>,
  config: Config,
  run: RunRow,
  hooks: DeliveryHooks
): Promise<RecipientOutcome[]> {
  const { logger, signal } = hooks;
  const secrets = deliverySecrets(config);
  const policy = hooks.retry ?? DEFAULT_RETRY;
  const rows = await db
    .selectFrom('delivery_log')
    .select(['channel', 'recipient', 'status', 'error'])
    .where('run_id', '=', run.id)
    .orderBy('position')
    .execute();
  const outcomes: RecipientOutcome[] = rows.map((row) => ({
    channel: row.channel,
    recipient: row.recipient,
    status: row.status,
    error: row.error,
  }));
  let email: EmailContent | undefined;
  let mailer: Mailer | undefined;
  const row = (outcome: RecipientOutcome) =>
    db
      .updateTable('delivery_log')
      .where('run_id', '=', run.id)
      .where('channel', '=', outcome.channel)
      .where('recipient', '=', outcome.recipient);
  try {
    for (const outcome of outcomes) {
      if (outcome.status === 'sent' || outcome.status === 'failed') {
        continue;
      }
      if (signal?.aborted) {
        break;
      }
      const log = { run: run.id, channel: outcome.channel, recipient: outcome.recipient };
      const markTry = () =>
        row(outcome)
          .set({ status: 'sending', tries: sql<number>`tries + 1`, updated_at: sql<Date>`now()` })
          .execute();
      try {
        let bytes: number;
        if (outcome.channel === 'email') {
          email ??= await composeReportEmail(db, config, run.report);
          mailer ??= createMailer(config.deliveryEnv.smtpUrl!, config.deliveryEnv.smtpFrom);
          const content = email;
          const sender = mailer;
          const id = messageId(run.id, outcome.recipient, config.deliveryEnv.smtpFrom);
          bytes = await withTries(
            markTry,
            policy,
            hooks,
            outcome,
            secrets,
            async () => (await sender.send(outcome.recipient, content, id)).bytes
          );
        } else {
          const url = config.deliveryEnv.slackWebhooks.get(outcome.recipient);
          if (url === undefined) {
            throw new PermanentFailure(`${outcome.recipient} is not set in this process's environment`);
          }
          const message = slackMessage(run.report);
          bytes = Buffer.byteLength(JSON.stringify(message));
          await withTries(markTry, policy, hooks, outcome, secrets, () => postToSlack(url, message));
        }
        await row(outcome)
          .set({ status: 'sent', bytes, error: null, sent_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
          .execute();
        outcome.status = 'sent';
        hooks.observe?.(outcome.channel, 'sent');
        logger.info({ ...log, bytes }, 'report delivered');
      } catch (error) {
        // A stop cuts a retry wait short: the row stays for the next start, like a crash.
        if (signal?.aborted) {
          break;
        }
        const reason = redact(errorMessage(error), secrets);
        await row(outcome)
          .set({ status: 'failed', error: reason, updated_at: sql<Date>`now()` })
          .execute();
        outcome.status = 'failed';
        outcome.error = reason;
        hooks.observe?.(outcome.channel, 'failed');
        logger.error(log, `report delivery failed for good: ${reason}`);
      }
    }
  } finally {
    mailer?.close();
  }
  if (outcomes.every((outcome) => outcome.status === 'sent' || outcome.status === 'failed')) {
    await db
      .updateTable('delivery_runs')
      .set({ finished_at: sql<Date>`now()` })
      .where('id', '=', run.id)
      .execute();
  }
  return outcomes;
}

/** Marks the row `sending` (one more try) before each try, then tries with retries. */
async function withTries<T>(
  markTry: () => Promise<unknown>,
  policy: RetryPolicy,
  hooks: DeliveryHooks,
  outcome: RecipientOutcome,
  secrets: readonly string[],
  send: () => Promise<T>
): Promise<T> {
  return withRetries(
    policy,
    async () => {
      await markTry();
      outcome.status = 'sending';
      return send();
    },
    (failure, waitMs) => {
      hooks.observe?.(outcome.channel, 'retried');
      hooks.logger.warn(
        { channel: outcome.channel, recipient: outcome.recipient, waitMs },
        `report delivery will be retried: ${redact(failure.message, secrets)}`
      );
    },
    hooks.signal
  );
}
