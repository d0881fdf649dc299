import type { Kysely } from 'kysely';
import type { Database } from '../../collector/src/db/schema.ts';
import { generatePagerDutyHistory, type PagerDutyHistory, startFakePagerDuty } from '@incident-lens/simulators';
import { createLogger } from '../../collector/src/logger.ts';
import { PagerDutySync } from '../../collector/src/sources/pagerduty/sync.ts';

/**
 * Fills a database the way a user's would be filled: a seeded PagerDuty
 * history served by the PagerDuty-compatible server and read by the real
 * sync, as of `end`.
 */
export async function syncSimulatedPagerDuty(
  db: Kysely<Database>,
  options: { seed: number; start: Date; end: Date; incidents: number; accountName?: string }
): Promise<PagerDutyHistory> {
  const history = generatePagerDutyHistory(options);
  const server = await startFakePagerDuty({ history, token: 't', rateLimitPerMinute: 1_000_000 });
  try {
    await new PagerDutySync({
      name: options.accountName,
      apiUrl: server.url,
      token: 't',
      requestsPerMinute: 1_000_000,
      historyStart: options.start,
      severity: { map: {}, fromUrgency: {} },
      now: () => options.end,
    }).run(db, { mode: 'full' }, createLogger('error'));
  } finally {
    await server.stop();
  }
  return history;
}
