import pg from 'pg';

export const READER_ROLE = 'incident_lens_reader';
const READER_PASSWORD = 'reader-in-tests';

/**
 * A connection string for `databaseUrl` as incident_lens_reader, the role
 * Grafana uses. The migration creates it NOLOGIN (deployments give it a
 * login); tests give it one so they can read exactly as Grafana would.
 */
export async function readerUrl(databaseUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`ALTER ROLE ${READER_ROLE} LOGIN PASSWORD '${READER_PASSWORD}'`);
  } finally {
    await client.end();
  }
  const url = new URL(databaseUrl);
  url.username = READER_ROLE;
  url.password = READER_PASSWORD;
  return url.toString();
}
