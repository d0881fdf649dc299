import { sql, type Kysely } from 'kysely';
import type { Database, SyncMode } from '../db/schema.ts';
import { InterruptedError, errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { SourceAccount, SyncSummary } from './source.ts';
import { finishSyncRun, startSyncRun, type SyncCounts } from './store.ts';

export interface SyncRunSpec {
  account: SourceAccount;
  sourceId: number;
  mode: SyncMode;
  windowStart: Date;
  windowEnd: Date;
  /** Requests the source's client has sent so far. */
  requestCount: () => number;
  /** Time the source spent mapping and writing, once the work is done. */
  writeMs: () => number;
}

/**
 * The life of one sync run, the same for every source: a `sync_runs` row
 * opened before the work and closed after it as succeeded, failed or
 * interrupted, with its counts and error, and the summary logged.
 */
export async function recordSyncRun(
  db: Kysely<Database>,
  spec: SyncRunSpec,
  logger: Logger,
  work: (runId: number, counts: SyncCounts) => Promise<void>
): Promise<SyncSummary> {
  const started = performance.now();
  const runId = await startSyncRun(db, spec.sourceId, spec.mode, spec.windowStart);
  const counts: SyncCounts = { requests: 0, recordsUpserted: 0, eventsUpserted: 0, quarantined: 0 };
  logger.info(
    {
      source: spec.account.name,
      kind: spec.account.kind,
      mode: spec.mode,
      since: spec.windowStart.toISOString(),
      until: spec.windowEnd.toISOString(),
    },
    'sync started'
  );
  try {
    await work(runId, counts);
    counts.requests = spec.requestCount();
    await finishSyncRun(db, runId, 'succeeded', counts, spec.windowEnd, null);
  } catch (error) {
    counts.requests = spec.requestCount();
    const interrupted = error instanceof InterruptedError;
    await finishSyncRun(db, runId, interrupted ? 'interrupted' : 'failed', counts, null, errorMessage(error));
    throw error;
  }
  const summary: SyncSummary = {
    source: spec.account.name,
    kind: spec.account.kind,
    sourceId: spec.sourceId,
    runId,
    mode: spec.mode,
    windowStart: spec.windowStart,
    windowEnd: spec.windowEnd,
    durationMs: Math.round(performance.now() - started),
    writeMs: Math.round(spec.writeMs()),
    ...counts,
  };
  logger.info({ ...summary }, 'sync finished');
  return summary;
}

/**
 * Runs of a source still marked running when its sync lock is free were left
 * by a process that died (kill -9, out of memory, power loss): the holder of
 * the lock is the only process that can be running one. They are closed as
 * interrupted; their checkpoints are where the next run resumes.
 */
export async function settleAbandonedRuns(db: Kysely<Database>, account: SourceAccount, logger: Logger): Promise<void> {
  const settled = await db
    .updateTable('sync_runs')
    .set({
      outcome: 'interrupted',
      finished_at: sql`now()`,
      error: 'the process running this sync ended without finishing it (killed or crashed)',
    })
    .where('outcome', '=', 'running')
    .where('source_id', 'in', db.selectFrom('sources').select('id').where('name', '=', account.name))
    .returning('id')
    .execute();
  if (settled.length > 0) {
    logger.warn(
      { source: account.name, runs: settled.map((run) => run.id) },
      'sync runs left running by a process that died are marked interrupted'
    );
  }
}
