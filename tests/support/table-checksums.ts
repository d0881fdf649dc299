import { sql, type Kysely } from 'kysely';
import type { Database } from '../../collector/src/db/schema.ts';

/**
 * Every table of the schemas public and lens with its row count and a hash
 * of all its rows: two equal results mean no row was added, changed or
 * removed anywhere in between.
 */
export async function tableChecksums(db: Kysely<Database>): Promise<Record<string, string>> {
  const tables = await sql<{ name: string }>`
    SELECT c.oid::regclass::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('public', 'lens') AND c.relkind IN ('r', 'p') ORDER BY 1`.execute(db);
  const checksums: Record<string, string> = {};
  for (const { name } of tables.rows) {
    const result = await sql<{ checksum: string }>`
      SELECT count(*) || ' rows ' || coalesce(md5(string_agg(t::text, E'\n' ORDER BY t::text)), '') AS checksum
      FROM ${sql.raw(name)} t`.execute(db);
    checksums[name] = result.rows[0]!.checksum;
  }
  return checksums;
}
