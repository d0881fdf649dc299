import type { Kysely } from 'kysely';
import type { Database, SyncMode } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import type { SyncCounts } from './store.ts';

/**
 * One configured account of a source kind (README.md `sources:`): its
 * name keys its row in `sources`, its checkpoints, its sync lock, its
 * freshness, its webhook route and its /metrics label.
 */
export interface SourceAccount {
  /** Unique among the configured accounts. */
  name: string;
  /** The registered kind (sources/registry.ts). */
  kind: string;
  /** The API or site URL, kept in `sources.base_url`. */
  baseUrl: string;
}

/** Reports how far a sync has come; the CLI draws it on a terminal or logs it. */
export interface ProgressSink {
  update(stage: string, done: number, total?: number): void;
}

export interface SyncRequest {
  mode: Exclude<SyncMode, 'webhook'>;
  /** Start of a backfill (`--since`); for `full`, the configured history start. */
  since?: Date;
  /** Also re-read the whole history for changes its timeline never recorded (`--reconcile`, serve's daily run). */
  reconcile?: boolean;
  signal?: AbortSignal;
  progress?: ProgressSink;
}

export interface SyncSummary extends SyncCounts {
  /** The account's name. */
  source: string;
  kind: string;
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
 * One account's sync: walks its streams from their checkpoints, maps and
 * upserts, records a sync run. A kind builds it from its registry entry.
 */
export interface SourceSync {
  readonly account: SourceAccount;
  run(db: Kysely<Database>, request: SyncRequest, logger: Logger): Promise<SyncSummary>;
}
