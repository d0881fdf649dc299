import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import { createSyncs, selectAccounts, type SourceHooks } from '../sources/registry.ts';
import type { SourceSync, SyncRequest, SyncSummary } from './source.ts';
import { withSourceLock, type WhenBusy } from './source-lock.ts';
import { settleAbandonedRuns } from './sync-run.ts';

/** The syncs of the accounts `which` names (all, an account, or a kind), in sync order. */
export function selectSources(config: Config, which: string, hooks: SourceHooks = {}): SourceSync[] {
  return createSyncs(selectAccounts(config.sources, which), config, hooks);
}

/**
 * Runs each account's sync in turn, in registry order (PagerDuty first, so
 * Jira tickets find the incidents they refer to). Each runs under its
 * account's advisory lock: when another process is syncing it, a manual
 * sync waits and a scheduled one skips that account (and returns no
 * summary for it).
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
    const locked = await withSourceLock(db, source.account, { whenBusy, logger, signal: request.signal }, async (lockLost) => {
      await settleAbandonedRuns(db, source.account, logger);
      const signal = request.signal ? AbortSignal.any([request.signal, lockLost]) : lockLost;
      return source.run(db, { ...request, signal }, logger);
    });
    if (locked.acquired) summaries.push(locked.value);
  }
  return summaries;
}
