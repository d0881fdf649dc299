import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { quarantine, relaxDurability, type QuarantinedRecord, type SyncCounts } from './store.ts';

/** What one write of a batch stored, and the records it found it cannot store. */
export interface WriteResult {
  records: number;
  events: number;
  rejected: QuarantinedRecord[];
}

/**
 * A source's side of the batch flush: it maps pages into its buffer, turns
 * the buffer into write units (records a transaction can store on their
 * own), and writes units. The flush, the transactions and the quarantine of
 * records PostgreSQL refuses are the same for every source.
 */
export interface BatchAdapter<Page, Unit> {
  /** Maps a page into the buffer; records the mapper refuses are kept for the quarantine. */
  add(page: Page): void;
  /** Records buffered. */
  readonly buffered: number;
  /** Empties the buffer into write units, in write order, and the records refused so far. */
  take(sourceId: number): Promise<{ units: Unit[]; rejected: QuarantinedRecord[] }>;
  write(trx: Transaction<Database>, sourceId: number, units: Unit[]): Promise<WriteResult>;
  /** The unit as it is kept in ingest_errors when PostgreSQL refuses it. */
  refused(unit: Unit, reason: string): QuarantinedRecord;
}

/**
 * SQLSTATE classes that say a value cannot be stored (22 data exception:
 * a NUL in text, a timestamp out of range, a number too large; 23 integrity
 * constraint; 54 program limit: a key too large for its index). Anything
 * else (a lost connection, a deadlock) is not the record's fault.
 */
const RECORD_FAULT_CLASSES = new Set(['22', '23', '54']);

export function isRecordFault(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 && RECORD_FAULT_CLASSES.has(code.slice(0, 2));
}

/**
 * Buffers mapped pages and writes them in one transaction per batch. When
 * PostgreSQL refuses a batch for a value in it, the batch is written again
 * in halves, down to the one unit at fault, which is quarantined with the
 * database's reason; the rest lands, and the sync goes on. A failed or
 * interrupted sync never leaves half a batch.
 */
export class BatchWriter<Page, Unit> {
  /** Time spent taking, writing and quarantining. */
  writeMs = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sourceId: number,
    private readonly runId: number | null,
    private readonly adapter: BatchAdapter<Page, Unit>,
    private readonly counts: SyncCounts,
    /** Records buffered before a write; 0 writes every page on its own. */
    private readonly flushRecords: number
  ) {}

  async add(page: Page): Promise<void> {
    const started = performance.now();
    this.adapter.add(page);
    this.writeMs += performance.now() - started;
    if (this.adapter.buffered >= this.flushRecords) {
      await this.flush();
    }
  }

  async flush(): Promise<void> {
    if (this.adapter.buffered === 0) {
      return;
    }
    const started = performance.now();
    const { units, rejected } = await this.adapter.take(this.sourceId);
    await this.writeUnits(units, rejected);
    this.writeMs += performance.now() - started;
  }

  private async writeUnits(units: Unit[], rejected: QuarantinedRecord[]): Promise<void> {
    try {
      await this.commit(units, rejected);
    } catch (error) {
      if (!isRecordFault(error) || units.length === 0) {
        throw error;
      }
      if (units.length === 1) {
        const reason = `PostgreSQL refused the record: ${error.message} (SQLSTATE ${error.code})`;
        await this.commit([], [...rejected, this.adapter.refused(units[0]!, reason)]);
        return;
      }
      const middle = Math.floor(units.length / 2);
      await this.writeUnits(units.slice(0, middle), rejected);
      await this.writeUnits(units.slice(middle), []);
    }
  }

  private async commit(units: Unit[], rejected: QuarantinedRecord[]): Promise<void> {
    const result = await this.db.transaction().execute(async (trx) => {
      await relaxDurability(trx);
      const written =
        units.length > 0
          ? await this.adapter.write(trx, this.sourceId, units)
          : { records: 0, events: 0, rejected: [] };
      const quarantined = [...rejected, ...written.rejected];
      await quarantine(trx, this.sourceId, this.runId, quarantined);
      return { ...written, quarantined: quarantined.length };
    });
    // Counted once committed: a batch written again in halves counts its records once.
    this.counts.recordsUpserted += result.records;
    this.counts.eventsUpserted += result.events;
    this.counts.quarantined += result.quarantined;
  }
}
