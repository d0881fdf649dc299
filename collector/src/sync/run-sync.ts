import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { UsageError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { createPagerDutySync } from '../sources/pagerduty/sync.ts';
import type { SourceSync, SyncRequest, SyncSummary } from './source.ts';

export type SourceName = 'pagerduty' | 'jira';

/** The sources the environment configures, in the order they sync. */
export function configuredSources(config: Config): SourceSync[] {
  const sources: SourceSync[] = [];
  if (config.pagerduty.env) sources.push(createPagerDutySync(config));
  return sources;
}

export function selectSources(config: Config, which: SourceName | 'all'): SourceSync[] {
  const sources = configuredSources(config).filter((source) => which === 'all' || source.source === which);
  if (sources.length === 0) {
    const hint =
      which === 'jira'
        ? 'set JIRA_BASE_URL, JIRA_EMAIL and JIRA_API_TOKEN'
        : which === 'pagerduty'
          ? 'set PAGERDUTY_TOKEN'
          : 'set PAGERDUTY_TOKEN and/or JIRA_BASE_URL, JIRA_EMAIL, JIRA_API_TOKEN';
    throw new UsageError(`no ${which === 'all' ? '' : `${which} `}source is configured: ${hint}`);
  }
  return sources;
}

/** Runs each source in turn; PagerDuty first, so Jira tickets find the incidents they refer to. */
export async function runSync(
  db: Kysely<Database>,
  sources: SourceSync[],
  request: SyncRequest,
  logger: Logger,
): Promise<SyncSummary[]> {
  const summaries: SyncSummary[] = [];
  for (const source of sources) summaries.push(await source.run(db, request, logger));
  return summaries;
}
