import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { UsageError } from '../errors.ts';
import type { ApiResponseEvent } from '../http/api-client.ts';
import type { Logger } from '../logger.ts';
import { createJiraSync } from '../sources/jira/sync.ts';
import { createPagerDutySync } from '../sources/pagerduty/sync.ts';
import type { SourceSync, SyncRequest, SyncSummary } from './source.ts';
import { withSourceLock, type WhenBusy } from './source-lock.ts';

export type SourceName = 'pagerduty' | 'jira';

/** Observers attached to every source's API client (the serve command's metrics). */
export interface SourceHooks {
  onResponse?: (source: SourceName, event: ApiResponseEvent) => void;
}

/** The sources the environment configures, in the order they sync. */
export function configuredSources(config: Config, hooks: SourceHooks = {}): SourceSync[] {
  const sources: SourceSync[] = [];
  const observe = (source: SourceName) => {
    const { onResponse } = hooks;
    return onResponse && ((event: ApiResponseEvent) => onResponse(source, event));
  };
  if (config.pagerduty.env) sources.push(createPagerDutySync(config, { onResponse: observe('pagerduty') }));
  if (config.jira.env) sources.push(createJiraSync(config, { onResponse: observe('jira') }));
  return sources;
}

export function selectSources(config: Config, which: SourceName | 'all', hooks: SourceHooks = {}): SourceSync[] {
  const sources = configuredSources(config, hooks).filter((source) => which === 'all' || source.source === which);
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

/**
 * Runs each source in turn; PagerDuty first, so Jira tickets find the
 * incidents they refer to. Each source runs under its advisory lock: when
 * another process is syncing it, a manual sync waits and a scheduled one
 * skips that source (and returns no summary for it).
 */
export async function runSync(
  db: Kysely<Database>,
  sources: SourceSync[],
  request: SyncRequest,
  logger: Logger,
  whenBusy: WhenBusy = 'wait',
): Promise<SyncSummary[]> {
  const summaries: SyncSummary[] = [];
  for (const source of sources) {
    const locked = await withSourceLock(db, source.source, { whenBusy, logger, signal: request.signal }, () =>
      source.run(db, request, logger),
    );
    if (locked.acquired) summaries.push(locked.value);
  }
  return summaries;
}
