import { sql, type Kysely } from 'kysely';
import type { Database } from '../../collector/src/db/schema.ts';

/**
 * Every row of every table of the public schema, comparable between two
 * databases filled by different runs: surrogate keys (serial and identity
 * columns) are left out and every foreign key is replaced by the row it
 * points to, written the same way, so a link to the wrong row shows as a
 * difference. Columns that record when a row was written (DEFAULT now()) are
 * left out, being bookkeeping of the run, not data. Rows are sorted JSON
 * texts, so a lost row, a doubled row and a changed value all show.
 */
export async function dumpTables(db: Kysely<Database>, exclude: readonly string[]): Promise<Record<string, string[]>> {
  const columns = await sql<{ table: string; column: string; default: string | null; identity: string }>`
    SELECT table_name AS table, column_name AS column, column_default AS default, is_identity AS identity
    FROM information_schema.columns WHERE table_schema = 'public'`.execute(db);
  const foreignKeys = await sql<{ table: string; column: string; ref: string; refColumn: string }>`
    SELECT cl.relname AS table, a.attname AS column, rl.relname AS ref, ra.attname AS "refColumn"
    FROM pg_constraint c
    JOIN pg_class cl ON cl.oid = c.conrelid
    JOIN pg_namespace n ON n.oid = cl.relnamespace AND n.nspname = 'public'
    JOIN pg_class rl ON rl.oid = c.confrelid
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
    JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
    WHERE c.contype = 'f' AND cardinality(c.conkey) = 1`.execute(db);
  const tables = [...new Set(columns.rows.map((row) => row.table))];

  const dropped = new Map<string, Set<string>>();
  for (const row of columns.rows) {
    const surrogate = row.identity === 'YES' || /^nextval\(/.test(row.default ?? '');
    const writtenAt = /now\(\)|CURRENT_TIMESTAMP/i.test(row.default ?? '');
    if (surrogate || writtenAt) {
      dropped.set(row.table, (dropped.get(row.table) ?? new Set()).add(row.column));
    }
  }
  const links = new Map<string, Map<string, { ref: string; refColumn: string }>>();
  for (const fk of foreignKeys.rows) {
    links.set(fk.table, (links.get(fk.table) ?? new Map()).set(fk.column, { ref: fk.ref, refColumn: fk.refColumn }));
  }

  const rows = new Map<string, Array<Record<string, unknown>>>();
  for (const table of tables) {
    const result = await sql<{
      row: Record<string, unknown>;
    }>`SELECT to_jsonb(t) AS row FROM ${sql.table(table)} t`.execute(db);
    rows.set(
      table,
      result.rows.map((entry) => entry.row)
    );
  }

  const canonical = (table: string, row: Record<string, unknown>, path: string[]): Record<string, unknown> => {
    if (path.includes(table)) {
      throw new Error(`foreign keys loop through ${[...path, table].join(' -> ')}`);
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(row).sort()) {
      const link = links.get(table)?.get(key);
      if (link && row[key] !== null) {
        const target = rows.get(link.ref)!.find((candidate) => candidate[link.refColumn] === row[key]);
        out[key] = target
          ? canonical(link.ref, target, [...path, table])
          : `dangling ${link.ref}.${link.refColumn}=${String(row[key])}`;
      } else if (!dropped.get(table)?.has(key)) {
        out[key] = row[key];
      }
    }
    return out;
  };

  const dump: Record<string, string[]> = {};
  for (const table of tables.filter((name) => !exclude.includes(name)).sort()) {
    dump[table] = rows
      .get(table)!
      .map((row) => JSON.stringify(canonical(table, row, [])))
      .sort();
  }
  return dump;
}
