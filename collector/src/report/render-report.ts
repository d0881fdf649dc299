import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { parseIsoInstant } from '../dates.ts';
import { UsageError, errorMessage } from '../errors.ts';
import type { Granularity, ReportJson } from '@incident-lens/common/report';
import { listPeriodIncidents, readReport } from '../metrics/report-data.ts';
import { renderCsv } from './csv.ts';
import { renderMarkdown } from './markdown.ts';
import type { ReportFormat } from './formats.ts';
import { readPublishedReport } from './published.ts';

export interface ReportOptions {
  granularity: Granularity;
  date: string;
  timezone: string;
  asOf: Date;
  format: ReportFormat;
  /** Show the report as it was published (frozen by `serve`), not as computed now. */
  published?: boolean;
  /** Restrict every figure to one account (`sources:` name). */
  source?: string;
}

/** `--as-of`: an ISO 8601 instant with a zone (Z or an offset), so that a report is reproducible anywhere. */
export function parseAsOf(text: string): Date {
  try {
    return parseIsoInstant(text);
  } catch (error) {
    throw new UsageError(
      `--as-of must be an ISO 8601 instant with a zone, such as 2026-11-22T09:00:00Z: ${errorMessage(error)}`
    );
  }
}

/** The report of one period in one format: SQL computes, this only lays out. */
export async function renderReport(db: Kysely<Database>, config: Config, options: ReportOptions): Promise<string> {
  const request = {
    granularity: options.granularity,
    date: options.date,
    timezone: options.timezone,
    asOf: options.asOf,
    source: options.source,
  };
  if (options.published && options.source !== undefined) {
    throw new UsageError(
      '--published shows the report serve froze for every account; leave out --published for one account, or --source for the published one'
    );
  }
  if (options.format === 'csv') {
    if (options.published) {
      throw new UsageError('--published keeps the report figures, not the incident rows: use json, md or html');
    }
    return renderCsv(await listPeriodIncidents(db, request));
  }
  const report = options.published ? await publishedReport(db, request) : await readReport(db, request);
  return await formatReport(report, options.format, config);
}

async function formatReport(
  report: ReportJson,
  format: Exclude<ReportFormat, 'csv'>,
  config: Pick<Config, 'sla'>
): Promise<string> {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'md':
      return renderMarkdown(report);
    case 'html': {
      // The charting library takes about a second to load: only HTML pays for it.
      const { renderHtml } = await import('./html.ts');
      return renderHtml(report, { policy: config.sla });
    }
  }
}

async function publishedReport(db: Kysely<Database>, request: Omit<ReportOptions, 'format'>): Promise<ReportJson> {
  // The period's label and zone identify it; compute them the same way as the live report.
  const live = await readReport(db, { ...request, trendPeriods: 0, overdueListLimit: 0 });
  const stored = await readPublishedReport(db, live.period);
  if (!stored) {
    throw new UsageError(
      `no published report for ${live.period.label} in ${live.period.timezone}: serve publishes each month's report when the month has closed`
    );
  }
  return stored.report;
}
