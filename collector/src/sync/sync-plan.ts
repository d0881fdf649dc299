import type { Kysely, Transaction } from 'kysely';
import type { Database, SyncMode } from '../db/schema.ts';
import { InterruptedError } from '../errors.ts';
import { chunkWindow, readAhead, type TimeWindow } from '../http/paging.ts';
import type { Logger } from '../logger.ts';
import { BatchWriter, type BatchAdapter } from './batch-writer.ts';
import type { SourceAccount, SyncRequest, SyncSummary } from './source.ts';
import { advanceCheckpoint, ensureSource, readCheckpoint, type SyncCounts } from './store.ts';
import { recordSyncRun } from './sync-run.ts';

/** When a reconciliation last compared the whole history with the source. */
export const RECONCILED_CHECKPOINT = 'reconciled';

/**
 * Pages read ahead of the writes: 50 pages of 100 are a batch (a PagerDuty
 * flush is 5,000 records), so the requests go on at the rate limit while one
 * is written, and a few MB of JSON wait at most.
 */
const READ_AHEAD_PAGES = 50;

/** A page a stream read, with what progress shows of it. */
export interface StreamPage<Page> {
  page: Page;
  /** Records in the page, for progress. */
  size: number;
  /** What is being read, e.g. `incidents to 2026-03-31`; counting restarts when it changes. */
  stage: string;
  /** Records the current stage holds in all, when the API says. */
  total?: number;
}

/**
 * One thing a source reads by time with a checkpoint of its own: what to
 * fetch, not how to walk it (Airbyte's declarative streams).
 */
export interface SyncStream<Page> {
  /** Its checkpoint's name in `sync_checkpoints`. */
  checkpoint: string;
  /** Re-read this much before the checkpoint: records become visible a little after their timestamp. */
  overlapMs: number;
  /** Longest window one read covers; the range is cut into windows of at most this many days. */
  maxWindowDays?: number;
  /** The pages of one window; `mode` is the mode that actually runs. */
  read(window: TimeWindow, mode: Exclude<SyncMode, 'webhook'>): AsyncIterable<StreamPage<Page>>;
  /** Where the checkpoint may move once the window is written; default its end. */
  checkpointAfter?(window: TimeWindow): Date;
  /**
   * A stream that re-reads a range of its own every run (a reconciliation)
   * rather than resuming from a checkpoint: the range for this run, or
   * null when this run reads nothing. Such a stream keeps no checkpoint.
   */
  range?(
    request: Pick<SyncRequest, 'reconcile'> & { mode: Exclude<SyncMode, 'webhook'> },
    until: Date
  ): TimeWindow | null;
}

/** Everything a source kind tells the skeleton about one sync of one account. */
export interface SyncPlan<Page, Unit> {
  account: SourceAccount;
  /** Read in this order. */
  streams: Array<SyncStream<Page>>;
  batch: BatchAdapter<Page, Unit>;
  /** Records buffered before a write; 0 writes every page in a transaction of its own. */
  flushRecords: number;
  /** First instant of history for a full sync. */
  historyStart: Date;
  /** The sync's notion of now (tests pin it). */
  now?: () => Date;
  /** Requests the account's client has sent so far. */
  requestCount(): number;
  /** Before the first read (what the site tells about itself). */
  prepare?(): Promise<void>;
  /**
   * After every stream is written and before `finish`, outside any
   * transaction: what a reconciliation reads of the source to compare with
   * what is stored; `finish` applies it.
   */
  compare?(sourceId: number): Promise<void>;
  /**
   * After every stream is read, in the transaction that moves the
   * checkpoints (link resolution over everything stored). Without it, each
   * window's checkpoint moves as soon as the window is written.
   */
  finish?(trx: Transaction<Database>): Promise<void>;
}

/**
 * The sync skeleton every source runs: resolves the mode and each stream's
 * window from its checkpoint (less the overlap), walks the windows page by
 * page with the pages read ahead of the writes, buffers and flushes batches (a record
 * PostgreSQL refuses is quarantined alone), stops between pages when asked,
 * reports progress, moves the checkpoints and records the sync run.
 */
export async function runSyncPlan<Page, Unit>(
  db: Kysely<Database>,
  plan: SyncPlan<Page, Unit>,
  request: SyncRequest,
  logger: Logger
): Promise<SyncSummary> {
  const sourceId = await ensureSource(db, plan.account);
  const until = floorToSecond(plan.now?.() ?? new Date());

  const starts = new Map<SyncStream<Page>, Date>();
  let checkpointed = 0;
  const resumed = plan.streams.filter((stream) => !stream.range);
  for (const stream of resumed) {
    const checkpoint =
      request.mode === 'incremental' ? await readCheckpoint(db, sourceId, stream.checkpoint) : undefined;
    if (checkpoint) {
      checkpointed += 1;
    }
    starts.set(
      stream,
      checkpoint ? new Date(checkpoint.getTime() - stream.overlapMs) : (request.since ?? plan.historyStart)
    );
  }
  const mode: Exclude<SyncMode, 'webhook'> =
    request.mode === 'incremental' && checkpointed === 0 ? 'full' : request.mode;
  const windowStart = new Date(Math.min(...[...starts.values()].map((start) => start.getTime()), until.getTime()));

  let writer: BatchWriter<Page, Unit> | undefined;
  let finishMs = 0;
  return recordSyncRun(
    db,
    {
      account: plan.account,
      sourceId,
      mode,
      windowStart,
      windowEnd: until,
      requestCount: () => plan.requestCount(),
      writeMs: () => (writer?.writeMs ?? 0) + finishMs,
    },
    logger,
    async (runId, counts: SyncCounts) => {
      await plan.prepare?.();
      writer = new BatchWriter(db, sourceId, runId, plan.batch, counts, plan.flushRecords);
      const deferred: Array<[string, Date]> = [];
      for (const stream of plan.streams) {
        const range = stream.range
          ? stream.range({ mode, reconcile: request.reconcile }, until)
          : { since: starts.get(stream)!, until };
        if (!range) {
          continue;
        }
        let stage = '';
        let done = 0;
        const windows = chunkWindow(range, stream.maxWindowDays);
        for await (const item of readAhead(readWindows(stream, windows, mode), READ_AHEAD_PAGES)) {
          if (request.signal?.aborted) {
            throw new InterruptedError();
          }
          if ('read' in item) {
            const { read } = item;
            await writer.add(read.page);
            if (read.stage !== stage) {
              [stage, done] = [read.stage, 0];
            }
            done += read.size;
            request.progress?.update(read.stage, done, read.total);
            continue;
          }
          // The window is read (the next one may be under way): its checkpoint moves once it is written.
          await writer.flush();
          if (stream.range) {
            continue;
          }
          if (plan.finish) {
            deferred.push([stream.checkpoint, item.position]);
          } else {
            await advanceCheckpoint(db, sourceId, stream.checkpoint, item.position);
          }
        }
      }
      // A full sync's run row says as much; serve reconciles when both grow old.
      if (request.reconcile && mode !== 'full') {
        deferred.push([RECONCILED_CHECKPOINT, until]);
      }
      await plan.compare?.(sourceId);
      if (plan.finish) {
        const started = performance.now();
        await db.transaction().execute(async (trx) => {
          await plan.finish!(trx);
          for (const [checkpoint, position] of deferred) {
            await advanceCheckpoint(trx, sourceId, checkpoint, position);
          }
        });
        finishMs = performance.now() - started;
      } else {
        for (const [checkpoint, position] of deferred) {
          await advanceCheckpoint(db, sourceId, checkpoint, position);
        }
      }
    }
  );
}

/** What a stream's read yields: its pages, window after window, each window closed by where its checkpoint may move. */
type WindowItem<Page> = { read: StreamPage<Page> } | { position: Date };

async function* readWindows<Page>(
  stream: SyncStream<Page>,
  windows: TimeWindow[],
  mode: Exclude<SyncMode, 'webhook'>
): AsyncGenerator<WindowItem<Page>> {
  for (const window of windows) {
    for await (const read of stream.read(window, mode)) {
      yield { read };
    }
    // Where the checkpoint may move, as of the window's last page: before any page of the next window is read.
    yield { position: stream.checkpointAfter?.(window) ?? window.until };
  }
}

export function floorToSecond(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}
