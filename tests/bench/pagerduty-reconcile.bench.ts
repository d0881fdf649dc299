import { generatePagerDutyHistory, startFakePagerDuty } from '@incident-lens/simulators';
import { createKysely } from '../../collector/src/db/database.ts';
import { migrate } from '../../collector/src/db/migrate.ts';
import { createLogger } from '../../collector/src/logger.ts';
import { PD_RATE_LIMIT_PER_MINUTE } from '../../collector/src/sources/pagerduty/api-types.ts';
import { DEFAULT_RECONCILE_DAYS, PagerDutySync } from '../../collector/src/sources/pagerduty/sync.ts';
import { benchDatabase, figure } from './support.ts';

const DAY = 86_400_000;
/** The default `schedule.sync`: every five minutes. */
const SYNCS_PER_DAY = 288;

/**
 * The request cost of reconciliation for an account with `perDay` incidents
 * a day: what each incremental sync spends re-reading the last
 * `pagerduty.reconcileDays`, plus serve's daily reconciliation of a year of
 * history, as a share of PagerDuty's rate limit.
 */
export async function benchPagerDutyReconcile(
  perDay = Number(process.env.BENCH_INCIDENTS_PER_DAY ?? 300)
): Promise<void> {
  const days = 60;
  console.log(`\nPagerDuty reconciliation: ${perDay} incidents a day, ${days} days of history`);
  const end = new Date('2026-11-01T00:00:00Z');
  const start = new Date(end.getTime() - days * DAY);
  const history = generatePagerDutyHistory({ seed: 115, start, end, incidents: perDay * days });
  const token = 'bench-token';
  const server = await startFakePagerDuty({ history, token, rateLimitPerMinute: 100_000_000 });
  const database = await benchDatabase(`bench_reconcile_${Date.now()}`);
  const db = createKysely(database.url, 4);
  const logger = createLogger('warn');
  try {
    await migrate(db, logger);
    const sync = (now: Date) =>
      new PagerDutySync({
        apiUrl: server.url,
        token,
        requestsPerMinute: 100_000_000,
        historyStart: start,
        severity: { map: {}, fromUrgency: {} },
        now: () => now,
      });
    await sync(end).run(db, { mode: 'full' }, logger);
    const incremental = await sync(end).run(db, { mode: 'incremental' }, logger);
    const reconciled = await sync(end).run(db, { mode: 'incremental', reconcile: true }, logger);
    const perSync = incremental.requests;
    // A reconciliation lists the whole history's incidents where an incremental sync lists the last 30 days'.
    const perIncidentReconciled = (reconciled.requests - perSync) / (perDay * (days - DEFAULT_RECONCILE_DAYS));
    const yearly = Math.ceil(perIncidentReconciled * perDay * 365);
    const perDayTotal = perSync * SYNCS_PER_DAY + yearly;
    const limit = PD_RATE_LIMIT_PER_MINUTE * 1440;
    figure(
      `requests per incremental sync (timeline + last ${DEFAULT_RECONCILE_DAYS} days of incidents)`,
      String(perSync)
    );
    figure('requests of a daily reconciliation of a year of history', String(yearly));
    figure(`requests per day (${SYNCS_PER_DAY} syncs + 1 reconciliation)`, perDayTotal.toLocaleString('en'));
    figure(
      `share of the ${PD_RATE_LIMIT_PER_MINUTE}/min rate limit`,
      `${((perDayTotal / limit) * 100).toFixed(2)} %`,
      '< 5 %'
    );
  } finally {
    await db.destroy();
    await server.stop();
    await database.stop();
  }
}
