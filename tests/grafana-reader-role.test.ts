import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { loadIncidentFixtures } from './support/incident-fixtures.ts';
import { readerUrl } from './support/reader-role.ts';

// incident_lens_reader, the role Grafana connects as: it reads every
// reporting object in the schema lens and nothing else.

let database: TestDatabase;
let reader: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  await loadIncidentFixtures(database.url, { now: new Date(), incidents: 40 });
  reader = new pg.Client({ connectionString: await readerUrl(database.url) });
  await reader.connect();
});

afterAll(async () => {
  await reader?.end();
  await database?.destroy();
});

const range = "now() - interval '30 days', now(), now(), 'Europe/Berlin'";

describe('incident_lens_reader', () => {
  it.each([
    ['the SLA policy', 'SELECT * FROM lens.sla_policy'],
    ['range figures', `SELECT * FROM lens.metrics(${range})`],
    ['period figures', "SELECT * FROM lens.period_metrics('month', current_date, now(), 'UTC')"],
    ['the incident list with timelines', `SELECT * FROM lens.incident_list(${range})`],
    ['action item facts', `SELECT * FROM lens.action_item_facts(${range})`],
    ['action item figures', `SELECT * FROM lens.action_item_metrics(${range})`],
    ['open overdue action items', 'SELECT * FROM lens.open_overdue_action_items()'],
    ['repeat root causes', `SELECT * FROM lens.repeat_root_causes(${range})`],
    ['collector freshness', 'SELECT * FROM lens.collector_freshness'],
  ])('reads %s', async (_what, sql) => {
    await expect(reader.query(sql)).resolves.toBeDefined();
  });

  it('gets the incidents panel columns, with the timeline up to as_of', async () => {
    const { rows } = await reader.query(
      `SELECT * FROM lens.incident_list(${range}) WHERE timeline IS NOT NULL LIMIT 1`
    );
    expect(rows).toHaveLength(1);
    const timeline = JSON.parse(rows[0].timeline) as Array<{ at: string; type: string }>;
    expect(timeline[0]?.type).toBe('trigger');
    expect(Object.keys(rows[0])).toEqual(
      expect.arrayContaining(['title', 'severity', 'status', 'created_at', 'ack_sla', 'tta_seconds'])
    );
  });

  it.each([
    ['read a core table', 'SELECT * FROM public.incidents', /permission denied/],
    ['read the sync log', 'SELECT * FROM public.sync_runs', /permission denied/],
    [
      'write the SLA policy',
      "UPDATE public.sla_policy SET ack_target_seconds = 1 WHERE severity = 'SEV1'",
      /permission denied/,
    ],
    ['write the metric cache', 'DELETE FROM lens.period_rollup', /permission denied/],
    ['rewrite incident facts', 'SELECT lens.refresh_incident_facts(ARRAY[1::bigint])', /permission denied/],
    ['fill the figures cache', "SELECT lens.refresh_closed_periods('UTC')", /permission denied/],
    [
      'cache a period',
      "SELECT lens.cache_period_figures('month', '2026-01-01', '2026-02-01', 'UTC')",
      /permission denied/,
    ],
    ['create a table in public', 'CREATE TABLE public.mine (x int)', /permission denied/],
    ['create a table in lens', 'CREATE TABLE lens.mine (x int)', /permission denied/],
  ])('cannot %s, even with read-only transactions switched off', async (_what, sql, error) => {
    // Its transactions are read-only by default; the privileges alone must refuse too.
    await expect(reader.query(`BEGIN READ WRITE; ${sql}`)).rejects.toThrow(error);
    await reader.query('ROLLBACK');
  });

  it('runs every transaction read-only', async () => {
    const { rows } = await reader.query('SHOW transaction_read_only');
    expect(rows[0].transaction_read_only).toBe('on');
    await expect(reader.query('CREATE TEMPORARY TABLE scratch (x int)')).rejects.toThrow(/read-only transaction/);
  });
});
