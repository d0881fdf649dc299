import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  generateJiraHistory,
  generatePagerDutyHistory,
  startFakeJira,
  startFakePagerDuty,
  type PagerDutyHistory,
} from '@incident-lens/simulators';
import { sql, type Kysely } from 'kysely';
import type { CommandContext } from '../cli.ts';
import { refreshClosedPeriods } from '../db/closed-periods.ts';
import type { DatabaseHandle } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import { createProgress } from '../progress.ts';
import { localDay, previousPeriodDay } from '../report/periods.ts';
import { renderReport } from '../report/render-report.ts';
import { normaliseSeverity } from '../severity.ts';
import { JiraSync, jiraSyncOptions } from '../sources/jira/sync.ts';
import { PagerDutySync } from '../sources/pagerduty/sync.ts';

export const DEMO_SEED = 20_261_122;
export const DEMO_INCIDENTS = 2_400;
/** The demo's own accounts, apart from any configured one. */
export const DEMO_PAGERDUTY_KEY = 'demo-pagerduty';
export const DEMO_JIRA_KEY = 'demo-jira';

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
  const pagerduty = await startFakePagerDuty({ history, token });
  const site = generateJiraHistory({
    seed: DEMO_SEED,
    end,
    severity: (priority, urgency) => normaliseSeverity(priority, urgency, context.config.severity),
    pagerduty: { incidents: history.expectedFacts(), subdomain: history.subdomain },
  });
  const jiraEmail = 'demo@incident-lens.invalid';
  const jiraToken = randomBytes(16).toString('hex');
  const jira = await startFakeJira({ history: site, email: jiraEmail, apiToken: jiraToken });
  stdout.write(
    `Simulated PagerDuty on ${pagerduty.url}: ${history.incidentCount} incidents, ${history.logEntryCount} log entries, ` +
      `${start.toISOString().slice(0, 10)} to ${end.toISOString().slice(0, 10)}\n` +
      `Simulated Jira Cloud on ${jira.url}: incident tickets, post-mortems and action items\n`
  );
  try {
    await removeDemoData(db);
    const progress = createProgress(logger);
    const pagerdutySync = new PagerDutySync({
      apiUrl: pagerduty.url,
      token,
      historyStart: start,
      severity: context.config.severity,
      name: DEMO_PAGERDUTY_KEY,
    });
    const pagerdutySummary = await pagerdutySync.run(db, { mode: 'full', signal: context.signal, progress }, logger);
    const jiraSync = new JiraSync(
      jiraSyncOptions(context.config, {
        name: DEMO_JIRA_KEY,
        baseUrl: jira.url,
        email: jiraEmail,
        apiToken: jiraToken,
        siteUrl: 'https://acme.atlassian.net',
        historyStart: start,
        requestsPerMinute: 60_000,
      })
    );
    const jiraSummary = await jiraSync.run(db, { mode: 'full', signal: context.signal, progress }, logger);
    progress.done();
    // As after `sync`: a report (read-only, it cannot fill the cache) then finds the closed periods computed.
    await refreshClosedPeriods(db, context.config, logger);
    for (const summary of [pagerdutySummary, jiraSummary]) {
      stdout.write(
        `Synced ${summary.source} through its real client: ${summary.recordsUpserted} records, ${summary.eventsUpserted} timeline events, ` +
          `${summary.quarantined} quarantined, ${summary.requests} API requests, ${(summary.durationMs / 1000).toFixed(1)} s\n`
      );
    }
    stdout.write('\n');
    stdout.write(await ingestTable(db, pagerdutySummary.sourceId));
    stdout.write(await jiraLinkLine(db, jiraSummary.sourceId));
    stdout.write(await verifyAgainstTruth(db, pagerdutySummary.sourceId, history));
    stdout.write(await monthlyReports(handle, context));
  } finally {
    await pagerduty.stop();
    await jira.stop();
  }
}

/** The last full month's report: Markdown to the terminal, HTML for leadership under the data directory. */
async function monthlyReports(handle: DatabaseHandle, context: CommandContext): Promise<string> {
  const { config } = context;
  const asOf = new Date();
  const month = previousPeriodDay('month', localDay(asOf, config.timezone)).slice(0, 7);
  const options = { granularity: 'month' as const, date: month, timezone: config.timezone, asOf };
  const markdown = await renderReport(handle.db, config, { ...options, format: 'md' });
  const html = await renderReport(handle.db, config, { ...options, format: 'html' });
  const directory = path.join(config.dataDir, 'reports');
  await mkdir(directory, { recursive: true });
  const file = path.join(directory, `incident-report-${month}.html`);
  await writeFile(file, html);
  return `\n${markdown}\nHTML report for ${month}: ${file}\n`;
}

/**
 * The demo owns its sources: a rerun starts from empty copies of them. Jira
 * rows point at PagerDuty incidents, so Jira's go first.
 */
async function removeDemoData(db: Kysely<Database>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const key of [DEMO_JIRA_KEY, DEMO_PAGERDUTY_KEY]) {
      const source = await trx.selectFrom('sources').select('id').where('name', '=', key).executeTakeFirst();
      if (!source) {
        continue;
      }
      await sql`UPDATE incidents SET jira_issue_key = NULL, jira_url = NULL WHERE jira_issue_key IS NOT NULL AND source_id = ${source.id}`.execute(
        trx
      );
      for (const table of ['action_items', 'postmortems', 'incident_events', 'incidents'] as const) {
        await trx.deleteFrom(table).where('source_id', '=', source.id).execute();
      }
      await sql`DELETE FROM jira_issues WHERE source_id = ${source.id}`.execute(trx);
      for (const table of ['services', 'teams', 'sync_checkpoints', 'ingest_errors', 'sync_runs'] as const) {
        await trx.deleteFrom(table).where('source_id', '=', source.id).execute();
      }
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
  return (
    ['Incidents ingested per month (UTC) and severity:', format(header), ...lines.map(format), ''].join('\n') + '\n'
  );
}

/** What Jira added: tickets attached to PagerDuty incidents, post-mortems and action items. */
async function jiraLinkLine(db: Kysely<Database>, jiraSourceId: number): Promise<string> {
  const row = await sql<{
    attached: number;
    own: number;
    postmortems: number;
    linked_postmortems: number;
    items: number;
    linked_items: number;
  }>`
    SELECT (SELECT count(*) FROM incidents WHERE jira_issue_key IS NOT NULL AND source_id <> ${jiraSourceId})::int AS attached,
           (SELECT count(*) FROM incidents WHERE source_id = ${jiraSourceId})::int AS own,
           (SELECT count(*) FROM postmortems WHERE source_id = ${jiraSourceId})::int AS postmortems,
           (SELECT count(*) FROM postmortems p WHERE source_id = ${jiraSourceId}
              AND EXISTS (SELECT 1 FROM postmortem_incidents l WHERE l.postmortem_id = p.id))::int AS linked_postmortems,
           (SELECT count(*) FROM action_items WHERE source_id = ${jiraSourceId})::int AS items,
           (SELECT count(*) FROM action_items WHERE source_id = ${jiraSourceId} AND (incident_id IS NOT NULL OR postmortem_id IS NOT NULL))::int AS linked_items`.execute(
    db
  );
  const counts = row.rows[0]!;
  return (
    `Jira: ${counts.attached} incident tickets attached to their PagerDuty incidents, ${counts.own} Jira-only incidents, ` +
    `${counts.postmortems} post-mortems (${counts.linked_postmortems} linked), ${counts.items} action items (${counts.linked_items} linked)\n`
  );
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
      `the sync disagrees with the simulator: ${mismatches} of ${facts.length} incidents differ, ${stored.length} stored`
    );
  }
  return `Checked: all ${facts.length} stored incidents match the simulator's first-ack and resolve times.\n`;
}
