import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { UsageError } from '../errors.ts';
import { buildReport, listPeriodIncidents, type Granularity } from '../metrics/report-data.ts';
import { renderCsv } from './csv.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';

export const REPORT_FORMATS = ['json', 'md', 'html', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOptions {
  granularity: Granularity;
  date: string;
  timezone: string;
  asOf: Date;
  format: ReportFormat;
}

/** `--as-of`: an ISO 8601 instant with a zone (Z or an offset), so that a report is reproducible anywhere. */
export function parseAsOf(text: string): Date {
  const instant = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(text) || Number.isNaN(instant.getTime())) {
    throw new UsageError(`--as-of must be an ISO 8601 instant with a zone, such as 2026-11-22T09:00:00Z: got '${text}'`);
  }
  return instant;
}

/** The report of one period in one format: SQL computes, this only lays out. */
export async function renderReport(db: Kysely<Database>, config: Config, options: ReportOptions): Promise<string> {
  const request = { granularity: options.granularity, date: options.date, timezone: options.timezone, asOf: options.asOf };
  switch (options.format) {
    case 'json':
      return `${JSON.stringify(await buildReport(db, request), null, 2)}\n`;
    case 'md':
      return renderMarkdown(await buildReport(db, request));
    case 'html':
      return renderHtml(await buildReport(db, request), { policy: config.sla });
    case 'csv':
      return renderCsv(await listPeriodIncidents(db, request));
  }
}

/** The last month that has ended at `now` in `timezone`, as YYYY-MM. */
export function lastFullMonth(now: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit' }).formatToParts(now);
  const year = Number(parts.find((part) => part.type === 'year')!.value);
  const month = Number(parts.find((part) => part.type === 'month')!.value);
  const previous = new Date(Date.UTC(year, month - 2, 1));
  return previous.toISOString().slice(0, 7);
}
