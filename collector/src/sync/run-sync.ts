import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import { createSyncs, selectAccounts, type SourceHooks } from '../sources/registry.ts';
import type { SourceSync, SyncRequest, SyncSummary } from './source.ts';
import { RECONCILED_CHECKPOINT } from './sync-plan.ts';
import { ensureSource, readCheckpoint } from './store.ts';
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
  whenBusy: WhenBusy = 'wait'
): Promise<SyncSummary[]> {
  const summaries: SyncSummary[] = [];
  for (const source of sources) {
    const locked = await withSourceLock(
      db,
      source.account,
      { whenBusy, logger, signal: request.signal },
      async (lockLost) => {
        await settleAbandonedRuns(db, source.account, logger);
        const signal = request.signal ? AbortSignal.any([request.signal, lockLost]) : lockLost;
        return source.run(db, { ...request, signal }, logger);
      }
    );
    if (locked.acquired) {
      summaries.push(locked.value);
    }
  }
  return summaries;
}

/** How often `serve` reconciles an account with its source. */
export const RECONCILE_EVERY_MS = 24 * 3_600_000;

/**
 * Whether the account's last reconciliation or full sync (each compared the
 * whole history with the source) is a day old or never ran: serve's daily
 * reconciliation.
 */
export async function reconcileDue(db: Kysely<Database>, source: SourceSync, now = new Date()): Promise<boolean> {
  const sourceId = await ensureSource(db, source.account);
  const reconciled = await readCheckpoint(db, sourceId, RECONCILED_CHECKPOINT);
  const full = await db
    .selectFrom('sync_runs')
    .select((eb) => eb.fn.max('finished_at').as('at'))
    .where('source_id', '=', sourceId)
    .where('mode', '=', 'full')
    .where('outcome', '=', 'succeeded')
    .executeTakeFirst();
  const last = Math.max(reconciled?.getTime() ?? 0, full?.at ? new Date(full.at).getTime() : 0);
  return now.getTime() - last >= RECONCILE_EVERY_MS;
}
