import { sql, type Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Database } from './schema.ts';

/**
 * Caches the figures of the ended periods (every day, ISO week, month and
 * year since the first incident) in the configured zone, so that readers, who may
 * not write, find them there and sum any range from them
 * (lens.refresh_closed_periods in sql/lens/88_closed_periods.sql).
 * Called after each sync and when serve starts; returns how many periods it
 * computed, none when the cache was current.
 */
export async function refreshClosedPeriods(
  db: Kysely<Database>,
  config: Pick<Config, 'timezone'>,
  logger?: Logger
): Promise<number> {
  const started = performance.now();
  const written = await db.transaction().execute(async (trx) => {
    // The first fill of a large database computes every period: longer than the pool's statement timeout.
    await sql`SET LOCAL statement_timeout = '15min'`.execute(trx);
    const result = await sql<{
      written: number;
    }>`SELECT lens.refresh_closed_periods(${config.timezone}) AS written`.execute(trx);
    return result.rows[0]!.written;
  });
  if (written > 0) {
    logger?.info(
      { periods: written, ms: Math.round(performance.now() - started) },
      'cached the figures of closed periods'
    );
  }
  return written;
}
