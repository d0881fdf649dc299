import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { CommandContext } from '../cli.ts';
import type { DatabaseHandle } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import { createProgress } from '../progress.ts';
import { PagerDutySync } from '../sources/pagerduty/sync.ts';
import { generatePagerDutyHistory, type PagerDutyHistory } from './pagerduty-history.ts';
import { startFakePagerDuty } from './pagerduty-server.ts';

export const DEMO_SEED = 20_261_122;
export const DEMO_INCIDENTS = 2_400;
export const DEMO_PAGERDUTY_KEY = 'demo://pagerduty';

/**
 * The history covers the twelve full months before the current one and the
 * current month up to today's UTC midnight, so a run is reproducible all day.
 */
export function demoWindow(now: Date): { start: Date; end: Date } {
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 12, 1));
  return { start, end };
}

/**
 * `incident-lens demo`: the real sync, against a simulated PagerDuty on
 * loopback, into the configured database.
 */
export async function runDemo(handle: DatabaseHandle, context: CommandContext): Promise<void> {
  const { db } = handle;
  const { logger, stdout } = context;
  const { start, end } = demoWindow(new Date());
  const history = generatePagerDutyHistory({ seed: DEMO_SEED, start, end, incidents: DEMO_INCIDENTS });
  const token = randomBytes(16).toString('hex');
  const server = await startFakePagerDuty({ history, token });
  stdout.write(
    `Simulated PagerDuty on ${server.url}: ${history.incidentCount} incidents, ${history.logEntryCount} log entries, ` +
      `${start.toISOString().slice(0, 10)} to ${end.toISOString().slice(0, 10)}\n`,
  );
  try {
    await removeDemoData(db);
    const sync = new PagerDutySync({
      apiUrl: server.url,
      token,
      historyStart: start,
      severity: context.config.severity,
      sourceKey: DEMO_PAGERDUTY_KEY,
    });
    const progress = createProgress(logger);
    const summary = await sync.run(db, { mode: 'full', signal: context.signal, progress }, logger);
    progress.done();
    stdout.write(
      `Synced through the real PagerDuty client: ${summary.recordsUpserted} incidents, ${summary.eventsUpserted} timeline events, ` +
        `${summary.quarantined} quarantined, ${summary.requests} API requests, ${(summary.durationMs / 1000).toFixed(1)} s\n\n`,
    );
    stdout.write(await ingestTable(db, summary.sourceId));
    stdout.write(await verifyAgainstTruth(db, summary.sourceId, history));
  } finally {
    await server.stop();
  }
}

/** The demo owns its source: a rerun starts from an empty copy of it. */
async function removeDemoData(db: Kysely<Database>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const source = await trx.selectFrom('sources').select('id').where('base_url', '=', DEMO_PAGERDUTY_KEY).executeTakeFirst();
    if (!source) return;
    for (const table of ['action_items', 'postmortems', 'incident_events', 'incidents', 'services', 'teams', 'sync_checkpoints', 'ingest_errors', 'sync_runs'] as const) {
      await trx.deleteFrom(table).where('source_id', '=', source.id).execute();
    }
  });
}

const SEVERITY_COLUMNS = ['SEV1', 'SEV2', 'SEV3', 'SEV4', 'UNKNOWN'] as const;

/** Incidents ingested per month and severity: what the sync stored, not a metric. */
async function ingestTable(db: Kysely<Database>, sourceId: number): Promise<string> {
  const rows = await sql<{ month: string; severity: string; incidents: number; merged: number; open: number }>`
    SELECT to_char(date_trunc('month', created_at AT TIME ZONE 'UTC'), 'YYYY-MM') AS month,
           severity,
           count(*)::int AS incidents,
           count(*) FILTER (WHERE merged)::int AS merged,
           count(*) FILTER (WHERE resolved_at IS NULL)::int AS open
    FROM incidents
    WHERE source_id = ${sourceId}
    GROUP BY 1, 2
    ORDER BY 1, 2`.execute(db);
  const months = new Map<string, Record<string, number>>();
  for (const row of rows.rows) {
    const month = months.get(row.month) ?? { total: 0, merged: 0, open: 0 };
    month[row.severity] = row.incidents;
    month.total! += row.incidents;
    month.merged! += row.merged;
    month.open! += row.open;
    months.set(row.month, month);
  }
  const header = ['month', ...SEVERITY_COLUMNS, 'total', 'merged', 'open'];
  const lines = [...months.entries()].map(([month, counts]) => [
    month,
    ...SEVERITY_COLUMNS.map((severity) => String(counts[severity] ?? 0)),
    String(counts.total),
    String(counts.merged),
    String(counts.open),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const format = (cells: string[]) => cells.map((cell, column) => cell.padStart(widths[column]!)).join('  ');
  return ['Incidents ingested per month (UTC) and severity:', format(header), ...lines.map(format), ''].join('\n') + '\n';
}

/** Compares what the sync stored with the simulator's ground truth. */
async function verifyAgainstTruth(db: Kysely<Database>, sourceId: number, history: PagerDutyHistory): Promise<string> {
  const stored = await db
    .selectFrom('incidents')
    .select(['external_id', 'acknowledged_at', 'resolved_at', 'merged'])
    .where('source_id', '=', sourceId)
    .execute();
  const byId = new Map(stored.map((row) => [row.external_id, row]));
  const iso = (date: Date | null) => (date ? date.toISOString() : null);
  const norm = (text: string | null) => (text ? new Date(text).toISOString() : null);
  let mismatches = 0;
  const facts = history.expectedFacts();
  for (const fact of facts) {
    const row = byId.get(fact.id);
    if (
      !row ||
      iso(row.acknowledged_at) !== norm(fact.firstAckAt) ||
      iso(row.resolved_at) !== norm(fact.resolvedAt) ||
      row.merged !== fact.merged
    ) {
      mismatches += 1;
    }
  }
  if (mismatches > 0 || stored.length !== facts.length) {
    throw new Error(
      `the sync disagrees with the simulator: ${mismatches} of ${facts.length} incidents differ, ${stored.length} stored`,
    );
  }
  return `Checked: all ${facts.length} stored incidents match the simulator's first-ack and resolve times.\n`;
}
