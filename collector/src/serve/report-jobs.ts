import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Granularity } from '@incident-lens/common/report';
import { deliverReport, type DeliveryHooks } from '../delivery/deliver.ts';
import { recipientsFor } from '../delivery/targets.ts';
import { readReport } from '../metrics/report-data.ts';
import { publishReport } from '../report/published.ts';
import { renderHtml } from '../report/html.ts';
import { renderMarkdown } from '../report/markdown.ts';
import { localDay, previousPeriodDay } from '../report/periods.ts';
import { lastTickBefore } from './scheduler.ts';

export const REPORT_JOBS = ['dailyReport', 'weeklyReport', 'monthlyReport'] as const;
export type ReportJobName = (typeof REPORT_JOBS)[number];

const JOB_GRANULARITY: Record<ReportJobName, Granularity> = {
  dailyReport: 'day',
  weeklyReport: 'week',
  monthlyReport: 'month',
};

/**
 * Writes the report of the last complete period as of `now`, in JSON
 * (README.md), Markdown and HTML (the `report` command's layouts), to
 * `<data dir>/reports/<granularity>/<period>.{json,md,html}`, each file
 * atomically, and returns their paths.
 */
export async function writeScheduledReport(
  db: Kysely<Database>,
  config: Pick<Config, 'timezone' | 'dataDir' | 'sla'>,
  granularity: Granularity,
  now: Date
): Promise<string[]> {
  const day = previousPeriodDay(granularity, localDay(now, config.timezone));
  const request = { granularity, date: day, timezone: config.timezone, asOf: now };
  const live = await readReport(db, request);
  // A closed month is frozen as published the first time (read again, the
  // report then says so); later runs show what changed since.
  const report = granularity === 'month' && (await publishReport(db, live)) ? await readReport(db, request) : live;
  const directory = path.join(config.dataDir, 'reports', granularity);
  await mkdir(directory, { recursive: true });
  // The period's label (2026-11-21, 2026-W47, 2026-10) is the SQL one, as in the report.
  const base = path.join(directory, report.period.label);
  const files: Array<[string, string]> = [
    [`${base}.json`, `${JSON.stringify(report, null, 2)}\n`],
    [`${base}.md`, renderMarkdown(report)],
    [`${base}.html`, renderHtml(report, { policy: config.sla })],
  ];
  for (const [file, text] of files) {
    // A reader never sees half a report: write aside, then rename over.
    await writeFile(`${file}.partial`, text);
    await rename(`${file}.partial`, file);
  }
  return files.map(([file]) => file);
}

export interface ReportJobOptions {
  /** The clock; tests move it. */
  now?: () => Date;
  /** What deliveries report to (/metrics) and the stop signal. */
  delivery?: Omit<DeliveryHooks, 'logger'>;
}

/**
 * The scheduler's report jobs: each writes its period's report, logs where,
 * and delivers it to the recipients configured for that period (once per
 * period and recipient, however often the job runs).
 */
export function reportJobs(
  db: Kysely<Database>,
  config: Config,
  logger: Logger,
  options: ReportJobOptions = {}
): Record<ReportJobName, () => Promise<void>> {
  const now = options.now ?? (() => new Date());
  const job = (name: ReportJobName) => async () => {
    const granularity = JOB_GRANULARITY[name];
    const instant = now();
    try {
      const files = await writeScheduledReport(db, config, granularity, instant);
      logger.info({ job: name, files }, 'report written');
    } catch (error) {
      logger.error({ job: name, err: error }, `${granularity} report failed: ${errorMessage(error)}`);
      return;
    }
    if (recipientsFor(config, granularity).length === 0) {
      return;
    }
    try {
      const day = previousPeriodDay(granularity, localDay(instant, config.timezone));
      await deliverReport(
        db,
        config,
        { granularity, date: day, asOf: instant, trigger: 'schedule' },
        { ...options.delivery, logger }
      );
    } catch (error) {
      // Recipients' failures are recorded by the delivery; this is a failure to start it (database, report).
      logger.error({ job: name }, `${granularity} report delivery failed: ${errorMessage(error)}`);
    }
  };
  return { dailyReport: job('dailyReport'), weeklyReport: job('weeklyReport'), monthlyReport: job('monthlyReport') };
}

/** How far back a missed tick is looked for: one period and a day. */
const CATCH_UP_HORIZON_MS: Record<Granularity, number> = {
  day: 2 * 86_400_000,
  week: 8 * 86_400_000,
  month: 32 * 86_400_000,
};

/**
 * The report jobs whose latest tick passed while no report was written:
 * `serve` was down (or the job failed) at that tick. A job that has never
 * written a report is not caught up, so a first start does not send last
 * month's report before the first sync has filled the database. Deliveries
 * stay once per period and recipient, so catching up never sends twice.
 */
export async function missedReportJobs(
  config: Pick<Config, 'timezone' | 'dataDir' | 'schedule'>,
  names: readonly ReportJobName[],
  now: Date
): Promise<Array<{ name: ReportJobName; tick: Date; lastWritten: Date }>> {
  const missed: Array<{ name: ReportJobName; tick: Date; lastWritten: Date }> = [];
  for (const name of names) {
    const granularity = JOB_GRANULARITY[name];
    const lastWritten = await newestReport(path.join(config.dataDir, 'reports', granularity));
    if (!lastWritten) {
      continue;
    }
    const tick = lastTickBefore(config.schedule[name], config.timezone, now, CATCH_UP_HORIZON_MS[granularity]);
    if (tick && tick > lastWritten) {
      missed.push({ name, tick, lastWritten });
    }
  }
  return missed;
}

/** When the newest JSON report in a directory was written; undefined if there is none. */
async function newestReport(directory: string): Promise<Date | undefined> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
  let newest: Date | undefined;
  for (const name of names.filter((candidate) => candidate.endsWith('.json'))) {
    const { mtime } = await stat(path.join(directory, name));
    if (!newest || mtime > newest) {
      newest = mtime;
    }
  }
  return newest;
}
