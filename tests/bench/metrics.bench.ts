import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { refreshClosedPeriods } from '../../collector/src/db/closed-periods.ts';
import { createKysely } from '../../collector/src/db/database.ts';
import { migrate } from '../../collector/src/db/migrate.ts';
import type { Database } from '../../collector/src/db/schema.ts';
import { createLogger } from '../../collector/src/logger.ts';
import { readReport } from '../../collector/src/metrics/report-data.ts';
import { parse as parseYaml } from 'yaml';
import { expandGrafanaMacros } from '../support/grafana-postgres.ts';
import {
  DATA_QUALITY_PAGE_SIZE,
  DATA_QUALITY_SUMMARY_SQL,
  INCIDENTS_WITHOUT_SEVERITY_SQL,
  MISSING_POSTMORTEMS_SQL,
  ACTION_ITEMS_WITHOUT_OWNER_OR_DUE_DATE_SQL,
  QUARANTINED_RECORDS_SQL,
  UNLINKED_JIRA_TICKETS_SQL,
  LAST_SYNCS_SQL,
} from '../../plugin/src/data/dataQualityQueries.ts';
import {
  ACTION_ITEMS_PAGE_SIZE,
  ACTION_ITEMS_SIZE_SQL,
  ACTION_ITEMS_SQL,
  CONNECTION_CHECK_SQL,
  INCIDENT_FILTER_OPTIONS_SQL,
  INCIDENTS_SQL,
  ONCALL_BANDS_SQL,
  ONCALL_SQL,
  OVERVIEW_BY_SEVERITY_SQL,
  OVERVIEW_SUMMARY_SQL,
  OVERVIEW_TRENDS_SQL,
  REPORT_DELIVERIES_SQL,
  REPORT_SQL,
  SLA_POLICY_SQL,
} from '../../plugin/src/data/queries.ts';
import {
  accountVariable,
  ALL_VALUE,
  interpolateSqlVariables,
  type SqlVariable,
} from '../../plugin/src/data/templateVariables.ts';
import { REPO_ROOT, benchDatabase, figure, median, percentile } from './support.ts';
import { localDay, previousPeriodDay } from '../../collector/src/report/periods.ts';

/**
 * Issue 3's benchmark: 1,000,000 incidents over five years (services and
 * teams, timelines, post-mortems, action items), then the median and p95
 * time of the monthly and daily JSON reports and of every SQL text the
 * provisioned dashboards run. BENCH_METRICS_DATABASE_URL reuses a database
 * already loaded by an earlier run.
 */
export async function benchMetrics(incidents = Number(process.env.BENCH_INCIDENTS ?? 1_000_000)): Promise<void> {
  console.log(`\nMetrics: ${incidents} incidents over 5 years`);
  const reuse = process.env.BENCH_METRICS_DATABASE_URL;
  const database = reuse
    ? { url: reuse, stop: async () => undefined }
    : await benchDatabase(`bench_metrics_${Date.now()}`);
  const db = createKysely(database.url, 4);
  try {
    await migrate(db, createLogger('warn'));
    const loaded = await sql<{ count: number }>`SELECT count(*) AS count FROM incidents`.execute(db);
    if (loaded.rows[0]!.count === 0) {
      const started = performance.now();
      await loadHistory(db, incidents);
      figure('history loaded (incl. facts and ANALYZE)', `${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    const onCallLoaded = await sql<{ count: number }>`SELECT count(*) AS count FROM notifications`.execute(db);
    if (onCallLoaded.rows[0]!.count === 0) {
      const started = performance.now();
      await loadOnCall(db);
      figure(
        'on-call data loaded (users, notifications, agents)',
        `${((performance.now() - started) / 1000).toFixed(1)} s`
      );
    }
    const counts = await sql<Record<string, number>>`
      SELECT (SELECT count(*) FROM incidents) AS incidents, (SELECT count(*) FROM incident_events) AS events,
             (SELECT count(*) FROM notifications) AS notifications,
             (SELECT count(*) FROM postmortems) AS postmortems, (SELECT count(*) FROM action_items) AS action_items`.execute(
      db
    );
    for (const [name, value] of Object.entries(counts.rows[0]!)) {
      figure(name, String(value));
    }

    const asOf = new Date();
    const month = previousPeriodDay('month', localDay(asOf, 'UTC')).slice(0, 7);
    const monthly = (date: string) => () =>
      readReport(db, { granularity: 'month', date, timezone: 'Europe/Berlin', asOf });
    // Reports only read the cache of closed periods; the collector fills it after each sync.
    await sql`DELETE FROM lens.period_rollup`.execute(db);
    await sql`DELETE FROM lens.oncall_rollup`.execute(db);
    // The on-call and noise figures alone (issue 11): their share of the report's time.
    const onCallReport = () =>
      sql`SELECT lens.oncall_report('month', p.period_start, p.period_end, ${asOf}, 'Europe/Berlin')
          FROM lens.period_bounds('month', ${`${month}-01`}::date, 'Europe/Berlin') p`.execute(db);
    await time('on-call + noise of the month, not cached', 1, onCallReport);
    await time('monthly report, closed periods not cached', 1, monthly(month), '< 300 ms');
    // The reports here run in Europe/Berlin, the dashboards and pages in UTC: both zones are cached.
    for (const timezone of ['Europe/Berlin', 'UTC']) {
      await time(`closed-period cache filled (${timezone}, empty)`, 1, () => refreshClosedPeriods(db, { timezone }));
    }
    await benchIngest(db);
    for (const timezone of ['Europe/Berlin', 'UTC']) {
      await time(`closed-period cache filled (${timezone}, after a sync)`, 1, () =>
        refreshClosedPeriods(db, { timezone })
      );
    }
    await time('on-call + noise of the month (cached)', 20, onCallReport, '< 50 ms more');
    await time('monthly report of a closed month (Europe/Berlin)', 20, monthly(month), '< 50 ms');
    // Its cost grows with the month: the name says how far into it the bench ran.
    const today = localDay(asOf, 'Europe/Berlin');
    await time(`monthly report of the running month (day ${Number(today.slice(8))})`, 10, monthly(today), '< 100 ms');
    await time('daily report (JSON, yesterday)', 20, () =>
      readReport(db, {
        granularity: 'day',
        date: new Date(asOf.getTime() - 86_400_000).toISOString().slice(0, 10),
        timezone: 'Europe/Berlin',
        asOf,
      })
    );

    // A page of the incident list by keyset: the first, and one half a million incidents deep.
    const deep = await sql<{ cursor: string }>`
      SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '/' || incident_id AS cursor
      FROM lens.incident_fact WHERE NOT merged ORDER BY created_at DESC, incident_id DESC OFFSET 500000 LIMIT 1`.execute(
      db
    );
    for (const [label, cursor] of [
      ['first page', ''],
      ['page 5,001', deep.rows[0]?.cursor ?? ''],
    ]) {
      await time(
        `incident list (5 y), ${label} of 100`,
        10,
        () =>
          sql`SELECT * FROM lens.incident_list(${new Date(asOf.getTime() - 1826 * 86_400_000)}, ${asOf}, ${asOf}, 'UTC',
                page_size => 100, page_after => ${cursor}, include_merged => false)`.execute(db),
        '< 50 ms, the same at any depth'
      );
    }

    await benchPagedLists(db, asOf);

    await benchQueries(db, [...dashboardQueries(), ...pageQueries(asOf), ...alertQueries()], asOf.getTime());
  } finally {
    await db.destroy();
    await database.stop();
  }
}

/**
 * The lists the app pages by keyset, over five years, each page as its page
 * asks for it (its SQL text): the first page, and page 501, which starts
 * after the page_cursor of the list's row 500 × the page size. The Data
 * quality page's two long lists; the Action items page's list with the done
 * items too (the open ones alone are some thirty pages).
 */
async function benchPagedLists(db: Kysely<Database>, asOf: Date): Promise<void> {
  const fiveYears = { from: asOf.getTime() - 1826 * 86_400_000, to: asOf.getTime() };
  const from = new Date(fiveYears.from);
  const zone = { timezone: { value: 'UTC' }, source: accountVariable(undefined) };
  const lists = [
    [
      'incidents without severity',
      INCIDENTS_WITHOUT_SEVERITY_SQL,
      sql`lens.incidents_without_severity(${from}, ${asOf}, ${asOf})`,
      DATA_QUALITY_PAGE_SIZE,
      zone,
    ],
    [
      'action items without owner/due',
      ACTION_ITEMS_WITHOUT_OWNER_OR_DUE_DATE_SQL,
      sql`lens.action_items_without_owner_or_due_date(${from}, ${asOf}, ${asOf}, 'UTC')`,
      DATA_QUALITY_PAGE_SIZE,
      zone,
    ],
    [
      'action items, open and done',
      ACTION_ITEMS_SQL,
      sql`lens.action_item_list(${from}, ${asOf}, ${asOf}, 'UTC', include_done => true)`,
      ACTION_ITEMS_PAGE_SIZE,
      { ...zone, include_done: { value: 'true' } },
    ],
  ] as const;
  for (const [name, text, list, pageSize, variables] of lists) {
    const deep = await sql<{ cursor: string }>`
      SELECT page_cursor AS cursor FROM ${list} OFFSET ${500 * pageSize - 1} LIMIT 1`.execute(db);
    for (const [label, cursor] of [
      ['first page', ''],
      ['page 501', deep.rows[0]?.cursor ?? ''],
    ] as const) {
      const query = expandGrafanaMacros(
        interpolateSqlVariables(text, { ...variables, page_after: { value: cursor } }),
        fiveYears
      );
      await time(
        `${name} (5 y), ${label} of ${pageSize}`,
        10,
        () => sql.raw(query).execute(db),
        '< 50 ms, the same at any depth'
      );
    }
  }
}

/** Median and p95 of `runs` runs; 'adaptive': ten, three when the first takes over a second, one over five. */
async function time(
  name: string,
  runs: number | 'adaptive',
  action: () => Promise<unknown>,
  target?: string
): Promise<void> {
  const samples: number[] = [];
  let wanted = runs === 'adaptive' ? 10 : runs;
  while (samples.length < wanted) {
    const started = performance.now();
    await action();
    samples.push(performance.now() - started);
    if (runs === 'adaptive' && samples[0]! > 1000) {
      wanted = samples[0]! > 5000 ? 1 : 3;
    }
  }
  const text =
    samples.length === 1
      ? `${samples[0]!.toFixed(1)} ms`
      : `${median(samples).toFixed(1)} / ${percentile(samples, 0.95).toFixed(1)} ms`;
  figure(name, text, target);
}

/**
 * What keeping the facts costs a sync: 20,000 incidents of the last days
 * written in batches of 500 (as a sync writes them, each with its log
 * entries), then written again unchanged (an incremental re-sync).
 */
async function benchIngest(db: Kysely<Database>): Promise<void> {
  const batches = 40;
  const size = 500;
  const write = (run: string) => async () => {
    for (let batch = 0; batch < batches; batch++) {
      await sql`
        INSERT INTO incidents (source_id, external_id, title, status, severity, service_id, team_id, created_at,
                               acknowledged_at, resolved_at, root_cause_key)
        SELECT 1, 'BENCH-' || n, 'Bench incident ' || n, 'resolved', 'SEV3', 1 + n % 40, 1 + n % 8,
               timestamptz '2026-01-01' + n * interval '17 seconds', timestamptz '2026-01-01' + n * interval '17 seconds' + interval '3 minutes',
               timestamptz '2026-01-01' + n * interval '17 seconds' + interval '2 hours', CASE WHEN n % 5 = 0 THEN 'cause-' || n % 40 END
        FROM generate_series(${batch * size}::integer, ${batch * size + size - 1}::integer) n
        ON CONFLICT (source_id, external_id) DO UPDATE SET
          status = excluded.status, acknowledged_at = excluded.acknowledged_at, resolved_at = excluded.resolved_at,
          root_cause_key = excluded.root_cause_key`.execute(db);
      if (run === 'first') {
        await sql`
          INSERT INTO incident_events (incident_id, source_id, external_id, type, raw_type, occurred_at)
          SELECT i.id, 1, i.external_id || '-' || k.kind, k.kind, k.kind || '_log_entry', i.created_at
          FROM incidents i CROSS JOIN (VALUES ('trigger'), ('acknowledge'), ('resolve')) AS k(kind)
          WHERE i.source_id = 1 AND i.external_id = ANY (${Array.from({ length: size }, (_, index) => `BENCH-${batch * size + index}`)})`.execute(
          db
        );
      }
    }
  };
  // A database reused from an earlier run starts without them again.
  await sql`DELETE FROM incidents WHERE source_id = 1 AND external_id LIKE 'BENCH-%'`.execute(db);
  for (const run of ['first', 'unchanged']) {
    const started = performance.now();
    await write(run)();
    const seconds = (performance.now() - started) / 1000;
    figure(
      `sync-like writes, ${run === 'first' ? 'new incidents + events' : 'unchanged re-sync'}`,
      `${((batches * size) / seconds).toFixed(0)} inc/s`
    );
  }
  await sql`ANALYZE incidents`.execute(db);
}

/** What a person waits for: one SQL text as Grafana sends it, for a time range. */
interface BenchQuery {
  /** dashboard, page or alert, and which panel, variable or page query. */
  name: string;
  /** The range it opens with; none for alert rules, whose SQL reads only now(). */
  defaultRange?: { from: string; to: string };
  sql: (range: { from: number; to: number }) => string;
}

/** Grafana's relative times as the dashboards and pages use them: now-30d, now+30d, now-12M/M, now/M. */
function relative(text: string, now: number): number {
  const match = /^now(?:([-+])(\d+)([dMh]))?(?:\/(M|d))?$/.exec(text);
  if (!match) {
    throw new Error(`unsupported relative time '${text}'`);
  }
  const date = new Date(now);
  if (match[2]) {
    const amount = Number(match[2]) * (match[1] === '-' ? -1 : 1);
    if (match[3] === 'M') {
      date.setUTCMonth(date.getUTCMonth() + amount);
    } else {
      date.setTime(date.getTime() + amount * (match[3] === 'd' ? 86_400_000 : 3_600_000));
    }
  }
  if (match[4] === 'M') {
    return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + (match[2] ? 0 : 1), 1) - (match[2] ? 0 : 1);
  }
  return date.getTime();
}

const ALL: SqlVariable = { value: ALL_VALUE, multi: true, includeAll: true, allValue: "'__all'" };

/** Every panel and query variable of the provisioned dashboards, at their saved variable values. */
function dashboardQueries(): BenchQuery[] {
  const folder = path.join(REPO_ROOT, 'provisioning/dashboards');
  const queries: BenchQuery[] = [];
  for (const file of readdirSync(folder).filter((name) => name.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(path.join(folder, file), 'utf8')) as {
      time: { from: string; to: string };
      panels: Array<{ title: string; targets?: Array<{ rawSql?: string }>; panels?: unknown[] }>;
      templating: {
        list: Array<{
          name: string;
          type: string;
          query?: string;
          multi?: boolean;
          includeAll?: boolean;
          allValue?: string;
          current?: { value?: string | string[] };
        }>;
      };
    };
    const variables: Record<string, SqlVariable> = {};
    for (const variable of dashboard.templating.list.filter((candidate) => candidate.type !== 'datasource')) {
      variables[variable.name] = {
        value: variable.current?.value ?? '',
        multi: variable.multi,
        includeAll: variable.includeAll,
        allValue: variable.allValue,
      };
    }
    const add = (title: string, rawSql: string) =>
      queries.push({
        name: `${file.replace(/\.json$/, '')}: ${title}`,
        defaultRange: dashboard.time,
        sql: (range) => expandGrafanaMacros(interpolateSqlVariables(rawSql, variables), range),
      });
    for (const variable of dashboard.templating.list.filter((candidate) => candidate.type === 'query')) {
      add(`$${variable.name}`, variable.query ?? '');
    }
    const walk = (panels: typeof dashboard.panels) => {
      for (const panel of panels) {
        for (const target of panel.targets ?? []) {
          if (target.rawSql) {
            add(panel.title, target.rawSql);
          }
        }
        walk((panel.panels ?? []) as typeof dashboard.panels);
      }
    };
    walk(dashboard.panels);
  }
  return queries;
}

/** The SQL each app page sends when it opens (plugin/src/pages), with its default range and filters at All. */
function pageQueries(asOf: Date): BenchQuery[] {
  const zone = { timezone: { value: 'UTC' }, source: accountVariable(undefined) };
  const pages: Array<[string, { from: string; to: string }, Record<string, string>, Record<string, SqlVariable>]> = [
    [
      'Overview',
      { from: 'now-90d', to: 'now' },
      { OVERVIEW_SUMMARY_SQL, OVERVIEW_BY_SEVERITY_SQL, OVERVIEW_TRENDS_SQL },
      zone,
    ],
    [
      'Incidents',
      { from: 'now-30d', to: 'now' },
      { INCIDENT_FILTER_OPTIONS_SQL, INCIDENTS_SQL },
      { ...zone, service: ALL, team: ALL, severity: ALL, status: ALL, page_after: { value: '' } },
    ],
    ['On-call', { from: 'now-30d', to: 'now' }, { ONCALL_SQL, ONCALL_BANDS_SQL }, zone],
    [
      'Action items',
      { from: 'now-90d', to: 'now+30d' },
      { ACTION_ITEMS_SIZE_SQL, ACTION_ITEMS_SQL },
      { ...zone, include_done: { value: 'false' }, page_after: { value: '' } },
    ],
    [
      'Data quality',
      { from: 'now-30d', to: 'now' },
      {
        DATA_QUALITY_SUMMARY_SQL,
        INCIDENTS_WITHOUT_SEVERITY_SQL,
        MISSING_POSTMORTEMS_SQL,
        ACTION_ITEMS_WITHOUT_OWNER_OR_DUE_DATE_SQL,
        QUARANTINED_RECORDS_SQL,
        UNLINKED_JIRA_TICKETS_SQL,
        LAST_SYNCS_SQL,
      },
      { ...zone, page_after: { value: '' } },
    ],
    [
      'Reports',
      { from: 'now-1h', to: 'now' },
      { REPORT_SQL },
      { ...zone, granularity: { value: 'month' }, date: { value: localDay(asOf, 'UTC') }, as_of: { value: 'now' } },
    ],
    ['SLA policy', { from: 'now-1h', to: 'now' }, { SLA_POLICY_SQL }, zone],
    ['Configuration', { from: 'now-1h', to: 'now' }, { REPORT_DELIVERIES_SQL, CONNECTION_CHECK_SQL }, zone],
  ];
  return pages.flatMap(([page, defaultRange, texts, variables]) =>
    Object.entries(texts).map(([constant, text]) => ({
      name: `page ${page}: ${constant.replace(/_SQL$/, '')}`,
      defaultRange,
      sql: (range: { from: number; to: number }) =>
        expandGrafanaMacros(interpolateSqlVariables(text, variables), range),
    }))
  );
}

/** The SQL queries of the provisioned alert rules (they read now(), no macro). */
function alertQueries(): BenchQuery[] {
  const file = parseYaml(readFileSync(path.join(REPO_ROOT, 'provisioning/alerting/rules.yaml'), 'utf8')) as {
    groups: Array<{ rules: Array<{ title: string; data: Array<{ model: { rawSql?: string } }> }> }>;
  };
  return file.groups.flatMap((group) =>
    group.rules.flatMap((rule) =>
      rule.data
        .filter((query) => query.model.rawSql)
        .map((query) => ({ name: `alert: ${rule.title}`, sql: () => query.model.rawSql! }))
    )
  );
}

/**
 * Each query for its default range and for the five years of the data set.
 * A query slower than a second is sampled three times, one slower than five once.
 */
async function benchQueries(db: Kysely<Database>, queries: BenchQuery[], now: number): Promise<void> {
  const fiveYears = { from: now - 1826 * 86_400_000, to: now };
  for (const query of queries) {
    const ranges: Array<[string, { from: number; to: number }]> = query.defaultRange
      ? [
          ['', { from: relative(query.defaultRange.from, now), to: relative(query.defaultRange.to, now) }],
          [' (5 y)', fiveYears],
        ]
      : [['', fiveYears]];
    for (const [suffix, range] of ranges) {
      const text = query.sql(range);
      await time(
        `${query.name}`.slice(0, 60 - suffix.length) + suffix,
        'adaptive',
        () => sql.raw(text).execute(db),
        '< 50 ms'
      );
    }
  }
}

/**
 * About two notifications per incident by sms, phone, push, email or an
 * unknown method, five minutes apart from its creation, to the users of
 * loadHistory.
 */
async function loadOnCall(db: Kysely<Database>): Promise<void> {
  await db.connection().execute(async (connection) => {
    await sql`SELECT setseed(0.7)`.execute(connection);
    await sql`SET statement_timeout = 0`.execute(connection);
    await sql`
      INSERT INTO notifications (source_id, external_id, incident_id, user_id, notified_at, method, channel_type)
      SELECT 1, 'N' || i.id || '-' || k, i.id, u.id, i.created_at + make_interval(secs => (k - 1) * 300 + 30 * random()),
        m.method, m.method || '_notification'
      -- Each draw names the row it is for: an uncorrelated LATERAL runs once, and every incident
      -- then had two notifications by e-mail (no interruption in the whole data set).
      FROM (SELECT x.*, random() AS spread FROM incidents x) i
      CROSS JOIN LATERAL generate_series(1, 1 + floor(4.9 * i.spread ^ 2)::integer) k
      CROSS JOIN LATERAL (SELECT (ARRAY['push', 'sms', 'phone', 'email', 'push', 'email', 'unknown'])[1 + floor(7 * random() ^ 1.3)::integer] AS method
                          WHERE k IS NOT NULL) m
      JOIN users u ON u.external_id = 'PU' || (1 + (i.service_id * 4 + k) % 160)
      WHERE i.created_at + make_interval(secs => (k - 1) * 300) <= now()
      ORDER BY i.created_at`.execute(connection);
    await sql`VACUUM ANALYZE notifications`.execute(connection);
  });
}

/**
 * Five years of history ending now, generated in PostgreSQL (deterministic:
 * setseed). Rates follow the seed runbooks: most incidents acked within
 * minutes and resolved within hours, SEV1/SEV2 with post-mortems and action
 * items, a few merged, escalated, still open or without a due date.
 */
async function loadHistory(db: Kysely<Database>, incidents: number): Promise<void> {
  await db.connection().execute(async (connection) => {
    // Loading a million incidents takes longer than the pool's statement timeout allows one statement.
    await sql`SET statement_timeout = 0`.execute(connection);
    await sql`SELECT setseed(0.3)`.execute(connection);
    await sql`INSERT INTO sources (kind, base_url, name) VALUES ('pagerduty', 'https://acme.pagerduty.com', 'PagerDuty'),
                                                             ('jira', 'https://acme.atlassian.net', 'Jira')`.execute(
      connection
    );
    await sql`INSERT INTO teams (source_id, external_id, name) SELECT 1, 'PT' || g, 'Team ' || g FROM generate_series(1, 8) g`.execute(
      connection
    );
    await sql`INSERT INTO services (source_id, external_id, name) SELECT 1, 'PS' || g, 'service-' || g FROM generate_series(1, 40) g`.execute(
      connection
    );
    // On-call users in six zones, one with a half-hour offset, some with none; user n is ids n.
    await sql`
      INSERT INTO users (source_id, external_id, name, time_zone)
      SELECT 1, 'PU' || g, 'Responder ' || g,
        (ARRAY['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'UTC', 'Australia/Adelaide', NULL])[1 + g % 6]
      FROM generate_series(1, 160) g ORDER BY g`.execute(connection);
    await sql`
      INSERT INTO incidents (source_id, external_id, number, title, status, urgency, priority_raw, severity, service_id, team_id,
                             created_at, acknowledged_at, resolved_at, detected_at, merged, escalated, unack_count, root_cause_key, html_url,
                             acknowledged_by, resolved_by)
      SELECT 1, 'Q' || lpad(to_hex(g), 8, '0'), g, 'Incident ' || g,
        CASE WHEN resolved IS NULL THEN 'triggered' ELSE 'resolved' END, 'high', severity, severity, service, 1 + service % 8,
        created,
        -- An ack after the resolve never happens: those incidents were resolved unacknowledged.
        CASE WHEN acknowledged <= least(coalesce(resolved, 'infinity'), now()) THEN acknowledged END,
        resolved, detected, merged, escalated, (random() < 0.03)::integer,
        CASE WHEN random() < (CASE WHEN severity IN ('SEV1', 'SEV2') THEN 0.7 ELSE 0.1 END)
             THEN 'cause-' || floor(400 * random() ^ 3)::integer END,
        'https://acme.pagerduty.com/incidents/Q' || g,
        -- The service's first on-call user acknowledges; a fifth of resolves come from an integration, a few from a timeout.
        CASE WHEN acknowledged <= least(coalesce(resolved, 'infinity'), now()) THEN 1 + (service * 4 + 1) % 160 END,
        CASE WHEN resolved IS NULL THEN NULL WHEN random() < 0.2 THEN 'integration' WHEN random() < 0.05 THEN 'timeout' ELSE 'user' END
      FROM (
        SELECT g, created, service, severity, merged, escalated,
          CASE WHEN random() < 0.92 THEN created + make_interval(secs => least(20 * 3600, 240 * exp(random_normal(0, 1)) * CASE WHEN severity = 'SEV1' THEN 0.5 ELSE 1 END)) END AS acknowledged,
          CASE WHEN (random() < 0.999 OR created < now() - interval '30 days') AND finished <= now() THEN finished END AS resolved,
          CASE WHEN random() < 0.25 THEN created - make_interval(secs => 120 + 1080 * random()) END AS detected
        FROM (
          SELECT g, created, service, severity, merged, escalated,
            created + make_interval(secs => least(60 * 86400, 900 + 5400 * exp(random_normal(0, 1.3)))) AS finished
          FROM (
            SELECT g,
              least(now() - interval '1 minute',
                    now() - interval '1826 days' + ((g - 1)::double precision / ${incidents}) * interval '1826 days'
                      + make_interval(secs => 3600 * random())) AS created,
              1 + floor(40 * random() ^ 1.5)::integer AS service,
              CASE WHEN s < 0.02 THEN 'SEV1' WHEN s < 0.10 THEN 'SEV2' WHEN s < 0.45 THEN 'SEV3' WHEN s < 0.95 THEN 'SEV4' ELSE 'UNKNOWN' END AS severity,
              random() < 0.015 AS merged, random() < 0.12 AS escalated
            FROM (SELECT g, random() AS s FROM generate_series(1, ${incidents}) g) seeds
          ) base
        ) finishing
      ) timed
      ORDER BY g`.execute(connection);
    await sql`
      INSERT INTO incident_events (incident_id, source_id, external_id, type, raw_type, occurred_at)
      SELECT i.id, 1, 'L' || i.id || '-' || e.kind, e.kind, e.kind || '_log_entry', e.at
      FROM incidents i
      CROSS JOIN LATERAL (VALUES ('trigger', i.created_at), ('acknowledge', i.acknowledged_at), ('resolve', i.resolved_at),
                                 ('escalate', CASE WHEN i.escalated THEN i.created_at + interval '10 minutes' END)) AS e(kind, at)
      WHERE e.at IS NOT NULL AND e.at <= now()
      ORDER BY i.id`.execute(connection);
    await sql`
      INSERT INTO postmortems (source_id, external_id, title, status, status_category, created_at, completed_at, root_cause_key)
      SELECT 2, 'PIR-' || i.id, 'Post-incident review ' || i.external_id,
        CASE WHEN done THEN 'Done' ELSE 'In Progress' END, CASE WHEN done THEN 'done' ELSE 'indeterminate' END,
        i.resolved_at + interval '2 hours', CASE WHEN done THEN finished END, i.root_cause_key
      FROM incidents i
      CROSS JOIN LATERAL (SELECT i.resolved_at + make_interval(secs => 86400 * 10 * random() ^ 2) AS finished) f
      CROSS JOIN LATERAL (SELECT random() < 0.85 AND f.finished <= now() AS done) d
      WHERE i.severity IN ('SEV1', 'SEV2') AND i.resolved_at IS NOT NULL AND NOT i.merged AND i.resolved_at + interval '2 hours' <= now()
      ORDER BY i.id`.execute(connection);
    await sql`
      INSERT INTO postmortem_incidents (postmortem_id, incident_id)
      SELECT p.id, i.id FROM postmortems p JOIN incidents i ON 'PIR-' || i.id = p.external_id
      ORDER BY p.id`.execute(connection);
    await sql`
      INSERT INTO action_items (source_id, external_id, incident_id, postmortem_id, title, status, status_category, owner,
                                due_date, created_at, completed_at)
      SELECT 2, 'ACT-' || p.id || '-' || n, l.incident_id, p.id, 'Follow-up ' || n, CASE WHEN done THEN 'Done' ELSE 'To Do' END,
        CASE WHEN done THEN 'done' ELSE 'new' END, 'owner-' || (p.id % 60),
        CASE WHEN random() < 0.9 THEN (p.created_at + make_interval(days => 7 + floor(23 * random())::integer))::date END,
        p.created_at, CASE WHEN done THEN finished END
      FROM postmortems p
      JOIN postmortem_incidents l ON l.postmortem_id = p.id
      CROSS JOIN generate_series(1, 1 + (p.id % 3)::integer) n
      CROSS JOIN LATERAL (SELECT p.created_at + make_interval(secs => 86400 * 35 * random()) AS finished) f
      -- Old items are nearly all done; the open ones are mostly recent.
      CROSS JOIN LATERAL (SELECT random() < CASE WHEN p.created_at < now() - interval '120 days' THEN 0.997 ELSE 0.85 END
                                 AND f.finished <= now() AS done) d
      ORDER BY p.id, n`.execute(connection);
    await sql`VACUUM ANALYZE`.execute(connection);
  });
}
