import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshClosedPeriods } from '../collector/src/db/closed-periods.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { loadIncidentFixtures } from './support/incident-fixtures.ts';
import { READER_ROLE, readerUrl } from './support/reader-role.ts';
import { tableChecksums } from './support/table-checksums.ts';

// incident_lens_reader cannot change anything: every function it may execute,
// found in the catalog (not listed here), is called with hostile arguments,
// and afterwards every table is as it was. The reader's transactions are
// read-only, so the same calls also show that the read path needs no write
// (as on a hot standby).

interface ReaderFunction {
  signature: string;
  name: string;
  argNames: string[];
  argTypes: string[];
  volatility: string;
}

let database: TestDatabase;
let reader: pg.Client;
let functions: ReaderFunction[];
/** A real row of each lens table, as text, for functions that take one. */
const rowsByType = new Map<string, string>();

const LONG = 'x'.repeat(20_000);

beforeAll(async () => {
  database = await createTestDatabase();
  await loadIncidentFixtures(database.url, { now: new Date(), incidents: 120 });
  // Closed periods cached as the collector caches them, so that reads take both paths.
  await refreshClosedPeriods(database.db, { timezone: 'UTC' });
  const found = await sql<ReaderFunction>`
    SELECT p.oid::regprocedure::text AS signature, p.proname AS name,
           coalesce(p.proargnames[1:p.pronargs], array_fill(''::text, ARRAY[p.pronargs])) AS "argNames",
           ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) WITH ORDINALITY AS a(t, i) ORDER BY i) AS "argTypes",
           p.provolatile AS volatility
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      AND has_function_privilege(${READER_ROLE}, p.oid, 'EXECUTE')
    ORDER BY 1`.execute(database.db);
  functions = found.rows;
  for (const table of ['lens.period_rollup', 'lens.oncall_rollup', 'lens.incident_fact']) {
    const row = await sql<{ row: string }>`SELECT t::text AS row FROM ${sql.raw(table)} t LIMIT 1`.execute(database.db);
    if (row.rows[0]) {
      rowsByType.set(table, row.rows[0].row);
    }
  }
  reader = new pg.Client({ connectionString: await readerUrl(database.url) });
  await reader.connect();
  // A hostile range may also be a slow one: that is not what this test is about.
  await reader.query("SET statement_timeout = '1s'");
});

afterAll(async () => {
  await reader?.end();
  await database?.destroy();
});

/** Sensible arguments by name and type: every function must answer these. */
function baseline(name: string, type: string): string | null {
  const now = new Date();
  const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();
  switch (type) {
    case 'text':
      if (/granularity/.test(name)) {
        return 'month';
      }
      if (/^tz$|zone/.test(name)) {
        return 'UTC';
      }
      if (name === 'page_after') {
        // A page cursor is the page_cursor of a row the function returned; empty is the first page.
        return '';
      }
      if (name === 'account') {
        // An account the fixtures hold, so the per-account paths run too.
        return 'Acme PagerDuty';
      }
      return 'dns';
    case 'text[]':
      return '{total,severity,service,team}';
    case 'timestamp with time zone':
      // The last closed month: one period, whatever a function expects.
      if (/start|earlier/.test(name)) {
        return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString();
      }
      if (/end/.test(name)) {
        return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
      }
      return now.toISOString();
    case 'timestamp without time zone':
      return '2026-10-15 12:00:00';
    case 'date':
      return daysAgo(40).slice(0, 10);
    case 'integer':
    case 'bigint':
      return '3';
    case 'double precision':
      return '90';
    case 'boolean':
      return 'true';
    case 'bigint[]':
      return '{1,2}';
    case 'timestamp with time zone[]':
      return `{${now.toISOString()}}`;
    default:
      return rowsByType.get(type) ?? null;
  }
}

/** Arguments an attacker would try, by name and type. */
function hostile(name: string, type: string): Array<string | null> {
  const common = [null];
  switch (type) {
    case 'text':
      if (/granularity/.test(name)) {
        return [
          ...common,
          'year',
          '',
          'MONTH',
          ' day',
          "month'; DELETE FROM lens.period_rollup; --",
          LONG,
          'day',
          'week',
        ];
      }
      if (/^tz$|zone/.test(name)) {
        return [
          ...common,
          'Mars/Olympus',
          '',
          '+99:99',
          'UTC; DELETE FROM incidents',
          LONG,
          'Pacific/Kiritimati',
          'America/St_Johns',
          'Europe/Berlin',
        ];
      }
      return [...common, '', LONG, "'; DROP TABLE incidents; --", 'total', '\\x00'];
    case 'text[]':
      return [
        ...common,
        '{}',
        '{bogus,NULL}',
        '{total}',
        `{${Array.from({ length: 2000 }, () => 'service').join(',')}}`,
      ];
    case 'timestamp with time zone':
      return [
        ...common,
        '-infinity',
        'infinity',
        '0001-01-01T00:00:00Z',
        '294276-12-31T00:00:00Z',
        '4713-01-01 00:00:00+00 BC',
        '1970-01-01T00:00:00Z',
        new Date().toISOString(),
        '2026-10-01T00:00:00Z',
      ];
    case 'timestamp without time zone':
      return [...common, '-infinity', 'infinity', '4713-01-01 00:00:00 BC', '294276-12-31 00:00:00'];
    case 'date':
      return [...common, '-infinity', 'infinity', '4713-01-01 BC', '5874897-12-31', '0001-01-01', '2026-10-15'];
    case 'integer':
      return [...common, '-2147483648', '-1', '0', '1', '1000000', '2147483647'];
    case 'bigint':
      return [...common, '-9223372036854775808', '0', '9223372036854775807'];
    case 'double precision':
      return [...common, 'NaN', 'Infinity', '-Infinity', '-1e308', '0', '1e308'];
    case 'boolean':
      return [...common, 'true', 'false'];
    case 'bigint[]':
      return [...common, '{}', '{-1,9223372036854775807,NULL}'];
    case 'timestamp with time zone[]':
      return [...common, '{}', '{infinity,-infinity,NULL}'];
    default:
      return [...common, baseline(name, type)];
  }
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

async function call(fn: ReaderFunction, args: Array<string | null>): Promise<{ ok: boolean; error?: string }> {
  const placeholders = fn.argTypes.map((type, index) => `$${index + 1}::${type}`).join(', ');
  const qualified = fn.signature.slice(0, fn.signature.indexOf('('));
  try {
    await reader.query(`SELECT * FROM ${qualified}(${placeholders})`, args);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

describe('incident_lens_reader, by construction', () => {
  it('may execute functions, none of them VOLATILE', () => {
    expect(functions.length).toBeGreaterThan(20);
    expect(functions.map((fn) => fn.name)).toEqual(
      expect.arrayContaining(['metrics', 'period_metrics', 'incident_list'])
    );
    expect(functions.filter((fn) => fn.volatility === 'v').map((fn) => fn.signature)).toEqual([]);
    expect(functions.map((fn) => fn.name)).not.toContain('refresh_closed_periods');
  });

  it('changes no table whatever it passes to any function it may execute', async () => {
    const before = await tableChecksums(database.db);
    const random = seeded(20_261_130);
    const baselineFailures: string[] = [];
    let calls = 0;
    const saneArguments = (fn: ReaderFunction) =>
      fn.argTypes.map((type, index) => baseline(fn.argNames[index] ?? '', type));
    // In its read-only transactions (a hot standby's condition) every function answers.
    for (const fn of functions) {
      const answered = await call(fn, saneArguments(fn));
      if (!answered.ok) {
        baselineFailures.push(`${fn.signature}: ${answered.error}`);
      }
    }
    // The reader may switch read-only off for its session: privileges alone must then keep every table as it was.
    await reader.query('SET default_transaction_read_only = off');
    for (const fn of functions) {
      const sane = saneArguments(fn);
      await call(fn, sane);
      await call(
        fn,
        fn.argTypes.map(() => null)
      );
      const pools = fn.argTypes.map((type, index) => hostile(fn.argNames[index] ?? '', type));
      for (let attempt = 0; attempt < 12; attempt++) {
        // Mostly sane arguments with one or two hostile ones, so the hostile value reaches deep code.
        const args = sane.map((value, index) => {
          const pool = pools[index]!;
          return random() < 0.4 ? pool[Math.floor(random() * pool.length)]! : value;
        });
        await call(fn, args);
      }
      calls += 14;
    }
    await reader.query('RESET default_transaction_read_only');
    expect(baselineFailures).toEqual([]);
    expect(calls).toBeGreaterThan(functions.length * 10);
    expect(await tableChecksums(database.db)).toEqual(before);
  });

  it('reads cached closed periods in its read-only transactions', async () => {
    const cached = await sql<{ period_start: Date; period_end: Date }>`
      SELECT period_start, period_end FROM lens.period_rollup WHERE granularity = 'month' AND tz = 'UTC'
      ORDER BY period_start DESC LIMIT 1`.execute(database.db);
    const month = cached.rows[0]!;
    const viaReader = await reader.query(
      `SELECT incidents, mtta_mean_seconds FROM lens.metrics($1, $2, now(), 'UTC', 'month', ARRAY['total'])`,
      [month.period_start, month.period_end]
    );
    const live = await sql<{ incidents: number; mtta_mean_seconds: number | null }>`
      SELECT f.incidents, f.mtta_mean_seconds
      FROM lens.compute_figures(${month.period_start}, ${month.period_end}, now(), 'UTC', ARRAY['total']) c
      CROSS JOIN LATERAL unnest(c.figures) f`.execute(database.db);
    expect(viaReader.rows).toEqual(live.rows);
  });
});
