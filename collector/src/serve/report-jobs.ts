import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { buildReport, type Granularity } from '../metrics/report-data.ts';
import { compareWithPublished, publishReport } from '../report/published.ts';
import { renderHtml } from '../report/html.ts';
import { renderMarkdown } from '../report/markdown.ts';

export type ReportJobName = 'dailyReport' | 'weeklyReport' | 'monthlyReport';

const JOB_GRANULARITY: Record<ReportJobName, Granularity> = {
  dailyReport: 'day',
  weeklyReport: 'week',
  monthlyReport: 'month',
};

/** Pure: the calendar day (YYYY-MM-DD) an instant falls on in a zone. */
export function localDay(instant: Date, timezone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
}

/**
 * Pure: a day of the last complete period before the one containing
 * `today`: yesterday, a day of last ISO week, a day of last month. A report
 * scheduled at 06:00 on a Monday thus covers the week that just ended,
 * whatever day the schedule names.
 */
export function previousPeriodDay(granularity: Granularity, today: string): string {
  const date = new Date(`${today}T00:00:00Z`);
  if (granularity === 'day') date.setUTCDate(date.getUTCDate() - 1);
  if (granularity === 'week') date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7) - 1);
  if (granularity === 'month') date.setUTCDate(0);
  return date.toISOString().slice(0, 10);
}

/** Pure: the file name of a period's report: 2026-11-21, 2026-W47, 2026-10. */
export function periodLabel(granularity: Granularity, day: string): string {
  if (granularity === 'day') return day;
  if (granularity === 'month') return day.slice(0, 7);
  // ISO 8601 week: the week's Thursday decides the year.
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 3 - ((date.getUTCDay() + 6) % 7));
  const weekYear = date.getUTCFullYear();
  const firstThursday = new Date(Date.UTC(weekYear, 0, 4));
  firstThursday.setUTCDate(firstThursday.getUTCDate() + 3 - ((firstThursday.getUTCDay() + 6) % 7));
  const week = 1 + Math.round((date.getTime() - firstThursday.getTime()) / (7 * 86_400_000));
  return `${weekYear}-W${String(week).padStart(2, '0')}`;
}

/**
 * Writes the report of the last complete period as of `now`, in JSON
 * (INTERFACES.md), Markdown and HTML (the `report` command's layouts), to
 * `<data dir>/reports/<granularity>/<period>.{json,md,html}`, each file
 * atomically, and returns their paths.
 */
export async function writeScheduledReport(
  db: Kysely<Database>,
  config: Pick<Config, 'timezone' | 'dataDir' | 'sla'>,
  granularity: Granularity,
  now: Date,
): Promise<string[]> {
  const day = previousPeriodDay(granularity, localDay(now, config.timezone));
  const live = await buildReport(db, { granularity, date: day, timezone: config.timezone, asOf: now });
  // A closed month is frozen as published the first time; later runs show what changed since.
  if (granularity === 'month') await publishReport(db, live);
  const report = await compareWithPublished(db, live);
  const directory = path.join(config.dataDir, 'reports', granularity);
  await mkdir(directory, { recursive: true });
  const base = path.join(directory, periodLabel(granularity, day));
  const files: [string, string][] = [
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

/** The scheduler's report jobs: each writes its period's report and logs where. */
export function reportJobs(db: Kysely<Database>, config: Config, logger: Logger): Record<ReportJobName, () => Promise<void>> {
  const job = (name: ReportJobName) => async () => {
    const granularity = JOB_GRANULARITY[name];
    try {
      const files = await writeScheduledReport(db, config, granularity, new Date());
      logger.info({ job: name, files }, 'report written');
    } catch (error) {
      logger.error({ job: name, err: error }, `${granularity} report failed: ${errorMessage(error)}`);
    }
  };
  return { dailyReport: job('dailyReport'), weeklyReport: job('weeklyReport'), monthlyReport: job('monthlyReport') };
}
