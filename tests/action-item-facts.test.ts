import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

// lens.action_item_fact (sql/015_action_item_fact_data_quality.sql) is kept by
// statement triggers (sql/lens/70_action_items.sql). After every change below
// it must hold what placing each item at read time gives (REFERENCE: the rule
// the figures used before the table existed, docs/metrics.md §7 and §13), and
// the change must have moved the item the test names.

const REFERENCE = `
  SELECT a.id::integer AS item, a.due_date::text AS due, lower(a.status_category) = 'done' AS done_status,
         coalesce(btrim(a.owner), '') = '' AS without_owner, counted.id::integer AS incident,
         coalesce(i.source_id, a.source_id) AS source,
         CASE WHEN i.removed_at IS NULL THEN i.service_id::integer END AS service,
         CASE WHEN i.removed_at IS NULL THEN i.team_id::integer END AS team
  FROM action_items a
  CROSS JOIN LATERAL (
    SELECT coalesce(a.incident_id, (SELECT l.incident_id FROM postmortem_incidents l JOIN incidents x ON x.id = l.incident_id
                                    WHERE l.postmortem_id = a.postmortem_id
                                    ORDER BY x.merged, x.created_at, x.id LIMIT 1)) AS id) counted
  LEFT JOIN incidents i ON i.id = counted.id
  WHERE a.removed_at IS NULL
  ORDER BY a.id`;

const FACTS = `
  SELECT f.action_item_id::integer AS item, f.due_date::text AS due, f.done_status, f.without_owner,
         f.incident_id::integer AS incident, f.source_id AS source, f.service_id::integer AS service,
         f.team_id::integer AS team
  FROM lens.action_item_fact f
  ORDER BY f.action_item_id`;

// lens.action_item_due_month (sql/021_action_item_due_months.sql) counts the
// settled items of the facts per month of due date: after every change it
// must equal a recount, and its bound must not be below the latest creation
// or completion it counts.
// Done before the due day began in UTC, or two days after: on time or late in every zone.
const SETTLED = `f.done_status AND (f.completed_at < f.due_date::timestamp AT TIME ZONE 'UTC'
                                     OR f.completed_at >= (f.due_date + 2)::timestamp AT TIME ZONE 'UTC')`;

const DUE_MONTHS = `
  SELECT m.due_month::text AS month, m.source_id AS source, m.service_id::integer AS service,
         m.team_id::integer AS team, m.settled, m.settled_early AS early,
         m.settled_until >= r.latest AS bounded
  FROM lens.action_item_due_month m
  LEFT JOIN (SELECT date_trunc('month', f.due_date::timestamp)::date AS month, f.source_id, f.service_id, f.team_id,
                    max(greatest(f.created_at, f.completed_at)) AS latest
             FROM lens.action_item_fact f WHERE ${SETTLED} GROUP BY 1, 2, 3, 4) r
    ON r.month = m.due_month AND r.source_id = m.source_id AND r.service_id IS NOT DISTINCT FROM m.service_id
   AND r.team_id IS NOT DISTINCT FROM m.team_id
  ORDER BY 1, 2, 3, 4`;

const DUE_MONTHS_RECOUNTED = `
  SELECT date_trunc('month', f.due_date::timestamp)::date::text AS month, f.source_id AS source,
         f.service_id::integer AS service, f.team_id::integer AS team, count(*)::integer AS settled,
         count(*) FILTER (WHERE f.completed_at < f.due_date::timestamp AT TIME ZONE 'UTC')::integer AS early,
         true AS bounded
  FROM lens.action_item_fact f
  WHERE ${SETTLED}
  GROUP BY 1, 2, 3, 4
  ORDER BY 1, 2, 3, 4`;

interface Fact {
  item: number;
  due: string | null;
  done_status: boolean;
  without_owner: boolean;
  incident: number | null;
  source: number;
  service: number | null;
  team: number | null;
}

let database: TestDatabase;
let client: pg.Client;
const ids: Record<string, number> = {};

async function one(text: string, values: unknown[] = []): Promise<number> {
  const result = await client.query<{ id: number }>(`${text} RETURNING id::integer AS id`, values);
  return result.rows[0]!.id;
}

/**
 * One action item of the Jira account, titled and owned alike, done at
 * `done` when given; its id is kept in `ids` under its key.
 */
async function addItem(
  key: string,
  item: { due: string | null; created: string; done?: string | null; incident?: string | null }
): Promise<void> {
  const done = item.done ?? null;
  ids[key] = await one(
    `INSERT INTO action_items (source_id, external_id, incident_id, title, status, status_category, owner, due_date,
                               created_at, completed_at)
     VALUES ($1, $2, $3, $2, $4, $5, 'Ada', $6, $7, $8)`,
    [
      ids['jira'],
      key,
      item.incident ? ids[item.incident] : null,
      done ? 'Done' : 'To Do',
      done ? 'done' : 'new',
      item.due,
      item.created,
      done,
    ]
  );
}

/** The facts, after checking that they equal the reference. */
async function facts(): Promise<Map<number, Fact>> {
  const kept = (await client.query<Fact>(FACTS)).rows;
  expect(kept).toEqual((await client.query<Fact>(REFERENCE)).rows);
  expect((await client.query(DUE_MONTHS)).rows).toEqual((await client.query(DUE_MONTHS_RECOUNTED)).rows);
  return new Map(kept.map((fact) => [fact.item, fact]));
}

async function factOf(item: string): Promise<Fact | undefined> {
  return (await facts()).get(ids[item]!);
}

beforeAll(async () => {
  database = await createTestDatabase();
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
  const accounts: Array<[string, string]> = [
    ['pd-a', 'pagerduty'],
    ['pd-b', 'pagerduty'],
    ['jira', 'jira'],
  ];
  for (const [name, kind] of accounts) {
    ids[name] = await one(`INSERT INTO sources (name, kind, base_url) VALUES ($1, $2, 'https://example.test')`, [
      name,
      kind,
    ]);
  }
  for (const name of ['S1', 'S2']) {
    ids[name] = await one(`INSERT INTO services (source_id, external_id, name) VALUES ($1, $2, $2)`, [
      ids['pd-a'],
      name,
    ]);
  }
  for (const name of ['T1', 'T2']) {
    ids[name] = await one(`INSERT INTO teams (source_id, external_id, name) VALUES ($1, $2, $2)`, [ids['pd-a'], name]);
  }
  const incident = async (name: string, source: string, service: string, team: string, created: string) => {
    ids[name] = await one(
      `INSERT INTO incidents (source_id, external_id, title, status, severity, service_id, team_id, created_at)
       VALUES ($1, $2, $2, 'resolved', 'SEV1', $3, $4, $5)`,
      [ids[source], name, ids[service], ids[team], created]
    );
  };
  await incident('A', 'pd-a', 'S1', 'T1', '2026-10-01T08:00:00Z');
  await incident('B', 'pd-b', 'S2', 'T2', '2026-10-05T08:00:00Z');
  await incident('C', 'pd-b', 'S2', 'T1', '2026-10-07T08:00:00Z');
  ids['PM'] = await one(
    `INSERT INTO postmortems (source_id, external_id, title, status, status_category, created_at)
     VALUES ($1, 'PM', 'Review', 'Open', 'new', '2026-10-06T08:00:00Z')`,
    [ids['jira']]
  );
  await client.query('INSERT INTO postmortem_incidents (postmortem_id, incident_id) VALUES ($1, $2)', [
    ids['PM'],
    ids['B'],
  ]);
  const item = async (name: string, incident: string | null, postmortem: string | null, due: string | null) => {
    ids[name] = await one(
      `INSERT INTO action_items (source_id, external_id, incident_id, postmortem_id, title, status, status_category,
                                 owner, due_date, created_at)
       VALUES ($1, $2, $3, $4, $2, 'To Do', 'new', 'Ada', $5, '2026-10-08T00:00:00Z')`,
      [ids['jira'], name, incident ? ids[incident] : null, postmortem ? ids[postmortem] : null, due]
    );
  };
  // X follows the post-mortem's first incident, Y names incident A, Z names neither.
  await item('X', null, 'PM', '2026-10-20');
  await item('Y', 'A', null, '2026-10-21');
  await item('Z', null, null, '2026-10-22');
});

afterAll(async () => {
  await client?.end();
  await database?.destroy();
});

describe('lens.action_item_fact', () => {
  it('places an item by its post-mortem first incident as the link changes', async () => {
    expect(await factOf('X')).toMatchObject({ incident: ids['B'], source: ids['pd-b'], service: ids['S2'] });
    // A is older than B: the post-mortem's first incident becomes A, and with it the account.
    await client.query('INSERT INTO postmortem_incidents (postmortem_id, incident_id) VALUES ($1, $2)', [
      ids['PM'],
      ids['A'],
    ]);
    expect(await factOf('X')).toMatchObject({ incident: ids['A'], source: ids['pd-a'], service: ids['S1'] });
    await client.query('DELETE FROM postmortem_incidents WHERE postmortem_id = $1 AND incident_id = $2', [
      ids['PM'],
      ids['A'],
    ]);
    expect(await factOf('X')).toMatchObject({ incident: ids['B'], source: ids['pd-b'] });
    // A link rewritten to another incident.
    await client.query('UPDATE postmortem_incidents SET incident_id = $1 WHERE postmortem_id = $2', [
      ids['C'],
      ids['PM'],
    ]);
    expect(await factOf('X')).toMatchObject({ incident: ids['C'], team: ids['T1'] });
    await client.query('UPDATE postmortem_incidents SET incident_id = $1 WHERE postmortem_id = $2', [
      ids['B'],
      ids['PM'],
    ]);
    expect(await factOf('X')).toMatchObject({ incident: ids['B'] });
  });

  it('puts unmerged incidents first: merging the older one moves the item', async () => {
    await client.query('INSERT INTO postmortem_incidents (postmortem_id, incident_id) VALUES ($1, $2)', [
      ids['PM'],
      ids['A'],
    ]);
    expect(await factOf('X')).toMatchObject({ incident: ids['A'] });
    await client.query('UPDATE incidents SET merged = true WHERE id = $1', [ids['A']]);
    expect(await factOf('X')).toMatchObject({ incident: ids['B'], source: ids['pd-b'] });
    // An item naming the merged incident directly stays with it.
    expect(await factOf('Y')).toMatchObject({ incident: ids['A'], source: ids['pd-a'] });
    await client.query('UPDATE incidents SET merged = false WHERE id = $1', [ids['A']]);
    expect(await factOf('X')).toMatchObject({ incident: ids['A'] });
    await client.query('DELETE FROM postmortem_incidents WHERE postmortem_id = $1 AND incident_id = $2', [
      ids['PM'],
      ids['A'],
    ]);
  });

  it('follows an incident moved to another service and team, and one removed at its source', async () => {
    await client.query('UPDATE incidents SET service_id = $1, team_id = $2 WHERE id = $3', [
      ids['S1'],
      ids['T1'],
      ids['B'],
    ]);
    expect(await factOf('X')).toMatchObject({ incident: ids['B'], service: ids['S1'], team: ids['T1'] });
    // A removed incident has no service or team in any figure; its account still holds the item.
    await client.query(`UPDATE incidents SET removed_at = '2026-11-01T00:00:00Z' WHERE id = $1`, [ids['B']]);
    expect(await factOf('X')).toMatchObject({ incident: ids['B'], source: ids['pd-b'], service: null, team: null });
    await client.query('UPDATE incidents SET removed_at = NULL WHERE id = $1', [ids['B']]);
    expect(await factOf('X')).toMatchObject({ service: ids['S1'], team: ids['T1'] });
  });

  it('drops a removed item and takes it back when it returns; follows its own edits', async () => {
    await client.query(`UPDATE action_items SET removed_at = '2026-11-01T00:00:00Z' WHERE id = $1`, [ids['Y']]);
    expect(await factOf('Y')).toBeUndefined();
    await client.query('UPDATE action_items SET removed_at = NULL WHERE id = $1', [ids['Y']]);
    expect(await factOf('Y')).toMatchObject({ incident: ids['A'] });
    await client.query(
      `UPDATE action_items SET owner = ' ', due_date = NULL, status_category = 'Done',
              completed_at = '2026-10-09T00:00:00Z' WHERE id = $1`,
      [ids['Y']]
    );
    expect(await factOf('Y')).toMatchObject({ due: null, without_owner: true, done_status: true });
    await client.query('DELETE FROM action_items WHERE id = $1', [ids['Y']]);
    expect(await factOf('Y')).toBeUndefined();
  });

  it('counts an item under its incident account, else the Jira account that holds it', async () => {
    const total = async (account: string) =>
      (
        await client.query<{ total: number }>(
          `SELECT total FROM lens.action_item_metrics('2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z',
                    '2026-11-10T00:00:00Z', 'UTC', NULL, ARRAY['total'], account => $1)`,
          [account]
        )
      ).rows[0]!.total;
    expect(await factOf('Z')).toMatchObject({ incident: null, source: ids['jira'] });
    expect([await total('pd-b'), await total('jira')]).toEqual([1, 1]);
    await client.query('UPDATE action_items SET postmortem_id = $1 WHERE id = $2', [ids['PM'], ids['Z']]);
    expect(await factOf('Z')).toMatchObject({ incident: ids['B'], source: ids['pd-b'] });
    expect([await total('pd-b'), await total('jira')]).toEqual([2, 0]);
  });
});

describe('the overdue list of the report', () => {
  it('counts every overdue item and lists the first by deadline and key, ties included', async () => {
    for (const [key, due] of [
      ['OD-3', '2026-10-02'],
      ['OD-1', '2026-10-02'],
      ['OD-2', '2026-10-02'],
      ['OD-0', '2026-10-03'],
    ] as const) {
      await addItem(key, { due, created: '2026-10-01T00:00:00Z', incident: 'C' });
    }
    const all = (
      await client.query<{ external_id: string }>(
        `SELECT external_id FROM lens.open_overdue_action_items('2026-11-10T00:00:00Z', 'UTC') ORDER BY deadline, external_id`
      )
    ).rows.map((row) => row.external_id);
    expect(all.slice(0, 4)).toEqual(['OD-1', 'OD-2', 'OD-3', 'OD-0']);
    const report = async (limit: number) =>
      (
        await client.query<{ total: number; items: Array<{ externalId: string }> }>(
          `SELECT total, items FROM lens.report_overdue_action_items('2026-11-10T00:00:00Z', 'UTC', $1, NULL)`,
          [limit]
        )
      ).rows[0]!;
    const two = await report(2);
    expect(two.total).toBe(all.length);
    expect(two.items.map((item) => item.externalId)).toEqual(['OD-1', 'OD-2']);
    expect((await report(100)).items.map((item) => item.externalId)).toEqual(all);
    expect((await report(0)).items).toEqual([]);
  });
});

describe('missing post-mortems from the facts', () => {
  const RANGE = `'2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z', '2026-11-10T00:00:00Z'`;
  // What the list was before lens.incident_fact carried the first post-mortem's creation.
  const REFERENCE_MISSING = `
    SELECT i.external_id FROM lens.incident_outcomes(${RANGE}, 'UTC') o JOIN incidents i ON i.id = o.incident_id
    WHERE NOT o.merged AND o.postmortem_required AND o.postmortem_deadline <= '2026-11-10T00:00:00Z'
      AND NOT EXISTS (SELECT 1 FROM postmortem_incidents l JOIN postmortems p ON p.id = l.postmortem_id
                      WHERE l.incident_id = o.incident_id AND p.created_at <= '2026-11-10T00:00:00Z'
                        AND p.removed_at IS NULL)
    ORDER BY 1`;

  async function missing(): Promise<string[]> {
    const listed = (
      await client.query<{ external_id: string }>(
        `SELECT external_id FROM lens.missing_postmortems(${RANGE}, 'UTC') ORDER BY 1`
      )
    ).rows.map((row) => row.external_id);
    expect(listed).toEqual(
      (await client.query<{ external_id: string }>(REFERENCE_MISSING)).rows.map((row) => row.external_id)
    );
    const counted = await client.query<{ figures: { postmortemMissing: number } }>(
      `SELECT lens.data_quality(${RANGE}, 'UTC') AS figures`
    );
    expect(counted.rows[0]!.figures.postmortemMissing).toBe(listed.length);
    return listed;
  }

  it('follows a post-mortem linked, removed, restored and re-dated', async () => {
    ids['D'] = await one(
      `INSERT INTO incidents (source_id, external_id, title, status, severity, created_at, resolved_at)
       VALUES ($1, 'D', 'D', 'resolved', 'SEV1', '2026-10-10T08:00:00Z', '2026-10-10T09:00:00Z')`,
      [ids['pd-a']]
    );
    expect(await missing()).toEqual(['D']);
    ids['PM2'] = await one(
      `INSERT INTO postmortems (source_id, external_id, title, status, status_category, created_at)
       VALUES ($1, 'PM2', 'Review of D', 'Open', 'new', '2026-10-11T08:00:00Z')`,
      [ids['jira']]
    );
    await client.query('INSERT INTO postmortem_incidents (postmortem_id, incident_id) VALUES ($1, $2)', [
      ids['PM2'],
      ids['D'],
    ]);
    expect(await missing()).toEqual([]);
    await client.query(`UPDATE postmortems SET removed_at = '2026-11-01T00:00:00Z' WHERE id = $1`, [ids['PM2']]);
    expect(await missing()).toEqual(['D']);
    await client.query('UPDATE postmortems SET removed_at = NULL WHERE id = $1', [ids['PM2']]);
    expect(await missing()).toEqual([]);
    // Written after as_of: as of then, still missing.
    await client.query(`UPDATE postmortems SET created_at = '2026-11-12T00:00:00Z' WHERE id = $1`, [ids['PM2']]);
    expect(await missing()).toEqual(['D']);
  });
});

describe('completed on time, in every zone', () => {
  it('judges an item done near its due day by the deadline of the zone asked for', async () => {
    // Due 2026-10-20, done: the day before in UTC; late that evening in UTC; early on the 21st in UTC;
    // two days later. The end of the 20th is 10-20 10:00Z in Kiritimati (+14), 22:00Z in Berlin (+2),
    // 10-21 00:00Z in UTC, 04:00Z in New York (-4), 11:00Z in Pago Pago (-11).
    for (const [key, done] of [
      ['OT-1', '2026-10-19T23:00:00Z'],
      ['OT-2', '2026-10-20T23:30:00Z'],
      ['OT-3', '2026-10-21T05:00:00Z'],
      ['OT-4', '2026-10-22T00:00:00Z'],
    ] as const) {
      await addItem(key, { due: '2026-10-20', created: '2026-10-01T00:00:00Z', done });
    }
    const onTime: Record<string, number> = {};
    for (const zone of ['Pacific/Kiritimati', 'Europe/Berlin', 'UTC', 'America/New_York', 'Pacific/Pago_Pago']) {
      const figures = await client.query<{ completed: number; completed_on_time: number }>(
        `SELECT completed, completed_on_time FROM lens.action_item_metrics(
                  ('2026-10-20'::timestamp AT TIME ZONE $1), ('2026-10-21'::timestamp AT TIME ZONE $1),
                  '2026-11-10T00:00:00Z', $1, NULL, ARRAY['total'], account => 'jira')`,
        [zone]
      );
      const reference = await client.query<{ n: number }>(
        `SELECT count(*)::integer AS n FROM action_items
         WHERE external_id LIKE 'OT-%' AND completed_at < ('2026-10-21'::timestamp AT TIME ZONE $1)`,
        [zone]
      );
      expect(figures.rows[0]!.completed).toBe(4);
      expect(figures.rows[0]!.completed_on_time).toBe(reference.rows[0]!.n);
      onTime[zone] = figures.rows[0]!.completed_on_time;
    }
    expect(onTime).toEqual({
      'Pacific/Kiritimati': 1,
      'Europe/Berlin': 1,
      UTC: 2,
      'America/New_York': 2,
      'Pacific/Pago_Pago': 3,
    });
  });
});

describe('the open items of a range', () => {
  it('lists the items not done as of as_of, those done later included, as the whole range filtered does', async () => {
    for (const [key, due, done] of [
      ['OPEN-DONE-EARLY', '2026-10-12', '2026-10-11T00:00:00Z'],
      ['OPEN-DONE-LATER', '2026-10-12', '2026-10-25T00:00:00Z'],
      ['OPEN-NEVER', '2026-10-13', null],
      ['OPEN-UNDATED-LATER', null, '2026-10-25T00:00:00Z'],
    ] as const) {
      await addItem(key, { due, created: '2026-10-02T00:00:00Z', done });
    }
    const listed = async (asOf: string, filter: string) =>
      (
        await client.query<{ external_id: string }>(
          `SELECT external_id FROM lens.action_item_facts('2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z', $1, 'UTC', ${filter}
           ORDER BY external_id`,
          [asOf]
        )
      ).rows.map((row) => row.external_id);
    const open = async (asOf: string) => {
      const kept = await listed(asOf, 'include_done => false)');
      expect(kept).toEqual(await listed(asOf, 'include_done => true) WHERE NOT is_done'));
      return kept.filter((key) => key.startsWith('OPEN-'));
    };
    expect(await open('2026-10-20T00:00:00Z')).toEqual(['OPEN-DONE-LATER', 'OPEN-NEVER', 'OPEN-UNDATED-LATER']);
    expect(await open('2026-10-30T00:00:00Z')).toEqual(['OPEN-NEVER']);
  });
});

describe('whole months of due dates', () => {
  // By day no bucket holds a whole month, so every item is read one by one:
  // the figures of a range summed over its days are the reference for the
  // figures of the whole range, which count whole months from
  // lens.action_item_due_month.
  const figures = async (range: [string, string], asOf: string, tz: string, granularity: string | null) =>
    (
      await client.query<{ dimension: string; key: string | null; figures: number[] }>(
        `SELECT dimension, dimension_key AS key,
                ARRAY[sum(total), sum(completed), sum(completed_on_time), sum(overdue), sum(no_due_date)]::integer[]
                  AS figures
         FROM lens.action_item_metrics(($1::timestamp AT TIME ZONE $4), ($2::timestamp AT TIME ZONE $4), $3, $4, $5)
         GROUP BY 1, 2 ORDER BY 1, 2`,
        [range[0], range[1], asOf, tz, granularity]
      )
    ).rows;

  async function expectWholeEqualsDays(range: [string, string], asOf: string, tz = 'UTC') {
    const whole = await figures(range, asOf, tz, null);
    expect(whole).toEqual(await figures(range, asOf, tz, 'day'));
    expect(await figures(range, asOf, tz, 'month')).toEqual(whole);
    return whole.find((row) => row.dimension === 'total')!.figures;
  }

  it('counts settled items from the month counts and the others one by one, for any as_of', async () => {
    const item = async (key: string, due: string, created: string, done: string | null, incident = 'A') => {
      await facts();
      await addItem(key, { due, created, done, incident });
    };
    // Early, late, near its due day, open and overdue, open and not yet due; two services.
    await item('M-EARLY', '2026-08-10', '2026-08-01T00:00:00Z', '2026-08-05T00:00:00Z');
    await item('M-LATE', '2026-08-11', '2026-08-01T00:00:00Z', '2026-08-20T00:00:00Z', 'B');
    await item('M-NEAR', '2026-08-12', '2026-08-01T00:00:00Z', '2026-08-12T20:00:00Z');
    await item('M-OPEN', '2026-08-13', '2026-08-01T00:00:00Z', null, 'B');
    await item('M-SEPT', '2026-09-30', '2026-08-02T00:00:00Z', '2026-09-02T00:00:00Z');
    await item('M-LATER', '2026-09-15', '2026-09-01T00:00:00Z', '2026-12-01T00:00:00Z');
    await facts();
    const range: [string, string] = ['2026-07-15T00:00:00', '2026-10-01T00:00:00'];
    // As of now every settled item of August and September is counted from the months.
    expect(await expectWholeEqualsDays(range, '2026-12-10T00:00:00Z')).toEqual([6, 5, 3, 1, 0]);
    // Before M-LATE was done (so overdue), and before M-LATER was created: both months read one by one.
    expect(await expectWholeEqualsDays(range, '2026-08-15T00:00:00Z')).toEqual([5, 2, 2, 2, 0]);
    // Near its due day the zone decides: M-NEAR is late in Kiritimati (its deadline 10:00Z), on time in New York.
    expect(await expectWholeEqualsDays(range, '2026-12-10T00:00:00Z', 'Pacific/Kiritimati')).toEqual([6, 5, 2, 1, 0]);
    expect(await expectWholeEqualsDays(range, '2026-12-10T00:00:00Z', 'America/New_York')).toEqual([6, 5, 3, 1, 0]);

    // Edits move an item between months, services and states; the counts follow.
    await client.query(`UPDATE action_items SET due_date = '2026-09-01' WHERE id = $1`, [ids['M-EARLY']]);
    await client.query('UPDATE incidents SET service_id = $1 WHERE id = $2', [ids['S2'], ids['A']]);
    await client.query(`UPDATE action_items SET completed_at = '2026-08-09T00:00:00Z' WHERE id = $1`, [ids['M-LATE']]);
    await client.query(`UPDATE action_items SET status_category = 'new' WHERE id = $1`, [ids['M-SEPT']]);
    await facts();
    expect(await expectWholeEqualsDays(range, '2026-12-10T00:00:00Z')).toEqual([6, 4, 3, 2, 0]);
    await client.query(`UPDATE action_items SET removed_at = '2026-12-02T00:00:00Z' WHERE id = $1`, [ids['M-LATE']]);
    await client.query('DELETE FROM action_items WHERE id = $1', [ids['M-EARLY']]);
    await facts();
    expect(await expectWholeEqualsDays(range, '2026-12-10T00:00:00Z')).toEqual([4, 2, 1, 2, 0]);
    await client.query('UPDATE incidents SET service_id = $1 WHERE id = $2', [ids['S1'], ids['A']]);
    await facts();
  });

  it('is emptied and refilled with the facts', async () => {
    await client.query('TRUNCATE lens.action_item_fact');
    expect((await client.query('SELECT * FROM lens.action_item_due_month')).rows).toEqual([]);
    await client.query('SELECT lens.refresh_action_item_facts(ARRAY(SELECT id FROM action_items))');
    expect((await client.query('SELECT * FROM lens.action_item_due_month')).rows.length).toBeGreaterThan(0);
    await facts();
  });
});
