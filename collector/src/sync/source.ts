import type { Kysely } from 'kysely';
import type { Database, SyncMode } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import type { SyncCounts } from './store.ts';

/** Reports how far a sync has come; the CLI draws it on a terminal or logs it. */
export interface ProgressSink {
  update(stage: string, done: number, total?: number): void;
}

export interface SyncRequest {
  mode: Exclude<SyncMode, 'webhook'>;
  /** Start of a backfill (`--since`); for `full`, the configured history start. */
  since?: Date;
  signal?: AbortSignal;
  progress?: ProgressSink;
}

export interface SyncSummary extends SyncCounts {
  source: 'pagerduty' | 'jira';
  sourceId: number;
  runId: number;
  /** What actually ran: an incremental sync with no checkpoint yet is a full one. */
  mode: SyncMode;
  windowStart: Date;
  windowEnd: Date;
  durationMs: number;
  /** Time spent mapping and writing to the database, the rest being the API. */
  writeMs: number;
}

/**
 * A source adapter's sync: walks its windows from the checkpoint, maps and
 * upserts, records a sync run. Adding a source means adding one of these.
 */
export interface SourceSync {
  readonly source: 'pagerduty' | 'jira';
  run(db: Kysely<Database>, request: SyncRequest, logger: Logger): Promise<SyncSummary>;
}
